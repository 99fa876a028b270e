// /m/household: the volunteer's household (我家) on the phone: its address,
// its points apart from their own (available, owned, held in open
// vouchers), who belongs to it, and — for its adults, who may spend them —
// the household's entries. A minor sees who spends the points.

import { t, $, api, el, failed, fmtNumber, emptyState } from './common.js';
import { householdFootprint, memberHousehold } from './households-common.js';

const memberId = $('m-household').dataset.memberId;
let h = null;
let before = 0;

async function loadEntries(more = false) {
  const q = new URLSearchParams({ limit: 10 });
  if (more) q.set('before', before);
  try {
    const page = await api('GET', `/api/v1/households/${h.id}/entries?${q}`);
    before = page.next_before || 0;
    const out = $('hh-entries');
    if (!more) {
      out.replaceChildren(page.entries.length ? householdFootprint(page.entries, h.id) : emptyState(t('js.household.no_entries')));
    } else {
      out.querySelector('ul')?.append(...householdFootprint(page.entries, h.id).children);
    }
    $('hh-older').parentElement.hidden = !before;
  } catch (err) {
    failed($('hh-entries-msg'), err);
  }
}
$('hh-older').addEventListener('click', () => loadEntries(true));

async function init() {
  try {
    h = await memberHousehold(api, memberId);
  } catch (err) {
    failed($('page-msg'), err);
    return;
  }
  if (!h) {
    $('hh-none').hidden = false;
    return;
  }
  $('hh').hidden = false;
  $('hh-h').textContent = h.address;
  $('hh-unit').textContent = [h.unit_label, h.head_name ? t('js.household.head_is', h.head_name) : ''].filter(Boolean).join(' · ');
  $('hh-available').textContent = fmtNumber(h.available);
  $('hh-points').textContent = fmtNumber(h.points);
  $('hh-held').textContent = fmtNumber(h.held);
  $('hh-spend').textContent = h.may_spend ? t('js.household.m_you_spend') : t('js.household.m_minor');
  $('hh-members').replaceChildren(...h.members.map((m) => el('li', {},
    el('span', { class: 'strong' }, m.name),
    m.member_id === memberId ? el('span', { class: 'hint' }, t('js.household.you')) : null,
    m.head ? el('span', { class: 'chip hh-head' }, t('js.household.head')) : null,
    m.minor ? el('span', { class: 'chip hh-minor' }, t('js.household.minor')) : null)));
  if (h.may_spend) {
    $('hh-entries-card').hidden = false;
    loadEntries();
  }
}

if (memberId) init();
else $('hh-none').hidden = false;
