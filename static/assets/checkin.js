// /c/{token}: a scanned event code. Posts the code once and says what
// happened: checked in at a time, or checked out with the time served and
// the points waiting for confirmation; or why not, and what to do.

import { t, $, api, ApiError } from './common.js';

const box = $('checkin');
const hhmm = (iso) => new Date(iso).toLocaleTimeString(document.documentElement.lang, { hour: '2-digit', minute: '2-digit', hour12: false });

async function checkin() {
  const body = { code: box.dataset.token };
  if (box.dataset.ticket) {
    body.seen = Number(box.dataset.seen);
    body.ticket = box.dataset.ticket;
  }
  try {
    const r = await api('POST', '/api/v1/checkins', body);
    $('event-title').textContent = r.event.title;
    const a = r.attendance;
    box.classList.add('ok');
    if (r.action === 'in') {
      $('result').textContent = t('js.checkin.in', hhmm(a.checked_in_at));
      $('detail').textContent = t('js.checkin.in_hint');
    } else {
      const h = Math.floor(a.minutes / 60), m = a.minutes % 60;
      $('result').textContent = t('js.checkin.out', h, m);
      $('detail').textContent = t('js.checkin.out_points', a.points);
    }
  } catch (e) {
    box.classList.add('bad');
    $('result').textContent = e instanceof ApiError ? e.message : t('js.checkin.failed');
    $('detail').textContent = e instanceof ApiError && e.status === 410 ? t('js.checkin.rescan') : '';
  }
}

checkin();
