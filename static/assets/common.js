// What every page script shares: the catalogue messages the server rendered
// into #messages, the JSON API client, a small DOM builder and formatting in
// the page's language. No innerHTML anywhere: text goes in as text.

export const messages = JSON.parse(document.getElementById('messages')?.textContent || '{}');
export const lang = document.documentElement.lang || 'zh-CN';

// t returns the message for key with each %v replaced by the next argument.
// A plural group {one|other} after a %v takes that argument: one for
// exactly 1, other for any other count ("%v {volunteer|volunteers}"), as
// the server's catalogue does.
export function t(key, ...args) {
  let i = 0;
  return (messages[key] ?? key).replace(/%v|\{([^{}|]*)\|([^{}|]*)\}/g, (verb, one, other) => {
    if (verb === '%v') return String(args[i++]);
    return i > 0 && String(args[i - 1]).trim() === '1' ? one : other;
  });
}

export const $ = (id) => document.getElementById(id);

// ApiError is a failed API call; message is fit to show, status is the
// HTTP status (0 when the server could not be reached), error the
// answer's error object.
export class ApiError extends Error {
  constructor(message, status, error) {
    super(message);
    this.status = status;
    this.error = error ?? {};
  }
}

// api calls the JSON API in the page's language and returns the decoded
// answer (null for 204). body is sent as JSON, or as it is when it is a
// FormData. It throws an ApiError when the call fails.
export async function api(method, path, body) {
  const url = new URL(path, location.origin);
  url.searchParams.set('lang', lang);
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch {
    throw new ApiError(t('js.network_error'), 0);
  }
  const type = res.headers.get('Content-Type') ?? '';
  let data = null;
  if (type.includes('application/json')) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    throw new ApiError(data?.error?.message ?? t('js.http_error', res.status), res.status, data?.error);
  }
  return data;
}

// loginAgain sends the browser to the start page when the session ended,
// to come back here after logging in.
export function loginAgain() {
  const q = new URLSearchParams({ next: location.pathname + location.search, lang });
  location.assign('/?' + q);
}

// failed shows err in the element out, or goes to the login page if the
// session has ended.
export function failed(out, err) {
  if (err?.status === 401) {
    loginAgain();
    return;
  }
  if (out) out.textContent = err?.message ?? String(err);
}

// el builds an element: attrs sets properties (class, dataset, on* handlers
// and anything else as an attribute); children are nodes or strings.
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = v;
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

// href returns a page address that keeps the page's language.
export function href(path, params = {}) {
  const u = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') u.searchParams.set(k, v);
  u.searchParams.set('lang', lang);
  return u.pathname + u.search + u.hash;
}

// busy disables a form's buttons while work runs, and enables them after.
export async function busy(form, work) {
  const buttons = [...form.querySelectorAll('button')];
  buttons.forEach((b) => (b.disabled = true));
  try {
    return await work();
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

const timeFormat = new Intl.DateTimeFormat(lang, {
  year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  hour12: false, timeZone: 'Asia/Shanghai',
});
const dateFormat = new Intl.DateTimeFormat(lang, {
  year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'Asia/Shanghai',
});
const numberFormat = new Intl.NumberFormat(lang);
const hoursFormat = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });

// fmtTime shows an RFC 3339 time in the deployment's zone; fmtDate only its day.
export const fmtTime = (s) => (s ? timeFormat.format(new Date(s)) : '');
export const fmtDate = (s) => (s ? dateFormat.format(new Date(s)) : '');
// fmtNumber groups digits as the language does.
export const fmtNumber = (n) => numberFormat.format(n ?? 0);
// fmtHours shows whole minutes as hours with at most one decimal.
export const fmtHours = (minutes) => t('js.hours', hoursFormat.format((minutes ?? 0) / 60));

// categoryName is a service category (stored in Chinese: 环境整治) in the
// page's language (Environment clean-up).
export const categoryName = (c) => messages['js.category.' + c] ?? c ?? '';

// maskPhone shows a mobile number as lists do: 138****5678.
export const maskPhone = (p) => (/^\d{11}$/.test(p ?? '') ? p.slice(0, 3) + '****' + p.slice(7) : p ?? '');

