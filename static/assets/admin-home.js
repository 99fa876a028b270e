// /admin/: the organiser's start page: whose scope this is, how many units,
// teams, volunteers and staff accounts it holds, and the month at a glance:
// points earned against redeemed (a chart the server draws), hours by
// category, the most active teams and the items running low.

import { t, $, api, el, failed, bindLogout, loadUnits, fmtNumber, unitKinds, href } from './common.js';
import { showWishes } from './admin-home-wishes.js';

bindLogout();

// membersShown is how many members the count page asks for: beyond it the
// page says "more than".
const membersShown = 200;

// The first steps of a new installation, in the order each needs the one
// before: units, then staff bound to them, volunteers, an event to serve
// at, a shop to spend at. Each says whether it is done; the first that is
// not is the next, with its link first.
const steps = [
  { key: 'units', href: '/admin/units' },
  { key: 'staff', href: '/admin/staff' },
  { key: 'members', href: '/admin/members', hash: '#new', more: { href: '/admin/import', key: 'js.steps.members.import' } },
  { key: 'events', href: '/admin/events', hash: '#new' },
  { key: 'shop', href: '/admin/shops' },
];
const stepsHidden = 'aixin.first-steps.hidden';

function renderSteps(done) {
  const next = steps.find((st) => !done[st.key]);
  const count = steps.filter((st) => done[st.key]).length;
  $('steps-progress').textContent = t('js.steps.progress', count, steps.length);
  $('step-list').replaceChildren(...steps.map((st, i) => {
    const isNext = st === next;
    const state = done[st.key] ? 'done' : isNext ? 'next' : 'todo';
    return el('li', { class: 'step step-' + state, dataset: { step: st.key, state } },
      el('span', { class: 'step-mark', 'aria-hidden': 'true' }, done[st.key] ? '✓' : String(i + 1)),
      el('div', { class: 'step-body' },
        el('p', { class: 'step-title' }, el('strong', {}, t(`js.steps.${st.key}.title`)), ' ',
          el('span', { class: 'step-state' }, t('js.steps.state.' + state))),
        el('p', { class: 'hint small' }, t(`js.steps.${st.key}.help`)),
        done[st.key] && !isNext ? null : el('div', { class: 'actions' },
          el('a', { class: 'button small' + (isNext ? ' primary' : ''), href: href(st.href) + (st.hash ?? '') },
            (isNext ? t('js.steps.next') : '') + t(`js.steps.${st.key}.go`)),
          st.more ? el('a', { class: 'button small', href: href(st.more.href) }, t(st.more.key)) : null)));
  }));
  // Out of the way once all is done, or when the organiser says so.
  $('steps').hidden = !next || localStorage.getItem(stepsHidden) === '1';
}

$('steps-hide').addEventListener('click', () => {
  localStorage.setItem(stepsHidden, '1');
  $('steps').hidden = true;
});

async function load() {
  const out = $('home-msg');
  try {
    const [me, { units, byId }, { teams }, members, staff, events, shops] = await Promise.all([
      api('GET', '/api/v1/me'),
      loadUnits(),
      api('GET', '/api/v1/teams'),
      api('GET', `/api/v1/members?limit=${membersShown}`),
      api('GET', '/api/v1/users').catch(() => null),
      api('GET', '/api/v1/events?limit=1'),
      api('GET', '/api/v1/shops'),
    ]);
    const unit = me.unit_id ? byId.get(me.unit_id) : null;
    $('scope').textContent = me.role === 'admin'
      ? t('js.home.scope_all')
      : unit ? t('js.home.scope', unit.name, unitKinds[unit.kind]) : t('js.home.scope_none');
    $('count-units').textContent = fmtNumber(units.length);
    $('count-teams').textContent = fmtNumber(teams.length);
    $('count-members').textContent = members.next_after
      ? t('js.home.more_than', fmtNumber(members.members.length))
      : fmtNumber(members.members.length);
    $('count-staff').textContent = staff ? fmtNumber(staff.users.length) : '–';
    renderSteps({
      // A street alone holds nobody: the units are there once a community is.
      units: units.some((u) => u.kind !== 'street') || (me.role !== 'admin' && units.length > 0),
      // Someone besides the one looking: an organiser or a clerk; for an
      // organiser (whom someone above made) their own account is enough.
      staff: me.role !== 'admin' || (staff?.users ?? []).some((u) => u.id !== me.id),
      members: members.members.length > 0,
      events: events.events.length > 0,
      // A shop is ready once it has a clerk to serve at its counter.
      shop: (shops.shops ?? []).length > 0 && (staff?.users ?? []).some((u) => u.role === 'clerk'),
    });
  } catch (err) {
    failed(out, err);
  }
}

load();

// ---- the month ------------------------------------------------------------

const hours = (minutes) => (Math.round(minutes / 6) / 10).toFixed(1);
const now = new Date();
// The month in the address (?month=2026-11) when there is one, so that a
// link or a reload shows the same month; else this month.
const asked = new URLSearchParams(location.search).get('month');
$('dash-month').value = /^\d{4}-\d{2}$/.test(asked || '')
  ? asked
  : `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}`;

async function loadMonth() {
  const month = $('dash-month').value;
  if (!/^\d{4}-\d{2}$/.test(month)) return;
  $('chart-points').src = href('/api/v1/dashboard/points.svg', { month });
  $('chart-categories').src = href('/api/v1/dashboard/categories.svg', { month });
  try {
    const d = await api('GET', '/api/v1/dashboard?' + new URLSearchParams({ month }));
    $('d-active').textContent = fmtNumber(d.active);
    $('d-people').textContent = t('js.dash.people', fmtNumber(d.people));
    $('d-hours').textContent = hours(d.minutes);
    // Hours count in the month they were posted; say how much was served in an earlier month (补录).
    $('d-late').hidden = !d.late_services;
    $('d-late').textContent = t('js.dash.late', hours(d.late_minutes), d.late_services);
    $('d-earned').textContent = fmtNumber(d.earned);
    $('d-redeemed').textContent = fmtNumber(d.redeemed);
    $('d-teams').replaceChildren(...(d.teams.length ? d.teams.map((tm) => el('li', {}, el('strong', {}, tm.name), ' ',
      el('span', { class: 'hint' }, tm.unit, ' · ', t('js.dash.team_line', tm.active, hours(tm.minutes), fmtNumber(tm.earned)))))
      : [el('li', { class: 'hint empty' }, t('js.dash.no_teams'))]));
    $('d-low').replaceChildren(...(d.low_stock.length ? d.low_stock.map((it) => el('li', {},
      el('a', { href: href('/admin/shops/' + it.shop_id) }, it.item), ' ', el('span', { class: 'hint' }, it.shop, ' · ', t('js.dash.low_line', it.available, it.on_hand))))
      : [el('li', { class: 'hint' }, t('js.dash.no_low'))]));
  } catch (err) {
    failed($('dash-msg'), err);
  }
}

$('dash-month').addEventListener('change', () => {
  const url = new URL(location.href);
  url.searchParams.set('month', $('dash-month').value);
  history.replaceState(null, '', url);
  loadMonth();
});
loadMonth();
showWishes(); // the month's wishes (微心愿)
