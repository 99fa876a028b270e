// What the event pages share: the names of event and attendance statuses,
// times in the deployment's zone for datetime-local fields and back, and an
// event's time window as people read it.

import { t, el, lang } from './common.js';

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

// statusBadge is an event's status as a coloured label.
export function statusBadge(status) {
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
