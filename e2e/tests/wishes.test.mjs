// Issue 13: micro-wishes (微心愿). A grid worker logs in and enters a wish
// for an elderly resident of their grid; the organiser publishes it with
// points and switches the community's wish wall on; the public wall, on a
// phone and without a login, shows it without personal data (the resident
// as 孙*芝, no phone, no photo); a volunteer claims it on their phone and
// reports it done with a photo from the camera input; the organiser
// confirms it with how the resident confirmed; the points show on the
// volunteer's home, labelled 微心愿. Screenshots: the wall on a phone
// (390×844) and the organiser's queue on a PC (1280×800), both also at
// 200 % text.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN, Client, launch, loginUI, noProblems, open, pc, phone, shot, text } from '../lib.mjs';

const orgPassword = 'fuan-2026-organiser';
const gridPassword = 'fuan-2026-grid-worker';
const volPassword = 'fuan-volunteer-2026';

// large sets the page's root font size to share times its own, as an older
// reader's browser does (the phone pages have their own switch).
async function large(page, share) {
  await page.evaluate((share) => {
    const root = document.documentElement;
    root.style.fontSize = '';
    if (share !== 1) root.style.fontSize = parseFloat(getComputedStyle(root).fontSize) * share + 'px';
  }, share);
}

// overflows lists the elements wider than their box (nothing may spill at large text).
async function overflows(page, selector) {
  return page.evaluate((selector) => [...document.querySelectorAll(selector)]
    .filter((e) => e.scrollWidth > e.clientWidth + 1)
    .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${e.scrollWidth}>${e.clientWidth}`), selector);
}

describe('micro-wishes: entered by a grid worker, on the wall, claimed, fulfilled, confirmed', () => {
  let browser, admin, org, vol, community, grid, building, team, member, wish;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'aixin-wishes-'));
  const photo = path.join(tmp, 'done.jpg');
  const title = '助听器换电池';

  before(async () => {
    admin = await Client.login(ADMIN.login, ADMIN.password);
    const street = await admin.ok('POST', '/units', { name: '福安街道', kind: 'street' });
    community = await admin.ok('POST', '/units', { name: '福安社区', kind: 'community', parent_id: street.id });
    grid = await admin.ok('POST', '/units', { name: '第一网格', kind: 'grid', parent_id: community.id });
    await admin.ok('POST', '/units', { name: '第二网格', kind: 'grid', parent_id: community.id });
    building = await admin.ok('POST', '/units', { name: '7号楼', kind: 'building', parent_id: grid.id });
    await admin.ok('POST', '/users', { login: 'fuan', password: orgPassword, role: 'organizer', name: '何书记', unit_id: community.id });
    await admin.ok('POST', '/users', { login: 'fuan-grid', password: gridPassword, role: 'grid_worker', name: '钱网格员', unit_id: grid.id });
    org = await Client.login('fuan', orgPassword);
    team = await org.ok('POST', '/teams', { name: '福安社区党员志愿服务队', kind: 'party_volunteer_team', unit_id: community.id });
    member = await org.ok('POST', '/members', { name: '陈志明', phone: '15800000041', unit_id: grid.id, password: volPassword, party_member: true, team_ids: [team.id] });
    await org.ok('POST', '/members', { name: '林晓燕', phone: '15800000042', unit_id: grid.id, team_ids: [team.id] });
    vol = await Client.login('15800000041', volPassword);
    // A photo as a phone's camera makes it: a real JPEG.
    execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=640x480', '-frames:v', '1', photo]);
    assert.ok(statSync(photo).size < 512 << 10);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('a grid worker logs in and enters a wish for an elderly resident of their grid', async () => {
    const page = await open(browser, pc);
    await page.goto('/');
    await loginUI(page, 'fuan-grid', gridPassword);
    await page.waitForURL(/\/admin\/wishes/);
    // The grid worker's bar has their pages (wishes, behaviour awards and lists); no organiser tabs.
    assert.deepEqual(await page.locator('nav.tabs a').allInnerTexts(), ['微心愿', '文明行为', '文明行为清单']);
    await page.click('#new-wish');
    await page.fill('#w-title', title);
    await page.fill('#w-need', '助听器没电了，老人不会换，想请人帮忙买电池并换上。');
    await page.fill('#w-resident', '孙桂芝');
    await page.fill('#w-phone', '13700000051');
    await page.selectOption('#w-unit', building.id);
    assert.ok(await page.locator('#w-points-field').isHidden(), 'a grid worker sets no points');
    await page.click('#wish-form button[type=submit]');
    const card = page.locator('article.wish', { hasText: title });
    await card.waitFor();
    assert.equal(await card.getAttribute('data-status'), 'verified');
    assert.match(await text(card), /孙桂芝 · 13700000051/);
    assert.match(await text(card), /第一网格 \/ 7号楼/);
    // What the grid worker may do: withdraw, add a photo; not publish.
    assert.equal(await card.locator('button[data-action=publish]').count(), 0);
    assert.equal(await card.locator('button[data-action=withdraw]').count(), 1);
    noProblems(page);
    await page.context().close();
    const { wishes } = await org.ok('GET', '/wishes');
    wish = wishes.find((w) => w.title === title);
    assert.equal(wish.status, 'verified');
  });

  it('the organiser publishes it with points and switches the wall on', async () => {
    const page = await open(browser, pc, org);
    await page.goto('/admin/wishes');
    const card = page.locator(`article[data-wish="${wish.id}"]`);
    await card.locator('button[data-action=publish]').click();
    await card.locator('input[name=points]').fill('15');
    await card.locator('form button[type=submit]').click();
    // It leaves the to-do list; the message says where it went.
    await page.locator('#wishes-msg.ok').filter({ hasText: '已发布到心愿墙' }).waitFor();
    await page.click('#wish-filter button[data-filter=wall]');
    await page.locator(`article[data-wish="${wish.id}"][data-status=published]`).waitFor();
    // The units page: the wall's switch next to the points notice.
    await page.goto('/admin/units');
    const sw = page.locator(`li[data-unit-id="${community.id}"] > .unit-wall input.wall-switch`);
    await sw.check();
    await page.locator(`li[data-unit-id="${community.id}"] > .unit-wall a:not([hidden])`).waitFor();
    noProblems(page);
    await page.context().close();
  });

  it('the public wall shows it on a phone without personal data', async () => {
    const page = await open(browser, phone);
    const res = await page.goto(`/wishes/${community.id}`);
    assert.equal(res.status(), 200);
    const body = await text(page.locator('main'));
    assert.match(body, new RegExp(title));
    assert.match(body, /孙\*芝/);
    assert.match(body, /15 积分/);
    for (const never of ['孙桂芝', '13700000051', '0051']) assert.ok(!body.includes(never), `the wall shows ${never}`);
    assert.equal(await page.locator('main img').count(), 0, 'no pictures on the wall');
    await shot(page, 'wishes-wall-phone', { full: false });
    await large(page, 2);
    await shot(page, 'wishes-wall-phone-200', { full: false });
    await shot(page, 'wishes-wall-phone-200-full');
    assert.deepEqual(await overflows(page, 'main, .card, .wall-list li, .wall-rates'), []);
    noProblems(page);
    await page.context().close();
  });

  it('a volunteer claims it on their phone and reports it done with a photo', async () => {
    const page = await open(browser, phone, vol);
    await page.goto('/m/');
    await page.click('#to-wishes');
    await page.waitForURL(/\/m\/wishes/);
    const card = page.locator(`#wall article[data-wish="${wish.id}"]`);
    await card.waitFor();
    assert.match(await text(card), /孙\*芝/);
    assert.ok(!(await text(card)).includes('13700000051'));
    await shot(page, 'wishes-m-wall', { full: false });
    await card.locator('select').selectOption(team.id); // for the party team (多对一)
    await card.locator('button[type=submit]').click();
    const mine = page.locator(`#mine article[data-wish="${wish.id}"]`);
    await mine.waitFor();
    assert.match(await text(mine), /孙桂芝/);
    assert.match(await text(mine), /打电话 13700000051/);
    await mine.locator('textarea[name=note]').fill('买了两板电池，已经帮孙奶奶换上，试过能听清。');
    // The team's members: the claimer ticked, 林晓燕 too.
    await mine.locator('fieldset input[type=checkbox]').nth(1).waitFor();
    await mine.locator('label', { hasText: '林晓燕' }).locator('input').check();
    // The camera input: accept image/*, capture.
    const input = mine.locator('input[type=file]');
    assert.equal(await input.getAttribute('accept'), 'image/*');
    assert.notEqual(await input.getAttribute('capture'), null);
    await input.setInputFiles(photo);
    await mine.locator('.wphotos.picked img[src^="data:image/jpeg"]').waitFor();
    await shot(page, 'wishes-m-fulfil', { full: false });
    await mine.locator('form.fulfil button[type=submit]').click();
    await page.locator(`#mine article[data-wish="${wish.id}"][data-status=fulfilled]`).waitFor();
    assert.match(await text(page.locator(`#mine article[data-wish="${wish.id}"]`)), /等待社区向居民确认/);
    noProblems(page);
    await page.context().close();
  });

  it('the organiser confirms it; the points show on the volunteer\'s home', async () => {
    const page = await open(browser, pc, org);
    await page.goto('/admin/wishes');
    const card = page.locator(`article[data-wish="${wish.id}"]`);
    await card.waitFor();
    assert.equal(await card.locator('.wphotos img').count(), 1, 'the organiser sees the photo');
    await shot(page, 'wishes-queue-pc', { full: false });
    await large(page, 2);
    await shot(page, 'wishes-queue-pc-200', { full: false });
    await card.scrollIntoViewIfNeeded();
    await shot(page, 'wishes-queue-pc-200-card', { full: false });
    assert.deepEqual(await overflows(page, 'main, .wish, .wish-facts, .wish-filter'), []);
    await large(page, 1);
    await card.locator('button[data-action=confirm]').click();
    await card.locator('select[name=how]').selectOption('phone');
    await card.locator('input[name=note]').fill('电话回访，孙奶奶说能听清了');
    // The participants as the claimer named them.
    await card.locator('fieldset input[name=participant]:checked').nth(1).waitFor();
    await card.locator('form button[type=submit]').click();
    const done = page.locator(`article[data-wish="${wish.id}"][data-status=confirmed]`);
    await page.click('#wish-filter button[data-filter=done]');
    await done.waitFor();
    assert.match(await text(done), /陈志明 8 分/);
    assert.match(await text(done), /林晓燕 7 分/);
    await shot(page, 'wishes-queue-confirmed', { full: false });
    noProblems(page);
    await page.context().close();

    const home = await open(browser, phone, vol);
    await home.goto('/m/');
    await home.locator('#b-points').filter({ hasText: '8' }).waitFor();
    const entry = home.locator('#entries li', { hasText: title });
    await entry.waitFor();
    assert.match(await text(entry), /微心愿/);
    assert.match(await text(entry), /\+8/);
    await shot(home, 'wishes-m-home', { full: false });
    await entry.scrollIntoViewIfNeeded();
    await shot(home, 'wishes-m-home-entry', { full: false });
    noProblems(home);
    await home.context().close();
    // Once: confirming again is refused and the ledger verifies.
    const again = await org.call('POST', `/wishes/${wish.id}/confirm`, { how: 'phone' });
    assert.equal(again.status, 409);
    const check = await admin.ok('GET', '/ledger/verify');
    assert.equal(check.ok, true);
  });

  it('the wall counts it fulfilled, by the team', async () => {
    const page = await open(browser, phone);
    await page.goto(`/wishes/${community.id}`);
    const body = await text(page.locator('main'));
    assert.match(body, /福安社区党员志愿服务队/);
    assert.match(body, /100%/);
    await shot(page, 'wishes-wall-phone-done');
    noProblems(page);
    await page.context().close();
  });
});
