// Helpers of the browser tests: a JSON API client that keeps a session
// cookie, Chromium with the flags that work in this closed network, phone
// and PC pages that fail the test on script errors and CSP refusals, and
// screenshots.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BASE = process.env.AIXIN_URL;
if (!BASE) throw new Error('AIXIN_URL is not set: run the tests with e2e/run.sh');
export const ADMIN = {
  login: process.env.AIXIN_ADMIN_LOGIN || 'admin',
  password: process.env.AIXIN_ADMIN_PASSWORD,
};

const here = path.dirname(fileURLToPath(import.meta.url));
export const fixture = (name) => path.join(here, 'fixtures', name);
export const screenshots = path.join(here, 'screenshots');
mkdirSync(screenshots, { recursive: true });

// Client calls the JSON API as one user.
export class Client {
  constructor(cookie = '', base = BASE) {
    this.cookie = cookie;
    this.base = base;
  }

  // login returns a client with a new session of login (at base, the test
  // server unless told).
  static async login(login, password, base = BASE) {
    const res = await fetch(base + '/api/v1/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ login, password }),
    });
    if (res.status !== 200) throw new Error(`login ${login}: ${res.status} ${await res.text()}`);
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('aixin_session='));
    const client = new Client(cookie, base);
    client.user = await res.json();
    return client;
  }

  // session is the session cookie's value, for a browser context.
  get session() {
    return this.cookie.slice('aixin_session='.length);
  }

  // call answers {status, data} whatever the status.
  async call(method, p, body) {
    const headers = { Accept: 'application/json', Cookie: this.cookie };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(this.base + '/api/v1' + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = text;
    }
    return { status: res.status, data };
  }

  // ok calls the API and returns the answer, or throws if it is not 2xx.
  async ok(method, p, body) {
    const { status, data } = await this.call(method, p, body);
    if (status < 200 || status > 299) throw new Error(`${method} ${p}: ${status} ${JSON.stringify(data)}`);
    return data;
  }
}

// Flags that work as root in this closed network (see TESTING-NOTES.md);
// Playwright adds a fresh --user-data-dir of its own.
const flags = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--lang=zh-CN',
];

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: flags,
    // Chromium on Linux takes its own language (the file picker's button,
    // the date field's order) from LANGUAGE, not from --lang, and only
    // when LANG names a locale the machine has (run.sh makes zh_CN.UTF-8);
    // in the plain C locale it also cannot name a download
    // 2026年11月积分汇总.xlsx and calls it "download".
    env: { ...process.env, LANGUAGE: 'zh_CN', LANG: 'zh_CN.UTF-8' },
  });
}

export const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
export const pc = { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 };

// open returns a new page in a new context of the browser, logged in as
// client if given. Script errors and CSP refusals are collected in
// page.problems; check them with noProblems(page).
export async function open(browser, device, client, { locale = 'zh-CN', base = client?.base ?? BASE } = {}) {
  const context = await browser.newContext({ ...device, locale, baseURL: base });
  if (client) {
    await context.addCookies([{ name: 'aixin_session', value: client.session, url: base, httpOnly: true, sameSite: 'Lax' }]);
  }
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (err) => page.problems.push('script error: ' + err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content.Security.Policy|Refused to/i.test(msg.text())) {
      page.problems.push('CSP: ' + msg.text());
    }
  });
  page.setDefaultTimeout(10_000);
  return page;
}

// noProblems throws if the page had script errors or CSP refusals.
export function noProblems(page) {
  if (page.problems.length) throw new Error('page problems:\n' + page.problems.join('\n'));
}

// shot saves a screenshot as screenshots/<name>.png: the whole page, or
// with full false only what the screen shows (for phone pages with a fixed
// tab bar, which a whole-page picture draws in the middle).
export async function shot(page, name, { full = true } = {}) {
  const file = path.join(screenshots, name + '.png');
  await page.screenshot({ path: file, fullPage: full });
  return file;
}

// loginUI signs in on the start page (already open) with the form.
export async function loginUI(page, login, password) {
  await page.locator('#login-form').waitFor();
  await page.fill('#login-name', login);
  await page.fill('#login-password', password);
  await page.click('#login-form button[type=submit]');
}

// text returns an element's text with its spaces squeezed.
export async function text(locator) {
  return ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

// freshServer starts aixin of its own (the binary run.sh built) on a new
// data folder and a free loopback port, for a test that needs a brand-new
// installation; it answers {url, stop}. The administrator is ADMIN. env
// adds to the server's environment (AIXIN_TEST_CLOCK, say).
export async function freshServer(dir, env = {}) {
  const { spawn, execFileSync } = await import('node:child_process');
  const bin = process.env.AIXIN_BIN;
  if (!bin) throw new Error('AIXIN_BIN is not set: run the tests with e2e/run.sh');
  const args = ['serve', '--addr', '127.0.0.1:0', '--data', dir];
  const pg = process.env.AIXIN_TEST_PG;
  if (pg) {
    // On PostgreSQL a folder's installation is a database named for it: a
    // server started again on the folder finds its data.
    const { createHash } = await import('node:crypto');
    const name = 'f_' + createHash('sha256').update(dir).digest('hex').slice(0, 16);
    const exists = execFileSync('psql', ['-tA', pg, '-c', `SELECT 1 FROM pg_database WHERE datname = '${name}'`]).toString().trim();
    if (!exists) execFileSync('psql', ['-q', pg, '-c', `CREATE DATABASE ${name}`]);
    args.push('--db', pg.replace('/postgres?', `/${name}?`));
  }
  const proc = spawn(bin, args, {
    env: { ...process.env, AIXIN_ADMIN_PASSWORD: ADMIN.password, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // The server logs a line a request to stderr: read it, or once the pipe
  // is full (64 KiB) the server blocks on its next log line.
  proc.stderr.resume();
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('aixin printed no address in 10 s: ' + out)), 10_000);
    proc.stdout.on('data', (b) => {
      out += b;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on('exit', (code) => reject(new Error(`aixin exited ${code}: ${out}`)));
  });
  const stop = () => new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.on('exit', resolve);
    proc.kill('SIGTERM');
  });
  return { url, stop };
}
