// /admin/records: service record cards (服务记录卡) of on-duty party members
// (在职党员) for a quarter, one page per employer (报到单位) to print and
// send to its party branch, or the same as a workbook.

import { t, $, api, el, failed, bindLogout, href, emptyState, categoryName } from './common.js';

bindLogout();

const hours = (minutes) => (Math.round(minutes / 6) / 10).toFixed(1);

// The last eight quarters, the newest first.
function quarters() {
  const d = new Date();
  let y = d.getFullYear();
  let q = Math.floor(d.getMonth() / 3) + 1;
  const out = [];
  for (let i = 0; i < 8; i++) {
    out.push(`${y}-Q${q}`);
    if (--q === 0) {
      q = 4;
      y--;
    }
  }
  return out;
}

const params = new URLSearchParams(location.search);
$('r-quarter').replaceChildren(...quarters().map((q) => el('option', { value: q }, t('js.records.quarter', q.slice(0, 4), q.slice(6)))));
if (/^\d{4}-Q[1-4]$/.test(params.get('quarter') ?? '')) {
  if (![...$('r-quarter').options].some((o) => o.value === params.get('quarter'))) {
    $('r-quarter').append(el('option', { value: params.get('quarter') }, params.get('quarter')));
  }
  $('r-quarter').value = params.get('quarter');
}
let wanted = params.get('work_unit') ?? '';

function card(c, quarter) {
  return el('article', { class: 'record-card', dataset: { member: c.member_id } },
    el('h3', {}, c.name, ' ', el('span', { class: 'hint' }, c.unit)),
    el('p', { class: 'record-facts' },
      c.reported_at ? t('js.records.reported', c.reported_at) + ' · ' : '',
      t('js.records.quarter_total', quarter, hours(c.minutes)), ' · ',
      c.target_hours ? t('js.records.progress', hours(c.year_minutes), c.target_hours, c.progress) : t('js.records.year_total', hours(c.year_minutes))),
    c.target_hours ? el('div', { class: 'progress', role: 'img', 'aria-label': t('js.records.progress_label', c.progress) },
      el('span', { class: 'bar-fill' + (c.progress >= 100 ? ' done' : ''), style: null, dataset: { progress: String(Math.min(100, c.progress)) } })) : null,
    c.lines.length
      ? el('table', { class: 'record-lines' },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t('js.records.date')), el('th', { scope: 'col' }, t('js.records.event')),
          el('th', { scope: 'col' }, t('js.records.category')), el('th', { scope: 'col', class: 'num' }, t('js.records.hours')))),
        el('tbody', {}, c.lines.map((l) => el('tr', {}, el('td', { class: 'nowrap' }, l.date,
          l.late ? el('div', { class: 'hint small' }, t('js.records.late', l.posted)) : null), el('td', {}, l.event), el('td', {}, categoryName(l.category)),
          el('td', { class: 'num' }, l.hours.toFixed(1))))))
      : el('p', { class: 'hint' }, t('js.records.none')));
}

// signature is the foot of a community's cards: who sends them and when,
// the place for its seal and the line for its head's signature.
function signature(issuer, issued) {
  return el('footer', { class: 'record-sign' },
    el('dl', {},
      el('div', {}, el('dt', {}, t('js.records.seal_label')), el('dd', { class: 'record-issuer' }, issuer)),
      el('div', {}, el('dt', {}, t('js.records.head')), el('dd', { class: 'sign-line' })),
      el('div', {}, el('dt', {}, t('js.records.issued')), el('dd', { class: 'record-issued' }, issued))),
    el('div', { class: 'seal' }, el('span', {}, t('js.records.seal'))));
}

async function load() {
  const quarter = $('r-quarter').value;
  const work = $('r-work').value || wanted;
  const q = { quarter, work_unit: work || undefined };
  $('r-xlsx').href = href('/api/v1/exports/service-records', { ...q, format: 'xlsx' });
  history.replaceState(null, '', href(location.pathname, q));
  try {
    const all = await api('GET', '/api/v1/exports/service-records?' + new URLSearchParams({ quarter }));
    // The employers to choose from: every one with on-duty members.
    const names = all.groups.map((g) => g.work_unit);
    $('r-work').replaceChildren($('r-work').options[0], ...names.map((n) => el('option', { value: n }, n)));
    $('r-work').value = names.includes(work) ? work : '';
    wanted = '';
    const groups = all.groups.filter((g) => !$('r-work').value || g.work_unit === $('r-work').value);
    if (!groups.length) {
      $('records').replaceChildren(el('section', { class: 'card' }, emptyState(t('js.records.empty'))));
      return;
    }
    const label = t('js.records.quarter', quarter.slice(0, 4), quarter.slice(6));
    $('records').replaceChildren(...groups.map((g) => el('section', { class: 'card record-group', dataset: { workUnit: g.work_unit, issuer: g.issuer } },
      el('p', { class: 'record-to' }, t('js.records.to', g.work_unit)),
      el('h2', {}, t('js.records.heading', g.work_unit, label)),
      el('p', { class: 'hint' }, t('js.records.issuer', g.issuer), ' · ',
        t('js.records.group_total', g.cards.length, hours(g.minutes), all.from, all.to)),
      g.cards.map((c) => card(c, label)),
      signature(g.issuer, all.issued))));
    // Progress bars take their width from data-progress (no inline styles under the CSP).
    for (const bar of document.querySelectorAll('.bar-fill')) bar.style.width = bar.dataset.progress + '%';
  } catch (err) {
    failed($('r-msg'), err);
  }
}

$('records-form').addEventListener('change', load);
$('r-print').addEventListener('click', () => window.print());
load();
