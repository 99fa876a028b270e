// /admin/shops/{id}: one shop's catalogue and stock. Organisers add items,
// record donated goods coming in (with donor and note) and stocktake
// corrections (with a reason), see stock on hand, reserved by open vouchers
// and available, change an item (name, price, limit, on/off sale, picture),
// and issue a voucher for a member without a phone, with a link to its
// printable slip: the member shows they are there by their card QR (read
// with the computer's camera) or their password, or else the organiser
// chooses 代兑 and the slip is signed for. Below, the shop's redemptions of
// a day or a month (a mistaken one can be reversed, with a reason) and the
// month's goods in with their donors.

import { t, $, api, el, failed, busy, bindLogout, href, fmtNumber, fmtTime, maskPhone, emptyState } from './common.js';
import { apiWithKey, groupCode, householdChip, linesText, presenceText, redeemScopes, shopKinds, statusChip, uuidv7 } from './shop-common.js';
import { startScanner } from './qr-scan.js';
import { householdName, memberHousehold } from './households-common.js';

bindLogout();

const shopId = $('shop-page').dataset.shopId;
let items = [];
let shop = null;
let openRow = null; // the item id whose stock form is open

async function loadShop() {
  const { shops } = await api('GET', '/api/v1/shops');
  shop = (shops ?? []).find((s) => s.id === shopId) ?? null;
  if (!shop) return;
  $('shop-title').textContent = shop.name;
  $('shop-sub').textContent = [shopKinds[shop.kind], shop.unit_name, t('js.shop.a.takes', redeemScopes[shop.redeem_scope] ?? shop.redeem_scope)]
    .filter(Boolean).join(' · ');
  if (shop.redeemed_points !== undefined) {
    $('st-redeemed-box').hidden = false;
    $('st-redeemed').textContent = fmtNumber(shop.redeemed_points);
  }
  $('shop-households').checked = !!shop.households;
}

// Whether the shop accepts household points (一家亲积分超市), saved at once.
$('shop-households').addEventListener('change', async (ev) => {
  const box = ev.target;
  const msg = $('shop-households-msg');
  msg.className = 'msg';
  msg.textContent = '';
  box.disabled = true;
  try {
    shop = { ...shop, ...(await api('PATCH', `/api/v1/shops/${shopId}`, { households: box.checked })) };
    msg.className = 'msg ok';
    msg.textContent = shop.households ? t('js.household.shop_on') : t('js.household.shop_off');
    showIssuePayFrom();
  } catch (err) {
    box.checked = !box.checked;
    failed(msg, err);
  } finally {
    box.disabled = false;
  }
});

// stockForm is the inline form under an item's row: kind intake (qty > 0,
// donor, note) or correction (qty ± with a reason).
function stockForm(it, kind) {
  const msg = el('p', { class: 'msg', role: 'alert' });
  const qty = el('input', { id: 'sf-qty', name: 'qty', type: 'number', required: true, step: '1', ...(kind === 'intake' ? { min: '1' } : {}) });
  const donor = kind === 'intake' ? el('input', { id: 'sf-donor', name: 'donor', maxlength: '64', placeholder: t('js.shop.a.donor_placeholder') }) : null;
  const note = el('input', { id: 'sf-note', name: 'note', maxlength: '200', placeholder: kind === 'intake' ? t('js.shop.a.note_placeholder') : t('js.shop.a.reason_placeholder') });
  const form = el('form', { class: 'inline-form stock-form', novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    const n = Number(qty.value);
    if (!Number.isInteger(n) || n === 0 || (kind === 'intake' && n < 0)) {
      msg.textContent = t('js.shop.a.qty_invalid');
      qty.focus();
      return;
    }
    if (kind === 'correction' && !note.value.trim()) {
      msg.textContent = t('js.shop.a.reason_required');
      note.focus();
      return;
    }
    await busy(form, async () => {
      try {
        await api('POST', `/api/v1/items/${it.id}/stock`, { kind, qty: n, donor: donor?.value.trim() || undefined, note: note.value.trim() || undefined });
        openRow = null;
        await loadItems();
        $('items-msg').className = 'msg ok';
        $('items-msg').textContent = kind === 'intake' ? t('js.shop.a.intake_ok', it.name, n) : t('js.shop.a.correction_ok', it.name, n > 0 ? '+' + n : n);
      } catch (err) {
        failed(msg, err);
      }
    });
  } },
  el('h3', {}, kind === 'intake' ? t('js.shop.a.intake_title', it.name) : t('js.shop.a.correction_title', it.name)),
  el('div', { class: 'fields-row' },
    el('div', { class: 'field' }, el('label', { for: 'sf-qty' }, kind === 'intake' ? t('js.shop.a.qty_in') : t('js.shop.a.qty_change')), qty),
    donor ? el('div', { class: 'field' }, el('label', { for: 'sf-donor' }, t('js.shop.a.donor')), donor) : null,
    el('div', { class: 'field grow' }, el('label', { for: 'sf-note' }, kind === 'intake' ? t('js.shop.a.note') : t('js.shop.a.reason')), note)),
  el('div', { class: 'actions' },
    el('button', { type: 'submit', class: 'primary' }, t('js.shop.a.save')),
    el('button', { type: 'button', onclick: () => { openRow = null; renderItems(); } }, t('js.shop.a.close'))),
  msg);
  setTimeout(() => qty.focus(), 0);
  return form;
}

