// /admin/events/{id}: one event. Its details and status (open, finish,
// cancel, finalise with what finalising posted), the live counts, and the
// attendance table with the organiser's corrections: closing a missed
// check-out, and reviewing (confirm, adjust, reject) where the event needs
// it. Three tools record attendance for people without a phone: the camera
// reads a member card's QR and checks them in, or out if they are in; a
// search by name does the same by hand; and back-filling (补录) records a
// paper sign-in sheet with explicit times and a reason.

import { t, $, api, el, failed, busy, bindLogout, fmtNumber, fmtHours, emptyState, lang, categoryName } from './common.js';
import {
  statusBadge, attendanceStatuses, noCheckoutWhy, sources, fmtWindow, atTime, clock, day, localInput, fromLocalInput, duration, countedMinutes,
  readEventForm, fillEventForm, fillCategories,
} from './events-common.js';
import { startScanner } from './qr-scan.js';

bindLogout();

const id = $('event-page').dataset.eventId;
const base = `/api/v1/events/${encodeURIComponent(id)}`;
let event = null;
let attendances = [];
let inlineRow = null; // the open inline form's row in the attendance table

// ---- The event ----

function showEvent(ev) {
  event = ev;
  document.title = ev.title + ' · ' + document.title.split(' · ').pop();
  $('ev-title').textContent = ev.title;
  $('ev-status').replaceChildren(statusBadge(ev.status, ev.over));
  $('ev-sub').textContent = [fmtWindow(ev.starts_at, ev.ends_at), ev.place, categoryName(ev.category), ev.unit_name].filter(Boolean).join(' · ');
  $('ev-contact').hidden = !ev.contact;
  $('ev-contact').textContent = t('js.events.contact', ev.contact ?? '');
  $('ev-description').hidden = !ev.description;
  $('ev-description').textContent = ev.description ?? '';
  $('count-in').textContent = fmtNumber(ev.checked_in);
  $('count-out').textContent = fmtNumber(ev.checked_out);
  $('ev-rule').textContent = [t('js.events.rule', ev.points_per_hour), ev.max_minutes ? t('js.events.rule_max', duration(ev.max_minutes)) : '']
    .filter(Boolean).join(' · ');
  $('ev-facts').textContent = [ev.capacity ? t('js.events.capacity', ev.capacity) : t('js.events.no_capacity'),
    ev.review_required ? t('js.events.review_required') : t('js.events.no_review')].join(' · ');

  const s = ev.status;
  $('edit').hidden = s === 'finalised' || s === 'cancelled';
  $('to-open').hidden = s !== 'draft' && s !== 'finished';
  $('to-open').textContent = s === 'finished' ? t('js.events.reopen') : t('js.events.start_checkin');
  $('to-finished').hidden = s !== 'open';
  $('to-cancelled').hidden = s !== 'draft' && s !== 'open';
  $('finalize').hidden = !['open', 'finished', 'finalised'].includes(s);
  $('checkout-all').hidden = !['open', 'finished'].includes(s) || !ev.checked_in;
  $('finalize').textContent = s === 'finalised' ? t('js.events.finalize_again') : t('js.events.finalize');
  // Once its time is over nobody checks in: no code, camera or adding by name.
  const scanning = s === 'open' && !ev.over;
  $('open-display').hidden = !(s === 'draft' || scanning);
  $('scanner').hidden = !scanning;
  if (!scanning && stopScanner) $('scan-stop').click();
  $('by-name').hidden = !scanning;
  $('backfill').hidden = s !== 'open' && s !== 'finished';
  $('review-hint').hidden = !ev.review_required;
  if (!$('bf-in').value) {
    // A back-filled check-out may not lie in the future.
    $('bf-in').value = localInput(ev.starts_at);
    $('bf-out').value = localInput(Math.max(new Date(ev.starts_at).getTime(), Math.min(Date.now(), new Date(ev.ends_at).getTime())));
  }
}

