// /m/wishes: the volunteer's wishes (微心愿) on the phone. 心愿墙: the open
// wishes of their community (the resident as 张*明, never a phone), claim
// one for themself or for a team they are in; 我的认领: what they claimed,
// with the resident's name and phone to find them, and the report when it
// is done — a note, who took part, up to three photos from the camera —;
// and a form to enter a neighbour's wish, which the community checks.

import { t, $, api, el, failed, busy, fmtDate, fmtTime, fmtNumber, emptyState } from './common.js';
import { statusChip, pointsChip, keyed, photoPicker } from './wishes-common.js';

const root = $('m-wishes');
const memberId = root?.dataset.memberId;
let page = null;
let view = 'wall';

function show(name) {
  view = name;
  for (const b of document.querySelectorAll('.seg button')) b.setAttribute('aria-pressed', String(b.dataset.view === name));
  $('wall').hidden = name !== 'wall';
  $('mine').hidden = name !== 'mine';
}

const line = (...parts) => el('p', { class: 'wish-line' }, ...parts);

function wallCard(w) {
  const msg = el('p', { class: 'msg', role: 'alert' });
  const card = el('article', { class: 'card wish-card ws-card-' + w.status, dataset: { wish: w.id, status: w.status } },
    el('div', { class: 'wish-head' }, el('h2', {}, w.title), statusChip(w.status)),
    el('p', { class: 'wish-need' }, w.need),
    line(el('span', { class: 'who' }, w.resident), ' · ', w.place),
    line(pointsChip(w.points), w.published_at ? el('span', { class: 'hint small' }, ' ', t('js.wishes.m.since', fmtDate(w.published_at))) : ''),
    w.claim && w.status !== 'published'
      ? line(el('span', { class: 'hint' }, w.status === 'confirmed' ? t('js.wishes.m.done_by', w.claim.claimed_by) : t('js.wishes.m.taken_by', w.claim.claimed_by)))
      : null,
  );
  if (w.actions.includes('claim')) card.append(claimBox(w, msg));
  card.append(msg);
  return card;
}

// claimBox claims a wish for the volunteer, or for one of their teams (多对一).
function claimBox(w, msg) {
  const send = keyed();
  const id = 'for-' + w.id;
  const teams = page.teams ?? [];
  const select = teams.length
    ? el('select', { id, name: 'team' }, el('option', { value: '' }, t('js.wishes.m.for_me')),
      teams.map((tm) => el('option', { value: tm.id }, t('js.wishes.m.for_team', tm.name))))
    : null;
  const form = el('form', { class: 'claim', novalidate: true },
    select ? [el('label', { for: id }, t('js.wishes.m.claim_as')), select] : null,
    el('button', { type: 'submit', class: 'primary' }, t('js.wishes.m.claim')),
    el('p', { class: 'hint small' }, t('js.wishes.m.claim_help', page.claim_days)));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    await busy(form, async () => {
      try {
        await send('POST', `/api/v1/wishes/${w.id}/claim`, select?.value ? { team_id: select.value } : {});
        await load();
        show('mine');
        $('m-wishes-msg').className = 'msg ok';
        $('m-wishes-msg').textContent = t('js.wishes.m.claimed', w.title, page.claim_days);
      } catch (err) {
        failed(msg, err);
        if (err.status === 409) load();
      }
    });
  });
  return form;
}

function mineCard(w) {
  const msg = el('p', { class: 'msg', role: 'alert' });
  const claimer = w.mine?.includes('claimer');
  const mine = w.awards?.filter((a) => a.member_id === memberId).reduce((s, a) => s + a.points, 0) ?? 0;
  let state = null;
  if (w.status === 'claimed' && claimer) state = t('js.wishes.m.due', fmtDate(w.claim.due_at));
  else if (w.status === 'fulfilled') state = t('js.wishes.m.waiting');
  else if (w.status === 'confirmed') state = mine ? t('js.wishes.m.awarded', fmtNumber(mine)) : t('js.wishes.m.confirmed');
  else if (w.mine?.includes('entered')) state = t('js.wishes.m.entered_' + w.status);
  else if (!claimer && (w.status === 'published' || w.status === 'claimed')) state = t('js.wishes.m.lapsed');
  const card = el('article', { class: 'card wish-card ws-card-' + w.status, dataset: { wish: w.id, status: w.status } },
    el('div', { class: 'wish-head' }, el('h2', {}, w.title), statusChip(w.status)),
    el('p', { class: 'wish-need' }, w.need),
    line(el('span', { class: 'who' }, w.resident), ' · ', w.place),
    w.resident_phone && (w.status === 'claimed' || w.status === 'fulfilled')
      ? line(el('a', { class: 'button small', href: 'tel:' + w.resident_phone }, t('js.wishes.m.call', w.resident_phone))) : null,
    line(pointsChip(w.points), w.claim?.team ? el('span', { class: 'hint small' }, ' ', t('js.wishes.m.team', w.claim.team)) : ''),
    state ? el('p', { class: 'wish-state' + (w.status === 'confirmed' && mine ? ' ok' : '') }, state) : null,
    w.fulfilment?.note ? line(el('span', { class: 'hint' }, t('js.wishes.m.report', w.fulfilment.note, fmtTime(w.fulfilment.at)))) : null,
    w.photos?.length ? el('ul', { class: 'wphotos' }, w.photos.map((p) => el('li', {},
      el('img', { src: p.url, alt: p.stage === 'fulfil' ? t('js.wishes.photo_fulfil', p.n) : t('js.wishes.photo_wish', p.n), loading: 'lazy' })))) : null,
  );
  if (w.actions.includes('fulfil')) card.append(fulfilForm(w, msg));
  if (w.actions.includes('withdraw')) card.append(withdrawBox(w, msg));
  card.append(msg);
  return card;
}

