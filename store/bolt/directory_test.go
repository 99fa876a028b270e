package bolt

import (
	"fmt"
	"testing"

	"aixin/ledger"

	"github.com/google/uuid"
)

// tree makes a street with two communities, each with a grid, and a team in community A.
type tree struct {
	street, a, b, gridA, gridB ledger.Unit
	teamA                      ledger.Team
}

func makeTree(t testing.TB, s *Store) tree {
	t.Helper()
	var tr tree
	var err error
	must := func(u ledger.Unit, err error) ledger.Unit {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	tr.street = must(s.CreateUnit(ctx, "幸福街道", ledger.UnitStreet, uuid.Nil, nil))
	tr.a = must(s.CreateUnit(ctx, "东河园社区", ledger.UnitCommunity, tr.street.ID, []string{"政策宣讲岗", "助老岗"}))
	tr.b = must(s.CreateUnit(ctx, "西湖社区", ledger.UnitCommunity, tr.street.ID, nil))
	tr.gridA = must(s.CreateUnit(ctx, "第一网格", ledger.UnitGrid, tr.a.ID, nil))
	tr.gridB = must(s.CreateUnit(ctx, "第一网格", ledger.UnitGrid, tr.b.ID, nil))
	if tr.teamA, err = s.CreateTeam(ctx, ledger.Team{Name: "党员志愿服务队", Kind: ledger.TeamPartyVolunteer, UnitID: tr.a.ID}); err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestUnitsTree(t *testing.T) {
	s := openTest(t, Options{})
	tr := makeTree(t, s)
	if got := tr.gridA.Path; len(got) != 3 || got[0] != tr.street.ID || got[2] != tr.gridA.ID {
		t.Fatalf("path %v", got)
	}
	for name, tc := range map[string]struct {
		kind   ledger.UnitKind
		parent uuid.UUID
		key    string
	}{
		"GridUnderStreet":   {ledger.UnitGrid, tr.street.ID, "unit.parent_kind"},
		"StreetUnderStreet": {ledger.UnitStreet, tr.street.ID, "unit.parent_kind"},
		"CommunityAlone":    {ledger.UnitCommunity, uuid.Nil, "unit.parent_required"},
		"UnknownKind":       {"district", tr.street.ID, "unit.kind_invalid"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.CreateUnit(ctx, "x", tc.kind, tc.parent, nil)
			wantCode(t, err, ledger.EINVALID, tc.key)
		})
	}
	_, err := s.CreateUnit(ctx, "x", ledger.UnitGrid, uuid.New(), nil)
	wantCode(t, err, ledger.ENOTFOUND, "unit.not_found")
	_, err = s.CreateUnit(ctx, "=HYPERLINK(\"x\")", ledger.UnitGrid, tr.a.ID, nil)
	wantCode(t, err, ledger.EINVALID, "text.formula")
	u, err := s.UpdateUnit(ctx, tr.a.ID, "东河园社区（新）", nil)
	if err != nil || u.Name != "东河园社区（新）" || len(u.Posts) != 2 {
		t.Fatalf("rename: %+v %v", u, err)
	}
	units, _ := s.Units(ctx)
	seen := map[uuid.UUID]bool{}
	for _, u := range units {
		if u.ParentID != uuid.Nil && !seen[u.ParentID] {
			t.Fatalf("%s comes before its parent", u.Name)
		}
		seen[u.ID] = true
	}
	_, err = s.CreateTeam(ctx, ledger.Team{Name: "党员志愿服务队", Kind: ledger.TeamPartyVolunteer, UnitID: tr.a.ID})
	wantCode(t, err, ledger.ECONFLICT, "team.name_taken")
}

func TestMembers(t *testing.T) {
	s := openTest(t, Options{})
	tr := makeTree(t, s)
	m, err := s.CreateMember(ctx, ledger.Member{Name: " 李华 ", Phone: "+86 138-0013-8000", UnitID: tr.gridA.ID, TeamIDs: []uuid.UUID{tr.teamA.ID},
		PartyMember: true, Skills: []string{"政策宣讲"}, OnDuty: &ledger.OnDuty{WorkUnit: "区税务局", ReportedAt: "2026-03-05", AnnualTargetHours: 50},
		Posts: []string{"助老岗"}}, "hash")
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "李华" || m.Phone != "13800138000" || m.Status != ledger.MemberActive {
		t.Fatalf("member %+v", m)
	}
	u, err := s.UserByLogin(ctx, "13800138000")
	if err != nil || u.Role != ledger.RoleVolunteer || u.MemberID != m.ID || u.PasswordHash != "hash" {
		t.Fatalf("volunteer login %+v %v", u, err)
	}
	if b, err := s.Balance(ctx, ledger.MemberAccount(m.ID)); err != nil || b.Points != 0 {
		t.Fatalf("points account: %+v %v", b, err)
	}
	tests := []struct {
		name string
		m    ledger.Member
		code string
		key  string
	}{
		{"PhoneTaken", ledger.Member{Name: "王", Phone: "13800138000", UnitID: tr.gridB.ID}, ledger.ECONFLICT, "member.phone_taken"},
		{"BadPhone", ledger.Member{Name: "王", Phone: "12345", UnitID: tr.gridB.ID}, ledger.EINVALID, "member.phone_invalid"},
		{"Landline", ledger.Member{Name: "王", Phone: "02812345678", UnitID: tr.gridB.ID}, ledger.EINVALID, "member.phone_invalid"},
		{"NoName", ledger.Member{Name: "  ", Phone: "13900000001", UnitID: tr.gridB.ID}, ledger.EINVALID, "member.name_invalid"},
		{"FormulaName", ledger.Member{Name: "=cmd|' /C calc'!A0", Phone: "13900000001", UnitID: tr.gridB.ID}, ledger.EINVALID, "text.formula"},
		{"TeamOfOtherCommunity", ledger.Member{Name: "王", Phone: "13900000001", UnitID: tr.gridB.ID, TeamIDs: []uuid.UUID{tr.teamA.ID}}, ledger.EINVALID, "member.team_elsewhere"},
		{"PostNotOffered", ledger.Member{Name: "王", Phone: "13900000001", UnitID: tr.gridB.ID, Posts: []string{"助老岗"}}, ledger.EINVALID, "member.post_unknown"},
		{"UnknownSkill", ledger.Member{Name: "王", Phone: "13900000001", UnitID: tr.gridB.ID, Skills: []string{"唱歌"}}, ledger.EINVALID, "member.skill_invalid"},
		{"UnknownUnit", ledger.Member{Name: "王", Phone: "13900000001", UnitID: uuid.New()}, ledger.ENOTFOUND, "unit.not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.CreateMember(ctx, tt.m, "")
			wantCode(t, err, tt.code, tt.key)
		})
	}
	if n, _ := s.Members(ctx, ledger.MemberFilter{Scope: ledger.Scope{All: true}}); len(n) != 1 {
		t.Fatalf("refused members were written: %d", len(n))
	}
	// A new phone moves the login with it; leaving disables it.
	m.Phone, m.Status = "13900000009", ledger.MemberLeft
	if _, err := s.UpdateMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByLogin(ctx, "13800138000"); ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Fatalf("old phone still logs in: %v", err)
	}
	if u, _ := s.UserByLogin(ctx, "13900000009"); !u.Disabled || u.MemberID != m.ID {
		t.Fatalf("login after update: %+v", u)
	}
}

