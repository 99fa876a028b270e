// /admin/events/{id}/display: the full-screen check-in code for a projector
// or a phone held up at the door. The QR changes every 30 seconds: the page
// asks /code every few seconds for the current step and the live counts, and
// loads a new image (with the step in its address, so no cache keeps the old
// one) as soon as the step changes; a timer set to the code's expiry asks at
// once. A small countdown shows when the next code comes. The screen is kept
// awake where the browser allows it.

import { t, $, api, lang, fmtNumber, loginAgain } from './common.js';

const id = $('display').dataset.eventId;
const base = `/api/v1/events/${encodeURIComponent(id)}`;
const qr = $('qr');
const codeLife = 30000;

let shownStep = null;
let expiresAt = 0; // on the server's clock, in ms
let skew = 0; // server clock minus ours, in ms
let expiryTimer = 0;
let status = 'open';

// serverNow is our estimate of the server's clock.
const serverNow = () => Date.now() + skew;

function problem(text) {
  $('d-msg').textContent = text;
}

function showQR(step) {
  if (step === shownStep) return;
  shownStep = step;
  // Load the new image first, then swap, so the old code never blinks out.
  const next = new Image();
  next.onload = () => {
    qr.src = next.src;
  };
  next.onerror = () => {
    shownStep = null;
  };
  next.src = `${base}/code.png?step=${step}&lang=${encodeURIComponent(lang)}`;
}

// pollCode fetches the current code's step, its expiry and the counts.
async function pollCode() {
  const sent = Date.now();
  let res;
  try {
    res = await fetch(`${base}/code?lang=${encodeURIComponent(lang)}`, {
      credentials: 'same-origin', headers: { Accept: 'application/json' }, cache: 'no-store',
    });
  } catch {
    problem(t('js.events.display_offline'));
    return;
  }
  if (res.status === 401) {
    loginAgain();
    return;
  }
  if (res.status === 409) {
    // The event does not take check-ins (any more): say so instead of a code.
    await pollEvent();
    return;
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    // Not JSON: a proxy's error page.
  }
  if (!res.ok || !data) {
    problem(data?.error?.message ?? t('js.http_error', res.status));
    return;
  }
  problem('');
  // The Date header has whole seconds: take the middle of that second and of the round trip.
  const date = Date.parse(res.headers.get('Date') ?? '');
  if (!Number.isNaN(date)) skew = date + 500 - (sent + Date.now()) / 2;
  expiresAt = Date.parse(data.expires_at);
  $('d-in').textContent = fmtNumber(data.checked_in);
  $('d-out').textContent = fmtNumber(data.checked_out);
  warnIfLocal(data.url);
  if (status === 'open') showQR(data.step);
  clearTimeout(expiryTimer);
  expiryTimer = setTimeout(pollCode, Math.max(200, expiresAt - serverNow() + 300));
}

// warnIfLocal says so when the code holds an address only this computer
// reaches (the page opened at 127.0.0.1 or localhost): no phone can open it.
function warnIfLocal(url) {
  let host = '';
  try {
    host = new URL(url).hostname;
  } catch {
    return;
  }
  const local = host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '[::1]' || host === '::1';
  $('d-local').hidden = !local;
  if (local) $('d-local').textContent = t('js.events.display_local', host);
}

// pollEvent follows the event's status: only an open event shows its code.
async function pollEvent() {
  try {
    const ev = await api('GET', base);
    const opened = ev.status === 'open' && status !== 'open';
    status = ev.status;
    $('d-title').textContent = ev.title;
    $('d-in').textContent = fmtNumber(ev.checked_in);
    $('d-out').textContent = fmtNumber(ev.checked_out);
    const off = {
      draft: t('js.events.display_draft'),
      finished: t('js.events.display_finished'),
      finalised: t('js.events.display_finished'),
      cancelled: t('js.events.display_cancelled'),
    }[ev.status];
    $('qr-off').hidden = !off;
    $('qr-off-text').textContent = off ?? '';
    $('countdown-box').hidden = !!off;
    qr.classList.toggle('off', !!off);
    if (off) shownStep = null;
    if (opened) pollCode();
  } catch (err) {
    if (err?.status === 401) loginAgain();
    else problem(err?.message ?? String(err));
  }
}

function tick() {
  if (!expiresAt) return;
  const left = Math.max(0, expiresAt - serverNow());
  $('countdown').textContent = t('js.events.next_code', Math.ceil(left / 1000));
  $('cd-bar').style.width = Math.min(100, (left / codeLife) * 100).toFixed(1) + '%';
}

// Full screen, where the browser has it.
const fs = $('fullscreen');
if (!document.documentElement.requestFullscreen) fs.hidden = true;
fs.addEventListener('click', async () => {
  try {
    if (document.fullscreenElement) await document.exitFullscreen();
    else await document.documentElement.requestFullscreen();
  } catch {
    // Refused: stay as we are.
  }
});
document.addEventListener('fullscreenchange', () => {
  fs.textContent = document.fullscreenElement ? t('js.events.exit_fullscreen') : t('js.events.fullscreen');
});

// Keep the screen on.
async function stayAwake() {
  try {
    await navigator.wakeLock?.request('screen');
  } catch {
    // Not allowed here: the screen may sleep.
  }
}
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) {
    stayAwake();
    pollCode();
  }
});

await pollEvent();
await pollCode();
stayAwake();
setInterval(pollCode, 4000);
setInterval(pollEvent, 15000);
setInterval(tick, 250);
tick();
