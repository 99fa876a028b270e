// 所在家庭 on a member's page (/admin/members/{id}): the household the member
// belongs to, with its points apart from the member's own, a link to it; or
// that they belong to none, with a link to the households. admin-member.js
// calls showMemberHousehold.

import { t, $, api, el, failed, fmtNumber, href } from './common.js';
import { memberHousehold, memberChips } from './households-common.js';

// showMemberHousehold fills the card of the household member id belongs to.
export async function showMemberHousehold(id) {
  const out = $('mh-body');
  try {
    const h = await memberHousehold(api, id);
    if (!h) {
      out.replaceChildren(el('p', { class: 'hint' }, t('js.household.member_none')),
        el('a', { class: 'button small', href: href('/admin/households') }, t('js.household.to_list')));
      return;
    }
    const me = h.members.find((m) => m.member_id === id);
    out.replaceChildren(
      el('p', {}, el('a', { class: 'strong', id: 'mh-link', href: href('/admin/households/' + h.id) }, [h.unit_label || h.unit_name, h.address].filter(Boolean).join(' / ')),
        me?.minor ? el('span', { class: 'chip hh-minor' }, t('js.household.minor')) : null,
        me?.head ? el('span', { class: 'chip hh-head' }, t('js.household.head')) : null),
      el('div', { class: 'figures' },
        el('div', { class: 'figure' }, el('span', { class: 'label' }, t('js.household.available')), el('strong', { id: 'mh-available' }, fmtNumber(h.available))),
        el('div', { class: 'figure' }, el('span', { class: 'label' }, t('js.household.held')), el('strong', {}, fmtNumber(h.held)))),
      el('p', { class: 'hint small' }, t('js.household.apart')),
      memberChips(h));
  } catch (err) {
    out.replaceChildren();
    failed($('mh-msg'), err);
  }
}

