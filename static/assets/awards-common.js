// What the behaviour bank's (文明行为银行) scripts share: the names of award
// statuses and steps, how an award's points read (+2, −5, and what a
// deduction could not take), one award as a line, and a multipart POST
// with an idempotency key.

import { t, el, fmtDate, fmtNumber, lang, ApiError } from './common.js';

export const awardStatuses = {
  pending_approval: t('js.award.status.pending_approval'),
  in_notice: t('js.award.status.in_notice'),
  held: t('js.award.status.held'),
  posted: t('js.award.status.posted'),
  rejected: t('js.award.status.rejected'),
  reversed: t('js.award.status.reversed'),
};

export const stepNames = {
  recorded: t('js.award.step.recorded'),
  approved: t('js.award.step.approved'),
  notice: t('js.award.step.notice'),
  objected: t('js.award.step.objected'),
  posted: t('js.award.step.posted'),
  rejected: t('js.award.step.rejected'),
  reversed: t('js.award.step.reversed'),
};

// signed writes points with their sign: +2, −5.
export const signed = (n) => (n > 0 ? '+' : n < 0 ? '−' : '') + fmtNumber(Math.abs(n));

// statusChip is an award's status as a small coloured label.
export const statusChip = (a) => el('span', { class: 'award-status award-' + a.status }, awardStatuses[a.status] ?? a.status);

// notTakenText says what a posted deduction could not take, or ''.
export function notTakenText(a) {
  if (a.points >= 0 || !a.not_taken || (a.status !== 'posted' && a.status !== 'reversed')) return '';
  return t('js.award.not_taken', fmtNumber(-a.points), fmtNumber(a.taken), fmtNumber(a.not_taken));
}

// amountText is what the award moved (or will move) in the account.
export function amountText(a) {
  if ((a.status === 'posted' || a.status === 'reversed') && a.points < 0) return signed(-a.taken);
  return signed(a.points);
}

// awardLine is one award on a footprint: what, the note, when and its
// state; the points on the right.
export function awardLine(a) {
  const done = a.status === 'posted';
  const gone = a.status === 'rejected' || a.status === 'reversed';
  const when = fmtDate(a.posted_at || a.recorded_at);
  const extra = [];
  if (a.status === 'in_notice' && a.objections_close) extra.push(t('js.award.notice_until', a.objections_close));
  const last = a.steps?.[a.steps.length - 1];
  if (gone && last?.reason) extra.push(t('js.award.why', last.reason));
  return el('li', { dataset: { status: a.status, awardId: a.id } },
    el('div', { class: 'what' },
      el('strong', {}, a.target === 'household' ? t('js.award.household_prefix', a.name) : a.name),
      a.note ? el('span', { class: 'award-note' }, a.note) : null,
      el('span', { class: 'hint small' }, [when, a.category].filter(Boolean).join(' · ')),
      el('span', {}, statusChip(a)),
      notTakenText(a) ? el('span', { class: 'award-not-taken' }, notTakenText(a)) : null,
      extra.length ? el('span', { class: 'hint small' }, extra.join(' · ')) : null,
    ),
    el('span', { class: 'amount ' + (gone ? 'gone' : !done ? 'pending' : a.points > 0 ? 'plus' : 'minus') }, amountText(a)),
  );
}

// postForm sends a multipart form with an idempotency key (the same key
// again, after a lost answer, is the same award).
export async function postForm(path, form, key) {
  const url = new URL(path, location.origin);
  url.searchParams.set('lang', lang);
  let res;
  try {
    res = await fetch(url, { method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/json', 'Idempotency-Key': key }, body: form });
  } catch {
    throw new ApiError(t('js.network_error'), 0);
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) throw new ApiError(data?.error?.message ?? t('js.http_error', res.status), res.status, data?.error);
  return data;
}
