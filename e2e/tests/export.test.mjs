// The organiser's monthly job: after a month of service and exchanges, the
// export page shows the totals and a reconciliation that holds, and the
// downloads (.xlsx and CSV, Chinese file names) open in a real spreadsheet
// program — LibreOffice, headless — with the Chinese text and the numbers
// intact.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN, Client, launch, noProblems, open, pc, phone, screenshots, shot, text } from '../lib.mjs';

const orgPassword = 'dongfeng-2026-organiser';
const clerkPassword = 'dongfeng-2026-counter';

// month is the current month in Beijing time, as the server counts it.
function month() {
  const d = new Date(Date.now() + 8 * 3600e3);
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, s: d.toISOString().slice(0, 7) };
}

// soffice converts a file with LibreOffice, headless, into dir; it answers the files it wrote.
function soffice(file, dir, to, infilter) {
  const args = ['--headless', '--norestore', `-env:UserInstallation=file://${dir}/profile`];
  if (infilter) args.push(`--infilter=${infilter}`);
  execFileSync('soffice', [...args, '--convert-to', to, '--outdir', dir, file], { stdio: 'pipe', timeout: 120_000 });
  return readdirSync(dir).filter((f) => f.endsWith('.csv')).sort();
}

// cells is a table row's cells, one space between them.
const cells = async (row) => (await row.locator('td').allTextContents()).map((c) => c.trim()).join(' ');

// UTF-8, comma separated, text quoted, cells as shown, all sheets (LibreOffice 7.2 and later).
const csvFilter = 'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,true,true,true,false,false,-1';

