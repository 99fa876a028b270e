// The household's card on the volunteer's home (/m/): 我家积分 — what the
// household has available, apart from the volunteer's own points above it —
// and who the household is, with a link to its page. Hidden for someone in
// no household. m-home.js calls showHouseholdCard.

import { t, $, api, failed, fmtNumber } from './common.js';
import { memberHousehold } from './households-common.js';
import { lastDay } from './expiring.js';

// showHouseholdCard fills and shows the card of member's household.
export async function showHouseholdCard(memberId) {
  try {
    const h = await memberHousehold(api, memberId);
    if (!h) return;
    $('hh-home-available').textContent = fmtNumber(h.available);
    $('hh-home-who').textContent = [h.unit_label, h.address, h.head_name ? t('js.household.head_is', h.head_name) : ''].filter(Boolean).join(' · ');
    $('hh-home-note').textContent = [
      h.may_spend ? (h.held ? t('js.household.held_note', fmtNumber(h.held)) : '') : t('js.household.m_minor'),
      // The household's points that expire soon, as the volunteer's own warning says of theirs.
      h.expiring?.points ? t('js.household.expiring', fmtNumber(h.expiring.points), lastDay(h.expiring.at)) : '',
    ].filter(Boolean).join(' ');
    $('hh-home').hidden = false;
  } catch (err) {
    $('hh-home').hidden = false;
    failed($('hh-home-msg'), err);
  }
}

