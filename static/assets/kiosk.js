// /kiosk: the clerk's counter. A voucher comes from the camera (the shared
// QR reader), from a USB barcode scanner (a keyboard that types the token
// a few milliseconds per key and presses Enter) or from the short code
// typed by hand. The page previews it (who, what, how many points), one big
// button redeems it with an idempotency key kept until an answer arrives,
// and a big green or red state with a sound says what happened. The day's
// redemptions and their total are listed beside (a redemption an organiser
// reversed is marked, and the reversal counts against the day). A 代兑
// voucher, made by an organiser without the member there, says so and by
// whom, and asks for the slip to be signed. When the network is down a
// banner says so; the session survives a reload.

import { t, $, api, el, bindLogout, loginAgain, fmtDate, fmtTime, fmtNumber } from './common.js';
import { bindOwnPassword } from './own-password.js';
import { startScanner } from './qr-scan.js';
import { apiWithKey, codeOK, householdChip, lineItems, normalizeCode, proxyChip, uuidv7, voucherStatuses } from './shop-common.js';

bindLogout();
bindOwnPassword();

// ---- network banner -------------------------------------------------------

const banner = $('offline');
let offline = !navigator.onLine;
let pingTimer = 0;

function setOffline(down) {
  offline = down;
  banner.hidden = !down;
  document.body.classList.toggle('is-offline', down);
  clearTimeout(pingTimer);
  // While down, ask the server every few seconds whether it is back.
  if (down) pingTimer = setTimeout(ping, 5000);
}

async function ping() {
  try {
    await api('GET', '/api/v1/me');
    setOffline(false);
    loadToday();
  } catch (err) {
    if (err.status === 401) loginAgain();
    else setOffline(err.status === 0 || !navigator.onLine);
  }
}

window.addEventListener('offline', () => setOffline(true));
window.addEventListener('online', ping);
setOffline(offline);

// call is api() that keeps the banner right and sends a lost session to log in.
async function call(method, path, body) {
  try {
    const r = await api(method, path, body);
    if (offline) setOffline(false);
    return r;
  } catch (err) {
    if (err.status === 0) setOffline(true);
    else if (offline) setOffline(false);
    if (err.status === 401) loginAgain();
    throw err;
  }
}

// ---- sound ----------------------------------------------------------------

let audio = null;

// beep plays two short tones: rising for success, falling and low for a refusal.
function beep(good) {
  try {
    audio ??= new AudioContext();
    if (audio.state === 'suspended') audio.resume();
    const tones = good ? [880, 1320] : [330, 220];
    let at = audio.currentTime + 0.02;
    for (const f of tones) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = good ? 'sine' : 'square';
      osc.frequency.value = f;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(good ? 0.3 : 0.15, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.16);
      osc.connect(gain).connect(audio.destination);
      osc.start(at);
      osc.stop(at + 0.18);
      at += 0.2;
    }
  } catch {
    // No sound on this device: the colours say it.
  }
}

// ---- states ---------------------------------------------------------------

const states = ['k-idle', 'k-preview', 'k-result'];
let state = 'k-idle';
let current = null; // {input: {token}|{code}, voucher}
let key = null; // the idempotency key of the redemption under way
let redeeming = false;
let resultTimer = 0;

function show(id) {
  state = id;
  for (const s of states) $(s).hidden = s !== id;
  clearTimeout(resultTimer);
}

function idle() {
  current = null;
  key = null;
  show('k-idle');
  $('code-msg').textContent = '';
}

// result shows the big green or red state and plays its sound. A success
// goes back to waiting by itself after a while; a refusal waits for the
// clerk to read it and tap.
function result(good, title, text, lines = []) {
  show('k-result');
  const box = $('k-result');
  box.className = 'k-state k-result ' + (good ? 'good' : 'bad');
  $('r-mark').textContent = good ? '✓' : '✗';
  $('r-title').textContent = title;
  $('r-text').textContent = text;
  $('r-lines').replaceChildren(...lineItems(lines));
  beep(good);
  if (good) resultTimer = setTimeout(idle, 15000);
  $('r-next').focus();
}

