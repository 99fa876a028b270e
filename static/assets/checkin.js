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

async function checkin(endOther = false) {
  const body = { code: box.dataset.token };
  if (box.dataset.ticket) {
    body.seen = Number(box.dataset.seen);
    body.ticket = box.dataset.ticket;
  }
  if (endOther) body.end_other = true;
  $('end-other').hidden = true;
  try {
    const r = await api('POST', '/api/v1/checkins', body);
    const e = r.event;
    const a = r.attendance;
    $('event-title').textContent = e.title;
    $('event-when').textContent = [`${dayOf(e.starts_at)} ${hhmm(e.starts_at)}–${hhmm(e.ends_at)}`, e.place].filter(Boolean).join(' · ');
    const closed = r.closed_elsewhere ? t('js.checkin.closed_elsewhere', r.closed_elsewhere.event_title, hhmm(r.closed_elsewhere.checked_in_at)) : '';
    if (r.action === 'in') {
      const again = r.repeated === true; // the same check-in, scanned again
      state(again ? 'again' : 'ok', '✓');
      $('result').textContent = t('js.checkin.in', hhmm(a.checked_in_at));
      $('detail').textContent = again ? t('js.checkin.in_again') : t('js.checkin.in_hint');
      $('next').textContent = [again ? t('js.checkin.in_hint') : '', closed].filter(Boolean).join(' ');
    } else if (r.action === 'no_checkout') {
      state('again', '!');
      $('result').textContent = t('js.checkin.no_checkout');
      $('detail').textContent = t('js.checkin.no_checkout_detail');
      $('next').textContent = t('js.checkin.ask_staff');
    } else {
      state(r.repeated ? 'again' : 'ok', '✓');
      const h = Math.floor(a.minutes / 60), m = a.minutes % 60;
      // 服务 8 分钟 / 2 小时 / 2 小时 15 分钟: no "0 小时".
      const served = !h ? t('js.checkin.served_m', m) : !m ? t('js.checkin.served_h', h) : t('js.checkin.served_hm', h, m);
      $('result').textContent = t('js.checkin.out', served);
      $('detail').textContent = r.repeated ? t('js.checkin.out_again') : t('js.checkin.out_points', a.points);
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
    if (e instanceof ApiError && e.status === 409 && e.error.can_end) {
      // Checked in at another event that still runs: the volunteer may end it here.
      $('detail').textContent = t('js.checkin.end_other_hint', e.error.other_event ?? '');
      $('next').textContent = '';
      $('end-other').hidden = false;
    }
  }
}

$('end-other').addEventListener('click', () => checkin(true));
checkin();
