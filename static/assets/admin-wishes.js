// /admin/wishes: the organiser's wish queue (微心愿). Enter a wish on a
// resident's behalf, check the ones volunteers sent (核实), set points and
// put them on the wall (发布), confirm the fulfilled ones with how the
// resident confirmed (确认实现, which awards the points), and reject or
// withdraw with a reason. A grid worker sees and enters their grid's
// wishes and follows them up. The buttons each wish shows are the steps
// the server says the caller may take now.

import { t, $, api, el, failed, busy, bindLogout, fmtTime, fmtDate, fmtNumber, emptyState, href } from './common.js';
import { wishStatuses, wishSteps, confirmHows, statusChip, pointsChip, keyed } from './wishes-common.js';
import { bindOwnPassword } from './own-password.js';

bindLogout();
bindOwnPassword(); // a grid worker's own password, on this their one page

const root = $('admin-wishes');
const role = root.dataset.role;
const staff = role === 'admin' || role === 'organizer';
let page = null; // the last answer of GET /api/v1/wishes
let filter = 'todo';

// The queue's filters: what waits for the organiser first.
const filters = [
  ['todo', t('js.wishes.f.todo'), ['submitted', 'verified', 'fulfilled']],
  ['wall', t('js.wishes.f.wall'), ['published']],
  ['in_hand', t('js.wishes.f.in_hand'), ['claimed']],
  ['done', t('js.wishes.f.done'), ['confirmed']],
  ['closed', t('js.wishes.f.closed'), ['withdrawn', 'rejected']],
  ['all', t('js.wishes.f.all'), null],
];

function drawFilters() {
  const counts = page?.counts ?? {};
  $('wish-filter').replaceChildren(...filters.map(([name, label, statuses]) => {
    const n = statuses ? statuses.reduce((sum, s) => sum + (counts[s] ?? 0), 0) : Object.values(counts).reduce((a, b) => a + b, 0);
    return el('button', { type: 'button', class: 'small', 'aria-pressed': String(name === filter), dataset: { filter: name },
      onclick: () => { filter = name; $('wishes-msg').textContent = ''; drawFilters(); draw(); } }, label, ' ', el('span', { class: 'count' }, String(n)));
  }));
}

function draw() {
  const statuses = filters.find((f) => f[0] === filter)[2];
  const list = page.wishes.filter((w) => !statuses || statuses.includes(w.status));
  const out = $('wishes');
  if (!list.length) {
    out.replaceChildren(emptyState(filter === 'todo' ? t('js.wishes.none_todo') : t('js.wishes.none'),
      el('button', { type: 'button', class: 'primary', onclick: openForm }, t('js.wishes.new'))));
    return;
  }
  out.replaceChildren(...list.map(card));
}

// fact is one line of a wish's facts: a label and what it says.
const fact = (label, ...value) => el('div', {}, el('dt', {}, label), el('dd', {}, ...value));