// maxPicture is the largest picture the server takes (512 KiB).
const maxPicture = 512 << 10;

// editForm is the inline form that changes an item: its name, price,
// monthly limit, whether it is offered, and its picture. Open vouchers keep
// the price they were made with.
function editForm(it) {
  const msg = el('p', { class: 'msg', role: 'alert' });
  const name = el('input', { id: 'ef-name', name: 'name', maxlength: '64', required: true, value: it.name });
  const points = el('input', { id: 'ef-points', name: 'points', type: 'number', min: '1', max: '100000', required: true, value: String(it.points) });
  const limit = el('input', { id: 'ef-limit', name: 'monthly_limit', type: 'number', min: '0', max: '1000', value: it.monthly_limit ? String(it.monthly_limit) : '', placeholder: t('js.shop.a.limit_none') });
  const active = el('input', { id: 'ef-active', name: 'active', type: 'checkbox', checked: it.active });
  const file = el('input', { id: 'ef-picture', name: 'file', type: 'file', accept: 'image/png,image/jpeg,image/webp' });
  const form = el('form', { class: 'inline-form edit-form', novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    msg.className = 'msg';
    const n = Number(points.value);
    const lim = Number(limit.value || 0);
    if (!name.value.trim()) {
      msg.textContent = t('js.shop.a.item_name_required');
      name.focus();
      return;
    }
    if (!Number.isInteger(n) || n < 1 || n > 100000) {
      msg.textContent = t('js.shop.a.points_invalid');
      points.focus();
      return;
    }
    if (!Number.isInteger(lim) || lim < 0 || lim > 1000) {
      msg.textContent = t('js.shop.a.limit_invalid');
      limit.focus();
      return;
    }
    const pic = file.files[0];
    if (pic && pic.size > maxPicture) {
      msg.textContent = t('js.shop.a.picture_too_big', Math.round(pic.size / 1024), maxPicture >> 10);
      file.focus();
      return;
    }
    await busy(form, async () => {
      try {
        await api('PATCH', `/api/v1/items/${it.id}`, { name: name.value.trim(), points: n, monthly_limit: lim, active: active.checked });
        if (pic) {
          const body = new FormData();
          body.append('file', pic);
          await api('POST', `/api/v1/items/${it.id}/picture`, body);
        }
        openRow = null;
        await loadItems();
        $('items-msg').className = 'msg ok';
        $('items-msg').textContent = t('js.shop.a.edit_ok', name.value.trim());
      } catch (err) {
        failed(msg, err);
      }
    });
  } },
  el('h3', {}, t('js.shop.a.edit_title', it.name)),
  el('div', { class: 'fields-row' },
    el('div', { class: 'field grow' }, el('label', { for: 'ef-name' }, t('js.shop.a.item_name')), name),
    el('div', { class: 'field' }, el('label', { for: 'ef-points' }, t('js.shop.a.item_points')), points),
    el('div', { class: 'field' }, el('label', { for: 'ef-limit' }, t('js.shop.a.item_limit')), limit),
    el('div', { class: 'field check' }, el('label', { for: 'ef-active' }, active, ' ', t('js.shop.a.offered')))),
  el('div', { class: 'fields-row' },
    it.picture_url ? el('img', { class: 'item-thumb large', src: it.picture_url, alt: t('js.shop.a.picture_of', it.name) }) : null,
    el('div', { class: 'field grow' }, el('label', { for: 'ef-picture' }, it.picture_url ? t('js.shop.a.picture_replace') : t('js.shop.a.picture')), file,
      el('span', { class: 'hint' }, t('js.shop.a.picture_hint', maxPicture >> 10)))),
  el('p', { class: 'hint' }, t('js.shop.a.edit_hint')),
  el('div', { class: 'actions' },
    el('button', { type: 'submit', class: 'primary' }, t('js.shop.a.save')),
    el('button', { type: 'button', onclick: () => { openRow = null; renderItems(); } }, t('js.shop.a.close'))),
  msg);
  setTimeout(() => name.focus(), 0);
  return form;
}

