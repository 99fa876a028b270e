// Points that expire (积分有效期), across a year's end. A server of its own on
// a fresh data folder, started three times on a clock set by AIXIN_TEST_CLOCK
// (the only way to stand at a year's end whatever day the test runs):
//
//   2031-03-01  the street sets "one year after the end of the year earned";
//               a volunteer serves (60 points of 2031)
//   2032-12-10  she serves again (60 of 2032) and makes a voucher of 20 (held):
//               her home page warns that 40 points expire at the end of 2032
//               (the 60 of 2031 less the 20 held, which go first and are kept)
//   2033-01-01  the sweep at start takes exactly those 40; the voucher still
//               holds its 20; a restart takes nothing twice; the ledger verifies.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { ADMIN, Client, freshServer, launch, noProblems, open, pc, phone, shot, text } from '../lib.mjs';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const volPassword = 'huangshan-volunteer-2031';

// axe runs axe-core's WCAG 2.1 A and AA rules on the page and answers its violations.
async function axe(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}

describe('points that expire across a year end', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'aixin-expiry-'));
  const data = path.join(tmp, 'data');
  let browser, server, admin, vol, street, community, member, shop, item;

  // serve (re)starts the server at the given time.
  async function serve(at) {
    await server?.stop();
    server = await freshServer(data, { AIXIN_TEST_CLOCK: at });
    admin = await Client.login(ADMIN.login, ADMIN.password, server.url);
  }

  // service adds an event of that morning to the volunteer's service, as a
  // paper sheet back-filled and finalised: hours × 30 points.
  async function service(day, hours) {
    const ev = await admin.ok('POST', '/events', {
      title: '黄山风景区文明劝导', category: '文明劝导', unit_id: community.id, points_per_hour: 30,
      starts_at: `${day}T06:00:00+08:00`, ends_at: `${day}T${String(6 + hours).padStart(2, '0')}:00:00+08:00`,
    });
    await admin.ok('POST', `/events/${ev.id}/attendance`, {
      member_id: member.id, action: 'backfill', reason: '纸质签到表',
      checked_in_at: ev.starts_at, checked_out_at: ev.ends_at,
    });
    await admin.ok('POST', `/events/${ev.id}/finalize`);
  }

  before(async () => {
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('2031: the street sets its policy on the units page, seeing what it takes', async () => {
    await serve('2031-03-01T09:00:00+08:00');
    street = await admin.ok('POST', '/units', { name: '屯溪街道', kind: 'street' });
    community = await admin.ok('POST', '/units', { name: '老街社区', kind: 'community', parent_id: street.id });
    member = await admin.ok('POST', '/members', { name: '汪桂兰', phone: '13600000041', unit_id: community.id, password: volPassword });
    await service('2031-03-01', 2); // 60 points of 2031

    const page = await open(browser, pc, admin);
    await page.goto('/admin/units');
    const row = page.locator(`li[data-unit-id="${street.id}"]`);
    assert.equal(await text(row.locator('.unit-expiry .hint').first()), '积分长期有效');
    await row.locator('.expiry-settings').first().click();
    const form = row.locator('form.inline-form');
    await form.getByLabel('积分到期规则').selectOption('1');
    // Under one year nothing is due now: 2031's points go at the end of 2032.
    await form.locator('.expiry-preview p', { hasText: '目前没有积分会到期' }).waitFor();
    await shot(page, 'pc-units-expiry-form');
    await form.getByRole('button', { name: '保存' }).click();
    await row.locator('.unit-expiry .hint', { hasText: '积分在获得当年年底后 1 年到期' }).first().waitFor();
    await shot(page, 'pc-units-expiry-set');
    noProblems(page);
    await page.context().close();
    const [s] = (await admin.ok('GET', '/units')).units;
    assert.equal(s.expiry_years, 1);
  });

  it('2032-12-10: the volunteer is warned, and the held points are not counted', async () => {
    await serve('2032-12-10T09:00:00+08:00');
    await service('2032-12-09', 1);
    await service('2032-12-10', 1); // 60 points of 2032
    shop = await admin.ok('POST', '/shops', { name: '老街爱心超市', kind: 'love_supermarket', unit_id: community.id });
    item = await admin.ok('POST', `/shops/${shop.id}/items`, { name: '徽州毛峰 100g', points: 20, stock: 10 });
    vol = await Client.login('13600000041', volPassword, server.url);
    const voucher = await vol.ok('POST', '/vouchers', { shop_id: shop.id, items: [{ item_id: item.id, qty: 1 }] });
    assert.equal(voucher.points, 20);
    // 120 points: 60 of 2031 (20 of them held), 60 of 2032.
    const b = await vol.ok('GET', `/members/${member.id}/balance`);
    assert.deepEqual([b.points, b.held, b.available], [120, 20, 100]);
    assert.deepEqual(b.expiring, { points: 40, at: '2033-01-01T00:00:00+08:00', year: 2031 });

    const page = await open(browser, phone, vol);
    await page.goto('/m/');
    const warning = page.locator('#expiring');
    await warning.waitFor();
    assert.equal(await text(page.locator('#expiring-text')), '40 积分将于 2032/12/31 到期');
    await shot(page, 'm-home-expiring', { full: false });
    const found = [];
    for (const size of ['100', '150', '200']) {
      await page.locator(`button[data-text-size="${size}"]`).first().click();
      // Nothing spills out of the card at large text.
      const spill = await page.evaluate(() => {
        const box = document.getElementById('expiring');
        return [box.scrollWidth - box.clientWidth, document.documentElement.scrollWidth - document.documentElement.clientWidth];
      });
      assert.deepEqual(spill, [0, 0], `at ${size} % the warning spills over`);
      found.push(...(await axe(page)).map((v) => `${size} %: ${v}`));
      if (size !== '150') await shot(page, `m-home-expiring-${size}`, { full: false });
    }
    assert.deepEqual(found, []);
    await page.locator('button[data-text-size="100"]').first().click();
    // In English too.
    await page.goto('/m/?lang=en');
    assert.equal(await text(page.locator('#expiring-text')), '40 points expire at the end of 12/31/2032');
    noProblems(page);
    await page.context().close();

    // The organiser's preview says the same before the day.
    const p = await admin.ok('GET', `/admin/expiry?street=${street.id}`);
    assert.deepEqual([p.next_year, p.next_points, p.next_accounts, p.due_points], [2031, 40, 1, 0]);
    const units = await open(browser, pc, admin);
    await units.goto('/admin/units');
    const row = units.locator(`li[data-unit-id="${street.id}"]`);
    await row.locator('.expiry-settings').first().click();
    await row.locator('.expiry-preview p', { hasText: '2032/12/31 到期：1 个账户共 40 积分' }).waitFor();
    const violations = await axe(units);
    await shot(units, 'pc-units-expiry-preview');
    noProblems(units);
    await units.context().close();
    assert.deepEqual(violations, []);
  });

  it('2033-01-01: the sweep takes exactly those 40, once, and leaves the voucher', async () => {
    await serve('2033-01-01T00:00:30+08:00');
    vol = await Client.login('13600000041', volPassword, server.url);
    let b;
    for (let i = 0; i < 100; i++) {
      b = await vol.ok('GET', `/members/${member.id}/balance`);
      if (b.available !== 100) break;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    assert.deepEqual([b.points, b.held, b.available, b.expiring], [80, 20, 60, undefined]);
    const { entries } = await vol.ok('GET', `/members/${member.id}/entries?limit=1`);
    assert.equal(entries[0].kind, 'expire');
    assert.equal(entries[0].amount, 40);
    assert.equal(entries[0].memo, '2031年及以前获得的积分到期');

    const page = await open(browser, phone, vol);
    await page.goto('/m/');
    await page.locator('#entries li').first().waitFor();
    assert.equal(await page.locator('#expiring').isHidden(), true);
    assert.match(await text(page.locator('#entries li').first()), /2031年及以前获得的积分到期.*−40/);
    await page.locator('#entries').scrollIntoViewIfNeeded();
    await shot(page, 'm-home-expired', { full: false });
    noProblems(page);
    await page.context().close();

    // A restart ten minutes on takes nothing twice; the ledger verifies.
    await serve('2033-01-01T00:10:00+08:00');
    await new Promise((ok) => setTimeout(ok, 500));
    vol = await Client.login('13600000041', volPassword, server.url);
    b = await vol.ok('GET', `/members/${member.id}/balance`);
    assert.deepEqual([b.points, b.held, b.available], [80, 20, 60]);
    const verify = await admin.ok('GET', '/ledger/verify');
    assert.equal(verify.ok, true);
    const p = await admin.ok('GET', `/admin/expiry?street=${street.id}`);
    const run = p.runs.at(-1);
    assert.deepEqual([run.year, run.accounts, run.points, run.done], [2031, 1, 40, true]);
  });
});
