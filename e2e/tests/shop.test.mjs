// The story of issue 5 as people live it: a volunteer with points picks two
// items on the phone and gets a voucher QR; at the counter the clerk's
// kiosk reads the QR from the camera (a fake camera fed a .y4m made from the
// voucher's qr.png), previews it and redeems it with one tap: green. The
// same voucher typed by a USB barcode scanner (keys a few ms apart, then
// Enter) is refused as already redeemed, with when and where: red. A short
// code typed by hand with one wrong character is refused before any
// lookup. The organiser sees the stock go down, issues a voucher for a
// member without a phone and prints its slip.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ADMIN, BASE, Client, launch, loginUI, noProblems, open, pc, phone, screenshots, shot, text } from '../lib.mjs';

const orgPassword = 'heping-2026-organiser';
const clerkPassword = 'heping-2026-counter';
const volPassword = 'heping-volunteer-2026';

// zbar decodes a PNG file with zbarimg.
// The papers a slip is laid out for, in millimetres (a receipt's length is
// what its content needs).
const papers = { a4: [210, 297], a5: [148, 210], '58mm': [58, 0] };

const zbar = (file) => execFileSync('zbarimg', ['-q', '--raw', '--nodbus', file], { encoding: 'utf8' }).trim();

// wrongCode changes one character of a short code to another of the alphabet.
function wrongCode(code) {
  const i = 3;
  const c = code[i] === '7' ? '8' : '7';
  return code.slice(0, i) + c + code.slice(i + 1);
}