function renderItems() {
  const out = $('items');
  $('st-items').textContent = fmtNumber(items.length);
  $('st-on-hand').textContent = fmtNumber(items.reduce((s, it) => s + it.on_hand, 0));
  $('st-reserved').textContent = fmtNumber(items.reduce((s, it) => s + it.reserved, 0));
  if (!items.length) {
    out.replaceChildren(emptyState(t('js.shop.a.no_items')));
    renderIssue();
    return;
  }
  const rows = [];
  for (const it of items) {
    rows.push(el('tr', { dataset: { item: it.id }, class: it.active ? '' : 'disabled' },
      el('td', { class: 'strong' }, el('span', { class: 'item-cell' },
        it.picture_url ? el('img', { class: 'item-thumb', src: it.picture_url, alt: '', loading: 'lazy' }) : null, it.name)),
      el('td', { class: 'num points' }, fmtNumber(it.points)),
      el('td', { class: 'num' }, it.monthly_limit > 0 ? String(it.monthly_limit) : '—'),
      el('td', { class: 'num on-hand' }, fmtNumber(it.on_hand)),
      el('td', { class: 'num reserved' }, fmtNumber(it.reserved)),
      el('td', { class: 'num available' }, fmtNumber(it.available)),
      el('td', {}, it.active ? t('js.shop.a.active') : t('js.shop.a.inactive')),
      el('td', { class: 'row-actions' },
        el('button', { type: 'button', class: 'small', onclick: () => { openRow = it.id + ':intake'; renderItems(); } }, t('js.shop.a.intake')),
        el('button', { type: 'button', class: 'small quiet', onclick: () => { openRow = it.id + ':edit'; renderItems(); } }, t('js.shop.a.edit')),
        el('button', { type: 'button', class: 'small quiet', onclick: () => { openRow = it.id + ':correction'; renderItems(); } }, t('js.shop.a.correction')))));
    if (openRow?.startsWith(it.id + ':')) {
      const kind = openRow.split(':')[1];
      rows.push(el('tr', { class: 'inline-row' }, el('td', { colspan: '8' }, kind === 'edit' ? editForm(it) : stockForm(it, kind))));
    }
  }
  out.replaceChildren(el('div', { class: 'table-wrap', tabindex: '0' }, el('table', { id: 'items-table' },
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, t('js.shop.a.item')),
      el('th', { scope: 'col', class: 'num' }, t('js.shop.a.points')),
      el('th', { scope: 'col', class: 'num' }, t('js.shop.a.limit')),
      el('th', { scope: 'col', class: 'num' }, t('js.shop.a.on_hand')),
      el('th', { scope: 'col', class: 'num' }, t('js.shop.a.reserved')),
      el('th', { scope: 'col', class: 'num' }, t('js.shop.a.available')),
      el('th', { scope: 'col' }, t('js.shop.a.state')),
      el('th', { scope: 'col' }, ''))),
    el('tbody', {}, rows))));
  renderIssue();
}

