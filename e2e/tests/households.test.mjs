// Households (一家亲), as a community lives them: on a server where new
// households start with 60 points (遵义's practice: AIXIN_HOUSEHOLD_OPENING_POINTS),
// an organiser makes a household on the page, adds two adults and a child
// (marked a minor), chooses the head, and lets the love supermarket accept
// household points. An adult opens the shop on the phone, chooses 用家庭积分
// and exchanges rice; the clerk redeems the voucher at the kiosk by its short
// code; the household's points go down and the adult's own stay as they
// were; the household's page on the phone lists the entries. The child sees
// the household's points but no choice of paying with them, and not its
// entries. Screenshots on a phone (390×844, also at 200 % text) and a PC
// (1280×800).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN, Client, freshServer, launch, noProblems, open as openPage, pc, phone, shot, text } from '../lib.mjs';

const orgPassword = 'yijiaqin-2026-organiser';
const clerkPassword = 'yijiaqin-2026-counter';
const adultPassword = 'yijiaqin-dad-2026';
const minorPassword = 'yijiaqin-kid-2026';

// open is lib.mjs's open with 30 s a step rather than 10: this machine's
// two cores are often busy with more than this test.
async function open(...args) {
  const page = await openPage(...args);
  page.setDefaultTimeout(30_000);
  return page;
}

// fits says whether nothing sticks out sideways.
const fits = (page) => page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);