function refuse(message) {
  result(false, t('js.shop.k.failed'), message);
}

// refusalOf explains why a voucher that is not open cannot be redeemed.
function refusalOf(v) {
  switch (v.status) {
    case 'redeemed':
      return t('js.shop.k.already', fmtTime(v.closed_at || v.redeemed_at), v.shop_name);
    case 'cancelled':
      return t('js.shop.k.cancelled');
    case 'expired':
      return t('js.shop.k.expired', fmtTime(v.expires_at));
    case 'reversed':
      return t('js.shop.k.reversed', fmtTime(v.closed_at), fmtTime(v.reversed_at));
  }
  return voucherStatuses[v.status] ?? v.status;
}

function preview(v) {
  show('k-preview');
  $('pv-who').replaceChildren(v.member_name || '—', ...(v.household_id ? [' ', householdChip(v)] : []));
  $('pv-points').textContent = t('js.shop.points', fmtNumber(v.points));
  $('pv-status').textContent = voucherStatuses[v.status] ?? v.status;
  $('pv-status').className = 'vstatus vs-' + v.status;
  $('pv-expires').textContent = fmtTime(v.expires_at);
  $('pv-lines').replaceChildren(...lineItems(v.lines));
  $('pv-proxy').hidden = !v.proxy;
  $('pv-proxy').textContent = v.proxy ? t('js.shop.k.proxy', v.created_by_name || '—') : '';
  $('pv-msg').textContent = '';
  $('pv-msg').className = 'msg';
  $('retry').hidden = true;
  $('confirm').hidden = false;
  $('confirm').disabled = false;
  $('confirm').focus();
}

// handle takes a code from any input: a token from the QR or the scanner,
// or a short code. A short code with a wrong check character is refused
// here, before anything is looked up.
async function handle(raw) {
  if (redeeming) return;
  const text = String(raw ?? '').trim();
  let input;
  if (/^AXV1/i.test(text)) {
    input = { token: text.toUpperCase() };
  } else {
    const code = normalizeCode(text);
    if (!codeOK(code)) {
      if (state === 'k-idle') {
        $('code-msg').textContent = code.length === 10 ? t('js.shop.k.code_bad') : t('js.shop.k.code_length');
      }
      refuse(code.length === 10 ? t('js.shop.k.code_bad') : t('js.shop.k.not_voucher'));
      return;
    }
    input = { code };
  }
  current = { input };
  key = null;
  show('k-preview');
  $('pv-who').textContent = t('js.shop.k.looking');
  $('pv-points').textContent = '';
  $('pv-status').textContent = '';
  $('pv-expires').textContent = '';
  $('pv-lines').replaceChildren();
  $('pv-proxy').hidden = true;
  $('confirm').disabled = true;
  try {
    const { voucher } = await call('GET', '/api/v1/redemptions/preview?' + new URLSearchParams(input));
    if (current?.input !== input) return;
    current.voucher = voucher;
    if (voucher.status !== 'open') {
      refuse(refusalOf(voucher));
      return;
    }
    preview(voucher);
  } catch (err) {
    if (current?.input !== input || err.status === 401) return;
    refuse(err.status === 0 ? t('js.shop.k.offline_try') : err.message);
  }
}

// redeem sends the redemption with the key of this attempt; a network
// failure keeps the key, and trying again sends the same key, so a
// redemption that did arrive is not made twice.
async function redeem() {
  if (!current?.voucher || redeeming) return;
  redeeming = true;
  key ??= uuidv7();
  $('confirm').disabled = true;
  $('retry').hidden = true;
  $('pv-msg').className = 'msg';
  $('pv-msg').textContent = t('js.shop.k.redeeming');
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await apiWithKey('POST', '/api/v1/redemptions', current.input, key);
      if (offline) setOffline(false);
      const v = r.voucher;
      key = null;
      redeeming = false;
      result(true, t('js.shop.k.success'), t('js.shop.k.success_text', v.member_name, fmtNumber(v.points), fmtTime(r.redeemed_at)), v.lines);
      loadToday();
      return;
    } catch (err) {
      if (err.status === 0 && attempt < 3) {
        setOffline(true);
        $('pv-msg').textContent = t('js.shop.k.retrying');
        await new Promise((r) => setTimeout(r, 1000 * (attempt + 1)));
        continue;
      }
      redeeming = false;
      if (err.status === 401) {
        loginAgain();
        return;
      }
      if (err.status === 0) {
        // Still no answer: keep the key and let the clerk try again.
        setOffline(true);
        $('pv-msg').className = 'msg bad';
        $('pv-msg').textContent = t('js.shop.k.no_answer');
        $('confirm').hidden = true;
        $('retry').hidden = false;
        return;
      }
      key = null;
      if (offline) setOffline(false);
      const e = err.error ?? {};
      let text = err.message;
      if (err.status === 409 && e.redeemed_at && !text.includes(fmtTime(e.redeemed_at))) {
        text += ' ' + t('js.shop.k.when_where', fmtTime(e.redeemed_at), e.shop ?? '');
      }
      refuse(text);
      return;
    }
  }
}

