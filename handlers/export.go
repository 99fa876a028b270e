package handlers

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"aixin/ledger"
	"aixin/static"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// The monthly export: points and hours per member, team, unit and shop for
// one month, counted in the deployment's time zone, for the caller's
// subtree, read from the ledger's monthly rows (never the journal).

// ExportOptions says what a monthly export covers and who asks.
type ExportOptions struct {
	Month     ledger.Month
	Scope     ledger.Scope
	Lang      string
	FullPhone bool   // full phone numbers (administrators only, logged)
	By        string // the view that opens first: member, team, unit or shop
	Who       string // who exported, printed on the summary
	Now       time.Time
	Location  *time.Location
}

// previewRows is how many rows of a view the page's preview shows.
const previewRows = 200

// exportViews are the views, in the workbook's order after the summary:
// late lists the month's service that was served in an earlier month (补录).
var exportViews = []string{"member", "team", "unit", "shop", "late", householdExportView}

// monthlyExport is a built export: its sheets by view, and its summary.
type monthlyExport struct {
	cat       *catalogue
	opts      ExportOptions
	sheets    map[string]sheet
	summary   sheet
	reconcile bool // every check held
	total     ledger.MemberMonth
	people    int
	active    int
}

// exportDeps are the stores an export reads.
type exportDeps struct {
	dir     ledger.Directory
	shops   ledger.Shops
	reports ledger.Reports
	cat     *catalogue
}

func (s *server) exportMonthly(c echo.Context) error {
	q := c.QueryParams()
	for k := range q {
		switch k {
		case "month", "by", "format", "full_phone", "lang":
		default:
			return ledger.Errorf(ledger.EINVALID, "export.param_unknown", truncate(k, 32))
		}
	}
	now := s.cfg.Now()
	month := ledger.MonthOf(now, s.cfg.Location)
	if v := q.Get("month"); v != "" {
		m, err := ledger.ParseMonth(v)
		if err != nil {
			return err
		}
		month = m
	}
	by := cmp.Or(q.Get("by"), "member")
	if !slices.Contains(exportViews, by) {
		return ledger.Errorf(ledger.EINVALID, "export.by_invalid", truncate(by, 16))
	}
	format := cmp.Or(q.Get("format"), "xlsx")
	if format != "csv" && format != "xlsx" && format != "json" {
		return ledger.Errorf(ledger.EINVALID, "export.format_invalid", truncate(format, 16))
	}
	u, _ := currentUser(c)
	full := false
	switch q.Get("full_phone") {
	case "", "0", "false":
	case "1", "true":
		if u.Role != ledger.RoleAdmin {
			return ledger.Errorf(ledger.EFORBIDDEN, "export.full_phone_admin")
		}
		full = true
	default:
		return ledger.Errorf(ledger.EINVALID, "export.full_phone_invalid")
	}
	opts := ExportOptions{Month: month, Scope: scopeOf(u), Lang: s.lang(c), FullPhone: full, By: by,
		Who: cmp.Or(u.Name, u.Login), Now: now, Location: s.cfg.Location}
	if full {
		// Personal data leaves in full: say who took it, and when.
		s.cfg.Logger.Warn("export with full phone numbers", "user_id", u.ID, "login", u.Login, "month", month.String(),
			"view", by, "format", format, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	}
	ex, err := buildMonthly(c.Request().Context(), exportDeps{s.cfg.Directory, s.cfg.Shops, s.cfg.Reports, s.cat}, opts)
	if err != nil {
		return err
	}
	if !ex.reconcile {
		s.cfg.Logger.Error("monthly export does not reconcile", "month", month.String(), "notes", strings.Join(ex.summary.Notes, " | "))
	}
	if format == "json" {
		// The page's preview: the view's first rows, the totals and the checks.
		view := ex.sheets[by]
		total := len(view.Rows)
		view.Rows = view.Rows[:min(total, previewRows)]
		return c.JSON(http.StatusOK, map[string]any{"month": month.String(), "view": view, "rows_total": total,
			"totals": ex.total, "people": ex.people, "active": ex.active, "reconciles": ex.reconcile, "notes": ex.summary.Notes})
	}
	var buf bytes.Buffer
	name, ctype, err := ex.write(&buf, format)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	fallback := ex
	fallback.opts.Lang = "en"
	ascii, _, _ := fallback.fileName(format)
	h.Set(echo.HeaderContentDisposition, attachment(name, ascii))
	h.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, ctype, buf.Bytes())
}