async function loadItems() {
  try {
    items = (await api('GET', `/api/v1/shops/${shopId}/items`)).items ?? [];
    renderItems();
  } catch (err) {
    failed($('items-msg'), err);
  }
}

// ---- new item --------------------------------------------------------------

const form = $('item-form');
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const msg = $('item-form-msg');
  msg.className = 'msg';
  msg.textContent = '';
  const points = Number(form.points.value);
  if (!form.name.value.trim()) {
    msg.textContent = t('js.shop.a.item_name_required');
    form.name.focus();
    return;
  }
  if (!Number.isInteger(points) || points < 1) {
    msg.textContent = t('js.shop.a.points_invalid');
    form.points.focus();
    return;
  }
  await busy(form, async () => {
    try {
      const it = await api('POST', `/api/v1/shops/${shopId}/items`, {
        name: form.name.value.trim(),
        points,
        stock: Number(form.stock.value || 0),
        monthly_limit: Number(form.monthly_limit.value || 0),
      });
      form.reset();
      form.stock.value = '0';
      msg.className = 'msg ok';
      msg.textContent = t('js.shop.a.item_ok', it.name);
      await loadItems();
    } catch (err) {
      failed(msg, err);
    }
  });
});

// ---- issue a voucher for a member -----------------------------------------

let member = null;
const want = new Map(); // item id -> qty
let issueKey = null;

function renderIssue() {
  const box = $('iv-lines');
  const active = items.filter((it) => it.active && it.available > 0);
  box.replaceChildren(...active.map((it) => {
    const input = el('input', { type: 'number', min: '0', max: String(it.available), value: String(want.get(it.id) ?? 0), id: 'iv-qty-' + it.id,
      oninput: (ev) => {
        const n = Math.max(0, Math.min(it.available, Math.floor(Number(ev.target.value) || 0)));
        if (n) want.set(it.id, n);
        else want.delete(it.id);
        issueKey = null;
        issueTotal();
      } });
    return el('div', { class: 'iv-line' }, el('label', { for: 'iv-qty-' + it.id }, it.name, el('span', { class: 'hint' }, ' ' + t('js.shop.points', fmtNumber(it.points)))), input);
  }));
  issueTotal();
}

// ivPayFrom is whose points the voucher for the member is paid from: 'own'
// or, at a shop that accepts them, their household's when they are an adult of it.
let ivPayFrom = 'own';

function showIssuePayFrom() {
  const me = member?.home?.members.find((m) => m.member_id === member.id);
  const open = !!(shop?.households && member?.home && me && !me.minor);
  $('iv-pay-from').hidden = !open;
  if (!open) ivPayFrom = 'own';
  for (const r of document.querySelectorAll('input[name=iv-pay-from]')) r.checked = r.value === ivPayFrom;
  if (open) {
    $('iv-own-pts').textContent = member.own !== undefined ? t('js.shop.points', fmtNumber(member.own)) : '';
    $('iv-hh-pts').textContent = t('js.shop.points', fmtNumber(member.home.available));
    $('iv-hh-who').textContent = householdName(member.home);
  }
  if (member) member.available = ivPayFrom === 'household' ? member.home.available : member.own;
  issueTotal();
}

for (const r of document.querySelectorAll('input[name=iv-pay-from]')) {
  r.addEventListener('change', () => {
    ivPayFrom = r.value;
    issueKey = null;
    showIssuePayFrom();
  });
}

function issueTotal() {
  const sum = items.reduce((s, it) => s + (want.get(it.id) ?? 0) * it.points, 0);
  const whose = ivPayFrom === 'household' ? t('js.household.issue_household_available', fmtNumber(member?.available ?? 0)) : t('js.shop.a.member_available', fmtNumber(member?.available ?? 0));
  $('iv-total').textContent = t('js.shop.a.issue_total', fmtNumber(sum)) + (member?.available !== undefined ? ' · ' + whose : '');
  const over = member?.available !== undefined && sum > member.available;
  $('iv-total').classList.toggle('bad', over);
  $('iv-submit').disabled = !member || sum === 0;
}

