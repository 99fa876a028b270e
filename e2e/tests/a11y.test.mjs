// Every page of every role checked by a tool others wrote: axe-core (the npm
// package, MPL-2.0) is injected into each page by the test — aixin never
// serves it — and runs its WCAG 2.0 and 2.1 A and AA rules on what the page
// shows once its data has loaded, at normal text and at large text (the
// root font size at 150 % and 200 %, as an older volunteer sets it). Any
// violation fails the test and is printed with its rule, impact, element and
// summary. The pages show real data made through the API: an event running
// now and one finalised, a shop with a catalogue, an open voucher, a slip, a
// certificate and a published notice.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ADMIN, Client, fixture, launch, open, noProblems, pc, phone, shot } from '../lib.mjs';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// The rule sets of WCAG 2.0 and 2.1, levels A and AA.
const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

// Text sizes: the root font size as a share of the page's own.
const scales = [1, 1.5, 2];

const orgPassword = 'ankang-2026-organiser';
const clerkPassword = 'ankang-2026-counter';
const volPassword = 'ankang-volunteer-2026';

// watch counts the page's requests in flight, for settle. It also gives
// the page 30 s rather than 10 for each step: the checks load every page
// three times over, and this machine's two cores may be busy with more.
function watch(page) {
  page.setDefaultTimeout(30_000);
  page.inflight = 0;
  page.on('request', () => page.inflight++);
  for (const ev of ['requestfinished', 'requestfailed']) page.on(ev, () => page.inflight--);
  return page;
}

