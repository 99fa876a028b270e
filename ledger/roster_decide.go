package ledger

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/google/uuid"
)

// ImportState is what PlanImport needs to decide a roster import, read by
// the store in the import's transaction.
type ImportState struct {
	Scope       Scope
	Items       []ImportItem
	SkipInvalid bool
	// Members are the members who have the items' phone numbers now, by
	// normalised phone (NormalizePhone).
	Members map[string]Member
	// Logins are the items' phone numbers that are some user's login.
	Logins map[string]bool
	// Units and Teams are the directory's, by id: those the items and the
	// members above name are enough.
	Units map[uuid.UUID]Unit
	Teams map[uuid.UUID]Team
	// IDs are fresh ids for the new members, used in order (one per item is
	// always enough).
	IDs []uuid.UUID
}

// MemberWrite is a member an import writes: a new one when Old is nil,
// else a change of Old.
type MemberWrite struct {
	Member Member
	Old    *Member
}

// ImportPlan is what PlanImport decides: the report, row by row, and the
// members to write, in the rows' order (none when a bad row stops an
// all-or-nothing import).
type ImportPlan struct {
	Result ImportResult
	Writes []MemberWrite
}

// PlanImport decides a roster import (Directory.ImportMembers): each row
// creates a member for a new phone, updates the member who has the phone
// with the fields the file gives, or is invalid with the field and the
// problem. A phone twice in the file, a phone of a member outside the
// scope, of a staff login, or a member placed outside the scope make the
// row invalid. With an invalid row and !SkipInvalid nothing is written.
func PlanImport(st ImportState, now time.Time) ImportPlan {
	res := ImportResult{Rows: make([]ImportRow, 0, len(st.Items))}
	var writes []MemberWrite
	firstRow := map[string]int{} // phone -> the row that has it first
	ids := st.IDs
	for _, it := range st.Items {
		row := ImportRow{Row: it.Row, Name: it.Member.Name, Field: it.Field, Err: it.Err}
		if it.Err == nil {
			m, old, field, err := planRow(st, it, firstRow, &ids, now)
			row.Field, row.Err = field, err
			switch {
			case err != nil:
			case old == nil:
				row.Status = "created"
				writes = append(writes, MemberWrite{m, nil})
			case memberEqual(m, *old):
				row.Status = "unchanged"
			default:
				row.Status = "updated"
				m.UpdatedAt = now
				writes = append(writes, MemberWrite{m, old})
			}
			row.Name, row.Phone = m.Name, MaskPhone(m.Phone)
		}
		if row.Err != nil {
			row.Status = "invalid"
			res.Invalid++
		}
		res.Rows = append(res.Rows, row)
	}
	if res.Invalid > 0 && !st.SkipInvalid {
		return ImportPlan{Result: res} // report only: nothing is written
	}
	for _, w := range writes {
		if w.Old == nil {
			res.Created++
		} else {
			res.Updated++
		}
	}
	res.Unchanged = len(st.Items) - res.Invalid - res.Created - res.Updated
	res.Written = len(writes) > 0
	return ImportPlan{Result: res, Writes: writes}
}

// planRow decides one row: the member to write and, for an existing
// phone, the member as it is now. An error names the field.
func planRow(st ImportState, it ImportItem, firstRow map[string]int, ids *[]uuid.UUID, now time.Time) (Member, *Member, string, *Error) {
	m := it.Member
	phone, err := NormalizePhone(m.Phone)
	if err != nil {
		return m, nil, "phone", asError(err)
	}
	if r, dup := firstRow[phone]; dup {
		return m, nil, "phone", Errorf(EINVALID, "roster.duplicate_phone", r)
	}
	firstRow[phone] = it.Row
	var old *Member
	if o, ok := st.Members[phone]; ok {
		if !st.Scope.Covers(st.Units[o.UnitID]) {
			return m, nil, "phone", Errorf(ECONFLICT, "roster.phone_elsewhere")
		}
		old = &o
		m = mergeImported(st, o, m, it.Present)
	} else {
		if len(*ids) == 0 {
			return m, nil, "", Errorf(EINTERNAL, "internal") // the store passed too few ids
		}
		m.ID, m.CreatedAt, m.UpdatedAt = (*ids)[0], now, now
		*ids = (*ids)[1:]
		if st.Logins[phone] {
			return m, nil, "phone", Errorf(ECONFLICT, "member.phone_taken", MaskPhone(phone))
		}
	}
	unit, err := CheckMemberPlace(&m, st.Units, st.Teams)
	if err != nil {
		return m, old, memberField(err), asError(err)
	}
	if !st.Scope.Covers(unit) {
		return m, old, "unit", Errorf(ENOTFOUND, "unit.not_found")
	}
	return m, old, "", nil
}

