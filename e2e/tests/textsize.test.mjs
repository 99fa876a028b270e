// 适老化: the large-text switch of the phone pages and the kiosk. 标准 / 大
// / 特大 set 100 %, 150 % and 200 % text, remembered by the browser and
// there before the first paint (no jump). At every size nothing spills out
// of its box — the page, its bars, cards, tabs and buttons — and buttons
// and tabs stay whole and on the screen. Screenshots of every page at each
// size, on a phone (390x844) and, for the kiosk, a tablet.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, Client, launch, noProblems, open, phone, shot, text } from '../lib.mjs';

const volPassword = 'yinxing-2026-volunteer';
const clerkPassword = 'yinxing-2026-counter';
const tablet = { viewport: { width: 820, height: 1180 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const tabletLandscape = { viewport: { width: 1180, height: 820 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };
const sizes = { 100: '标准', 150: '大', 200: '特大' };

// overflows lists what spills out of its box on the page: the page wider
// than the screen, any element (not a scroll box of its own, nor inside
// one) wider than its box or reaching past the screen's edge, and buttons,
// tabs and pills whose text does not fit.
function overflows() {
  const vw = document.documentElement.clientWidth;
  const bad = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '');
  const scrolls = (el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const inScrollBox = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) if (scrolls(p)) return true;
    return false;
  };
  if (document.documentElement.scrollWidth > vw) bad.push(`page ${document.documentElement.scrollWidth} > ${vw}`);
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('[hidden], script, template, noscript') || !el.getClientRects().length) continue;
    if (getComputedStyle(el).visibility === 'hidden' || inScrollBox(el) || el.closest('video')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || getComputedStyle(el).position === 'fixed' && r.bottom <= 0) continue;
    if (r.right > vw + 1 || r.left < -1) bad.push(`${name(el)} reaches ${Math.round(r.left)}..${Math.round(r.right)} of ${vw}`);
    if (!scrolls(el) && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 && !['IMG', 'svg', 'SELECT', 'INPUT'].includes(el.tagName)) {
      bad.push(`${name(el)} holds ${el.scrollWidth} in ${el.clientWidth}`);
    }
  }
  for (const el of document.querySelectorAll('button, .button, .mtabs a, .langs a, .tabs a')) {
    if (el.closest('[hidden]') || !el.getClientRects().length) continue;
    if (el.scrollHeight > el.clientHeight + 2) bad.push(`${name(el)} "${el.textContent.trim()}" is cut: ${el.scrollHeight} in ${el.clientHeight}`);
  }
  // The language pills, the tab labels and the size switch stay on one line.
  for (const el of document.querySelectorAll('.langs a, .mtabs .label, .text-size button')) {
    const range = document.createRange();
    range.selectNodeContents(el);
    const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    if (lines.size > 1) bad.push(`${name(el)} "${el.textContent.trim()}" wraps onto ${lines.size} lines`);
  }
  return [...new Set(bad)];
}

