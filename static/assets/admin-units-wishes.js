// /admin/units: each community's public wish wall switch (心愿墙), next to
// its points notice switch. Off by default; on, /wishes/{community} shows
// the community's open wishes without personal data and its fulfilment
// rate by month. The tree is drawn by admin-units.js; this adds the switch
// to every community row it draws.

import { t, $, api, el, failed, href } from './common.js';

const tree = $('tree');
let walls = null; // community id -> on

function wallSwitch(id, name) {
  const state = el('span', { class: 'hint small', role: 'status' });
  const link = el('a', { href: href('/wishes/' + id), target: '_blank', rel: 'noopener', hidden: !walls.get(id) }, t('js.wishes.wall_link'));
  const box = el('input', { type: 'checkbox', class: 'wall-switch', checked: !!walls.get(id), onchange: async () => {
    box.disabled = true;
    try {
      await api('PUT', `/api/v1/wish-walls/${id}`, { on: box.checked });
      walls.set(id, box.checked);
      link.hidden = !box.checked;
      state.textContent = box.checked ? t('js.wishes.wall_on', name) : t('js.wishes.wall_off', name);
    } catch (err) {
      box.checked = !box.checked;
      failed(state, err);
    }
    box.disabled = false;
  } });
  return el('div', { class: 'unit-notice unit-wall', title: t('js.wishes.wall_help') },
    el('label', {}, box, ' ', t('js.wishes.wall_switch')), ' ', link, ' ', state);
}

function addSwitches() {
  if (!walls) return;
  for (const li of tree.querySelectorAll('li[data-unit-id]')) {
    const row = li.querySelector(':scope > .unit-row');
    if (!row?.querySelector('.kind-community') || li.querySelector(':scope > .unit-wall')) continue;
    const sw = wallSwitch(li.dataset.unitId, li.dataset.unitName);
    const after = li.querySelector(':scope > .unit-notice') ?? row;
    after.after(sw);
  }
}

async function start() {
  try {
    const { walls: list } = await api('GET', '/api/v1/wish-walls');
    walls = new Map(list.map((w) => [w.community_id, w.on]));
    addSwitches();
  } catch (err) {
    failed($('units-msg'), err);
  }
}

// addWallSwitches adds the switch to every community the tree shows, now and
// each time it is drawn again.
export function addWallSwitches() {
  if (!tree) return;
  new MutationObserver(addSwitches).observe(tree, { childList: true, subtree: true });
  start();
}