// ---- how the member is there -------------------------------------------------

let card = ''; // the member card code the camera read
let stopCamera = null;

function presenceChoice() {
  return document.querySelector('#iv-presence input[name=presence]:checked')?.value ?? '';
}

function showPresence() {
  const p = presenceChoice();
  $('pr-card').hidden = p !== 'card';
  $('pr-password').hidden = p !== 'password';
  $('pr-proxy').hidden = p !== 'proxy';
  if (p !== 'card') stopCardCamera();
  if (p === 'password') setTimeout(() => $('pr-pw').focus(), 0);
  issueKey = null;
}

function resetPresence() {
  for (const r of document.querySelectorAll('#iv-presence input[name=presence]')) r.checked = false;
  card = '';
  $('pr-pw').value = '';
  $('pr-card-state').textContent = '';
  $('pr-card-state').className = 'scan-result';
  showPresence();
}

for (const r of document.querySelectorAll('#iv-presence input[name=presence]')) r.addEventListener('change', showPresence);
$('pr-pw').addEventListener('input', () => (issueKey = null));

function stopCardCamera() {
  stopCamera?.();
  stopCamera = null;
  $('pr-scan-view').hidden = true;
  $('pr-cam-stop').hidden = true;
  $('pr-cam-start').hidden = false;
}

// onCardFrame takes the first member card the camera reads, and stops it.
function onCardFrame(codes) {
  const code = codes.map((c) => c.trim()).find(Boolean);
  if (!code) return;
  const state = $('pr-card-state');
  if (!/^AXM1/i.test(code)) {
    state.className = 'scan-result bad';
    state.textContent = '✗ ' + t('js.shop.audit.not_a_card');
    return;
  }
  card = code.toUpperCase();
  issueKey = null;
  state.className = 'scan-result good';
  state.textContent = '✓ ' + t('js.shop.audit.card_read', member?.name ?? '');
  stopCardCamera();
}

$('pr-cam-start').addEventListener('click', async () => {
  const state = $('pr-card-state');
  card = ''; // a card is read anew each time the camera starts
  issueKey = null;
  $('pr-cam-start').disabled = true;
  state.className = 'scan-result';
  state.textContent = t('js.shop.audit.camera_starting');
  $('pr-scan-view').hidden = false;
  try {
    stopCamera = await startScanner($('pr-video'), onCardFrame);
    if (card) {
      // The first frame already held the card, before the camera was handed over.
      stopCardCamera();
      return;
    }
    state.textContent = t('js.shop.audit.camera_ready');
    $('pr-cam-start').hidden = true;
    $('pr-cam-stop').hidden = false;
  } catch (err) {
    $('pr-scan-view').hidden = true;
    state.className = 'scan-result bad';
    state.textContent = '✗ ' + (err?.name === 'NotAllowedError' ? t('js.shop.audit.camera_refused') : t('js.shop.audit.camera_failed'));
  } finally {
    $('pr-cam-start').disabled = false;
  }
});
$('pr-cam-stop').addEventListener('click', stopCardCamera);

// presenceBody is what the voucher request says of the member, or null
// (with the reason shown) when nothing is chosen yet.
function presenceBody() {
  const p = presenceChoice();
  const msg = $('iv-msg');
  switch (p) {
    case 'card':
      if (!card) {
        msg.textContent = t('js.shop.audit.card_first');
        return null;
      }
      return { presence: 'card', member_card: card };
    case 'password':
      if (!$('pr-pw').value) {
        msg.textContent = t('js.shop.audit.password_first');
        $('pr-pw').focus();
        return null;
      }
      return { presence: 'password', member_password: $('pr-pw').value };
    case 'proxy':
      return { presence: 'proxy' };
  }
  msg.textContent = t('js.shop.audit.presence_first');
  document.querySelector('#iv-presence input[name=presence]')?.focus();
  return null;
}

let searchTimer = 0;
$('iv-q').addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(search, 250);
});

