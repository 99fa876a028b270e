// /admin/awards: record an award or a deduction (文明行为 加分/扣分) for a
// member or household of the caller's grid or community, with a note and
// a photo from the camera or a file; the queue of awards waiting for a
// second staff member's approval, in their notice period, or held by an
// objection; and the month's awards, where a posted one is corrected by a
// reversal with a reason.

import { t, $, api, el, failed, busy, bindLogout, fmtTime, fmtDate, emptyState } from './common.js';
import { uuidv7 } from './shop-common.js';
import { stepNames, signed, statusChip, notTakenText, amountText, postForm } from './awards-common.js';

bindLogout();

const page = $('awards-page');
const maxPicture = 512 << 10;
let target = null; // {target, id, name, unit_id, unit_name}
let behaviours = [];
let photo = null; // the File to send
let key = null; // the idempotency key of the award being recorded, kept until it is answered

// ---- Recording ----

const form = $('award-form');
const msg = $('aw-msg');

function choose(tg) {
  target = tg;
  key = null;
  $('aw-results').replaceChildren();
  $('aw-q').value = '';
  const chosen = $('aw-chosen');
  chosen.replaceChildren(
    el('span', {}, el('strong', {}, tg.name), ' ', el('span', { class: 'hint small' }, [tg.target === 'household' ? t('js.award.target.household') : tg.phone, tg.unit_name].filter(Boolean).join(' · '))),
    el('button', { type: 'button', class: 'small quiet', onclick: () => { target = null; chosen.hidden = true; loadBehaviours(); $('aw-q').focus(); } }, t('js.award.change')),
  );
  chosen.hidden = false;
  loadBehaviours();
}

let searchTimer = 0;
$('aw-q').addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(search, 250);
});

async function search() {
  const q = $('aw-q').value.trim();
  const out = $('aw-results');
  if (!q) {
    out.replaceChildren();
    return;
  }
  try {
    const { targets } = await api('GET', `/api/v1/awards/targets?q=${encodeURIComponent(q)}`);
    out.replaceChildren(...(targets.length ? targets.map((tg) => el('li', {},
      el('span', { class: 'who' }, el('strong', {}, tg.name), ' ',
        el('span', { class: 'hint small' }, [tg.target === 'household' ? t('js.award.target.household') : tg.phone, tg.unit_name].filter(Boolean).join(' · '))),
      el('button', { type: 'button', class: 'small', onclick: () => choose(tg), 'aria-label': t('js.award.choose_named', tg.name) }, t('js.award.choose')),
    )) : [el('li', { class: 'none' }, t('js.award.no_match'))]));
  } catch (err) {
    failed(msg, err);
  }
}

async function loadBehaviours() {
  const select = $('aw-behaviour');
  select.replaceChildren(el('option', { value: '' }, t('js.award.behaviour_first')));
  select.disabled = !target;
  $('aw-rule').textContent = '';
  if (!target) return;
  try {
    ({ behaviours } = await api('GET', `/api/v1/behaviours?unit_id=${target.unit_id}&active=true`));
    const fits = behaviours.filter((b) => b.target === target.target);
    select.replaceChildren(el('option', { value: '' }, fits.length ? t('js.award.behaviour_pick') : t('js.award.behaviour_none')),
      ...fits.map((b) => el('option', { value: b.id }, `${b.name}（${signed(b.points)}）`)));
  } catch (err) {
    failed(msg, err);
  }
}

$('aw-behaviour').addEventListener('change', () => {
  const b = behaviours.find((x) => x.id === $('aw-behaviour').value);
  const rule = $('aw-rule');
  $('aw-photo-req').hidden = !b?.evidence_required;
  if (!b) {
    rule.textContent = '';
    return;
  }
  const parts = [t(b.points > 0 ? 'js.award.rule_plus' : 'js.award.rule_minus', Math.abs(b.points)), b.category];
  if (b.month_cap) parts.push(t('js.award.rule_month', b.month_cap));
  if (b.year_cap) parts.push(t('js.award.rule_year', b.year_cap));
  if (b.evidence_required) parts.push(t('js.award.rule_photo'));
  if (b.points < 0) parts.push(t('js.award.rule_reason'));
  rule.textContent = parts.join(' · ');
});

