// /admin/shops: the shops of the organiser's units and a form to create one.

import { t, $, api, el, failed, busy, bindLogout, loadUnits, fillUnitSelect, unitLabel, fmtDate, href, emptyState } from './common.js';
import { redeemScopes, shopKinds } from './shop-common.js';

bindLogout();

let units = { units: [], byId: new Map() };

async function loadShops() {
  const out = $('shops');
  try {
    const { shops } = await api('GET', '/api/v1/shops');
    $('shops-msg').textContent = '';
    if (!shops?.length) {
      out.replaceChildren(emptyState(t('js.shop.a.empty'),
        el('button', { type: 'button', class: 'primary', onclick: () => $('shop-name').focus() }, t('js.shop.a.add_one'))));
      return;
    }
    out.replaceChildren(el('div', { class: 'table-wrap', tabindex: '0' }, el('table', { id: 'shops-table' },
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, t('js.shop.a.name')),
        el('th', { scope: 'col' }, t('js.shop.a.kind')),
        el('th', { scope: 'col' }, t('js.shop.a.unit')),
        el('th', { scope: 'col' }, t('js.shop.a.scope')),
        el('th', { scope: 'col' }, t('js.shop.a.created')),
      )),
      el('tbody', {}, shops.map((s) => {
        const u = units.byId.get(s.unit_id);
        return el('tr', { dataset: { shop: s.id } },
          el('td', { class: 'strong' }, el('a', { href: href('/admin/shops/' + s.id) }, s.name)),
          el('td', {}, el('span', { class: 'badge shop-' + s.kind }, shopKinds[s.kind] ?? s.kind)),
          el('td', {}, u ? unitLabel(u, units.byId) : s.unit_name ?? ''),
          el('td', {}, redeemScopes[s.redeem_scope] ?? s.redeem_scope, s.households ? [' ', el('span', { class: 'hh-chip' }, t('js.household.shop_chip'))] : null),
          el('td', { class: 'nowrap' }, fmtDate(s.created_at)),
        );
      })),
    )));
  } catch (err) {
    failed($('shops-msg'), err);
  }
}

const form = $('shop-form');
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const msg = $('shop-form-msg');
  msg.textContent = '';
  msg.classList.remove('ok');
  if (!form.name.value.trim()) {
    msg.textContent = t('js.shop.a.name_required');
    form.name.focus();
    return;
  }
  await busy(form, async () => {
    try {
      const shop = await api('POST', '/api/v1/shops', {
        name: form.name.value.trim(),
        kind: form.kind.value,
        unit_id: form.unit_id.value,
        redeem_scope: form.redeem_scope.value,
        households: form.households.checked,
      });
      form.name.value = '';
      msg.classList.add('ok');
      msg.replaceChildren(t('js.shop.a.created_ok', shop.name), ' ', el('a', { href: href('/admin/shops/' + shop.id) }, t('js.shop.a.open')));
      await loadShops();
    } catch (err) {
      failed(msg, err);
    }
  });
});

try {
  units = await loadUnits();
  fillUnitSelect($('shop-unit'), units.units);
  const community = units.units.find((u) => u.kind === 'community');
  if (community) $('shop-unit').value = community.id;
} catch (err) {
  failed($('shops-msg'), err);
}
await loadShops();
