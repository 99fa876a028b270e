// /m/: the volunteer's home on the phone: points, what is available, service
// hours, and the footprint (足迹): their latest journal entries.

import { t, $, api, el, failed, busy, bindLogout, fmtNumber, fmtHours, fmtTime, entryKinds, emptyState } from './common.js';

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
  } catch (err) {
    failed($('balance-msg'), err);
  }
}

// footprint renders entries as a list that reads well on a narrow screen.
function footprint(entries) {
  const account = 'member:' + id;
  return el('ul', { class: 'footprint' }, entries.map((e) => {
    const incoming = e.credit === account;
    return el('li', {},
      el('div', { class: 'what' },
        el('strong', {}, e.memo || entryKinds[e.kind] || e.kind),
        el('span', { class: 'hint small' }, [fmtTime(e.time), e.minutes ? fmtHours(e.minutes) : '', e.memo ? entryKinds[e.kind] : '']
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
      msg.className = 'msg ok';
      msg.textContent = t('js.password.changed');
    } catch (err) {
      failed(msg, err);
    }
  });
});

if (id) {
  loadBalance();
  loadEntries();
} else {
  $('no-member').hidden = false;
  $('entries').replaceChildren();
}