// fulfilForm is the claimer's report: a note, who took part (a team's
// claim), and up to three photos taken with the phone's camera.
function fulfilForm(w, msg) {
  const send = keyed();
  const note = 'note-' + w.id;
  const photos = photoPicker('photos-' + w.id, t('js.wishes.m.photos'));
  const who = el('fieldset', { hidden: true }, el('legend', {}, t('js.wishes.m.who_took_part')));
  const form = el('form', { class: 'fulfil', novalidate: true },
    el('h3', {}, t('js.wishes.m.fulfil_title')),
    el('label', { for: note }, t('js.wishes.m.note')),
    el('textarea', { id: note, name: 'note', rows: 3, maxlength: 500, required: true, placeholder: t('js.wishes.m.note_placeholder') }),
    who,
    photos.node,
    el('button', { type: 'submit', class: 'primary' }, t('js.wishes.m.fulfil')));
  if (w.claim?.team_id) {
    api('GET', `/api/v1/wishes/${w.id}`).then((full) => {
      who.append(el('div', { class: 'checks' }, (full.team_members ?? []).map((m) => el('label', { class: 'check' },
        el('input', { type: 'checkbox', name: 'participant', value: m.id, checked: m.id === memberId }), m.name))));
      who.hidden = false;
    }).catch((err) => failed(msg, err));
  }
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    if (!form.note.value.trim()) {
      msg.textContent = t('js.wishes.m.note_missing');
      return;
    }
    const data = new FormData();
    data.append('note', form.note.value.trim());
    // The claimer first: the points' remainder goes to the first named.
    const ids = [...form.querySelectorAll('input[name=participant]:checked')].map((i) => i.value)
      .sort((a, b) => (a === memberId ? -1 : b === memberId ? 1 : 0));
    for (const id of ids) data.append('participant_ids', id);
    for (const f of photos.files()) data.append('photo', f, f.name);
    await busy(form, async () => {
      try {
        await send('POST', `/api/v1/wishes/${w.id}/fulfil`, data);
        $('m-wishes-msg').className = 'msg ok';
        $('m-wishes-msg').textContent = t('js.wishes.m.fulfilled', w.title);
        await load();
      } catch (err) {
        failed(msg, err);
      }
    });
  });
  return form;
}

// withdrawBox takes back a wish the volunteer entered, with a reason.
function withdrawBox(w, msg) {
  const send = keyed();
  const id = 'why-' + w.id;
  const form = el('form', { class: 'withdraw', novalidate: true, hidden: true },
    el('label', { for: id }, t('js.wishes.reason_label')),
    el('input', { id, name: 'reason', maxlength: 200, required: true }),
    el('button', { type: 'submit' }, t('js.wishes.do.withdraw')));
  const open = el('button', { type: 'button', class: 'small quiet', onclick: () => { form.hidden = false; open.hidden = true; form.reason.focus(); } },
    t('js.wishes.do.withdraw'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    await busy(form, async () => {
      try {
        await send('POST', `/api/v1/wishes/${w.id}/withdraw`, { reason: form.reason.value.trim() });
        await load();
      } catch (err) {
        failed(msg, err);
      }
    });
  });
  return el('div', { class: 'withdraw-box' }, open, form);
}

async function load() {
  try {
    const [wall, mine] = await Promise.all([api('GET', '/api/v1/wishes'), api('GET', '/api/v1/wishes?mine=true')]);
    page = wall;
    const open = wall.wishes.filter((w) => w.status === 'published');
    const rest = wall.wishes.filter((w) => w.status !== 'published');
    $('wall').replaceChildren(...(wall.wishes.length
      ? [...open.map(wallCard), rest.length ? el('h2', { class: 'm-sub' }, t('js.wishes.m.in_hand_and_done')) : null, ...rest.map(wallCard)].filter(Boolean)
      : [emptyState(t('js.wishes.m.none'))]));
    if (!open.length && wall.wishes.length) $('wall').prepend(emptyState(t('js.wishes.m.none_open')));
    $('mine').replaceChildren(...(mine.wishes.length ? mine.wishes.map(mineCard) : [emptyState(t('js.wishes.m.none_mine'))]));
    const select = $('mw-unit');
    const chosen = select.value;
    select.replaceChildren(...wall.units.map((u) => el('option', { value: u.id }, u.label)));
    if (chosen) select.value = chosen;
  } catch (err) {
    failed($('m-wishes-msg'), err);
  }
}

if (root && memberId) {
  for (const b of document.querySelectorAll('.seg button')) b.addEventListener('click', () => show(b.dataset.view));
  if (location.hash === '#mine') show('mine');
  let create = keyed();
  const form = $('m-wish-form');
  for (const input of form.elements) input.addEventListener('input', () => { create = keyed(); });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const msg = $('m-wish-form-msg');
    msg.className = 'msg';
    msg.textContent = '';
    await busy(form, async () => {
      try {
        await create('POST', '/api/v1/wishes', {
          title: form.title.value.trim(), need: form.need.value.trim(), resident_name: form.resident_name.value.trim(),
          resident_phone: form.resident_phone.value.trim(), unit_id: form.unit_id.value,
        });
        form.reset();
        msg.className = 'msg ok';
        msg.textContent = t('js.wishes.m.sent');
        await load();
      } catch (err) {
        failed(msg, err);
      }
    });
  });
  load();
}
