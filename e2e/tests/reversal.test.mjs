// Issue 12, item 11: a mistaken redemption is looked at and undone, never
// edited. A clerk redeems a voucher at the kiosk; the organiser finds it in
// the shop's redemptions of the day, reverses it with a reason; the stock on
// the shop's page and the member's balance on the member's page (and on the
// volunteer's phone) come back, the list shows the redemption reversed and
// the reversal beside it, the goods in list the items back, and the kiosk's
// day counts it. A second reversal is refused, saying when and by whom.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, Client, launch, noProblems, open, pc, phone, shot, text } from '../lib.mjs';

const orgPassword = 'jinqiao-2026-organiser';
const clerkPassword = 'jinqiao-2026-counter';
const volPassword = 'jinqiao-volunteer-2026';

describe('love supermarket: a mistaken redemption reversed', () => {
  let browser, admin, org, clerk, vol, unit, shop, rice, soap, memberId, voucher;

  before(async () => {
    admin = await Client.login(ADMIN.login, ADMIN.password);
    const street = await admin.ok('POST', '/units', { name: '金桥街道', kind: 'street' });
    unit = await admin.ok('POST', '/units', { name: '金桥社区', kind: 'community', parent_id: street.id });
    await admin.ok('POST', '/users', { login: 'jinqiao', password: orgPassword, role: 'organizer', name: '周主任', unit_id: unit.id });
    org = await Client.login('jinqiao', orgPassword);
    shop = await org.ok('POST', '/shops', { name: '金桥爱心超市', kind: 'love_supermarket', unit_id: unit.id });
    rice = await org.ok('POST', `/shops/${shop.id}/items`, { name: '五常大米 5kg', points: 30, stock: 6 });
    soap = await org.ok('POST', `/shops/${shop.id}/items`, { name: '洗衣皂', points: 5, stock: 20, monthly_limit: 4 });
    await org.ok('POST', `/items/${soap.id}/stock`, { kind: 'intake', qty: 10, donor: '金桥超市（共建单位）', note: '月度捐赠' });
    await admin.ok('POST', '/users', { login: 'jinqiao-counter', password: clerkPassword, role: 'clerk', name: '孙店员', shop_id: shop.id });
    clerk = await Client.login('jinqiao-counter', clerkPassword);
    const m = await org.ok('POST', '/members', { name: '吴秀英', phone: '15800000021', unit_id: unit.id, password: volPassword });
    memberId = m.id;
    const day = new Date(Date.now() - 16 * 3600e3).toISOString().slice(0, 10);
    const ev = await org.ok('POST', '/events', {
      title: '楼道清扫', category: '环境整治', unit_id: unit.id,
      starts_at: `${day}T08:00:00+08:00`, ends_at: `${day}T14:00:00+08:00`,
    });
    await org.ok('POST', `/events/${ev.id}/attendance`, {
      member_id: memberId, action: 'backfill', reason: '纸质签到表',
      checked_in_at: `${day}T08:00:00+08:00`, checked_out_at: `${day}T14:00:00+08:00`,
    });
    await org.ok('POST', `/events/${ev.id}/finalize`);
    vol = await Client.login('15800000021', volPassword);
    assert.equal((await vol.ok('GET', `/members/${memberId}/balance`)).available, 60);
    // She asks for rice and two bars of soap on her phone.
    voucher = await vol.ok('POST', '/vouchers', { shop_id: shop.id, items: [{ item_id: rice.id, qty: 1 }, { item_id: soap.id, qty: 2 }] });
    assert.equal(voucher.points, 40);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  it('redeems the voucher at the kiosk', async () => {
    const page = await open(browser, pc, clerk);
    await page.goto('/kiosk');
    await page.locator('#k-idle:not([hidden])').waitFor();
    await page.fill('#code-input', voucher.code);
    await page.click('#code-form button[type=submit]');
    await page.locator('#pv-who', { hasText: '吴*英' }).waitFor();
    await page.click('#confirm');
    await page.locator('#k-result.good').waitFor();
    await page.locator('#today li', { hasText: '吴*英' }).waitFor();
    assert.equal(await text(page.locator('#today-total')), '40 分');
    noProblems(page);
    await page.context().close();
    assert.equal((await vol.ok('GET', `/members/${memberId}/balance`)).available, 20);
  });

  it("lets the organiser see it in the shop's list and reverse it with a reason", async () => {
    const page = await open(browser, pc, org);
    await page.goto(`/admin/shops/${shop.id}`);
    const riceRow = page.locator(`#items-table tr[data-item="${rice.id}"]`);
    const soapRow = page.locator(`#items-table tr[data-item="${soap.id}"]`);
    await riceRow.waitFor();
    assert.equal(await text(riceRow.locator('.on-hand')), '5');
    assert.equal(await text(soapRow.locator('.on-hand')), '28');
    await page.locator('#st-redeemed', { hasText: /^40$/ }).waitFor();

    // Today's redemptions: who (masked), what, how many points, which clerk, how the member was there.
    const line = page.locator(`#rd-table tr[data-voucher="${voucher.id}"][data-kind=redeem]`);
    await line.waitFor();
    assert.match(await text(line), /吴\*英.*五常大米 5kg ×1、洗衣皂 ×2.*40.*孙店员.*本人兑换.*已兑换/);
    assert.equal(await text(page.locator('#rd-sum')), '兑换 1 笔，撤销 0 笔，合计 40 分');
    // By month too.
    await page.selectOption('#rd-by', 'month');
    await line.waitFor();
    await shot(page, 'pc-shop-redemptions');

    // 撤销兑换: a reason is needed.
    await line.getByRole('button', { name: '撤销兑换' }).click();
    await page.locator('.reverse-form').waitFor();
    assert.match(await text(page.locator('.reverse-form h3')), /撤销 吴\*英 的兑换：五常大米 5kg ×1、洗衣皂 ×2，40 分/);
    await page.click('.reverse-form button[type=submit]');
    await page.locator('.reverse-form .msg', { hasText: '请填写原因' }).waitFor();
    await shot(page, 'pc-shop-reverse-form', { full: false });
    await page.fill('#rv-reason', '扫错了券：本人当天未领取物品');
    await page.click('.reverse-form button[type=submit]');
    await page.locator('#rd-msg.ok', { hasText: '已撤销 吴*英 的兑换，40 分已退回' }).waitFor();

    // The list: the redemption struck through as reversed, the reversal above it.
    await page.locator(`#rd-table tr[data-voucher="${voucher.id}"][data-kind=redeem].rd-reversed`).waitFor();
    assert.match(await text(line), /已撤销兑换.*由 周主任 撤销/);
    assert.equal(await line.getByRole('button', { name: '撤销兑换' }).count(), 0, 'a reversed redemption offers no second reversal');
    const reversal = page.locator(`#rd-table tr[data-voucher="${voucher.id}"][data-kind=reverse]`);
    assert.match(await text(reversal), /吴\*英.*-40.*周主任.*撤销 .* 的兑换.*原因：扫错了券：本人当天未领取物品/);
    assert.equal(await text(page.locator('#rd-sum')), '兑换 1 笔，撤销 1 笔，合计 0 分');
    // The stock is back on the page, and the shop's redeemed points.
    await riceRow.locator('.on-hand', { hasText: /^6$/ }).waitFor();
    assert.equal(await text(soapRow.locator('.on-hand')), '30');
    assert.equal(await text(soapRow.locator('.reserved')), '0');
    await page.locator('#st-redeemed', { hasText: /^0$/ }).waitFor();
    // The goods in: the donation with its donor, and the items back with the reason.
    const moves = page.locator('#mv-table tbody');
    await moves.locator('tr[data-kind=reversal]').first().waitFor();
    assert.match(await text(moves.locator('tr[data-kind=intake]', { hasText: '金桥超市' })), /洗衣皂.*\+10.*入库.*金桥超市（共建单位）.*月度捐赠.*周主任/);
    assert.equal(await moves.locator('tr[data-kind=reversal]').count(), 2);
    assert.match(await text(moves.locator('tr[data-kind=reversal]', { hasText: '洗衣皂' })), /\+2.*撤销兑换退回.*扫错了券/);
    await shot(page, 'pc-shop-reversed');
    noProblems(page);

    // The member's page shows the points back.
    await page.goto(`/admin/members/${memberId}`);
    await page.locator('#b-available', { hasText: /^60$/ }).waitFor();
    assert.equal(await text(page.locator('#b-points')), '60');
    assert.equal(await text(page.locator('#b-held')), '0');
    await shot(page, 'pc-member-after-reversal', { full: false });
    noProblems(page);
    await page.context().close();
  });

  it('refuses a second reversal, saying when and by whom', async () => {
    const again = await admin.call('POST', `/vouchers/${voucher.id}/reverse`, { reason: '再撤销一次' });
    assert.equal(again.status, 409);
    assert.match(again.data.error.message, /已于 \d{4}-\d\d-\d\d \d\d:\d\d 由 周主任 撤销/);
    const v = await org.ok('GET', `/vouchers/${voucher.id}`);
    assert.equal(v.status, 'reversed');
    assert.equal(v.reverse_reason, '扫错了券：本人当天未领取物品');
    assert.equal(v.reversed_by_name, '周主任');
    assert.equal((await vol.ok('GET', `/members/${memberId}/balance`)).available, 60);
  });

  it("shows the volunteer the points back and the voucher's redemption reversed", async () => {
    const page = await open(browser, phone, vol);
    await page.goto('/m/');
    await page.locator('#b-available', { hasText: /^60$/ }).waitFor();
    await shot(page, 'phone-home-after-reversal', { full: false });
    await page.goto('/m/vouchers');
    const card = page.locator(`article[data-voucher="${voucher.id}"]`);
    await card.waitFor();
    assert.match(await text(card), /金桥爱心超市.*已撤销兑换.*40 分.*已于 .* 撤销兑换，积分已退回/);
    await shot(page, 'phone-vouchers-reversed', { full: false });
    noProblems(page);
    await page.context().close();
  });

  it("keeps the kiosk's day right: the redemption marked, the reversal counted", async () => {
    const page = await open(browser, pc, clerk);
    await page.goto('/kiosk');
    await page.locator('#today li.k-t-reversal').waitFor();
    assert.match(await text(page.locator('#today li.k-t-reversed')), /吴\*英.*五常大米 5kg×1、洗衣皂×2.*（已撤销）.*40 分/);
    assert.match(await text(page.locator('#today li.k-t-reversal')), /吴\*英.*撤销 \d\d:\d\d 的兑换：.*-40 分/);
    assert.equal(await text(page.locator('#today-total')), '0 分');
    assert.equal(await text(page.locator('#today-count')), '共 1 笔，撤销 1 笔');
    // The reversed voucher cannot be used again at the counter.
    await page.fill('#code-input', voucher.code);
    await page.click('#code-form button[type=submit]');
    await page.locator('#k-result.bad', { hasText: '撤销了这次兑换' }).waitFor();
    await shot(page, 'pc-kiosk-after-reversal', { full: false });
    noProblems(page);
    await page.context().close();
  });
});