// confirmThen asks in the page (no dialog box) before doing work.
let confirmed = null;
function confirmThen(text, yes, work) {
  $('confirm-text').textContent = text;
  $('confirm-yes').textContent = yes;
  $('confirm').hidden = false;
  confirmed = work;
  $('confirm-yes').focus();
}
$('confirm-no').addEventListener('click', () => {
  $('confirm').hidden = true;
  confirmed = null;
});
$('confirm-yes').addEventListener('click', async () => {
  const work = confirmed;
  $('confirm').hidden = true;
  confirmed = null;
  await work?.();
});

async function setStatus(status) {
  $('status-msg').textContent = '';
  try {
    showEvent(await api('POST', `${base}/status`, { status }));
    await refresh();
  } catch (err) {
    failed($('status-msg'), err);
  }
}
$('to-open').addEventListener('click', () => setStatus('open'));
// Ending check-in while people are in: once it has ended they can no longer scan out.
$('to-finished').addEventListener('click', () => {
  if (!event.checked_in) {
    setStatus('finished');
    return;
  }
  confirmThen(t('js.events.finish_confirm', event.checked_in), t('js.events.finish_yes'), () => setStatus('finished'));
});
$('to-cancelled').addEventListener('click', () =>
  confirmThen(t('js.events.cancel_confirm', event.title), t('js.events.cancel_yes'), () => setStatus('cancelled')));

function showFinalized(r) {
  $('fin-nothing').hidden = r.posted > 0;
  $('fin-posted').textContent = fmtNumber(r.posted);
  $('fin-points').textContent = fmtNumber(r.points);
  $('fin-hours').textContent = fmtHours(r.minutes);
  $('fin-open').hidden = !r.no_checkout;
  $('fin-open').textContent = t('js.events.fin_no_checkout', r.no_checkout);
  $('fin-review').hidden = !r.pending_review;
  $('fin-review').textContent = t('js.events.fin_pending_review', r.pending_review);
  $('finalize-result').hidden = false;
  $('finalize-result').scrollIntoView({ block: 'nearest' });
}

$('finalize').addEventListener('click', () => {
  const open = attendances.filter((a) => a.status === 'open').length;
  const pending = event.review_required ? attendances.filter((a) => a.status === 'closed' && !awaitsTime(a)).length : 0;
  const parts = [t('js.events.finalize_confirm')];
  // While it runs, or people are still in, the server asks for this confirmation too.
  if (new Date(event.ends_at) > Date.now() && event.status !== 'finalised') parts.push(t('js.events.finalize_running', clock(event.ends_at)));
  if (open) parts.push(t('js.events.finalize_open', open));
  if (pending) parts.push(t('js.events.finalize_pending', pending));
  confirmThen(parts.join(lang === 'en' ? ' ' : ''), t('js.events.finalize_yes'), async () => {
    $('status-msg').textContent = '';
    try {
      showFinalized(await api('POST', `${base}/finalize`, { confirm: true }));
      await refresh();
    } catch (err) {
      failed($('status-msg'), err);
    }
  });
});

// Check everyone out at once: at the event's end (once it has come) or now, one reason for all.
$('checkout-all').addEventListener('click', () => {
  const f = $('checkout-all-form');
  const ended = new Date(event.ends_at) <= Date.now();
  f.elements.at.value = ended ? 'end' : 'now';
  $('ca-end').disabled = !ended;
  $('ca-end-hint').hidden = ended;
  $('ca-count').textContent = t('js.events.checkout_all_count', event.checked_in);
  $('checkout-all-box').hidden = false;
  f.elements.reason.focus();
});
$('ca-cancel').addEventListener('click', () => {
  $('checkout-all-box').hidden = true;
});
$('checkout-all-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = ev.currentTarget;
  const msg = $('ca-msg');
  msg.className = 'msg';
  msg.textContent = '';
  const reason = f.elements.reason.value.trim();
  if (!reason) {
    msg.textContent = t('js.events.need_reason');
    return;
  }
  await busy(f, async () => {
    try {
      const r = await api('POST', `${base}/checkout-all`, { at: f.elements.at.value, reason });
      $('checkout-all-box').hidden = true;
      f.elements.reason.value = '';
      $('status-msg').className = 'msg ok';
      $('status-msg').textContent = t('js.events.checked_out_all', r.checked_out);
      await refresh();
    } catch (err) {
      failed(msg, err);
    }
  });
});

