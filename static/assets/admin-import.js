// /admin/import: upload a roster (.csv in UTF-8 or GBK, or .xlsx) and show
// the server's report row by row. By default one bad row means nothing is
// written; "skip bad rows" imports the good ones and reports the rest.

import { t, $, api, el, failed, busy, bindLogout, fmtNumber } from './common.js';

bindLogout();

// fieldNames names the roster's columns as the template heads them.
const fieldNames = {
  name: t('js.field.name'),
  phone: t('js.field.phone'),
  unit: t('js.field.unit'),
  teams: t('js.field.teams'),
  party_member: t('js.field.party_member'),
  work_unit: t('js.field.work_unit'),
  reported_at: t('js.field.reported_at'),
  annual_target_hours: t('js.field.annual_target_hours'),
  skills: t('js.field.skills'),
  posts: t('js.field.posts'),
  status: t('js.field.status'),
};

const rowStatus = {
  created: t('js.import.created'),
  updated: t('js.import.updated'),
  unchanged: t('js.import.unchanged'),
  invalid: t('js.import.invalid'),
};

// showReport fills the report: the summary line and one table row per
// spreadsheet row. error is the API's message when nothing was written.
function showReport(r, error) {
  const summary = $('report-summary');
  const counts = t('js.import.counts', fmtNumber(r.created), fmtNumber(r.updated), fmtNumber(r.unchanged), fmtNumber(r.invalid));
  let verdict;
  if (r.written) {
    verdict = el('strong', { class: 'ok' }, r.invalid ? t('js.import.written_skipped', fmtNumber(r.invalid)) : t('js.import.written'));
  } else {
    verdict = el('strong', { class: 'bad' }, error || t('js.import.not_written'));
  }
  const parts = [verdict, el('br'), counts];
  // The API's refusal already says what to do; the page's own hint is for
  // a report that came without one.
  if (!r.written && r.invalid && !error) parts.push(el('span', { class: 'hint block' }, t('js.import.fix_or_skip')));
  summary.replaceChildren(...parts);

  const body = $('report-table').querySelector('tbody');
  body.replaceChildren(...(r.rows ?? []).map((row) => el('tr', { class: 'row-' + row.status, dataset: { status: row.status } },
    el('td', { class: 'num' }, row.row),
    el('td', {}, el('span', { class: 'status status-' + row.status }, rowStatus[row.status] ?? row.status)),
    el('td', {}, row.name ?? ''),
    el('td', { class: 'mono nowrap' }, row.phone ?? ''),
    el('td', { class: 'nowrap' }, fieldNames[row.field] ?? row.field ?? ''),
    el('td', {}, row.problem ?? ''),
  )));
  $('only-problems').checked = !r.written || r.invalid > 0;
  filterRows();
  $('report').hidden = false;
  $('report').scrollIntoView({ block: 'start' });
}

function filterRows() {
  const only = $('only-problems').checked;
  for (const tr of $('report-table').querySelectorAll('tbody tr')) {
    tr.hidden = only && tr.dataset.status !== 'invalid';
  }
}
$('only-problems').addEventListener('change', filterRows);

const form = $('import-form');
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const msg = $('import-msg');
  msg.className = 'msg';
  const file = form.file.files[0];
  if (!file) {
    msg.textContent = t('js.import.choose_file');
    return;
  }
  if (!/\.(csv|xlsx)$/i.test(file.name)) {
    msg.textContent = t('js.import.wrong_type');
    return;
  }
  const data = new FormData();
  data.append('file', file, file.name);
  const skip = form.skip_invalid.checked;
  msg.textContent = t('js.import.uploading', file.name);
  await busy(form, async () => {
    try {
      const r = await api('POST', `/api/v1/members/import?skip_invalid=${skip}`, data);
      msg.textContent = '';
      showReport(r);
    } catch (err) {
      const report = err.error?.report;
      if (report) {
        msg.textContent = '';
        showReport(report, err.message);
      } else {
        failed(msg, err);
      }
    }
  });
});