async function search() {
  const q = $('iv-q').value.trim();
  const out = $('iv-results');
  if (!q) {
    out.replaceChildren();
    return;
  }
  try {
    const { members } = await api('GET', '/api/v1/members?' + new URLSearchParams({ q, limit: 8, status: 'active' }));
    out.replaceChildren(...(members.length ? members.map((m) => el('li', {},
      el('span', {}, m.name, ' ', el('span', { class: 'hint' }, maskPhone(m.phone))),
      el('button', { type: 'button', class: 'small', onclick: () => choose(m) }, t('js.shop.a.choose')))) : [el('li', { class: 'hint' }, t('js.shop.a.no_match'))]));
  } catch (err) {
    failed($('iv-msg'), err);
  }
}

async function choose(m) {
  member = { ...m };
  issueKey = null;
  resetPresence();
  $('iv-presence').hidden = false;
  $('iv-results').replaceChildren();
  $('iv-q').value = '';
  $('iv-chosen').hidden = false;
  $('iv-chosen').textContent = t('js.shop.a.chosen', m.name, maskPhone(m.phone));
  $('iv-done').hidden = true;
  $('iv-msg').textContent = '';
  ivPayFrom = 'own';
  try {
    const [b, h] = await Promise.all([api('GET', `/api/v1/members/${m.id}/balance`), memberHousehold(api, m.id)]);
    member.own = member.available = b.available;
    member.home = h;
  } catch {
    // The total shows without the balance.
  }
  showIssuePayFrom();
}

$('iv-submit').addEventListener('click', async () => {
  if (!member) return;
  const lines = [...want].map(([item_id, qty]) => ({ item_id, qty }));
  if (!lines.length) return;
  $('iv-msg').className = 'msg';
  $('iv-msg').textContent = '';
  const presence = presenceBody();
  if (!presence) return;
  issueKey ??= uuidv7();
  const button = $('iv-submit');
  button.disabled = true;
  try {
    const who = member.name; // the organiser chose them by name: no need to mask it here
    const body = { member_id: member.id, shop_id: shopId, items: lines, ...presence };
    if (ivPayFrom === 'household' && member.home) body.household_id = member.home.id;
    const v = await apiWithKey('POST', '/api/v1/vouchers', body, issueKey);
    issueKey = null;
    want.clear();
    const done = $('iv-done');
    done.hidden = false;
    done.replaceChildren(
      t('js.shop.a.issued', who, fmtNumber(v.points), groupCode(v.code)), ' ',
      v.proxy ? el('span', { class: 'hint' }, t('js.shop.audit.issued_proxy') + ' ') : '',
      el('a', { class: 'button primary', id: 'iv-slip', href: href(`/admin/vouchers/${v.id}/slip`), target: '_blank', rel: 'noopener' }, t('js.shop.a.print_slip')));
    member = null;
    showIssuePayFrom();
    resetPresence();
    $('iv-presence').hidden = true;
    $('iv-chosen').hidden = true;
    await loadItems();
    loadRedemptions();
  } catch (err) {
    if (err.status !== 0) issueKey = null;
    // A wrong password is typed again, not kept.
    if (err.error?.code === 'forbidden' && presence.presence === 'password') $('pr-pw').value = '';
    failed($('iv-msg'), err);
    button.disabled = false;
  }
});

// ---- redemptions -----------------------------------------------------------

// today is the day in the deployment's zone, as YYYY-MM-DD.
const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
$('rd-day').value = today;
$('rd-month').value = today.slice(0, 7);
$('mv-month').value = today.slice(0, 7);

let rdRows = []; // the lines shown
let rdNext = 0; // the next page's cursor
let reversing = null; // the voucher id whose reversal form is open
const reverseKeys = new Map(); // voucher id -> the idempotency key of its reversal under way

function rdPeriod() {
  return $('rd-by').value === 'month' ? { month: $('rd-month').value } : { day: $('rd-day').value };
}

$('rd-by').addEventListener('change', () => {
  const month = $('rd-by').value === 'month';
  $('rd-day-field').hidden = month;
  $('rd-month-field').hidden = !month;
  loadRedemptions();
});
$('rd-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  loadRedemptions();
});
$('rd-more').addEventListener('click', () => loadRedemptions(rdNext));

