// /admin/members: the volunteers in the organiser's scope, searched by name
// or phone tail and filtered by unit, team, party membership, 在职党员 and
// status, a page at a time; and the form to add one. The filters live in
// the address, so a reload or a shared link shows the same list.

import {
  t, $, api, el, failed, busy, bindLogout, loadUnits, fillUnitSelect, unitLabel, statuses, emptyState, href, fmtNumber, fmtHours,
} from './common.js';
import { memberForm } from './member-form.js';

bindLogout();

const pageSize = 50;
const filters = $('filters');
const filterNames = ['q', 'unit_id', 'team_id', 'party_member', 'on_duty', 'status'];
let teamsById = new Map();
let units = { units: [], byId: new Map() };
let next = '';
let shown = 0;

// query returns the list's query from the filter form.
function query() {
  const q = new URLSearchParams();
  for (const name of filterNames) {
    const v = filters.elements[name].value.trim();
    if (v) q.set(name, v);
  }
  return q;
}

function hasFilters() {
  return [...query().keys()].length > 0;
}

// picked are the members ticked for printing their cards, by id.
const picked = new Set();

// showPicked names the print button after what it will print: the ticked
// members, or else everyone the filters select.
function showPicked() {
  $('print-cards').textContent = picked.size ? t('js.members.print_selected', picked.size) : t('js.members.print_filtered');
  const all = $('pick-page');
  if (all) {
    const boxes = [...document.querySelectorAll('#members-table input.pick')];
    all.checked = boxes.length > 0 && boxes.every((b) => b.checked);
  }
}

function memberRow(m) {
  const teamNames = (m.team_ids ?? []).map((id) => teamsById.get(id)?.name).filter(Boolean);
  const link = href(`/admin/members/${m.id}`);
  const box = el('input', { type: 'checkbox', class: 'pick', checked: picked.has(m.id), 'aria-label': t('js.members.select', m.name),
    onchange: () => {
      if (box.checked) picked.add(m.id);
      else picked.delete(m.id);
      showPicked();
    } });
  return el('tr', { dataset: { memberId: m.id } },
    el('td', { class: 'pick-cell' }, box),
    el('td', { class: 'strong' }, el('a', { href: link }, m.name)),
    el('td', { class: 'nowrap mono' }, m.phone),
    el('td', {}, units.byId.has(m.unit_id) ? unitLabel(units.byId.get(m.unit_id), units.byId) : m.unit_name ?? ''),
    el('td', {}, teamNames.join('、')),
    el('td', {}, m.party_member ? el('span', { class: 'badge party' }, t('js.members.party')) : ''),
    el('td', {}, m.on_duty ? el('span', { class: 'badge onduty', title: m.on_duty.work_unit }, m.on_duty.work_unit) : ''),
    el('td', { class: 'num m-points' }, fmtNumber(m.points)),
    el('td', { class: 'num nowrap m-hours' }, fmtHours(m.service_minutes)),
    el('td', {}, el('span', { class: 'status status-' + m.status }, statuses[m.status] ?? m.status)),
    el('td', {}, el('a', { class: 'button small', href: link }, t('js.members.open'))),
  );
}

function table(rows) {
  return el('div', { class: 'table-wrap' }, el('table', { id: 'members-table' },
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col', class: 'pick-cell' }, el('input', { type: 'checkbox', id: 'pick-page', 'aria-label': t('js.members.select_page'),
        onchange: (ev) => {
          for (const b of document.querySelectorAll('#members-table input.pick')) {
            b.checked = ev.target.checked;
            if (b.checked) picked.add(b.closest('tr').dataset.memberId);
            else picked.delete(b.closest('tr').dataset.memberId);
          }
          showPicked();
        } })),
      el('th', { scope: 'col' }, t('js.members.name')),
      el('th', { scope: 'col' }, t('js.members.phone')),
      el('th', { scope: 'col' }, t('js.members.unit')),
      el('th', { scope: 'col' }, t('js.members.teams')),
      el('th', { scope: 'col' }, t('js.members.party_member')),
      el('th', { scope: 'col' }, t('js.members.on_duty')),
      el('th', { scope: 'col', class: 'num' }, t('js.members.points')),
      el('th', { scope: 'col', class: 'num' }, t('js.members.hours')),
      el('th', { scope: 'col' }, t('js.members.status')),
      el('th', { scope: 'col' }, ''),
    )),
    el('tbody', {}, rows),
  ));
}

