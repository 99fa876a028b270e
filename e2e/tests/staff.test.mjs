// Staff who come and go (issue 12, item 9), as a community lives it: the
// organiser of 康宁社区 resets the password of one counter clerk who forgot
// it and disables the account of another who left. The clerk who left still
// has the kiosk open at the counter: its next scan logs it out, and its login
// says the account is disabled (a wrong password says only that the
// password is wrong). The first clerk logs in with the new password, then
// changes it to one of their own at the kiosk; the organiser changes their
// own password on the staff page, and their other sessions end.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, Client, launch, loginUI, noProblems, open, pc, phone, shot, text } from '../lib.mjs';

const orgPassword = 'kangning-organiser-2026';
const counterPassword = 'kangning-counter-2026';

// validCode makes a short code whose check character is right, as a clerk
// would type one from a slip: the kiosk then asks the server about it.
function validCode(first9) {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (i + 1) * alphabet.indexOf(first9[i]);
  return first9 + alphabet[sum % 31];
}

// row is the staff table's row of a login.
const row = (page, login) => page.locator(`#staff-table tr[data-login="${login}"]`);

describe('staff: reset, disable, own password', () => {
  let browser, admin, org, leaver, shop;

  before(async () => {
    admin = await Client.login(ADMIN.login, ADMIN.password);
    const street = await admin.ok('POST', '/units', { name: '康宁街道', kind: 'street' });
    const community = await admin.ok('POST', '/units', { name: '康宁社区', kind: 'community', parent_id: street.id });
    await admin.ok('POST', '/users', { login: 'kangning', password: orgPassword, role: 'organizer', name: '周主任', unit_id: community.id });
    org = await Client.login('kangning', orgPassword);
    shop = await org.ok('POST', '/shops', { name: '康宁爱心超市', kind: 'love_supermarket', unit_id: community.id });
    await org.ok('POST', '/users', { login: 'kn-counter1', password: counterPassword, role: 'clerk', name: '孙店员', shop_id: shop.id });
    await org.ok('POST', '/users', { login: 'kn-counter2', password: counterPassword, role: 'clerk', name: '钱店员', shop_id: shop.id });
    leaver = await Client.login('kn-counter2', counterPassword);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  it('an organiser resets one clerk and disables another; the kiosk that was left open is logged out', async () => {
    // The clerk who is leaving has the counter open.
    const kiosk = await open(browser, pc, leaver);
    await kiosk.goto('/kiosk');
    await kiosk.locator('#k-idle').waitFor();
    assert.match(await text(kiosk.locator('.bar .user')), /钱店员/);

    const page = await open(browser, pc, org);
    await page.goto('/admin/staff');
    await row(page, 'kn-counter1').waitFor();
    assert.match(await text(row(page, 'kn-counter1')), /孙店员.*兑换点 康宁爱心超市/);
    await shot(page, 'staff-pc');

    // Reset: the dialog of 孙店员, a new password twice.
    await row(page, 'kn-counter1').getByRole('button', { name: /孙店员/ }).click();
    const dialog = page.locator('#edit');
    await dialog.waitFor();
    assert.equal(await text(page.locator('#edit-h')), '管理账号：孙店员');
    await page.fill('#e-password', 'a-new-counter-password');
    await page.fill('#e-again', 'a-new-counter-password');
    await page.click('#edit-password-form button[type=submit]');
    await page.locator('#edit-msg.ok').waitFor();
    assert.equal(await text(page.locator('#edit-msg')), '已为“kn-counter1”设置新密码，原来的登录都已退出。');
    await shot(page, 'staff-edit-pc', { full: false });
    await page.click('#edit-close');

    // Disable: the dialog of 钱店员.
    await row(page, 'kn-counter2').getByRole('button', { name: /钱店员/ }).click();
    await page.click('#edit-disable');
    await page.locator('#edit-msg.ok').waitFor();
    assert.equal(await text(page.locator('#edit-msg')), '已停用“kn-counter2”，它的所有登录都已退出。');
    assert.match(await text(page.locator('#edit-state-now')), /^已于 .* 停用，不能登录。$/);
    assert.equal(await page.locator('#edit-enable').isVisible(), true);
    await page.click('#edit-close');
    await row(page, 'kn-counter2').locator('.badge.off').waitFor();
    assert.match(await text(row(page, 'kn-counter2')), /已停用.*由 周主任 修改/);
    await shot(page, 'staff-after-pc');
    noProblems(page);

    // At the counter, the next scan: the kiosk finds its session gone.
    await kiosk.fill('#code-input', validCode('ABCDEFGHJ'));
    await kiosk.press('#code-input', 'Enter');
    await kiosk.waitForURL(/\/\?next=%2Fkiosk/);
    await kiosk.locator('#login-form').waitFor();
    // A wrong password learns nothing; the right one hears the account is disabled.
    await loginUI(kiosk, 'kn-counter2', 'not-the-password');
    await kiosk.locator('#login-msg', { hasText: '登录名或密码不正确' }).waitFor();
    await loginUI(kiosk, 'kn-counter2', counterPassword);
    await kiosk.locator('#login-msg', { hasText: '该账号已停用' }).waitFor();
    assert.equal(await text(kiosk.locator('#login-msg')), '该账号已停用，不能登录。如需恢复，请联系社区管理员');
    assert.match(kiosk.url(), /\/\?next=/, 'still on the login page');
    await shot(kiosk, 'staff-disabled-login-pc');
    noProblems(kiosk);
    await kiosk.context().close();

    // The reset clerk logs in with the new password and lands at the counter.
    const fresh = await open(browser, pc);
    await fresh.goto('/');
    await loginUI(fresh, 'kn-counter1', 'a-new-counter-password');
    await fresh.waitForURL(/\/kiosk/);
    await fresh.locator('#k-idle').waitFor();
    assert.match(await text(fresh.locator('.bar .user')), /孙店员/);

    // At the kiosk the clerk changes the password to one of their own.
    await fresh.click('#my-password summary');
    await fresh.fill('#op-old', 'a-new-counter-password');
    await fresh.fill('#op-new', 'sun-own-password-2026');
    await fresh.fill('#op-again', 'sun-own-password-2026');
    await fresh.click('#own-password-form button[type=submit]');
    await fresh.locator('#own-password-msg.ok').waitFor();
    assert.equal(await text(fresh.locator('#own-password-msg')), '密码已修改。其他设备上的登录已退出，这台设备保持登录。');
    await shot(fresh, 'staff-kiosk-own-password-pc');
    // This browser stays at the counter; the old password is gone.
    await fresh.reload();
    await fresh.locator('#k-idle').waitFor();
    assert.match(fresh.url(), /\/kiosk/);
    noProblems(fresh);
    await fresh.context().close();
    assert.equal((await Client.login('kn-counter1', 'sun-own-password-2026')).user.login, 'kn-counter1');

    await page.context().close();
  });

  it('a staff member changes their own password on the staff page; their other sessions end', async () => {
    const page = await open(browser, phone, org);
    await page.goto('/admin/staff');
    await row(page, 'kangning').waitFor();
    await shot(page, 'staff-phone');
    // Their own row offers only the name; the password needs the current one.
    await row(page, 'kangning').getByRole('button').click();
    assert.equal(await page.locator('#edit-self').isVisible(), true);
    assert.equal(await page.locator('#edit-password-form').isVisible(), false);
    assert.equal(await page.locator('#edit-disable').isVisible(), false);
    await shot(page, 'staff-edit-self-phone', { full: false });
    await page.click('#edit-close');

    const other = await Client.login('kangning', orgPassword); // another device
    assert.equal((await other.call('GET', '/me')).status, 200);
    await page.locator('#my-password').scrollIntoViewIfNeeded();
    await page.fill('#op-old', 'a wrong current password');
    await page.fill('#op-new', 'zhou-new-password-2026');
    await page.fill('#op-again', 'zhou-new-password-2026');
    await page.click('#own-password-form button[type=submit]');
    await page.locator('#own-password-msg', { hasText: '原密码不正确' }).waitFor();
    await page.fill('#op-old', orgPassword);
    await page.fill('#op-new', 'zhou-new-password-2026');
    await page.fill('#op-again', 'zhou-new-password-2026');
    await page.click('#own-password-form button[type=submit]');
    await page.locator('#own-password-msg.ok').waitFor();
    await shot(page, 'staff-own-password-phone');

    assert.equal((await other.call('GET', '/me')).status, 401, 'the other device is logged out');
    assert.equal((await org.call('GET', '/me')).status, 401, 'and so is the session the test began with');
    await page.reload();
    await row(page, 'kangning').waitFor(); // this phone is still logged in
    noProblems(page);

    // The disabled clerk can be enabled again, from the phone too.
    await row(page, 'kn-counter2').getByRole('button', { name: /钱店员/ }).click();
    await shot(page, 'staff-edit-phone', { full: false });
    await page.click('#edit-enable');
    await page.locator('#edit-msg.ok').waitFor();
    assert.equal(await text(page.locator('#edit-msg')), '已重新启用“kn-counter2”，可以用原密码登录。');
    await page.context().close();
  });
});
