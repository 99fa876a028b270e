package natural

import (
	"bytes"
	"cmp"
	"slices"

	"aixin/ledger"

	"github.com/google/uuid"
)

// The order in which units and teams are listed everywhere (the API, the
// pages' lists and selects, the exports): as the tree is read, each unit
// followed by its subtree, and siblings in natural order, so that 第二网格
// comes after 第一网格, 第十网格 after 第九网格 and 2号楼 before 10号楼.

// UnitTree returns units in tree order. A unit whose parent is not among
// them (the top of an organiser's subtree) starts a tree of its own; the
// trees follow each other in natural order too.
func UnitTree(units []ledger.Unit) []ledger.Unit {
	s := New()
	keys := make(map[uuid.UUID][]byte, len(units))
	present := make(map[uuid.UUID]bool, len(units))
	for _, u := range units {
		keys[u.ID] = s.Key(u.Name)
		present[u.ID] = true
	}
	children := map[uuid.UUID][]ledger.Unit{}
	var roots []ledger.Unit
	for _, u := range units {
		if u.ParentID != uuid.Nil && present[u.ParentID] {
			children[u.ParentID] = append(children[u.ParentID], u)
		} else {
			roots = append(roots, u)
		}
	}
	byName := func(a, b ledger.Unit) int {
		return cmp.Or(bytes.Compare(keys[a.ID], keys[b.ID]), bytes.Compare(a.ID[:], b.ID[:]))
	}
	out := make([]ledger.Unit, 0, len(units))
	var walk func(list []ledger.Unit)
	walk = func(list []ledger.Unit) {
		slices.SortFunc(list, byName)
		for _, u := range list {
			out = append(out, u)
			walk(children[u.ID])
		}
	}
	walk(roots)
	return out
}

// SortTeams orders teams by their unit's place in tree (units in tree
// order), then by name in natural order (第二分队 after 第一分队).
func SortTeams(teams []ledger.Team, tree []ledger.Unit) {
	place := make(map[uuid.UUID]int, len(tree))
	for i, u := range tree {
		place[u.ID] = i
	}
	s := New()
	keys := make(map[uuid.UUID][]byte, len(teams))
	for _, t := range teams {
		keys[t.ID] = s.Key(t.Name)
	}
	slices.SortFunc(teams, func(a, b ledger.Team) int {
		return cmp.Or(cmp.Compare(place[a.UnitID], place[b.UnitID]), bytes.Compare(keys[a.ID], keys[b.ID]), bytes.Compare(a.ID[:], b.ID[:]))
	})
}

// SortHouseholds orders households as the unit tree is read, then by
// address in natural order (2单元 before 10单元), then by id.
func SortHouseholds(hs []ledger.Household, units map[uuid.UUID]ledger.Unit) {
	all := make([]ledger.Unit, 0, len(units))
	for _, u := range units {
		all = append(all, u)
	}
	place := map[uuid.UUID]int{}
	for i, u := range UnitTree(all) {
		place[u.ID] = i
	}
	slices.SortStableFunc(hs, func(a, b ledger.Household) int {
		return cmp.Or(cmp.Compare(place[a.UnitID], place[b.UnitID]), Compare(a.Address, b.Address),
			slices.Compare(a.ID[:], b.ID[:]))
	})
}
