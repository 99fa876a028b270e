package handlers

import (
	"slices"
	"testing"

	"aixin/ledger"

	"github.com/google/uuid"
)

// TestUnitsAndTeamsInNaturalOrder: whatever order they were made in, the
// API lists units as the tree is read with siblings in natural order, and
// teams by their unit's place, then by name in natural order.
func TestUnitsAndTeamsInNaturalOrder(t *testing.T) {
	e := newEnv(t)
	admin := e.session(e.users[ledger.RoleAdmin])
	mk := func(name string, kind ledger.UnitKind, parent uuid.UUID) uuid.UUID {
		t.Helper()
		u, err := e.store.CreateUnit(ctx, name, kind, parent, nil)
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	street := mk("蓉城街道", ledger.UnitStreet, uuid.Nil)
	xihua := mk("西华社区", ledger.UnitCommunity, street)
	donghe := mk("东河社区", ledger.UnitCommunity, street)
	for _, g := range []string{"第十网格", "第二网格", "第一网格", "第九网格"} {
		mk(g, ledger.UnitGrid, donghe)
	}
	for _, g := range []string{"第二网格", "第一网格"} {
		mk(g, ledger.UnitGrid, xihua)
	}
	var first uuid.UUID
	var units unitsPage
	e.get("/api/v1/units", admin).decode(t, &units)
	for _, u := range units.Units {
		if u.Name == "第一网格" && u.ParentID == donghe {
			first = u.ID
		}
	}
	for _, b := range []string{"10号楼", "2号楼", "1号楼"} {
		mk(b, ledger.UnitBuilding, first)
	}
	e.get("/api/v1/units", admin).decode(t, &units)
	var got []string
	for _, u := range units.Units {
		got = append(got, u.Name)
	}
	want := []string{"蓉城街道", "东河社区", "第一网格", "1号楼", "2号楼", "10号楼", "第二网格", "第九网格", "第十网格",
		"西华社区", "第一网格", "第二网格"}
	if !slices.Equal(got, want) {
		t.Fatalf("units\n got  %v\n want %v", got, want)
	}

	for _, tm := range []struct {
		name string
		unit uuid.UUID
	}{{"党员志愿服务队第十分队", donghe}, {"西华志愿队", xihua}, {"党员志愿服务队第二分队", donghe}, {"党员志愿服务队第一分队", donghe}, {"街道志愿队", street}} {
		if _, err := e.store.CreateTeam(ctx, ledger.Team{Name: tm.name, Kind: ledger.TeamVolunteer, UnitID: tm.unit}); err != nil {
			t.Fatal(err)
		}
	}
	var teams teamsPage
	e.get("/api/v1/teams", admin).decode(t, &teams)
	got = got[:0]
	for _, tm := range teams.Teams {
		got = append(got, tm.Name)
	}
	want = []string{"街道志愿队", "党员志愿服务队第一分队", "党员志愿服务队第二分队", "党员志愿服务队第十分队", "西华志愿队"}
	if !slices.Equal(got, want) {
		t.Fatalf("teams\n got  %v\n want %v", got, want)
	}
}
