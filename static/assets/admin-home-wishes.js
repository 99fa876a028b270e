// /admin/: the dashboard's wishes (微心愿) of the month chosen at its top:
// open on the wall and in hand now, confirmed in the month (实现), and the
// month's fulfilment rate (实现率: of the wishes published in the month,
// the share confirmed by now). The figures come with the dashboard's
// (GET /api/v1/dashboard, shared by the page's own script in memory on
// the server).

import { t, $, api, failed, fmtNumber } from './common.js';

async function loadWishes() {
  const month = $('dash-month').value;
  if (!/^\d{4}-\d{2}$/.test(month)) return;
  try {
    const d = await api('GET', '/api/v1/dashboard?' + new URLSearchParams({ month }));
    const w = d.wishes;
    if (!w) return;
    $('dw-open').textContent = fmtNumber(w.open);
    $('dw-in-hand').textContent = fmtNumber(w.in_hand);
    $('dw-waiting').textContent = w.waiting ? t('js.wishes.dash.waiting', w.waiting) : '';
    $('dw-confirmed').textContent = fmtNumber(w.confirmed);
    $('dw-points').textContent = w.confirmed ? t('js.wishes.dash.points', fmtNumber(w.points)) : '';
    $('dw-rate').textContent = w.rate_known ? w.rate_pct + '%' : '—';
    $('dw-rate-of').textContent = w.rate_known ? t('js.wishes.dash.rate_of', w.published, w.rate_done) : t('js.wishes.dash.rate_none');
  } catch (err) {
    failed($('dash-msg'), err);
  }
}

// showWishes fills the wishes' figures now and for every month chosen.
export function showWishes() {
  if (!$('dash-wishes')) return;
  $('dash-month').addEventListener('change', loadWishes);
  loadWishes();
}