describe('large text', () => {
  let browser, vol, clerk, voucher, checkinURL;

  before(async () => {
    const admin = await Client.login(ADMIN.login, ADMIN.password);
    const street = await admin.ok('POST', '/units', { name: '银杏街道', kind: 'street' });
    const unit = await admin.ok('POST', '/units', { name: '银杏社区', kind: 'community', parent_id: street.id });
    const org = admin;
    const m = await org.ok('POST', '/members', { name: '欧阳秀兰', phone: '13600000088', unit_id: unit.id, password: volPassword });
    // An hour of service yesterday, posted; then a towel on a voucher.
    const day = new Date(Date.now() - 16 * 3600e3).toISOString().slice(0, 10);
    const past = await org.ok('POST', '/events', { title: '敬老院陪老人聊天读报', category: '助老助残', unit_id: unit.id,
      starts_at: `${day}T08:00:00+08:00`, ends_at: `${day}T12:00:00+08:00` });
    await org.ok('POST', `/events/${past.id}/attendance`, { member_id: m.id, action: 'backfill', reason: '纸质签到表',
      checked_in_at: `${day}T08:00:00+08:00`, checked_out_at: `${day}T11:00:00+08:00` });
    await org.ok('POST', `/events/${past.id}/finalize`);
    const shop = await org.ok('POST', '/shops', { name: '银杏社区爱心超市', kind: 'love_supermarket', unit_id: unit.id });
    const towel = await org.ok('POST', `/shops/${shop.id}/items`, { name: '纯棉毛巾（加厚款）', points: 5, stock: 20 });
    await org.ok('POST', `/shops/${shop.id}/items`, { name: '食用油 5 升装', points: 25, stock: 3 });
    await admin.ok('POST', '/users', { login: 'yinxing-shop', password: clerkPassword, role: 'clerk', name: '银杏店员', shop_id: shop.id });
    vol = await Client.login('13600000088', volPassword);
    voucher = await vol.ok('POST', '/vouchers', { shop_id: shop.id, items: [{ item_id: towel.id, qty: 2 }] });
    clerk = await Client.login('yinxing-shop', clerkPassword);
    const now = Date.now();
    const live = await org.ok('POST', '/events', { title: '银杏社区周末楼道清扫', category: '环境整治', unit_id: unit.id,
      starts_at: new Date(now - 3600e3).toISOString(), ends_at: new Date(now + 3 * 3600e3).toISOString() });
    ({ url: checkinURL } = await org.ok('GET', `/events/${live.id}/code`));
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  const phonePages = () => [
    ['home', '/m/'],
    ['card', '/m/card'],
    ['shop', '/m/shop'],
    ['vouchers', '/m/vouchers'],
    ['voucher', `/m/vouchers/${voucher.id}`],
    ['checkin', new URL(checkinURL).pathname],
  ];

  it('is remembered by the browser and there before the first paint', async () => {
    const page = await open(browser, phone, vol);
    await page.goto('/m/');
    await page.locator('#b-points', { hasText: /\d/ }).waitFor();
    assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).fontSize), '17px');
    assert.equal(await page.getByRole('button', { name: '标准' }).getAttribute('aria-pressed'), 'true');
    await page.getByRole('button', { name: '特大' }).click();
    assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).fontSize), '34px');
    assert.equal(await page.getByRole('button', { name: '特大' }).getAttribute('aria-pressed'), 'true');
    assert.equal(await page.getByRole('button', { name: '标准' }).getAttribute('aria-pressed'), 'false');
    // Another page of the same browser opens at 200 % from its first frame:
    // the size is on the root before the body is parsed.
    await page.addInitScript(() => {
      document.addEventListener('readystatechange', () => {
        if (document.readyState === 'interactive') window.sizeWhenParsed = getComputedStyle(document.documentElement).fontSize;
      }, { once: true });
      new MutationObserver((_, obs) => {
        if (document.body) {
          window.sizeAtBody = getComputedStyle(document.documentElement).fontSize;
          obs.disconnect();
        }
      }).observe(document, { childList: true, subtree: true });
    });
    await page.goto('/m/card');
    assert.equal(await page.evaluate(() => window.sizeAtBody), '34px');
    assert.equal(await page.getByRole('button', { name: '特大' }).getAttribute('aria-pressed'), 'true');
    await page.getByRole('button', { name: '标准' }).click();
    await page.reload();
    assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).fontSize), '17px');
    noProblems(page);
    await page.context().close();
  });

  it('keeps every phone page whole at 100, 150 and 200 %', async () => {
    const problems = [];
    for (const [size, label] of Object.entries(sizes)) {
      const page = await open(browser, phone, vol);
      await page.goto('/m/');
      await page.getByRole('button', { name: label, exact: true }).click();
      for (const [name, path] of phonePages()) {
        await page.goto(path);
        await page.waitForLoadState('networkidle');
        await page.waitForTimeout(150);
        assert.equal(await page.evaluate(() => document.documentElement.dataset.textSize), size, `${name} at ${size}`);
        for (const p of await page.evaluate(overflows)) problems.push(`${name} at ${size} %: ${p}`);
        await shot(page, `phone-text${size}-${name}`, { full: false });
        if (name === 'home' || name === 'shop') await shot(page, `phone-text${size}-${name}-full`);
      }
      noProblems(page);
      await page.context().close();
    }
    assert.deepEqual(problems, []);
  });

  it('keeps the kiosk whole on a tablet at 100, 150 and 200 %', async () => {
    const problems = [];
    for (const [device, dname] of [[tablet, 'tablet'], [tabletLandscape, 'tablet-landscape']]) {
      for (const [size, label] of Object.entries(sizes)) {
        const page = await open(browser, device, clerk);
        await page.goto('/kiosk');
        await page.locator('#code-input').waitFor();
        await page.getByRole('button', { name: label, exact: true }).click();
        await page.waitForTimeout(150);
        for (const p of await page.evaluate(overflows)) problems.push(`kiosk ${dname} at ${size} %: ${p}`);
        await shot(page, `${dname}-text${size}-kiosk`, { full: false });
        // The preview of a voucher, with its big confirm button.
        await page.fill('#code-input', voucher.code);
        await page.click('#code-form button[type=submit]');
        await page.locator('#pv-who', { hasText: '欧**兰' }).waitFor();
        await page.locator('#pv-lines li').first().waitFor();
        for (const p of await page.evaluate(overflows)) problems.push(`kiosk preview ${dname} at ${size} %: ${p}`);
        await shot(page, `${dname}-text${size}-kiosk-preview`, { full: false });
        noProblems(page);
        await page.context().close();
      }
    }
    assert.deepEqual(problems, []);
  });
});