// ---- Editing, and the record of edits ----

const editForm = $('edit-form');
$('edit').addEventListener('click', () => {
  fillEventForm(editForm, event);
  $('edit-msg').textContent = '';
  $('edit-box').hidden = false;
  $('e-title').focus();
});
$('edit-cancel').addEventListener('click', () => {
  $('edit-box').hidden = true;
});
editForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const msg = $('edit-msg');
  const { body, problem, field } = readEventForm(editForm);
  if (problem) {
    msg.textContent = problem;
    field?.focus();
    return;
  }
  // Only what changed: a time the field shows to the minute is unchanged if its minute is.
  const patch = {};
  for (const [k, v] of Object.entries(body)) {
    const was = event[k] ?? (typeof v === 'number' ? 0 : typeof v === 'boolean' ? false : '');
    const same = k === 'starts_at' || k === 'ends_at' ? localInput(v) === localInput(was) : v === was;
    if (!same) patch[k] = v;
  }
  if (!Object.keys(patch).length) {
    msg.textContent = t('js.events.nothing_changed');
    return;
  }
  msg.textContent = '';
  await busy(editForm, async () => {
    try {
      showEvent(await api('PATCH', base, patch));
      $('edit-box').hidden = true;
      $('status-msg').className = 'msg ok';
      $('status-msg').textContent = t('js.events.saved');
      await Promise.all([refresh(), loadChanges()]);
    } catch (err) {
      failed(msg, err);
    }
  });
});

// A field's value as the record of edits shows it.
function shown(field, v) {
  if (field === 'starts_at' || field === 'ends_at') return `${day(v)} ${clock(v)}`;
  if (field === 'review_required') return v === 'true' ? t('js.events.review_required') : t('js.events.no_review');
  if ((field === 'capacity' || field === 'max_minutes') && v === '0') return t('js.events.unlimited');
  return v === '' ? t('js.events.empty_value') : v;
}

async function loadChanges() {
  try {
    const { changes } = await api('GET', `${base}/changes`);
    $('history').hidden = !changes.length;
    $('changes').replaceChildren(...changes.map((c) => el('li', {},
      el('div', { class: 'hint small' }, `${day(c.at)} ${clock(c.at)} · ${c.by_name}`),
      el('ul', {}, c.fields.map((f) => el('li', {},
        el('strong', {}, t('js.events.field.' + f.field)), ' ', shown(f.field, f.old), ' → ', shown(f.field, f.new)))))));
  } catch (err) {
    failed($('att-msg'), err);
  }
}

// ---- The attendance table ----

function closeInline() {
  inlineRow?.remove();
  inlineRow = null;
}

// inline opens a small form under an attendance's row.
function inline(tr, form) {
  closeInline();
  inlineRow = el('tr', { class: 'inline-row' }, el('td', { colSpan: 10 }, form));
  tr.after(inlineRow);
  form.querySelector('input')?.focus();
}

function inlineForm(fields, submitText, submit) {
  const msg = el('p', { class: 'msg', role: 'alert' });
  const form = el('form', { class: 'row-form', novalidate: true },
    ...fields,
    el('div', { class: 'form-buttons' },
      el('button', { type: 'submit', class: 'primary' }, submitText),
      el('button', { type: 'button', onclick: closeInline }, t('js.events.cancel'))),
    msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    await busy(form, async () => {
      try {
        const problem = await submit(form);
        if (problem) {
          msg.textContent = problem;
          return;
        }
        closeInline();
        await refresh();
      } catch (err) {
        failed(msg, err);
      }
    });
  });
  return form;
}

const field = (label, input) => el('div', { class: 'field' }, el('label', { for: input.id }, label), input);
const reasonInput = (placeholder) => el('input', { id: 'row-reason', name: 'reason', maxlength: '200', placeholder });

// awaitsTime: a 未签退 attendance (closed by rule, no one checked out) that has no check-out time yet.
const awaitsTime = (a) => a.status === 'closed' && a.no_checkout && !a.checked_out_at;

