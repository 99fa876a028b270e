// /admin/teams: the teams of the organiser's units, filtered by unit, and a
// form to create one.

import { t, $, api, el, failed, busy, bindLogout, loadUnits, fillUnitSelect, unitLabel, teamKinds, fmtDate, emptyState } from './common.js';

bindLogout();

let units = { units: [], byId: new Map() };

async function loadTeams() {
  const unit = $('filter-unit').value;
  const out = $('teams');
  try {
    const { teams } = await api('GET', '/api/v1/teams' + (unit ? `?unit_id=${encodeURIComponent(unit)}` : ''));
    $('teams-msg').textContent = '';
    if (teams.length === 0) {
      out.replaceChildren(emptyState(unit ? t('js.teams.empty_unit') : t('js.teams.empty'),
        el('button', { type: 'button', class: 'primary', onclick: () => $('team-name').focus() }, t('js.teams.add_one'))));
      return;
    }
    out.replaceChildren(el('div', { class: 'table-wrap' }, el('table', {},
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, t('js.teams.name')),
        el('th', { scope: 'col' }, t('js.teams.kind')),
        el('th', { scope: 'col' }, t('js.teams.unit')),
        el('th', { scope: 'col' }, t('js.teams.created')),
        el('th', { scope: 'col' }, ''),
      )),
      el('tbody', {}, teams.map((tm) => {
        const u = units.byId.get(tm.unit_id);
        return el('tr', {},
          el('td', { class: 'strong' }, tm.name),
          el('td', {}, el('span', { class: 'badge team-' + tm.kind }, teamKinds[tm.kind] ?? tm.kind)),
          el('td', {}, u ? unitLabel(u, units.byId) : ''),
          el('td', { class: 'nowrap' }, fmtDate(tm.created_at)),
          el('td', {}, el('a', { href: `/admin/members?team_id=${tm.id}&lang=${document.documentElement.lang}` }, t('js.teams.members'))),
        );
      })),
    )));
  } catch (err) {
    failed($('teams-msg'), err);
  }
}

const form = $('team-form');
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const msg = $('team-form-msg');
  msg.textContent = '';
  msg.classList.remove('ok');
  await busy(form, async () => {
    try {
      const team = await api('POST', '/api/v1/teams', {
        name: form.name.value.trim(),
        kind: form.kind.value,
        unit_id: form.unit_id.value,
      });
      form.name.value = '';
      msg.classList.add('ok');
      msg.textContent = t('js.teams.created_ok', team.name);
      await loadTeams();
    } catch (err) {
      failed(msg, err);
    }
  });
});

$('filter-unit').addEventListener('change', loadTeams);

try {
  units = await loadUnits();
  fillUnitSelect($('filter-unit'), units.units, { keepFirst: true });
  fillUnitSelect($('team-unit'), units.units);
  // Teams usually belong to a community: pick the first one.
  const community = units.units.find((u) => u.kind === 'community');
  if (community) $('team-unit').value = community.id;
  if (units.units.length === 0) $('team-form-msg').textContent = t('js.teams.no_units');
} catch (err) {
  failed($('teams-msg'), err);
}
await loadTeams();
if (location.hash === '#new') $('team-name').focus();
