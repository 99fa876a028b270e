// A brand-new installation, as its first administrator meets it: a server
// of its own on a fresh data folder, without the demo. The start page leads
// through units → staff → volunteers → events → shop in that order, says
// what is done, and links to the next; every empty list says what to do and
// has a button for it. Then what makes it pleasant to keep using: 第二网格
// after 第一网格, each member's points and hours on the list, English that
// counts right and names the service categories.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN, Client, freshServer, launch, loginUI, noProblems, open, pc, shot, text } from '../lib.mjs';

describe('first steps of a new installation', () => {
  let browser, server, admin, page, street, community;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'aixin-fresh-'));

  before(async () => {
    server = await freshServer(path.join(tmp, 'data'));
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  // steps reads the first-steps panel: each step's key and state.
  const steps = async () => (await page.locator('#step-list li').evaluateAll((lis) => lis.map((li) => `${li.dataset.step}:${li.dataset.state}`)));

  async function home() {
    await page.goto('/admin/');
    await page.locator('#step-list li').first().waitFor();
  }

  it('leads the first administrator to the units first', async () => {
    const anon = await open(browser, pc, null, { base: server.url });
    page = anon;
    await page.goto('/admin/');
    await loginUI(page, ADMIN.login, ADMIN.password);
    await page.waitForURL((u) => u.pathname === '/admin/');
    await page.locator('#step-list li').first().waitFor();
    assert.deepEqual(await steps(), ['units:next', 'staff:todo', 'members:todo', 'events:todo', 'shop:todo']);
    assert.equal(await text(page.locator('#steps-progress')), '第一次使用，请按顺序完成这五步：已完成 0 / 5 步。');
    // 新建活动 is among the main actions.
    assert.equal(await page.locator('.actions a.button.primary', { hasText: '新建活动' }).count(), 1);
    await shot(page, 'pc-first-steps-0');
    admin = await Client.login(ADMIN.login, ADMIN.password, server.url);

    await page.locator('#step-list li[data-state="next"] a.primary', { hasText: '下一步：建单位' }).click();
    await page.waitForURL((u) => u.pathname === '/admin/units');
    const empty = page.locator('#tree .empty');
    assert.match(await text(empty), /还没有任何单位/);
    await shot(page, 'pc-units-empty');
    await empty.getByRole('button', { name: '新建街道' }).click();
    await page.fill('#street-name', '春晖街道');
    await page.click('#street-form button[type=submit]');
    const row = page.locator('li[data-unit-name="春晖街道"]');
    await row.getByRole('button', { name: '添加社区' }).click();
    await row.getByLabel('社区名称').fill('春晖社区');
    await row.getByRole('button', { name: '添加', exact: true }).click();
    await page.locator('li[data-unit-name="春晖社区"]').waitFor();
    noProblems(page);
    ({ units: [street, community] } = await admin.ok('GET', '/units'));
    assert.equal(community.name, '春晖社区');
  });

  it('then staff, volunteers, events and a shop, each list saying what to do', async () => {
    await home();
    assert.deepEqual(await steps(), ['units:done', 'staff:next', 'members:todo', 'events:todo', 'shop:todo']);
    await page.locator('#step-list li[data-state="next"] a.primary').click();
    await page.waitForURL((u) => u.pathname === '/admin/staff');
    const noStaff = page.locator('#staff .empty');
    assert.match(await text(noStaff), /还没有其他工作人员账号。为社区组织者开一个账号/);
    await noStaff.getByRole('button', { name: '添加工作人员' }).click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 's-login');
    await shot(page, 'pc-staff-empty');
    await admin.ok('POST', '/users', { login: 'chunhui', password: 'chunhui-organiser-2026', role: 'organizer', name: '林主任', unit_id: community.id });

    await home();
    assert.deepEqual(await steps(), ['units:done', 'staff:done', 'members:next', 'events:todo', 'shop:todo']);
    await page.locator('#step-list li[data-state="next"] a.primary').click();
    await page.waitForURL((u) => u.pathname === '/admin/members');
    await page.locator('#new:not([hidden])').waitFor();
    await page.locator('#members .empty', { hasText: '还没有志愿者' }).waitFor();
    const m = await admin.ok('POST', '/members', { name: '林秀英', phone: '13800138001', unit_id: community.id });

    await home();
    assert.deepEqual(await steps(), ['units:done', 'staff:done', 'members:done', 'events:next', 'shop:todo']);
    await page.locator('#step-list li[data-state="next"] a.primary', { hasText: '新建活动' }).click();
    await page.waitForURL((u) => u.pathname === '/admin/events');
    await page.locator('#new:not([hidden])').waitFor();
    await page.locator('#events .empty').getByRole('button').waitFor();
    const day = new Date(Date.now() - 16 * 3600e3).toISOString().slice(0, 10);
    const ev = await admin.ok('POST', '/events', { title: '清扫楼道', category: '环境整治', unit_id: community.id,
      starts_at: `${day}T08:00:00+08:00`, ends_at: `${day}T10:00:00+08:00` });
    await admin.ok('POST', `/events/${ev.id}/attendance`, { member_id: m.id, action: 'backfill', reason: '纸质签到表',
      checked_in_at: `${day}T08:00:00+08:00`, checked_out_at: `${day}T09:30:00+08:00` });
    await admin.ok('POST', `/events/${ev.id}/finalize`, { confirm: true });

    await home();
    assert.deepEqual(await steps(), ['units:done', 'staff:done', 'members:done', 'events:done', 'shop:next']);
    await shot(page, 'pc-first-steps-4');
    await page.locator('#step-list li[data-state="next"] a.primary').click();
    await page.waitForURL((u) => u.pathname === '/admin/shops');
    const noShop = page.locator('#shops .empty');
    await noShop.getByRole('button', { name: '新建兑换点' }).click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'shop-name');
    const shop = await admin.ok('POST', '/shops', { name: '春晖爱心超市', kind: 'love_supermarket', unit_id: community.id });
    // A shop without a clerk is not ready: the step waits for one.
    await page.goto('/admin/');
    await page.waitForFunction(() => document.getElementById('count-units').textContent !== '–');
    assert.deepEqual(await steps(), ['units:done', 'staff:done', 'members:done', 'events:done', 'shop:next']);
    await admin.ok('POST', '/users', { login: 'chunhui-shop', password: 'chunhui-counter-2026', role: 'clerk', name: '店员', shop_id: shop.id });

    // All done: the panel is out of the way.
    await page.goto('/admin/');
    await page.locator('#d-active').waitFor();
    await page.waitForFunction(() => document.getElementById('count-units').textContent !== '–');
    assert.equal(await page.locator('#steps').isHidden(), true);
    noProblems(page);
  });

  it('lists grids in natural order, and each member with points and hours', async () => {
    for (const name of ['第十网格', '第二网格', '第一网格', '第九网格']) {
      await admin.ok('POST', '/units', { name, kind: 'grid', parent_id: community.id });
    }
    await page.goto('/admin/units');
    await page.locator('li[data-unit-name="第十网格"]').waitFor();
    const names = await page.locator('#tree li').evaluateAll((lis) => lis.map((li) => li.dataset.unitName));
    assert.deepEqual(names, ['春晖街道', '春晖社区', '第一网格', '第二网格', '第九网格', '第十网格']);
    await page.goto('/admin/members');
    await page.locator('#members-table').waitFor();
    const options = await page.locator('#f-unit option').allTextContents();
    assert.deepEqual(options.slice(3).map((o) => o.trim().replace(/（.*$/, '')), ['第一网格', '第二网格', '第九网格', '第十网格']);
    // 林秀英 served 1.5 hours: 15 points.
    const row = page.locator('#members-table tbody tr', { hasText: '林秀英' });
    assert.equal(await text(row.locator('.m-points')), '15');
    assert.equal(await text(row.locator('.m-hours')), '1.5 小时');
    await shot(page, 'pc-members-figures');
    noProblems(page);
  });

  it('speaks English that counts right and names the categories', async () => {
    // One volunteer: the export's preview counts one row, not "1 rows".
    await page.goto('/admin/exports?lang=en');
    await page.locator('#preview-count', { hasText: /row/ }).waitFor();
    assert.equal(await text(page.locator('#preview-count')), '1 row');
    await page.goto('/admin/events?lang=en');
    const ev = page.locator('#events tbody tr', { hasText: '清扫楼道' });
    await ev.waitFor();
    assert.match(await text(ev), /Environment clean-up/);
    assert.doesNotMatch(await text(ev), /环境整治/);
    await page.click('#show-new');
    const labels = await page.locator('#e-category option').allTextContents();
    assert.ok(labels.includes('Elderly and disabled care') && !labels.includes('助老助残'), labels.join(', '));
    assert.ok((await page.locator('#e-category option').evaluateAll((os) => os.map((o) => o.value))).includes('助老助残'), 'the value stays Chinese');
    await shot(page, 'pc-events-en');
    noProblems(page);
    await page.context().close();
  });
});
