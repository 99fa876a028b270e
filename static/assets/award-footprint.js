// The awards and deductions (文明行为) on a footprint: the volunteer's own on
// their phone home, a member's on the member page for staff. Each says the
// behaviour, the note, its state, and what a deduction could not take.

import { t, $, api, failed, emptyState } from './common.js';
import { awardLine } from './awards-common.js';

const card = $('awards-card');
const id = card?.dataset.memberId;
let limit = 10;

async function load() {
  try {
    const { awards } = await api('GET', `/api/v1/awards?member_id=${encodeURIComponent(id)}&limit=${limit}`);
    const list = $('award-list');
    list.replaceChildren(awards.length
      ? Object.assign(document.createElement('ul'), { className: 'footprint award-trail' })
      : emptyState(t('js.award.none_yet')));
    if (awards.length) list.firstChild.append(...awards.map(awardLine));
    $('awards-more').parentElement.hidden = awards.length < limit;
  } catch (err) {
    failed($('awards-msg'), err);
  }
}

if (card) {
  if (!id) {
    card.hidden = true;
  } else {
    $('awards-more').addEventListener('click', () => {
      limit = 100;
      load();
    });
    load();
  }
}