// load fetches the first page (more = false) or the next one.
async function load(more = false) {
  const q = query();
  q.set('limit', pageSize);
  if (more) q.set('after', next);
  const out = $('members');
  $('list-msg').textContent = '';
  try {
    const page = await api('GET', '/api/v1/members?' + q);
    next = page.next_after || '';
    if (!more) {
      shown = 0;
      if (page.members.length === 0) {
        out.replaceChildren(hasFilters()
          ? emptyState(t('js.members.none_found'))
          : emptyState(t('js.members.empty'),
            el('button', { type: 'button', class: 'primary', onclick: showNew }, t('js.members.add_one')),
            el('a', { class: 'button', href: href('/admin/import') }, t('js.members.import'))));
      } else {
        out.replaceChildren(table(page.members.map(memberRow)));
      }
    } else {
      out.querySelector('tbody')?.append(...page.members.map(memberRow));
    }
    showPicked();
    shown += page.members.length;
    $('shown').textContent = shown ? t('js.members.shown', shown) : '';
    $('more').hidden = !next;
  } catch (err) {
    failed($('list-msg'), err);
  }
}

// Filters: from the address into the form, and back on every search.
const params = new URLSearchParams(location.search);
for (const name of filterNames) {
  if (params.has(name)) filters.elements[name].value = params.get(name);
}

filters.addEventListener('submit', (ev) => {
  ev.preventDefault();
  picked.clear();
  const q = query();
  q.set('lang', document.documentElement.lang);
  history.replaceState(null, '', location.pathname + '?' + q);
  load();
});
filters.addEventListener('reset', () => {
  // After the browser empties the fields.
  setTimeout(() => filters.requestSubmit(), 0);
});
for (const name of ['unit_id', 'team_id', 'party_member', 'on_duty', 'status']) {
  filters.elements[name].addEventListener('change', () => filters.requestSubmit());
}
$('more').addEventListener('click', () => load(true));
// The member-card sheet: the ticked members, or everyone the filters select.
$('print-cards').addEventListener('click', () => {
  const q = picked.size ? { ids: [...picked].join(',') } : Object.fromEntries(query());
  location.assign(href('/admin/members/cards', q));
});

// The create form.
let form;
function showNew() {
  $('new').hidden = false;
  $('m-name').focus();
  $('new').scrollIntoView({ block: 'start' });
}
$('show-new').addEventListener('click', showNew);
$('cancel-new').addEventListener('click', () => {
  form?.reset();
  $('new').hidden = true;
});

const memberFormEl = $('member-form');
memberFormEl.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const msg = $('member-form-msg');
  msg.classList.remove('ok');
  msg.textContent = form?.check() ?? '';
  if (!form || msg.textContent) return;
  await busy(memberFormEl, async () => {
    try {
      const m = await api('POST', '/api/v1/members', form.read());
      form.reset();
      msg.classList.add('ok');
      msg.replaceChildren(t('js.members.created', m.name), ' ',
        el('a', { href: href(`/admin/members/${m.id}`) }, t('js.members.open_new')));
      await load();
    } catch (err) {
      failed(msg, err);
    }
  });
});

try {
  let teams, categories;
  [units, { teams }, { categories }] = await Promise.all([
    loadUnits(),
    api('GET', '/api/v1/teams'),
    api('GET', '/api/v1/categories'),
  ]);
  teamsById = new Map(teams.map((tm) => [tm.id, tm]));
  fillUnitSelect(filters.elements.unit_id, units.units, { keepFirst: true });
  for (const tm of teams) filters.elements.team_id.append(el('option', { value: tm.id }, tm.name));
  // Set again now that the options exist.
  for (const name of ['unit_id', 'team_id']) {
    if (params.has(name)) filters.elements[name].value = params.get(name);
  }
  form = memberForm(memberFormEl, { units: units.units, byId: units.byId, teams, categories });
} catch (err) {
  failed($('list-msg'), err);
}
await load();
if (location.hash === '#new') showNew();