async function loadRedemptions(before = 0) {
  const msg = $('rd-msg');
  msg.className = 'msg';
  msg.textContent = '';
  try {
    const q = new URLSearchParams({ ...rdPeriod(), limit: 100 });
    if (before) q.set('before', before);
    const p = await api('GET', `/api/v1/shops/${shopId}/redemptions?` + q);
    rdRows = before ? [...rdRows, ...p.redemptions] : p.redemptions;
    rdNext = p.next_before ?? 0;
    $('rd-sum').textContent = t('js.shop.audit.sum', p.redeemed, p.reversed, fmtNumber(p.total_points));
    renderRedemptions();
  } catch (err) {
    failed(msg, err);
  }
}

function renderRedemptions() {
  $('rd-more-box').hidden = !rdNext;
  if (!rdRows.length) {
    $('rd-list').replaceChildren(emptyState(t('js.shop.audit.none')));
    return;
  }
  const rows = [];
  for (const r of rdRows) {
    const reversal = r.kind === 'reverse';
    const who = presenceText(r);
    rows.push(el('tr', { dataset: { voucher: r.voucher_id, kind: r.kind }, class: reversal ? 'rd-reversal' : r.status === 'reversed' ? 'rd-reversed' : '' },
      el('td', { class: 'nowrap' }, fmtTime(r.at)),
      el('td', { class: 'nowrap' }, r.member_name, r.household_id ? [' ', householdChip(r)] : null),
      el('td', {}, linesText(r.lines)),
      el('td', { class: 'num points' }, fmtNumber(r.points)),
      el('td', {}, reversal ? r.reversed_by_name : r.redeemed_by_name),
      el('td', { class: 'rd-how' }, r.proxy ? el('strong', { class: 'proxy-text' }, who) : who),
      el('td', {}, reversal
        ? el('span', {}, t('js.shop.audit.reversal_of', fmtTime(r.redeemed_at)), el('br'), el('span', { class: 'hint' }, t('js.shop.audit.reason', r.reverse_reason)))
        : [statusChip(r.status), r.status === 'reversed' ? el('span', { class: 'hint' }, ' ' + t('js.shop.audit.reversed_at', fmtTime(r.reversed_at), r.reversed_by_name)) : null]),
      el('td', { class: 'rd-actions' }, !reversal && r.status === 'redeemed'
        ? el('button', { type: 'button', class: 'small quiet', onclick: () => { reversing = r.voucher_id; renderRedemptions(); } }, t('js.shop.audit.reverse'))
        : null)));
    if (!reversal && reversing === r.voucher_id && r.status === 'redeemed') {
      rows.push(el('tr', { class: 'inline-row' }, el('td', { colspan: '8' }, reverseForm(r))));
    }
  }
  $('rd-list').replaceChildren(el('div', { class: 'table-wrap', tabindex: '0' }, el('table', { id: 'rd-table' },
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, t('js.shop.audit.time')),
      el('th', { scope: 'col' }, t('js.shop.audit.member')),
      el('th', { scope: 'col' }, t('js.shop.audit.items')),
      el('th', { scope: 'col', class: 'num' }, t('js.shop.audit.points')),
      el('th', { scope: 'col' }, t('js.shop.audit.clerk')),
      el('th', { scope: 'col' }, t('js.shop.audit.how')),
      el('th', { scope: 'col' }, t('js.shop.audit.state')),
      el('th', { scope: 'col' }, ''))),
    el('tbody', {}, rows))));
}