describe('love supermarket: voucher, kiosk and slip', () => {
  let browser, admin, org, clerk, vol, unit, shop, items, memberId, voucher;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'aixin-shop-'));

  before(async () => {
    admin = await Client.login(ADMIN.login, ADMIN.password);
    const street = await admin.ok('POST', '/units', { name: '和平街道', kind: 'street' });
    unit = await admin.ok('POST', '/units', { name: '和平里社区', kind: 'community', parent_id: street.id });
    await admin.ok('POST', '/users', { login: 'hepingli', password: orgPassword, role: 'organizer', name: '刘书记', unit_id: unit.id });
    org = await Client.login('hepingli', orgPassword);
    shop = await org.ok('POST', '/shops', { name: '和平里爱心超市', kind: 'love_supermarket', unit_id: unit.id });
    items = {
      rice: await org.ok('POST', `/shops/${shop.id}/items`, { name: '东北大米 5kg', points: 30, stock: 10 }),
      oil: await org.ok('POST', `/shops/${shop.id}/items`, { name: '花生油 1.8L', points: 20, stock: 5, monthly_limit: 2 }),
      towel: await org.ok('POST', `/shops/${shop.id}/items`, { name: '毛巾', points: 5, stock: 50 }),
    };
    await org.ok('POST', `/items/${items.oil.id}/stock`, { kind: 'intake', qty: 3, donor: '辖区共建单位', note: '重阳节慰问物资' });
    await admin.ok('POST', '/users', { login: 'counter1', password: clerkPassword, role: 'clerk', name: '陈店员', shop_id: shop.id });
    clerk = await Client.login('counter1', clerkPassword);

    const m = await org.ok('POST', '/members', { name: '李明华', phone: '13700000011', unit_id: unit.id, password: volPassword });
    memberId = m.id;
    // He makes the password his own (a password staff set proves nothing at the counter).
    const own = await Client.login('13700000011', volPassword);
    await own.ok('POST', '/me/password', { old_password: volPassword, password: volPassword });
    await org.ok('POST', '/members', { name: '张桂兰', phone: '13700000012', unit_id: unit.id });
    // Points from yesterday's service: a back-filled paper sheet, finalised.
    const day = new Date(Date.now() - 16 * 3600e3).toISOString().slice(0, 10);
    const ev = await org.ok('POST', '/events', {
      title: '社区环境整治', category: '环境整治', unit_id: unit.id,
      starts_at: `${day}T08:00:00+08:00`, ends_at: `${day}T16:00:00+08:00`,
    });
    await org.ok('POST', `/events/${ev.id}/attendance`, {
      member_id: memberId, action: 'backfill', reason: '纸质签到表',
      checked_in_at: `${day}T08:00:00+08:00`, checked_out_at: `${day}T16:00:00+08:00`,
    });
    await org.ok('POST', `/events/${ev.id}/finalize`);
    const b = await org.ok('GET', `/members/${memberId}/balance`);
    assert.equal(b.available, 80, 'eight hours at ten points an hour');
    vol = await Client.login('13700000011', volPassword);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('lets a volunteer exchange two items on the phone and shows the voucher QR', async () => {
    const page = await open(browser, phone, vol);
    await page.goto('/m/shop');
    await page.locator('#available', { hasText: '80 分' }).waitFor();
    await page.locator('#items li[data-item]').first().waitFor();
    assert.equal(await text(page.locator('#shop-h')), '和平里爱心超市');
    const row = (it) => page.locator(`li[data-item="${it.id}"]`);
    assert.match(await text(row(items.oil)), /花生油 1\.8L.*20 分.*剩余 8.*每月限兑 2 件/);
    await row(items.rice).locator('.plus').click();
    await row(items.oil).locator('.plus').click();
    await row(items.oil).locator('.plus').click();
    // A third bottle of oil is over the monthly limit; more rice is over the balance.
    assert.equal(await row(items.oil).locator('.plus').isDisabled(), true);
    assert.equal(await row(items.rice).locator('.plus').isDisabled(), true);
    await row(items.oil).locator('.minus').click();
    assert.equal(await text(page.locator('#basket-total')), '合计 50 分 / 可用 80 分');
    await shot(page, 'phone-shop', { full: false });
    await page.click('#exchange');
    await page.waitForURL((u) => /^\/m\/vouchers\/[0-9a-f-]{36}$/.test(u.pathname));
    const id = new URL(page.url()).pathname.split('/').pop();
    await page.waitForFunction(() => document.getElementById('v-qr')?.naturalWidth > 0);
    await page.locator('#v-code').filter({ hasText: /^[0-9A-Z]{5} [0-9A-Z]{5}$/ }).waitFor();
    assert.match(await text(page.locator('#v-lines')), /东北大米 5kg ×1 30 分.*花生油 1\.8L ×1 20 分/);
    assert.equal(await text(page.locator('#v-points')), '50 分');
    assert.match(await text(page.locator('#v-status')), /待兑换/);
    await shot(page, 'phone-voucher', { full: false });
    // Nothing sticks out sideways on the phone.
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), 'the voucher page is wider than the phone');
    voucher = await vol.ok('GET', `/vouchers/${id}`);
    assert.equal(voucher.status, 'open');
    assert.equal((await vol.ok('GET', `/members/${memberId}/balance`)).available, 30);

    await page.goto('/m/vouchers');
    const card = page.locator(`article[data-voucher="${id}"]`);
    await card.waitFor();
    assert.match(await text(card), /和平里爱心超市.*待兑换.*东北大米 5kg ×1、花生油 1\.8L ×1.*50 分/);
    await shot(page, 'phone-vouchers', { full: false });
    noProblems(page);
    await page.context().close();
  });

  it('serves a voucher QR that zbarimg decodes to the token at every size it serves', async () => {
    for (const size of [128, 256, 512, 1024]) {
      const res = await fetch(`${BASE}/api/v1/vouchers/${voucher.id}/qr.png?size=${size}`, { headers: { Cookie: vol.cookie } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/png');
      const file = path.join(tmp, `qr-${size}.png`);
      writeFileSync(file, Buffer.from(await res.arrayBuffer()));
      assert.equal(zbar(file), voucher.token, `size ${size}`);
    }
  });

  it("redeems the voucher from the kiosk camera with one tap", async () => {
    const png = path.join(tmp, 'qr-512.png');
    const y4m = path.join(tmp, 'qr.y4m');
    execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-i', png, '-frames:v', '1', '-vf',
      'scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2:white,format=yuv420p',
      '-f', 'yuv4mpegpipe', y4m]);
    const camera = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--lang=zh-CN', '--autoplay-policy=no-user-gesture-required',
        '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${y4m}`],
      env: { ...process.env, LANGUAGE: 'zh_CN', LANG: 'zh_CN.UTF-8' },
    });
    try {
      // The clerk logs in on the start page like everyone and lands at the counter.
      const page = await open(camera, pc);
      await page.context().grantPermissions(['camera'], { origin: BASE });
      await page.goto('/');
      await loginUI(page, 'counter1', clerkPassword);
      await page.waitForURL((u) => u.pathname === '/kiosk');
      await page.locator('#shop-name', { hasText: '和平里爱心超市' }).waitFor();
      await page.locator('#today .empty-line').waitFor();
      // The camera starts by itself where it was allowed before; else the clerk starts it.
      const preview = page.locator('#k-preview:not([hidden])');
      try {
        await preview.waitFor({ timeout: 6000 });
      } catch {
        await page.click('#cam-start');
        await preview.waitFor({ timeout: 30_000 });
      }
      await page.locator('#pv-who', { hasText: '李*华' }).waitFor();
      assert.equal(await text(page.locator('#pv-points')), '50 分');
      assert.match(await text(page.locator('#pv-lines')), /东北大米 5kg ×1 30 分.*花生油 1\.8L ×1 20 分/);
      assert.equal(await text(page.locator('#pv-status')), '待兑换');
      await shot(page, 'pc-kiosk-preview', { full: false });
      // The volunteer stands at the counter with the voucher open on the phone.
      const phonePage = await open(browser, phone, vol);
      await phonePage.goto(`/m/vouchers/${voucher.id}`);
      await phonePage.locator('#v-status', { hasText: '待兑换' }).waitFor();
      await page.click('#confirm');
      await page.locator('#k-result.good').waitFor();
      assert.match(await text(page.locator('#k-result')), /兑换成功.*李\*华 兑换 50 分/);
      await page.locator('#today li', { hasText: '李*华' }).waitFor();
      assert.equal(await text(page.locator('#today-total')), '50 分');
      await shot(page, 'pc-kiosk-success', { full: false });
      // The phone says so too, within a few seconds, over the QR.
      await phonePage.locator('#v-qr-off:not([hidden])', { hasText: '已于' }).waitFor();
      assert.match(await text(phonePage.locator('#v-status')), /已兑换/);
      await shot(phonePage, 'phone-voucher-after-counter', { full: false });
      noProblems(phonePage);
      await phonePage.context().close();
      // The voucher stays in front of the camera: it is not read again as a refusal.
      await page.waitForTimeout(2000);
      assert.equal(await page.locator('#k-result.good').isVisible(), true);
      noProblems(page);
    } finally {
      await camera.close();
    }
    const v = await vol.ok('GET', `/vouchers/${voucher.id}`);
    assert.equal(v.status, 'redeemed');
  });

  it('refuses the same voucher from a USB scanner, and a mistyped short code, after a reload', async () => {
    const page = await open(browser, pc, clerk);
    await page.goto('/kiosk');
    await page.locator('#k-idle:not([hidden])').waitFor();
    await page.locator('#today li', { hasText: '李*华' }).waitFor();
    // A scanner types the token a few ms a key through the US layout, then Enter.
    await page.locator('body').click({ position: { x: 5, y: 200 } });
    await page.keyboard.type(voucher.token, { delay: 5 });
    await page.keyboard.press('Enter');
    await page.locator('#k-result.bad').waitFor();
    const refusal = await text(page.locator('#k-result'));
    assert.match(refusal, /兑换失败.*已于 \d{4}\/\d\d\/\d\d \d\d:\d\d 在 和平里爱心超市 兑换过/);
    await shot(page, 'pc-kiosk-refused', { full: false });

    // Lower case, as a scanner with Caps Lock on types it, reads the same.
    await page.click('#r-next');
    await page.keyboard.type(voucher.token.toLowerCase(), { delay: 5 });
    await page.keyboard.press('Enter');
    await page.locator('#k-result.bad', { hasText: '兑换过' }).waitFor();

    // One wrong character of the short code, typed by hand, is caught before any lookup.
    await page.click('#r-next');
    const asked = [];
    page.on('request', (r) => {
      if (r.url().includes('/redemptions')) asked.push(r.url());
    });
    await page.fill('#code-input', wrongCode(voucher.code));
    await page.click('#code-form button[type=submit]');
    await page.locator('#code-msg', { hasText: '有一位输错或顺序颠倒' }).waitFor();
    assert.deepEqual(asked, [], 'a mistyped code was sent to the server');
    await shot(page, 'pc-kiosk-code-refused', { full: false });

    // The right code, typed by hand in lower case with a space, finds the voucher (redeemed already).
    await page.fill('#code-input', voucher.code.slice(0, 5).toLowerCase() + ' ' + voucher.code.slice(5));
    await page.click('#code-form button[type=submit]');
    await page.locator('#k-result.bad', { hasText: '兑换过' }).waitFor();
    noProblems(page);
    await page.context().close();
  });

  it('shows the organiser the stock gone down, issues a voucher for a member and prints its slip', async () => {
    const page = await open(browser, pc, org);
    await page.goto('/admin/shops');
    await page.locator('#shops-table tbody tr', { hasText: '和平里爱心超市' }).waitFor();
    await shot(page, 'pc-shops');
    await page.click('#shops-table a:has-text("和平里爱心超市")');
    await page.waitForURL((u) => u.pathname === `/admin/shops/${shop.id}`);
    const rice = page.locator(`#items-table tr[data-item="${items.rice.id}"]`);
    await rice.waitFor();
    assert.equal(await text(rice.locator('.on-hand')), '9');
    assert.equal(await text(rice.locator('.reserved')), '0');
    const oil = page.locator(`#items-table tr[data-item="${items.oil.id}"]`);
    assert.equal(await text(oil.locator('.on-hand')), '7');
    // The kiosk's redemption shows in the shop's total.
    await page.locator('#st-redeemed', { hasText: /^50$/ }).waitFor();

    // A stocktake finds a bag of rice damaged.
    await rice.getByRole('button', { name: '盘点更正' }).click();
    await page.fill('#sf-qty', '-1');
    await page.click('.stock-form button[type=submit]');
    await page.locator('.stock-form .msg', { hasText: '请填写原因' }).waitFor();
    await page.fill('#sf-note', '盘点发现破损1袋');
    await page.click('.stock-form button[type=submit]');
    await page.locator('#items-msg.ok').waitFor();
    assert.equal(await text(rice.locator('.on-hand')), '8');

    // A voucher for a member without a phone.
    await page.fill('#iv-q', '张桂兰');
    await page.locator('#iv-results li', { hasText: '张桂兰' }).getByRole('button', { name: '选择' }).click();
    await page.locator('#iv-chosen', { hasText: '张桂兰' }).waitFor();
    await page.fill(`#iv-qty-${items.towel.id}`, '2');
    // Nothing says the member is here: the page asks first.
    await page.click('#iv-submit');
    await page.locator('#iv-msg', { hasText: '代兑' }).waitFor();
    // She is not here (代兑), and she has no points: the shop says so.
    await page.check('#iv-presence input[value=proxy]');
    await page.click('#iv-submit');
    await page.locator('#iv-msg', { hasText: /积分/ }).waitFor();
    await shot(page, 'pc-shop');

    // 李明华 has 30 points left and is at the desk: he types his password,
    // and gets a towel, printed on a slip.
    await page.fill('#iv-q', '李明华');
    await page.locator('#iv-results li', { hasText: '李明华' }).getByRole('button', { name: '选择' }).click();
    await page.fill(`#iv-qty-${items.towel.id}`, '2');
    await page.check('#iv-presence input[value=password]');
    await page.fill('#pr-pw', 'not his password');
    await page.click('#iv-submit');
    await page.locator('#iv-msg', { hasText: '密码不对' }).waitFor();
    assert.equal(await page.inputValue('#pr-pw'), '', 'a wrong password stays on the screen');
    await page.fill('#pr-pw', volPassword);
    await page.click('#iv-submit');
    await page.locator('#iv-done').waitFor();
    assert.match(await text(page.locator('#iv-done')), /已为 李明华 生成兑换券：10 分，兑换码 [0-9A-Z]{5} [0-9A-Z]{5}。/);
    const towel = page.locator(`#items-table tr[data-item="${items.towel.id}"]`);
    await towel.locator('.reserved', { hasText: '2' }).waitFor();
    const [slip] = await Promise.all([page.context().waitForEvent('page'), page.click('#iv-slip')]);
    await slip.waitForLoadState();
    await slip.waitForFunction(() => document.getElementById('s-qr')?.naturalWidth > 0);
    await slip.locator('#s-member', { hasText: '李*华' }).waitFor();
    assert.match(await text(slip.locator('#s-lines')), /毛巾.*×2.*10/);
    assert.equal(await text(slip.locator('#s-how')), '本人密码确认 · 经办人 刘书记');
    assert.equal(await slip.locator('#s-sign').isVisible(), false, 'a voucher the member confirmed has no signature lines');
    await shot(slip, 'pc-slip-a4');
    const file = path.join(tmp, 'slip-qr.png');
    await slip.locator('#s-qr').screenshot({ path: file });
    const id = new URL(slip.url()).pathname.split('/')[3];
    assert.equal(zbar(file), (await org.ok('GET', `/vouchers/${id}`)).token);
    await slip.goto(`/admin/vouchers/${id}/slip?paper=58mm`);
    await slip.locator('#s-member', { hasText: '李*华' }).waitFor();
    await slip.waitForFunction(() => document.getElementById('s-qr')?.naturalWidth > 0);
    await shot(slip, 'pc-slip-58mm');
    await slip.emulateMedia({ media: 'print' });
    await shot(slip, 'print-slip-58mm');
    // Printed to PDF, each paper is one page of its size, and the QR on it
    // reads with zbarimg after rasterising the page as a printer would.
    for (const [paper, size] of Object.entries(papers)) {
      await slip.emulateMedia({ media: null }); // pdf() prints with print media unless told otherwise
      await slip.goto(`/admin/vouchers/${id}/slip?paper=${paper}`);
      await slip.locator('#s-member', { hasText: '李*华' }).waitFor();
      await slip.waitForFunction(() => document.getElementById('s-qr')?.naturalWidth > 0);
      if (paper === '58mm') await slip.locator('body[data-receipt-length]').waitFor({ state: 'attached' });
      const pdf = path.join(tmp, `slip-${paper}.pdf`);
      await slip.pdf({ path: pdf, preferCSSPageSize: true, printBackground: true });
      const info = execFileSync('pdfinfo', [pdf], { encoding: 'utf8' });
      assert.match(info, /^Pages:\s+1$/m, `${paper}: ${info}`);
      const [, w, h] = info.match(/^Page size:\s+([\d.]+) x ([\d.]+) pts/m);
      assert.ok(Math.abs(w * 25.4 / 72 - size[0]) < 1, `${paper}: ${w} pt wide`);
      if (size[1]) assert.ok(Math.abs(h * 25.4 / 72 - size[1]) < 1, `${paper}: ${h} pt high`);
      else assert.ok(h * 25.4 / 72 > 80 && h * 25.4 / 72 < 180, `the receipt is ${h * 25.4 / 72} mm long`);
      execFileSync('pdftoppm', ['-r', '203', '-gray', '-png', '-singlefile', pdf, path.join(tmp, `slip-${paper}`)]);
      assert.equal(zbar(path.join(tmp, `slip-${paper}.png`)), (await org.ok('GET', `/vouchers/${id}`)).token, paper);
      execFileSync('cp', [path.join(tmp, `slip-${paper}.png`), path.join(screenshots, `print-slip-${paper}.png`)]);
    }
    await slip.close();

    // Towels go up to 6 points and get a picture; the open voucher keeps its 10.
    await towel.getByRole('button', { name: '编辑' }).click();
    await page.fill('#ef-points', '6');
    await page.setInputFiles('#ef-picture', path.join(tmp, 'qr-256.png'));
    await page.click('.edit-form button[type=submit]');
    await page.locator('#items-msg.ok', { hasText: '已保存“毛巾”' }).waitFor();
    await page.waitForFunction((id) => document.querySelector(`tr[data-item="${id}"] img.item-thumb`)?.naturalWidth > 0, items.towel.id);
    assert.equal(await text(towel.locator('.points')), '6');
    assert.equal((await org.ok('GET', `/vouchers/${id}`)).points, 10);
    // A picture that is too big is refused on the page, and nothing changes.
    await towel.getByRole('button', { name: '编辑' }).click();
    await page.fill('#ef-points', '7');
    await page.setInputFiles('#ef-picture', { name: 'big.png', mimeType: 'image/png', buffer: Buffer.alloc(600 << 10, 1) });
    await page.click('.edit-form button[type=submit]');
    await page.locator('.edit-form .msg', { hasText: '超过了 512 KB' }).waitFor();
    await shot(page, 'pc-shop-edit');
    await page.getByRole('button', { name: '收起' }).click();
    assert.equal(await text(towel.locator('.points')), '6');
    noProblems(page);
    await page.context().close();

    // The volunteer's catalogue shows the picture and the new price.
    const m = await open(browser, phone, vol);
    await m.goto('/m/shop');
    const row = m.locator(`li[data-item="${items.towel.id}"]`);
    await row.locator('.item-price', { hasText: '6 分' }).waitFor();
    await m.waitForFunction((id) => document.querySelector(`li[data-item="${id}"] img.item-thumb`)?.naturalWidth > 0, items.towel.id);
    await shot(m, 'phone-shop-pictures', { full: false });
    noProblems(m);
    await m.context().close();
  });

  it('lets the volunteer cancel an open voucher and get the points back', async () => {
    const page = await open(browser, phone, vol);
    await page.goto('/m/vouchers');
    const open1 = page.locator('article[data-status=open]').first();
    await open1.waitFor();
    await open1.getByRole('button', { name: '取消兑换' }).click();
    await open1.getByRole('button', { name: '确定取消' }).click();
    await page.waitForFunction(() => !document.querySelector('article[data-status=open]'));
    assert.equal(await page.locator('article[data-status=cancelled]').count(), 1);
    assert.equal((await vol.ok('GET', `/members/${memberId}/balance`)).available, 30);
    // The redeemed voucher's page says so over its QR.
    await page.goto(`/m/vouchers/${voucher.id}`);
    await page.locator('#v-qr-off:not([hidden])', { hasText: '已于' }).waitFor();
    await shot(page, 'phone-voucher-redeemed', { full: false });
    noProblems(page);
    await page.context().close();
  });

  it('lets the organiser add a clerk by choosing the shop, and lists the clerk with the shop', async () => {
    const page = await open(browser, pc, org);
    await page.goto('/admin/staff');
    await page.selectOption('#s-role', 'clerk');
    await page.locator('#s-shop option', { hasText: '和平里爱心超市' }).waitFor({ state: 'attached' });
    await page.fill('#s-login', 'counter2');
    await page.fill('#s-name', '吴店员');
    await page.fill('#s-password', clerkPassword);
    // The one shop the organiser keeps is chosen for them; without a shop the form refuses.
    assert.equal(await page.locator('#s-shop').inputValue(), shop.id);
    await page.selectOption('#s-shop', '');
    await page.click('#staff-form button[type=submit]');
    await page.locator('#staff-form-msg', { hasText: '请选择店员所在的兑换点' }).waitFor();
    await page.selectOption('#s-shop', { label: '和平里爱心超市（和平里社区）' });
    await page.click('#staff-form button[type=submit]');
    await page.locator('#staff-form-msg.ok').waitFor();
    const row = page.locator('#staff-table tr', { hasText: 'counter2' });
    await row.waitFor();
    assert.match(await text(row), /吴店员.*兑换点店员.*兑换点 和平里爱心超市/);
    await shot(page, 'pc-staff-clerk');
    noProblems(page);
    await page.context().close();
    const c2 = await Client.login('counter2', clerkPassword);
    assert.equal(c2.user.shop_id, shop.id);
  });

  it('keeps a redemption whose answer was lost: the kiosk says the network is down and its retry is the same redemption', async () => {
    const v = await vol.ok('POST', '/vouchers', { shop_id: shop.id, items: [{ item_id: items.towel.id, qty: 1 }] });
    const before = await vol.ok('GET', `/members/${memberId}/balance`);
    const page = await open(browser, pc, clerk);
    await page.goto('/kiosk');
    await page.locator('#k-idle:not([hidden])').waitFor();

    // The browser says the network is gone, then back.
    await page.context().setOffline(true);
    await page.locator('#offline:not([hidden])').waitFor();
    await page.context().setOffline(false);
    await page.locator('#offline').waitFor({ state: 'hidden' });

    // The first redemption reaches the server but its answer is lost; the
    // kiosk's own retries find no network either.
    const keys = [];
    let reached = 0;
    const redemptions = (url) => url.pathname === '/api/v1/redemptions';
    await page.route(redemptions, async (route) => {
      if (route.request().method() !== 'POST') return route.fallback();
      keys.push(route.request().headers()['idempotency-key']);
      if (keys.length === 1) {
        reached = (await route.fetch()).status();
      }
      await route.abort('internetdisconnected');
    });
    await page.locator('body').click({ position: { x: 5, y: 200 } });
    await page.keyboard.type(v.token, { delay: 5 });
    await page.keyboard.press('Enter');
    await page.locator('#pv-who', { hasText: '李*华' }).waitFor();
    await page.click('#confirm');
    await page.locator('#offline:not([hidden])').waitFor();
    await page.locator('#retry:not([hidden])').waitFor({ timeout: 15_000 });
    assert.equal(reached, 200, 'the first redemption reached the server');
    assert.equal(keys.length, 4, 'three retries after the first try');
    await shot(page, 'pc-kiosk-offline', { full: false });

    // The network is back: the clerk taps retry, and the same key gets the first answer.
    await page.unroute(redemptions);
    const sent = page.waitForRequest((r) => r.method() === 'POST' && r.url().includes('/api/v1/redemptions'));
    await page.click('#retry');
    keys.push((await sent).headers()['idempotency-key']);
    await page.locator('#k-result.good', { hasText: '兑换成功' }).waitFor();
    await page.locator('#offline').waitFor({ state: 'hidden' });
    assert.equal(new Set(keys).size, 1, `one key for every try: ${keys}`);
    const after = await vol.ok('GET', `/members/${memberId}/balance`);
    assert.equal(after.available, before.available, 'the points were taken when the voucher was made, not again');
    assert.equal(after.held, before.held - v.points);
    assert.equal((await vol.ok('GET', `/vouchers/${v.id}`)).status, 'redeemed');
    noProblems(page);
    await page.context().close();
  });
});