function card(w) {
  const facts = [
    fact(t('js.wishes.resident'), w.resident, w.resident_phone ? [' · ', el('a', { href: 'tel:' + w.resident_phone }, w.resident_phone)] : ''),
    fact(t('js.wishes.place'), [w.community, w.place].filter(Boolean).join(' / ')),
    fact(t('js.wishes.entered'), [w.entered_by, fmtDate(w.created_at)].filter(Boolean).join(' · ')),
  ];
  if (w.claim) {
    const who = w.claim.team ? `${w.claim.team}（${w.claim.member}）` : w.claim.member;
    facts.push(fact(w.status === 'confirmed' ? t('js.wishes.fulfilled_by') : t('js.wishes.claimed_by'), who,
      w.status === 'claimed' ? el('span', { class: 'hint small' }, ' ', t('js.wishes.due', fmtDate(w.claim.due_at))) : ''));
  }
  if (w.fulfilment) {
    facts.push(fact(t('js.wishes.fulfilment'), w.fulfilment.note, ' ', el('span', { class: 'hint small' }, fmtTime(w.fulfilment.at))));
    if (w.fulfilment.participants?.length > 1) {
      facts.push(fact(t('js.wishes.participants'), w.fulfilment.participants.map((p) => p.name).join('、')));
    }
  }
  if (w.confirmation) {
    facts.push(fact(t('js.wishes.confirmation'), [confirmHows[w.confirmation.how], w.confirmation.note, w.confirmation.by, fmtTime(w.confirmation.at)]
      .filter(Boolean).join(' · ')));
  }
  if (w.awards?.length) {
    facts.push(fact(t('js.wishes.awards'), w.awards.map((a) => t('js.wishes.award', a.name, fmtNumber(a.points))).join('、')));
  }
  if (w.reason) facts.push(fact(t('js.wishes.reason'), w.reason));
  const panel = el('div', { class: 'wish-panel' });
  const msg = el('p', { class: 'msg', role: 'alert' });
  const open = (form) => {
    panel.replaceChildren(form);
    form.querySelector('input:not([type=hidden]), select, textarea')?.focus();
  };
  const actions = el('div', { class: 'actions' }, actionButtons(w, open, panel, msg));
  return el('article', { class: 'wish card-inner ws-card-' + w.status, dataset: { wish: w.id, status: w.status } },
    el('div', { class: 'wish-head' }, el('h3', {}, w.title), statusChip(w.status), pointsChip(w.points)),
    el('p', { class: 'wish-need' }, w.need),
    el('dl', { class: 'wish-facts' }, facts),
    w.photos?.length ? el('ul', { class: 'wphotos' }, w.photos.map((p) => el('li', {},
      el('a', { href: p.url, target: '_blank', rel: 'noopener' },
        el('img', { src: p.url, alt: p.stage === 'fulfil' ? t('js.wishes.photo_fulfil', p.n) : t('js.wishes.photo_wish', p.n), loading: 'lazy' }))))) : null,
    actions,
    panel,
    msg,
    w.history?.length ? el('details', { class: 'wish-history' }, el('summary', {}, t('js.wishes.history', w.history.length)),
      el('ol', {}, w.history.map((h) => el('li', {},
        el('span', { class: 'nowrap' }, fmtTime(h.at)), ' ', el('strong', {}, wishSteps[h.step] ?? h.step), ' ',
        [h.by, h.team || h.member, h.points ? t('js.wishes.points', h.points) : '', h.note].filter(Boolean).join(' · '))))) : null,
  );
}

// actionButtons are the steps the server offers the caller on w.
function actionButtons(w, open, panel, msg) {
  const b = (label, form, cls = '') => el('button', { type: 'button', class: 'small ' + cls, dataset: { action: label[0] },
    onclick: () => open(form()) }, label[1]);
  const out = [];
  for (const a of w.actions) {
    switch (a) {
      case 'verify': out.push(b(['verify', t('js.wishes.do.verify')], () => pointsForm(w, 'verify', msg), 'primary')); break;
      case 'publish': out.push(b(['publish', t('js.wishes.do.publish')], () => pointsForm(w, 'publish', msg), 'primary')); break;
      case 'confirm': out.push(b(['confirm', t('js.wishes.do.confirm')], () => confirmForm(w, msg), 'primary')); break;
      case 'reject': out.push(b(['reject', t('js.wishes.do.reject')], () => reasonForm(w, 'reject', msg), 'quiet')); break;
      case 'withdraw': out.push(b(['withdraw', t('js.wishes.do.withdraw')], () => reasonForm(w, 'withdraw', msg), 'quiet')); break;
      case 'photo': out.push(b(['photo', t('js.wishes.do.photo')], () => photoForm(w, msg), 'quiet')); break;
    }
  }
  return out;
}

