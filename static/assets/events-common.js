// What the event pages share: the names of event and attendance statuses,
// times in the deployment's zone for datetime-local fields and back, and an
// event's time window as people read it.

import { t, el, lang, categoryName } from './common.js';

// zone is the deployment's time zone: the API's times are shown in it and
// the times typed into the forms are taken in it.
export const zone = 'Asia/Shanghai';

export const eventStatuses = {
  draft: t('js.events.status.draft'),
  open: t('js.events.status.open'),
  finished: t('js.events.status.finished'),
  finalised: t('js.events.status.finalised'),
  cancelled: t('js.events.status.cancelled'),
};

export const attendanceStatuses = {
  open: t('js.events.att.open'),
  closed: t('js.events.att.closed'),
  confirmed: t('js.events.att.confirmed'),
  rejected: t('js.events.att.rejected'),
  posted: t('js.events.att.posted'),
};

// noCheckoutWhy says why an attendance was closed as 未签退 (rule_closed).
export const noCheckoutWhy = (why) => t('js.events.no_checkout_why.' + why);

export const sources = {
  scan: t('js.events.source.scan'),
  organizer: t('js.events.source.organizer'),
  backfill: t('js.events.source.backfill'),
};

// statusBadge is an event's status as a coloured label; an open event whose
// time is over (over) shows as ended and waiting to be finalised.
export function statusBadge(status, over = false) {
  if (status === 'open' && over) return el('span', { class: 'ev-status ev-finished' }, t('js.events.status.over'));
  return el('span', { class: 'ev-status ev-' + status }, eventStatuses[status] ?? status);
}

const partsFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
});
const clockFormat = new Intl.DateTimeFormat(lang, { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const dayFormat = new Intl.DateTimeFormat(lang, { timeZone: zone, year: 'numeric', month: 'long', day: 'numeric', weekday: 'short' });
const shortDayFormat = new Intl.DateTimeFormat(lang, { timeZone: zone, month: 'numeric', day: 'numeric' });

// localInput is the value of a datetime-local field for a time (an RFC 3339
// string, a Date or milliseconds) in the deployment's zone.
export function localInput(time) {
  const p = Object.fromEntries(partsFormat.formatToParts(new Date(time)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

// offsetMinutes is the zone's offset from UTC at a moment, in minutes east.
function offsetMinutes(date) {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
    .formatToParts(date).find((x) => x.type === 'timeZoneName')?.value ?? '';
  const m = /([+-])(\d{2}):?(\d{2})/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

// fromLocalInput turns a datetime-local value, taken in the deployment's
// zone, into RFC 3339 with the zone's offset; '' if the value is not a time.
export function fromLocalInput(value) {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(value ?? '');
  if (!m) return '';
  const guess = new Date(`${m[1]}T${m[2]}:00Z`);
  let off = offsetMinutes(guess);
  off = offsetMinutes(new Date(guess.getTime() - off * 60000));
  const a = Math.abs(off);
  const pad = (n) => String(n).padStart(2, '0');
  return `${m[1]}T${m[2]}:00${off < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

const monthDayFormat = new Intl.DateTimeFormat(lang, { timeZone: zone, month: 'long', day: 'numeric' });
const yearFormat = new Intl.DateTimeFormat('en', { timeZone: zone, year: 'numeric' });

// shortDay shows a day without its weekday, and without its year when it is this year's.
export function shortDay(s) {
  if (!s) return '';
  const d = new Date(s);
  return yearFormat.format(d) === yearFormat.format(new Date()) ? monthDayFormat.format(d) : dayFormat.format(d);
}

// clock shows only the hours and minutes of a time; day the date with the weekday.
export const clock = (s) => (s ? clockFormat.format(new Date(s)) : '');
export const day = (s) => (s ? dayFormat.format(new Date(s)) : '');

const sameDay = (a, b) => localInput(a).slice(0, 10) === localInput(b).slice(0, 10);

// fmtWindow shows an event's time: the day once and the hours, or both
// days when it runs past midnight.
export function fmtWindow(start, end) {
  if (sameDay(start, end)) return `${day(start)} ${clock(start)}–${clock(end)}`;
  return `${day(start)} ${clock(start)} – ${day(end)} ${clock(end)}`;
}

// atTime shows a time of an event's attendance: the hours when it is on
// the event's first day, with the day before them when not.
export function atTime(s, eventStart) {
  if (!s) return '';
  return sameDay(s, eventStart) ? clock(s) : `${shortDayFormat.format(new Date(s))} ${clock(s)}`;
}

// duration writes minutes as hours and minutes: 2 小时 15 分钟.
export function duration(minutes) {
  const m = Math.max(0, Math.round(minutes ?? 0));
  const h = Math.floor(m / 60);
  if (!h) return t('js.events.minutes', m);
  if (!(m % 60)) return t('js.events.hours_only', h);
  return t('js.events.hours_minutes', h, m % 60);
}

// countedMinutes is what an attendance counts: the review's adjustment if any.
export const countedMinutes = (a) => a.adjusted_minutes ?? a.minutes ?? 0;

// readEventForm reads the fields of an event (templates/event_form.html)
// into a request body, or says what is missing: {body} or {problem, field}.
export function readEventForm(form) {
  const f = form.elements;
  const title = f.title.value.trim();
  if (!title) return { problem: t('js.events.need_title'), field: f.title };
  if (!f.category.value) return { problem: t('js.events.need_category'), field: f.category };
  const starts = fromLocalInput(f.starts_at.value), ends = fromLocalInput(f.ends_at.value);
  if (!starts) return { problem: t('js.events.need_start'), field: f.starts_at };
  if (!ends) return { problem: t('js.events.need_end'), field: f.ends_at };
  if (new Date(ends) <= new Date(starts)) return { problem: t('js.events.end_before_start'), field: f.ends_at };
  const num = (v) => (v.trim() === '' ? 0 : Number(v));
  const body = {
    title, category: f.category.value, place: f.place.value.trim(), description: f.description.value.trim(), contact: f.contact.value.trim(),
    starts_at: starts, ends_at: ends,
    points_per_hour: num(f.points_per_hour.value), max_minutes: num(f.max_minutes.value), capacity: num(f.capacity.value),
    review_required: f.review_required.checked,
  };
  for (const k of ['points_per_hour', 'max_minutes', 'capacity']) {
    if (!Number.isInteger(body[k]) || body[k] < 0) return { problem: t('js.events.need_whole_number'), field: f[k] };
  }
  // Left empty, the rate is the default (10); typed, it must be one a point at least.
  if (f.points_per_hour.value.trim() !== '' && body.points_per_hour < 1) return { problem: t('js.events.need_rate'), field: f.points_per_hour };
  return { body };
}

// fillEventForm puts event ev into the fields, its times moved by shift
// milliseconds (a week, for a copy of last week's event).
export function fillEventForm(form, ev, shift = 0) {
  const f = form.elements;
  f.title.value = ev.title;
  f.category.value = ev.category;
  f.place.value = ev.place ?? '';
  f.description.value = ev.description ?? '';
  f.contact.value = ev.contact ?? '';
  f.starts_at.value = localInput(new Date(ev.starts_at).getTime() + shift);
  f.ends_at.value = localInput(new Date(ev.ends_at).getTime() + shift);
  f.points_per_hour.value = String(ev.points_per_hour);
  f.max_minutes.value = ev.max_minutes ? String(ev.max_minutes) : '';
  f.capacity.value = ev.capacity ? String(ev.capacity) : '';
  f.review_required.checked = !!ev.review_required;
}

// fillCategories puts the service categories into a select.
export function fillCategories(select, categories) {
  select.replaceChildren(el('option', { value: '' }, t('js.events.choose')), ...categories.map((c) => el('option', { value: c }, categoryName(c))));
}

// week is seven days in milliseconds: a copy of an event is next week's by default.
export const week = 7 * 24 * 3600e3;
