// /admin/vouchers/{id}/slip: the printable slip of a voucher issued for a
// member without a phone: the QR, the short code, the items, the points, the
// member (masked), the expiry and how the member was there. A 代兑 (proxy)
// voucher, made without the member's card or password, prints a signature
// line for whoever receives the goods and the organiser who made it. The paper (A4, A5 or a 58 mm receipt) is
// chosen with ?paper= and laid out by @media print; a receipt's length is
// measured here, so a thermal printer feeds no more paper than it prints.

import { t, $, api, failed, href, fmtTime, fmtNumber, el } from './common.js';
import { groupCode, presenceText, statusChip } from './shop-common.js';

const id = $('slip').dataset.voucherId;

$('print').addEventListener('click', () => window.print());

try {
  const v = await api('GET', '/api/v1/vouchers/' + id);
  $('s-shop').textContent = v.shop_name;
  $('s-code').textContent = groupCode(v.code);
  $('s-member').textContent = v.member_name;
  $('s-points').textContent = t('js.shop.points', fmtNumber(v.points));
  $('s-expires').textContent = fmtTime(v.expires_at);
  $('s-status').replaceChildren(statusChip(v.status));
  // A proxy voucher says so in its signature block; any other says how the member confirmed.
  const how = v.proxy ? '' : presenceText(v);
  $('s-how-box').hidden = !how;
  $('s-how').textContent = how;
  $('s-sign').hidden = !v.proxy;
  $('slip').classList.toggle('has-sign', Boolean(v.proxy));
  $('s-handler').textContent = v.created_by_name ?? '';
  $('s-lines').replaceChildren(...(v.lines ?? []).map((l) => el('tr', {},
    el('td', {}, l.name), el('td', { class: 'num' }, '×' + l.qty), el('td', { class: 'num' }, fmtNumber(l.points * l.qty)))));
  $('slip-back').href = href('/admin/shops/' + v.shop_id);
  if (document.body.classList.contains('paper-58mm')) fitReceipt();
} catch (err) {
  failed($('s-msg'), err);
}

// fitReceipt sets the receipt page's length to the slip's, in whole
// millimetres and a little over: the screen layout has the wider padding,
// so the printed slip is never longer than what is measured here.
async function fitReceipt() {
  await Promise.all([document.fonts.ready, $('s-qr').decode().catch(() => {})]);
  const mm = Math.ceil($('slip').getBoundingClientRect().height * 25.4 / 96) + 4;
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(`@page receipt { size: 58mm ${mm}mm; margin: 0; }`);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  document.body.dataset.receiptLength = String(mm);
}
