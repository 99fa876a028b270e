// The story of issue 4 as people live it: an organiser creates an event on
// the page and puts its rotating check-in QR on a screen; a volunteer scans
// it with a phone and is checked in (a second scan within two minutes is the
// same check-in); a volunteer who is not logged in logs in and lands back on
// the check-in. The organiser's camera reads a member card (a fake camera
// fed a .y4m made from the card's PNG) and checks that member in. A paper
// sign-in sheet is back-filled with a reason, the event is finalised, and
// the volunteer sees the points, the hours and the event in their footprint.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ADMIN, BASE, Client, launch, loginUI, noProblems, open, pc, phone, screenshots, shot, text } from '../lib.mjs';

const orgPassword = 'xiangyang-2026-organiser';
const volPassword = 'xiangyang-volunteer-2026';

// local is a time as a datetime-local field in Beijing time takes it.
const local = (ms) => new Date(ms + 8 * 3600e3).toISOString().slice(0, 16);
const minute = 60e3;

// watch collects a page's script errors and CSP refusals, as open() does,
// for a page the browser opened itself (a link with target=_blank).
function watch(page) {
  page.problems = [];
  page.on('pageerror', (err) => page.problems.push('script error: ' + err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content.Security.Policy|Refused to/i.test(msg.text())) page.problems.push('CSP: ' + msg.text());
  });
  page.setDefaultTimeout(10_000);
  return page;
}

// decodeQR screenshots the display page's QR and decodes it with zbarimg.
async function decodeQR(page, name) {
  await page.waitForFunction(() => document.getElementById('qr')?.naturalWidth > 0);
  const file = path.join(screenshots, name + '.png');
  await page.locator('#qr').screenshot({ path: file });
  return execFileSync('zbarimg', ['-q', '--raw', '--nodbus', file], { encoding: 'utf8' }).trim();
}

const checkinURL = new RegExp('^' + BASE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '/c/[0-9A-Z]{20,}$');