describe('households (一家亲): a household spends its points on a phone', () => {
  let server, base, browser, admin, org, clerk, adult, minor, unit, grid, shop, rice, towel, dad, mum, kid, home, voucher;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'aixin-households-'));

  before(async () => {
    // A server of its own with the opening-points setting.
    process.env.AIXIN_HOUSEHOLD_OPENING_POINTS = '60';
    server = await freshServer(dir);
    base = server.url;
    admin = await Client.login(ADMIN.login, ADMIN.password, base);
    const street = await admin.ok('POST', '/units', { name: '安宁街道', kind: 'street' });
    unit = await admin.ok('POST', '/units', { name: '太平社区', kind: 'community', parent_id: street.id });
    grid = await admin.ok('POST', '/units', { name: '第一网格', kind: 'grid', parent_id: unit.id });
    await admin.ok('POST', '/units', { name: '第二网格', kind: 'grid', parent_id: unit.id });
    await admin.ok('POST', '/users', { login: 'taiping', password: orgPassword, role: 'organizer', name: '杨书记', unit_id: unit.id });
    org = await Client.login('taiping', orgPassword, base);
    dad = await org.ok('POST', '/members', { name: '张建国', phone: '13600000001', unit_id: grid.id, password: adultPassword });
    mum = await org.ok('POST', '/members', { name: '李秀英', phone: '13600000002', unit_id: grid.id });
    kid = await org.ok('POST', '/members', { name: '张小明', phone: '13600000003', unit_id: grid.id, password: minorPassword });
    shop = await org.ok('POST', '/shops', { name: '太平一家亲积分超市', kind: 'love_supermarket', unit_id: unit.id });
    rice = await org.ok('POST', `/shops/${shop.id}/items`, { name: '东北大米 5kg', points: 30, stock: 10 });
    towel = await org.ok('POST', `/shops/${shop.id}/items`, { name: '毛巾', points: 5, stock: 20 });
    await admin.ok('POST', '/users', { login: 'taiping-counter', password: clerkPassword, role: 'clerk', name: '周店员', shop_id: shop.id });
    clerk = await Client.login('taiping-counter', clerkPassword, base);
    // 张建国's own points: eight hours of service yesterday, from the paper sheet.
    const day = new Date(Date.now() - 16 * 3600e3).toISOString().slice(0, 10);
    const ev = await org.ok('POST', '/events', {
      title: '楼道环境整治', category: '环境整治', unit_id: unit.id,
      starts_at: `${day}T08:00:00+08:00`, ends_at: `${day}T16:00:00+08:00`,
    });
    await org.ok('POST', `/events/${ev.id}/attendance`, {
      member_id: dad.id, action: 'backfill', reason: '纸质签到表',
      checked_in_at: `${day}T08:00:00+08:00`, checked_out_at: `${day}T16:00:00+08:00`,
    });
    await org.ok('POST', `/events/${ev.id}/finalize`);
    assert.equal((await org.ok('GET', `/members/${dad.id}/balance`)).available, 80);
    adult = await Client.login('13600000001', adultPassword, base);
    minor = await Client.login('13600000003', minorPassword, base);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets the organiser make a household, add two adults and a minor, and choose the head', async () => {
    const page = await open(browser, pc, org);
    await page.goto('/admin/households');
    await page.locator('#households .empty').waitFor();
    await page.fill('#hh-address', '3单元502室');
    await page.selectOption('#hh-new-unit', grid.id);
    await page.click('#hh-form button[type=submit]');
    await page.waitForURL((u) => /^\/admin\/households\/[0-9a-f-]{36}$/.test(u.pathname));
    const id = new URL(page.url()).pathname.split('/').pop();
    await page.locator('#hh-created:not([hidden])').waitFor();
    // Its opening points, from the community: 60.
    await page.locator('#hh-points', { hasText: /^60$/ }).waitFor();
    assert.equal(await text(page.locator('#hh-title')), '3单元502室');
    for (const name of ['张建国', '李秀英', '张小明']) {
      await page.fill('#hh-find', name);
      await page.locator('#hh-found li', { hasText: name }).getByRole('button', { name: '添加' }).click();
      await page.locator(`#hh-member-table tr`, { hasText: name }).waitFor();
    }
    await page.getByLabel('张小明是未成年人').check();
    // The first one added heads it; the minor cannot.
    assert.equal(await page.getByLabel('设张建国为户主').isChecked(), true);
    assert.equal(await page.getByLabel('设张小明为户主').isDisabled(), true);
    await page.click('#hh-save');
    await page.locator('#hh-save-msg', { hasText: '已保存' }).waitFor();
    assert.match(await text(page.locator('#hh-sub')), /太平社区 \/ 第一网格 · 户主 张建国/);
    // Each member's own points stand apart from the household's.
    assert.match(await text(page.locator('#hh-member-table tr', { hasText: '张建国' })), /80/);
    await page.locator('#hh-entries', { hasText: '开户积分' }).waitFor();
    await shot(page, 'pc-household');
    home = await org.ok('GET', `/households/${id}`);
    assert.deepEqual(home.members.map((m) => [m.name, m.minor, m.head]), [['张建国', false, true], ['李秀英', false, false], ['张小明', true, false]]);

    // Someone of this household cannot join another.
    const other = await org.ok('POST', '/households', { address: '3单元501室', unit_id: grid.id });
    await page.goto(`/admin/households/${other.id}`);
    await page.fill('#hh-find', '李秀英');
    const row = page.locator('#hh-found li', { hasText: '李秀英' });
    await row.waitFor();
    assert.match(await text(row), /已在另一户：第一网格 3单元502室/);
    assert.equal(await row.getByRole('button', { name: '添加' }).isDisabled(), true);

    // The list finds the household by a member's name.
    await page.goto('/admin/households');
    await page.fill('#hh-q', '李秀英');
    await page.click('#hh-filter button[type=submit]');
    await page.locator('#hh-count', { hasText: '共 1 户' }).waitFor();
    assert.match(await text(page.locator('#hh-table tbody tr')), /3单元502室.*第一网格.*张建国户主.*李秀英.*张小明未成年.*60/);
    await page.fill('#hh-q', '');
    await page.click('#hh-filter button[type=submit]');
    await page.locator('#hh-count', { hasText: '共 2 户' }).waitFor();
    await shot(page, 'pc-households');

    // The member's page says where they live, and the household's points apart.
    await page.goto(`/admin/members/${dad.id}`);
    await page.locator('#mh-link', { hasText: '3单元502室' }).waitFor();
    await page.locator('#mh-available', { hasText: /^60$/ }).waitFor();
    await shot(page, 'pc-member-household');

    // The love supermarket takes household points from now on.
    await page.goto(`/admin/shops/${shop.id}`);
    await page.locator('#items-table tr[data-item]').first().waitFor();
    await page.check('#shop-households');
    await page.locator('#shop-households-msg', { hasText: '已设为接受家庭积分' }).waitFor();
    noProblems(page);
    await page.context().close();
    assert.equal((await org.ok('GET', '/shops')).shops.find((s) => s.id === shop.id).households, true);
  });

  it("shows an adult 我的积分 and 我家积分 apart, and pays with the household's points on the phone", async () => {
    const page = await open(browser, phone, adult);
    await page.goto('/m/');
    await page.locator('#b-available', { hasText: /^80$/ }).waitFor();
    await page.locator('#hh-home:not([hidden]) #hh-home-available', { hasText: /^60$/ }).waitFor();
    assert.match(await text(page.locator('#hh-home')), /我家积分.*60.*第一网格.*3单元502室.*户主 张建国/);
    await shot(page, 'phone-home-household', { full: false });

    await page.goto('/m/shop');
    await page.locator('#items li[data-item]').first().waitFor();
    await page.locator('#pay-from:not([hidden])').waitFor();
    assert.equal(await text(page.locator('#available')), '80 分');
    await page.check('#pay-from input[value=household]');
    await page.locator('#available', { hasText: '60 分' }).waitFor();
    assert.equal(await text(page.locator('#available-label')), '家庭可用');
    const row = page.locator(`li[data-item="${rice.id}"]`);
    await row.locator('.plus').click();
    assert.equal(await text(page.locator('#basket-total')), '合计 30 分 / 可用 60 分');
    await shot(page, 'phone-shop-household', { full: false });
    await page.click('#exchange');
    await page.waitForURL((u) => /^\/m\/vouchers\/[0-9a-f-]{36}$/.test(u.pathname));
    await page.locator('#v-code').filter({ hasText: /^[0-9A-Z]{5} [0-9A-Z]{5}$/ }).waitFor();
    assert.match(await text(page.locator('#v-status')), /待兑换.*家庭积分/);
    await shot(page, 'phone-voucher-household', { full: false });
    const id = new URL(page.url()).pathname.split('/').pop();
    voucher = await adult.ok('GET', `/vouchers/${id}`);
    assert.equal(voucher.household_id, home.id);
    const hb = await adult.ok('GET', `/households/${home.id}/balance`);
    assert.deepEqual([hb.points, hb.held, hb.available], [60, 30, 30]);
    assert.equal((await adult.ok('GET', `/members/${dad.id}/balance`)).available, 80, "the adult's own points stay");
    noProblems(page);
    await page.context().close();
  });

  it('lets the clerk redeem the household voucher at the kiosk', async () => {
    const page = await open(browser, pc, clerk);
    await page.goto('/kiosk');
    await page.locator('#k-idle:not([hidden])').waitFor();
    await page.fill('#code-input', voucher.code);
    await page.click('#code-form button[type=submit]');
    await page.locator('#k-preview:not([hidden]) #pv-who', { hasText: '家庭积分' }).waitFor();
    assert.match(await text(page.locator('#pv-who')), /张\*国 家庭积分/);
    await shot(page, 'pc-kiosk-household', { full: false });
    await page.click('#confirm');
    await page.locator('#k-result.good').waitFor();
    await page.locator('#today li', { hasText: '家庭积分' }).waitFor();
    noProblems(page);
    await page.context().close();
    const hb = await org.ok('GET', `/households/${home.id}/balance`);
    assert.deepEqual([hb.points, hb.held, hb.available], [30, 0, 30], 'the household paid 30');
    const own = await org.ok('GET', `/members/${dad.id}/balance`);
    assert.deepEqual([own.points, own.available], [80, 80], "the adult's own points stayed");
    assert.equal((await org.ok('GET', `/vouchers/${voucher.id}`)).status, 'redeemed');
  });

  it("shows the household's page with its entries to the adult, at 200 % text too", async () => {
    const page = await open(browser, phone, adult);
    await page.goto('/m/household');
    await page.locator('#hh-available', { hasText: /^30$/ }).waitFor();
    await page.locator('#hh-entries-card:not([hidden]) #hh-entries li').first().waitFor();
    const entries = await text(page.locator('#hh-entries'));
    // The hold took the points; the redemption moves them from the escrow to the shop.
    assert.match(entries, /^兑换物品.*−30.*开户积分.*\+60$/);
    assert.match(await text(page.locator('#hh-members')), /张建国.*（我）.*户主.*李秀英.*张小明.*未成年/);
    await shot(page, 'phone-household', { full: false });
    assert.ok(await fits(page), 'the household page is wider than the phone');
    await page.click('button[data-text-size="200"]');
    await shot(page, 'phone-household-200', { full: false });
    assert.ok(await fits(page), 'at 200 % the household page is wider than the phone');
    await page.goto('/m/');
    await page.locator('#hh-home:not([hidden]) #hh-home-available', { hasText: /^30$/ }).waitFor();
    await shot(page, 'phone-home-household-200', { full: false });
    assert.ok(await fits(page), 'at 200 % the home page is wider than the phone');
    await page.goto('/m/shop');
    await page.locator('#pay-from:not([hidden])').waitFor();
    await shot(page, 'phone-shop-household-200', { full: false });
    assert.ok(await fits(page), 'at 200 % the shop is wider than the phone');
    noProblems(page);
    await page.context().close();
  });

  it("shows the minor the household's points but no choice to spend them, and not its entries", async () => {
    const page = await open(browser, phone, minor);
    await page.goto('/m/');
    await page.locator('#hh-home:not([hidden]) #hh-home-available', { hasText: /^30$/ }).waitFor();
    assert.match(await text(page.locator('#hh-home-note')), /家庭积分由家中成年人使用/);
    await page.goto('/m/shop');
    await page.locator('#items li[data-item]').first().waitFor();
    assert.equal(await page.locator('#pay-from').isHidden(), true, 'the minor is offered household points');
    await shot(page, 'phone-shop-minor', { full: false });
    await page.goto('/m/household');
    await page.locator('#hh-available', { hasText: /^30$/ }).waitFor();
    assert.match(await text(page.locator('#hh-spend')), /家庭积分由家中成年人使用/);
    assert.equal(await page.locator('#hh-entries-card').isHidden(), true);
    noProblems(page);
    await page.context().close();
    // Nor can the minor spend them through the API.
    const res = await minor.call('POST', '/vouchers', { shop_id: shop.id, items: [{ item_id: towel.id, qty: 1 }], household_id: home.id });
    assert.equal(res.status, 403);
    assert.match(res.data.error.message, /未成年成员不能使用家庭积分/);
  });
});
