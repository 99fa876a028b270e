// The form with which anyone logged in changes their own password, given
// the current one (template "own_password"). The server ends the account's
// other sessions and keeps this browser logged in with a new cookie.

import { t, $, api, failed, busy } from './common.js';

// bindOwnPassword makes the page's form (if it has one) change the password.
export function bindOwnPassword() {
  const form = $('own-password-form');
  if (!form) return;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const msg = $('own-password-msg');
    msg.className = 'msg';
    if (!form.old_password.value || !form.password.value) {
      msg.textContent = t('js.password.missing');
      return;
    }
    if (form.password.value !== form.again.value) {
      msg.textContent = t('js.password.mismatch');
      return;
    }
    await busy(form, async () => {
      try {
        await api('POST', '/api/v1/me/password', { old_password: form.old_password.value, password: form.password.value });
        form.reset();
        msg.className = 'msg ok';
        msg.textContent = t('js.staff.own_password_changed');
      } catch (err) {
        // A wrong current password is a 400 to show here, not a lost session.
        failed(msg, err);
      }
    });
  });
}
