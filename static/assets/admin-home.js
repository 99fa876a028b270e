// /admin/: the organiser's start page: whose scope this is and how many
// units, teams, volunteers and staff accounts it holds.

import { t, $, api, failed, bindLogout, loadUnits, fmtNumber, unitKinds } from './common.js';

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
  } catch (err) {
    failed(out, err);
  }
}

load();
