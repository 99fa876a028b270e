// /admin/certificates/{serial}: a volunteer-service certificate (志愿服务证明)
// to print on A4: the member, the period, the hours, the services, the
// issuing unit, and a QR to the public page that confirms it is genuine.

import { t, $, api, failed, href, el, categoryName } from './common.js';

const serial = $('cert').dataset.serial;
$('print').addEventListener('click', () => window.print());

const hours = (minutes) => (Math.round(minutes / 6) / 10).toFixed(1);

try {
  const c = await api('GET', '/api/v1/certificates/' + encodeURIComponent(serial));
  $('c-body').textContent = t('js.cert.body', c.name, c.from, c.to, c.services, hours(c.minutes));
  $('c-lines').replaceChildren(...c.lines.map((l) => el('tr', {},
    el('td', { class: 'nowrap' }, l.date, l.late ? el('div', { class: 'small' }, t('js.records.late', l.posted)) : null),
    el('td', {}, l.event), el('td', {}, categoryName(l.category)), el('td', { class: 'num' }, l.hours.toFixed(1)))));
  $('c-total').textContent = hours(c.minutes);
  $('c-unit').textContent = c.unit_name;
  $('c-date').textContent = c.issued_at.slice(0, 10);
  $('c-qr').src = c.qr_url;
  $('c-back').href = href('/admin/members/' + c.member_id);
} catch (err) {
  failed($('c-msg'), err);
}
