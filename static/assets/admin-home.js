// /admin/: the organiser's start page: whose scope this is, how many units,
// teams, volunteers and staff accounts it holds, and the month at a glance:
// points earned against redeemed (a chart the server draws), hours by
// category, the most active teams and the items running low.

import { t, $, api, el, failed, bindLogout, loadUnits, fmtNumber, unitKinds, href } from './common.js';

bindLogout();

// membersShown is how many members the count page asks for: beyond it the
// page says "more than".
const membersShown = 200;

async function load() {
  const out = $('home-msg');
  try {
    const [me, { units, byId }, { teams }, members, staff] = await Promise.all([
      api('GET', '/api/v1/me'),
      loadUnits(),
      api('GET', '/api/v1/teams'),
      api('GET', `/api/v1/members?limit=${membersShown}`),
      api('GET', '/api/v1/users').catch(() => null),
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
    // The first steps are for a new installation: once there are units,
    // teams and volunteers they are out of the way.
    $('steps').hidden = units.length > 0 && teams.length > 0 && members.members.length > 0;
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
      : [el('li', { class: 'hint' }, t('js.dash.no_teams'))]));
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
