// /admin/staff: staff accounts (administrators, organisers bound to a unit,
// clerks bound to a shop), the form to create one, and for each the dialog
// that renames it, resets its password, disables or enables it
// (PATCH /api/v1/users/{id}; the server decides who may).

import { t, $, api, el, failed, busy, bindLogout, loadUnits, fillUnitSelect, unitLabel, fmtDate, fmtTime, emptyState } from './common.js';
import { bindOwnPassword } from './own-password.js';

bindLogout();
bindOwnPassword();

const roleNames = {
  admin: t('role.admin'),
  organizer: t('role.organizer'),
  clerk: t('role.clerk'),
  grid_worker: t('role.grid_worker'),
  volunteer: t('role.volunteer'),
};
const roleHelp = {
  admin: t('js.staff.help_admin'),
  organizer: t('js.staff.help_organizer'),
  clerk: t('js.staff.help_clerk'),
  grid_worker: t('js.staff.help_grid_worker'),
};
let units = { units: [], byId: new Map() };

async function loadStaff() {
  try {
    const [{ users }, me] = await Promise.all([api('GET', '/api/v1/users'), api('GET', '/api/v1/me')]);
    $('staff-msg').textContent = '';
    const staff = users.filter((u) => u.role !== 'volunteer');
    // Nobody but the one looking: say what to do next.
    const next = staff.every((u) => u.id === me.id)
      ? emptyState(t('js.staff.empty_next'), el('button', { type: 'button', class: 'primary', onclick: () => $('s-login').focus() }, t('js.staff.add_one')))
      : '';
    if (staff.length === 0) {
      $('staff').replaceChildren(next);
      return;
    }
    $('staff').replaceChildren(next, el('div', { class: 'table-wrap', tabindex: '0' }, el('table', { id: 'staff-table' },
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, t('js.staff.login')),
        el('th', { scope: 'col' }, t('js.staff.name')),
        el('th', { scope: 'col' }, t('js.staff.role')),
        el('th', { scope: 'col' }, t('js.staff.scope')),
        el('th', { scope: 'col' }, t('js.staff.created')),
        el('th', { scope: 'col' }, t('js.staff.actions')),
      )),
      el('tbody', {}, staff.map((u) => {
        const unit = u.unit_id ? units.byId.get(u.unit_id) : null;
        let scope = '';
        if (u.role === 'admin') scope = t('js.staff.scope_all');
        else if (unit) scope = unitLabel(unit, units.byId);
        else if (u.shop_id) scope = t('js.staff.shop_is', u.shop_name || u.shop_id);
        return el('tr', { class: u.disabled ? 'disabled' : '', dataset: { login: u.login } },
          el('td', { class: 'mono nowrap' }, u.login),
          el('td', { class: 'nowrap' }, u.name || ''),
          el('td', { class: 'nowrap' }, el('span', { class: 'badge role-' + u.role }, roleNames[u.role] ?? u.role),
            u.disabled ? el('span', { class: 'badge off' }, t('js.staff.disabled')) : null),
          el('td', {}, scope),
          el('td', { class: 'nowrap' }, fmtDate(u.created_at),
            u.updated_at ? el('span', { class: 'hint small block' }, t('js.staff.changed_by', fmtDate(u.updated_at), u.updated_by_name || '')) : null),
          el('td', {}, el('button', {
            type: 'button', class: 'small', onclick: () => openEdit(u),
            // One's own button says 我的账号 and is named so; the others' name whose account they open.
            'aria-label': u.id === me ? null : t('js.staff.manage_who', u.name || u.login),
          }, u.id === me ? t('js.staff.manage_self') : t('js.staff.manage'))),
        );
      })),
    )));
  } catch (err) {
    failed($('staff-msg'), err);
  }
}

// ---- changing an account --------------------------------------------------

const me = document.querySelector('main').dataset.userId;
const dialog = $('edit');
let editing = null; // the account the dialog shows

function showEdit(u) {
  editing = u;
  const self = u.id === me;
  $('edit-h').textContent = t('js.staff.edit_title', u.name || u.login);
  $('edit-who').textContent = t('js.staff.edit_who', u.login, roleNames[u.role] ?? u.role);
  $('edit-self').hidden = !self;
  $('edit-password-form').hidden = self;
  $('edit-state').hidden = self;
  $('e-name').value = u.name || '';
  $('edit-state-now').textContent = u.disabled
    ? t('js.staff.state_disabled', fmtTime(u.disabled_at))
    : t('js.staff.state_active');
  $('edit-disable').hidden = u.disabled;
  $('edit-enable').hidden = !u.disabled;
}