describe('monthly export', () => {
  let browser, org, members, day, unitId;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'aixin-export-'));
  const mon = month();

  before(async () => {
    const admin = await Client.login(ADMIN.login, ADMIN.password);
    const street = await admin.ok('POST', '/units', { name: '东风街道', kind: 'street' });
    const unit = await admin.ok('POST', '/units', { name: '东风社区', kind: 'community', parent_id: street.id });
    unitId = unit.id;
    await admin.ok('POST', '/users', { login: 'dongfeng', password: orgPassword, role: 'organizer', name: '周主任', unit_id: unit.id });
    org = await Client.login('dongfeng', orgPassword);
    const team = await org.ok('POST', '/teams', { name: '东风社区党员志愿服务队', kind: 'party_volunteer_team', unit_id: unit.id });
    members = {
      wang: await org.ok('POST', '/members', { name: '王建国', phone: '13600000021', unit_id: unit.id, party_member: true, team_ids: [team.id] }),
      liu: await org.ok('POST', '/members', { name: '刘芳', phone: '13600000022', unit_id: unit.id, party_member: true,
        on_duty: { work_unit: '区人民医院', reported_at: '2026-03-01', annual_target_hours: 24 } }),
    };
    // Yesterday's service, from the paper sheet, finalised today: 4 h and 2 h.
    day = new Date(Date.now() - 16 * 3600e3).toISOString().slice(0, 10);
    const ev = await org.ok('POST', '/events', {
      title: '关爱空巢老人', category: '助老助残', unit_id: unit.id,
      starts_at: `${day}T08:00:00+08:00`, ends_at: `${day}T12:00:00+08:00`,
    });
    for (const [m, end] of [[members.wang, '12:00'], [members.liu, '10:00']]) {
      await org.ok('POST', `/events/${ev.id}/attendance`, {
        member_id: m.id, action: 'backfill', reason: '纸质签到表',
        checked_in_at: `${day}T08:00:00+08:00`, checked_out_at: `${day}T${end}:00+08:00`,
      });
    }
    await org.ok('POST', `/events/${ev.id}/finalize`);
    // 王建国 exchanges two towels at the counter; 刘芳's voucher is still open.
    const shop = await org.ok('POST', '/shops', { name: '东风爱心超市', kind: 'love_supermarket', unit_id: unit.id });
    const towel = await org.ok('POST', `/shops/${shop.id}/items`, { name: '毛巾', points: 5, stock: 10 });
    await admin.ok('POST', '/users', { login: 'dongfeng-counter', password: clerkPassword, role: 'clerk', shop_id: shop.id });
    const clerk = await Client.login('dongfeng-counter', clerkPassword);
    const v = await org.ok('POST', '/vouchers', { member_id: members.wang.id, shop_id: shop.id, items: [{ item_id: towel.id, qty: 2 }], presence: 'proxy' });
    await clerk.ok('POST', '/redemptions', { code: v.code });
    await org.ok('POST', '/vouchers', { member_id: members.liu.id, shop_id: shop.id, items: [{ item_id: towel.id, qty: 1 }], presence: 'proxy' });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  let xlsx, csv;

  it('shows the month with a reconciliation that holds, and downloads both files', async () => {
    const page = await open(browser, pc, org);
    await page.goto('/admin/');
    await page.click('nav.tabs a:has-text("导出")');
    await page.waitForURL((u) => u.pathname === '/admin/exports');
    await page.fill('#ex-month', mon.s);
    await page.locator('#ex-month').dispatchEvent('change');
    await page.locator('#st-people', { hasText: /^2$/ }).waitFor();
    assert.equal(await text(page.locator('#st-hours')), '6.0');
    assert.equal(await text(page.locator('#st-earned')), '60');
    assert.equal(await text(page.locator('#st-redeemed')), '10');
    assert.equal(await text(page.locator('#st-closing')), '50');
    assert.match(await text(page.locator('#st-held')), /待兑换 5/);
    assert.equal(await page.locator('#checks li.bad').count(), 0);
    assert.ok(await page.locator('#checks li.good').count() >= 3);
    assert.match(await text(page.locator('#checks')), /50 = 0 \+ 60 \+ 0 − 0 − 10 − 0 ✓/);
    const rows = page.locator('#preview-table tbody tr');
    assert.equal(await rows.count(), 3); // two people and the totals
    assert.match(await cells(rows.nth(0)), /刘芳 136\*\*\*\*0022 东风社区  是 区人民医院 2\.0 0 20 20 0 0 0 0 0 0 20 5 0/);
    assert.match(await cells(rows.nth(1)), /王建国 136\*\*\*\*0021 东风社区 东风社区党员志愿服务队 是  4\.0 0 40 40 0 0 0 0 10 0 30 0 0/);
    await shot(page, 'pc-export');

    await page.selectOption('#ex-by', 'shop');
    await page.locator('#preview-table tbody tr', { hasText: '东风爱心超市' }).waitFor();
    assert.match(await cells(page.locator('#preview-table tbody tr').first()), /东风爱心超市 爱心超市 东风社区 1 10 2 毛巾×2/);
    await shot(page, 'pc-export-shops');

    await page.selectOption('#ex-by', 'member');
    await rows.filter({ hasText: '王建国' }).waitFor();
    const [dx] = await Promise.all([page.waitForEvent('download'), page.click('#dl-xlsx')]);
    assert.equal(dx.suggestedFilename(), `${mon.y}年${mon.m}月积分汇总.xlsx`);
    xlsx = path.join(tmp, 'in', dx.suggestedFilename());
    await dx.saveAs(xlsx);
    const [dc] = await Promise.all([page.waitForEvent('download'), page.click('#dl-csv')]);
    assert.equal(dc.suggestedFilename(), `${mon.y}年${mon.m}月积分汇总-按志愿者.csv`);
    csv = path.join(tmp, 'in', dc.suggestedFilename());
    await dc.saveAs(csv);
    noProblems(page);
    await page.context().close();
  });

  it('opens the workbook in LibreOffice with every sheet, the Chinese text and the numbers intact', () => {
    const out = path.join(tmp, 'xlsx');
    const files = soffice(xlsx, out, csvFilter);
    const sheet = (name) => readFileSync(path.join(out, files.find((f) => f.endsWith(`-${name}.csv`))), 'utf8');
    assert.deepEqual(files.map((f) => f.replace(/^.*-/, '')), ['往月补录.csv', '按兑换点.csv', '按单位.csv', '按家庭.csv', '按志愿者.csv', '按队伍.csv', '汇总.csv']);
    const people = sheet('按志愿者');
    // The title row, then the header.
    assert.match(people, new RegExp(`^"东风社区 ${mon.y}年${mon.m}月积分汇总（按志愿者）",*\\n"姓名","手机号","所属单位","队伍","党员","在职党员报到单位","服务时长（小时）","期初积分","本月获得"`));
    // Text cells stay text (the phone keeps its stars), hours keep one decimal, points are numbers.
    assert.match(people, /\n"王建国","136\*\*\*\*0021","东风社区","东风社区党员志愿服务队","是",,4\.0,0,40,40,0,0,0,0,10,0,30,0,0\n/);
    assert.match(people, /\n"刘芳","136\*\*\*\*0022","东风社区",,"是","区人民医院",2\.0,0,20,20,0,0,0,0,0,0,20,5,0\n/);
    assert.match(people, /\n"合计（2 人）",,,,,,6\.0,0,60,60,0,0,0,0,10,0,50,5,0\n/);
    assert.match(people, /核对：期末积分 = 期初积分 \+ 本月获得 \+ 调整 − 扣分 − 兑换 − 过期：50 = 0 \+ 60 \+ 0 − 0 − 10 − 0 ✓/);
    assert.match(sheet('按兑换点'), /\n"东风爱心超市","爱心超市","东风社区",1,10,2,"毛巾×2"\n/);
    assert.match(sheet('汇总'), /\n"统计范围","东风社区"\n/);
  });

  it('prints the workbook one page wide, each page with its title and header, the summary with lines to sign', () => {
    // LibreOffice prints every sheet as the workbook sets it up: A4, one page
    // wide, title and header repeated. A page cut from the right-hand part of
    // a sheet would lack the sheet's first column; one cut from the left
    // would lack its last.
    const out = path.join(tmp, 'print');
    mkdirSync(out, { recursive: true });
    execFileSync('soffice', ['--headless', '--norestore', `-env:UserInstallation=file://${out}/profile`, '--convert-to', 'pdf',
      '--outdir', out, xlsx], { stdio: 'pipe', timeout: 120_000 });
    const pdf = path.join(out, readdirSync(out).find((f) => f.endsWith('.pdf')));
    const pages = Number(execFileSync('pdfinfo', [pdf], { encoding: 'utf8' }).match(/^Pages:\s+(\d+)$/m)[1]);
    const views = {
      汇总: ['项目', '数值', 'portrait'],
      按志愿者: ['姓名', '兑换券退回', 'landscape'],
      按队伍: ['队伍', '兑换券退回', 'landscape'],
      按单位: ['所属单位', '兑换券退回', 'landscape'],
      按兑换点: ['兑换点', '物品明细', 'landscape'],
      往月补录: ['姓名', '情形', 'landscape'],
      按家庭: ['家庭（门牌）', '已冻结）', 'landscape'], // its last heading wraps
    };
    const seen = [];
    for (let p = 1; p <= pages; p++) {
      const page = execFileSync('pdftotext', ['-f', String(p), '-l', String(p), '-layout', pdf, '-'], { encoding: 'utf8' });
      const flat = page.replace(/\s+/g, '');
      const view = flat.match(new RegExp(`东风社区${mon.y}年${mon.m}月积分汇总（(.+?)）`))?.[1];
      assert.ok(views[view], `page ${p} has no sheet title:\n${page}`);
      const [first, last, orientation] = views[view];
      assert.ok(flat.includes(first) && flat.includes(last), `page ${p} (${view}) lacks its first or last column:\n${page}`);
      const [, w, h] = execFileSync('pdfinfo', ['-f', String(p), '-l', String(p), pdf], { encoding: 'utf8' })
        .match(/^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts/m).map(Number);
      assert.equal(Math.round(Math.max(w, h)), 842, `page ${p} is not A4`);
      assert.equal(w > h ? 'landscape' : 'portrait', orientation, `page ${p} (${view})`);
      // The checks under the table span the page and read whole.
      if (view !== '汇总' && !seen.includes(view)) {
        // (on the sheet's last page; this month's sheets are one page each)
        assert.ok(flat.includes('核对：期末积分=期初积分+本月获得+调整−扣分−兑换−过期：50=0+60+0−0−10−0✓'), `page ${p} (${view}) breaks its notes:\n${page}`);
      }
      seen.push(view);
    }
    assert.deepEqual([...new Set(seen)], Object.keys(views));
    const summary = execFileSync('pdftotext', ['-f', '1', '-l', '1', pdf, '-'], { encoding: 'utf8' });
    for (const line of ['制表人（签字）', '审核人（签字）', '日期']) assert.ok(summary.includes(line), `the summary lacks ${line}`);
    execFileSync('pdftoppm', ['-r', '60', '-png', pdf, path.join(screenshots, 'print-export')]);
  });

  it('opens the CSV in LibreOffice as UTF-8 with the same rows', () => {
    const out = path.join(tmp, 'csv');
    const files = soffice(csv, out, csvFilter.replace(/,-1$/, ''), 'Text - txt - csv (StarCalc):44,34,76,1');
    const back = readFileSync(path.join(out, files[0]), 'utf8');
    assert.match(back, /^"姓名","手机号"/, 'the byte order mark is not read as text');
    assert.match(back, /\n"王建国","136\*\*\*\*0021","东风社区","东风社区党员志愿服务队","是",,4,0,40,40,0,0,0,0,10,0,30,0,0\n/);
    assert.match(back, /\n"刘芳","136\*\*\*\*0022","东风社区",,"是","区人民医院",2,0,20,20,0,0,0,0,0,0,20,5,0\n/);
  });

  it('shows the month on the dashboard with charts the server draws', async () => {
    const page = await open(browser, pc, org);
    await page.goto('/admin/');
    await page.locator('#d-earned', { hasText: /^60$/ }).waitFor();
    assert.equal(await text(page.locator('#d-active')), '2');
    assert.equal(await text(page.locator('#d-hours')), '6.0');
    assert.equal(await text(page.locator('#d-redeemed')), '10');
    assert.match(await text(page.locator('#d-teams')), /东风社区党员志愿服务队/);
    assert.match(await text(page.locator('#d-low')), /库存都充足/);
    await page.waitForFunction(() => ['chart-points', 'chart-categories'].every((id) => document.getElementById(id)?.naturalWidth > 0));
    await shot(page, 'pc-dashboard');
    // Set up already: the first steps are out of the way.
    assert.equal(await page.locator('#steps').isHidden(), true);
    // Another month by its address, and the picker keeps the address.
    await page.goto('/admin/?month=2025-01');
    assert.equal(await page.locator('#dash-month').inputValue(), '2025-01');
    await page.locator('#d-earned', { hasText: /^0$/ }).waitFor();
    await page.locator('#dash-month').fill(day.slice(0, 7));
    await page.locator('#d-earned', { hasText: /^60$/ }).waitFor();
    assert.equal(new URL(page.url()).searchParams.get('month'), day.slice(0, 7));
    noProblems(page);
    await page.context().close();
  });

  it("prints the on-duty members' service record cards for their employer", async () => {
    const quarter = `${day.slice(0, 4)}-Q${Math.floor((Number(day.slice(5, 7)) - 1) / 3) + 1}`;
    const page = await open(browser, pc, org);
    await page.goto('/admin/exports');
    await page.click('#records-link');
    await page.waitForURL((u) => u.pathname === '/admin/records');
    await page.selectOption('#r-quarter', quarter);
    const group = page.locator('.record-group', { hasText: '区人民医院' });
    await group.waitFor();
    const card = group.locator('.record-card', { hasText: '刘芳' });
    assert.match(await text(card), /报到日期 2026-03-01.*服务 2\.0 小时.*本年累计 2\.0 \/ 24 小时（8%）/);
    assert.match(await cells(card.locator('tbody tr')), new RegExp(`${day} 关爱空巢老人 助老助残 2\\.0`));
    // 王建国 has no employer: he is on no record card.
    assert.equal(await page.locator('.record-card', { hasText: '王建国' }).count(), 0);
    // Who sends it: the community, the day, its seal and its head's signature.
    assert.match(await text(group.locator('.record-sign')), /^出具单位（盖章） ?东风社区 ?负责人签字 ?出具日期 ?\d{4}-\d\d-\d\d ?盖章处$/);
    await shot(page, 'pc-records');
    await page.emulateMedia({ media: 'print' });
    await shot(page, 'print-records');
    // Printed, the employer's cards are one A4 page that ends with the signature block.
    const pdf = path.join(tmp, 'records.pdf');
    mkdirSync(tmp, { recursive: true });
    await page.pdf({ path: pdf, preferCSSPageSize: true, printBackground: true });
    assert.match(execFileSync('pdfinfo', [pdf], { encoding: 'utf8' }), /^Pages:\s+1$/m);
    const printed = execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' }).replace(/\s+/g, '');
    for (const part of ['致区人民医院党组织', '刘芳', '出具单位（盖章）东风社区', '负责人签字', '盖章处']) assert.ok(printed.includes(part), `${part}: ${printed}`);
    assert.match(printed, /出具日期\d{4}-\d\d-\d\d/);
    execFileSync('pdftoppm', ['-r', '60', '-png', '-singlefile', pdf, path.join(screenshots, 'print-records-pdf')]);
    noProblems(page);
    await page.context().close();
  });

  it('issues a certificate whose QR opens a public page that confirms it, with the name masked', async () => {
    const page = await open(browser, pc, org);
    await page.goto(`/admin/members/${members.liu.id}`);
    await page.locator('#cert-form').waitFor();
    await page.fill('#cert-from', day);
    await page.click('#cert-form button[type=submit]');
    await page.waitForURL((u) => u.pathname.startsWith('/admin/certificates/'));
    await page.locator('#c-body', { hasText: '刘芳' }).waitFor();
    assert.match(await text(page.locator('#c-body')), new RegExp(`兹证明 刘芳 同志于 ${day} 至 \\d{4}-\\d\\d-\\d\\d 期间参加志愿服务 1 次，累计服务时长 2\\.0 小时`));
    assert.equal(await text(page.locator('#c-unit')), '东风社区');
    await page.waitForFunction(() => document.getElementById('c-qr')?.naturalWidth > 0);
    await page.emulateMedia({ media: 'print' });
    await shot(page, 'print-certificate');
    // Printed, it is one A4 page.
    const pdf = path.join(tmp, 'certificate.pdf');
    mkdirSync(tmp, { recursive: true });
    await page.pdf({ path: pdf, preferCSSPageSize: true, printBackground: true });
    const info = execFileSync('pdfinfo', [pdf], { encoding: 'utf8' });
    assert.match(info, /^Pages:\s+1$/m, info);
    assert.match(info, /^Page size:\s+594\.96 x 841\.92 pts \(A4\)/m, info);
    const qr = path.join(tmp, 'cert-qr.png');
    mkdirSync(tmp, { recursive: true });
    await page.locator('#c-qr').screenshot({ path: qr });
    const url = execFileSync('zbarimg', ['-q', '--raw', '--nodbus', qr], { encoding: 'utf8' }).trim();
    const serial = page.url().split('/').pop().split('?')[0];
    assert.ok(url.endsWith('/verify/' + serial), url);
    noProblems(page);
    await page.context().close();

    // Anyone with a phone, not logged in.
    const pub = await open(browser, phone);
    await pub.goto(new URL(url).pathname);
    await pub.locator('.verify-ok h1', { hasText: '真实有效' }).waitFor();
    assert.equal(await text(pub.locator('#v-name')), '刘*');
    assert.match(await text(pub.locator('#v-hours')), /2\.0 小时（1 次）/);
    const html = await pub.content();
    assert.ok(!html.includes('刘芳') && !html.includes('13600000022') && !html.includes('区人民医院'), 'the public page shows personal data');
    await shot(pub, 'phone-verify', { full: false });
    await pub.goto('/verify/2026-00000000');
    await pub.locator('.verify-bad h1', { hasText: '查无此证明' }).waitFor();
    noProblems(pub);
    await pub.context().close();
  });

  it("publishes the community's points notice when its organiser turns it on", async () => {
    const page = await open(browser, pc, org);
    await page.goto('/admin/units');
    const row = page.locator(`li[data-unit-id="${unitId}"]`);
    await row.locator('.notice-switch').check();
    await row.locator('.unit-notice', { hasText: '已开通积分公示' }).waitFor();
    // The objection period and whom to call, set on the same row.
    await row.locator('.notice-settings').click();
    await page.getByLabel('公示期（天）', { exact: true }).fill('5');
    await page.getByLabel('异议联系人及电话').fill('东风社区居委会 周主任 028-8765 4321');
    await page.getByRole('button', { name: '保存公示设置' }).click();
    await page.locator(`li[data-unit-id="${unitId}"] .notice-summary`, { hasText: '公示期 5 天 · 东风社区居委会 周主任 028-8765 4321' }).waitFor();
    await shot(page, 'pc-units-notice');
    noProblems(page);
    await page.context().close();

    const pub = await open(browser, phone);
    await pub.goto(`/notice/${unitId}?month=${mon.s}`);
    await pub.locator('#n-rank').waitFor();
    const ranks = await pub.locator('#n-rank tbody tr').allTextContents();
    assert.deepEqual(ranks.map((r) => r.replace(/\s+/g, ' ').trim()), ['1王*国4.040', '2刘*2.020']);
    assert.match(await text(pub.locator('.notice-chain')), /本月最后一条账目 #\d+，哈希 [0-9a-f]{64}/);
    assert.ok(!(await pub.content()).includes('王建国'), 'a full name on the public notice');
    const next = new Date(Date.UTC(mon.y, mon.m, 1)).toISOString().slice(0, 7);
    assert.match(await text(pub.locator('#n-period')),
      new RegExp(`本月结束后公示：${next}-01 至 ${next}-05（5 天）。 对公示内容有异议的，请在公示期内联系：东风社区居委会 周主任 028-8765 4321`));
    await shot(pub, 'phone-notice', { full: false });
    noProblems(pub);
    await pub.context().close();

    // Printed for the community's board: the notice without the page's
    // controls (language switch, month links, print button).
    const paper = await open(browser, pc);
    await paper.goto(`/notice/${unitId}?month=${mon.s}`);
    await paper.locator('#notice-print').waitFor();
    await paper.emulateMedia({ media: 'print' });
    for (const control of ['.langs', '.notice-nav', '#notice-print']) {
      assert.equal(await paper.locator(control).first().isVisible(), false, `${control} prints`);
    }
    await shot(paper, 'print-notice');
    const pdf = path.join(tmp, 'notice.pdf');
    await paper.pdf({ path: pdf, preferCSSPageSize: true, printBackground: true });
    assert.match(execFileSync('pdfinfo', [pdf], { encoding: 'utf8' }), /^Pages:\s+1$/m);
    const words = execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' });
    for (const want of ['积分公示', '王*国', '公示期', '周主任']) assert.ok(words.includes(want), `the printed notice lacks ${want}`);
    for (const never of ['English', '打印公示', '←']) assert.ok(!words.includes(never), `the printed notice shows ${never}`);
    execFileSync('pdftoppm', ['-r', '60', '-png', '-singlefile', pdf, path.join(screenshots, 'print-notice-pdf')]);
    noProblems(paper);
    await paper.context().close();
  });
});
