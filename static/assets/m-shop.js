// /m/shop: the catalogue of the shops that take the volunteer's vouchers,
// with points prices, what they can still afford, quantity steppers and
// the exchange, which holds the points on a voucher and opens its QR. At a
// shop that accepts household points an adult of a household chooses whose
// points pay: their own (用个人积分) or the household's (用家庭积分).

import { t, $, api, el, failed, href, fmtNumber, emptyState } from './common.js';
import { apiWithKey, shopKinds, uuidv7 } from './shop-common.js';
import { householdName, memberHousehold } from './households-common.js';

const root = $('m-shop');
const memberId = root?.dataset.memberId;
let shops = [];
let shop = null;
let items = [];
let available = 0; // what the chosen account has available
let own = 0; // the member's own available points
let home = null; // the member's household, if any
let payFrom = 'own'; // or 'household'
const availableLabel = $('available-label')?.textContent; // 可用积分, when there is no choice
const basket = new Map(); // item id -> qty
let key = null; // the idempotency key of the exchange under way

const total = () => items.reduce((sum, it) => sum + (basket.get(it.id) ?? 0) * it.points, 0);

// leftThisMonth is how many more of a limited item the member may have this month.
const leftThisMonth = (it) => (it.monthly_limit > 0 ? Math.max(0, it.monthly_limit - (it.taken_this_month ?? 0)) : Infinity);

// limitOf is the most of an item one voucher can hold: the stock, and what
// the member's monthly limit leaves if the item has one.
const limitOf = (it) => Math.min(it.available, leftThisMonth(it));

function renderBasket() {
  const sum = total();
  const count = [...basket.values()].reduce((a, b) => a + b, 0);
  $('basket').hidden = count === 0;
  document.body.classList.toggle('with-basket', count > 0);
  $('basket-count').textContent = t('js.shop.m.basket', count);
  $('basket-total').textContent = t('js.shop.m.basket_total', fmtNumber(sum), fmtNumber(available));
  $('basket-total').className = sum > available ? 'bad' : '';
  $('exchange').disabled = count === 0 || sum > available;
  for (const it of items) {
    const row = document.querySelector(`li[data-item="${it.id}"]`);
    if (!row) continue;
    const q = basket.get(it.id) ?? 0;
    row.querySelector('.qty').textContent = String(q);
    row.querySelector('.minus').disabled = q === 0;
    row.querySelector('.plus').disabled = q >= limitOf(it) || sum + it.points > available;
    row.classList.toggle('picked', q > 0);
  }
}

function step(it, d) {
  const q = Math.max(0, Math.min(limitOf(it), (basket.get(it.id) ?? 0) + d));
  if (q === 0) basket.delete(it.id);
  else basket.set(it.id, q);
  key = null;
  $('basket-msg').textContent = '';
  renderBasket();
}

function renderItems() {
  const list = $('items');
  const shown = items.filter((it) => it.active);
  if (!shown.length) {
    list.replaceChildren(el('li', {}, emptyState(t('js.shop.m.no_items'))));
    return;
  }
  list.replaceChildren(...shown.map((it) => {
    const used = leftThisMonth(it) <= 0;
    const out = it.available <= 0 || used;
    const afford = it.points <= available;
    return el('li', { class: 'item' + (out ? ' out' : ''), dataset: { item: it.id } },
      it.picture_url ? el('img', { class: 'item-thumb', src: it.picture_url, alt: '', loading: 'lazy' }) : null,
      el('div', { class: 'item-main' },
        el('span', { class: 'item-name' }, it.name),
        el('span', { class: 'item-price' }, t('js.shop.points', fmtNumber(it.points))),
        el('span', { class: 'item-facts hint' },
          it.available <= 0 ? t('js.shop.m.sold_out') : t('js.shop.m.in_stock', it.available),
          it.monthly_limit > 0 ? ' · ' + (used ? t('js.shop.m.limit_used', it.monthly_limit)
            : it.taken_this_month ? t('js.shop.m.limit_left', it.monthly_limit, leftThisMonth(it)) : t('js.shop.m.limit', it.monthly_limit)) : '',
          !out && !afford ? ' · ' + t('js.shop.m.cannot_afford') : '')),
      el('div', { class: 'stepper' },
        el('button', { type: 'button', class: 'minus', 'aria-label': t('js.shop.m.less', it.name), onclick: () => step(it, -1) }, '−'),
        el('span', { class: 'qty', 'aria-live': 'polite' }, '0'),
        el('button', { type: 'button', class: 'plus', 'aria-label': t('js.shop.m.more', it.name), disabled: out, onclick: () => step(it, 1) }, '+')));
  }));
  renderBasket();
}