// settle waits until the page's data has loaded: no 正在加载 placeholder
// left and no request in flight for a tenth of a second (or, for a page
// that keeps asking, five seconds at most).
async function settle(page) {
  await page.waitForLoadState('load');
  await page.waitForFunction(() => !document.body.innerText.includes('正在加载'));
  for (let quiet = 0, i = 0; quiet < 2 && i < 100; i++) {
    quiet = page.inflight === 0 ? quiet + 1 : 0;
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

// scale sets the text size to share times the page's own. A page with the
// large-text switch (标准 / 大 / 特大: the phone pages and the kiosk) gets
// it the way a volunteer sets it, by the switch, which sets the root font
// size and remembers it in localStorage (aixin.text-size); any other page
// gets the same root font size as an inline style on <html>, which the
// page's CSP allows from script. Share 1 takes either off.
async function scale(page, share) {
  const button = page.locator(`button[data-text-size="${share * 100}"]`);
  if (await button.count()) {
    await button.first().click();
    const set = await page.evaluate(() => [document.documentElement.dataset.textSize, localStorage.getItem('aixin.text-size')]);
    assert.deepEqual(set, [String(share * 100), String(share * 100)], 'the large-text switch did not take');
    return;
  }
  await page.evaluate((share) => {
    const root = document.documentElement;
    root.style.fontSize = '';
    if (share !== 1) root.style.fontSize = parseFloat(getComputedStyle(root).fontSize) * share + 'px';
  }, share);
}

// audit runs axe-core on what the page shows at every text size and
// answers one line per violation and element: size, rule, impact, element
// and summary. Script errors and CSP refusals fail at once.
async function audit(page, name) {
  await settle(page);
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  const found = [];
  for (const share of scales) {
    await scale(page, share);
    const violations = await page.evaluate(async (tags) => {
      const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
      return r.violations.map((v) => ({
        rule: v.id, impact: v.impact,
        nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
      }));
    }, tags);
    for (const v of violations) {
      for (const n of v.nodes) found.push(`  ${name} [${share * 100} %] ${v.rule} (${v.impact}) ${n.target}: ${n.summary.replace(/\s+/g, ' ')}`);
    }
    if (share !== 1.5) await shot(page, `a11y-${name}-${share * 100}`, { full: false });
  }
  await scale(page, 1);
  noProblems(page);
  return found;
}

// none fails the test with every violation found, printed.
function none(found) {
  if (!found.length) return;
  const text = `${found.length} accessibility violations:\n${found.join('\n')}`;
  console.log(text);
  assert.fail(text);
}

describe('accessibility (axe-core, WCAG 2.1 A and AA) at normal and large text', () => {
  let browser, admin, org, clerk, vol, unit, member, event, past, shop, voucher, slipVoucher, serial, quarter, month, redeemed;

  before(async () => {
    admin = await Client.login(ADMIN.login, ADMIN.password);
    const street = await admin.ok('POST', '/units', { name: '安康街道', kind: 'street' });
    unit = await admin.ok('POST', '/units', { name: '安康社区', kind: 'community', parent_id: street.id });
    const grid = await admin.ok('POST', '/units', { name: '安康第一网格', kind: 'grid', parent_id: unit.id });
    await admin.ok('POST', '/units', { name: '安康5号楼', kind: 'building', parent_id: grid.id });
    await admin.ok('POST', '/users', { login: 'ankang', password: orgPassword, role: 'organizer', name: '郑书记', unit_id: unit.id });
    org = await Client.login('ankang', orgPassword);
    const team = await org.ok('POST', '/teams', { name: '安康社区党员志愿服务队', kind: 'party_volunteer_team', unit_id: unit.id });
    await org.ok('POST', '/teams', { name: '安康社区志愿服务队', kind: 'volunteer_team', unit_id: unit.id });
    member = await org.ok('POST', '/members', {
      name: '赵秀英', phone: '13500000031', unit_id: grid.id, password: volPassword, party_member: true, team_ids: [team.id],
      on_duty: { work_unit: '区图书馆', reported_at: '2026-03-01', annual_target_hours: 24 },
    });
    const other = await org.ok('POST', '/members', { name: '钱卫东', phone: '13500000032', unit_id: unit.id });
    const third = await org.ok('POST', '/members', { name: '周志明', phone: '13500000033', unit_id: unit.id });
    // Members in every status the lists colour.
    await org.ok('POST', '/members', { name: '孙建华', phone: '13500000034', unit_id: unit.id, status: 'suspended' });
    await org.ok('POST', '/members', { name: '李桂芝', phone: '13500000035', unit_id: unit.id, status: 'left' });

    // Yesterday's service from the paper sheet, finalised: points to spend.
    const day = new Date(Date.now() - 16 * 3600e3).toISOString().slice(0, 10);
    month = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 7); // this month in Beijing, when the points were posted
    quarter = `${day.slice(0, 4)}-Q${Math.floor((Number(day.slice(5, 7)) - 1) / 3) + 1}`;
    past = await org.ok('POST', '/events', {
      title: '社区助老服务', category: '助老助残', unit_id: unit.id, place: '安康社区日间照料中心',
      starts_at: `${day}T08:00:00+08:00`, ends_at: `${day}T16:00:00+08:00`,
    });
    for (const m of [member, other]) {
      await org.ok('POST', `/events/${past.id}/attendance`, {
        member_id: m.id, action: 'backfill', reason: '纸质签到表',
        checked_in_at: `${day}T08:00:00+08:00`, checked_out_at: `${day}T16:00:00+08:00`,
      });
    }
    await org.ok('POST', `/events/${past.id}/finalize`);
    // An event running now: one volunteer in, one in and out already.
    const hour = 3600e3;
    event = await org.ok('POST', '/events', {
      title: '楼道环境整治', category: '环境整治', unit_id: unit.id, place: '安康社区5号楼',
      starts_at: new Date(Date.now() - hour / 2).toISOString(), ends_at: new Date(Date.now() + 3 * hour).toISOString(),
      capacity: 20,
    });
    await org.ok('POST', `/events/${event.id}/attendance`, { member_id: other.id, action: 'in' });
    await org.ok('POST', `/events/${event.id}/attendance`, { member_id: third.id, action: 'in' });
    await org.ok('POST', `/events/${event.id}/attendance`, { member_id: third.id, action: 'out' });
    // A draft and a cancelled event, for the list's other colours.
    const later = (h) => new Date(Date.now() + h * hour).toISOString();
    await org.ok('POST', '/events', { title: '垃圾分类宣传', category: '政策宣讲', unit_id: unit.id, status: 'draft', starts_at: later(48), ends_at: later(50) });
    const off = await org.ok('POST', '/events', { title: '义诊活动', category: '助老助残', unit_id: unit.id, starts_at: later(72), ends_at: later(74) });
    await org.ok('POST', `/events/${off.id}/status`, { status: 'cancelled' });

    shop = await org.ok('POST', '/shops', { name: '安康爱心超市', kind: 'love_supermarket', unit_id: unit.id });
    await org.ok('POST', '/shops', { name: '安康文明银行', kind: 'civility_bank', unit_id: unit.id });
    const rice = await org.ok('POST', `/shops/${shop.id}/items`, { name: '东北大米 5kg', points: 30, stock: 10 });
    const towel = await org.ok('POST', `/shops/${shop.id}/items`, { name: '毛巾', points: 5, stock: 3, monthly_limit: 3 });
    await org.ok('POST', `/items/${towel.id}/stock`, { kind: 'intake', qty: 1, donor: '辖区共建单位', note: '慰问物资' });
    await admin.ok('POST', '/users', { login: 'ankang-counter', password: clerkPassword, role: 'clerk', name: '孙店员', shop_id: shop.id });
    clerk = await Client.login('ankang-counter', clerkPassword);
    // A staff account that has been disabled, for the staff list's grey badge.
    const gone = await admin.ok('POST', '/users', { login: 'ankang-old', password: orgPassword, role: 'organizer', name: '吴原书记', unit_id: unit.id });
    await admin.ok('PATCH', `/users/${gone.id}`, { disabled: true });
    vol = await Client.login('13500000031', volPassword);
    // Vouchers in every state: open (for the kiosk), cancelled, redeemed, and one the organiser prints.
    voucher = await vol.ok('POST', '/vouchers', { shop_id: shop.id, items: [{ item_id: rice.id, qty: 1 }] });
    const cancelled = await vol.ok('POST', '/vouchers', { shop_id: shop.id, items: [{ item_id: towel.id, qty: 1 }] });
    await vol.ok('POST', `/vouchers/${cancelled.id}/cancel`);
    redeemed = await vol.ok('POST', '/vouchers', { shop_id: shop.id, items: [{ item_id: towel.id, qty: 1 }] });
    await clerk.ok('POST', '/redemptions', { code: redeemed.code });
    slipVoucher = await org.ok('POST', '/vouchers', { member_id: member.id, shop_id: shop.id, items: [{ item_id: towel.id, qty: 1 }], presence: 'proxy' });

    const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10); // in Beijing
    serial = (await org.ok('POST', '/certificates', { member_id: member.id, from: day, to: today })).serial;
    await org.ok('PATCH', `/units/${unit.id}`, { public_notice: true });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  it('the login page, empty, refusing a wrong password, and in English', async () => {
    const page = watch(await open(browser, phone));
    await page.goto('/');
    await page.locator('#login-form').waitFor();
    const found = await audit(page, 'login');
    await page.fill('#login-name', 'ankang');
    await page.fill('#login-password', 'not the password');
    await page.click('#login-form button[type=submit]');
    await page.locator('#login-msg').filter({ hasText: /./ }).waitFor();
    found.push(...(await audit(page, 'login-refused')));
    await page.goto('/?lang=en');
    await page.locator('#login-form').waitFor();
    found.push(...(await audit(page, 'login-en')));
    await page.context().close();
    none(found);
  });

  it("the administrator's start page with the ledger tools", async () => {
    const page = watch(await open(browser, pc, admin));
    await page.goto('/');
    await page.locator('#admin:not([hidden])').waitFor();
    const found = await audit(page, 'start-admin');
    await page.context().close();
    none(found);
  });

  // The /admin/ pages, as an organiser and as the administrator: the page,
  // what it shows once loaded (a selector to wait for), and what to do
  // before checking it.
  const adminPages = [
    ['home', () => '/admin/', '#d-earned'],
    ['units', () => '/admin/units', () => `#tree li[data-unit-id="${unit.id}"]`],
    ['teams', () => '/admin/teams', '#teams table'],
    ['members', () => '/admin/members', '#members-table tbody tr'],
    ['member-new', () => '/admin/members#new', '#new'],
    ['member', () => `/admin/members/${member.id}`, '#cert-form'],
    ['member-cards', () => `/admin/members/cards?unit_id=${unit.id}`, 'body[data-ready]'],
    ['import', () => '/admin/import', '#import-form'],
    ['import-report', () => '/admin/import', '#report-table tbody tr', async (page) => {
      // A roster with a bad row: the report lists it, nothing is written.
      await page.setInputFiles('#file', fixture('roster-gbk.csv'));
      await page.click('#import-form button[type=submit]');
    }],
    ['events', () => '/admin/events', () => `a[href*="${event.id}"]`],
    ['event-copy', () => `/admin/events?copy=${event.id}`, '#new:not([hidden]) #copy-note:not([hidden])'],
    ['event', () => `/admin/events/${event.id}`, '#attendance-table tbody tr'],
    ['event-edit', () => `/admin/events/${event.id}`, '#edit-box:not([hidden])', async (page) => {
      await page.locator('#attendance-table tbody tr').first().waitFor();
      await page.click('#edit');
    }],
    ['event-finalised', () => `/admin/events/${past.id}`, '#attendance-table tbody tr'],
    ['display', () => `/admin/events/${event.id}/display`, '#countdown'],
    ['shops', () => '/admin/shops', '#shops-table tbody tr'],
    ['shop', () => `/admin/shops/${shop.id}`, '#items-table tr[data-item]'],
    ['slip', () => `/admin/vouchers/${slipVoucher.id}/slip`, '#s-member'],
    ['exports', () => '/admin/exports', '#preview-table tbody tr'],
    ['records', () => `/admin/records?quarter=${quarter}`, '.record-card'],
    ['certificate', () => `/admin/certificates/${serial}`, '#c-body'],
    ['staff', () => '/admin/staff', '#staff-table tbody tr .badge.off'],
    ['staff-manage', () => '/admin/staff', 'dialog[open] #e-name', async (page) => {
      // The dialog that resets, disables and renames an account: the disabled one's.
      await page.locator('#staff-table tbody tr', { hasText: 'ankang-old' }).getByRole('button').click();
    }],
  ];
  for (const role of ['organizer', 'admin']) {
    for (const [name, url, ready, act] of adminPages) {
      it(`${role === 'admin' ? "the administrator's" : "the organiser's"} ${name} page`, async () => {
        const page = watch(await open(browser, pc, role === 'admin' ? admin : org));
        await page.goto(url());
        if (act) await act(page);
        await page.locator(typeof ready === 'function' ? ready() : ready).first().waitFor();
        const found = await audit(page, `${role}-${name}`);
        await page.context().close();
        none(found);
      });
    }
  }

  // Points expiry (积分有效期): a street's form on the units page, open, with
  // what a policy of three years would take.
  it("the administrator's units page with a street's expiry form", async () => {
    const page = watch(await open(browser, pc, admin));
    await page.goto('/admin/units');
    const row = page.locator('li[data-unit-name="安康街道"]');
    await row.locator('.expiry-settings').first().click();
    await row.locator('form select').first().selectOption('3');
    await row.locator('form .expiry-preview p').first().waitFor();
    const found = await audit(page, 'admin-units-expiry');
    await page.context().close();
    none(found);
  });

  // The volunteer's phone pages.
  const volunteerPages = [
    ['m-home', () => '/m/', '#b-points:not(:text("–"))'],
    ['m-card', () => '/m/card', 'main img'],
    ['m-shop', () => '/m/shop', '#items li[data-item]'],
    ['m-vouchers', () => '/m/vouchers', () => `article[data-voucher="${voucher.id}"]`],
    ['m-voucher', () => `/m/vouchers/${voucher.id}`, '#v-code'],
    ['m-voucher-redeemed', () => `/m/vouchers/${redeemed.id}`, '#v-qr-off:not([hidden])'],
    ['checkin', async () => new URL((await org.ok('GET', `/events/${event.id}/code`)).url).pathname, '#checkin.ok, #checkin.again'],
    ['checkin-refused', () => '/c/0000000000000000000000', '#checkin.bad'],
    ['forbidden', () => '/admin/', 'main'],
  ];
  for (const [name, url, ready] of volunteerPages) {
    it(`the volunteer's ${name} page`, async () => {
      const page = watch(await open(browser, phone, vol));
      await page.goto(await url());
      await page.locator(typeof ready === 'function' ? ready() : ready).first().waitFor();
      const found = await audit(page, name);
      await page.context().close();
      none(found);
    });
  }

  it("the clerk's kiosk: idle, a preview, a redemption and a refusal", async () => {
    const page = watch(await open(browser, pc, clerk));
    await page.goto('/kiosk');
    await page.locator('#k-idle:not([hidden])').waitFor();
    const found = await audit(page, 'kiosk-idle');
    await page.fill('#code-input', voucher.code);
    await page.click('#code-form button[type=submit]');
    await page.locator('#k-preview:not([hidden]) #pv-who').filter({ hasText: /./ }).waitFor();
    found.push(...(await audit(page, 'kiosk-preview')));
    await page.click('#confirm');
    await page.locator('#k-result.good').waitFor();
    found.push(...(await audit(page, 'kiosk-redeemed')));
    await page.click('#r-next');
    await page.fill('#code-input', voucher.code);
    await page.click('#code-form button[type=submit]');
    await page.locator('#k-result.bad').waitFor();
    found.push(...(await audit(page, 'kiosk-refused')));
    await page.context().close();
    none(found);
  });

  // The behaviour bank (文明行为银行), as the organiser: the list, and the
  // awards page with an award waiting for a second organiser.
  const awardPages = [
    ['behaviours', '/admin/behaviours', '#behaviours table tbody tr'],
    ['awards', '/admin/awards', '#queue .award-item'],
  ];
  for (const [name, url, ready] of awardPages) {
    it(`the organiser's ${name} page`, async () => {
      const { behaviours } = await org.ok('GET', '/behaviours');
      let hero = behaviours.find((b) => b.name === '见义勇为');
      if (!hero) {
        hero = await org.ok('POST', '/behaviours', { unit_id: unit.id, name: '见义勇为', category: '社会公德', points: 50 });
        await org.ok('POST', '/awards', { behaviour_id: hero.id, member_id: member.id, note: '河边救起落水儿童' });
      }
      const page = watch(await open(browser, pc, org));
      await page.goto(url);
      await page.locator(ready).first().waitFor();
      const found = await audit(page, `organizer-${name}`);
      await page.context().close();
      none(found);
    });
  }

  // The public pages, for anyone with a phone.
  const publicPages = [
    ['verify', () => `/verify/${serial}`, '.verify-ok'],
    ['verify-unknown', () => '/verify/2026-00000000', '.verify-bad'],
    ['notice', () => `/notice/${unit.id}?month=${month}`, '#n-rank tbody tr'],
    ['notice-last-month', () => `/notice/${unit.id}`, 'main h1'],
  ];
  for (const [name, url, ready] of publicPages) {
    it(`the public ${name} page`, async () => {
      const page = watch(await open(browser, phone));
      await page.goto(url());
      await page.locator(ready).first().waitFor();
      const found = await audit(page, name);
      await page.context().close();
      none(found);
    });
  }
});

// Households (一家亲): the organiser's list of households and a household's
// page (members, minors, head, points apart, finding members to add), the
// member's page with 所在家庭, and on the phone the home with 我家积分 apart
// from 我的积分, the household's page for an adult and for a minor, and the
// shop with the choice of whose points pay.
describe('accessibility of the households pages (一家亲)', () => {
  let browser, org, adult, minor, home, dad, shop;
  const pw = { org: 'hemu-2026-organiser', dad: 'hemu-dad-2026', kid: 'hemu-kid-2026' };

  before(async () => {
    const admin = await Client.login(ADMIN.login, ADMIN.password);
    const street = await admin.ok('POST', '/units', { name: '和睦街道', kind: 'street' });
    const unit = await admin.ok('POST', '/units', { name: '和睦社区', kind: 'community', parent_id: street.id });
    const grid = await admin.ok('POST', '/units', { name: '和睦第一网格', kind: 'grid', parent_id: unit.id });
    const building = await admin.ok('POST', '/units', { name: '7号楼', kind: 'building', parent_id: grid.id });
    await admin.ok('POST', '/users', { login: 'hemu', password: pw.org, role: 'organizer', name: '何书记', unit_id: unit.id });
    org = await Client.login('hemu', pw.org);
    dad = await org.ok('POST', '/members', { name: '何建军', phone: '13400000041', unit_id: grid.id, password: pw.dad });
    const mum = await org.ok('POST', '/members', { name: '王丽萍', phone: '13400000042', unit_id: grid.id });
    const kid = await org.ok('POST', '/members', { name: '何小雨', phone: '13400000043', unit_id: grid.id, password: pw.kid });
    await org.ok('POST', '/members', { name: '何桂花', phone: '13400000044', unit_id: grid.id });
    home = await org.ok('POST', '/households', { address: '2单元301室', unit_id: building.id });
    await org.ok('PUT', `/households/${home.id}/members`, {
      members: [{ member_id: dad.id }, { member_id: mum.id }, { member_id: kid.id, minor: true }], head_id: dad.id,
    });
    await org.ok('POST', '/households', { address: '1单元101室', unit_id: grid.id });
    shop = await org.ok('POST', '/shops', { name: '和睦一家亲积分超市', kind: 'love_supermarket', unit_id: unit.id, households: true });
    await org.ok('POST', `/shops/${shop.id}/items`, { name: '洗衣液 2kg', points: 25, stock: 10 });
    adult = await Client.login('13400000041', pw.dad);
    minor = await Client.login('13400000043', pw.kid);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  const pages = [
    ['organiser', 'households', () => '/admin/households', '#hh-table tbody tr'],
    ['organiser', 'household', () => `/admin/households/${home.id}`, '#hh-member-table tbody tr'],
    ['organiser', 'household-find', () => `/admin/households/${home.id}`, '#hh-found li', async (page) => {
      await page.locator('#hh-member-table tbody tr').first().waitFor();
      await page.fill('#hh-find', '何');
    }],
    ['organiser', 'member-household', () => `/admin/members/${dad.id}`, '#mh-link'],
    ['organiser', 'shop-households', () => `/admin/shops/${shop.id}`, '#items-table tr[data-item]'],
    ['adult', 'm-home-household', () => '/m/', '#hh-home:not([hidden])'],
    ['adult', 'm-household', () => '/m/household', '#hh-entries-card:not([hidden]) #hh-entries .empty'],
    ['adult', 'm-shop-household', () => '/m/shop', '#pay-from:not([hidden])', async (page) => {
      await page.locator('#items li[data-item]').first().waitFor();
      await page.check('#pay-from input[value=household]');
    }],
    ['minor', 'm-household-minor', () => '/m/household', '#hh-spend:not(:empty)'],
  ];
  for (const [who, name, url, ready, act] of pages) {
    it(`the ${who}'s ${name} page`, async () => {
      const client = { organiser: org, adult, minor }[who];
      const page = watch(await open(browser, who === 'organiser' ? pc : phone, client));
      await page.goto(url());
      if (act) await act(page);
      await page.locator(ready).first().waitFor();
      const found = await audit(page, name);
      await page.context().close();
      none(found);
    });
  }
});

// The wish pages (微心愿), with wishes in every state: the organiser's
// queue (with the confirm form open), the grid worker's, the volunteer's
// wall and claims (with the report form and its team), and the public
// wish wall on a phone, on and off.
describe('accessibility of the wish pages (微心愿) at normal and large text', () => {
  let browser, admin, org, grid, vol, community, other, fulfilled;
  const password = 'anning-2026-organiser';
  const volPassword = 'anning-volunteer-2026';

  before(async () => {
    admin = await Client.login(ADMIN.login, ADMIN.password);
    const street = await admin.ok('POST', '/units', { name: '安宁街道', kind: 'street' });
    community = await admin.ok('POST', '/units', { name: '安宁社区', kind: 'community', parent_id: street.id });
    other = await admin.ok('POST', '/units', { name: '安乐社区', kind: 'community', parent_id: street.id });
    const g = await admin.ok('POST', '/units', { name: '第一网格', kind: 'grid', parent_id: community.id });
    const b = await admin.ok('POST', '/units', { name: '2号楼', kind: 'building', parent_id: g.id });
    await admin.ok('POST', '/users', { login: 'anning', password, role: 'organizer', name: '马书记', unit_id: community.id });
    await admin.ok('POST', '/users', { login: 'anning-grid', password, role: 'grid_worker', name: '冯网格员', unit_id: g.id });
    org = await Client.login('anning', password);
    grid = await Client.login('anning-grid', password);
    const team = await org.ok('POST', '/teams', { name: '安宁社区党员志愿服务队', kind: 'party_volunteer_team', unit_id: community.id });
    await org.ok('POST', '/members', { name: '彭丽华', phone: '13600000061', unit_id: g.id, password: volPassword, team_ids: [team.id] });
    await org.ok('POST', '/members', { name: '曾国华', phone: '13600000062', unit_id: g.id, password: volPassword, team_ids: [team.id] });
    vol = await Client.login('13600000061', volPassword);
    const vol2 = await Client.login('13600000062', volPassword);
    const enter = (c, title, points = 0, unit = b.id) => c.ok('POST', '/wishes', {
      title, need: `${title}：请志愿者帮忙。`, resident_name: '许桂香', resident_phone: '13700000061', unit_id: unit, points,
    });
    const step = (c, w, s, body = {}) => c.ok('POST', `/wishes/${w.id}/${s}`, body);
    // One of each: submitted, verified, published (two), claimed, fulfilled, confirmed, withdrawn, rejected.
    await enter(vol2, '想要一副老花镜');
    await enter(grid, '楼道换灯泡');
    for (const title of ['助听器换电池', '代缴水电费']) await step(org, await enter(org, title, 10), 'publish');
    const claimed = await enter(org, '陪同去医院复查', 15);
    await step(org, claimed, 'publish');
    await step(vol, claimed, 'claim', { team_id: team.id });
    fulfilled = await enter(org, '修理厨房水龙头', 10);
    await step(org, fulfilled, 'publish');
    await step(vol2, fulfilled, 'claim');
    await step(vol2, fulfilled, 'fulfil', { note: '换了阀芯，不滴水了' });
    const done = await enter(org, '给孙子买书包', 20);
    await step(org, done, 'publish');
    await step(vol, done, 'claim');
    await step(vol, done, 'fulfil', { note: '书包已送到' });
    await step(admin, done, 'confirm', { how: 'in_person' }); // 20 points: a second pair of eyes
    await step(org, await enter(org, '修自行车', 5), 'withdraw', { reason: '家人已修好' });
    await step(org, await enter(org, '每天送餐', 0), 'reject', { reason: '转给社区助餐点' });
    await org.ok('PUT', `/wish-walls/${community.id}`, { on: true });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  const pages = [
    ['organizer-wishes', () => org, pc, '/admin/wishes', 'article.wish'],
    ['organizer-wishes-all', () => org, pc, '/admin/wishes', 'article.wish[data-status=rejected]', async (page) => {
      await page.locator('article.wish').first().waitFor();
      await page.click('#wish-filter button[data-filter=all]');
    }],
    ['organizer-wishes-confirm', () => org, pc, '/admin/wishes', 'article.wish form select[name=how]', async (page) => {
      await page.locator(`article[data-wish="${fulfilled.id}"] button[data-action=confirm]`).click();
    }],
    ['organizer-wishes-new', () => org, pc, '/admin/wishes', '#wish-form-card:not([hidden])', async (page) => {
      await page.locator('article.wish').first().waitFor();
      await page.click('#new-wish');
    }],
    ['grid-wishes', () => grid, pc, '/admin/wishes', 'article.wish'],
    ['m-wishes', () => vol, phone, '/m/wishes', '#wall article[data-status=published]'],
    ['m-wishes-mine', () => vol, phone, '/m/wishes#mine', '#mine article form.fulfil fieldset:not([hidden])'],
    ['m-wishes-enter', () => vol, phone, '/m/wishes', '#enter[open]', async (page) => {
      await page.locator('#wall article').first().waitFor();
      await page.click('#enter summary');
    }],
    ['wish-wall', () => null, phone, () => `/wishes/${community.id}`, '#wall-open-list li'],
    ['wish-wall-off', () => null, phone, () => `/wishes/${other.id}`, 'main h1'],
  ];
  for (const [name, who, device, url, ready, act] of pages) {
    it(`the ${name} page`, async () => {
      const page = watch(await open(browser, device, who() ?? undefined));
      await page.goto(typeof url === 'function' ? url() : url);
      if (act) await act(page);
      await page.locator(ready).first().waitFor();
      const found = await audit(page, name);
      await page.context().close();
      none(found);
    });
  }
});
