// What the wish pages (微心愿) share: statuses, steps and ways of
// confirming in the page's language, a wish's status chip, the facts
// line, and API calls that carry an idempotency key (JSON or a form with
// photos).

import { t, lang, el, ApiError, fmtNumber } from './common.js';
import { uuidv7 } from './shop-common.js';

export { uuidv7 };

export const wishStatuses = {
  submitted: t('js.wishes.status.submitted'),
  verified: t('js.wishes.status.verified'),
  published: t('js.wishes.status.published'),
  claimed: t('js.wishes.status.claimed'),
  fulfilled: t('js.wishes.status.fulfilled'),
  confirmed: t('js.wishes.status.confirmed'),
  withdrawn: t('js.wishes.status.withdrawn'),
  rejected: t('js.wishes.status.rejected'),
};

export const wishSteps = {
  submit: t('js.wishes.step.submit'),
  enter: t('js.wishes.step.enter'),
  verify: t('js.wishes.step.verify'),
  publish: t('js.wishes.step.publish'),
  claim: t('js.wishes.step.claim'),
  lapse: t('js.wishes.step.lapse'),
  fulfil: t('js.wishes.step.fulfil'),
  confirm: t('js.wishes.step.confirm'),
  withdraw: t('js.wishes.step.withdraw'),
  reject: t('js.wishes.step.reject'),
  photo: t('js.wishes.step.photo'),
};

export const confirmHows = {
  in_person: t('js.wishes.how.in_person'),
  phone: t('js.wishes.how.phone'),
  signed: t('js.wishes.how.signed'),
  other: t('js.wishes.how.other'),
};

// statusChip is a wish's status as a coloured chip.
export const statusChip = (status) => el('span', { class: 'wstatus ws-' + status }, wishStatuses[status] ?? status);

// pointsChip says what a wish is worth.
export const pointsChip = (points) => el('span', { class: 'wpoints' }, points ? t('js.wishes.points', fmtNumber(points)) : t('js.wishes.no_points'));

// sendKeyed calls the API for a step with an Idempotency-Key: body is sent
// as JSON, or as it is when it is a FormData (a form with photos). The
// caller keeps the key until it gets an answer, so that a retry after a
// lost answer is the same step. It throws an ApiError when the call fails.
export async function sendKeyed(method, path, body, key) {
  const url = new URL(path, location.origin);
  url.searchParams.set('lang', lang);
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', 'Idempotency-Key': key } };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch {
    throw new ApiError(t('js.network_error'), 0);
  }
  let data = null;
  if ((res.headers.get('Content-Type') ?? '').includes('application/json')) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  if (!res.ok) throw new ApiError(data?.error?.message ?? t('js.http_error', res.status), res.status, data?.error);
  return data;
}

// keyed returns a function that sends one user action with one key: the
// same key on every try until an answer comes, a new one after.
export function keyed() {
  let key = null;
  return async (method, path, body) => {
    key ??= uuidv7();
    try {
      const out = await sendKeyed(method, path, body, key);
      key = null;
      return out;
    } catch (err) {
      if (err.status !== 0) key = null; // an answer came: the next try is a new action
      throw err;
    }
  };
}

// photoPicker is a camera / file input that collects up to max pictures,
// with a thumbnail and a remove button for each; files() gives them.
export function photoPicker(id, label, max = 3) {
  const picked = [];
  const thumbs = el('ul', { class: 'wphotos picked' });
  const input = el('input', { id, type: 'file', accept: 'image/*', capture: 'environment', class: 'wphoto-input' });
  const note = el('p', { class: 'hint small', id: id + '-hint' }, t('js.wishes.photos_hint', max));
  input.setAttribute('aria-describedby', id + '-hint');
  // Thumbnails are data: URLs: the pages' CSP allows no blob: images.
  const draw = () => {
    thumbs.replaceChildren(...picked.map((f, i) => {
      const img = el('img', { alt: t('js.wishes.photo_n', i + 1) });
      const reader = new FileReader();
      reader.onload = () => { img.src = reader.result; };
      reader.readAsDataURL(f);
      return el('li', {}, img,
        el('button', { type: 'button', class: 'small quiet', onclick: () => { picked.splice(i, 1); draw(); } }, t('js.wishes.photo_remove')));
    }));
    input.disabled = picked.length >= max;
  };
  input.addEventListener('change', () => {
    for (const f of input.files) if (picked.length < max) picked.push(f);
    input.value = '';
    draw();
  });
  return {
    node: el('div', { class: 'wphoto-pick' }, el('label', { for: id }, label), input, note, thumbs),
    files: () => [...picked],
  };
}
