package report

import (
	"cmp"
	"context"
	"math"
	"slices"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// The organiser's dashboard figures: for a scope and a month, points earned
// against redeemed over twelve months, hours by service category, the most
// active teams and the items running low. The HTTP layer keeps them in
// memory and draws the charts.

// LowStock is how few items available count as running low.
const LowStock = 5

// CategoryHours are a service category's minutes in a month, at how many events.
type CategoryHours struct {
	Category string `json:"category"`
	Minutes  int64  `json:"minutes"`
	Events   int    `json:"events"`
}

// TeamFigures are a team's month: its members, how many were active,
// their minutes and points earned.
type TeamFigures struct {
	Name    string        `json:"name"`
	Unit    string        `json:"unit"`
	Members int           `json:"members"`
	Active  int           `json:"active"`
	Minutes int64         `json:"minutes"`
	Earned  ledger.Points `json:"earned"`
}

// LowItem is an item of a shop that is running low.
type LowItem struct {
	Shop      string    `json:"shop"`
	ShopID    uuid.UUID `json:"shop_id"`
	Item      string    `json:"item"`
	Available int       `json:"available"`
	OnHand    int       `json:"on_hand"`
}

// Dashboard is the organiser's dashboard for a scope and a month.
type Dashboard struct {
	Month   string            `json:"month"`
	Months  []ledger.MonthSum `json:"months"` // the twelve months up to Month
	People  int               `json:"people"`
	Active  int               `json:"active"`
	Minutes int64             `json:"minutes"`
	// LateMinutes of Minutes were served in an earlier month (补录), by LateServices attendances.
	LateMinutes  int64           `json:"late_minutes"`
	LateServices int             `json:"late_services"`
	Earned       ledger.Points   `json:"earned"`
	Redeemed     ledger.Points   `json:"redeemed"`
	Categories   []CategoryHours `json:"categories"`
	Teams        []TeamFigures   `json:"teams"`
	LowStock     []LowItem       `json:"low_stock"`

	// Wishes are the month's wishes (微心愿) of the scope: open on the wall
	// and in hand now, confirmed in the month, and the month's fulfilment
	// rate (see ledger.WishFigures).
	Wishes *ledger.WishFigures `json:"wishes,omitempty"`
}

// DashboardDeps are the stores the dashboard reads.
type DashboardDeps struct {
	Directory  ledger.Directory
	Households ledger.Households
	Reports    ledger.Reports
	Events     ledger.Events
	Shops      ledger.Shops
	Wishes     ledger.Wishes
}

// ComputeDashboard computes the Dashboard of scope for month: the twelve
// months up to it, and with full the teams, categories, late service, items
// running low and wishes (counted in loc's days).
func ComputeDashboard(ctx context.Context, st DashboardDeps, scope ledger.Scope, month ledger.Month, full bool, loc *time.Location) (Dashboard, error) {
	d := Dashboard{Month: month.String(), Categories: []CategoryHours{}, Teams: []TeamFigures{}, LowStock: []LowItem{}}
	units, err := UnitsByID(ctx, st.Directory)
	if err != nil {
		return d, err
	}
	members, err := st.Directory.Members(ctx, ledger.MemberFilter{Scope: scope, Limit: math.MaxInt32})
	if err != nil {
		return d, err
	}
	// The volunteers' accounts and their households' (一家亲): the
	// households' awards and redemptions count as the members' do.
	var accounts []ledger.Account
	if !scope.All {
		households, err := st.Households.Households(ctx, scope)
		if err != nil {
			return d, err
		}
		accounts = make([]ledger.Account, 0, len(members)+len(households))
		for _, m := range members {
			accounts = append(accounts, ledger.MemberAccount(m.ID))
		}
		for _, h := range households {
			accounts = append(accounts, h.Account())
		}
	}
	if d.Months, err = st.Reports.MonthSums(ctx, month.AddMonths(-11), month, accounts); err != nil {
		return d, err
	}
	last := d.Months[len(d.Months)-1]
	d.Earned, d.Redeemed, d.Minutes, d.People = last.Earned, last.Redeemed, last.Minutes, len(members)
	if !full {
		return d, nil
	}

	// Teams, and the month's active volunteers, from the monthly report.
	var ids []uuid.UUID // nil: every member
	if !scope.All {
		ids = make([]uuid.UUID, 0, len(members))
		for _, m := range members {
			ids = append(ids, m.ID)
		}
	}
	rep, err := st.Reports.MonthReport(ctx, month, ids, []uuid.UUID{})
	if err != nil {
		return d, err
	}
	byMember := make(map[uuid.UUID]ledger.MemberMonth, len(rep.Members))
	for _, mm := range rep.Members {
		byMember[mm.MemberID] = mm
	}
	teams, err := st.Directory.Teams(ctx)
	if err != nil {
		return d, err
	}
	byTeam := map[uuid.UUID]*TeamFigures{}
	for _, tm := range teams {
		if u, ok := units[tm.UnitID]; ok && scope.Covers(u) {
			byTeam[tm.ID] = &TeamFigures{Name: tm.Name, Unit: u.Name}
		}
	}
	for _, m := range members {
		mm := byMember[m.ID]
		if mm.Active() {
			d.Active++
		}
		for _, id := range m.TeamIDs {
			if t := byTeam[id]; t != nil {
				t.Members++
				t.Minutes += mm.Minutes
				t.Earned += mm.Earned + mm.Adjusted // as the headline counts: corrections included
				if mm.Active() {
					t.Active++
				}
			}
		}
	}
	for _, t := range byTeam {
		if t.Minutes > 0 || t.Earned > 0 {
			d.Teams = append(d.Teams, *t)
		}
	}
	slices.SortFunc(d.Teams, func(a, b TeamFigures) int {
		return cmp.Or(cmp.Compare(b.Minutes, a.Minutes), cmp.Compare(b.Earned, a.Earned), cmp.Compare(a.Name, b.Name))
	})
	d.Teams = d.Teams[:min(len(d.Teams), 5)]

	if d.Categories, err = monthCategories(ctx, st, scope, units, month); err != nil {
		return d, err
	}
	var inScope map[uuid.UUID]bool
	if !scope.All {
		inScope = make(map[uuid.UUID]bool, len(members))
		for _, m := range members {
			inScope[m.ID] = true
		}
	}
	if d.LateMinutes, d.LateServices, err = lateMinutes(ctx, st, month, inScope); err != nil {
		return d, err
	}

	// Items running low in the shops of the subtree.
	shops, err := st.Shops.Shops(ctx)
	if err != nil {
		return d, err
	}
	for _, sh := range shops {
		if u, ok := units[sh.UnitID]; !ok || !scope.Covers(u) {
			continue
		}
		items, err := st.Shops.Items(ctx, sh.ID)
		if err != nil {
			return d, err
		}
		for _, it := range items {
			if it.Active && it.Available() <= LowStock {
				d.LowStock = append(d.LowStock, LowItem{Shop: sh.Name, ShopID: sh.ID, Item: it.Name, Available: it.Available(), OnHand: it.OnHand})
			}
		}
	}
	slices.SortFunc(d.LowStock, func(a, b LowItem) int {
		return cmp.Or(cmp.Compare(a.Available, b.Available), cmp.Compare(a.Item, b.Item))
	})

	// Wishes (微心愿).
	wishes, err := st.Wishes.ListWishes(ctx, ledger.WishFilter{Scope: scope})
	if err != nil {
		return d, err
	}
	wf := ledger.CountWishes(wishes, month, loc)
	d.Wishes = &wf
	return d, nil
}

// monthCategories is the month's hours by service category: the minutes the
// month's entries credited (the month they were posted in, as every report
// counts) at the events in scope, after review and the daily cap, most
// hours first.
func monthCategories(ctx context.Context, st DashboardDeps, scope ledger.Scope, units map[uuid.UUID]ledger.Unit, month ledger.Month) ([]CategoryHours, error) {
	byEvent, err := st.Reports.EventMinutes(ctx, month)
	if err != nil {
		return nil, err
	}
	byCat := map[string]*CategoryHours{}
	for id, n := range byEvent {
		e, err := st.Events.Event(ctx, id)
		if err != nil {
			return nil, err
		}
		if u, ok := units[e.UnitID]; !ok || !scope.Covers(u) {
			continue
		}
		cat := byCat[e.Category]
		if cat == nil {
			cat = &CategoryHours{Category: e.Category}
			byCat[e.Category] = cat
		}
		cat.Events++
		cat.Minutes += n
	}
	out := []CategoryHours{}
	for _, cat := range byCat {
		out = append(out, *cat)
	}
	slices.SortFunc(out, func(a, b CategoryHours) int {
		return cmp.Or(cmp.Compare(b.Minutes, a.Minutes), cmp.Compare(a.Category, b.Category))
	})
	return out, nil
}

// lateMinutes is how much of the month's service minutes of the members was
// served in an earlier month (补录), and by how many attendances.
func lateMinutes(ctx context.Context, st DashboardDeps, month ledger.Month, members map[uuid.UUID]bool) (int64, int, error) {
	late, err := st.Reports.LateService(ctx, month)
	if err != nil {
		return 0, 0, err
	}
	var minutes int64
	n := 0
	for _, l := range late {
		if members == nil || members[l.MemberID] {
			minutes += l.Minutes
			n++
		}
	}
	return minutes, n, nil
}

// UnitsByID reads every unit, by id.
func UnitsByID(ctx context.Context, dir ledger.Directory) (map[uuid.UUID]ledger.Unit, error) {
	all, err := dir.Units(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[uuid.UUID]ledger.Unit, len(all))
	for _, u := range all {
		m[u.ID] = u
	}
	return m, nil
}
