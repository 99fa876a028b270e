// /admin/members/{id}: one volunteer: every field, the edit form, setting or
// resetting their password, balance and service hours, and their journal
// entries a page at a time. A member outside the organiser's scope is not
// found, just like one that does not exist.

import {
  t, $, api, el, failed, busy, bindLogout, loadUnits, unitLabel, statuses, teamKinds,
  fmtNumber, fmtHours, fmtTime, entryTable, emptyState, href,
} from './common.js';
import { memberForm } from './member-form.js';
import './award-footprint.js'; // awards and deductions (文明行为) on the footprint
import { showMemberHousehold } from './admin-member-household.js';

bindLogout();

const id = $('member-page').dataset.memberId;
const base = `/api/v1/members/${encodeURIComponent(id)}`;
let units, teamsById, form;

function showNotFound() {
  $('member').hidden = true;
  $('not-found').hidden = false;
}

// field is one line of the profile: a label and its value (or a dash).
function field(label, ...value) {
  const v = value.flat().filter((x) => x !== '' && x !== null && x !== undefined);
  return [el('dt', {}, label), el('dd', {}, v.length ? v : '—')];
}

function showMember(m) {
  document.title = m.name + ' · ' + document.title.split(' · ').pop();
  $('member-name').textContent = m.name;
  const u = units.byId.get(m.unit_id);
  $('member-sub').textContent = [u ? unitLabel(u, units.byId) : m.unit_name, statuses[m.status]].filter(Boolean).join(' · ');
  const teams = (m.team_ids ?? []).map((tid) => teamsById.get(tid)).filter(Boolean);
  const d = m.on_duty;
  $('fields').replaceChildren(
    ...field(t('js.member.phone'), el('span', { class: 'mono' }, m.phone)),
    ...field(t('js.member.unit'), u ? unitLabel(u, units.byId) : m.unit_name),
    ...field(t('js.member.status'), el('span', { class: 'status status-' + m.status }, statuses[m.status] ?? m.status)),
    ...field(t('js.member.party_member'), m.party_member ? t('js.yes') : t('js.no')),
    ...field(t('js.member.teams'), teams.map((tm) => el('span', { class: 'chip', title: teamKinds[tm.kind] }, tm.name))),
    ...field(t('js.member.skills'), (m.skills ?? []).map((s) => el('span', { class: 'chip' }, s))),
    ...field(t('js.member.on_duty'), d ? [
      el('div', {}, t('js.member.work_unit_is', d.work_unit)),
      d.reported_at ? el('div', {}, t('js.member.reported_at_is', d.reported_at)) : null,
      d.annual_target_hours ? el('div', {}, t('js.member.target_is', d.annual_target_hours)) : null,
    ] : t('js.no')),
    ...field(t('js.member.posts'), (m.posts ?? []).map((p) => el('span', { class: 'chip' }, p))),
    ...field(t('js.member.created'), fmtTime(m.created_at)),
    ...field(t('js.member.updated'), fmtTime(m.updated_at)),
  );
  form?.fill(m);
}

async function loadBalance() {
  try {
    const b = await api('GET', `${base}/balance`);
    $('b-points').textContent = fmtNumber(b.points);
    $('b-available').textContent = fmtNumber(b.available);
    $('b-held').textContent = fmtNumber(b.held);
    $('b-hours').textContent = fmtHours(b.service_minutes);
  } catch (err) {
    failed($('balance-msg'), err);
  }
}

let before = 0;
async function loadEntries(more = false) {
  const q = new URLSearchParams({ limit: 20 });
  if (more) q.set('before', before);
  try {
    const page = await api('GET', `${base}/entries?${q}`);
    before = page.next_before || 0;
    const out = $('entries');
    if (!more) {
      out.replaceChildren(page.entries.length
        ? entryTable(page.entries, id)
        : emptyState(t('js.member.no_entries')));
    } else {
      const more = entryTable(page.entries, id).querySelectorAll('tbody tr');
      out.querySelector('tbody').append(...more);
    }
    $('older').parentElement.hidden = !before;
  } catch (err) {
    failed($('entries-msg'), err);
  }
}
$('older').addEventListener('click', () => loadEntries(true));

// Edit.
$('edit').addEventListener('click', () => {
  $('profile-msg').textContent = '';
  $('edit-card').hidden = false;
  $('m-name').focus();
  $('edit-card').scrollIntoView({ block: 'start' });
});
$('cancel-edit').addEventListener('click', async () => {
  $('edit-card').hidden = true;
  $('member-form-msg').textContent = '';
});
$('member-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const msg = $('member-form-msg');
  msg.textContent = form.check();
  if (msg.textContent) return;
  await busy(ev.currentTarget, async () => {
    try {
      const m = await api('PATCH', base, form.read());
      showMember(m);
      $('edit-card').hidden = true;
      $('profile-msg').textContent = t('js.member.saved');
      $('profile').scrollIntoView({ block: 'nearest' });
    } catch (err) {
      failed(msg, err);
    }
  });
});

// Password.
$('password-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = ev.currentTarget;
  const msg = $('password-msg');
  msg.className = 'msg';
  if (!f.password.value) {
    msg.textContent = t('js.password.missing');
    return;
  }
  if (f.password.value !== f.again.value) {
    msg.textContent = t('js.password.mismatch');
    return;
  }
  await busy(f, async () => {
    try {
      await api('POST', `${base}/password`, { password: f.password.value });
      f.reset();
      msg.className = 'msg ok';
      msg.textContent = t('js.password.set');
    } catch (err) {
      failed(msg, err);
    }
  });
});

try {
  const [u, { teams }, { categories }] = await Promise.all([
    loadUnits(),
    api('GET', '/api/v1/teams'),
    api('GET', '/api/v1/categories'),
  ]);
  units = u;
  teamsById = new Map(teams.map((tm) => [tm.id, tm]));
  form = memberForm($('member-form'), { units: u.units, byId: u.byId, teams, categories });
  const m = await api('GET', base);
  $('member').hidden = false;
  showMember(m);
  loadBalance();
  showMemberHousehold(id);
  loadEntries();
} catch (err) {
  if (err.status === 404) showNotFound();
  else failed($('page-msg'), err);
}

// ---- certificate (志愿服务证明) ------------------------------------------------

{
  const form = $('cert-form');
  // Today in the deployment's zone (Beijing time), whatever the computer's clock is set to.
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  form.from.value = today.slice(0, 4) + '-01-01';
  form.to.value = today;
  form.to.max = today;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const msg = $('cert-msg');
    msg.className = 'msg';
    msg.textContent = '';
    try {
      const c = await api('POST', '/api/v1/certificates', { member_id: id, from: form.from.value, to: form.to.value });
      location.assign(href('/admin/certificates/' + c.serial));
    } catch (err) {
      failed(msg, err);
    }
  });
}