// CheckMemberPlace checks m against the directory: its unit exists, its
// teams belong to the unit or one of its ancestors, its posts to its
// community. units must hold m's unit and the units of its path, teams
// m's teams. It normalises m (Member.Check) and returns its unit.
// Returns EINVALID for a member without a unit or with a team elsewhere,
// ENOTFOUND for an unknown unit or team.
func CheckMemberPlace(m *Member, units map[uuid.UUID]Unit, teams map[uuid.UUID]Team) (Unit, error) {
	if m.UnitID == uuid.Nil {
		return Unit{}, Errorf(EINVALID, "member.unit_required")
	}
	unit, ok := units[m.UnitID]
	if !ok {
		return unit, Errorf(ENOTFOUND, "unit.not_found")
	}
	var community *Unit
	for _, id := range unit.Path {
		if u, ok := units[id]; ok && u.Kind == UnitCommunity {
			community = &u
		}
	}
	if err := m.Check(community); err != nil {
		return unit, err
	}
	for _, tid := range m.TeamIDs {
		t, ok := teams[tid]
		if !ok {
			return unit, Errorf(ENOTFOUND, "team.not_found")
		}
		if !slices.Contains(unit.Path, t.UnitID) {
			return unit, Errorf(EINVALID, "member.team_elsewhere", t.Name)
		}
	}
	return unit, nil
}

// mergeImported returns the existing member with the fields the file
// gives (a present, non-empty cell). Teams the importer cannot see stay.
func mergeImported(st ImportState, old, in Member, present []string) Member {
	m := old
	m.TeamIDs, m.Skills, m.Posts = slices.Clone(old.TeamIDs), slices.Clone(old.Skills), slices.Clone(old.Posts)
	if old.OnDuty != nil {
		d := *old.OnDuty
		m.OnDuty = &d
	}
	duty := func() *OnDuty {
		if m.OnDuty == nil {
			m.OnDuty = &OnDuty{}
		}
		return m.OnDuty
	}
	for _, f := range present {
		switch f {
		case "name":
			m.Name = in.Name
		case "unit":
			m.UnitID = in.UnitID
		case "teams":
			m.TeamIDs = slices.Clone(in.TeamIDs)
			for _, id := range old.TeamIDs {
				t, ok := st.Teams[id]
				if !ok {
					continue
				}
				if u, ok := st.Units[t.UnitID]; ok && !st.Scope.Covers(u) {
					m.TeamIDs = append(m.TeamIDs, id)
				}
			}
		case "party_member":
			m.PartyMember = in.PartyMember
		case "skills":
			m.Skills = in.Skills
		case "posts":
			m.Posts = in.Posts
		case "status":
			m.Status = in.Status
		case "work_unit":
			if in.OnDuty != nil {
				duty().WorkUnit = in.OnDuty.WorkUnit
			}
		case "reported_at":
			if in.OnDuty != nil {
				duty().ReportedAt = in.OnDuty.ReportedAt
			}
		case "annual_target_hours":
			if in.OnDuty != nil {
				duty().AnnualTargetHours = in.OnDuty.AnnualTargetHours
			}
		}
	}
	if m.OnDuty != nil && m.OnDuty.WorkUnit == "" {
		m.OnDuty = old.OnDuty // details without an employer change nothing
	}
	return m
}

// memberEqual compares what an import can change.
func memberEqual(a, b Member) bool {
	a.ID, a.CreatedAt, a.UpdatedAt = b.ID, b.CreatedAt, b.UpdatedAt
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// memberField names the roster column an error of checking a member is about.
func memberField(err error) string {
	le, _ := AsError(err)
	if le == nil {
		return ""
	}
	switch le.Key {
	case "member.name_invalid", "text.formula":
		return "name"
	case "member.phone_invalid", "member.phone_taken":
		return "phone"
	case "unit.not_found", "member.unit_required":
		return "unit"
	case "team.not_found", "member.team_elsewhere":
		return "teams"
	case "member.skill_invalid":
		return "skills"
	case "member.post_unknown":
		return "posts"
	case "member.status_invalid":
		return "status"
	case "member.work_unit_invalid", "member.reported_at_invalid", "member.target_invalid":
		return "work_unit"
	}
	return ""
}

// asError is err as a *Error, or an internal one.
func asError(err error) *Error {
	if le, ok := AsError(err); ok {
		return le
	}
	return Errorf(EINTERNAL, "internal")
}
