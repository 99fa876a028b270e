package ledger

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

// importTree is a street with communities A and B, a grid in each, a team
// in A's grid, one in B and one of the street.
type importTree struct {
	street, a, gridA, b, gridB Unit
	teamA, teamB, teamStreet   Team
	units                      map[uuid.UUID]Unit
	teams                      map[uuid.UUID]Team
}

func newImportTree() importTree {
	unit := func(name string, kind UnitKind, parent *Unit) Unit {
		u := Unit{ID: uuid.New(), Name: name, Kind: kind}
		if parent != nil {
			u.ParentID, u.Path = parent.ID, slices.Clone(parent.Path)
		}
		u.Path = append(u.Path, u.ID)
		return u
	}
	var tr importTree
	tr.street = unit("阳光街道", UnitStreet, nil)
	tr.a = unit("A社区", UnitCommunity, &tr.street)
	tr.gridA = unit("第一网格", UnitGrid, &tr.a)
	tr.b = unit("B社区", UnitCommunity, &tr.street)
	tr.gridB = unit("第一网格", UnitGrid, &tr.b)
	tr.teamA = Team{ID: uuid.New(), Name: "A队", UnitID: tr.gridA.ID}
	tr.teamB = Team{ID: uuid.New(), Name: "B队", UnitID: tr.b.ID}
	tr.teamStreet = Team{ID: uuid.New(), Name: "街道队", UnitID: tr.street.ID}
	tr.units = map[uuid.UUID]Unit{}
	for _, u := range []Unit{tr.street, tr.a, tr.gridA, tr.b, tr.gridB} {
		tr.units[u.ID] = u
	}
	tr.teams = map[uuid.UUID]Team{tr.teamA.ID: tr.teamA, tr.teamB.ID: tr.teamB, tr.teamStreet.ID: tr.teamStreet}
	return tr
}