describe('events and QR check-in', () => {
  let browser, admin, org, unit, members, eventId;
  let orgPage; // the organiser's event page, kept across steps
  let display; // the display page on the organiser's PC
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'aixin-e2e-'));

  before(async () => {
    admin = await Client.login(ADMIN.login, ADMIN.password);
    const street = await admin.ok('POST', '/units', { name: '向阳街道', kind: 'street' });
    unit = await admin.ok('POST', '/units', { name: '向阳社区', kind: 'community', parent_id: street.id });
    await admin.ok('POST', '/users', { login: 'xiangyang', password: orgPassword, role: 'organizer', name: '周主任', unit_id: unit.id });
    const member = (name, phone) => admin.ok('POST', '/members', { name, phone, unit_id: unit.id, password: volPassword });
    members = {
      liming: await member('李明', '13600000001'),
      wangli: await member('王丽', '13600000002'),
      zhao: await member('赵大爷', '13600000003'),
      sun: await member('孙阿姨', '13600000004'),
    };
    org = await Client.login('xiangyang', orgPassword);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('creates an event on the page and shows its rotating code full screen', async () => {
    orgPage = await open(browser, pc, org);
    await orgPage.goto('/admin/events');
    await orgPage.locator('#events .empty').waitFor();
    await orgPage.click('#show-new');
    await orgPage.fill('#e-title', '向阳社区楼道环境整治');
    await orgPage.selectOption('#e-category', '环境整治');
    await orgPage.selectOption('#e-unit', unit.id);
    await orgPage.fill('#e-place', '向阳社区3号楼楼下');
    const now = Date.now();
    await orgPage.fill('#e-starts', local(now - 5 * minute));
    await orgPage.fill('#e-ends', local(now + 120 * minute));
    assert.equal(await orgPage.inputValue('#e-pph'), '10', 'ten points an hour by default');
    await orgPage.fill('#e-capacity', '30');
    await shot(orgPage, 'pc-events-new');
    await orgPage.click('#event-form button[type=submit]');
    await orgPage.waitForURL((u) => /^\/admin\/events\/[0-9a-f-]{36}$/.test(u.pathname));
    eventId = new URL(orgPage.url()).pathname.split('/').pop();
    await orgPage.locator('#ev-status .ev-open').waitFor();
    assert.match(await text(orgPage.locator('#ev-sub')), /向阳社区3号楼楼下.*环境整治.*向阳社区/);
    assert.equal(await text(orgPage.locator('#count-in')), '0');
    const ev = await org.ok('GET', `/events/${eventId}`);
    assert.equal(new Date(ev.starts_at).getTime(), Math.floor((now - 5 * minute) / minute) * minute, 'the start was taken in Beijing time');

    [display] = await Promise.all([orgPage.context().waitForEvent('page'), orgPage.click('#open-display')]);
    watch(display);
    await display.waitForURL((u) => u.pathname === `/admin/events/${eventId}/display`);
    const url = await decodeQR(display, 'pc-display-qr');
    assert.match(url, checkinURL);
    assert.match(await text(display.locator('#d-title')), /向阳社区楼道环境整治/);
    await display.locator('#countdown', { hasText: /秒后更换二维码/ }).waitFor();
    await shot(display, 'pc-display', { full: false });
    // Nothing may stick out of the screen on a projector.
    const overflow = await display.evaluate(() => [document.documentElement.scrollWidth - innerWidth, document.documentElement.scrollHeight - innerHeight]);
    assert.ok(overflow[0] <= 0 && overflow[1] <= 0, `the display page overflows the screen by ${overflow}`);
    noProblems(display);
    noProblems(orgPage);
  });

  it('checks a logged-in volunteer in from the decoded URL, once', async () => {
    const url = await decodeQR(display, 'pc-display-qr');
    const liming = await Client.login('13600000001', volPassword);
    const page = await open(browser, phone, liming);
    await page.goto(url);
    await page.locator('#result', { hasText: /^已签到 \d\d:\d\d$/ }).waitFor();
    assert.match(await text(page.locator('#event-title')), /向阳社区楼道环境整治/);
    await shot(page, 'phone-checkin', { full: false });

    // The same code again within two minutes is the same check-in, not a check-out.
    await page.goto(url);
    await page.locator('#result', { hasText: /^已签到/ }).waitFor();
    const list = await org.ok('GET', `/events/${eventId}/attendance`);
    assert.equal(list.attendances.length, 1);
    assert.equal(list.attendances[0].status, 'open');

    await orgPage.locator('#count-in', { hasText: /^1$/ }).waitFor({ timeout: 15_000 });
    await orgPage.locator('#attendance-table tbody tr', { hasText: '李明' }).waitFor();
    await display.locator('#d-in', { hasText: /^1$/ }).waitFor({ timeout: 15_000 });
    noProblems(page);
    await page.context().close();
  });

  it('sends a volunteer who is not logged in to log in and back to the check-in', async () => {
    const url = await decodeQR(display, 'pc-display-qr');
    const page = await open(browser, phone);
    await page.goto(url);
    assert.equal(new URL(page.url()).pathname, '/');
    assert.match(new URL(page.url()).searchParams.get('next'), /^\/c\/[0-9A-Z]+\?/);
    await loginUI(page, '13600000002', volPassword);
    await page.waitForURL((u) => u.pathname.startsWith('/c/'));
    await page.locator('#result', { hasText: /^已签到/ }).waitFor();
    await shot(page, 'phone-checkin-after-login', { full: false });
    await orgPage.locator('#count-in', { hasText: /^2$/ }).waitFor({ timeout: 15_000 });
    noProblems(page);
    await page.context().close();
  });

  it('shows the display page on a phone held up at the door', async () => {
    const page = await open(browser, phone, org);
    await page.goto(`/admin/events/${eventId}/display`);
    const url = await decodeQR(page, 'phone-display-qr');
    assert.match(url, checkinURL);
    await page.locator('#d-in', { hasText: /^2$/ }).waitFor();
    await shot(page, 'phone-display', { full: false });
    await page.goto(`/admin/events/${eventId}/display?lang=en`);
    await page.locator('#countdown', { hasText: /New code in \d+ s/ }).waitFor();
    assert.match(await text(page.locator('.d-counts')), /Checked in ?2 Checked out ?0/);
    await shot(page, 'phone-display-en', { full: false });

    // The event page itself stays usable on the organiser's phone.
    await page.goto(`/admin/events/${eventId}`);
    await page.locator('#attendance-table').waitFor();
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    assert.ok(wide <= 0, `the event page is ${wide}px wider than the phone`);
    await shot(page, 'phone-event');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    assert.ok(overflow <= 0, `the display page is ${overflow}px wider than the phone`);
    noProblems(page);
    await page.context().close();
  });

  it("checks a member in with the organiser's camera reading their card", async () => {
    // The card as the organiser's page links it, made into a one-frame video.
    const res = await fetch(`${BASE}/api/v1/members/${members.zhao.id}/card.png`, { headers: { Cookie: org.cookie } });
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
      await page.goto(`/admin/events/${eventId}`);
      await page.locator('#attendance-table').waitFor();
      await page.click('#scan-start');
      const result = page.locator('#scan-result.good', { hasText: '赵大爷' });
      await result.waitFor({ timeout: 30_000 });
      assert.match(await text(result), /赵大爷 签到成功 \d\d:\d\d/);
      const row = page.locator('#attendance-table tbody tr', { hasText: '赵大爷' });
      await row.waitFor();
      assert.match(await text(row), /136\*\*\*\*0003.*已签到.*工作人员登记/);
      // The card stays in front of the camera: it is not read again as a check-out.
      await page.waitForTimeout(2500);
      assert.equal(await page.locator('#attendance-table tbody tr', { hasText: '赵大爷' }).count(), 1);
      assert.match(await text(row), /已签到/);
      await shot(page, 'pc-event-scan', { full: false });
      await page.click('#scan-stop');
      noProblems(page);
    } finally {
      await camera.close();
    }
  });

  it("closes a missed check-out with a reason", async () => {
    await orgPage.reload();
    const row = orgPage.locator('#attendance-table tbody tr', { hasText: '王丽' });
    await row.getByRole('button', { name: '补签退' }).click();
    await orgPage.fill('#row-reason', '忘记扫码签退，经现场负责人核实');
    await orgPage.click('tr.inline-row button[type=submit]');
    await orgPage.locator('#attendance-table tbody tr[data-status=closed]', { hasText: '王丽' }).waitFor();
    assert.match(await text(orgPage.locator('#attendance-table tbody tr', { hasText: '王丽' })), /已签退.*忘记扫码签退/);
    await orgPage.locator('#count-out', { hasText: /^1$/ }).waitFor();
    await shot(orgPage, 'pc-event');
    noProblems(orgPage);
  });

  it('back-fills a paper sheet, finalises, and the volunteer sees the points', async () => {
    // Yesterday's visit, created with past times for back-filling.
    const day = local(Date.now() - 24 * 3600e3).slice(0, 10);
    const past = await admin.ok('POST', '/events', {
      title: '敬老院助老服务', category: '助老助残', unit_id: unit.id, place: '向阳社区敬老院',
      starts_at: `${day}T09:00:00+08:00`, ends_at: `${day}T12:00:00+08:00`,
    });
    await orgPage.goto(`/admin/events/${past.id}`);
    await orgPage.locator('#attendance .empty').waitFor();
    await orgPage.fill('#bf-q', '孙阿姨');
    await orgPage.locator('#bf-results li', { hasText: '孙阿姨' }).getByRole('button', { name: '选择' }).click();
    await orgPage.locator('#bf-chosen', { hasText: '孙阿姨' }).waitFor();
    await orgPage.fill('#bf-in', `${day}T09:00`);
    await orgPage.fill('#bf-out', `${day}T11:30`);
    // Without a reason the page says so and sends nothing.
    await orgPage.click('#backfill-form button[type=submit]');
    await orgPage.locator('#bf-msg', { hasText: '请填写原因' }).waitFor();
    await orgPage.fill('#bf-reason', '按纸质签到表补录');
    await orgPage.click('#backfill-form button[type=submit]');
    await orgPage.locator('#bf-msg.ok').waitFor();
    assert.equal(await text(orgPage.locator('#bf-msg')), '已为 孙阿姨 补录 2 小时 30 分钟，待结算积分 25 分');
    const row = orgPage.locator('#attendance-table tbody tr', { hasText: '孙阿姨' });
    assert.match(await text(row), /09:00.*11:30.*2 小时 30 分钟.*25.*已签退.*补录.*按纸质签到表补录/);

    await orgPage.click('#finalize');
    await orgPage.locator('#confirm').waitFor();
    await orgPage.click('#confirm-yes');
    await orgPage.locator('#finalize-result').waitFor();
    assert.equal(await text(orgPage.locator('#fin-posted')), '1');
    assert.equal(await text(orgPage.locator('#fin-points')), '25');
    assert.equal(await text(orgPage.locator('#fin-hours')), '2.5 小时');
    await orgPage.locator('#ev-status .ev-finalised').waitFor();
    await orgPage.locator('#attendance-table tbody tr[data-status=posted]', { hasText: '孙阿姨' }).waitFor();
    await shot(orgPage, 'pc-event-finalised');
    noProblems(orgPage);

    // The volunteer's home, after a scan that is refused: a code altered by hand.
    const sun = await Client.login('13600000004', volPassword);
    const page = await open(browser, phone, sun);
    const { url } = await org.ok('GET', `/events/${eventId}/code`);
    await page.goto(url.slice(0, -1) + (url.endsWith('0') ? '1' : '0'));
    await page.locator('#checkin.bad').waitFor();
    assert.match(await text(page.locator('#result')), /不是有效的签到二维码/);
    await shot(page, 'phone-checkin-refused', { full: false });
    await page.goto('/m/');
    await page.locator('#b-points', { hasText: '25' }).waitFor();
    assert.equal(await text(page.locator('#b-hours')), '2.5 小时');
    assert.match(await text(page.locator('#stars')), /☆☆☆☆☆.*志愿者.*再服务 97\.5 小时即可成为一星志愿者/);
    const item = page.locator('#footprint li', { hasText: '敬老院助老服务' });
    await item.waitFor();
    assert.match(await text(item), /2 小时 30 分钟.*助老助残.*已入账.*\+25/);
    await shot(page, 'phone-home-events', { full: false });
    // The points history below has the earn entry the finalising posted.
    const entry = page.locator('#entries .footprint li', { hasText: '+25' });
    await entry.waitFor();
    await entry.evaluate((e) => e.scrollIntoView({ block: 'center' }));
    await shot(page, 'phone-home-entries-events', { full: false });
    noProblems(page);
    await page.context().close();
  });

  it('reviews an attendance where the event needs review before points', async () => {
    const day = local(Date.now() - 2 * 24 * 3600e3).slice(0, 10);
    const ev = await admin.ok('POST', '/events', {
      title: '文明劝导岗', category: '文明劝导', unit_id: unit.id, review_required: true,
      starts_at: `${day}T14:00:00+08:00`, ends_at: `${day}T17:00:00+08:00`,
    });
    await admin.ok('POST', `/events/${ev.id}/attendance`, {
      member_id: members.liming.id, action: 'backfill', reason: '纸质签到表',
      checked_in_at: `${day}T14:00:00+08:00`, checked_out_at: `${day}T17:00:00+08:00`,
    });
    await orgPage.goto(`/admin/events/${ev.id}`);
    await orgPage.locator('#review-hint').waitFor();
    const row = () => orgPage.locator('#attendance-table tbody tr', { hasText: '李明' });
    await row().getByRole('button', { name: '调整时长' }).click();
    await orgPage.fill('#row-minutes', '120');
    await orgPage.click('tr.inline-row button[type=submit]');
    await orgPage.locator('tr.inline-row .msg', { hasText: '请填写原因' }).waitFor();
    await orgPage.fill('#row-reason', '中途离岗一小时');
    await orgPage.click('tr.inline-row button[type=submit]');
    await orgPage.locator('#attendance-table tbody tr[data-status=confirmed]', { hasText: '李明' }).waitFor();
    assert.match(await text(row()), /2 小时.*原 3 小时.*20.*已确认.*中途离岗一小时/);
    await orgPage.click('#finalize');
    await orgPage.click('#confirm-yes');
    await orgPage.locator('#fin-points', { hasText: '20' }).waitFor();
    await orgPage.locator('#attendance-table tbody tr[data-status=posted]', { hasText: '李明' }).waitFor();

    // A correction after posting: the entry is reversed and the new time posted.
    await row().getByRole('button', { name: '更正时长' }).click();
    await orgPage.fill('#row-minutes', '90');
    await orgPage.fill('#row-reason', '核对签到表，实际服务一个半小时');
    await orgPage.click('tr.inline-row button[type=submit]');
    await orgPage.locator('#attendance-table tbody tr', { hasText: '核对签到表' }).waitFor();
    assert.match(await text(row()), /1 小时 30 分钟.*15.*已入账/);
    const balance = await org.ok('GET', `/members/${members.liming.id}/balance`);
    assert.equal(balance.points, 15);
    assert.equal(balance.service_minutes, 90);
    await shot(orgPage, 'pc-event-reviewed');

    // The list shows every event with its counts, and filters by status.
    await orgPage.goto('/admin/events');
    await orgPage.locator('#events-table').waitFor();
    assert.equal(await orgPage.locator('#events-table tbody tr').count(), 3);
    assert.match(await text(orgPage.locator('#events-table tbody tr', { hasText: '向阳社区楼道环境整治' })), /环境整治.*向阳社区.*签到中.*2.*1/);
    await shot(orgPage, 'pc-events');
    await orgPage.selectOption('#f-status', 'finalised');
    await orgPage.waitForFunction(() => document.querySelectorAll('#events-table tbody tr').length === 2);
    assert.equal(new URL(orgPage.url()).searchParams.get('status'), 'finalised');
    noProblems(orgPage);
  });

  it('shows no code for an event that is not open yet, and the code once it opens', async () => {
    const now = Date.now();
    const draft = await admin.ok('POST', '/events', {
      title: '垃圾分类宣传', category: '政策宣讲', unit_id: unit.id, status: 'draft',
      starts_at: new Date(now + 10 * minute).toISOString(), ends_at: new Date(now + 70 * minute).toISOString(),
    });
    const page = await open(browser, pc, org);
    await page.goto(`/admin/events/${draft.id}/display`);
    await page.locator('#qr-off', { hasText: '活动还没有开放签到' }).waitFor();
    assert.equal(await page.locator('#countdown-box').isVisible(), false);
    await shot(page, 'pc-display-draft', { full: false });
    await org.ok('POST', `/events/${draft.id}/status`, { status: 'open' });
    await page.locator('#qr-off').waitFor({ state: 'hidden', timeout: 20_000 });
    assert.match(await decodeQR(page, 'pc-display-qr'), checkinURL);
    noProblems(page);
    await page.context().close();
  });
});
