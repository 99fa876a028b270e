// What the shop pages share: voucher statuses, how the member was there
// (代兑) and shop kinds in the page's language, the short code's check character (the same rule as the server,
// so that a slip of the finger is caught before any lookup), UUIDv7
// idempotency keys, and API calls that carry one.

import { t, api, ApiError, lang, el, fmtNumber } from './common.js';

export const voucherStatuses = {
  open: t('js.shop.status.open'),
  redeemed: t('js.shop.status.redeemed'),
  cancelled: t('js.shop.status.cancelled'),
  expired: t('js.shop.status.expired'),
  reversed: t('js.shop.status.reversed'),
};

// presenceText says how the member was there when the voucher was made: by
// themself, or by whom on their card, their password, or as 代兑 (proxy)
// without either. Vouchers made before this was recorded say nothing.
export function presenceText(v) {
  const who = v.created_by_name || '—';
  switch (v.presence) {
    case 'self':
      return t('js.shop.presence.self');
    case 'card':
      return t('js.shop.presence.card_by', who);
    case 'password':
      return t('js.shop.presence.password_by', who);
    case 'proxy':
      return t('js.shop.presence.proxy_by', who);
  }
  return '';
}

// proxyChip marks a 代兑 voucher wherever vouchers are listed.
export const proxyChip = (v) => (v.presence === 'proxy' ? el('span', { class: 'proxy-chip' }, t('js.shop.presence.proxy')) : null);

// householdChip marks a voucher paid from a household's points (家庭积分).
export const householdChip = (v) => (v.household_id ? el('span', { class: 'proxy-chip household-chip' }, t('js.household.paid_by_household')) : null);

export const shopKinds = {
  love_supermarket: t('js.shop.kind.love_supermarket'),
  civility_bank: t('js.shop.kind.civility_bank'),
};

export const redeemScopes = {
  street: t('js.shop.scope.street'),
  community: t('js.shop.scope.community'),
  all: t('js.shop.scope.all'),
};

// statusChip is a voucher's status as a coloured chip.
export const statusChip = (status) => el('span', { class: 'vstatus vs-' + status }, voucherStatuses[status] ?? status);

// Crockford's base32 alphabet; the first 9 characters of a short code come
// from its first 31, the 10th is Σ (i+1)·value mod 31.
const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

// normalizeCode reads a typed short code as the server does: any case,
// spaces and dashes left out, O read as 0 and I, L as 1.
export function normalizeCode(s) {
  return String(s ?? '')
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
}

// codeOK says whether a normalised short code has 10 characters and a right check character.
export function codeOK(code) {
  if (!/^[0-9A-HJKMNP-TV-Z]{10}$/.test(code) || code.slice(0, 9).includes('Z')) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (i + 1) * alphabet.indexOf(code[i]);
  return alphabet[sum % 31] === code[9];
}

// groupCode writes a short code in two groups of five, as the slip prints it.
export const groupCode = (code) => (code ? code.slice(0, 5) + ' ' + code.slice(5) : '');

// uuidv7 makes an idempotency key: a 48-bit millisecond time, then random
// bits, so that keys made later sort later where the store keeps them.
export function uuidv7() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// apiWithKey is api() for a write that moves points: it sends key as the
// Idempotency-Key header. A network failure is an ApiError with status 0;
// the caller retries with the same key.
export async function apiWithKey(method, path, body, key) {
  const url = new URL(path, location.origin);
  url.searchParams.set('lang', lang);
  let res;
  try {
    res = await fetch(url, {
      method,
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'Idempotency-Key': key },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError(t('js.network_error'), 0);
  }
  let data = null;
  if ((res.headers.get('Content-Type') ?? '').includes('application/json')) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  if (!res.ok) throw new ApiError(data?.error?.message ?? t('js.http_error', res.status), res.status, data?.error);
  return data;
}

// linesText is a voucher's items in one line: 大米 ×2、食用油 ×1.
export const linesText = (lines) => (lines ?? []).map((l) => t('js.shop.line', l.name, l.qty)).join(t('js.shop.line_sep'));

// lineItems lists a voucher's items with their points.
export function lineItems(lines) {
  return (lines ?? []).map((l) =>
    el('li', {}, el('span', { class: 'ln-name' }, l.name), ' ', el('span', { class: 'ln-qty' }, '×' + l.qty), ' ',
      el('span', { class: 'ln-pts' }, t('js.shop.points', fmtNumber(l.points * l.qty)))));
}

// loadShops returns the shops the caller may see.
export async function loadShops() {
  const { shops } = await api('GET', '/api/v1/shops');
  return shops ?? [];
}
