// /admin/exports: the monthly totals. The organiser picks a month and a
// view, sees the totals, the reconciliation and the first rows, and
// downloads the workbook (.xlsx, every view) or the view as CSV.

import { t, $, api, el, failed, bindLogout, href, fmtNumber, emptyState } from './common.js';

bindLogout();

const form = $('export-form');
const isAdmin = $('export-page').dataset.role === 'admin';

// The previous month: the one organisers hand in at the start of a month.
function lastMonth() {
  const d = new Date();
  d.setDate(1);
  d.setMonth(d.getMonth() - 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`;
}

const params = new URLSearchParams(location.search);
$('ex-month').value = /^\d{4}-\d{2}$/.test(params.get('month') ?? '') ? params.get('month') : lastMonth();
if (['member', 'team', 'unit', 'shop', 'late', 'household'].includes(params.get('by'))) $('ex-by').value = params.get('by');

function query(format) {
  const q = { month: $('ex-month').value, by: $('ex-by').value, format };
  if (isAdmin && $('ex-full')?.checked) q.full_phone = '1';
  return q;
}

function links() {
  $('dl-xlsx').href = href('/api/v1/exports/monthly', query('xlsx'));
  $('dl-csv').href = href('/api/v1/exports/monthly', query('csv'));
  history.replaceState(null, '', href(location.pathname, { month: $('ex-month').value, by: $('ex-by').value }));
}

const hoursOf = (minutes) => (Math.round(minutes / 6) / 10).toFixed(1);

// cellText shows a cell as the spreadsheet would: numbers with their decimals.
function cellText(c) {
  if (!c) return '';
  if (c.is_num) return c.decimals ? (c.num ?? 0).toFixed(c.decimals) : fmtNumber(c.num ?? 0);
  return c.text ?? '';
}

let seq = 0;
async function load() {
  links();
  if (!/^\d{4}-\d{2}$/.test($('ex-month').value)) {
    $('ex-msg').textContent = t('js.export.month_required');
    return;
  }
  const mine = ++seq;
  $('ex-msg').textContent = '';
  try {
    const r = await api('GET', '/api/v1/exports/monthly?' + new URLSearchParams(query('json')));
    if (mine !== seq) return;
    $('st-people').textContent = fmtNumber(r.people);
    $('st-active').textContent = t('js.export.active', fmtNumber(r.active));
    $('st-hours').textContent = hoursOf(r.totals.minutes);
    $('st-earned').textContent = fmtNumber(r.totals.earned);
    $('st-redeemed').textContent = fmtNumber(r.totals.redeemed);
    $('st-closing').textContent = fmtNumber(r.totals.closing);
    $('st-held').textContent = t('js.export.held', fmtNumber(r.totals.held_closing));
    $('checks').replaceChildren(...r.notes.map((n) => el('li', { class: n.endsWith('✗') ? 'bad' : n.endsWith('✓') ? 'good' : '' }, n)));
    const v = r.view;
    $('preview-count').textContent = r.rows_total > v.rows.length ? t('js.export.first_rows', fmtNumber(r.rows_total), v.rows.length) : t('js.export.rows', fmtNumber(r.rows_total));
    if (!v.rows.length) {
      $('preview').replaceChildren(emptyState(t('js.export.empty_next'),
        el('a', { class: 'button primary', href: href('/admin/events') }, t('js.export.to_events'))));
      return;
    }
    const numeric = v.header.map((_, i) => v.rows.some((row) => row[i]?.is_num));
    const row = (cells, cls) => el('tr', { class: cls ?? '' }, cells.map((c, i) => el('td', { class: numeric[i] ? 'num' : '' }, cellText(c))));
    $('preview').replaceChildren(el('div', { class: 'table-wrap', tabindex: '0' }, el('table', { id: 'preview-table' },
      el('thead', {}, el('tr', {}, v.header.map((h, i) => el('th', { scope: 'col', class: numeric[i] ? 'num' : '' }, h)))),
      el('tbody', {}, v.rows.map((r2) => row(r2)), r.rows_total === v.rows.length && v.total ? row(v.total, 'total') : null))));
  } catch (err) {
    if (mine === seq) failed($('ex-msg'), err);
  }
}

form.addEventListener('submit', (ev) => ev.preventDefault());
form.addEventListener('change', load);
load();