// stepForm is a small form under a wish: fields and a button that sends
// the step with an idempotency key; the list reloads after.
function stepForm(w, title, fields, label, msg, send, step) {
  const form = el('form', { class: 'inline-form', novalidate: true }, el('h4', {}, title), fields,
    el('div', { class: 'form-buttons' },
      el('button', { type: 'submit', class: 'primary' }, label),
      el('button', { type: 'button', onclick: () => form.remove() }, t('js.cancel'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    await busy(form, async () => {
      try {
        const after = await send(form);
        await load();
        // The wish may have left the list shown: say where it went.
        const done = $('wishes-msg');
        done.className = 'msg ok';
        done.textContent = t('js.wishes.done.' + step, w.title, wishStatuses[after?.status ?? w.status]);
      } catch (err) {
        failed(msg, err);
      }
    });
  });
  return form;
}

const pointsField = (w, id) => [
  el('label', { for: id }, t('js.wishes.points_label', page.max_points)),
  el('input', { id, name: 'points', type: 'number', min: 0, max: page.max_points, step: 1, inputmode: 'numeric', value: String(w.points ?? 0) }),
];

function pointsForm(w, step, msg) {
  const send = keyed();
  const title = step === 'verify' ? t('js.wishes.verify_title', w.title) : t('js.wishes.publish_title', w.title);
  return stepForm(w, title, [...pointsField(w, `${step}-points-${w.id}`),
    el('p', { class: 'hint small' }, step === 'verify' ? t('js.wishes.verify_help') : t('js.wishes.publish_help'))],
  step === 'verify' ? t('js.wishes.do.verify') : t('js.wishes.do.publish'), msg,
  (form) => send('POST', `/api/v1/wishes/${w.id}/${step}`, { points: Number(form.points.value || 0) }), step);
}

function reasonForm(w, step, msg) {
  const send = keyed();
  const id = `${step}-reason-${w.id}`;
  return stepForm(w, step === 'reject' ? t('js.wishes.reject_title', w.title) : t('js.wishes.withdraw_title', w.title),
    [el('label', { for: id }, t('js.wishes.reason_label')), el('input', { id, name: 'reason', maxlength: 200, required: true })],
    step === 'reject' ? t('js.wishes.do.reject') : t('js.wishes.do.withdraw'), msg,
    (form) => send('POST', `/api/v1/wishes/${w.id}/${step}`, { reason: form.reason.value.trim() }), step);
}

function confirmForm(w, msg) {
  const send = keyed();
  const how = `confirm-how-${w.id}`;
  const note = `confirm-note-${w.id}`;
  const who = el('fieldset', { hidden: true }, el('legend', {}, t('js.wishes.participants_label')));
  const form = stepForm(w, t('js.wishes.confirm_title', w.title), [
    el('label', { for: how }, t('js.wishes.how_label')),
    el('select', { id: how, name: 'how' }, Object.entries(confirmHows).map(([v, label]) => el('option', { value: v }, label))),
    el('label', { for: note }, t('js.wishes.confirm_note')),
    el('input', { id: note, name: 'note', maxlength: 200, placeholder: t('js.wishes.confirm_note_placeholder') }),
    who,
    el('p', { class: 'hint small' }, w.points ? t('js.wishes.confirm_help', fmtNumber(w.points)) : t('js.wishes.confirm_help_none')),
  ], t('js.wishes.do.confirm'), msg, (form) => {
    const ids = [...form.querySelectorAll('input[name=participant]:checked')].map((i) => i.value);
    return send('POST', `/api/v1/wishes/${w.id}/confirm`, { how: form.how.value, note: form.note.value.trim(), participant_ids: ids });
  }, 'confirm');
  // A team's claim: who took part, as the claimer named them, to change if need be.
  if (w.claim?.team_id) {
    api('GET', `/api/v1/wishes/${w.id}`).then((full) => {
      const named = (full.fulfilment?.participants ?? []).map((p) => p.id);
      const people = [...(full.fulfilment?.participants ?? []), ...(full.team_members ?? []).filter((m) => !named.includes(m.id))];
      who.append(el('div', { class: 'checks' }, people.map((p) => el('label', { class: 'check' },
        el('input', { type: 'checkbox', name: 'participant', value: p.id, checked: named.includes(p.id) }), p.name))));
      who.hidden = false;
    }).catch((err) => failed(msg, err));
  }
  return form;
}

function photoForm(w, msg) {
  const id = `photo-${w.id}`;
  return stepForm(w, t('js.wishes.photo_title', w.title),
    [el('label', { for: id }, t('js.wishes.photo_label')), el('input', { id, name: 'file', type: 'file', accept: 'image/*', required: true })],
    t('js.wishes.do.photo'), msg, (form) => {
      if (!form.file.files.length) throw new Error(t('js.wishes.photo_missing'));
      const data = new FormData();
      data.append('file', form.file.files[0]);
      return api('POST', `/api/v1/wishes/${w.id}/photos`, data);
    }, 'photo');
}

// The entry form.
const formCard = $('wish-form-card');
const form = $('wish-form');
let create = keyed();

function openForm() {
  formCard.hidden = false;
  $('w-title').focus();
}
$('new-wish').addEventListener('click', openForm);
form.querySelector('[data-cancel]').addEventListener('click', () => {
  form.reset();
  formCard.hidden = true;
});
$('w-points-field').hidden = !staff;
for (const input of form.elements) input.addEventListener('input', () => { create = keyed(); });

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const msg = $('wish-form-msg');
  msg.textContent = '';
  await busy(form, async () => {
    try {
      const w = await create('POST', '/api/v1/wishes', {
        title: form.title.value.trim(), need: form.need.value.trim(), resident_name: form.resident_name.value.trim(),
        resident_phone: form.resident_phone.value.trim(), unit_id: form.unit_id.value, points: staff ? Number(form.points.value || 0) : 0,
      });
      if (form.photo.files.length) {
        const data = new FormData();
        data.append('file', form.photo.files[0]);
        await api('POST', `/api/v1/wishes/${w.id}/photos`, data);
      }
      form.reset();
      formCard.hidden = true;
      filter = w.status === 'submitted' || w.status === 'verified' ? 'todo' : 'all';
      await load();
      document.querySelector(`article[data-wish="${w.id}"]`)?.scrollIntoView({ block: 'center' });
    } catch (err) {
      failed(msg, err);
    }
  });
});