function setPhoto(file) {
  if (!file) return;
  if (file.size > maxPicture) {
    msg.textContent = t('js.award.photo_too_big', Math.round(file.size / 1024), maxPicture >> 10);
    return;
  }
  photo = file;
  key = null;
  const reader = new FileReader();
  reader.onload = () => {
    const img = $('aw-preview');
    img.src = reader.result; // a data: URL: the page's CSP allows no blob: images
    img.hidden = false;
  };
  reader.readAsDataURL(file);
  $('aw-photo-clear').hidden = false;
}
for (const id of ['aw-camera', 'aw-file']) {
  $(id).addEventListener('change', (ev) => setPhoto(ev.target.files[0]));
}
$('aw-photo-clear').addEventListener('click', () => {
  photo = null;
  key = null;
  $('aw-preview').hidden = true;
  $('aw-preview').removeAttribute('src');
  $('aw-photo-clear').hidden = true;
  $('aw-camera').value = '';
  $('aw-file').value = '';
});
for (const f of [form.note, $('aw-behaviour')]) f.addEventListener('change', () => (key = null));

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  msg.textContent = '';
  $('aw-done').hidden = true;
  const b = behaviours.find((x) => x.id === $('aw-behaviour').value);
  if (!target) {
    msg.textContent = t('js.award.who_missing');
    $('aw-q').focus();
    return;
  }
  if (!b) {
    msg.textContent = t('js.award.behaviour_missing');
    $('aw-behaviour').focus();
    return;
  }
  if (b.evidence_required && !photo) {
    msg.textContent = t('js.award.photo_missing', b.name);
    return;
  }
  if (b.points < 0 && !form.note.value.trim()) {
    msg.textContent = t('js.award.reason_missing');
    form.note.focus();
    return;
  }
  const body = new FormData();
  const req = { behaviour_id: b.id, note: form.note.value.trim() };
  req[target.target === 'household' ? 'household_id' : 'member_id'] = target.id;
  body.append('award', JSON.stringify(req));
  if (photo) body.append('file', photo, photo.name || 'photo.jpg');
  key ??= uuidv7();
  await busy(form, async () => {
    try {
      const a = await postForm('/api/v1/awards', body, key);
      key = null;
      const done = $('aw-done');
      done.textContent = doneText(a);
      done.hidden = false;
      form.note.value = '';
      $('aw-photo-clear').click();
      loadQueue();
      loadMonth();
    } catch (err) {
      if (err.status !== 0) key = null; // answered: a new try is a new award
      failed(msg, err);
    }
  });
});

function doneText(a) {
  const what = `${a.target_name} · ${a.name} ${signed(a.points)}`;
  switch (a.status) {
    case 'pending_approval': return t('js.award.done_pending', what);
    case 'in_notice': return t('js.award.done_notice', what, a.objections_close);
    default: return notTakenText(a) ? t('js.award.done_posted_partly', what, notTakenText(a)) : t('js.award.done_posted', what);
  }
}

// ---- The queue and the month ----

// reasonForm asks for a reason; buttons are [label, action(reason), primary?].
function reasonForm(box, label, buttons) {
  const msgEl = el('p', { class: 'msg', role: 'alert' });
  const id = 'reason-' + uuidv7();
  const input = el('textarea', { id, maxlength: 200, rows: 2, required: true });
  const f = el('form', { class: 'reason-form', novalidate: true },
    el('label', { for: id }, label), input,
    el('div', { class: 'form-buttons' },
      ...buttons.map(([text, action, primary]) => el('button', {
        type: 'button', class: primary ? 'primary small' : 'small', onclick: async () => {
          msgEl.textContent = '';
          if (!input.value.trim()) {
            msgEl.textContent = t('js.award.reason_needed');
            input.focus();
            return;
          }
          await busy(f, async () => {
            try {
              await action(input.value.trim());
              refresh();
            } catch (err) {
              failed(msgEl, err);
            }
          });
        },
      }, text)),
      el('button', { type: 'button', class: 'small quiet', onclick: () => box.replaceChildren() }, t('js.cancel'))),
    msgEl);
  box.replaceChildren(f);
  input.focus();
}

const post = (a, step, body) => api('POST', `/api/v1/awards/${a.id}/${step}`, body);

function steps(a) {
  return el('ol', { class: 'award-steps' }, (a.steps ?? []).map((s) => el('li', {},
    el('span', { class: 'nowrap' }, fmtTime(s.at)), ' ', stepNames[s.step] ?? s.step,
    s.by_name ? ' · ' + s.by_name : (s.step === 'objected' ? ' · ' + t('js.award.resident') : ''),
    s.reason ? el('span', { class: 'hint' }, ' ' + t('js.award.why', s.reason)) : null)));
}

function photos(a) {
  if (!a.evidence_urls?.length) return null;
  return el('div', { class: 'evidence' }, a.evidence_urls.map((u, i) => el('a', { href: u, target: '_blank', rel: 'noopener' },
    el('img', { src: u, alt: t('js.award.photo_n', i + 1, a.name), loading: 'lazy' }))));
}