function closeForm(a) {
  // A 未签退 attendance may count up to its latest_out (the end, or when it was closed), no further.
  const latest = awaitsTime(a) ? new Date(a.latest_out).getTime() : new Date(event.ends_at).getTime();
  const end = Math.min(Date.now(), latest);
  const at = el('input', { id: 'row-at', name: 'at', type: 'datetime-local', value: localInput(Math.max(end, new Date(a.checked_in_at).getTime())),
    max: localInput(latest) });
  return inlineForm([
    field(t('js.events.close_at'), at),
    awaitsTime(a) ? el('p', { class: 'hint small' }, t('js.events.no_checkout_latest', atTime(a.latest_out, event.starts_at))) : null,
    field(t('js.events.reason'), reasonInput(t('js.events.close_reason_placeholder'))),
  ], t('js.events.close_submit'), async (f) => {
    let out = fromLocalInput(f.elements.at.value);
    const reason = f.elements.reason.value.trim();
    if (!out) return t('js.events.need_time');
    // The field has whole minutes: the minute of the latest time a 未签退 may
    // count to means that time, and the minute of the check-in the check-in's time.
    if (awaitsTime(a) && localInput(out) === localInput(a.latest_out)) out = a.latest_out;
    const gap = new Date(a.checked_in_at) - new Date(out);
    if (gap > 0 && gap < 60000) out = a.checked_in_at;
    if (!reason) return t('js.events.need_reason');
    await api('POST', `/api/v1/attendances/${a.id}/close`, { checked_out_at: out, reason });
  });
}

function adjustForm(a, posted = false) {
  const minutes = el('input', { id: 'row-minutes', name: 'minutes', type: 'number', min: '0', step: '1', inputmode: 'numeric', value: String(countedMinutes(a)) });
  return inlineForm([
    field(t('js.events.adjust_minutes'), minutes),
    field(t('js.events.reason'), reasonInput(t('js.events.adjust_reason_placeholder'))),
    posted ? el('p', { class: 'hint small' }, t('js.events.correct_hint')) : null,
  ], posted ? t('js.events.correct_submit') : t('js.events.adjust_submit'), async (f) => {
    const m = Number(f.elements.minutes.value);
    const reason = f.elements.reason.value.trim();
    if (f.elements.minutes.value.trim() === '' || !Number.isInteger(m) || m < 0) return t('js.events.need_minutes');
    if (!reason) return t('js.events.need_reason');
    await api('POST', `/api/v1/attendances/${a.id}/review`, { decision: 'adjust', minutes: m, reason });
  });
}

function rejectForm(a, posted = false) {
  return inlineForm([
    field(t('js.events.reason'), reasonInput(t('js.events.reject_reason_placeholder'))),
    posted ? el('p', { class: 'hint small' }, t('js.events.revoke_hint')) : null,
  ], posted ? t('js.events.revoke_submit') : t('js.events.reject_submit'), async (f) => {
    const reason = f.elements.reason.value.trim();
    if (!reason) return t('js.events.need_reason');
    await api('POST', `/api/v1/attendances/${a.id}/review`, { decision: 'reject', reason });
  });
}

async function confirmAttendance(a, button) {
  button.disabled = true;
  try {
    await api('POST', `/api/v1/attendances/${a.id}/review`, { decision: 'confirm' });
    await refresh();
  } catch (err) {
    failed($('att-msg'), err);
    button.disabled = false;
  }
}

