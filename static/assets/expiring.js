// Points that expire, on the volunteer's home: from 30 days before the
// street's cutoff (1 January), the balance carries expiring {points, at},
// and the page says how many points expire and on which day. The day shown
// is the last one on which they can still be spent: the day before `at`.

import { t, $, fmtNumber, fmtDate } from './common.js';

// lastDay is the day before the cutoff at (an RFC 3339 time), as a date.
export const lastDay = (at) => fmtDate(new Date(Date.parse(at) - 1).toISOString());

// showExpiring shows or hides the warning for a balance's expiring field.
export function showExpiring(expiring) {
  const box = $('expiring');
  if (!box) return;
  if (!expiring?.points) {
    box.hidden = true;
    return;
  }
  $('expiring-text').textContent = t('js.expiry.warning', fmtNumber(expiring.points), lastDay(expiring.at));
  box.hidden = false;
}
