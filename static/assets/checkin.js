// /c/{token}: a scanned event code. Posts the code once and says what
// happened, large enough to read at arm's length: checked in at a time (or
// already checked in, for the same code scanned again), or checked out with
// the time served and the points waiting for confirmation; or why not, and
// what to do next.

import { t, $, api, ApiError } from './common.js';

const box = $('checkin');
const zone = 'Asia/Shanghai';
const lang = document.documentElement.lang;
const hhmm = (iso) => new Date(iso).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: zone });
const dayOf = (iso) => new Date(iso).toLocaleDateString(lang, { month: 'long', day: 'numeric', weekday: 'short', timeZone: zone });

function state(kind, mark) {
  box.classList.remove('ok', 'bad', 'again');
  box.classList.add(kind);
  $('mark').textContent = mark;
}

async function checkin() {
  const body = { code: box.dataset.token };
  if (box.dataset.ticket) {
    body.seen = Number(box.dataset.seen);
    body.ticket = box.dataset.ticket;
  }
  try {
    const r = await api('POST', '/api/v1/checkins', body);
    const e = r.event;
    const a = r.attendance;
    $('event-title').textContent = e.title;
    $('event-when').textContent = [`${dayOf(e.starts_at)} ${hhmm(e.starts_at)}–${hhmm(e.ends_at)}`, e.place].filter(Boolean).join(' · ');
    if (r.action === 'in') {
      const again = r.repeated === true; // the same check-in, scanned again
      state(again ? 'again' : 'ok', '✓');
      $('result').textContent = t('js.checkin.in', hhmm(a.checked_in_at));
      $('detail').textContent = again ? t('js.checkin.in_again') : t('js.checkin.in_hint');
      $('next').textContent = again ? t('js.checkin.in_hint') : '';
    } else {
      state('ok', '✓');
      const h = Math.floor(a.minutes / 60), m = a.minutes % 60;
      $('result').textContent = t('js.checkin.out', h, m);
      $('detail').textContent = t('js.checkin.out_points', a.points);
      $('next').textContent = e.review_required ? t('js.checkin.after_review') : t('js.checkin.after_finalise');
    }
  } catch (e) {
    state('bad', '!');
    $('result').textContent = e instanceof ApiError ? e.message : t('js.checkin.failed');
    $('detail').textContent = '';
    // A bad or expired code's message says to scan again; anything else, ask the staff.
    $('next').textContent = e instanceof ApiError && (e.status === 410 || e.status === 400) ? '' : t('js.checkin.ask_staff');
    if (e instanceof ApiError && e.status === 401) {
      // The session ended between the page and the scan: log in and come back.
      $('next').textContent = t('js.checkin.login_again');
    }
  }
}

checkin();
