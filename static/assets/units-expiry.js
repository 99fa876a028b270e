// /admin/units, a street's points expiry (积分有效期): what the policy is,
// and a form to change it that shows, before saving, what the chosen
// policy would take (GET /api/v1/admin/expiry): at once, for points already
// past a cutoff, and at the next cutoff if nothing is spent.

import { t, api, el, failed, busy, fmtNumber, fmtTime } from './common.js';
import { lastDay } from './expiring.js';

// policyText says what a policy of years is.
const policyText = (years) => (years ? t('js.expiry.policy', years) : t('js.expiry.none'));

// expiryRow is the line under a street's row: its policy and the button
// that opens the form in the street's panel (open shows a form there,
// close empties it, done reloads the tree after a save).
export function expiryRow(u, open, close, done) {
  return el('div', { class: 'unit-expiry' },
    el('span', { class: 'hint small' }, policyText(u.expiry_years ?? 0)), ' ',
    el('button', { type: 'button', class: 'small quiet expiry-settings', onclick: () => open(expiryForm(u, close, done)) },
      t('js.expiry.settings')));
}

function expiryForm(u, close, done) {
  const id = 'expiry-years-' + u.id;
  const select = el('select', { id, name: 'years' },
    Array.from({ length: 11 }, (_, n) => el('option', { value: String(n), selected: n === (u.expiry_years ?? 0) },
      n ? policyText(n) : t('js.expiry.option_none'))));
  const preview = el('div', { class: 'expiry-preview', 'aria-live': 'polite' });
  const msg = el('p', { class: 'msg', role: 'alert' });
  const form = el('form', { class: 'inline-form', novalidate: true },
    el('h3', {}, t('js.expiry.title', u.name)),
    el('label', { for: id }, t('js.expiry.years_label')),
    select,
    el('p', { class: 'hint small' }, t('js.expiry.help')),
    preview,
    el('div', { class: 'form-buttons' },
      el('button', { type: 'submit', class: 'primary' }, t('js.expiry.save')),
      el('button', { type: 'button', onclick: close }, t('js.cancel')),
    ),
    msg,
  );
  let asked = 0;
  const showPreview = async () => {
    const years = Number(select.value);
    const mine = ++asked;
    const q = new URLSearchParams({ street: u.id, limit: 1 });
    if (years) q.set('years', years);
    else if (!u.expiry_years) {
      // No policy, none chosen: only the runs of an earlier policy, if any.
      q.set('years', 1);
    }
    try {
      const p = await api('GET', `/api/v1/admin/expiry?${q}`);
      if (mine !== asked) return;
      const lines = [];
      if (years) {
        if (p.due_points) lines.push(t('js.expiry.preview_due', fmtNumber(p.due_accounts), fmtNumber(p.due_points), p.due_year));
        if (p.next_points) lines.push(t('js.expiry.preview_next', lastDay(p.next_cutoff), fmtNumber(p.next_accounts), fmtNumber(p.next_points), p.next_year));
        if (!p.due_points && !p.next_points) lines.push(t('js.expiry.preview_nothing'));
      }
      const last = p.runs?.filter((r) => r.accounts || !r.done).at(-1);
      if (last) {
        lines.push(t('js.expiry.last_run', fmtTime(last.at), fmtNumber(last.accounts), fmtNumber(last.points)) +
          (last.failed ? t('js.expiry.retrying', fmtNumber(last.failed)) : ''));
      }
      preview.replaceChildren(...lines.map((l) => el('p', { class: 'small' }, l)));
    } catch (err) {
      if (mine !== asked) return;
      preview.replaceChildren(el('p', { class: 'msg' }, t('js.expiry.preview_failed') + (err?.message ?? '')));
    }
  };
  select.addEventListener('change', showPreview);
  showPreview();
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    await busy(form, async () => {
      try {
        await api('PATCH', `/api/v1/units/${u.id}`, { expiry_years: Number(select.value) });
        await done();
      } catch (err) {
        failed(msg, err);
      }
    });
  });
  return form;
}
