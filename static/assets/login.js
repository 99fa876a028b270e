// The start page: sign in, then go where the user was going (next, a path
// on this site) or to their role's home; show who is signed in, sign out,
// and for administrators verify the ledger. Messages come from the catalogue
// the server rendered into #messages, in the page's language.

import { t, $, api, href } from './common.js';

// homeOf is where each role starts after logging in: clerks at their counter.
const homeOf = { volunteer: '/m/', organizer: '/admin/', admin: '/admin/', clerk: '/kiosk', grid_worker: '/admin/wishes' };

// nextPath returns the ?next= of this page if it is a path on this site,
// else null. Anything that could leave the site (//host, /\host,
// https://host, javascript:) is refused.
function nextPath(raw = new URLSearchParams(location.search).get('next')) {
  if (!raw || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return null;
  let u;
  try {
    u = new URL(raw, location.origin);
  } catch {
    return null;
  }
  if (u.origin !== location.origin) return null;
  return u.pathname + u.search + u.hash;
}

// destination is where a user goes after logging in, or null to stay.
function destination(user) {
  const next = nextPath();
  if (next && next !== '/' && !next.startsWith('/?')) return next;
  const home = homeOf[user.role];
  return home ? href(home) : null;
}

function showLogin(message = '') {
  $('home').hidden = true;
  $('admin').hidden = true;
  $('login').hidden = false;
  // Sent here by a scanned check-in code: say the check-in follows the login.
  const next = nextPath();
  $('login-why').hidden = !next?.startsWith('/c/');
  $('login-why').textContent = $('login-why').hidden ? '' : t('js.login.checkin_after');
  $('login-msg').textContent = message;
  $('login-name').focus();
}

function showHome(user) {
  $('login').hidden = true;
  $('home').hidden = false;
  $('welcome').textContent = t('js.welcome', user.name || user.login);
  $('identity').textContent = t('js.signed_in_as', t('role.' + user.role), user.login);
  $('home-msg').textContent = '';
  $('admin').hidden = user.role !== 'admin';
  $('verify-result').replaceChildren();
  const home = homeOf[user.role];
  const go = $('go-home');
  go.hidden = !home;
  if (home) {
    go.href = href(home);
    go.textContent = user.role === 'volunteer' ? t('js.go_volunteer') : user.role === 'clerk' ? t('js.shop.go_kiosk') : t('js.go_admin');
  }
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  const button = form.querySelector('button');
  button.disabled = true;
  $('login-msg').textContent = t('js.logging_in');
  try {
    const user = await api('POST', '/api/v1/login', {
      login: form.login.value.trim(),
      password: form.password.value,
    });
    form.reset();
    const to = destination(user);
    if (to) {
      location.assign(to);
      return;
    }
    showHome(user);
  } catch (err) {
    $('login-msg').textContent = err.message;
  } finally {
    button.disabled = false;
  }
});

$('logout').addEventListener('click', async () => {
  try {
    await api('POST', '/api/v1/logout');
    showLogin();
  } catch (err) {
    if (err.status === 401) showLogin();
    else $('home-msg').textContent = err.message;
  }
});

$('verify').addEventListener('click', async (ev) => {
  const button = ev.currentTarget;
  const out = $('verify-result');
  button.disabled = true;
  out.textContent = t('js.verifying');
  try {
    const r = await api('GET', '/api/v1/ledger/verify');
    const line = document.createElement('p');
    line.className = r.ok ? 'ok' : 'bad';
    line.textContent = r.ok
      ? t('js.verify_ok', r.entries, r.accounts, r.head_seq)
      : t('js.verify_bad', r.first_bad_seq, r.problem);
    const hash = document.createElement('code');
    hash.textContent = t('js.head_hash', r.head_hash);
    out.replaceChildren(line, hash);
  } catch (err) {
    out.textContent = err.message;
  } finally {
    button.disabled = false;
  }
});

// Already logged in and sent here with a next page (an old bookmark, a
// page that asked to log in again): go on at once.
api('GET', '/api/v1/me').then(
  (user) => {
    const next = nextPath();
    if (next && next !== '/' && !next.startsWith('/?')) location.replace(next);
    else showHome(user);
  },
  (err) => showLogin(err.status === 401 ? '' : err.message),
);

