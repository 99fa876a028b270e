// The organiser's pages that build the tree, teams, staff and members by
// hand, the start page's login redirects, counts on the home page, English,
// and how the organiser's pages look on a phone.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, BASE, Client, launch, loginUI, noProblems, open, pc, phone, shot, text } from '../lib.mjs';

const password = 'chunfeng-2026-organiser';

describe('organiser pages by hand', () => {
  let browser, page, chunfeng;

  before(async () => {
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  it('logs in without following a next address to another site', async () => {
    page = await open(browser, pc);
    await page.goto('/?next=//example.org/steal');
    await loginUI(page, ADMIN.login, ADMIN.password);
    await page.waitForURL((u) => u.pathname === '/admin/');
    assert.equal(new URL(page.url()).origin, BASE);
    await page.locator('#count-units').waitFor();
    noProblems(page);
  });

  it('builds a street, a community with posts and a grid on the units page', async () => {
    await page.goto('/admin/units');
    await page.locator('#tree').filter({ hasNotText: '正在加载' }).waitFor();
    await page.click('#new-street');
    await page.fill('#street-name', '春风街道');
    await page.click('#street-form button[type=submit]');
    const unit = (name) => page.locator(`#tree li[data-unit-name="${name}"]`);
    const street = unit('春风街道');
    await street.waitFor();

    await street.locator('.unit-row').first().getByRole('button', { name: '添加社区' }).click();
    await street.locator('form input[name=name]').fill('春风社区');
    await street.locator('form button[type=submit]').click();
    const community = unit('春风社区');
    await community.waitFor();

    // A name that a spreadsheet would take for a formula is refused, with
    // the API's message next to the form.
    await community.locator('.unit-row').first().getByRole('button', { name: '添加网格' }).click();
    await community.locator('form input[name=name]').fill('=1+1');
    await community.locator('form button[type=submit]').click();
    const msg = community.locator('form .msg');
    await msg.filter({ hasText: /./ }).waitFor();
    await shot(page, 'pc-units-error');
    await community.locator('form input[name=name]').fill('春风一网格');
    await community.locator('form button[type=submit]').click();
    await unit('春风一网格').waitFor();

    const c = unit('春风社区');
    await c.locator('.unit-row').first().getByRole('button', { name: /服务岗位/ }).click();
    await c.locator('textarea').fill('政策宣讲员\n文明劝导员、助老服务员');
    await c.locator('form button[type=submit]').click();
    await c.locator('> .chips .chip', { hasText: '助老服务员' }).waitFor();
    assert.equal(await c.locator('> .chips .chip').count(), 3);

    const grid = unit('春风一网格');
    await grid.locator('.unit-row').getByRole('button', { name: '重命名' }).click();
    await grid.locator('form input[name=name]').fill('春风第一网格');
    await grid.locator('form button[type=submit]').click();
    await unit('春风第一网格').waitFor();
    await shot(page, 'pc-units');
    noProblems(page);
  });

  it('creates a team and an organiser account', async () => {
    await page.goto('/admin/teams');
    await page.locator('#teams').filter({ hasNotText: '正在加载' }).waitFor();
    const unitValue = await page.locator('#team-unit option', { hasText: '春风社区' }).getAttribute('value');
    await page.selectOption('#team-unit', unitValue);
    await page.fill('#team-name', '春风社区党员志愿服务队');
    await page.click('#team-form button[type=submit]');
    await page.locator('#teams td', { hasText: '春风社区党员志愿服务队' }).waitFor();
    assert.match(await text(page.locator('#teams tr', { hasText: '春风社区党员志愿服务队' })), /党员志愿服务队.*春风街道 \/ 春风社区/);
    await shot(page, 'pc-teams');

    await page.goto('/admin/staff');
    await page.locator('#staff table').waitFor();
    await page.selectOption('#s-role', 'organizer');
    await page.fill('#s-login', 'chunfeng');
    await page.fill('#s-name', '孙书记');
    await page.fill('#s-password', password);
    const value = await page.locator('#s-unit option', { hasText: '春风社区' }).getAttribute('value');
    await page.selectOption('#s-unit', value);
    await page.click('#staff-form button[type=submit]');
    await page.locator('#staff-table td', { hasText: 'chunfeng' }).waitFor();
    assert.match(await text(page.locator('#staff-table tr', { hasText: 'chunfeng' })), /孙书记.*社区组织者.*春风社区/);
    await shot(page, 'pc-staff');
    noProblems(page);
    await page.context().close();
  });

  it('adds a volunteer by the form, showing the API error near the form first', async () => {
    chunfeng = await Client.login('chunfeng', password);
    page = await open(browser, pc, chunfeng);
    await page.goto('/admin/members#new');
    await page.locator('#new').waitFor();
    await page.locator('#members .empty').waitFor();
    await page.fill('#m-name', '周志强');
    await page.fill('#m-phone', '12345');
    await page.check('#m-party');
    await page.check('#m-onduty');
    await page.fill('#m-workunit', '区人民医院');
    await page.fill('#m-reported', '2026-03-01');
    await page.fill('#m-target', '50');
    await page.check('#m-posts input[value=文明劝导员]');
    await page.check('#m-teams input >> nth=0');
    await page.check('#m-skills input[value=医疗义诊]');
    await page.click('#member-form button[type=submit]');
    const msg = page.locator('#member-form-msg');
    await msg.filter({ hasText: /12345/ }).waitFor();
    await shot(page, 'pc-member-form-error');

    await page.fill('#m-phone', '13700007777');
    await page.click('#member-form button[type=submit]');
    await msg.filter({ hasText: '已添加志愿者“周志强”' }).waitFor();
    const row = page.locator('#members-table tbody tr', { hasText: '周志强' });
    await row.waitFor();
    assert.match(await text(row), /137\*\*\*\*7777.*春风第一网格.*春风社区党员志愿服务队.*党员.*区人民医院/);
    await shot(page, 'pc-members-created');
    noProblems(page);
  });

  it('counts units, teams, volunteers and staff on the home page', async () => {
    await page.goto('/admin/');
    await page.locator('#count-members', { hasText: '1' }).waitFor();
    assert.equal(await text(page.locator('#count-units')), '2');
    assert.equal(await text(page.locator('#count-teams')), '1');
    assert.match(await text(page.locator('#scope')), /春风社区/);
    await shot(page, 'pc-admin-home');
    noProblems(page);
  });

  it('speaks English when asked', async () => {
    await page.goto('/admin/members?lang=en');
    await page.locator('#members-table').waitFor();
    assert.equal(await text(page.locator('h1')), 'Volunteers');
    assert.match(await text(page.locator('#members-table thead')), /Name.*Phone.*Unit/);
    await page.click('nav.tabs >> text=Units');
    await page.waitForURL((u) => u.pathname === '/admin/units' && u.searchParams.get('lang') === 'en');
    await page.locator('#tree .unit-name').first().waitFor();
    assert.match(await text(page.locator('#tree')), /community/);
    await shot(page, 'pc-units-en');
    noProblems(page);
    await page.context().close();
  });

  it('keeps the organiser pages usable on a phone', async () => {
    page = await open(browser, phone, chunfeng);
    await page.goto('/admin/members');
    await page.locator('#members-table').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
    await shot(page, 'phone-admin-members');
    noProblems(page);
    await page.context().close();
  });
});