function openEdit(u) {
  $('edit-password-form').reset();
  $('edit-msg').className = 'msg';
  $('edit-msg').textContent = '';
  showEdit(u);
  dialog.showModal();
  $('e-name').focus();
}

$('edit-close').addEventListener('click', () => dialog.close());
dialog.addEventListener('close', () => {
  editing = null;
  loadStaff();
});

// change sends one change of the account the dialog shows and says what it did.
async function change(form, body, done) {
  const msg = $('edit-msg');
  msg.className = 'msg';
  await busy(form, async () => {
    try {
      const u = await api('PATCH', `/api/v1/users/${editing.id}`, body);
      showEdit(u);
      msg.className = 'msg ok';
      msg.textContent = done(u);
    } catch (err) {
      failed(msg, err);
    }
  });
}

$('edit-name-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  change(ev.currentTarget, { name: $('e-name').value.trim() }, (u) => t('js.staff.name_saved', u.name || u.login));
});

$('edit-password-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const f = ev.currentTarget;
  const msg = $('edit-msg');
  msg.className = 'msg';
  if (!f.password.value) {
    msg.textContent = t('js.password.missing');
    return;
  }
  if (f.password.value !== f.again.value) {
    msg.textContent = t('js.password.mismatch');
    return;
  }
  change(f, { password: f.password.value }, (u) => {
    f.reset();
    return t('js.staff.reset_done', u.login);
  });
});

$('edit-disable').addEventListener('click', (ev) => {
  change($('edit-state'), { disabled: true }, (u) => t('js.staff.disabled_done', u.login));
  ev.currentTarget.blur();
});
$('edit-enable').addEventListener('click', () => {
  change($('edit-state'), { disabled: false }, (u) => t('js.staff.enabled_done', u.login));
});

// ---- a new account ----------------------------------------------------------

const form = $('staff-form');
function roleChanged() {
  const role = form.role.value;
  $('s-unit-field').hidden = role !== 'organizer' && role !== 'grid_worker';
  fillUnits(role);
  $('s-shop-field').hidden = role !== 'clerk';
  $('s-role-help').textContent = roleHelp[role] ?? '';
}
// fillUnits offers the units a role is bound to: a grid worker a grid, an
// organiser any unit, the first community chosen (what organisers usually
// look after).
function fillUnits(role) {
  const kinds = role === 'grid_worker' ? ['grid'] : undefined;
  if (form.unit_id.dataset.kinds === String(kinds) && form.unit_id.options.length) return;
  if (kinds) {
    // Grids by their whole path: every community has its 第一网格.
    form.unit_id.replaceChildren(...units.units.filter((u) => u.kind === 'grid')
      .map((u) => el('option', { value: u.id }, unitLabel(u, units.byId))));
  } else {
    fillUnitSelect(form.unit_id, units.units);
  }
  form.unit_id.dataset.kinds = String(kinds);
  const community = !kinds && units.units.find((u) => u.kind === 'community');
  if (community) form.unit_id.value = community.id;
}
form.role.addEventListener('change', roleChanged);
roleChanged();

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const msg = $('staff-form-msg');
  msg.className = 'msg';
  const role = form.role.value;
  const body = { login: form.login.value.trim(), password: form.password.value, role };
  if (form.elements.name.value.trim()) body.name = form.elements.name.value.trim();
  if (role === 'organizer' || role === 'grid_worker') body.unit_id = form.unit_id.value;
  if (role === 'clerk') {
    body.shop_id = form.shop_id.value;
    if (!body.shop_id) {
      msg.textContent = t('js.staff.shop_required');
      return;
    }
  }
  if (!body.login || !body.password) {
    msg.textContent = t('js.staff.missing');
    return;
  }
  await busy(form, async () => {
    try {
      const u = await api('POST', '/api/v1/users', body);
      form.reset();
      roleChanged();
      msg.className = 'msg ok';
      msg.textContent = t('js.staff.created_ok', u.login);
      await loadStaff();
    } catch (err) {
      failed(msg, err);
    }
  });
});

try {
  units = await loadUnits();
  form.unit_id.replaceChildren();
  fillUnits(form.role.value);
  // Clerks are bound to one of the shops the caller keeps.
  const { shops } = await api('GET', '/api/v1/shops');
  form.shop_id.replaceChildren(
    el('option', { value: '' }, shops?.length ? t('js.staff.shop_choose') : t('js.staff.no_shops')),
    ...(shops ?? []).map((sh) => el('option', { value: sh.id }, sh.unit_name ? `${sh.name}（${sh.unit_name}）` : sh.name)));
  if (shops?.length === 1) form.shop_id.value = shops[0].id; // the one shop there is
} catch (err) {
  failed($('staff-msg'), err);
}
await loadStaff();