function queueItem(a) {
  const box = el('div', { class: 'reason-box' });
  const acts = [];
  if (a.may.approve) acts.push(el('button', { type: 'button', class: 'primary small', onclick: async (ev) => {
    ev.target.disabled = true;
    try {
      await post(a, 'approve');
      refresh();
    } catch (err) {
      failed(box, err);
      ev.target.disabled = false;
    }
  } }, t('js.award.approve')));
  if (a.may.decide) {
    acts.push(el('button', { type: 'button', class: 'small', onclick: () => reasonForm(box, t('js.award.decide_reason'), [
      [t('js.award.decide_post'), (r) => post(a, 'decide', { post: true, reason: r }), true],
      [t('js.award.decide_reject'), (r) => post(a, 'decide', { post: false, reason: r })],
    ]) }, t('js.award.decide')));
  }
  if (a.may.object && page.dataset.role !== 'volunteer') {
    acts.push(el('button', { type: 'button', class: 'small', onclick: () => reasonForm(box, t('js.award.object_reason'), [
      [t('js.award.object_save'), (r) => post(a, 'object', { reason: r }), true]]) }, t('js.award.object')));
  }
  if (a.may.reject) {
    acts.push(el('button', { type: 'button', class: 'small quiet', onclick: () => reasonForm(box, t('js.award.reject_reason'), [
      [t('js.award.reject'), (r) => post(a, 'reject', { reason: r }), true]]) }, t('js.award.reject')));
  }
  const waiting = a.status === 'pending_approval' && !a.may.approve
    ? el('p', { class: 'hint small' }, a.recorded_by === page.dataset.userId ? t('js.award.wait_other') : t('js.award.wait_organiser'))
    : null;
  return el('li', { class: 'award-item', dataset: { awardId: a.id, status: a.status } },
    el('div', { class: 'award-head' },
      el('strong', {}, a.target_name), ' ', el('span', {}, a.name), ' ',
      el('span', { class: 'award-points ' + (a.points > 0 ? 'plus' : 'minus-points') }, signed(a.points)), ' ', statusChip(a)),
    el('p', { class: 'hint small' }, [fmtTime(a.recorded_at), a.unit_name, t('js.award.by', a.recorded_by_name || '—'),
      a.status === 'in_notice' ? t('js.award.notice_until', a.objections_close) : ''].filter(Boolean).join(' · ')),
    a.note ? el('p', { class: 'award-note' }, a.note) : null,
    photos(a),
    a.status === 'held' ? steps(a) : null,
    waiting,
    acts.length ? el('div', { class: 'actions' }, acts) : null,
    box,
  );
}

async function loadQueue() {
  try {
    const { awards } = await api('GET', '/api/v1/awards?status=pending_approval,held,in_notice&limit=200');
    const groups = ['pending_approval', 'held', 'in_notice'].map((s) => [s, awards.filter((a) => a.status === s)]);
    $('queue').replaceChildren(...(awards.length ? groups.filter(([, l]) => l.length).map(([s, l]) => el('div', { class: 'queue-group' },
      el('h3', {}, t('js.award.queue.' + s, l.length)),
      el('ul', { class: 'award-queue' }, l.map(queueItem)))) : [emptyState(t('js.award.queue_empty'))]));
  } catch (err) {
    failed($('queue-msg'), err);
  }
}

function monthRow(a) {
  const box = el('div', { class: 'reason-box' });
  return [el('tr', { dataset: { awardId: a.id, status: a.status } },
    el('td', { class: 'nowrap' }, fmtDate(a.recorded_at)),
    el('td', {}, a.target_name, el('span', { class: 'hint small block-line' }, a.unit_name)),
    el('td', {}, a.name),
    el('td', { class: 'num ' + (a.points > 0 ? 'plus' : 'minus-points') }, amountText(a)),
    el('td', {}, statusChip(a), notTakenText(a) ? el('span', { class: 'hint small block-line' }, notTakenText(a)) : null),
    el('td', {}, a.recorded_by_name),
    el('td', {}, a.note, photos(a)),
    el('td', {}, a.may.reverse ? el('button', { type: 'button', class: 'small quiet', onclick: () => reasonForm(box, t('js.award.reverse_reason'), [
      [t('js.award.reverse'), (r) => post(a, 'reverse', { reason: r }), true]]) }, t('js.award.reverse')) : null),
  ), el('tr', { class: 'reason-row' }, el('td', { colspan: 8 }, box))];
}

async function loadMonth() {
  const month = $('aw-month').value;
  try {
    const { awards } = await api('GET', `/api/v1/awards?month=${month}&limit=500`);
    $('month-list').replaceChildren(awards.length ? el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'month-h' },
      el('table', { class: 'awards' },
        el('thead', {}, el('tr', {}, ['date', 'who', 'behaviour', 'points', 'status', 'by', 'note'].map((c) =>
          el('th', { scope: 'col', class: c === 'points' ? 'num' : '' }, t('js.award.col.' + c))),
        el('th', { scope: 'col' }, el('span', { class: 'sr-only' }, t('js.award.col.actions'))))),
        el('tbody', {}, awards.flatMap(monthRow)))) : emptyState(t('js.award.month_empty')));
  } catch (err) {
    failed($('month-msg'), err);
  }
}

function refresh() {
  loadQueue();
  loadMonth();
}

const now = new Date();
$('aw-month').value = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', timeZone: 'Asia/Shanghai' }).format(now).slice(0, 7);
$('aw-month').addEventListener('change', loadMonth);

// Came from a member's page: that member is chosen.
const pre = new URLSearchParams(location.search).get('member_id');
if (pre) {
  api('GET', `/api/v1/awards/targets?member_id=${encodeURIComponent(pre)}`).then(({ targets }) => targets[0] && choose(targets[0])).catch(() => {});
}
refresh();
