package handlers

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"aixin/ledger"
	"aixin/natural"

	"github.com/google/uuid"
)

// The households' part of the public points notice (积分公示): the month's
// household totals, and what households were awarded and redeemed by
// building and entrance — the place only, masked to the grid, building and
// 单元 (第一网格 3单元): never a door number, never a name.

// noticeHouseholds are a community's households in the notice.
type noticeHouseholds struct {
	Count    int // households in the community
	Awarded  ledger.Points
	Redeemed ledger.Points
	Rows     []noticeHouseholdRow
}

// noticeHouseholdRow is one place's households that moved in the month.
type noticeHouseholdRow struct {
	Place      string
	Households int
	Awarded    ledger.Points // awards and their corrections, less deductions
	Redeemed   ledger.Points
}

// householdNotice reads month of the households of community unit.
func (s *server) householdNotice(ctx context.Context, unit ledger.Unit, month ledger.Month) (noticeHouseholds, error) {
	var out noticeHouseholds
	hms, err := s.cfg.Reports.HouseholdMonths(ctx, month, ledger.Scope{Unit: unit.ID})
	if err != nil || len(hms) == 0 {
		return out, err
	}
	units, err := s.unitsMap(ctx)
	if err != nil {
		return out, err
	}
	all := make([]ledger.Unit, 0, len(units))
	for _, u := range units {
		all = append(all, u)
	}
	order := map[uuid.UUID]int{}
	for i, u := range natural.UnitTree(all) {
		order[u.ID] = i
	}
	type key struct {
		unit  uuid.UUID
		place string
	}
	rows := map[key]*noticeHouseholdRow{}
	for _, hm := range hms {
		p := hm.Points
		awarded := p.Gained()
		out.Count++
		out.Awarded += awarded
		out.Redeemed += p.Redeemed
		if awarded == 0 && p.Redeemed == 0 {
			continue
		}
		// The grid and building the household lives in, and its building or
		// entrance from the address: no door.
		var parts []string
		for _, id := range units[hm.Household.UnitID].Path {
			if u, ok := units[id]; ok && (u.Kind == ledger.UnitGrid || u.Kind == ledger.UnitBuilding) {
				parts = append(parts, u.Name)
			}
		}
		if m := ledger.MaskHouseholdAddress(hm.Household.Address); m != "" {
			parts = append(parts, m)
		}
		k := key{hm.Household.UnitID, strings.Join(parts, " ")}
		r := rows[k]
		if r == nil {
			r = &noticeHouseholdRow{Place: k.place}
			rows[k] = r
		}
		r.Households++
		r.Awarded += awarded
		r.Redeemed += p.Redeemed
	}
	keys := make([]key, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(order[a.unit], order[b.unit]), natural.Compare(a.place, b.place))
	})
	for _, k := range keys {
		out.Rows = append(out.Rows, *rows[k])
	}
	return out, nil
}
