// /admin/behaviours: the behaviour lists (文明行为清单) of the street and
// communities the caller looks after, grouped by list, each line with its
// points (加分 or 扣分), caps, whether a photo is needed and whom it is for.
// Organisers add lines and change them (a change of points applies to new
// awards only), or take a line off the list; grid workers read it.

import { t, $, api, el, failed, busy, bindLogout, loadUnits, fillUnitSelect, fmtNumber, emptyState } from './common.js';
import { signed } from './awards-common.js';

bindLogout();

const mayEdit = $('behaviours-page').dataset.role !== 'grid_worker';
let behaviours = [];

const capText = (n) => (n ? fmtNumber(n) : t('js.behaviour.no_cap'));

function render() {
  const out = $('behaviours');
  if (!behaviours.length) {
    out.replaceChildren(emptyState(mayEdit ? t('js.behaviour.empty') : t('js.behaviour.empty_read')));
    return;
  }
  const lists = new Map();
  for (const b of behaviours) {
    if (!lists.has(b.unit_id)) lists.set(b.unit_id, { name: b.unit_name, items: [] });
    lists.get(b.unit_id).items.push(b);
  }
  out.replaceChildren(...[...lists.values()].map((l) => el('div', { class: 'behaviour-list' },
    el('h3', {}, t('js.behaviour.list_of', l.name)),
    el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('js.behaviour.list_of', l.name) }, el('table', { class: 'behaviours' },
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, t('js.behaviour.col.name')),
        el('th', { scope: 'col' }, t('js.behaviour.col.category')),
        el('th', { scope: 'col', class: 'num' }, t('js.behaviour.col.points')),
        el('th', { scope: 'col', class: 'num' }, t('js.behaviour.col.month_cap')),
        el('th', { scope: 'col', class: 'num' }, t('js.behaviour.col.year_cap')),
        el('th', { scope: 'col' }, t('js.behaviour.col.evidence')),
        el('th', { scope: 'col' }, t('js.behaviour.col.target')),
        el('th', { scope: 'col' }, t('js.behaviour.col.state')),
        mayEdit ? el('th', { scope: 'col' }, el('span', { class: 'sr-only' }, t('js.behaviour.col.actions'))) : null,
      )),
      el('tbody', {}, l.items.map(row)),
    )))));
}

function row(b) {
  const tr = el('tr', { class: b.active ? '' : 'inactive', dataset: { behaviourId: b.id } },
    el('td', { class: 'strong' }, b.name),
    el('td', {}, b.category),
    el('td', { class: 'num ' + (b.points > 0 ? 'plus' : 'minus-points') }, signed(b.points)),
    el('td', { class: 'num' }, capText(b.month_cap)),
    el('td', { class: 'num' }, capText(b.year_cap)),
    el('td', {}, b.evidence_required ? t('js.behaviour.photo_yes') : t('js.behaviour.photo_no')),
    el('td', {}, t('js.award.target.' + b.target)),
    el('td', {}, b.active ? t('js.behaviour.active') : t('js.behaviour.inactive')),
  );
  if (mayEdit) {
    tr.append(el('td', { class: 'row-actions' }, b.editable
      ? [el('button', { type: 'button', class: 'small', onclick: () => edit(b, tr) }, t('js.behaviour.edit')),
        el('button', { type: 'button', class: 'small quiet', onclick: () => toggle(b) }, b.active ? t('js.behaviour.deactivate') : t('js.behaviour.activate'))]
      : el('span', { class: 'hint small' }, t('js.behaviour.street_list'))));
  }
  return tr;
}

async function toggle(b) {
  try {
    await api('PATCH', `/api/v1/behaviours/${b.id}`, { active: !b.active });
    await reload();
  } catch (err) {
    failed($('list-msg'), err);
  }
}

// edit opens a form under the line: name, category, points, caps, photo.
function edit(b, tr) {
  tr.parentElement.querySelectorAll('tr.inline-row').forEach((r) => r.remove());
  const msg = el('p', { class: 'msg', role: 'alert' });
  const id = (f) => `be-${f}-${b.id}`;
  const field = (f, label, input) => el('div', { class: 'field' }, el('label', { for: id(f) }, label), input);
  const form = el('form', { class: 'row-form', novalidate: true },
    field('name', t('js.behaviour.col.name'), el('input', { id: id('name'), name: 'name', maxlength: 40, value: b.name, required: true })),
    field('category', t('js.behaviour.col.category'), el('input', { id: id('category'), name: 'category', maxlength: 20, value: b.category, required: true })),
    field('points', t('js.behaviour.points_signed'), el('input', { id: id('points'), name: 'points', type: 'number', min: -1000, max: 1000, value: String(b.points), required: true })),
    field('month', t('js.behaviour.col.month_cap'), el('input', { id: id('month'), name: 'month_cap', type: 'number', min: 0, max: 1000, value: String(b.month_cap) })),
    field('year', t('js.behaviour.col.year_cap'), el('input', { id: id('year'), name: 'year_cap', type: 'number', min: 0, max: 1000, value: String(b.year_cap) })),
    el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'evidence_required', checked: b.evidence_required }), ' ', t('js.behaviour.col.evidence')),
    el('div', { class: 'form-buttons' },
      el('button', { type: 'submit', class: 'primary' }, t('js.save')),
      el('button', { type: 'button', onclick: () => { inline.remove(); tr.querySelector('button')?.focus(); } }, t('js.cancel'))),
    msg,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    await busy(form, async () => {
      try {
        await api('PATCH', `/api/v1/behaviours/${b.id}`, {
          name: form.name.value.trim(), category: form.category.value.trim(), points: Number(form.points.value),
          month_cap: Number(form.month_cap.value || 0), year_cap: Number(form.year_cap.value || 0),
          evidence_required: form.evidence_required.checked,
        });
        await reload();
      } catch (err) {
        failed(msg, err);
      }
    });
  });
  const inline = el('tr', { class: 'inline-row' }, el('td', { colspan: 9 }, form));
  tr.after(inline);
  form.name.focus();
}

async function reload() {
  try {
    ({ behaviours } = await api('GET', '/api/v1/behaviours'));
    $('list-msg').textContent = '';
    render();
    const cats = [...new Set(behaviours.map((b) => b.category))];
    $('bf-categories')?.replaceChildren(...cats.map((c) => el('option', { value: c })));
  } catch (err) {
    failed($('list-msg'), err);
  }
}

if (mayEdit) {
  const form = $('behaviour-form');
  const msg = $('form-msg');
  loadUnits().then(({ units }) => fillUnitSelect($('bf-unit'), units, { kinds: ['street', 'community'] }))
    .catch((err) => failed(msg, err));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    const points = Number(form.points.value);
    if (!form.name.value.trim() || !form.category.value.trim() || !(points >= 1)) {
      msg.textContent = t('js.behaviour.missing');
      return;
    }
    await busy(form, async () => {
      try {
        await api('POST', '/api/v1/behaviours', {
          unit_id: form.unit_id.value, name: form.name.value.trim(), category: form.category.value.trim(),
          points: points * Number(form.sign.value), month_cap: Number(form.month_cap.value || 0),
          year_cap: Number(form.year_cap.value || 0), evidence_required: form.evidence_required.checked, target: form.target.value,
        });
        form.name.value = '';
        form.points.value = '';
        msg.className = 'msg ok';
        msg.textContent = t('js.behaviour.created');
        await reload();
      } catch (err) {
        msg.className = 'msg';
        failed(msg, err);
      }
    });
  });
}

reload();
