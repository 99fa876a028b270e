// What the household pages share (一家亲): a household's name as people say
// it, its members as chips (户主, 未成年), what each of its journal entries
// is, and its entries as a table (organisers) or a list (phones). The
// household's points are always shown apart from anyone's own.

import { t, el, messages, entryKinds, fmtNumber, fmtTime } from './common.js';

// householdName is a household as people know it: 第一网格 3单元502室.
export const householdName = (h) => [h.unit_name, h.address].filter(Boolean).join(' ');

// memberChips lists a household's members by name, the head and the minors marked.
export function memberChips(h) {
  return el('span', { class: 'hh-members' }, (h.members ?? []).map((m) =>
    el('span', { class: 'chip' + (m.minor ? ' hh-minor' : '') + (m.head ? ' hh-head' : '') },
      m.name || '—',
      m.head ? el('span', { class: 'hh-tag' }, t('js.household.head')) : null,
      m.minor ? el('span', { class: 'hh-tag' }, t('js.household.minor')) : null)));
}

// entryWhat says what an entry of a household's account is: its opening
// points, an award (with its memo), or a voucher's hold, release or
// redemption.
export function entryWhat(e) {
  if (e.reference?.startsWith('household:') && e.memo === 'opening') return t('js.household.opening');
  const kind = entryKinds[e.kind] ?? messages['js.household.entry.' + e.kind] ?? e.kind;
  if (e.memo && e.kind !== 'release' && e.kind !== 'hold') return kind + ' · ' + e.memo;
  return kind;
}

// incoming says whether an entry brought points to the account.
const incoming = (e, account) => e.credit === account;

// householdEntryTable renders a household's entries as a table.
export function householdEntryTable(entries, householdId) {
  const account = 'household:' + householdId;
  return el('div', { class: 'table-wrap', tabindex: '0' }, el('table', { class: 'entries' },
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, t('js.entries.time')),
      el('th', { scope: 'col' }, t('js.entries.kind')),
      el('th', { scope: 'col', class: 'num' }, t('js.entries.points')),
    )),
    el('tbody', {}, entries.map((e) => {
      const inc = incoming(e, account);
      return el('tr', {},
        el('td', { class: 'nowrap' }, fmtTime(e.time)),
        el('td', {}, entryWhat(e)),
        el('td', { class: 'num ' + (inc ? 'plus' : 'minus') }, (inc ? '+' : '−') + fmtNumber(e.amount)));
    })),
  ));
}

// householdFootprint renders a household's entries as a phone list.
export function householdFootprint(entries, householdId) {
  const account = 'household:' + householdId;
  return el('ul', { class: 'footprint' }, entries.map((e) => {
    const inc = incoming(e, account);
    return el('li', {},
      el('div', { class: 'what' }, el('strong', {}, entryWhat(e)), el('span', { class: 'hint small' }, fmtTime(e.time))),
      el('span', { class: 'amount ' + (inc ? 'plus' : 'minus') }, (inc ? '+' : '−') + fmtNumber(e.amount)));
  }));
}

// memberHousehold returns the household member belongs to, or null when none.
export async function memberHousehold(api, memberId) {
  try {
    return await api('GET', `/api/v1/members/${encodeURIComponent(memberId)}/household`);
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
}
