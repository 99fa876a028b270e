// /m/: the volunteer's home on the phone: points, what is available, service
// hours and the star level they earn, the footprint (足迹) of the events they
// served at, and their latest journal entries.

import { t, $, api, el, failed, busy, bindLogout, fmtNumber, fmtHours, fmtTime, entryKinds, emptyState, categoryName } from './common.js';
import { shortDay, duration, countedMinutes } from './events-common.js';
import './award-footprint.js'; // awards and deductions (文明行为) on the footprint
import { showExpiring } from './expiring.js';
import { showHouseholdCard } from './m-household-home.js';

bindLogout();

const id = $('m-home').dataset.memberId;
const base = `/api/v1/members/${encodeURIComponent(id)}`;

async function loadBalance() {
  try {
    const b = await api('GET', `${base}/balance`);
    $('b-points').textContent = fmtNumber(b.points);
    $('b-available').textContent = fmtNumber(b.available);
    $('b-hours').textContent = fmtHours(b.service_minutes);
    $('b-held').textContent = fmtNumber(b.held);
    $('held-figure').hidden = !b.held;
    showStars(b.service_minutes ?? 0);
    showExpiring(b.expiring);
  } catch (err) {
    failed($('balance-msg'), err);
  }
}

// The star levels by confirmed service hours (1★ 100 h … 5★ 1500 h).
const starHours = [100, 300, 600, 1000, 1500];
const starNames = [
  t('js.events.m.star_1'), t('js.events.m.star_2'), t('js.events.m.star_3'), t('js.events.m.star_4'), t('js.events.m.star_5'),
];

function showStars(minutes) {
  const hours = minutes / 60;
  const level = starHours.filter((h) => hours >= h).length;
  $('star-marks').textContent = '★'.repeat(level) + '☆'.repeat(starHours.length - level);
  $('star-label').textContent = level ? starNames[level - 1] : t('js.events.m.star_none');
  if (level < starHours.length) {
    const left = starHours[level] * 60 - minutes;
    $('star-next').textContent = t('js.events.m.star_next', fmtHours(left), starNames[level]);
  } else {
    $('star-next').textContent = t('js.events.m.star_top');
  }
  $('stars').hidden = false;
}

// The footprint: the events the volunteer took part in, newest first.
const trailStatuses = {
  open: t('js.events.m.open'),
  closed: t('js.events.m.closed'),
  confirmed: t('js.events.m.confirmed'),
  rejected: t('js.events.m.rejected'),
  posted: t('js.events.m.posted'),
};

function trail(list) {
  return el('ul', { class: 'footprint trail' }, list.map((a) => {
    // 未签退 without a time: closed by rule, waiting for the organiser to give it one.
    const waiting = a.status === 'closed' && a.no_checkout && !a.checked_out_at;
    const done = a.status !== 'open' && !waiting;
    const minutes = countedMinutes(a);
    const points = a.status === 'rejected' ? 0 : a.points;
    return el('li', { dataset: { status: a.status } },
      el('div', { class: 'what' },
        el('strong', {}, a.event_title || categoryName(a.category)),
        el('span', { class: 'hint small' }, [shortDay(a.checked_in_at), done ? duration(minutes) : '', categoryName(a.category)].filter(Boolean).join(' · ')),
        el('span', { class: 'trail-status trail-' + a.status }, waiting ? t('js.events.m.no_checkout_waiting') : trailStatuses[a.status] ?? a.status),
        a.no_checkout && !waiting ? el('span', { class: 'trail-status trail-no-checkout' }, t('js.events.att.no_checkout')) : null,
      ),
      done && a.status !== 'rejected'
        ? el('span', { class: 'amount ' + (a.status === 'posted' ? 'plus' : 'pending') }, (a.status === 'posted' ? '+' : '') + fmtNumber(points))
        : el('span', { class: 'amount pending' }, '—'),
    );
  }));
}

async function loadTrail(all = false) {
  const limit = all ? 200 : 10;
  try {
    const { attendances } = await api('GET', `${base}/attendances?limit=${limit}`);
    // Newest service first: a paper sheet back-filled today is last week's service.
    attendances.sort((a, b) => Date.parse(b.checked_in_at) - Date.parse(a.checked_in_at));
    $('footprint').replaceChildren(attendances.length ? trail(attendances) : emptyState(t('js.events.m.no_events')));
    $('all-events').parentElement.hidden = all || attendances.length < limit;
  } catch (err) {
    failed($('footprint-msg'), err);
  }
}
$('all-events').addEventListener('click', () => loadTrail(true));

// footprint renders entries as a list that reads well on a narrow screen.
function footprint(entries) {
  const account = 'member:' + id;
  return el('ul', { class: 'footprint' }, entries.map((e) => {
    const incoming = e.credit === account;
    // A wish's points (微心愿) say so, whatever the memo.
    const kind = e.reference?.startsWith('wish:') ? t('js.wishes.entry_kind') : entryKinds[e.kind];
    return el('li', {},
      el('div', { class: 'what' },
        el('strong', {}, e.memo || kind || e.kind),
        el('span', { class: 'hint small' }, [fmtTime(e.time), e.minutes ? fmtHours(e.minutes) : '', e.memo ? kind : '']
          .filter(Boolean).join(' · ')),
      ),
      el('span', { class: 'amount ' + (incoming ? 'plus' : 'minus') }, (incoming ? '+' : '−') + fmtNumber(e.amount)),
    );
  }));
}

let before = 0;
async function loadEntries(more = false) {
  const q = new URLSearchParams({ limit: 10 });
  if (more) q.set('before', before);
  try {
    const page = await api('GET', `${base}/entries?${q}`);
    before = page.next_before || 0;
    const out = $('entries');
    if (!more) {
      out.replaceChildren(page.entries.length ? footprint(page.entries) : emptyState(t('js.m.no_entries')));
    } else {
      out.querySelector('ul')?.append(...footprint(page.entries).children);
    }
    $('older').parentElement.hidden = !before;
  } catch (err) {
    failed($('entries-msg'), err);
  }
}
$('older').addEventListener('click', () => loadEntries(true));

// A password the community set is known to staff: the card above the
// points asks for one of the volunteer's own, and opens the form.
$('own-pw-go')?.addEventListener('click', () => {
  $('pw').open = true;
  $('pw-old').focus();
});

$('password-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = ev.currentTarget;
  const msg = $('password-msg');
  msg.className = 'msg';
  if (!f.old_password.value || !f.password.value) {
    msg.textContent = t('js.password.missing');
    return;
  }
  if (f.password.value !== f.again.value) {
    msg.textContent = t('js.password.mismatch');
    return;
  }
  await busy(f, async () => {
    try {
      await api('POST', '/api/v1/me/password', { old_password: f.old_password.value, password: f.password.value });
      f.reset();
      $('own-pw-ask')?.remove(); // the password is their own now
      msg.className = 'msg ok';
      msg.textContent = t('js.password.changed');
    } catch (err) {
      failed(msg, err);
    }
  });
});

if (id) {
  loadBalance();
  showHouseholdCard(id);
  loadTrail();
  loadEntries();
} else {
  $('no-member').hidden = false;
  $('entries').replaceChildren();
  $('footprint').replaceChildren();
}