$('confirm').addEventListener('click', redeem);
$('retry').addEventListener('click', redeem);
$('pv-cancel').addEventListener('click', () => {
  if (!redeeming) idle();
});
$('r-next').addEventListener('click', idle);

// ---- manual short code ----------------------------------------------------

$('code-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = $('code-input');
  const code = normalizeCode(input.value);
  if (!codeOK(code)) {
    $('code-msg').textContent = code.length === 10 ? t('js.shop.k.code_bad') : t('js.shop.k.code_length');
    beep(false);
    input.focus();
    return;
  }
  input.value = '';
  handle(code);
});
$('code-input').addEventListener('input', () => ($('code-msg').textContent = ''));

// ---- USB barcode scanner --------------------------------------------------

// A scanner types through the US layout: read KeyboardEvent.code, which a
// Chinese IME does not change, and take a burst of keys that came within
// a few milliseconds of each other and ends in Enter as one scan.
const burstGap = 80; // ms between a scanner's keys, at most
const burstMin = 10; // characters in a scan, at least
let burst = '';
let burstAt = 0;
// typed keeps the characters since the last Enter whatever the gaps between
// them: a whole voucher token (48 characters nobody types by hand) is a scan
// even when a busy tablet held some of the scanner's keys back.
let typed = '';
const wholeToken = /AXV1[0-9A-Z]{44}$/;

function charOf(code) {
  let m = /^Key([A-Z])$/.exec(code);
  if (m) return m[1];
  m = /^(?:Digit|Numpad)([0-9])$/.exec(code);
  if (m) return m[1];
  if (code === 'Minus' || code === 'NumpadSubtract') return '-';
  return '';
}

document.addEventListener('keydown', (ev) => {
  const now = performance.now();
  const gap = now - burstAt;
  burstAt = now;
  if (ev.code === 'Enter' || ev.code === 'NumpadEnter') {
    const token = wholeToken.exec(typed)?.[0];
    const scanned = token ?? burst;
    burst = '';
    typed = '';
    const input = $('code-input');
    // Fast typing into the code field that is not a voucher's QR is a short
    // code typed (or pasted by a script): the field's own check answers it.
    if (document.activeElement === input && !/^AXV1/.test(scanned)) return;
    if (token || (scanned.length >= burstMin && gap <= burstGap)) {
      ev.preventDefault();
      ev.stopPropagation();
      // The scanner typed into the code field if it had the focus: that is not a hand-typed code.
      if (document.activeElement === input) input.value = input.value.slice(0, Math.max(0, input.value.length - scanned.length));
      if (state === 'k-result') idle();
      if (state !== 'k-preview' || !redeeming) handle(scanned);
    }
    return;
  }
  if (ev.ctrlKey || ev.altKey || ev.metaKey) {
    burst = typed = '';
    return;
  }
  const c = charOf(ev.code);
  if (!c) {
    if (!/^Shift|^Caps/.test(ev.code)) burst = typed = '';
    return;
  }
  burst = gap <= burstGap ? burst + c : c;
  typed = (typed + c).slice(-64);
}, true);

// ---- camera ---------------------------------------------------------------

let stopCamera = null;
let lastToken = ''; // the code last read from the camera
let lastSeen = 0; // when it was last in front of the camera

