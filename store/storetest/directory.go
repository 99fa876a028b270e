package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// DirectoryStore is what the directory suite needs of an engine: the
// directory, the accounts its members log in with, and the journal their
// points are kept in.
type DirectoryStore interface {
	ledger.Directory
	ledger.Users
	Balance(ctx context.Context, a ledger.Account) (ledger.Balance, error)
	Head(ctx context.Context) (uint64, ledger.Hash, error)
	Secret(ctx context.Context, name string) ([]byte, error)
}

// OpenDirectory opens a fresh, empty store whose clock is clock.
type OpenDirectory func(t *testing.T, clock func() time.Time) DirectoryStore

// RunDirectory runs the conformance tests of the unit tree, teams,
// members and roster imports (ledger.Directory).
func RunDirectory(t *testing.T, open OpenDirectory) {
	tests := []struct {
		name string
		fn   func(*testing.T, OpenDirectory)
	}{
		{"Units", testUnits},
		{"Teams", testTeams},
		{"Members", testMembers},
		{"PhoneRace", testPhoneRace},
		{"MemberFilters", testMemberFilters},
		{"Import", testImportMembers},
		{"ImportTenThousand", testImportTenThousand},
		{"Secret", testSecret},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

type tree struct {
	street, east, west, grid, westGrid ledger.Unit
}

func newTree(t *testing.T, s DirectoryStore) tree {
	t.Helper()
	var tr tree
	var err error
	tr.street, err = s.CreateUnit(ctx, "蓉城街道", ledger.UnitStreet, uuid.Nil, nil)
	must(t, err)
	tr.east, err = s.CreateUnit(ctx, "东河园社区", ledger.UnitCommunity, tr.street.ID, []string{"文明劝导"})
	must(t, err)
	tr.west, err = s.CreateUnit(ctx, "西华社区", ledger.UnitCommunity, tr.street.ID, nil)
	must(t, err)
	tr.grid, err = s.CreateUnit(ctx, "第一网格", ledger.UnitGrid, tr.east.ID, nil)
	must(t, err)
	tr.westGrid, err = s.CreateUnit(ctx, "第一网格", ledger.UnitGrid, tr.west.ID, nil)
	must(t, err)
	return tr
}

func testUnits(t *testing.T, open OpenDirectory) {
	s := open(t, time.Now)
	tr := newTree(t, s)
	if tr.grid.ParentID != tr.east.ID || len(tr.grid.Path) != 3 || tr.grid.Path[0] != tr.street.ID {
		t.Fatalf("grid %+v", tr.grid)
	}
	_, err := s.CreateUnit(ctx, "x", ledger.UnitCommunity, uuid.New(), nil)
	refused(t, err, ledger.ENOTFOUND, "unit.not_found")
	_, err = s.CreateUnit(ctx, "一楼", ledger.UnitStreet, tr.east.ID, nil)
	if ledger.ErrorCode(err) != ledger.EINVALID {
		t.Fatalf("a street under a community: %v", err)
	}
	u, err := s.UpdateUnit(ctx, tr.east.ID, "东河园社区居委会", []string{"文明劝导", "助老"})
	must(t, err)
	if got, _ := s.Unit(ctx, tr.east.ID); got.Name != "东河园社区居委会" || len(got.Posts) != 2 || got.Name != u.Name {
		t.Fatalf("renamed %+v", got)
	}
	_, err = s.UpdateUnit(ctx, uuid.New(), "x", nil)
	refused(t, err, ledger.ENOTFOUND, "unit.not_found")
	on := true
	if u, err := s.SetPublicNotice(ctx, tr.east.ID, ledger.NoticePatch{On: &on}); err != nil || !u.PublicNotice {
		t.Fatalf("notice %+v %v", u, err)
	}
	units, err := s.Units(ctx)
	must(t, err)
	if len(units) != 5 || units[0].ID != tr.street.ID || units[3].ID != tr.grid.ID || !units[1].PublicNotice {
		t.Fatalf("units %+v: want parents before children, the notice kept", units)
	}
}

func testTeams(t *testing.T, open OpenDirectory) {
	s := open(t, time.Now)
	tr := newTree(t, s)
	team, err := s.CreateTeam(ctx, ledger.Team{Name: "红色先锋队", Kind: ledger.TeamPartyVolunteer, UnitID: tr.east.ID})
	must(t, err)
	_, err = s.CreateTeam(ctx, ledger.Team{Name: "红色先锋队", Kind: ledger.TeamVolunteer, UnitID: tr.east.ID})
	refused(t, err, ledger.ECONFLICT, "team.name_taken")
	_, err = s.CreateTeam(ctx, ledger.Team{Name: "红色先锋队", Kind: ledger.TeamVolunteer, UnitID: tr.west.ID})
	must(t, err) // another unit may use the name
	_, err = s.CreateTeam(ctx, ledger.Team{Name: "x", Kind: ledger.TeamVolunteer, UnitID: uuid.New()})
	refused(t, err, ledger.ENOTFOUND, "unit.not_found")
	if got, err := s.Team(ctx, team.ID); err != nil || got.Name != team.Name {
		t.Fatalf("team %+v %v", got, err)
	}
	_, err = s.Team(ctx, uuid.New())
	refused(t, err, ledger.ENOTFOUND, "team.not_found")
	// Racing creations of one name in one unit: one team.
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := s.CreateTeam(ctx, ledger.Team{Name: "助老服务队", Kind: ledger.TeamVolunteer, UnitID: tr.grid.ID}); err == nil {
				ok.Add(1)
			} else if ledger.ErrorCode(err) != ledger.ECONFLICT {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	teams, err := s.Teams(ctx)
	must(t, err)
	if ok.Load() != 1 || len(teams) != 3 {
		t.Fatalf("%d racing creations of one team name won, %d teams", ok.Load(), len(teams))
	}
}

func testMembers(t *testing.T, open OpenDirectory) {
	s := open(t, time.Now)
	tr := newTree(t, s)
	team, err := s.CreateTeam(ctx, ledger.Team{Name: "东河园志愿队", Kind: ledger.TeamVolunteer, UnitID: tr.east.ID})
	must(t, err)
	west, err := s.CreateTeam(ctx, ledger.Team{Name: "西华志愿队", Kind: ledger.TeamVolunteer, UnitID: tr.west.ID})
	must(t, err)
	m, err := s.CreateMember(ctx, ledger.Member{Name: " 张三 ", Phone: "+86 139-0550-0001", UnitID: tr.grid.ID,
		TeamIDs: []uuid.UUID{team.ID}, Posts: []string{"文明劝导"}}, "pw-hash")
	must(t, err)
	if m.Name != "张三" || m.Phone != "13905500001" || m.Status != ledger.MemberActive {
		t.Fatalf("member %+v", m)
	}
	if b, err := s.Balance(ctx, ledger.MemberAccount(m.ID)); err != nil || b.Points != 0 {
		t.Fatalf("the member's account: %+v %v", b, err)
	}
	login, err := s.UserByLogin(ctx, "13905500001")
	must(t, err)
	if login.MemberID != m.ID || login.Role != ledger.RoleVolunteer || login.PasswordHash != "pw-hash" || login.UnitID != tr.grid.ID {
		t.Fatalf("the member's login %+v", login)
	}
	_, err = s.CreateMember(ctx, ledger.Member{Name: "李四", Phone: "13905500001", UnitID: tr.east.ID}, "x")
	refused(t, err, ledger.ECONFLICT, "member.phone_taken")
	_, err = s.CreateUser(ctx, ledger.User{Login: "13905500002", Role: ledger.RoleClerk, PasswordHash: "x"})
	must(t, err)
	_, err = s.CreateMember(ctx, ledger.Member{Name: "李四", Phone: "13905500002", UnitID: tr.east.ID}, "x")
	refused(t, err, ledger.ECONFLICT, "member.phone_taken") // a staff login
	_, err = s.CreateMember(ctx, ledger.Member{Name: "李四", Phone: "13905500003", UnitID: tr.east.ID, TeamIDs: []uuid.UUID{west.ID}}, "x")
	refused(t, err, ledger.EINVALID, "member.team_elsewhere")
	_, err = s.CreateMember(ctx, ledger.Member{Name: "李四", Phone: "13905500003", UnitID: uuid.New()}, "x")
	refused(t, err, ledger.ENOTFOUND, "unit.not_found")
	_, err = s.CreateMember(ctx, ledger.Member{Name: "李四", Phone: "12345", UnitID: tr.east.ID}, "x")
	refused(t, err, ledger.EINVALID, "member.phone_invalid")

	// A new phone moves the login; leaving disables it.
	m.Phone, m.Status = "13905500009", ledger.MemberLeft
	up, err := s.UpdateMember(ctx, m)
	must(t, err)
	if !up.CreatedAt.Equal(m.CreatedAt) {
		t.Fatalf("update changed the creation time %+v", up)
	}
	if _, err := s.UserByLogin(ctx, "13905500001"); ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Fatalf("the old phone still logs in: %v", err)
	}
	moved, err := s.UserByLogin(ctx, "13905500009")
	must(t, err)
	if moved.ID != login.ID || !moved.Disabled || moved.PasswordHash != "pw-hash" {
		t.Fatalf("moved login %+v", moved)
	}
	// The old phone is free again.
	_, err = s.CreateMember(ctx, ledger.Member{Name: "王五", Phone: "13905500001", UnitID: tr.west.ID}, "x")
	must(t, err)
	m.Phone = "13905500001"
	_, err = s.UpdateMember(ctx, m)
	refused(t, err, ledger.ECONFLICT, "member.phone_taken")
	_, err = s.UpdateMember(ctx, ledger.Member{ID: uuid.New(), Name: "x", Phone: "13905500008", UnitID: tr.east.ID})
	refused(t, err, ledger.ENOTFOUND, "member.not_found")
	if got, err := s.Member(ctx, m.ID); err != nil || got.Phone != "13905500009" || got.Status != ledger.MemberLeft {
		t.Fatalf("member read back %+v %v", got, err)
	}
}

func testPhoneRace(t *testing.T, open OpenDirectory) {
	s := open(t, time.Now)
	tr := newTree(t, s)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			_, err := s.CreateMember(ctx, ledger.Member{Name: fmt.Sprintf("志愿者%d", i), Phone: "13905500077", UnitID: tr.east.ID}, "x")
			switch ledger.ErrorCode(err) {
			case "":
				ok.Add(1)
			case ledger.ECONFLICT:
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	ms, err := s.Members(ctx, ledger.MemberFilter{Scope: ledger.Scope{All: true}, Limit: 100})
	must(t, err)
	if ok.Load() != 1 || len(ms) != 1 {
		t.Fatalf("%d of 16 racing members with one phone were created, %d members", ok.Load(), len(ms))
	}
}

func testMemberFilters(t *testing.T, open OpenDirectory) {
	s := open(t, time.Now)
	tr := newTree(t, s)
	team, err := s.CreateTeam(ctx, ledger.Team{Name: "党员先锋队", Kind: ledger.TeamPartyVolunteer, UnitID: tr.east.ID})
	must(t, err)
	var east, west []ledger.Member
	for i := range 30 {
		unit, teams := tr.grid.ID, []uuid.UUID{team.ID}
		if i%3 == 0 {
			unit, teams = tr.west.ID, nil
		}
		m, err := s.CreateMember(ctx, ledger.Member{Name: fmt.Sprintf("居民%02d", i), Phone: fmt.Sprintf("139055%05d", i),
			UnitID: unit, TeamIDs: teams, PartyMember: i%2 == 0}, "x")
		must(t, err)
		if unit == tr.west.ID {
			west = append(west, m)
		} else {
			east = append(east, m)
		}
	}
	all := ledger.Scope{All: true}
	count := func(f ledger.MemberFilter) int {
		t.Helper()
		f.Limit = 100
		ms, err := s.Members(ctx, f)
		must(t, err)
		return len(ms)
	}
	yes := true
	for name, c := range map[string]struct {
		f    ledger.MemberFilter
		want int
	}{
		"All":         {ledger.MemberFilter{Scope: all}, 30},
		"Unit":        {ledger.MemberFilter{Scope: all, UnitID: tr.east.ID}, len(east)},
		"Scope":       {ledger.MemberFilter{Scope: ledger.Scope{Unit: tr.west.ID}}, len(west)},
		"Team":        {ledger.MemberFilter{Scope: all, TeamID: team.ID}, len(east)},
		"Party":       {ledger.MemberFilter{Scope: all, PartyMember: &yes}, 15},
		"Name":        {ledger.MemberFilter{Scope: all, Query: "居民0"}, 10},
		"PhoneDigits": {ledger.MemberFilter{Scope: all, Query: "00029"}, 1},
	} {
		if got := count(c.f); got != c.want {
			t.Errorf("%s: %d members, want %d", name, got, c.want)
		}
	}
	// Pages of 7 in id order cover everyone once.
	seen := map[uuid.UUID]bool{}
	var after uuid.UUID
	for {
		page, err := s.Members(ctx, ledger.MemberFilter{Scope: all, After: after, Limit: 7})
		must(t, err)
		if len(page) == 0 {
			break
		}
		if len(page) > 7 {
			t.Fatalf("a page of %d", len(page))
		}
		for _, m := range page {
			if seen[m.ID] {
				t.Fatalf("member %s on two pages", m.ID)
			}
			seen[m.ID] = true
		}
		after = page[len(page)-1].ID
	}
	if len(seen) != 30 {
		t.Fatalf("pages covered %d members", len(seen))
	}
}

func testSecret(t *testing.T, open OpenDirectory) {
	s := open(t, time.Now)
	a, err := s.Secret(ctx, "cards")
	must(t, err)
	b, err := s.Secret(ctx, "cards")
	must(t, err)
	c, err := s.Secret(ctx, "checkin")
	must(t, err)
	if len(a) != 32 || string(a) != string(b) || string(a) == string(c) {
		t.Fatalf("secrets %x %x %x", a, b, c)
	}
}

func importItem(row int, name, phone string, unit uuid.UUID) ledger.ImportItem {
	return ledger.ImportItem{Row: row, Member: ledger.Member{Name: name, Phone: phone, UnitID: unit},
		Present: []string{"name", "phone", "unit"}}
}

// testImportMembers: a roster creates, then finds nothing to change; a
// file with bad rows writes nothing, or its good rows when asked to skip
// the bad; nothing of an import reaches the journal.
func testImportMembers(t *testing.T, open OpenDirectory) {
	s := open(t, time.Now)
	tr := newTree(t, s)
	scopeA := ledger.Scope{Unit: tr.east.ID}
	good := []ledger.ImportItem{
		importItem(2, "甲", "13900000001", tr.grid.ID),
		importItem(3, "乙", "13900000002", tr.east.ID),
	}
	res, err := s.ImportMembers(ctx, scopeA, good, false)
	if err != nil || res.Created != 2 || !res.Written || res.Invalid != 0 {
		t.Fatalf("first import: %+v %v", res, err)
	}
	again, err := s.ImportMembers(ctx, scopeA, good, false)
	if err != nil || again.Unchanged != 2 || again.Written || again.Created+again.Updated != 0 {
		t.Fatalf("same file again: %+v %v", again, err)
	}
	if u, err := s.UserByLogin(ctx, "13900000001"); err != nil || u.Role != ledger.RoleVolunteer {
		t.Fatalf("an imported member's login: %+v %v", u, err)
	}
	seq, _, _ := s.Head(ctx)

	// A member of the west community, whose phone the east's file also lists.
	_, err = s.CreateMember(ctx, ledger.Member{Name: "丙", Phone: "13900000003", UnitID: tr.westGrid.ID}, "")
	must(t, err)
	_, err = s.CreateUser(ctx, ledger.User{Login: "13900000006", Role: ledger.RoleClerk, PasswordHash: "x"})
	must(t, err)
	bad := []ledger.ImportItem{
		importItem(2, "甲（改名）", "13900000001", tr.grid.ID),
		importItem(3, "丁", "13900000004", tr.grid.ID),
		importItem(4, "丁二", "139-0000-0004", tr.grid.ID),  // the same phone written otherwise
		importItem(5, "丙", "13900000003", tr.grid.ID),     // the west's member
		importItem(6, "戊", "13900000005", tr.westGrid.ID), // a unit outside the east
		{Row: 7, Field: "phone", Err: ledger.Errorf(ledger.EINVALID, "member.phone_invalid", "123")},
		importItem(8, "己", "13900000006", tr.grid.ID), // a staff login
	}
	res, err = s.ImportMembers(ctx, scopeA, bad, false)
	if err != nil || res.Written || res.Invalid != 5 {
		t.Fatalf("all or nothing: %+v %v", res, err)
	}
	wantRows := map[int]string{2: "updated", 3: "created", 4: "roster.duplicate_phone", 5: "roster.phone_elsewhere",
		6: "unit.not_found", 7: "member.phone_invalid", 8: "member.phone_taken"}
	for _, r := range res.Rows {
		want := wantRows[r.Row]
		if r.Err != nil && r.Err.Key != want || r.Err == nil && r.Status != want {
			t.Errorf("row %d: %s %v, want %s", r.Row, r.Status, r.Err, want)
		}
	}
	if m, _ := s.Members(ctx, ledger.MemberFilter{Scope: scopeA, Query: "丁"}); len(m) != 0 {
		t.Fatal("a rejected import wrote members")
	}
	res, err = s.ImportMembers(ctx, scopeA, bad, true)
	if err != nil || !res.Written || res.Created != 1 || res.Updated != 1 || res.Invalid != 5 {
		t.Fatalf("skipping bad rows: %+v %v", res, err)
	}
	if m, _ := s.Members(ctx, ledger.MemberFilter{Scope: scopeA, Query: "甲"}); len(m) != 1 || m[0].Name != "甲（改名）" {
		t.Fatalf("update by phone: %+v", m)
	}
	if u, _ := s.UserByLogin(ctx, "13900000001"); u.Name != "甲（改名）" {
		t.Fatalf("the login kept the old name: %+v", u)
	}
	if s2, _, _ := s.Head(ctx); s2 != seq {
		t.Fatal("an import wrote to the journal")
	}
}

// testImportTenThousand imports 10,000 members with a team, then the same
// file again (nothing to change).
func testImportTenThousand(t *testing.T, open OpenDirectory) {
	if testing.Short() {
		t.Skip("10,000 members in -short mode")
	}
	s := open(t, time.Now)
	tr := newTree(t, s)
	team, err := s.CreateTeam(ctx, ledger.Team{Name: "党员志愿服务队", Kind: ledger.TeamPartyVolunteer, UnitID: tr.east.ID})
	must(t, err)
	items := make([]ledger.ImportItem, 10_000)
	for i := range items {
		items[i] = importItem(i+2, fmt.Sprintf("志愿者%05d", i), fmt.Sprintf("1370%07d", i), tr.grid.ID)
		items[i].Member.TeamIDs = []uuid.UUID{team.ID}
		items[i].Present = append(items[i].Present, "teams")
	}
	res, err := s.ImportMembers(ctx, ledger.Scope{Unit: tr.east.ID}, items, false)
	if err != nil || res.Created != 10_000 {
		t.Fatalf("%+v %v", res.Created, err)
	}
	again, err := s.ImportMembers(ctx, ledger.Scope{Unit: tr.east.ID}, items, false)
	if err != nil || again.Unchanged != 10_000 {
		t.Fatalf("again: %+v %v", again.Unchanged, err)
	}
	if b, err := s.Balance(ctx, ledger.MemberAccount(mustMember(t, s, "13700009999").ID)); err != nil || b.Points != 0 {
		t.Fatalf("the last member's account: %+v %v", b, err)
	}
}

func mustMember(t *testing.T, s DirectoryStore, phone string) ledger.Member {
	t.Helper()
	u, err := s.UserByLogin(ctx, phone)
	must(t, err)
	m, err := s.Member(ctx, u.MemberID)
	must(t, err)
	return m
}
