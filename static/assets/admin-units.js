// /admin/units: the unit tree 街道 → 社区 → 网格 → 楼栋. Add a child, rename,
// and edit a community's service posts (服务岗位), each in a small form that
// opens under the unit's row.

import { t, $, api, el, failed, busy, bindLogout, loadUnits, unitKinds, childKind, emptyState } from './common.js';
import { expiryRow } from './units-expiry.js';
import { addWallSwitches } from './admin-units-wishes.js';

bindLogout();

const isAdmin = document.querySelector('main').dataset.role === 'admin';
const tree = $('tree');

// render draws the tree: every unit under its parent, in the order the API
// gives (parents before children).
function render(units) {
  if (units.length === 0) {
    tree.replaceChildren(isAdmin
      ? emptyState(t('js.units.empty_admin'), el('button', { type: 'button', class: 'primary', onclick: () => $('new-street').click() }, t('js.units.new_street')))
      : emptyState(t('js.units.empty')));
    return;
  }
  const lists = new Map(); // unit id -> <ul> of its children
  const root = el('ul', { class: 'tree' });
  for (const u of units) {
    const li = unitItem(u);
    const parentList = lists.get(u.parent_id) ?? root;
    parentList.append(li);
    if (childKind[u.kind]) {
      const ul = el('ul');
      li.append(ul);
      lists.set(u.id, ul);
    }
  }
  tree.replaceChildren(root);
}

function unitItem(u) {
  const panel = el('div', { class: 'unit-panel' });
  const open = (form) => {
    panel.replaceChildren(form);
    form.querySelector('input, textarea')?.focus();
  };
  const close = () => panel.replaceChildren();
  const actions = [el('button', { type: 'button', class: 'small', onclick: () => open(renameForm(u, close)) }, t('js.units.rename'))];
  const child = childKind[u.kind];
  if (child) {
    actions.push(el('button', { type: 'button', class: 'small', onclick: () => open(childForm(u, child, close)) },
      t('js.units.add_child', unitKinds[child])));
  }
  if (u.kind === 'community') {
    actions.push(el('button', { type: 'button', class: 'small', onclick: () => open(postsForm(u, close)) },
      t('js.units.edit_posts', (u.posts ?? []).length)));
  }
  let notice = null;
  if (u.kind === 'community') {
    // The public points notice (积分公示): a switch and, when on, its link.
    const box = el('input', { type: 'checkbox', class: 'notice-switch', checked: !!u.public_notice, onchange: async () => {
      box.disabled = true;
      try {
        await api('PATCH', `/api/v1/units/${u.id}`, { public_notice: box.checked });
        u.public_notice = box.checked;
        link.hidden = !box.checked;
        state.textContent = box.checked ? t('js.units.notice_on') : t('js.units.notice_off');
      } catch (err) {
        box.checked = !box.checked;
        failed(state, err);
      }
      box.disabled = false;
    } });
    const state = el('span', { class: 'hint small', role: 'status' });
    const link = el('a', { href: `/notice/${u.id}`, target: '_blank', rel: 'noopener', hidden: !u.public_notice }, t('js.units.notice_link'));
    const settings = el('button', { type: 'button', class: 'small quiet notice-settings', onclick: () => open(noticeForm(u, close)) },
      t('js.units.notice_settings'));
    const summary = el('span', { class: 'hint small notice-summary' },
      [t('js.units.notice_days_is', u.notice_days || 7), u.notice_contact,
        u.award_notice_days ? t('js.award.units.days_is', u.award_notice_days) : t('js.award.units.days_none')].filter(Boolean).join(' · '));
    notice = el('div', { class: 'unit-notice', title: t('js.units.notice_help') }, el('label', {}, box, ' ', t('js.units.notice')), ' ', link, ' ',
      summary, ' ', settings, ' ', state);
  }
  // A street's points expiry (积分有效期): units-expiry.js.
  const expiry = u.kind === 'street' ? expiryRow(u, open, close, reload) : null;
  const posts = u.kind === 'community' && u.posts?.length
    ? el('div', { class: 'chips', 'aria-label': t('js.units.posts') }, u.posts.map((p) => el('span', { class: 'chip' }, p)))
    : null;
  return el('li', { dataset: { unitId: u.id, unitName: u.name } },
    el('div', { class: 'unit-row' },
      el('span', { class: 'kind kind-' + u.kind }, unitKinds[u.kind]),
      el('span', { class: 'unit-name' }, u.name),
      el('span', { class: 'row-actions' }, actions),
    ),
    posts,
    notice,
    expiry,
    panel,
  );
}