// Names of the kinds and statuses the API speaks in.
export const unitKinds = {
  street: t('js.kind.street'),
  community: t('js.kind.community'),
  grid: t('js.kind.grid'),
  building: t('js.kind.building'),
};
// childKind is the kind of unit that sits under each kind.
export const childKind = { street: 'community', community: 'grid', grid: 'building' };
export const teamKinds = {
  party_volunteer_team: t('js.team.party_volunteer_team'),
  on_duty_members: t('js.team.on_duty_members'),
  volunteer_team: t('js.team.volunteer_team'),
};
export const statuses = {
  active: t('js.status.active'),
  suspended: t('js.status.suspended'),
  left: t('js.status.left'),
};
export const entryKinds = {
  earn: t('js.entry.earn'),
  hold: t('js.entry.hold'),
  redeem: t('js.entry.redeem'),
  release: t('js.entry.release'),
  reverse: t('js.entry.reverse'),
  expire: t('js.entry.expire'),
  award: t('js.entry.award'),
  deduct: t('js.entry.deduct'),
};

// loadUnits returns the caller's units (parents before children) with a
// map by id and each unit's depth below the caller's top units.
export async function loadUnits() {
  const { units } = await api('GET', '/api/v1/units');
  const byId = new Map(units.map((u) => [u.id, u]));
  const top = Math.min(...units.map((u) => u.path.length));
  for (const u of units) u.depth = u.path.length - top;
  return { units, byId };
}

// unitLabel is a unit's name with the names of its ancestors the caller
// may see: 和平社区 / 第一网格.
export function unitLabel(u, byId) {
  return u.path.map((id) => byId.get(id)?.name).filter(Boolean).join(' / ');
}

// fillUnitSelect puts the units into a <select> as an indented tree,
// keeping its first option (e.g. "all units") if keepFirst.
export function fillUnitSelect(select, units, { keepFirst = false, kinds } = {}) {
  const first = keepFirst ? select.options[0] : null;
  select.replaceChildren(...(first ? [first] : []));
  for (const u of units) {
    if (kinds && !kinds.includes(u.kind)) continue;
    select.append(el('option', { value: u.id }, '\u00a0\u00a0'.repeat(u.depth) + u.name + '（' + unitKinds[u.kind] + '）'));
  }
}

// communityOf returns the community a unit lies in (itself if it is one).
export function communityOf(u, byId) {
  for (const id of [...u.path].reverse()) {
    const a = byId.get(id);
    if (a?.kind === 'community') return a;
  }
  return null;
}

// bindLogout makes the #logout button end the session and go to the start page.
export function bindLogout() {
  $('logout')?.addEventListener('click', async () => {
    try {
      await api('POST', '/api/v1/logout');
    } catch {
      // Logged out already, or the server is away: go to the start page anyway.
    }
    location.assign(href('/'));
  });
}

// emptyState is the box shown where a list has nothing yet.
export function emptyState(text, ...actions) {
  return el('div', { class: 'empty' }, el('p', {}, text), actions.length ? el('div', { class: 'actions' }, ...actions) : null);
}

// entryTable renders a member's journal entries as a table: when, what,
// points in (+) or out (−), service time and note.
export function entryTable(entries, memberId) {
  const account = 'member:' + memberId;
  const rows = entries.map((e) => {
    const incoming = e.credit === account;
    const sign = incoming ? '+' : '−';
    return el('tr', {},
      el('td', { class: 'nowrap' }, fmtTime(e.time)),
      el('td', {}, e.reference?.startsWith('wish:') ? t('js.wishes.entry_kind') : entryKinds[e.kind] ?? e.kind),
      el('td', { class: 'num ' + (incoming ? 'plus' : 'minus') }, sign + fmtNumber(e.amount)),
      el('td', { class: 'num' }, e.minutes ? fmtHours(e.minutes) : ''),
      el('td', {}, e.memo || e.reference || ''),
    );
  });
  return el('div', { class: 'table-wrap', tabindex: '0' }, el('table', { class: 'entries' },
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, t('js.entries.time')),
      el('th', { scope: 'col' }, t('js.entries.kind')),
      el('th', { scope: 'col', class: 'num' }, t('js.entries.points')),
      el('th', { scope: 'col', class: 'num' }, t('js.entries.minutes')),
      el('th', { scope: 'col' }, t('js.entries.memo')),
    )),
    el('tbody', {}, rows),
  ));
}