// attachment is a Content-Disposition for a file name that may be Chinese:
// an ASCII name for old clients and the UTF-8 name (RFC 6266, RFC 5987).
func attachment(name, ascii string) string {
	ascii = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, ascii)
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, url.PathEscape(name))
}

// ExportMonthly builds a monthly export and writes it as csv or xlsx; it
// returns the file name. The command line's "aixin export monthly" uses it.
func ExportMonthly(ctx context.Context, d ledger.Directory, sh ledger.Shops, rp ledger.Reports, opts ExportOptions, format string, w *bytes.Buffer) (string, error) {
	cat, err := loadCatalogue(static.FS)
	if err != nil {
		return "", err
	}
	if !slices.Contains(exportViews, opts.By) {
		return "", ledger.Errorf(ledger.EINVALID, "export.by_invalid", opts.By)
	}
	ex, err := buildMonthly(ctx, exportDeps{d, sh, rp, cat}, opts)
	if err != nil {
		return "", err
	}
	name, _, err := ex.write(w, format)
	return name, err
}

// fileName is the export's file name and content type in its language.
func (ex monthlyExport) fileName(format string) (name, ctype string, err error) {
	y, mo := int(ex.opts.Month)/100, int(ex.opts.Month)%100
	switch format {
	case "csv":
		return ex.T("export.file_csv", y, mo, ex.T("export.view."+ex.opts.By)), "text/csv; charset=utf-8", nil
	case "xlsx":
		return ex.T("export.file_xlsx", y, mo), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", nil
	}
	return "", "", ledger.Errorf(ledger.EINVALID, "export.format_invalid", format)
}

// write writes the export: one view as CSV, or the workbook.
func (ex monthlyExport) write(w *bytes.Buffer, format string) (name, ctype string, err error) {
	if name, ctype, err = ex.fileName(format); err != nil {
		return
	}
	switch format {
	case "csv":
		return name, ctype, writeCSV(w, ex.sheets[ex.opts.By])
	default:
		sheets := []sheet{ex.summary}
		active := 0
		for i, v := range exportViews {
			sheets = append(sheets, ex.sheets[v])
			if v == ex.opts.By {
				active = i + 1
			}
		}
		return name, ctype, writeXLSX(w, active, sheets...)
	}
}

func (ex monthlyExport) T(key string, args ...any) string {
	return ex.cat.T(ex.opts.Lang, key, args...)
}

// memberLine is a member with the month's figures.
type memberLine struct {
	m       ledger.Member
	month   ledger.MemberMonth
	unit    string
	place   int    // the unit's place in the tree
	nameKey []byte // pinyin sort key
}