func TestPlanImport(t *testing.T) {
	now := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	created := now.Add(-time.Hour)
	tr := newImportTree()
	scopeA := Scope{Unit: tr.a.ID}
	item := func(row int, name, phone string, unit uuid.UUID) ImportItem {
		return ImportItem{Row: row, Member: Member{Name: name, Phone: phone, UnitID: unit}, Present: []string{"name", "phone", "unit"}}
	}
	existing := Member{ID: uuid.New(), Name: "甲", Phone: "13900000001", UnitID: tr.gridA.ID, Status: MemberActive,
		TeamIDs: []uuid.UUID{tr.teamA.ID}, Skills: []string{}, Posts: []string{}, CreatedAt: created, UpdatedAt: created}
	// The existing member as an import of the same fields would leave it.
	if err := existing.Check(&tr.a); err != nil {
		t.Fatal(err)
	}
	inB := Member{ID: uuid.New(), Name: "丙", Phone: "13900000003", UnitID: tr.gridB.ID, Status: MemberActive, CreatedAt: created, UpdatedAt: created}
	members := map[string]Member{existing.Phone: existing, inB.Phone: inB}
	newID := uuid.New()

	tests := []struct {
		name     string
		scope    Scope
		items    []ImportItem
		skip     bool
		logins   map[string]bool
		statuses []string // per row: the status, or the invalid row's key
		field    string   // the first invalid row's field
		written  int      // members to write
	}{
		{name: "Created", scope: scopeA, items: []ImportItem{item(2, "乙", "139-0000-0002", tr.gridA.ID)},
			statuses: []string{"created"}, written: 1},
		{name: "Unchanged", scope: scopeA, items: []ImportItem{item(2, "甲", "13900000001", tr.gridA.ID)},
			statuses: []string{"unchanged"}},
		{name: "Updated", scope: scopeA, items: []ImportItem{item(2, "甲（改名）", "+86 139 0000 0001", tr.gridA.ID)},
			statuses: []string{"updated"}, written: 1},
		{name: "ReadWithProblem", scope: scopeA,
			items:    []ImportItem{{Row: 2, Field: "phone", Err: Errorf(EINVALID, "member.phone_invalid", "123")}},
			statuses: []string{"member.phone_invalid"}, field: "phone"},
		{name: "PhoneInvalid", scope: scopeA, items: []ImportItem{item(2, "乙", "12345", tr.gridA.ID)},
			statuses: []string{"member.phone_invalid"}, field: "phone"},
		{name: "DuplicatePhone", scope: scopeA,
			items:    []ImportItem{item(2, "乙", "13900000002", tr.gridA.ID), item(3, "乙二", "139 0000 0002", tr.gridA.ID)},
			statuses: []string{"created", "roster.duplicate_phone"}, field: "phone"},
		{name: "PhoneElsewhere", scope: scopeA, items: []ImportItem{item(2, "丙", "13900000003", tr.gridA.ID)},
			statuses: []string{"roster.phone_elsewhere"}, field: "phone"},
		{name: "PhoneOfStaff", scope: scopeA, items: []ImportItem{item(2, "乙", "13900000002", tr.gridA.ID)},
			logins: map[string]bool{"13900000002": true}, statuses: []string{"member.phone_taken"}, field: "phone"},
		{name: "UnitOutsideScope", scope: scopeA, items: []ImportItem{item(2, "乙", "13900000002", tr.gridB.ID)},
			statuses: []string{"unit.not_found"}, field: "unit"},
		{name: "UnitUnknown", scope: scopeA, items: []ImportItem{item(2, "乙", "13900000002", uuid.New())},
			statuses: []string{"unit.not_found"}, field: "unit"},
		{name: "UnitRequired", scope: scopeA, items: []ImportItem{item(2, "乙", "13900000002", uuid.Nil)},
			statuses: []string{"member.unit_required"}, field: "unit"},
		{name: "TeamElsewhere", scope: Scope{All: true}, items: []ImportItem{{Row: 2,
			Member:  Member{Name: "乙", Phone: "13900000002", UnitID: tr.gridA.ID, TeamIDs: []uuid.UUID{tr.teamB.ID}},
			Present: []string{"name", "phone", "unit", "teams"}}},
			statuses: []string{"member.team_elsewhere"}, field: "teams"},
		{name: "TeamUnknown", scope: scopeA, items: []ImportItem{{Row: 2,
			Member:  Member{Name: "乙", Phone: "13900000002", UnitID: tr.gridA.ID, TeamIDs: []uuid.UUID{uuid.New()}},
			Present: []string{"name", "phone", "unit", "teams"}}},
			statuses: []string{"team.not_found"}, field: "teams"},
		{name: "NameInvalid", scope: scopeA, items: []ImportItem{item(2, "=1+1", "13900000002", tr.gridA.ID)},
			statuses: []string{"text.formula"}, field: "name"},
		{name: "AllOrNothing", scope: scopeA,
			items:    []ImportItem{item(2, "乙", "13900000002", tr.gridA.ID), item(3, "丙", "13900000003", tr.gridA.ID)},
			statuses: []string{"created", "roster.phone_elsewhere"}, field: "phone"},
		{name: "SkipInvalid", scope: scopeA, skip: true,
			items:    []ImportItem{item(2, "乙", "13900000002", tr.gridA.ID), item(3, "丙", "13900000003", tr.gridA.ID)},
			statuses: []string{"created", "roster.phone_elsewhere"}, field: "phone", written: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := ImportState{Scope: tt.scope, Items: tt.items, SkipInvalid: tt.skip, Members: members, Logins: tt.logins,
				Units: tr.units, Teams: tr.teams, IDs: []uuid.UUID{newID, uuid.New()}}
			plan := PlanImport(st, now)
			res := plan.Result
			if len(res.Rows) != len(tt.statuses) {
				t.Fatalf("%d rows, want %d", len(res.Rows), len(tt.statuses))
			}
			invalid, field := 0, ""
			for i, r := range res.Rows {
				got := r.Status
				if r.Err != nil {
					got = r.Err.Key
					if r.Status != "invalid" {
						t.Errorf("row %d: status %q with an error", r.Row, r.Status)
					}
					if invalid++; field == "" {
						field = r.Field
					}
				}
				if got != tt.statuses[i] || r.Row != tt.items[i].Row {
					t.Errorf("row %d: %s, want %s", r.Row, got, tt.statuses[i])
				}
			}
			if field != tt.field || res.Invalid != invalid {
				t.Errorf("field %q, invalid %d; want %q, %d", field, res.Invalid, tt.field, invalid)
			}
			if len(plan.Writes) != tt.written || res.Written != (tt.written > 0) || res.Created+res.Updated != tt.written {
				t.Fatalf("writes %d, result %+v; want %d", len(plan.Writes), res, tt.written)
			}
			if tt.written == 0 && res.Unchanged != 0 && invalid > 0 {
				t.Errorf("unchanged %d in a refused import", res.Unchanged)
			}
			for _, w := range plan.Writes {
				m := w.Member
				switch {
				case w.Old == nil:
					if m.ID != newID || !m.CreatedAt.Equal(now) || !m.UpdatedAt.Equal(now) || m.Phone != "13900000002" {
						t.Errorf("new member %+v", m)
					}
				default:
					if m.ID != existing.ID || !m.CreatedAt.Equal(created) || !m.UpdatedAt.Equal(now) || w.Old.Name != "甲" || m.Name != "甲（改名）" ||
						!slices.Equal(m.TeamIDs, existing.TeamIDs) {
						t.Errorf("updated member %+v from %+v", m, *w.Old)
					}
				}
			}
		})
	}
}