function actions(a, tr) {
  const out = [];
  const small = (text, onclick, cls = '') => el('button', { type: 'button', class: 'small ' + cls, onclick }, text);
  if (a.status === 'open') {
    out.push(small(t('js.events.close'), () => inline(tr, closeForm(a))));
  }
  if (awaitsTime(a)) {
    // 未签退: what it is worth is the organiser's decision.
    out.push(small(t('js.events.give_time'), () => inline(tr, closeForm(a)), 'primary'));
    out.push(small(t('js.events.not_count'), () => inline(tr, rejectForm(a))));
    return el('div', { class: 'row-actions' }, out);
  }
  if (a.status === 'posted') {
    // A correction after posting: the posted entry is reversed and the new time posted.
    out.push(small(t('js.events.correct'), () => inline(tr, adjustForm(a, true))));
    out.push(small(t('js.events.revoke'), () => inline(tr, rejectForm(a, true))));
  }
  if (event.review_required && ['closed', 'confirmed', 'rejected'].includes(a.status)) {
    if (a.status !== 'confirmed' || a.adjusted_minutes != null) {
      out.push(small(t('js.events.confirm'), (ev) => confirmAttendance(a, ev.currentTarget), 'primary'));
    }
    out.push(small(t('js.events.adjust'), () => inline(tr, adjustForm(a))));
    if (a.status !== 'rejected') out.push(small(t('js.events.reject'), () => inline(tr, rejectForm(a))));
  }
  return el('div', { class: 'row-actions' }, out);
}

function attRow(a) {
  const done = a.status !== 'open' && !awaitsTime(a);
  const adjusted = a.adjusted_minutes != null && a.adjusted_minutes !== a.minutes;
  const tr = el('tr', { dataset: { attendanceId: a.id, memberId: a.member_id, status: a.status } });
  tr.append(
    el('td', { class: 'strong' }, a.member_name || '—'),
    el('td', { class: 'nowrap mono' }, a.member_phone),
    el('td', { class: 'nowrap' }, atTime(a.checked_in_at, event.starts_at)),
    el('td', { class: 'nowrap' }, done ? atTime(a.checked_out_at, event.starts_at) : '—',
      awaitsTime(a) ? el('div', { class: 'hint small' }, t('js.events.latest_out', atTime(a.latest_out, event.starts_at))) : null),
    el('td', { class: 'num nowrap' }, done ? duration(countedMinutes(a)) : '',
      adjusted ? el('div', { class: 'hint small' }, t('js.events.was', duration(a.minutes))) : null),
    el('td', { class: 'num' }, done && a.status !== 'rejected' ? fmtNumber(a.points) : ''),
    el('td', {}, awaitsTime(a)
      ? el('span', { class: 'att-status att-no-checkout', title: noCheckoutWhy(a.rule_closed) }, t('js.events.att.no_checkout'))
      : el('span', { class: 'att-status att-' + a.status }, attendanceStatuses[a.status] ?? a.status),
    a.no_checkout && !awaitsTime(a) ? el('span', { class: 'hint small was-no-checkout', title: noCheckoutWhy(a.rule_closed) }, t('js.events.att.was_no_checkout')) : null),
    el('td', { class: 'nowrap' }, el('span', { class: 'source source-' + a.source }, sources[a.source] ?? a.source)),
    el('td', { class: 'reason' }, a.reason || (a.no_checkout ? noCheckoutWhy(a.rule_closed) : '')),
    el('td', { class: 'nowrap' }),
  );
  tr.lastChild.append(actions(a, tr));
  return tr;
}

function showAttendance() {
  const out = $('attendance');
  $('att-count').textContent = attendances.length ? t('js.events.att_count', attendances.length) : '';
  if (!attendances.length) {
    out.replaceChildren(emptyState(event.status === 'open' ? t('js.events.no_attendance_open') : t('js.events.no_attendance')));
    return;
  }
  out.replaceChildren(el('div', { class: 'table-wrap', tabindex: '0' }, el('table', { id: 'attendance-table' },
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, t('js.events.col.member')),
      el('th', { scope: 'col' }, t('js.events.col.phone')),
      el('th', { scope: 'col' }, t('js.events.col.in')),
      el('th', { scope: 'col' }, t('js.events.col.out')),
      el('th', { scope: 'col', class: 'num' }, t('js.events.col.minutes')),
      el('th', { scope: 'col', class: 'num' }, t('js.events.col.points')),
      el('th', { scope: 'col' }, t('js.events.col.status')),
      el('th', { scope: 'col' }, t('js.events.col.source')),
      el('th', { scope: 'col' }, t('js.events.col.reason')),
      el('th', { scope: 'col' }, ''),
    )),
    el('tbody', {}, attendances.map(attRow)),
  )));
}