// smallForm is the form that opens under a unit: fields, save and cancel,
// and a message line; submit gets the form and does the work.
function smallForm(title, fields, submitLabel, close, submit) {
  const msg = el('p', { class: 'msg', role: 'alert' });
  const form = el('form', { class: 'inline-form', novalidate: true },
    el('h3', {}, title),
    fields,
    el('div', { class: 'form-buttons' },
      el('button', { type: 'submit', class: 'primary' }, submitLabel),
      el('button', { type: 'button', onclick: close }, t('js.cancel')),
    ),
    msg,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    await busy(form, async () => {
      try {
        await submit(form);
        await reload();
      } catch (err) {
        failed(msg, err);
      }
    });
  });
  return form;
}

function nameField(id, label, value = '') {
  return [el('label', { for: id }, label), el('input', { id, name: 'name', maxlength: 64, required: true, value })];
}

function renameForm(u, close) {
  return smallForm(t('js.units.rename_title', u.name), nameField('rename-' + u.id, t('js.units.new_name'), u.name),
    t('js.save'), close, (form) => api('PATCH', `/api/v1/units/${u.id}`, { name: form.name.value.trim() }));
}

function childForm(u, kind, close) {
  return smallForm(t('js.units.add_child_title', unitKinds[kind], u.name),
    nameField('child-' + u.id, t('js.units.child_name', unitKinds[kind])),
    t('js.units.create'), close,
    (form) => api('POST', '/api/v1/units', { name: form.name.value.trim(), kind, parent_id: u.id }));
}

function postsForm(u, close) {
  const id = 'posts-' + u.id;
  return smallForm(t('js.units.posts_title', u.name), [
    el('label', { for: id }, t('js.units.posts_label')),
    el('textarea', { id, name: 'posts', rows: 6, placeholder: t('js.units.posts_placeholder') }, (u.posts ?? []).join('\n')),
    el('p', { class: 'hint small' }, t('js.units.posts_help')),
  ], t('js.save'), close, (form) => {
    const posts = form.posts.value.split(/[\n,，、]/).map((p) => p.trim()).filter(Boolean);
    return api('PATCH', `/api/v1/units/${u.id}`, { posts });
  });
}

// noticeForm sets a community's notice: the objection period (公示期) and
// whom to call with an objection.
function noticeForm(u, close) {
  const days = 'notice-days-' + u.id;
  const contact = 'notice-contact-' + u.id;
  return smallForm(t('js.units.notice_settings'), [
    el('label', { for: days }, t('js.units.notice_days')),
    el('input', { id: days, name: 'days', type: 'number', min: 1, max: 30, step: 1, required: true, value: String(u.notice_days || 7), inputmode: 'numeric' }),
    el('label', { for: contact }, t('js.units.notice_contact')),
    el('input', { id: contact, name: 'contact', maxlength: 60, value: u.notice_contact ?? '', placeholder: t('js.units.notice_contact_placeholder') }),
    // The behaviour awards' notice period (文明行为积分公示): 0, none.
    el('label', { for: 'award-days-' + u.id }, t('js.award.units.days')),
    el('input', { id: 'award-days-' + u.id, name: 'award_days', type: 'number', min: 0, max: 30, step: 1, value: String(u.award_notice_days || 0), inputmode: 'numeric' }),
    el('p', { class: 'hint small' }, t('js.award.units.days_help')),
  ], t('js.units.notice_save'), close, (form) => api('PATCH', `/api/v1/units/${u.id}`, {
    notice_days: Number(form.days.value), notice_contact: form.contact.value.trim(), award_notice_days: Number(form.award_days.value || 0),
  }));
}

async function reload() {
  try {
    const { units } = await loadUnits();
    $('units-msg').textContent = '';
    render(units);
  } catch (err) {
    failed($('units-msg'), err);
  }
}

if (isAdmin) {
  const card = $('street-form-card');
  const form = $('street-form');
  const msg = form.querySelector('.msg');
  $('new-street').addEventListener('click', () => {
    card.hidden = false;
    $('street-name').focus();
  });
  form.querySelector('[data-cancel]').addEventListener('click', () => {
    form.reset();
    card.hidden = true;
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    await busy(form, async () => {
      try {
        await api('POST', '/api/v1/units', { name: form.name.value.trim(), kind: 'street' });
        form.reset();
        card.hidden = true;
        await reload();
      } catch (err) {
        failed(msg, err);
      }
    });
  });
}

reload();
addWallSwitches(); // each community's wish wall (心愿墙)
