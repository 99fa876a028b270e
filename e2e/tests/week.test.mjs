// A real community's week, the irregular cases: a volunteer who forgot to
// check out of one community's event checks in at another community's
// event from their phone, and the first event's organiser decides what the
// forgotten attendance is worth; an organiser finalises an event that still
// runs, is asked first, and checks everyone out at once.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, Client, launch, noProblems, open, pc, phone, shot, text } from '../lib.mjs';

const orgPassword = 'hongqiao-2026-organiser';
const volPassword = 'hongqiao-volunteer-2026';
const minute = 60e3;

describe("a real community's week", () => {
  let browser, admin, orgA, orgB, east, west, vol, member;

  before(async () => {
    admin = await Client.login(ADMIN.login, ADMIN.password);
    const street = await admin.ok('POST', '/units', { name: '虹桥街道', kind: 'street' });
    east = await admin.ok('POST', '/units', { name: '虹东社区', kind: 'community', parent_id: street.id });
    west = await admin.ok('POST', '/units', { name: '虹西社区', kind: 'community', parent_id: street.id });
    await admin.ok('POST', '/users', { login: 'hongdong', password: orgPassword, role: 'organizer', name: '东社区刘书记', unit_id: east.id });
    await admin.ok('POST', '/users', { login: 'hongxi', password: orgPassword, role: 'organizer', name: '西社区陈主任', unit_id: west.id });
    member = await admin.ok('POST', '/members', { name: '周志强', phone: '13655550001', unit_id: east.id, password: volPassword });
    orgA = await Client.login('hongdong', orgPassword);
    orgB = await Client.login('hongxi', orgPassword);
    vol = await Client.login('13655550001', volPassword);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  const event = (org, unit, title, category, from, to) => org.ok('POST', '/events', {
    title, category, unit_id: unit.id, starts_at: new Date(from).toISOString(), ends_at: new Date(to).toISOString(),
  });

  it("checks a volunteer in at another community's event though they forgot to check out of the first", async () => {
    const now = Date.now();
    const morning = await event(orgA, east, '虹东社区义诊', '医疗义诊', now - 60 * minute, now + 120 * minute);
    const afternoon = await event(orgB, west, '虹西社区助老', '助老助残', now - 5 * minute, now + 60 * minute);
    const page = await open(browser, phone, vol);
    await page.goto((await orgA.ok('GET', `/events/${morning.id}/code`)).url);
    await page.locator('#result', { hasText: /^已签到/ }).waitFor();

    // They leave without checking out and scan the other community's code.
    await page.goto((await orgB.ok('GET', `/events/${afternoon.id}/code`)).url);
    await page.locator('#result', { hasText: /还在活动“虹东社区义诊”签到中/ }).waitFor();
    const end = page.locator('#end-other');
    await end.waitFor();
    assert.match(await text(page.locator('#detail')), /记为未签退/);
    await shot(page, 'phone-checkin-elsewhere', { full: false });
    await end.click();
    await page.locator('#result', { hasText: /^已签到/ }).waitFor();
    assert.match(await text(page.locator('#next')), /已结束您在「虹东社区义诊」的签到.*未签退/);
    assert.ok(await end.isHidden(), 'the button is gone once it has done its work');
    await shot(page, 'phone-checkin-ended-elsewhere', { full: false });

    // Their footprint shows the first one waiting for its organiser.
    await page.goto('/m/');
    await page.locator('#footprint li', { hasText: '虹东社区义诊' }).locator('.trail-status', { hasText: '未签退' }).waitFor();
    await shot(page, 'phone-home-no-checkout', { full: false });
    noProblems(page);
    await page.context().close();

    // The first organiser sees 未签退 and counts it up to when they left, at most.
    const orgPage = await open(browser, pc, orgA);
    await orgPage.goto(`/admin/events/${morning.id}`);
    const row = orgPage.locator('#attendance-table tbody tr', { hasText: '周志强' });
    await row.locator('.att-no-checkout').waitFor();
    // The latest time carries its day when it is not the event's first (the
    // event began before midnight, in Shanghai).
    assert.match(await text(row), /—最晚 (\d{1,2}\/\d{1,2} )?\d\d:\d\d未签退/);
    await shot(orgPage, 'pc-event-no-checkout');
    await row.getByRole('button', { name: '填写签退时间' }).click();
    const at = orgPage.locator('#row-at');
    assert.equal(await at.getAttribute('max'), await at.inputValue(), 'the form offers the latest time it may count to');
    await orgPage.fill('#row-reason', '本人已离开，按扫码到西社区的时间计');
    await orgPage.click('.inline-row button[type=submit]');
    await orgPage.locator('#attendance-table tbody tr', { hasText: '周志强' }).locator('.att-closed').waitFor();
    assert.match(await text(orgPage.locator('#attendance-table tbody tr', { hasText: '周志强' })), /原未签退/);
    const list = await orgA.ok('GET', `/events/${morning.id}/attendance`);
    const a = list.attendances[0];
    assert.equal(a.status, 'closed');
    assert.equal(a.no_checkout, true);
    assert.equal(new Date(a.checked_out_at).getTime(), new Date(a.latest_out).getTime());
    noProblems(orgPage);
    await orgPage.context().close();

    // And they are checked in at the afternoon's event, with nothing blocking them.
    const b = await orgB.ok('GET', `/events/${afternoon.id}/attendance`);
    assert.equal(b.attendances.length, 1);
    assert.equal(b.attendances[0].status, 'open');
    await orgB.ok('POST', `/events/${afternoon.id}/checkout-all`, { at: 'now', reason: '测试结束' });
  });

  it('edits an event, shows who changed what, and copies it as next weeks\' events', async () => {
    const now = Date.now();
    const ev = await event(orgA, east, '虹东社区政策宣讲', '政策宣讲', now + 60 * minute, now + 120 * minute);
    const page = await open(browser, pc, orgA);
    await page.goto(`/admin/events/${ev.id}`);
    await page.click('#edit');
    assert.equal(await page.inputValue('#e-title'), '虹东社区政策宣讲');
    await page.fill('#e-place', '虹东社区党群服务中心二楼');
    await page.fill('#e-description', '宣讲垃圾分类新规\n请带好宣传册');
    await page.fill('#e-contact', '刘书记 136 5555 0000');
    await page.fill('#e-capacity', '40');
    await shot(page, 'pc-event-edit');
    await page.click('#edit-form button[type=submit]');
    await page.locator('#status-msg', { hasText: '已保存修改' }).waitFor();
    assert.match(await text(page.locator('#ev-sub')), /虹东社区党群服务中心二楼/);
    assert.match(await text(page.locator('#ev-contact')), /刘书记/);
    assert.equal(await page.locator('#ev-description').innerText(), '宣讲垃圾分类新规\n请带好宣传册');
    await page.locator('#changes li', { hasText: '东社区刘书记' }).waitFor();
    assert.match(await text(page.locator('#changes')), /地点.*→ 虹东社区党群服务中心二楼.*人数上限 不限 → 40/);
    assert.doesNotMatch(await text(page.locator('#changes')), /开始时间|结束时间/, 'times left as they were are not changes');
    await shot(page, 'pc-event-edited');

    // 复制: the new-event form, filled with this event a week later, made weekly twice.
    await page.click('#copy');
    await page.waitForURL((u) => u.pathname === '/admin/events');
    await page.locator('#copy-note', { hasText: '复制自「虹东社区政策宣讲」' }).waitFor();
    assert.equal(await page.inputValue('#e-place'), '虹东社区党群服务中心二楼');
    assert.equal(await page.inputValue('#e-capacity'), '40');
    await page.fill('#e-weeks', '2');
    await shot(page, 'pc-event-copy');
    await page.click('#event-form button[type=submit]');
    await page.waitForURL((u) => /^\/admin\/events\/[0-9a-f-]{36}$/.test(u.pathname));
    const firstCopy = new URL(page.url()).pathname.split('/').pop();
    const { events } = await orgA.ok('GET', `/events?unit_id=${east.id}`);
    const copies = events.filter((e) => e.title === '虹东社区政策宣讲' && e.id !== ev.id)
      .map((e) => Math.round((new Date(e.starts_at) - new Date(ev.starts_at)) / (24 * 3600e3))).sort((a, b) => a - b);
    assert.deepEqual(copies, [7, 14], 'a copy next week, and one the week after');
    assert.ok(events.some((e) => e.id === firstCopy));
    noProblems(page);
    await page.context().close();
  });

  it('asks before finalising an event that still runs, and checks everyone out at once', async () => {
    const now = Date.now();
    const ev = await event(orgA, east, '虹东社区环境整治', '环境整治', now - 90 * minute, now + 30 * minute);
    const names = ['郑晓东', '钱丽华', '孙卫国'];
    for (const [i, name] of names.entries()) {
      const m = await orgA.ok('POST', '/members', { name, phone: `1365555010${i}`, unit_id: east.id });
      await orgA.ok('POST', `/events/${ev.id}/attendance`, { member_id: m.id, action: 'in' });
    }
    // Without confirming, the server refuses and says how many are still in.
    const refused = await orgA.call('POST', `/events/${ev.id}/finalize`);
    assert.equal(refused.status, 409);
    assert.equal(refused.data.error.still_open, 3);

    const page = await open(browser, pc, orgA);
    await page.goto(`/admin/events/${ev.id}`);
    await page.locator('#attendance-table tbody tr').nth(2).waitFor();
    await page.click('#finalize');
    assert.match(await text(page.locator('#confirm-text')), /活动要到 \d\d:\d\d 才结束.*还有 3 人签到后未签退/);
    await shot(page, 'pc-event-finalise-running');
    await page.click('#confirm-no');

    await page.click('#checkout-all');
    assert.ok(await page.locator('#ca-end').isDisabled(), 'the end has not come: only now');
    assert.match(await text(page.locator('#ca-count')), /还有 3 人签到中/);
    await page.fill('#ca-reason', '活动提前结束，统一签退');
    await shot(page, 'pc-event-checkout-all');
    await page.click('#checkout-all-form button[type=submit]');
    await page.locator('#status-msg', { hasText: '已为 3 人签退' }).waitFor();
    await page.locator('#count-in', { hasText: /^0$/ }).waitFor();
    const list = await orgA.ok('GET', `/events/${ev.id}/attendance`);
    assert.deepEqual(list.attendances.map((a) => [a.status, a.reason]), names.map(() => ['closed', '活动提前结束，统一签退']));

    // Finalising now asks only because the event still runs; it posts the three.
    await page.click('#finalize');
    assert.doesNotMatch(await text(page.locator('#confirm-text')), /未签退/);
    await page.click('#confirm-yes');
    await page.locator('#finalize-result').waitFor();
    assert.equal(await text(page.locator('#fin-posted')), '3');
    noProblems(page);
    await page.context().close();
  });
});