func TestMemberFilter(t *testing.T) {
	s := openTest(t, Options{})
	tr := makeTree(t, s)
	for i := range 30 {
		unit := tr.gridA.ID
		if i%3 == 0 {
			unit = tr.gridB.ID
		}
		m := ledger.Member{Name: fmt.Sprintf("志愿者%02d", i), Phone: fmt.Sprintf("139000000%02d", i), UnitID: unit, PartyMember: i%2 == 0}
		if i%5 == 0 {
			m.OnDuty = &ledger.OnDuty{WorkUnit: "区医院"}
		}
		if _, err := s.CreateMember(ctx, m, ""); err != nil {
			t.Fatal(err)
		}
	}
	yes, no := true, false
	count := func(f ledger.MemberFilter) int {
		f.Limit = 1000
		ms, err := s.Members(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(ms)
	}
	all := ledger.Scope{All: true}
	for name, tc := range map[string]struct {
		f    ledger.MemberFilter
		want int
	}{
		"All":            {ledger.MemberFilter{Scope: all}, 30},
		"CommunityA":     {ledger.MemberFilter{Scope: ledger.Scope{Unit: tr.a.ID}}, 20},
		"CommunityB":     {ledger.MemberFilter{Scope: ledger.Scope{Unit: tr.b.ID}}, 10},
		"NoScope":        {ledger.MemberFilter{}, 0},
		"PartyMembers":   {ledger.MemberFilter{Scope: all, PartyMember: &yes}, 15},
		"OnDuty":         {ledger.MemberFilter{Scope: all, OnDuty: &yes}, 6},
		"NotOnDuty":      {ledger.MemberFilter{Scope: all, OnDuty: &no}, 24},
		"ByName":         {ledger.MemberFilter{Scope: all, Query: "志愿者1"}, 10},
		"ByPhoneTail":    {ledger.MemberFilter{Scope: all, Query: "0007"}, 1},
		"UnitInScopeA":   {ledger.MemberFilter{Scope: ledger.Scope{Unit: tr.a.ID}, UnitID: tr.gridA.ID}, 20},
		"UnitOutOfScope": {ledger.MemberFilter{Scope: ledger.Scope{Unit: tr.a.ID}, UnitID: tr.gridB.ID}, 0},
	} {
		t.Run(name, func(t *testing.T) {
			if got := count(tc.f); got != tc.want {
				t.Fatalf("%d members, want %d", got, tc.want)
			}
		})
	}
	// Paging visits every member once.
	seen := map[uuid.UUID]bool{}
	f := ledger.MemberFilter{Scope: all, Limit: 7}
	for {
		page, _ := s.Members(ctx, f)
		for _, m := range page {
			if seen[m.ID] {
				t.Fatalf("%s twice", m.Name)
			}
			seen[m.ID] = true
		}
		if len(page) < f.Limit {
			break
		}
		f.After = page[len(page)-1].ID
	}
	if len(seen) != 30 {
		t.Fatalf("paging saw %d members", len(seen))
	}
}