// TestPlanImportMerge: an update changes only the fields the file gives, and
// keeps the teams the importer cannot see.
func TestPlanImportMerge(t *testing.T) {
	now := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	tr := newImportTree()
	// A member of A's grid who also serves in the street's team, which A's
	// organiser does not see.
	old := Member{ID: uuid.New(), Name: "甲", Phone: "13900000001", UnitID: tr.gridA.ID, Status: MemberActive, PartyMember: true,
		TeamIDs: []uuid.UUID{tr.teamA.ID, tr.teamStreet.ID}, Skills: []string{"医疗义诊"}, Posts: []string{},
		OnDuty: &OnDuty{WorkUnit: "区税务局", ReportedAt: "2026-01-05", AnnualTargetHours: 20}}
	for _, tt := range []struct {
		name    string
		in      Member
		present []string
		check   func(m Member) bool
	}{
		{"TeamsKeepHidden", Member{Name: "甲", Phone: old.Phone, UnitID: tr.gridA.ID, TeamIDs: []uuid.UUID{}}, []string{"phone", "teams"},
			func(m Member) bool { return slices.Equal(m.TeamIDs, []uuid.UUID{tr.teamStreet.ID}) }},
		{"OnlyPresent", Member{Name: "乙", Phone: old.Phone, Skills: []string{"邻里互助"}}, []string{"phone", "skills"},
			func(m Member) bool {
				return m.Name == "甲" && m.UnitID == tr.gridA.ID && slices.Equal(m.Skills, []string{"邻里互助"}) && m.PartyMember && m.OnDuty.WorkUnit == "区税务局"
			}},
		{"OnDutyHours", Member{Phone: old.Phone, OnDuty: &OnDuty{AnnualTargetHours: 40}}, []string{"phone", "annual_target_hours"},
			func(m Member) bool {
				return m.OnDuty.AnnualTargetHours == 40 && m.OnDuty.WorkUnit == "区税务局" && old.OnDuty.AnnualTargetHours == 20
			}},
		{"Status", Member{Phone: old.Phone, Status: MemberSuspended}, []string{"phone", "status"},
			func(m Member) bool { return m.Status == MemberSuspended && old.Status == MemberActive }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := ImportState{Scope: Scope{Unit: tr.a.ID}, Items: []ImportItem{{Row: 2, Member: tt.in, Present: tt.present}},
				Members: map[string]Member{old.Phone: old}, Units: tr.units, Teams: tr.teams}
			plan := PlanImport(st, now)
			if len(plan.Writes) != 1 || plan.Result.Updated != 1 {
				t.Fatalf("%+v", plan.Result.Rows)
			}
			if m := plan.Writes[0].Member; !tt.check(m) {
				t.Fatalf("merged %+v", m)
			}
		})
	}
}
