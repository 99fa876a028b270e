// /admin/households/{id}: one household (户): its address and grid or
// building, its points (owned, available, held in open vouchers) apart from
// each member's own, its members — found by name and added, marked as
// minors, one adult chosen as head (户主), taken out — saved together, and
// the household's journal entries a page at a time.

import { t, $, api, el, failed, bindLogout, fmtNumber, maskPhone, emptyState, href } from './common.js';
import { householdEntryTable } from './households-common.js';
import { lastDay } from './expiring.js';

bindLogout();

const id = $('household-page').dataset.householdId;
const base = `/api/v1/households/${encodeURIComponent(id)}`;
let saved = null; // the household as stored
let draft = []; // [{member_id, name, phone, minor, points}] as edited
let head = '';

function showHousehold(h) {
  saved = h;
  draft = h.members.map((m) => ({ ...m }));
  head = h.head_id ?? '';
  document.title = h.address + ' · ' + document.title.split(' · ').pop();
  $('hh-title').textContent = h.address;
  $('hh-sub').textContent = [h.unit_label || h.unit_name, h.head_name ? t('js.household.head_is', h.head_name) : ''].filter(Boolean).join(' · ');
  $('hh-points').textContent = fmtNumber(h.points);
  $('hh-available').textContent = fmtNumber(h.available);
  $('hh-held').textContent = fmtNumber(h.held);
  $('hh-expiring').hidden = !h.expiring?.points;
  $('hh-expiring').textContent = h.expiring?.points ? t('js.household.expiring', fmtNumber(h.expiring.points), lastDay(h.expiring.at)) : '';
  renderMembers();
}

// changed says whether the draft differs from what is stored.
function changed() {
  if (!saved) return false;
  if (head !== (saved.head_id ?? '') || draft.length !== saved.members.length) return true;
  return draft.some((m, i) => m.member_id !== saved.members[i].member_id || m.minor !== saved.members[i].minor);
}

function renderMembers() {
  const out = $('hh-members');
  $('hh-save').disabled = !changed();
  $('hh-undo').disabled = !changed();
  if (!draft.length) {
    out.replaceChildren(emptyState(t('js.household.no_members_yet'),
      el('button', { type: 'button', class: 'primary', onclick: () => $('hh-find').focus() }, t('js.household.find_first'))));
    return;
  }
  out.replaceChildren(el('div', { class: 'table-wrap', tabindex: '0' }, el('table', { id: 'hh-member-table', class: 'hh-member-table' },
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, t('js.household.member')),
      el('th', { scope: 'col' }, t('js.household.phone')),
      el('th', { scope: 'col' }, t('js.household.head')),
      el('th', { scope: 'col' }, t('js.household.minor')),
      el('th', { scope: 'col', class: 'num' }, t('js.household.own_points')),
      el('th', { scope: 'col' }, ''),
    )),
    el('tbody', {}, draft.map((m, i) => el('tr', { dataset: { member: m.member_id } },
      el('td', { class: 'strong' }, el('a', { href: href('/admin/members/' + m.member_id) }, m.name || '—')),
      el('td', { class: 'mono nowrap' }, maskPhone(m.phone)),
      el('td', {}, el('input', {
        type: 'radio', name: 'head', value: m.member_id, checked: head === m.member_id, disabled: m.minor,
        'aria-label': t('js.household.make_head', m.name), onchange: () => { head = m.member_id; renderMembers(); },
      })),
      el('td', {}, el('input', {
        type: 'checkbox', checked: m.minor, 'aria-label': t('js.household.mark_minor', m.name),
        onchange: (ev) => {
          m.minor = ev.target.checked;
          if (m.minor && head === m.member_id) head = '';
          renderMembers();
        },
      })),
      el('td', { class: 'num' }, m.points === undefined || m.points === null ? '—' : fmtNumber(m.points)),
      el('td', {}, el('button', {
        type: 'button', class: 'small quiet', 'aria-label': t('js.household.remove_who', m.name),
        onclick: () => {
          draft.splice(i, 1);
          if (head === m.member_id) head = '';
          renderMembers();
        },
      }, t('js.household.remove'))),
    ))),
  )));
}

