// /m/vouchers/{id}: the voucher's QR full screen on a white page, with the
// short code under it, the items and the expiry. The screen is kept awake
// where the browser allows it; when the clerk has redeemed the voucher the
// page says so within a few seconds.

import { t, $, api, failed, fmtTime, fmtNumber } from './common.js';
import { groupCode, householdChip, lineItems, presenceText, proxyChip, statusChip } from './shop-common.js';

const id = $('voucher').dataset.voucherId;
let timer = 0;
let lock = null;

async function keepAwake() {
  try {
    lock = await navigator.wakeLock?.request('screen');
  } catch {
    lock = null;
  }
}

function render(v) {
  $('v-shop').textContent = v.shop_name;
  $('v-code').textContent = groupCode(v.code);
  $('v-status').replaceChildren(statusChip(v.status), ' ', proxyChip(v) ?? '', ' ', householdChip(v) ?? '');
  $('v-how').textContent = v.presence && v.presence !== 'self' ? presenceText(v) : '';
  $('v-lines').replaceChildren(...lineItems(v.lines));
  $('v-points').textContent = t('js.shop.points', fmtNumber(v.points));
  $('v-expires').textContent = t('js.shop.m.expires', fmtTime(v.expires_at));
  const open = v.status === 'open';
  $('v-qr-off').hidden = open;
  document.body.classList.toggle('closed', !open);
  if (!open) {
    $('v-qr-off-text').textContent = v.status === 'redeemed'
      ? t('js.shop.m.redeemed_at', fmtTime(v.closed_at))
      : v.status === 'reversed' ? t('js.shop.m.reversed_at', fmtTime(v.reversed_at))
      : statusChip(v.status).textContent;
    clearInterval(timer);
    lock?.release?.();
  }
}

async function load() {
  try {
    render(await api('GET', '/api/v1/vouchers/' + id));
    $('v-msg').textContent = '';
  } catch (err) {
    failed($('v-msg'), err);
  }
}

$('v-qr').addEventListener('error', () => {
  $('v-qr').hidden = true;
  $('v-msg').textContent = t('js.shop.m.qr_failed');
});

load();
keepAwake();
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && !document.body.classList.contains('closed')) keepAwake();
});
timer = setInterval(load, 5000);
