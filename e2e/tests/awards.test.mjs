// Issue 13, 文明行为银行: a grid worker records a 垃圾分类 award with a photo
// for a resident of their grid, and it shows on the volunteer's phone with
// its note; a 见义勇为 award of 50 recorded by an organiser waits, the
// recorder cannot approve it, a second organiser (the street's) approves it
// on the awards page and the points post.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { ADMIN, Client, launch, noProblems, open, pc, phone, shot, text } from '../lib.mjs';

const pw = 'hexie-2026-organiser';
const volPassword = 'hexie-volunteer-2026';

// makePNG draws a small picture (a green bin on grey) as a real PNG.
function makePNG(w = 48, h = 36) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rows = [];
  for (let y = 0; y < h; y++) {
    const row = [0];
    for (let x = 0; x < w; x++) {
      const bin = x > w / 3 && x < (2 * w) / 3 && y > h / 4;
      row.push(...(bin ? [46, 139, 87] : [216, 220, 224]));
    }
    rows.push(Buffer.from(row));
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

describe('civility bank: awards with a photo and four eyes', () => {
  let browser, admin, org, streetOrg, gw, vol, community, member;

  before(async () => {
    admin = await Client.login(ADMIN.login, ADMIN.password);
    const street = await admin.ok('POST', '/units', { name: '和谐街道', kind: 'street' });
    community = await admin.ok('POST', '/units', { name: '和谐社区', kind: 'community', parent_id: street.id });
    const grid = await admin.ok('POST', '/units', { name: '第一网格', kind: 'grid', parent_id: community.id });
    await admin.ok('POST', '/users', { login: 'hexie', password: pw, role: 'organizer', name: '王主任', unit_id: community.id });
    await admin.ok('POST', '/users', { login: 'hexie-street', password: pw, role: 'organizer', name: '街道李科长', unit_id: street.id });
    await admin.ok('POST', '/users', { login: 'hexie-grid1', password: pw, role: 'grid_worker', name: '网格员小赵', unit_id: grid.id });
    org = await Client.login('hexie', pw);
    streetOrg = await Client.login('hexie-street', pw);
    gw = await Client.login('hexie-grid1', pw);
    member = await org.ok('POST', '/members', { name: '陈秀兰', phone: '15800000031', unit_id: grid.id, password: volPassword });
    vol = await Client.login('15800000031', volPassword);
    await org.ok('POST', '/behaviours', { unit_id: community.id, name: '垃圾分类', category: '环境卫生', points: 2, month_cap: 4, evidence_required: true });
    await org.ok('POST', '/behaviours', { unit_id: community.id, name: '乱扔垃圾', category: '环境卫生', points: -2 });
    await streetOrg.ok('POST', '/behaviours', { unit_id: street.id, name: '见义勇为', category: '社会公德', points: 50 });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  it('a grid worker records 垃圾分类 with a photo, and the volunteer sees it with its note', async () => {
    const page = await open(browser, pc, gw);
    await page.goto('/admin/awards');
    await page.fill('#aw-q', '陈秀');
    await page.locator('#aw-results li button').first().click();
    await page.locator('#aw-chosen:not([hidden])').waitFor();
    await page.locator('#aw-behaviour option', { hasText: '垃圾分类' }).waitFor({ state: 'attached' });
    await page.selectOption('#aw-behaviour', { label: '垃圾分类（+2）' });
    assert.match(await text(page.locator('#aw-rule')), /照片/);
    // Without the photo it is refused on the page, before anything is sent.
    await page.fill('#aw-note', '厨余垃圾分类投放正确');
    await page.click('#aw-submit');
    assert.match(await text(page.locator('#aw-msg')), /照片/);
    await page.setInputFiles('#aw-file', { name: 'bin.png', mimeType: 'image/png', buffer: makePNG() });
    await page.locator('#aw-preview:not([hidden])').waitFor();
    await shot(page, 'awards-record-pc');
    await page.click('#aw-submit');
    await page.locator('#aw-done:not([hidden])').waitFor();
    assert.match(await text(page.locator('#aw-done')), /已登记并入账/);
    await page.locator('#month-list tbody tr[data-status="posted"] .evidence img').first().waitFor();
    await shot(page, 'awards-recorded-pc');
    noProblems(page);
    await page.context().close();

    assert.equal((await vol.ok('GET', `/members/${member.id}/balance`)).available, 2);
    const m = await open(browser, phone, vol);
    await m.goto('/m/');
    const line = m.locator('#award-list li[data-status="posted"]', { hasText: '垃圾分类' });
    await line.waitFor();
    assert.match(await text(line), /厨余垃圾分类投放正确/);
    assert.match(await text(line), /\+2/);
    await line.scrollIntoViewIfNeeded();
    await shot(m, 'awards-m-home', { full: false });
    await m.click('button[data-text-size="200"]');
    await line.scrollIntoViewIfNeeded();
    const overflow = await m.evaluate(() => [...document.querySelectorAll('#awards-card, #awards-card li')].filter((e) => e.scrollWidth > e.clientWidth + 1).length);
    assert.equal(overflow, 0, 'the awards card spills at 200 %');
    await shot(m, 'awards-m-home-200', { full: false });
    noProblems(m);
    await m.context().close();
  });

  it('a large award waits; its recorder cannot approve; a second organiser approves and the points post', async () => {
    const page = await open(browser, pc, org);
    await page.goto('/admin/awards');
    await page.fill('#aw-q', '15800000031'.slice(-4));
    await page.locator('#aw-results li button').first().click();
    await page.locator('#aw-behaviour option', { hasText: '见义勇为' }).waitFor({ state: 'attached' });
    await page.selectOption('#aw-behaviour', { label: '见义勇为（+50）' });
    await page.fill('#aw-note', '河边救起落水儿童');
    await page.click('#aw-submit');
    await page.locator('#aw-done:not([hidden])').waitFor();
    assert.match(await text(page.locator('#aw-done')), /审批/);
    const item = page.locator('#queue .award-item[data-status="pending_approval"]', { hasText: '见义勇为' });
    await item.waitFor();
    assert.equal(await item.getByRole('button', { name: '审批通过' }).count(), 0, 'the recorder is offered the approval');
    assert.match(await text(item), /另一位工作人员/);
    await shot(page, 'awards-pending-pc');
    noProblems(page);
    await page.context().close();
    // The API says no too.
    const [pending] = (await org.ok('GET', '/awards?status=pending_approval')).awards;
    assert.equal((await org.call('POST', `/awards/${pending.id}/approve`)).status, 403);
    assert.equal((await vol.ok('GET', `/members/${member.id}/balance`)).available, 2);

    const second = await open(browser, pc, streetOrg);
    await second.goto('/admin/awards');
    const mine = second.locator('#queue .award-item[data-status="pending_approval"]', { hasText: '见义勇为' });
    await mine.getByRole('button', { name: '审批通过' }).click();
    await second.locator('#month-list tbody tr[data-status="posted"]', { hasText: '见义勇为' }).waitFor();
    await shot(second, 'awards-approved-pc');
    noProblems(second);
    await second.context().close();
    assert.equal((await vol.ok('GET', `/members/${member.id}/balance`)).available, 52);
    const got = await vol.ok('GET', `/awards/${pending.id}`);
    assert.deepEqual(got.steps.map((s) => s.step), ['recorded', 'approved', 'posted']);
    assert.equal(got.steps[1].by_name, '街道李科长');
  });

  it('the behaviour list page, and a deduction larger than the balance on the phone', async () => {
    const page = await open(browser, pc, org);
    await page.goto('/admin/behaviours');
    await page.locator('#behaviours table tbody tr', { hasText: '垃圾分类' }).waitFor();
    await shot(page, 'behaviours-pc');
    noProblems(page);
    await page.context().close();
    // 乱扔垃圾 −2, 27 times would take more than 52: the last ones take what is left.
    for (let i = 0; i < 27; i++) {
      await org.ok('POST', '/awards', { behaviour_id: (await org.ok('GET', '/behaviours')).behaviours.find((b) => b.name === '乱扔垃圾').id, member_id: member.id, note: `第 ${i + 1} 次乱扔垃圾` });
    }
    assert.equal((await vol.ok('GET', `/members/${member.id}/balance`)).available, 0);
    const m = await open(browser, phone, vol);
    await m.goto('/m/');
    await m.locator('#award-list li[data-status="posted"]').first().waitFor();
    assert.match(await text(m.locator('#award-list li').first()), /未扣/);
    await m.locator('#award-list').scrollIntoViewIfNeeded();
    await shot(m, 'awards-m-deduction', { full: false });
    noProblems(m);
    await m.context().close();
  });
});