func buildMonthly(ctx context.Context, d exportDeps, opts ExportOptions) (monthlyExport, error) {
	ex := monthlyExport{opts: opts, sheets: map[string]sheet{}}
	ex.cat = d.cat
	t := ex.T
	units, err := d.dir.Units(ctx)
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
	members, err := d.dir.Members(ctx, ledger.MemberFilter{Scope: opts.Scope, Limit: math.MaxInt32})
	if err != nil {
		return ex, err
	}
	teams, err := d.dir.Teams(ctx)
	if err != nil {
		return ex, err
	}
	teamByID := map[uuid.UUID]ledger.Team{}
	for _, tm := range teams {
		teamByID[tm.ID] = tm
	}
	allShops, err := d.shops.Shops(ctx)
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
	rep, err := d.reports.MonthReport(ctx, opts.Month, ids, shopIDs)
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
	tree := unitTree(units)
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
	figureCells := func(mm ledger.MemberMonth) []sheetCell {
		return []sheetCell{hoursCell(mm.Minutes), pointsCell(mm.Opening), pointsCell(mm.Earned), pointsCell(mm.Adjusted), pointsCell(mm.Redeemed),
			pointsCell(mm.Expired), pointsCell(mm.Closing), pointsCell(mm.HeldClosing), pointsCell(mm.Released)}
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
	memberFigureCells := func(mm ledger.MemberMonth) []sheetCell {
		c := figureCells(mm)
		return slices.Concat(c[:3], []sheetCell{pointsCell(mm.Service), pointsCell(mm.Wishes), pointsCell(mm.Behaviour), pointsCell(mm.Deducted)}, c[3:])
	}
	memberWidths := slices.Concat(figureWidths[:3], []float64{10, 10, 11, 8}, figureWidths[3:])
	var total ledger.MemberMonth
	active := 0
	memberSheet := sheet{Name: t("export.view.member"), Header: append([]string{t("export.col.name"), t("export.col.phone"),
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
		memberSheet.Rows = append(memberSheet.Rows, append([]sheetCell{textCell(l.m.Name), textCell(phone), textCell(l.unit),
			textCell(strings.Join(teamNames, "、")), textCell(yes(l.m.PartyMember)), textCell(work)}, memberFigureCells(l.month)...))
		total.Add(l.month)
		if l.month.Active() {
			active++
		}
	}
	memberSheet.Total = append([]sheetCell{textCell(t("export.total_people", len(lines))), {}, {}, {}, {}, {}}, memberFigureCells(total)...)

	// By team: each team's members; a member of two teams counts in both,
	// so the totals row counts each person once.
	teamSheet := sheet{Name: t("export.view.team"), Header: append([]string{t("export.col.team"), t("export.col.team_kind"),
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
	sortTeams(teams, tree)
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
		teamSheet.Rows = append(teamSheet.Rows, append([]sheetCell{textCell(tm.Name), textCell(t("js.team." + string(tm.Kind))), textCell(label(u)),
			numCell(int64(n)), numCell(int64(act))}, figureCells(sum)...))
	}
	teamSheet.Total = append([]sheetCell{textCell(t("export.total_distinct")), {}, {}, numCell(int64(inTeams)), numCell(int64(activeInTeams))}, figureCells(teamTotal)...)

	// By unit: every unit of the subtree with everyone under it.
	unitSheet := sheet{Name: t("export.view.unit"), Header: append([]string{t("export.col.unit"), t("export.col.unit_kind"),
		t("export.col.members"), t("export.col.active")}, figures...),
		Widths: append([]float64{30, 8, 10, 10}, figureWidths...)}
	inScope = unitTree(inScope)
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
		unitSheet.Rows = append(unitSheet.Rows, append([]sheetCell{textCell(strings.Repeat("　", len(u.Path)-top) + u.Name),
			textCell(t("js.kind." + string(u.Kind))), numCell(int64(n)), numCell(int64(act))}, figureCells(sum)...))
	}
	unitSheet.Total = append([]sheetCell{textCell(t("export.total")), {}, numCell(int64(len(lines))), numCell(int64(active))}, figureCells(total)...)

	// By shop.
	shopSheet := sheet{Name: t("export.view.shop"), Header: []string{t("export.col.shop"), t("export.col.shop_kind"), t("export.col.unit"),
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
		items, err := d.shops.Items(ctx, sh.ID)
		if err != nil {
			return ex, err
		}
		var detail []string
		for _, it := range items {
			if q := sm.ByItem[it.ID]; q != 0 {
				detail = append(detail, t("export.item_qty", it.Name, q))
			}
		}
		shopSheet.Rows = append(shopSheet.Rows, []sheetCell{textCell(sh.Name), textCell(t("js.shop.kind." + string(sh.Kind))), textCell(label(unitByID[sh.UnitID])),
			numCell(int64(sm.Vouchers)), pointsCell(sm.Points), numCell(int64(sm.Items)), textCell(strings.Join(detail, "、"))})
		shopVouchers += sm.Vouchers
		shopItems += sm.Items
		shopPoints += sm.Points
	}
	shopSheet.Total = []sheetCell{textCell(t("export.total")), {}, {}, numCell(int64(shopVouchers)), pointsCell(shopPoints), numCell(int64(shopItems)), {}}

	// Service posted this month that was served in an earlier one (补录):
	// counted in this month, as every report counts, and listed here.
	lateSheet := sheet{Name: t("export.view.late"), Header: []string{t("export.col.name"), t("export.col.phone"), t("export.col.unit"),
		t("export.col.event"), t("export.col.category"), t("export.col.served"), t("export.col.posted"), t("export.col.hours"), t("export.col.how")},
		Widths: []float64{10, 14, 24, 28, 12, 12, 12, 10, 10}}
	late, err := d.reports.LateService(ctx, opts.Month)
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
		lateSheet.Rows = append(lateSheet.Rows, []sheetCell{textCell(l.m.Name), textCell(phone), textCell(l.unit), textCell(ls.EventTitle),
			textCell(ls.Category), textCell(ls.ServedAt.In(opts.Location).Format("2006-01-02")),
			textCell(ls.PostedAt.In(opts.Location).Format("2006-01-02")), hoursCell(ls.Minutes), textCell(how)})
		lateMinutes += ls.Minutes
	}
	lateSheet.Total = []sheetCell{textCell(t("export.total_lines", len(lateSheet.Rows))), {}, {}, {}, {}, {}, {}, hoursCell(lateMinutes), {}}

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
		notes = append(notes, t("export.late_note", roundHours(total.Minutes), roundHours(lateMinutes), len(lateSheet.Rows)))
	} else {
		notes = append(notes, t("export.late_none"))
	}
	notes = append(notes, t("export.footer", opts.Month.String(), opts.Location.String(), opts.Now.In(opts.Location).Format("2006-01-02 15:04"), opts.Who))
	ex.reconcile, ex.total, ex.people, ex.active = ok, total, len(lines), active

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
	for _, s := range []*sheet{&memberSheet, &teamSheet, &unitSheet, &shopSheet, &lateSheet, &homeSheet} {
		s.Notes = notes
		s.Title = title(s.Name)
	}
	ex.sheets["member"], ex.sheets["team"], ex.sheets["unit"], ex.sheets["shop"], ex.sheets["late"] = memberSheet, teamSheet, unitSheet, shopSheet, lateSheet
	ex.sheets[householdExportView] = homeSheet

	// The summary, with lines for who made it and who checked it to sign.
	phones := t("export.phones_masked")
	if opts.FullPhone {
		phones = t("export.phones_full")
	}
	ex.summary = sheet{Name: t("export.view.summary"), Title: title(t("export.view.summary")),
		Header: []string{t("export.col.item"), t("export.col.value")}, Widths: []float64{28, 66},
		Signatures: []string{t("export.sign.maker"), t("export.sign.checker"), t("export.sign.date")},
		Rows: [][]sheetCell{
			{textCell(t("export.sum.month")), textCell(opts.Month.String())},
			{textCell(t("export.sum.scope")), textCell(scopeName)},
			{textCell(t("export.sum.members")), numCell(int64(len(lines)))},
			{textCell(t("export.sum.active")), numCell(int64(active))},
			{textCell(t("export.col.hours")), hoursCell(total.Minutes)},
			{textCell(t("export.sum.late")), hoursCell(lateMinutes)},
			{textCell(t("export.col.opening")), pointsCell(total.Opening)},
			{textCell(t("export.col.earned")), pointsCell(total.Earned)},
			{textCell(t("export.col.service")), pointsCell(total.Service)},
			{textCell(t("export.col.wishes")), pointsCell(total.Wishes)},
			{textCell(t("export.col.behaviour")), pointsCell(total.Behaviour)},
			{textCell(t("export.col.deducted")), pointsCell(total.Deducted)},
			{textCell(t("export.col.adjusted")), pointsCell(total.Adjusted)},
			{textCell(t("export.col.redeemed")), pointsCell(total.Redeemed)},
			{textCell(t("export.col.expired")), pointsCell(total.Expired)},
			{textCell(t("export.col.closing")), pointsCell(total.Closing)},
			{textCell(t("export.col.held")), pointsCell(total.HeldClosing)},
			{textCell(t("export.col.released")), pointsCell(total.Released)},
			{textCell(t("export.sum.shops")), numCell(int64(len(shops)))},
			{textCell(t("export.col.vouchers")), numCell(int64(shopVouchers))},
			{textCell(t("export.col.items")), numCell(int64(shopItems))},
			{textCell(t("export.sum.phones")), textCell(phones)},
			{textCell(t("export.sum.hours_rule")), textCell(t("export.hours_rule"))},
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