$('hh-undo').addEventListener('click', () => {
  showHousehold(saved);
  $('hh-save-msg').textContent = '';
});

$('hh-save').addEventListener('click', async () => {
  const msg = $('hh-save-msg');
  msg.className = 'msg';
  msg.textContent = '';
  if (draft.length && !draft.some((m) => m.member_id === head && !m.minor)) {
    msg.textContent = t('js.household.choose_head');
    return;
  }
  const button = $('hh-save');
  button.disabled = true;
  try {
    const h = await api('PUT', `${base}/members`, {
      members: draft.map((m) => ({ member_id: m.member_id, minor: !!m.minor })),
      head_id: draft.length ? head : undefined,
    });
    showHousehold(h);
    msg.className = 'msg ok';
    msg.textContent = t('js.household.saved');
  } catch (err) {
    failed(msg, err);
    button.disabled = false;
  }
});

// ---- find members to add --------------------------------------------------

let findTimer = 0;
$('hh-find').addEventListener('input', () => {
  clearTimeout(findTimer);
  findTimer = setTimeout(find, 250);
});

async function find() {
  const q = $('hh-find').value.trim();
  const out = $('hh-found');
  $('hh-find-msg').textContent = '';
  if (!q) {
    out.replaceChildren();
    return;
  }
  try {
    const { members } = await api('GET', `${base}/candidates?` + new URLSearchParams({ q }));
    if (!members.length) {
      out.replaceChildren(el('li', { class: 'none' }, t('js.household.no_match')));
      return;
    }
    out.replaceChildren(...members.map((m) => {
      const here = draft.some((d) => d.member_id === m.id);
      const elsewhere = m.household_id && m.household_id !== id;
      return el('li', {},
        el('span', { class: 'who' }, m.name, ' ', el('span', { class: 'hint' }, maskPhone(m.phone) + ' · ' + m.unit_name),
          elsewhere ? el('span', { class: 'hint block' }, t('js.household.elsewhere', m.household_address || t('js.household.another'))) : null),
        here ? el('span', { class: 'hint' }, t('js.household.already_here'))
          : el('button', { type: 'button', class: 'small', disabled: !!elsewhere, onclick: () => add(m) }, t('js.household.add')));
    }));
  } catch (err) {
    failed($('hh-find-msg'), err);
  }
}

function add(m) {
  draft.push({ member_id: m.id, name: m.name, phone: m.phone, minor: false });
  if (!head) head = m.id;
  $('hh-find').value = '';
  $('hh-found').replaceChildren();
  renderMembers();
  $('hh-save-msg').className = 'msg';
  $('hh-save-msg').textContent = t('js.household.added', m.name);
}

// ---- entries --------------------------------------------------------------

let before = 0;
async function loadEntries(more = false) {
  const q = new URLSearchParams({ limit: 20 });
  if (more) q.set('before', before);
  try {
    const page = await api('GET', `${base}/entries?${q}`);
    before = page.next_before || 0;
    const out = $('hh-entries');
    if (!more) {
      out.replaceChildren(page.entries.length ? householdEntryTable(page.entries, id) : emptyState(t('js.household.no_entries')));
    } else {
      out.querySelector('tbody')?.append(...householdEntryTable(page.entries, id).querySelectorAll('tbody tr'));
    }
    $('hh-older').parentElement.hidden = !before;
  } catch (err) {
    failed($('hh-entries-msg'), err);
  }
}
$('hh-older').addEventListener('click', () => loadEntries(true));

try {
  const h = await api('GET', base);
  $('household').hidden = false;
  showHousehold(h);
  if (new URLSearchParams(location.search).get('created')) {
    $('hh-created').hidden = false;
    $('hh-find').focus();
  }
  loadEntries();
} catch (err) {
  if (err.status === 404) {
    $('not-found').hidden = false;
  } else {
    failed($('page-msg'), err);
  }
}