// showPayFrom offers the choice of whose points pay where it is open to
// the member: an adult of a household, at a shop that accepts household
// points. Elsewhere their own points pay.
function showPayFrom() {
  const open = !!(shop?.households && home?.may_spend);
  $('pay-from').hidden = !open;
  if (!open) payFrom = 'own';
  for (const r of document.querySelectorAll('input[name=pay-from]')) r.checked = r.value === payFrom;
  $('pay-own-pts').textContent = t('js.shop.points', fmtNumber(own));
  if (home) {
    $('pay-hh-pts').textContent = t('js.shop.points', fmtNumber(home.available));
    $('pay-hh-who').textContent = householdName(home);
  }
  available = payFrom === 'household' ? home.available : own;
  $('available-label').textContent = !open ? availableLabel : payFrom === 'household' ? t('js.household.shop_available') : t('js.household.shop_own_available');
  $('available').textContent = t('js.shop.points', fmtNumber(available));
  $('available').closest('.balance-strip')?.classList.toggle('hh-strip', payFrom === 'household');
}

for (const r of document.querySelectorAll('input[name=pay-from]')) {
  r.addEventListener('change', () => {
    payFrom = r.value;
    key = null;
    showPayFrom();
    $('basket-msg').textContent = '';
    if (shop) renderItems();
  });
}

async function loadShop(s) {
  shop = s;
  basket.clear();
  key = null;
  showPayFrom();
  $('shop-h').textContent = s.name;
  $('shop-sub').textContent = [shopKinds[s.kind] ?? s.kind, s.unit_name].filter(Boolean).join(' · ');
  try {
    items = (await api('GET', `/api/v1/shops/${s.id}/items`)).items ?? [];
    renderItems();
  } catch (err) {
    failed($('shop-msg'), err);
  }
}

async function loadBalance() {
  const [b, h] = await Promise.all([api('GET', `/api/v1/members/${memberId}/balance`), memberHousehold(api, memberId)]);
  own = b.available ?? 0;
  home = h;
  showPayFrom();
}

async function init() {
  try {
    await loadBalance();
    shops = (await api('GET', '/api/v1/shops')).shops ?? [];
  } catch (err) {
    failed($('shop-msg'), err);
    return;
  }
  if (!shops.length) {
    $('items').replaceChildren(el('li', {}, emptyState(t('js.shop.m.no_shops'))));
    return;
  }
  if (shops.length > 1) {
    $('shop-pick').hidden = false;
    $('shop-select').replaceChildren(...shops.map((s) => el('option', { value: s.id }, s.name)));
    $('shop-select').addEventListener('change', (ev) => loadShop(shops.find((s) => s.id === ev.target.value)));
  }
  await loadShop(shops[0]);
}

$('exchange')?.addEventListener('click', async () => {
  const lines = [...basket].map(([item_id, qty]) => ({ item_id, qty }));
  if (!lines.length || !shop) return;
  key ??= uuidv7();
  const button = $('exchange');
  button.disabled = true;
  $('basket-msg').textContent = t('js.shop.m.exchanging');
  $('basket-msg').className = 'msg';
  try {
    const body = { shop_id: shop.id, items: lines };
    if (payFrom === 'household' && home) body.household_id = home.id;
    const v = await apiWithKey('POST', '/api/v1/vouchers', body, key);
    location.assign(href('/m/vouchers/' + v.id));
  } catch (err) {
    $('basket-msg').className = 'msg bad';
    if (err.status !== 0) key = null; // a network failure keeps the key for the next try
    failed($('basket-msg'), err);
    button.disabled = false;
    if (err.status === 409) {
      // Stock or points changed meanwhile: show the catalogue as it is now.
      await loadBalance().catch(() => {});
      const kept = new Map(basket);
      await loadShop(shop);
      for (const [id, q] of kept) basket.set(id, q);
      renderBasket();
      $('basket-msg').className = 'msg bad';
      $('basket-msg').textContent = err.message;
    }
  }
});

if (memberId) init();
