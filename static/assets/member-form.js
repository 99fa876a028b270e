// The member form of the members page (create) and the member page (edit):
// units as a tree, teams and posts of the chosen unit's community, skills
// from the service categories, and the 在职党员 fields shown when ticked.

import { t, el, fillUnitSelect, communityOf, unitLabel, categoryName } from './common.js';

// memberForm wires the form and returns fill(member) and read() -> body.
export function memberForm(form, { units, byId, teams, categories }) {
  const teamsBox = form.querySelector('#m-teams');
  const skillsBox = form.querySelector('#m-skills');
  const postsBox = form.querySelector('#m-posts');
  const onDutyFields = form.querySelector('#m-onduty-fields');
  let checkedTeams = new Set();
  let checkedPosts = new Set();

  fillUnitSelect(form.unit_id, units);
  // New members mostly belong to a grid or a community.
  const first = units.find((u) => u.kind === 'grid') ?? units.find((u) => u.kind === 'community');
  if (first) form.unit_id.value = first.id;

  const check = (name, value, label, checked) =>
    el('label', { class: 'check' }, el('input', { type: 'checkbox', name, value, checked }), ' ', label);

  skillsBox.replaceChildren(...categories.map((c) => check('skills', c, categoryName(c), false)));

  // The teams and posts on offer depend on the unit: the teams anywhere in
  // its community (or in the unit's own subtree above community level), and
  // the community's posts. Ticked ones stay visible.
  function unitChanged() {
    remember();
    draw();
  }

  function draw() {
    const u = byId.get(form.unit_id.value);
    const community = u ? communityOf(u, byId) : null;
    const scope = community ?? u;
    const offered = teams.filter((tm) => {
      if (checkedTeams.has(tm.id)) return true;
      const tu = byId.get(tm.unit_id);
      return !scope || !tu || tu.path.includes(scope.id) || scope.path.includes(tu.id);
    });
    teamsBox.replaceChildren(...(offered.length
      ? offered.map((tm) => {
        const tu = byId.get(tm.unit_id);
        return check('team_ids', tm.id, tm.name + (tu ? '（' + unitLabel(tu, byId) + '）' : ''), checkedTeams.has(tm.id));
      })
      : [el('p', { class: 'hint small' }, t('js.member.no_teams'))]));
    const posts = [...new Set([...(community?.posts ?? []), ...checkedPosts])];
    postsBox.replaceChildren(...(posts.length
      ? posts.map((p) => check('posts', p, p, checkedPosts.has(p)))
      : [el('p', { class: 'hint small' }, t('js.member.no_posts'))]));
  }

  function remember() {
    checkedTeams = new Set([...form.querySelectorAll('input[name=team_ids]:checked')].map((i) => i.value));
    checkedPosts = new Set([...form.querySelectorAll('input[name=posts]:checked')].map((i) => i.value));
  }

  function onDutyChanged() {
    onDutyFields.hidden = !form.on_duty.checked;
  }

  form.unit_id.addEventListener('change', unitChanged);
  form.on_duty.addEventListener('change', onDutyChanged);
  unitChanged();
  onDutyChanged();

  const checkedValues = (name) => [...form.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);

  return {
    fill(m) {
      form.name.value = m.name;
      form.phone.value = m.phone;
      if (byId.has(m.unit_id)) form.unit_id.value = m.unit_id;
      form.status.value = m.status || 'active';
      form.party_member.checked = !!m.party_member;
      form.on_duty.checked = !!m.on_duty;
      form.work_unit.value = m.on_duty?.work_unit ?? '';
      form.reported_at.value = m.on_duty?.reported_at ?? '';
      form.annual_target_hours.value = m.on_duty?.annual_target_hours || '';
      checkedTeams = new Set(m.team_ids ?? []);
      checkedPosts = new Set(m.posts ?? []);
      for (const i of form.querySelectorAll('input[name=skills]')) i.checked = (m.skills ?? []).includes(i.value);
      // Draw teams and posts for the member's unit with theirs ticked.
      draw();
      onDutyChanged();
    },

    // reset empties the form for the next member, keeping the unit, since
    // organisers often enter several people of one grid in a row.
    reset() {
      const unit = form.unit_id.value;
      form.reset();
      form.unit_id.value = unit;
      checkedTeams = new Set();
      checkedPosts = new Set();
      draw();
      onDutyChanged();
    },

    // read returns the request body: every field, so that it serves both
    // POST and a PATCH that replaces the member's details.
    read() {
      const body = {
        name: form.name.value.trim(),
        phone: form.phone.value.trim(),
        unit_id: form.unit_id.value,
        status: form.status.value,
        party_member: form.party_member.checked,
        team_ids: checkedValues('team_ids'),
        skills: checkedValues('skills'),
        on_duty: null,
        posts: [],
      };
      if (form.on_duty.checked) {
        body.on_duty = { work_unit: form.work_unit.value.trim() };
        if (form.reported_at.value) body.on_duty.reported_at = form.reported_at.value;
        const target = form.annual_target_hours.value;
        if (target !== '') body.on_duty.annual_target_hours = Number(target);
        body.posts = checkedValues('posts');
      }
      if (form.password?.value) body.password = form.password.value;
      return body;
    },

    // check returns the first problem the page can see itself, or ''.
    check() {
      if (!form.name.value.trim()) return t('js.member.name_missing');
      if (!form.phone.value.trim()) return t('js.member.phone_missing');
      if (!form.unit_id.value) return t('js.member.unit_missing');
      if (form.on_duty.checked && !form.work_unit.value.trim()) return t('js.member.work_unit_missing');
      return '';
    },
  };
}
