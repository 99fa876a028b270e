// /admin/events: the events in the organiser's scope, filtered by status and
// unit (the filters live in the address), with how many are checked in now
// and have checked out; and the form to create an event. Times are typed in
// the deployment's zone and sent as RFC 3339 with its offset; past times are
// allowed, so that paper sign-in sheets can be back-filled.

import { t, $, api, el, failed, busy, bindLogout, loadUnits, fillUnitSelect, unitLabel, emptyState, href, fmtNumber, categoryName } from './common.js';
import { statusBadge, fmtWindow, localInput, fromLocalInput, readEventForm, fillEventForm, fillCategories, week } from './events-common.js';

bindLogout();

const filters = $('filters');
const form = $('event-form');
let units = { units: [], byId: new Map() };

function eventRow(ev) {
  const link = href(`/admin/events/${ev.id}`);
  const u = units.byId.get(ev.unit_id);
  return el('tr', { dataset: { eventId: ev.id } },
    el('td', { class: 'strong' }, el('a', { href: link }, ev.title), ev.place ? el('div', { class: 'hint small' }, ev.place) : null),
    el('td', {}, categoryName(ev.category)),
    el('td', {}, u ? unitLabel(u, units.byId) : ev.unit_name),
    el('td', { class: 'nowrap' }, fmtWindow(ev.starts_at, ev.ends_at)),
    el('td', {}, statusBadge(ev.status, ev.over)),
    el('td', { class: 'num' }, fmtNumber(ev.checked_in)),
    el('td', { class: 'num' }, fmtNumber(ev.checked_out)),
    el('td', { class: 'nowrap' },
      el('a', { class: 'button small', href: link }, t('js.events.open')), ' ',
      ev.status === 'open' && !ev.over ? el('a', { class: 'button small', href: href(`/admin/events/${ev.id}/display`), target: '_blank', rel: 'noopener' }, t('js.events.display')) : null,
    ),
  );
}

function table(rows) {
  return el('div', { class: 'table-wrap', tabindex: '0' }, el('table', { id: 'events-table' },
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, t('js.events.col.title')),
      el('th', { scope: 'col' }, t('js.events.col.category')),
      el('th', { scope: 'col' }, t('js.events.col.unit')),
      el('th', { scope: 'col' }, t('js.events.col.time')),
      el('th', { scope: 'col' }, t('js.events.col.status')),
      el('th', { scope: 'col', class: 'num' }, t('js.events.col.checked_in')),
      el('th', { scope: 'col', class: 'num' }, t('js.events.col.checked_out')),
      el('th', { scope: 'col' }, ''),
    )),
    el('tbody', {}, rows),
  ));
}

function query() {
  const q = new URLSearchParams();
  for (const name of ['status', 'unit_id']) {
    const v = filters.elements[name].value;
    if (v) q.set(name, v);
  }
  return q;
}

// pageSize events a page, latest start first; 加载更多 fetches the next.
const pageSize = 100;
let next = '';

// load fetches the first page (more = false) or the next one.
async function load(more = false) {
  const q = query();
  const out = $('events');
  q.set('limit', pageSize);
  if (more) q.set('after', next);
  $('list-msg').textContent = '';
  try {
    const page = await api('GET', '/api/v1/events?' + q);
    next = page.next_after || '';
    if (more) {
      out.querySelector('tbody')?.append(...page.events.map(eventRow));
    } else if (page.events.length) {
      out.replaceChildren(table(page.events.map(eventRow)));
    } else if ([...query().keys()].length) {
      out.replaceChildren(emptyState(t('js.events.none_found')));
    } else {
      out.replaceChildren(emptyState(t('js.events.empty'),
        el('button', { type: 'button', class: 'primary', onclick: showNew }, t('js.events.add_one'))));
    }
    $('more').hidden = !next;
  } catch (err) {
    failed($('list-msg'), err);
  }
}
$('more').addEventListener('click', () => load(true));

const params = new URLSearchParams(location.search);
filters.addEventListener('change', () => {
  const q = query();
  q.set('lang', document.documentElement.lang);
  history.replaceState(null, '', location.pathname + '?' + q);
  load();
});
filters.addEventListener('submit', (ev) => ev.preventDefault());

// The create form.
function defaultTimes() {
  // The next half hour, for two hours.
  const start = Math.ceil(Date.now() / 1800000) * 1800000;
  form.starts_at.value = localInput(start);
  form.ends_at.value = localInput(start + 2 * 3600000);
}

function showNew() {
  $('new').hidden = false;
  $('e-title').focus();
  $('new').scrollIntoView({ block: 'start' });
}
$('show-new').addEventListener('click', showNew);
$('cancel-new').addEventListener('click', () => {
  $('new').hidden = true;
  $('event-form-msg').textContent = '';
});
// The end follows the start while it would come before it.
form.starts_at.addEventListener('change', () => {
  const s = fromLocalInput(form.starts_at.value), e = fromLocalInput(form.ends_at.value);
  if (s && (!e || new Date(e) <= new Date(s))) form.ends_at.value = localInput(new Date(s).getTime() + 2 * 3600000);
});

// read returns the request body, or a message saying what is missing.
function read() {
  const f = form.elements;
  const r = readEventForm(form);
  if (r.problem) return r;
  if (!f.unit_id.value) return { problem: t('js.events.need_unit'), field: f.unit_id };
  const weeks = f.repeat_weeks.value.trim() === '' ? 1 : Number(f.repeat_weeks.value);
  if (!Number.isInteger(weeks) || weeks < 1 || weeks > 52) return { problem: t('js.events.need_weeks'), field: f.repeat_weeks };
  return { body: { ...r.body, unit_id: f.unit_id.value, status: f.status.value, repeat_weeks: weeks } };
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const msg = $('event-form-msg');
  const { body, problem, field } = read();
  if (problem) {
    msg.textContent = problem;
    field?.focus();
    return;
  }
  msg.textContent = '';
  await busy(form, async () => {
    try {
      const created = await api('POST', '/api/v1/events', body);
      location.assign(href(`/admin/events/${created.id}`));
    } catch (err) {
      failed(msg, err);
    }
  });
});

try {
  let categories;
  [units, { categories }] = await Promise.all([loadUnits(), api('GET', '/api/v1/categories')]);
  fillUnitSelect(filters.elements.unit_id, units.units, { keepFirst: true });
  for (const name of ['status', 'unit_id']) if (params.has(name)) filters.elements[name].value = params.get(name);
  fillCategories(form.category, categories);
  fillUnitSelect(form.unit_id, units.units);
  // A community is where most events belong: pick the first one.
  const community = units.units.find((u) => u.kind === 'community');
  if (community) form.unit_id.value = community.id;
  defaultTimes();
  // 复制: ?copy={id} opens the form filled with that event, a week later.
  if (params.get('copy')) {
    const from = await api('GET', `/api/v1/events/${encodeURIComponent(params.get('copy'))}`);
    fillEventForm(form, from, week);
    form.unit_id.value = from.unit_id;
    $('copy-note').textContent = t('js.events.copy_of', from.title, fmtWindow(from.starts_at, from.ends_at));
    $('copy-note').hidden = false;
    showNew();
  }
} catch (err) {
  failed($('list-msg'), err);
}
await load();
if (location.hash === '#new') showNew();
