// /m/vouchers: the volunteer's vouchers, open ones first, with their status,
// a link to the QR and a way to cancel one that is still open.

import { t, $, api, el, failed, href, fmtTime, fmtNumber, emptyState } from './common.js';
import { householdChip, linesText, presenceText, proxyChip, statusChip } from './shop-common.js';

const root = $('m-vouchers');
const out = $('vouchers');

function card(v) {
  const open = v.status === 'open';
  const cancel = open
    ? el('button', { type: 'button', class: 'small quiet', onclick: (ev) => ask(ev.currentTarget, v) }, t('js.shop.m.cancel'))
    : null;
  return el('article', { class: 'card voucher vs-card-' + v.status, dataset: { voucher: v.id, status: v.status } },
    el('div', { class: 'voucher-head' }, el('strong', {}, v.shop_name, ' ', proxyChip(v), ' ', householdChip(v)), statusChip(v.status)),
    el('p', { class: 'voucher-lines' }, linesText(v.lines)),
    el('p', { class: 'voucher-facts' },
      el('strong', {}, t('js.shop.points', fmtNumber(v.points))),
      ' · ',
      open ? t('js.shop.m.expires', fmtTime(v.expires_at))
        : v.status === 'redeemed' ? t('js.shop.m.redeemed_at', fmtTime(v.closed_at))
        : v.status === 'reversed' ? t('js.shop.m.reversed_at', fmtTime(v.reversed_at))
        : t('js.shop.m.closed_at', fmtTime(v.closed_at || v.expires_at))),
    v.presence && v.presence !== 'self' ? el('p', { class: 'voucher-facts' }, presenceText(v)) : null,
    el('div', { class: 'actions' },
      open ? el('a', { class: 'button primary', href: href('/m/vouchers/' + v.id) }, t('js.shop.m.show_qr')) : null,
      cancel),
    el('p', { class: 'msg', role: 'alert' }));
}

// ask turns the cancel button into a question with yes and no.
function ask(button, v) {
  const box = button.parentElement;
  const msg = box.nextElementSibling;
  const yes = el('button', { type: 'button', class: 'small primary', onclick: async () => {
    yes.disabled = true;
    try {
      await api('POST', `/api/v1/vouchers/${v.id}/cancel`);
      await load();
    } catch (err) {
      failed(msg, err);
      yes.disabled = false;
    }
  } }, t('js.shop.m.cancel_yes'));
  const no = el('button', { type: 'button', class: 'small', onclick: () => load() }, t('js.shop.m.cancel_no'));
  box.replaceChildren(el('span', { class: 'ask' }, t('js.shop.m.cancel_ask', fmtNumber(v.points))), yes, no);
}

const order = { open: 0, redeemed: 1, reversed: 2, expired: 3, cancelled: 4 };

async function load() {
  try {
    const { vouchers } = await api('GET', '/api/v1/vouchers');
    const list = [...(vouchers ?? [])].sort((a, b) =>
      (order[a.status] ?? 9) - (order[b.status] ?? 9) || (a.created_at < b.created_at ? 1 : -1));
    out.replaceChildren(...(list.length ? list.map(card)
      : [emptyState(t('js.shop.m.no_vouchers'), el('a', { class: 'button primary', href: href('/m/shop') }, t('js.shop.m.go_shop')))]));
    $('vouchers-msg').textContent = '';
  } catch (err) {
    failed($('vouchers-msg'), err);
  }
}

if (root?.dataset.memberId) load();