function onFrame(codes) {
  const code = codes[0];
  if (!code) return;
  const now = Date.now();
  const same = code === lastToken && now - lastSeen < 5000;
  lastToken = code;
  lastSeen = now;
  // A voucher held in front of the camera is read once, not again and again.
  if (same || redeeming || state === 'k-preview') return;
  if (state === 'k-result') idle();
  handle(code);
}

let cameraStarting = false;

async function startCamera() {
  if (stopCamera || cameraStarting) return;
  cameraStarting = true;
  $('cam-start').disabled = true;
  $('cam-msg').textContent = t('js.shop.k.camera_starting');
  $('scan-view').hidden = false;
  try {
    stopCamera = await startScanner($('scan-video'), onFrame);
    $('cam-msg').textContent = t('js.shop.k.camera_ready');
    $('cam-start').hidden = true;
    $('cam-stop').hidden = false;
  } catch {
    $('scan-view').hidden = true;
    $('cam-msg').textContent = t('js.shop.k.camera_failed');
  } finally {
    cameraStarting = false;
    $('cam-start').disabled = false;
  }
}

$('cam-start').addEventListener('click', startCamera);
$('cam-stop').addEventListener('click', () => {
  stopCamera?.();
  stopCamera = null;
  $('scan-view').hidden = true;
  $('cam-stop').hidden = true;
  $('cam-start').hidden = false;
  $('cam-msg').textContent = '';
});

// A counter that allowed the camera before starts it by itself after a reload.
navigator.permissions?.query({ name: 'camera' }).then(
  (p) => {
    if (p.state === 'granted' && !stopCamera) startCamera();
  },
  () => {},
);

// ---- the day's redemptions ------------------------------------------------

// sameDay says whether two times fall on one day where the shop is.
const sameDay = (a, b) => fmtDate(a) === fmtDate(b);

async function loadToday() {
  try {
    const r = await call('GET', '/api/v1/redemptions/today');
    const list = r.redemptions ?? [];
    $('today-total').textContent = t('js.shop.points', fmtNumber(r.total_points ?? 0));
    $('today-count').textContent = t('js.shop.k.count', r.redeemed ?? list.length) + (r.reversed ? t('js.shop.k.count_reversed', r.reversed) : '');
    $('today').replaceChildren(...(list.length
      ? list.map((x) => {
          const reversal = x.kind === 'reverse';
          return el('li', { class: reversal ? 'k-t-reversal' : x.status === 'reversed' ? 'k-t-reversed' : '' },
            el('span', { class: 'k-t-time' }, fmtTime(x.at).slice(-5)),
            el('span', { class: 'k-t-who' }, x.member_name, ' ', proxyChip(x), ' ', householdChip(x)),
            el('span', { class: 'k-t-what' }, reversal ? t('js.shop.k.reversal_line', sameDay(x.redeemed_at, x.at) ? fmtTime(x.redeemed_at).slice(-5) : fmtTime(x.redeemed_at)) + ' ' : '',
              (x.lines ?? []).map((l) => l.name + '×' + l.qty).join('、'),
              !reversal && x.status === 'reversed' ? ' ' + t('js.shop.k.was_reversed') : ''),
            el('span', { class: 'k-t-pts' }, t('js.shop.points', fmtNumber(x.points))));
        })
      : [el('li', { class: 'empty-line' }, t('js.shop.k.none_today'))]));
    $('today-msg').textContent = '';
  } catch (err) {
    if (err.status !== 401) $('today-msg').textContent = err.status === 0 ? t('js.shop.k.offline_try') : err.message;
  }
}

async function loadShopName() {
  try {
    const shops = (await call('GET', '/api/v1/shops')).shops ?? [];
    const mine = shops.find((s) => s.id === $('kiosk').dataset.shopId) ?? shops[0];
    if (mine) {
      $('shop-name').textContent = mine.name;
      document.title = mine.name + ' · ' + document.title;
    }
  } catch {
    // The header keeps its generic name.
  }
}

loadShopName();
loadToday();
setInterval(() => {
  if (!offline) loadToday();
}, 60000);
idle();