// refresh loads the event and its attendance again. The table is not
// redrawn under an open inline form.
async function refresh() {
  try {
    const [ev, { attendances: list }] = await Promise.all([api('GET', base), api('GET', `${base}/attendance`)]);
    attendances = list;
    showEvent(ev);
    if (!inlineRow) showAttendance();
    $('att-msg').textContent = '';
  } catch (err) {
    failed($('att-msg'), err);
  }
}

// ---- Checking people in and out ----

const isOpenHere = (memberId) => attendances.some((a) => a.member_id === memberId && a.status === 'open');
const nameOf = (attendanceId) => attendances.find((a) => a.id === attendanceId)?.member_name ?? '';

// record posts an organiser's check-in or check-out and answers the API's
// {action, event, attendance}.
const record = (body) => api('POST', `${base}/attendance`, body);

// describe says what a check-in or check-out did, naming the member.
function describe(r, name) {
  const a = r.attendance;
  if (r.action === 'out' && r.repeated) return t('js.events.did_out_already', name);
  if (r.action === 'out') return t('js.events.did_out', name, duration(a.minutes));
  if (r.action === 'no_checkout') return t('js.events.did_no_checkout', name);
  if (r.repeated) return t('js.events.did_in_already', name, clock(a.checked_in_at));
  return t('js.events.did_in', name, clock(a.checked_in_at));
}

// The camera.
const scanResult = $('scan-result');
let stopScanner = null;
let lastCode = '';
let lastSeen = 0;
let scanning = false;

function scanSays(text, ok) {
  scanResult.className = 'scan-result ' + (ok ? 'good' : 'bad');
  scanResult.textContent = (ok ? '✓ ' : '✗ ') + text;
}

// scanCard checks the member of a card in; if they are in already, out. A
// card shown again soon after is the same check-in (or check-out) again.
async function scanCard(code) {
  const r = await record({ member_code: code, action: 'toggle' });
  await refresh();
  scanSays(describe(r, nameOf(r.attendance.id)), true);
}

// onFrame takes what the camera read. A card is acted on once while it
// stays in front of the camera: it is read again only after it has been out
// of sight for a few seconds.
async function onFrame(codes) {
  const code = codes.map((c) => c.trim()).find(Boolean);
  if (!code) return;
  const now = Date.now();
  const same = code === lastCode && now - lastSeen < 3000;
  lastCode = code;
  lastSeen = now;
  if (same || scanning) return;
  if (!/^AXM1/i.test(code)) {
    scanSays(t('js.events.not_a_card'), false);
    return;
  }
  scanning = true;
  scanResult.className = 'scan-result';
  scanResult.textContent = t('js.events.scan_working');
  try {
    await scanCard(code);
  } catch (err) {
    if (err?.status === 401) failed(scanResult, err);
    else scanSays(err?.message ?? String(err), false);
  } finally {
    scanning = false;
    lastSeen = Date.now();
  }
}

$('scan-start').addEventListener('click', async () => {
  $('scan-start').disabled = true;
  scanResult.className = 'scan-result';
  scanResult.textContent = t('js.events.camera_starting');
  $('scan-view').hidden = false;
  try {
    stopScanner = await startScanner($('scan-video'), onFrame);
    scanResult.textContent = t('js.events.camera_ready');
    $('scan-start').hidden = true;
    $('scan-stop').hidden = false;
  } catch (err) {
    $('scan-view').hidden = true;
    const name = err?.name;
    let why = t('js.events.camera_failed');
    if (name === 'NotAllowedError') why = t('js.events.camera_refused');
    else if (name === 'NotFoundError' || !navigator.mediaDevices) why = t('js.events.camera_missing');
    scanSays(why, false);
  } finally {
    $('scan-start').disabled = false;
  }
});
$('scan-stop').addEventListener('click', () => {
  stopScanner?.();
  stopScanner = null;
  $('scan-view').hidden = true;
  $('scan-stop').hidden = true;
  $('scan-start').hidden = false;
  scanResult.textContent = '';
});