// reverseForm asks for the reason of undoing a redemption and does it, with
// an idempotency key kept until an answer arrives.
function reverseForm(r) {
  const msg = el('p', { class: 'msg', role: 'alert' });
  const reason = el('input', { id: 'rv-reason', name: 'reason', maxlength: '200', required: true, placeholder: t('js.shop.audit.reason_placeholder') });
  const form = el('form', { class: 'inline-form reverse-form', novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    if (!reason.value.trim()) {
      msg.textContent = t('js.shop.a.reason_required');
      reason.focus();
      return;
    }
    const key = reverseKeys.get(r.voucher_id) ?? uuidv7();
    reverseKeys.set(r.voucher_id, key);
    await busy(form, async () => {
      try {
        await apiWithKey('POST', `/api/v1/vouchers/${r.voucher_id}/reverse`, { reason: reason.value.trim() }, key);
        reverseKeys.delete(r.voucher_id);
        reversing = null;
        await Promise.all([loadItems(), loadShop()]);
        await loadRedemptions();
        $('rd-msg').className = 'msg ok';
        $('rd-msg').textContent = t('js.shop.audit.reversed_ok', r.member_name, fmtNumber(r.points));
        loadMoves();
      } catch (err) {
        if (err.status !== 0) reverseKeys.delete(r.voucher_id);
        failed(msg, err);
      }
    });
  } },
  el('h3', {}, t('js.shop.audit.reverse_title', r.member_name, linesText(r.lines), fmtNumber(r.points))),
  el('p', { class: 'hint' }, t('js.shop.audit.reverse_help')),
  el('div', { class: 'fields-row' },
    el('div', { class: 'field grow' }, el('label', { for: 'rv-reason' }, t('js.shop.a.reason')), reason)),
  el('div', { class: 'actions' },
    el('button', { type: 'submit', class: 'primary danger' }, t('js.shop.audit.reverse_confirm')),
    el('button', { type: 'button', onclick: () => { reversing = null; renderRedemptions(); } }, t('js.shop.a.close'))),
  msg);
  setTimeout(() => reason.focus(), 0);
  return form;
}

// ---- goods in --------------------------------------------------------------

const moveKinds = {
  intake: t('js.shop.audit.kind.intake'),
  correction: t('js.shop.audit.kind.correction'),
  reversal: t('js.shop.audit.kind.reversal'),
};

$('mv-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  loadMoves();
});

async function loadMoves() {
  const msg = $('mv-msg');
  msg.textContent = '';
  try {
    const r = await api('GET', `/api/v1/shops/${shopId}/stock-moves?` + new URLSearchParams({ month: $('mv-month').value }));
    const moves = [...(r.moves ?? [])].reverse();
    $('mv-sum').textContent = t('js.shop.audit.moves_sum', moves.filter((m) => m.kind === 'intake').length, fmtNumber(r.intake_qty ?? 0));
    if (!moves.length) {
      $('mv-list').replaceChildren(emptyState(t('js.shop.audit.no_moves')));
      return;
    }
    $('mv-list').replaceChildren(el('div', { class: 'table-wrap', tabindex: '0' }, el('table', { id: 'mv-table' },
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, t('js.shop.audit.time')),
        el('th', { scope: 'col' }, t('js.shop.audit.item')),
        el('th', { scope: 'col', class: 'num' }, t('js.shop.audit.qty')),
        el('th', { scope: 'col' }, t('js.shop.audit.kind')),
        el('th', { scope: 'col' }, t('js.shop.a.donor')),
        el('th', { scope: 'col' }, t('js.shop.a.note')),
        el('th', { scope: 'col' }, t('js.shop.audit.by_whom')))),
      el('tbody', {}, moves.map((m) => el('tr', { dataset: { kind: m.kind } },
        el('td', { class: 'nowrap' }, fmtTime(m.at)),
        el('td', {}, m.item_name),
        el('td', { class: 'num' }, m.qty > 0 ? '+' + fmtNumber(m.qty) : fmtNumber(m.qty)),
        el('td', {}, moveKinds[m.kind] ?? m.kind),
        el('td', {}, m.donor ?? ''),
        // An item's first stock is recorded as "opening stock" (handlers' createItem).
        el('td', {}, m.kind === 'intake' && m.note === 'opening stock' ? t('js.shop.audit.opening_stock') : m.note ?? ''),
        el('td', {}, m.by_name ?? '')))))));
  } catch (err) {
    failed(msg, err);
  }
}

try {
  await loadShop();
} catch (err) {
  failed($('items-msg'), err);
}
await loadItems();
loadRedemptions();
loadMoves();
