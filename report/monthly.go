// Package report builds the month's reports of the ledger for a scope (the
// monthly export by member, team, unit, shop, late service and household,
// with its checks) and writes sheets as CSV or .xlsx. The HTTP exports and
// the command line's "aixin export monthly" both call it.
package report

import (
	"bytes"
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"aixin/i18n"
	"aixin/ledger"
	"aixin/natural"

	"github.com/google/uuid"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// The monthly export: points and hours per member, team, unit and shop for
// one month, counted in the deployment's time zone, for the caller's
// subtree, read from the ledger's monthly rows (never the journal).

// Options says what a monthly export covers and who asks.
type Options struct {
	Month     ledger.Month
	Scope     ledger.Scope
	Lang      string
	FullPhone bool   // full phone numbers (administrators only, logged)
	By        string // the view that opens first: member, team, unit or shop
	Who       string // who exported, printed on the summary
	Now       time.Time
	Location  *time.Location
}

// Views are the views, in the workbook's order after the summary:
// late lists the month's service that was served in an earlier month (补录).
var Views = []string{"member", "team", "unit", "shop", "late", HouseholdView}

// Monthly is a built export: its sheets by view, and its summary.
type Monthly struct {
	cat *i18n.Catalogue
	// Options are what the export covers, as asked.
	Options Options
	// Sheets are the views by name (Views), Summary the first sheet of a
	// workbook with the month's totals and its checks in Notes.
	Sheets  map[string]Sheet
	Summary Sheet
	// Reconciles says every check held.
	Reconciles bool
	// Total is the month of every member in scope together; People are the
	// members in scope and Active those who moved in the month.
	Total  ledger.MemberMonth
	People int
	Active int
}

// Deps are the stores an export reads.
type Deps struct {
	Directory ledger.Directory
	Shops     ledger.Shops
	Reports   ledger.Reports
	Catalogue *i18n.Catalogue
}

// ExportMonthly builds a monthly export and writes it as csv or xlsx; it
// returns the file name. The command line's "aixin export monthly" uses it;
// the HTTP export builds with Build, to preview a view or log the checks.
func ExportMonthly(ctx context.Context, d ledger.Directory, sh ledger.Shops, rp ledger.Reports, opts Options, format string, w *bytes.Buffer) (string, error) {
	cat, err := i18n.Embedded()
	if err != nil {
		return "", err
	}
	if !slices.Contains(Views, opts.By) {
		return "", ledger.Errorf(ledger.EINVALID, "export.by_invalid", opts.By)
	}
	ex, err := Build(ctx, Deps{Directory: d, Shops: sh, Reports: rp, Catalogue: cat}, opts)
	if err != nil {
		return "", err
	}
	name, _, err := ex.Write(w, format)
	return name, err
}

// FileName is the export's file name and content type in its language.
func (ex Monthly) FileName(format string) (name, ctype string, err error) {
	y, mo := int(ex.Options.Month)/100, int(ex.Options.Month)%100
	switch format {
	case "csv":
		return ex.T("export.file_csv", y, mo, ex.T("export.view."+ex.Options.By)), "text/csv; charset=utf-8", nil
	case "xlsx":
		return ex.T("export.file_xlsx", y, mo), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", nil
	}
	return "", "", ledger.Errorf(ledger.EINVALID, "export.format_invalid", format)
}

// Write writes the export: one view as CSV, or the workbook.
func (ex Monthly) Write(w *bytes.Buffer, format string) (name, ctype string, err error) {
	if name, ctype, err = ex.FileName(format); err != nil {
		return
	}
	switch format {
	case "csv":
		return name, ctype, WriteCSV(w, ex.Sheets[ex.Options.By])
	default:
		sheets := []Sheet{ex.Summary}
		active := 0
		for i, v := range Views {
			sheets = append(sheets, ex.Sheets[v])
			if v == ex.Options.By {
				active = i + 1
			}
		}
		return name, ctype, WriteXLSX(w, active, sheets...)
	}
}

// T is a message in the export's language.
func (ex Monthly) T(key string, args ...any) string {
	return ex.cat.T(ex.Options.Lang, key, args...)
}

// memberLine is a member with the month's figures.
type memberLine struct {
	m       ledger.Member
	month   ledger.MemberMonth
	unit    string
	place   int    // the unit's place in the tree
	nameKey []byte // pinyin sort key
}

func Build(ctx context.Context, d Deps, opts Options) (Monthly, error) {
	ex := Monthly{Options: opts, Sheets: map[string]Sheet{}}
	ex.cat = d.Catalogue
	t := ex.T
	units, err := d.Directory.Units(ctx)
	if err != nil {
		return ex, err
	}
	unitByID := map[uuid.UUID]ledger.Unit{}
	var inScope []ledger.Unit
	for _, u := range units {
		unitByID[u.ID] = u
		if opts.Scope.Covers(u) {
			inScope = append(inScope, u)
		}
	}
	label := func(u ledger.Unit) string {
		var parts []string
		for _, id := range u.Path {
			if p, ok := unitByID[id]; ok && opts.Scope.Covers(p) {
				parts = append(parts, p.Name)
			}
		}
		return strings.Join(parts, " / ")
	}
	members, err := d.Directory.Members(ctx, ledger.MemberFilter{Scope: opts.Scope, Limit: math.MaxInt32})
	if err != nil {
		return ex, err
	}
	teams, err := d.Directory.Teams(ctx)
	if err != nil {
		return ex, err
	}
	teamByID := map[uuid.UUID]ledger.Team{}
	for _, tm := range teams {
		teamByID[tm.ID] = tm
	}
	allShops, err := d.Shops.Shops(ctx)
	if err != nil {
		return ex, err
	}
	var shops []ledger.Shop
	var shopIDs []uuid.UUID
	for _, sh := range allShops {
		if u, ok := unitByID[sh.UnitID]; ok && opts.Scope.Covers(u) {
			shops = append(shops, sh)
			shopIDs = append(shopIDs, sh.ID)
		}
	}
	ids := make([]uuid.UUID, len(members))
	for i, m := range members {
		ids[i] = m.ID
	}
	if opts.Scope.All {
		ids = nil // every member account, so that the cross-checks apply
	}
	if shopIDs == nil {
		shopIDs = []uuid.UUID{}
	}
	rep, err := d.Reports.MonthReport(ctx, opts.Month, ids, shopIDs)
	if err != nil {
		return ex, err
	}
	byMember := make(map[uuid.UUID]ledger.MemberMonth, len(rep.Members))
	for _, mm := range rep.Members {
		byMember[mm.MemberID] = mm
	}
	lines := make([]memberLine, 0, len(members))
	for _, m := range members {
		mm := byMember[m.ID]
		mm.MemberID = m.ID
		lines = append(lines, memberLine{m: m, month: mm, unit: label(unitByID[m.UnitID])})
	}
	// By unit as the tree is read (第二网格 after 第一网格), then by name in
	// the order a Chinese spreadsheet sorts (pinyin), comparing sort keys
	// made once per line.
	tree := natural.UnitTree(units)
	place := make(map[uuid.UUID]int, len(tree))
	for i, u := range tree {
		place[u.ID] = i
	}
	col := collate.New(language.Chinese)
	var keys collate.Buffer
	for i := range lines {
		lines[i].place = place[lines[i].m.UnitID]
		lines[i].nameKey = col.KeyFromString(&keys, lines[i].m.Name)
	}
	slices.SortStableFunc(lines, func(a, b memberLine) int {
		return cmp.Or(cmp.Compare(a.place, b.place), bytes.Compare(a.nameKey, b.nameKey))
	})

	figures := []string{t("export.col.hours"), t("export.col.opening"), t("export.col.earned"), t("export.col.adjusted"),
		t("export.col.redeemed"), t("export.col.expired"), t("export.col.closing"), t("export.col.held"), t("export.col.released")}
	figureCells := func(mm ledger.MemberMonth) []Cell {
		return []Cell{HoursCell(mm.Minutes), PointsCell(mm.Opening), PointsCell(mm.Earned), PointsCell(mm.Adjusted), PointsCell(mm.Redeemed),
			PointsCell(mm.Expired), PointsCell(mm.Closing), PointsCell(mm.HeldClosing), PointsCell(mm.Released)}
	}
	figureWidths := []float64{10, 10, 10, 10, 10, 10, 10, 11, 11}
	yes := func(b bool) string {
		if b {
			return t("export.yes")
		}
		return ""
	}

	// By member, with earned points split by where they came from (hours,
	// wishes, behaviour awards) and the behaviour deductions beside them.
	memberFigures := slices.Concat(figures[:3], []string{t("export.col.service"), t("export.col.wishes"), t("export.col.behaviour"),
		t("export.col.deducted")}, figures[3:])
	memberFigureCells := func(mm ledger.MemberMonth) []Cell {
		c := figureCells(mm)
		return slices.Concat(c[:3], []Cell{PointsCell(mm.Service), PointsCell(mm.Wishes), PointsCell(mm.Behaviour), PointsCell(mm.Deducted)}, c[3:])
	}
	memberWidths := slices.Concat(figureWidths[:3], []float64{10, 10, 11, 8}, figureWidths[3:])
	var total ledger.MemberMonth
	active := 0
	memberSheet := Sheet{Name: t("export.view.member"), Header: append([]string{t("export.col.name"), t("export.col.phone"),
		t("export.col.unit"), t("export.col.teams"), t("export.col.party"), t("export.col.on_duty")}, memberFigures...),
		Widths: append([]float64{10, 14, 24, 24, 6, 18}, memberWidths...)}
	for _, l := range lines {
		phone := ledger.MaskPhone(l.m.Phone)
		if opts.FullPhone {
			phone = l.m.Phone
		}
		var teamNames []string
		for _, id := range l.m.TeamIDs {
			if tm, ok := teamByID[id]; ok {
				teamNames = append(teamNames, tm.Name)
			}
		}
		work := ""
		if l.m.OnDuty != nil {
			work = l.m.OnDuty.WorkUnit
		}
		memberSheet.Rows = append(memberSheet.Rows, append([]Cell{TextCell(l.m.Name), TextCell(phone), TextCell(l.unit),
			TextCell(strings.Join(teamNames, "、")), TextCell(yes(l.m.PartyMember)), TextCell(work)}, memberFigureCells(l.month)...))
		total.Add(l.month)
		if l.month.Active() {
			active++
		}
	}
	memberSheet.Total = append([]Cell{TextCell(t("export.total_people", len(lines))), {}, {}, {}, {}, {}}, memberFigureCells(total)...)

	// By team: each team's members; a member of two teams counts in both,
	// so the totals row counts each person once.
	teamSheet := Sheet{Name: t("export.view.team"), Header: append([]string{t("export.col.team"), t("export.col.team_kind"),
		t("export.col.unit"), t("export.col.members"), t("export.col.active")}, figures...),
		Widths: append([]float64{22, 18, 24, 10, 10}, figureWidths...)}
	var teamTotal ledger.MemberMonth
	inTeams, activeInTeams := 0, 0
	for _, l := range lines {
		if len(l.m.TeamIDs) > 0 {
			teamTotal.Add(l.month)
			inTeams++
			if l.month.Active() {
				activeInTeams++
			}
		}
	}
	natural.SortTeams(teams, tree)
	for _, tm := range teams {
		u, ok := unitByID[tm.UnitID]
		if !ok || !opts.Scope.Covers(u) {
			continue
		}
		var sum ledger.MemberMonth
		n, act := 0, 0
		for _, l := range lines {
			if slices.Contains(l.m.TeamIDs, tm.ID) {
				sum.Add(l.month)
				n++
				if l.month.Active() {
					act++
				}
			}
		}
		teamSheet.Rows = append(teamSheet.Rows, append([]Cell{TextCell(tm.Name), TextCell(t("js.team." + string(tm.Kind))), TextCell(label(u)),
			NumCell(int64(n)), NumCell(int64(act))}, figureCells(sum)...))
	}
	teamSheet.Total = append([]Cell{TextCell(t("export.total_distinct")), {}, {}, NumCell(int64(inTeams)), NumCell(int64(activeInTeams))}, figureCells(teamTotal)...)

	// By unit: every unit of the subtree with everyone under it.
	unitSheet := Sheet{Name: t("export.view.unit"), Header: append([]string{t("export.col.unit"), t("export.col.unit_kind"),
		t("export.col.members"), t("export.col.active")}, figures...),
		Widths: append([]float64{30, 8, 10, 10}, figureWidths...)}
	inScope = natural.UnitTree(inScope)
	top := math.MaxInt
	for _, u := range inScope {
		top = min(top, len(u.Path))
	}
	for _, u := range inScope {
		var sum ledger.MemberMonth
		n, act := 0, 0
		for _, l := range lines {
			if unitByID[l.m.UnitID].Within(u.ID) {
				sum.Add(l.month)
				n++
				if l.month.Active() {
					act++
				}
			}
		}
		unitSheet.Rows = append(unitSheet.Rows, append([]Cell{TextCell(strings.Repeat("　", len(u.Path)-top) + u.Name),
			TextCell(t("js.kind." + string(u.Kind))), NumCell(int64(n)), NumCell(int64(act))}, figureCells(sum)...))
	}
	unitSheet.Total = append([]Cell{TextCell(t("export.total")), {}, NumCell(int64(len(lines))), NumCell(int64(active))}, figureCells(total)...)

	// By shop.
	shopSheet := Sheet{Name: t("export.view.shop"), Header: []string{t("export.col.shop"), t("export.col.shop_kind"), t("export.col.unit"),
		t("export.col.vouchers"), t("export.col.shop_points"), t("export.col.items"), t("export.col.item_detail")},
		Widths: []float64{24, 14, 24, 12, 12, 12, 48}}
	shopMonths := map[uuid.UUID]ledger.ShopMonth{}
	for _, sm := range rep.Shops {
		shopMonths[sm.ShopID] = sm
	}
	var shopVouchers, shopItems int
	var shopPoints ledger.Points
	for _, sh := range shops {
		sm := shopMonths[sh.ID]
		items, err := d.Shops.Items(ctx, sh.ID)
		if err != nil {
			return ex, err
		}
		var detail []string
		for _, it := range items {
			if q := sm.ByItem[it.ID]; q != 0 {
				detail = append(detail, t("export.item_qty", it.Name, q))
			}
		}
		shopSheet.Rows = append(shopSheet.Rows, []Cell{TextCell(sh.Name), TextCell(t("js.shop.kind." + string(sh.Kind))), TextCell(label(unitByID[sh.UnitID])),
			NumCell(int64(sm.Vouchers)), PointsCell(sm.Points), NumCell(int64(sm.Items)), TextCell(strings.Join(detail, "、"))})
		shopVouchers += sm.Vouchers
		shopItems += sm.Items
		shopPoints += sm.Points
	}
	shopSheet.Total = []Cell{TextCell(t("export.total")), {}, {}, NumCell(int64(shopVouchers)), PointsCell(shopPoints), NumCell(int64(shopItems)), {}}

	// Service posted this month that was served in an earlier one (补录):
	// counted in this month, as every report counts, and listed here.
	lateSheet := Sheet{Name: t("export.view.late"), Header: []string{t("export.col.name"), t("export.col.phone"), t("export.col.unit"),
		t("export.col.event"), t("export.col.category"), t("export.col.served"), t("export.col.posted"), t("export.col.hours"), t("export.col.how")},
		Widths: []float64{10, 14, 24, 28, 12, 12, 12, 10, 10}}
	late, err := d.Reports.LateService(ctx, opts.Month)
	if err != nil {
		return ex, err
	}
	memberByID := make(map[uuid.UUID]memberLine, len(lines))
	for _, l := range lines {
		memberByID[l.m.ID] = l
	}
	var lateMinutes int64
	for _, ls := range late {
		l, ok := memberByID[ls.MemberID]
		if !ok {
			continue // a member outside the scope
		}
		phone := ledger.MaskPhone(l.m.Phone)
		if opts.FullPhone {
			phone = l.m.Phone
		}
		how := t("export.late.reviewed")
		if ls.Backfilled {
			how = t("export.late.backfilled")
		}
		if ls.Minutes < 0 {
			how = t("export.late.corrected")
		}
		lateSheet.Rows = append(lateSheet.Rows, []Cell{TextCell(l.m.Name), TextCell(phone), TextCell(l.unit), TextCell(ls.EventTitle),
			TextCell(ls.Category), TextCell(ls.ServedAt.In(opts.Location).Format("2006-01-02")),
			TextCell(ls.PostedAt.In(opts.Location).Format("2006-01-02")), HoursCell(ls.Minutes), TextCell(how)})
		lateMinutes += ls.Minutes
	}
	lateSheet.Total = []Cell{TextCell(t("export.total_lines", len(lateSheet.Rows))), {}, {}, {}, {}, {}, {}, HoursCell(lateMinutes), {}}

	// Households (一家亲): their accounts' month, apart from the members'.
	memberNames := make(map[uuid.UUID]string, len(lines))
	for _, l := range lines {
		memberNames[l.m.ID] = l.m.Name
	}
	homeSheet, homeTotal, homesOK, err := householdSheet(ctx, d, opts, t, label, unitByID, memberNames)
	if err != nil {
		return ex, err
	}

	// The reconciliation, printed under every view and on the summary.
	ok := true
	mark := func(good bool) string {
		if !good {
			ok = false
			return "✗"
		}
		return "✓"
	}
	notes := []string{
		t("export.check.balance", total.Closing, total.Opening, total.Earned, total.Adjusted, total.Deducted, total.Redeemed, total.Expired,
			mark(total.Closing == total.Opening+total.Earned+total.Adjusted-total.Deducted-total.Redeemed-total.Expired)),
		t("export.check.earned", total.Earned, total.Service, total.Wishes, total.Behaviour,
			mark(total.Earned == total.Service+total.Wishes+total.Behaviour)),
		t("export.check.held", total.HeldClosing, total.HeldOpening, total.HeldIn, total.Released, total.Redeemed,
			mark(total.HeldClosing == total.HeldOpening+total.HeldIn-total.Released-total.Redeemed)),
	}
	// Per person: the month adds up, and the balance and held points kept
	// now agree with the sums of all the person's monthly rows.
	unbalanced := map[uuid.UUID]bool{}
	for _, id := range rep.Unbalanced {
		unbalanced[id] = true
	}
	bad := 0
	for _, l := range lines {
		if !l.month.Reconciles() || unbalanced[l.m.ID] {
			bad++
		}
	}
	if bad == 0 {
		notes = append(notes, t("export.check.rows_ok", len(lines)))
	} else {
		mark(false)
		notes = append(notes, t("export.check.rows_bad", bad, len(lines)))
	}
	if len(homeSheet.Rows) > 0 {
		notes = append(notes, householdNote(t, homeTotal, homesOK, mark))
	}
	if rep.AllMembers {
		var heldAll, redeemedAll ledger.Points
		for _, mm := range rep.Members {
			heldAll += mm.HeldClosing
			redeemedAll += mm.Redeemed
		}
		for _, hm := range rep.Households { // their vouchers are in the escrow and the shops too
			heldAll += hm.Points.HeldClosing
			redeemedAll += hm.Points.Redeemed
		}
		notes = append(notes,
			t("export.check.escrow", heldAll, rep.EscrowClosing, mark(heldAll == rep.EscrowClosing)),
			t("export.check.shops", redeemedAll, rep.ShopPoints, mark(redeemedAll == rep.ShopPoints)))
	}
	if rep.MonthEndSeq > 0 {
		notes = append(notes, t("export.chain", rep.MonthEndSeq, rep.MonthEndHash.String()))
	} else {
		notes = append(notes, t("export.chain_none"))
	}
	if len(lateSheet.Rows) > 0 {
		notes = append(notes, t("export.late_note", Hours(total.Minutes), Hours(lateMinutes), len(lateSheet.Rows)))
	} else {
		notes = append(notes, t("export.late_none"))
	}
	notes = append(notes, t("export.footer", opts.Month.String(), opts.Location.String(), opts.Now.In(opts.Location).Format("2006-01-02 15:04"), opts.Who))
	ex.Reconciles, ex.Total, ex.People, ex.Active = ok, total, len(lines), active

	// Every sheet's title says whose month it is: the organiser's unit, or
	// for the whole ledger its street when there is one.
	scopeName, issuer := t("export.scope_all"), t("export.scope_all")
	if !opts.Scope.All {
		scopeName, issuer = label(unitByID[opts.Scope.Unit]), unitByID[opts.Scope.Unit].Name
	} else if top := topUnits(inScope); len(top) == 1 {
		issuer = top[0].Name
	}
	title := func(view string) string {
		return t("export.title", issuer, int(opts.Month)/100, int(opts.Month)%100, view)
	}
	for _, s := range []*Sheet{&memberSheet, &teamSheet, &unitSheet, &shopSheet, &lateSheet, &homeSheet} {
		s.Notes = notes
		s.Title = title(s.Name)
	}
	ex.Sheets["member"], ex.Sheets["team"], ex.Sheets["unit"], ex.Sheets["shop"], ex.Sheets["late"] = memberSheet, teamSheet, unitSheet, shopSheet, lateSheet
	ex.Sheets[HouseholdView] = homeSheet

	// The summary, with lines for who made it and who checked it to sign.
	phones := t("export.phones_masked")
	if opts.FullPhone {
		phones = t("export.phones_full")
	}
	ex.Summary = Sheet{Name: t("export.view.summary"), Title: title(t("export.view.summary")),
		Header: []string{t("export.col.item"), t("export.col.value")}, Widths: []float64{28, 66},
		Signatures: []string{t("export.sign.maker"), t("export.sign.checker"), t("export.sign.date")},
		Rows: [][]Cell{
			{TextCell(t("export.sum.month")), TextCell(opts.Month.String())},
			{TextCell(t("export.sum.scope")), TextCell(scopeName)},
			{TextCell(t("export.sum.members")), NumCell(int64(len(lines)))},
			{TextCell(t("export.sum.active")), NumCell(int64(active))},
			{TextCell(t("export.col.hours")), HoursCell(total.Minutes)},
			{TextCell(t("export.sum.late")), HoursCell(lateMinutes)},
			{TextCell(t("export.col.opening")), PointsCell(total.Opening)},
			{TextCell(t("export.col.earned")), PointsCell(total.Earned)},
			{TextCell(t("export.col.service")), PointsCell(total.Service)},
			{TextCell(t("export.col.wishes")), PointsCell(total.Wishes)},
			{TextCell(t("export.col.behaviour")), PointsCell(total.Behaviour)},
			{TextCell(t("export.col.deducted")), PointsCell(total.Deducted)},
			{TextCell(t("export.col.adjusted")), PointsCell(total.Adjusted)},
			{TextCell(t("export.col.redeemed")), PointsCell(total.Redeemed)},
			{TextCell(t("export.col.expired")), PointsCell(total.Expired)},
			{TextCell(t("export.col.closing")), PointsCell(total.Closing)},
			{TextCell(t("export.col.held")), PointsCell(total.HeldClosing)},
			{TextCell(t("export.col.released")), PointsCell(total.Released)},
			{TextCell(t("export.sum.shops")), NumCell(int64(len(shops)))},
			{TextCell(t("export.col.vouchers")), NumCell(int64(shopVouchers))},
			{TextCell(t("export.col.items")), NumCell(int64(shopItems))},
			{TextCell(t("export.sum.phones")), TextCell(phones)},
			{TextCell(t("export.sum.hours_rule")), TextCell(t("export.hours_rule"))},
		}, Notes: notes}
	return ex, nil
}

// topUnits are the units of a subtree whose parent is not in it.
func topUnits(units []ledger.Unit) []ledger.Unit {
	in := make(map[uuid.UUID]bool, len(units))
	for _, u := range units {
		in[u.ID] = true
	}
	var top []ledger.Unit
	for _, u := range units {
		if !in[u.ParentID] {
			top = append(top, u)
		}
	}
	return top
}