async function load() {
  try {
    page = await api('GET', '/api/v1/wishes');
    $('wishes-msg').className = 'msg';
    $('wishes-msg').textContent = '';
    const select = $('w-unit');
    const chosen = select.value;
    select.replaceChildren(...page.units.map((u) => el('option', { value: u.id }, u.label)));
    if (chosen) select.value = chosen;
    $('w-points').max = String(page.max_points);
    if ($('walls')) {
      $('walls').replaceChildren(...(page.walls?.length
        ? [t('js.wishes.walls_on'), ' ', ...page.walls.flatMap((c, i) => [i ? '、' : '',
          el('a', { href: href('/wishes/' + c.id), target: '_blank', rel: 'noopener' }, c.name)])]
        : [t('js.wishes.walls_off'), ' ', el('a', { href: href('/admin/units') }, t('js.wishes.walls_where'))]));
    }
    drawFilters();
    draw();
  } catch (err) {
    failed($('wishes-msg'), err);
  }
}

// The ledger of a month: this month by default.
const month = $('ledger-month');
if (month) {
  const now = new Date(Date.now() + 8 * 3600e3);
  month.value = now.toISOString().slice(0, 7);
  const link = () => { $('ledger-download').href = href('/api/v1/exports/wishes', { month: month.value }); };
  month.addEventListener('change', link);
  link();
}

load();
// The bar's 修改密码 opens the grid worker's password form here.
const passwordHere = () => {
  if (location.hash === '#my-password') document.querySelector('#my-password details')?.setAttribute('open', '');
};
addEventListener('hashchange', passwordHere);
passwordHere();
