// Issue 12, item 12: spending a member's points on their behalf needs the
// member. At the shop's page the organiser scans the member's card QR with
// the computer's camera (a fake camera fed a .y4m made from the card's PNG)
// and issues a voucher; another member's card is refused. For a member who
// is not there the organiser chooses 代兑: its slip prints the signature
// lines (printed to PDF, read back with pdftotext and zbarimg), and the
// kiosk's preview and the shop's list show it as 代兑 with the organiser.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ADMIN, BASE, Client, launch, noProblems, open, pc, screenshots, shot, text } from '../lib.mjs';

const orgPassword = 'minsheng-2026-organiser';
const clerkPassword = 'minsheng-2026-counter';

const zbar = (file) => execFileSync('zbarimg', ['-q', '--raw', '--nodbus', file], { encoding: 'utf8' }).trim();

describe('love supermarket: vouchers made on a member\'s behalf', () => {
  let browser, admin, org, clerk, unit, shop, towel, chen, gao, cardVoucher, proxyVoucher;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'aixin-behalf-'));

  // earn gives a member points for a back-filled morning of service.
  async function earn(member, hours) {
    const day = new Date(Date.now() - 16 * 3600e3).toISOString().slice(0, 10);
    const ev = await org.ok('POST', '/events', {
      title: '助老送餐', category: '助老助残', unit_id: unit.id,
      starts_at: `${day}T08:00:00+08:00`, ends_at: `${day}T${String(8 + hours).padStart(2, '0')}:00:00+08:00`,
    });
    await org.ok('POST', `/events/${ev.id}/attendance`, {
      member_id: member.id, action: 'backfill', reason: '纸质签到表',
      checked_in_at: `${day}T08:00:00+08:00`, checked_out_at: `${day}T${String(8 + hours).padStart(2, '0')}:00:00+08:00`,
    });
    await org.ok('POST', `/events/${ev.id}/finalize`);
  }

  before(async () => {
    admin = await Client.login(ADMIN.login, ADMIN.password);
    const street = await admin.ok('POST', '/units', { name: '民生街道', kind: 'street' });
    unit = await admin.ok('POST', '/units', { name: '民生社区', kind: 'community', parent_id: street.id });
    await admin.ok('POST', '/users', { login: 'minsheng', password: orgPassword, role: 'organizer', name: '郑主任', unit_id: unit.id });
    org = await Client.login('minsheng', orgPassword);
    shop = await org.ok('POST', '/shops', { name: '民生爱心超市', kind: 'love_supermarket', unit_id: unit.id });
    towel = await org.ok('POST', `/shops/${shop.id}/items`, { name: '纯棉毛巾', points: 10, stock: 30 });
    await admin.ok('POST', '/users', { login: 'minsheng-counter', password: clerkPassword, role: 'clerk', name: '钱店员', shop_id: shop.id });
    clerk = await Client.login('minsheng-counter', clerkPassword);
    // Two members without smartphones (and without passwords).
    chen = await org.ok('POST', '/members', { name: '陈桂芳', phone: '15900000031', unit_id: unit.id });
    gao = await org.ok('POST', '/members', { name: '高振华', phone: '15900000032', unit_id: unit.id });
    await earn(chen, 3);
    await earn(gao, 3);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("issues a voucher by scanning the member's card with the computer's camera", async () => {
    // 陈桂芳's card, as the member page links it, made into a one-frame video.
    const res = await fetch(`${BASE}/api/v1/members/${chen.id}/card.png`, { headers: { Cookie: org.cookie } });
    assert.equal(res.status, 200);
    const png = path.join(tmp, 'card.png');
    const y4m = path.join(tmp, 'card.y4m');
    writeFileSync(png, Buffer.from(await res.arrayBuffer()));
    execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-i', png, '-frames:v', '1', '-vf',
      'scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2:white,format=yuv420p',
      '-f', 'yuv4mpegpipe', y4m]);
    const camera = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--lang=zh-CN',
        '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${y4m}`],
      env: { ...process.env, LANGUAGE: 'zh_CN', LANG: 'zh_CN.UTF-8' },
    });
    try {
      const page = await open(camera, pc, org);
      await page.context().grantPermissions(['camera'], { origin: BASE });
      await page.goto(`/admin/shops/${shop.id}`);
      await page.locator(`#iv-qty-${towel.id}`).waitFor();

      // First 高振华 is chosen but 陈桂芳's card is held up: refused.
      await page.fill('#iv-q', '高振华');
      await page.locator('#iv-results li', { hasText: '高振华' }).getByRole('button', { name: '选择' }).click();
      await page.locator('#iv-presence:not([hidden])').waitFor();
      await page.fill(`#iv-qty-${towel.id}`, '1');
      await page.check('#iv-presence input[value=card]');
      await page.click('#iv-submit');
      await page.locator('#iv-msg', { hasText: '请先扫描会员卡' }).waitFor();
      await page.click('#pr-cam-start');
      await page.locator('#pr-card-state.good', { hasText: '已读取会员卡' }).waitFor({ timeout: 30_000 });
      await page.click('#iv-submit');
      await page.locator('#iv-msg', { hasText: '这张会员卡不是所选会员的' }).waitFor();
      assert.equal((await org.ok('GET', `/members/${gao.id}/balance`)).held, 0, 'a refused voucher held nothing');

      // 陈桂芳 herself: her card.
      await page.fill('#iv-q', '陈桂芳');
      await page.locator('#iv-results li', { hasText: '陈桂芳' }).getByRole('button', { name: '选择' }).click();
      await page.locator('#iv-chosen', { hasText: '陈桂芳' }).waitFor();
      await page.fill(`#iv-qty-${towel.id}`, '2');
      await page.check('#iv-presence input[value=card]');
      await page.click('#pr-cam-start');
      await page.locator('#pr-card-state.good', { hasText: '陈桂芳' }).waitFor({ timeout: 30_000 });
      await shot(page, 'pc-shop-card-read', { full: false });
      await page.click('#iv-submit');
      await page.locator('#iv-done', { hasText: '已为 陈桂芳 生成兑换券：20 分' }).waitFor();
      const id = (await page.locator('#iv-slip').getAttribute('href')).split('/')[3];
      cardVoucher = await org.ok('GET', `/vouchers/${id}`);
      assert.equal(cardVoucher.presence, 'card');
      assert.equal(cardVoucher.created_by_name, '郑主任');
      assert.equal(cardVoucher.proxy, undefined);
      noProblems(page);
    } finally {
      await camera.close();
    }
  });

  it('issues a 代兑 voucher whose slip prints the signature lines', async () => {
    const page = await open(browser, pc, org);
    await page.goto(`/admin/shops/${shop.id}`);
    await page.fill('#iv-q', '高振华');
    await page.locator('#iv-results li', { hasText: '高振华' }).getByRole('button', { name: '选择' }).click();
    await page.fill(`#iv-qty-${towel.id}`, '1');
    await page.check('#iv-presence input[value=proxy]');
    await page.locator('#pr-proxy:not([hidden])', { hasText: '领取人签字' }).waitFor();
    await shot(page, 'pc-shop-proxy');
    await page.click('#iv-submit');
    await page.locator('#iv-done', { hasText: '这是代兑券' }).waitFor();
    const [slip] = await Promise.all([page.context().waitForEvent('page'), page.click('#iv-slip')]);
    await slip.waitForLoadState();
    const id = new URL(slip.url()).pathname.split('/')[3];
    proxyVoucher = await org.ok('GET', `/vouchers/${id}`);
    assert.equal(proxyVoucher.presence, 'proxy');
    assert.equal(proxyVoucher.proxy, true);
    await slip.locator('#s-sign:not([hidden])').waitFor();
    await slip.waitForFunction(() => document.getElementById('s-qr')?.naturalWidth > 0);
    assert.match(await text(slip.locator('#s-sign')), /代兑 · 签字确认.*领取人签字：.*经办人：\s*郑主任.*日期：/);
    await shot(slip, 'pc-slip-proxy-a4');
    // Printed to PDF on each paper: one page, the signature lines in its
    // text, the QR readable from the page rasterised as a printer would.
    for (const paper of ['a4', 'a5', '58mm']) {
      await slip.emulateMedia({ media: null });
      await slip.goto(`/admin/vouchers/${id}/slip?paper=${paper}`);
      await slip.locator('#s-sign:not([hidden])').waitFor();
      await slip.waitForFunction(() => document.getElementById('s-qr')?.naturalWidth > 0);
      if (paper === '58mm') await slip.locator('body[data-receipt-length]').waitFor({ state: 'attached' });
      const pdf = path.join(tmp, `proxy-${paper}.pdf`);
      await slip.pdf({ path: pdf, preferCSSPageSize: true, printBackground: true });
      assert.match(execFileSync('pdfinfo', [pdf], { encoding: 'utf8' }), /^Pages:\s+1$/m, `${paper} is one page`);
      const words = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
      const flat = words.replace(/\s+/g, ''); // letter spacing comes out as spaces
      for (const want of ['代兑·签字确认', '领取人签字：', '经办人：郑主任', '日期：', proxyVoucher.code]) {
        assert.ok(flat.includes(want), `${paper}: the printed slip has no “${want}”:\n${words}`);
      }
      execFileSync('pdftoppm', ['-r', '203', '-gray', '-png', '-singlefile', pdf, path.join(tmp, `proxy-${paper}`)]);
      assert.equal(zbar(path.join(tmp, `proxy-${paper}.png`)), proxyVoucher.token, paper);
      copyFileSync(path.join(tmp, `proxy-${paper}.png`), path.join(screenshots, `print-slip-proxy-${paper}.png`));
    }
    // A voucher the member confirmed by card prints no signature lines.
    await slip.goto(`/admin/vouchers/${cardVoucher.id}/slip`);
    await slip.locator('#s-how', { hasText: '刷会员卡 · 经办人 郑主任' }).waitFor();
    assert.equal(await slip.locator('#s-sign').isVisible(), false);
    noProblems(page);
    await page.context().close();
  });

  it('shows the 代兑 at the kiosk and in the shop\'s list, with the organiser', async () => {
    const kiosk = await open(browser, pc, clerk);
    await kiosk.goto('/kiosk');
    await kiosk.locator('#k-idle:not([hidden])').waitFor();
    await kiosk.fill('#code-input', proxyVoucher.code);
    await kiosk.click('#code-form button[type=submit]');
    await kiosk.locator('#pv-proxy:not([hidden])', { hasText: '代兑券（经办人 郑主任）' }).waitFor();
    await shot(kiosk, 'pc-kiosk-proxy', { full: false });
    await kiosk.click('#confirm');
    await kiosk.locator('#k-result.good').waitFor();
    await kiosk.locator('#today li', { hasText: '高*华' }).locator('.proxy-chip', { hasText: '代兑' }).waitFor();
    noProblems(kiosk);
    await kiosk.context().close();
    await clerk.ok('POST', '/redemptions', { code: cardVoucher.code });

    const page = await open(browser, pc, org);
    await page.goto(`/admin/shops/${shop.id}`);
    const proxyLine = page.locator(`#rd-table tr[data-voucher="${proxyVoucher.id}"]`);
    const cardLine = page.locator(`#rd-table tr[data-voucher="${cardVoucher.id}"]`);
    await proxyLine.waitFor();
    assert.match(await text(proxyLine), /高\*华.*纯棉毛巾 ×1.*10.*钱店员.*代兑 · 经办人 郑主任/);
    assert.match(await text(cardLine), /陈\*芳.*纯棉毛巾 ×2.*20.*钱店员.*刷会员卡 · 经办人 郑主任/);
    await shot(page, 'pc-shop-behalf-list');
    noProblems(page);
    await page.context().close();
  });
});
