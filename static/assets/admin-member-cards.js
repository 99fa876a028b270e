// /admin/members/cards: the member cards (志愿者卡) of many volunteers on A4,
// eight to a page with lines to cut along, for people without a smartphone.
// Which volunteers: the ids in the address (a selection on the members
// list), or else the list's filters. Each card has the name, the phone
// masked, the community and the member-card QR (the signed card code, as
// the volunteer's own phone shows it).

import { t, $, api, el, failed, bindLogout, href } from './common.js';

bindLogout();

const perPage = 8;
const params = new URLSearchParams(location.search);
params.delete('lang');
$('cards-back').href = href('/admin/members', Object.fromEntries([...params].filter(([k]) => k !== 'ids')));

function card(c) {
  return el('article', { class: 'm-card', dataset: { memberId: c.id } },
    el('div', { class: 'm-card-text' },
      el('p', { class: 'm-card-title' }, el('span', { 'aria-hidden': 'true' }, '❤ '), t('js.cards.card_title')),
      el('p', { class: 'm-card-name' }, c.name),
      el('p', { class: 'm-card-phone' }, c.phone),
      el('p', { class: 'm-card-unit' }, c.community, c.unit ? el('span', {}, ' · ', c.unit) : null),
      el('p', { class: 'm-card-help' }, t('js.cards.help'))),
    el('img', { class: 'm-card-qr', src: c.qr_url, alt: t('js.cards.qr_alt', c.name), width: 320, height: 320 }));
}

async function load() {
  try {
    const { cards } = await api('GET', '/api/v1/members/cards?' + params);
    if (!cards.length) {
      $('sheets').replaceChildren(el('p', { class: 'empty' }, t('js.cards.none')));
      return;
    }
    const pages = [];
    for (let i = 0; i < cards.length; i += perPage) {
      pages.push(el('section', { class: 'sheet', 'aria-label': t('js.cards.page', pages.length + 1) }, cards.slice(i, i + perPage).map(card)));
    }
    $('sheets').replaceChildren(...pages);
    $('cards-count').textContent = t('js.cards.count', cards.length, pages.length);
    // Print once every QR has loaded: a card without its code is no card.
    await Promise.all([...document.querySelectorAll('.m-card-qr')].map((img) => (img.complete ? null : img.decode().catch(() => null))));
    document.body.dataset.ready = String(cards.length);
    $('print').disabled = false;
  } catch (err) {
    failed($('cards-msg'), err);
    $('sheets').replaceChildren();
  }
}

$('print').addEventListener('click', () => window.print());
load();