// memberPicker searches the members in scope as the organiser types, and
// draws each one found with render(member).
function memberPicker(input, list, render, msg) {
  let timer = 0;
  let seq = 0;
  async function search() {
    const q = input.value.trim();
    const mine = ++seq;
    if (!q) {
      list.replaceChildren();
      return;
    }
    try {
      const { members } = await api('GET', '/api/v1/members?' + new URLSearchParams({ q, limit: 8, status: 'active' }));
      if (mine !== seq) return;
      list.replaceChildren(...(members.length ? members.map(render) : [el('li', { class: 'none' }, t('js.events.no_match'))]));
    } catch (err) {
      failed(msg, err);
    }
  }
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(search, 250);
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      clearTimeout(timer);
      search();
    }
  });
  return { search };
}

const who = (m) => el('span', { class: 'who' }, el('strong', {}, m.name), ' ', el('span', { class: 'hint small mono' }, m.phone),
  m.unit_name ? el('span', { class: 'hint small' }, ' · ' + m.unit_name) : null);

// Add by name.
const byName = memberPicker($('name-q'), $('name-results'), (m) => {
  const inHere = isOpenHere(m.id);
  return el('li', { dataset: { memberId: m.id } }, who(m),
    el('button', {
      type: 'button', class: 'small ' + (inHere ? '' : 'primary'),
      onclick: async (ev) => {
        const msg = $('name-msg');
        ev.currentTarget.disabled = true;
        msg.className = 'msg';
        try {
          const r = await record({ member_id: m.id, action: inHere ? 'out' : 'in' });
          await refresh();
          msg.className = 'msg ok';
          msg.textContent = describe(r, m.name);
        } catch (err) {
          failed(msg, err);
        }
        await byName.search();
      },
    }, inHere ? t('js.events.check_out') : t('js.events.check_in')));
}, $('name-msg'));

// Back-filling.
const bf = $('backfill-form');
function choose(m) {
  $('bf-member').value = m?.id ?? '';
  $('bf-q').value = '';
  $('bf-chosen').hidden = !m;
  $('bf-q').hidden = !!m;
  $('bf-results').replaceChildren();
  if (m) {
    $('bf-chosen').replaceChildren(who(m), ' ',
      el('button', { type: 'button', class: 'small quiet', onclick: () => { choose(null); $('bf-q').focus(); } }, t('js.events.change')));
  }
}
// A click anywhere on a found person's row chooses them, as its button does.
memberPicker($('bf-q'), $('bf-results'), (m) => el('li', { dataset: { memberId: m.id }, class: 'pickable', onclick: () => choose(m) }, who(m),
  el('button', { type: 'button', class: 'small', onclick: (ev) => { ev.stopPropagation(); choose(m); } }, t('js.events.choose_member'))), $('bf-msg'));

bf.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const msg = $('bf-msg');
  msg.className = 'msg';
  msg.textContent = '';
  const f = bf.elements;
  const body = {
    member_id: f.member_id.value, action: 'backfill',
    checked_in_at: fromLocalInput(f.checked_in_at.value), checked_out_at: fromLocalInput(f.checked_out_at.value),
    reason: f.reason.value.trim(),
  };
  if (!body.member_id) msg.textContent = t('js.events.need_member');
  else if (!body.checked_in_at || !body.checked_out_at) msg.textContent = t('js.events.need_times');
  else if (new Date(body.checked_out_at) <= new Date(body.checked_in_at)) msg.textContent = t('js.events.out_before_in');
  else if (!body.reason) msg.textContent = t('js.events.need_reason');
  if (msg.textContent) return;
  await busy(bf, async () => {
    try {
      const r = await record(body);
      await refresh();
      msg.className = 'msg ok';
      msg.textContent = t('js.events.did_backfill', nameOf(r.attendance.id), duration(r.attendance.minutes), r.attendance.points);
      choose(null);
      f.reason.value = '';
    } catch (err) {
      failed(msg, err);
    }
  });
});

// ---- Start, and keep the counts and the table fresh ----

api('GET', '/api/v1/categories').then(({ categories }) => fillCategories(editForm.category, categories), (err) => failed($('att-msg'), err));
await Promise.all([refresh(), loadChanges()]);
setInterval(() => {
  if (!document.hidden && !inlineRow && !scanning) refresh();
}, 5000);
