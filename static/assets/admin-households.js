// /admin/households: the households (户, 一家亲) of the organiser's scope,
// filtered by grid or building and found by address or a member's name, a
// page at a time, each with its points apart from its members' own; and a
// form to make one at an address in a grid or building, which then opens
// the household's page to add its members.

import { t, $, api, el, failed, busy, bindLogout, loadUnits, fillUnitSelect, fmtNumber, emptyState, href } from './common.js';
import { memberChips } from './households-common.js';

bindLogout();

let next = '';

function rows(list) {
  return list.map((h) => el('tr', {},
    el('td', { class: 'strong' }, el('a', { href: href('/admin/households/' + h.id) }, h.address)),
    el('td', {}, h.unit_label || h.unit_name),
    el('td', {}, h.members.length ? memberChips(h) : el('span', { class: 'hint' }, t('js.household.no_members'))),
    el('td', { class: 'num' }, fmtNumber(h.available)),
    el('td', { class: 'num' }, h.held ? fmtNumber(h.held) : ''),
  ));
}

function table(list) {
  return el('div', { class: 'table-wrap', tabindex: '0' }, el('table', { id: 'hh-table' },
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, t('js.household.address')),
      el('th', { scope: 'col' }, t('js.household.unit')),
      el('th', { scope: 'col' }, t('js.household.members')),
      el('th', { scope: 'col', class: 'num' }, t('js.household.available')),
      el('th', { scope: 'col', class: 'num' }, t('js.household.held')),
    )),
    el('tbody', {}, rows(list))));
}

async function load(more = false) {
  const f = $('hh-filter');
  const q = new URLSearchParams({ limit: 50 });
  if (f.unit_id.value) q.set('unit_id', f.unit_id.value);
  if (f.q.value.trim()) q.set('q', f.q.value.trim());
  if (more && next) q.set('after', next);
  try {
    const page = await api('GET', '/api/v1/households?' + q);
    $('hh-msg').textContent = '';
    next = page.next_after;
    $('hh-more').parentElement.hidden = !next;
    $('hh-count').textContent = t('js.household.count', page.total);
    const out = $('households');
    if (more) {
      out.querySelector('tbody')?.append(...rows(page.households));
      return;
    }
    if (!page.households.length) {
      const filtered = f.unit_id.value || f.q.value.trim();
      out.replaceChildren(emptyState(filtered ? t('js.household.none_found') : t('js.household.empty'),
        filtered ? null : el('button', { type: 'button', class: 'primary', onclick: () => $('hh-address').focus() }, t('js.household.add_one'))));
      return;
    }
    out.replaceChildren(table(page.households));
  } catch (err) {
    failed($('hh-msg'), err);
  }
}

$('hh-filter').addEventListener('submit', (ev) => {
  ev.preventDefault();
  load();
});
$('hh-unit').addEventListener('change', () => load());
$('hh-more').addEventListener('click', () => load(true));

const form = $('hh-form');
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const msg = $('hh-form-msg');
  msg.textContent = '';
  if (!form.address.value.trim()) {
    msg.textContent = t('js.household.address_missing');
    form.address.focus();
    return;
  }
  await busy(form, async () => {
    try {
      const h = await api('POST', '/api/v1/households', { address: form.address.value.trim(), unit_id: form.unit_id.value });
      location.assign(href('/admin/households/' + h.id, { created: '1' }));
    } catch (err) {
      failed(msg, err);
    }
  });
});

try {
  const units = await loadUnits();
  const homes = ['grid', 'building'];
  fillUnitSelect($('hh-unit'), units.units, { keepFirst: true, kinds: homes });
  fillUnitSelect($('hh-new-unit'), units.units, { kinds: homes });
  if (!units.units.some((u) => homes.includes(u.kind))) {
    $('hh-form-msg').textContent = t('js.household.no_grids');
    form.querySelector('button').disabled = true;
  }
  const want = new URLSearchParams(location.search).get('unit_id');
  if (want && units.byId.has(want)) $('hh-unit').value = want;
} catch (err) {
  failed($('hh-msg'), err);
}
await load();
if (location.hash === '#new') $('hh-address').focus();
