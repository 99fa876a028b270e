package handlers

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"aixin/ledger"
	"aixin/natural"
	"aixin/report"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/skip2/go-qrcode"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// Service records (服务记录卡) of on-duty party members (在职党员) for their
// employers, and volunteer-service certificates (志愿服务证明) with a public
// verification page.

// parseQuarter reads "2026-Q4" as the quarter's first moment and the next
// quarter's, in loc.
func parseQuarter(s string, loc *time.Location) (from, to time.Time, err error) {
	bad := ledger.Errorf(ledger.EINVALID, "records.quarter_invalid", truncate(s, 16))
	y, q, ok := strings.Cut(strings.ToUpper(s), "-Q")
	if !ok || len(y) != 4 || len(q) != 1 || q < "1" || q > "4" {
		return from, to, bad
	}
	year, err := strconv.Atoi(y)
	if err != nil || year < 2000 || year > 2999 {
		return from, to, bad
	}
	from = time.Date(year, time.Month(3*int(q[0]-'1')+1), 1, 0, 0, 0, 0, loc)
	return from, from.AddDate(0, 3, 0), nil
}

// recordLine is one service on a record card or a certificate: the day it
// was served and, for service of an earlier month posted later (补录), the
// day it was posted.
type recordLine struct {
	Date     string  `json:"date"`
	Posted   string  `json:"posted,omitempty"` // only for a late one
	Late     bool    `json:"late,omitempty"`
	Event    string  `json:"event"`
	Category string  `json:"category"`
	Minutes  int64   `json:"minutes"`
	Hours    float64 `json:"hours"`
}

// lineOf is a service line as records and certificates show it.
func (s *server) lineOf(l ledger.ServiceLine) recordLine {
	r := recordLine{Date: l.Date.In(s.cfg.Location).Format("2006-01-02"), Late: l.Late, Event: l.EventTitle,
		Category: l.Category, Minutes: l.Minutes, Hours: report.Hours(l.Minutes)}
	if l.Late {
		r.Posted = l.PostedAt.In(s.cfg.Location).Format("2006-01-02")
	}
	return r
}

// recordCard is one member's service record for a quarter.
type recordCard struct {
	MemberID    uuid.UUID    `json:"member_id"`
	Name        string       `json:"name"`
	Unit        string       `json:"unit"`
	ReportedAt  string       `json:"reported_at,omitempty"`
	TargetHours int          `json:"target_hours,omitempty"`
	Lines       []recordLine `json:"lines"`
	Minutes     int64        `json:"minutes"`      // in the quarter
	YearMinutes int64        `json:"year_minutes"` // from 1 January to the quarter's end
	// Progress is the year's hours against the annual target, in per cent (0 without a target).
	Progress int `json:"progress"`
}

// recordGroup is the cards one community sends one employer: a page, or
// a sheet, that the community stamps and signs.
type recordGroup struct {
	WorkUnit string       `json:"work_unit"`
	IssuerID uuid.UUID    `json:"issuer_id"`
	Issuer   string       `json:"issuer"`
	Cards    []recordCard `json:"cards"`
	Minutes  int64        `json:"minutes"`
}

// issuerOf is the unit that vouches for a member's service: the member's
// community, or the member's unit itself when it lies above any community.
func issuerOf(unit ledger.Unit, units map[uuid.UUID]ledger.Unit) ledger.Unit {
	issuer := unit
	for _, id := range unit.Path {
		if u, ok := units[id]; ok && u.Kind == ledger.UnitCommunity {
			issuer = u
		}
	}
	return issuer
}

// serviceRecords answers the service record cards of the on-duty members in
// the caller's subtree for a quarter, by employer and by the community that
// sends them (work_unit narrows to one employer), as JSON for the printable
// page or as a workbook with one sheet per employer and community. Each
// says who sends it and when, with room for the community's seal and its
// head's signature.
func (s *server) serviceRecords(c echo.Context) error {
	ctx := c.Request().Context()
	loc := s.cfg.Location
	from, to, err := parseQuarter(c.QueryParam("quarter"), loc)
	if err != nil {
		return err
	}
	format := cmp.Or(c.QueryParam("format"), "json")
	if format != "json" && format != "xlsx" {
		return ledger.Errorf(ledger.EINVALID, "export.format_invalid", truncate(format, 16))
	}
	only := strings.TrimSpace(c.QueryParam("work_unit"))
	u, _ := currentUser(c)
	members, err := s.cfg.Directory.Members(ctx, ledger.MemberFilter{Scope: scopeOf(u), OnDuty: ptr(true), Limit: 1 << 30})
	if err != nil {
		return err
	}
	units, err := s.unitsByID(c)
	if err != nil {
		return err
	}
	yearStart := time.Date(from.Year(), 1, 1, 0, 0, 0, 0, loc)
	type groupKey struct {
		work   string
		issuer uuid.UUID
	}
	groups := map[groupKey]*recordGroup{}
	var keys []groupKey
	for _, m := range members {
		work := m.OnDuty.WorkUnit
		if only != "" && work != only {
			continue
		}
		lines, err := s.cfg.Records.ServiceLines(ctx, m.ID, yearStart, to)
		if err != nil {
			return err
		}
		card := recordCard{MemberID: m.ID, Name: m.Name, Unit: units[m.UnitID].Name, ReportedAt: m.OnDuty.ReportedAt,
			TargetHours: m.OnDuty.AnnualTargetHours, Lines: []recordLine{}}
		// The year so far, and the quarter's lines: service posted in the
		// quarter (whenever served), as every report counts it.
		for _, l := range lines {
			card.YearMinutes += l.Minutes
		}
		quarterLines, err := s.cfg.Records.ServiceLines(ctx, m.ID, from, to)
		if err != nil {
			return err
		}
		for _, l := range quarterLines {
			card.Minutes += l.Minutes
			card.Lines = append(card.Lines, s.lineOf(l))
		}
		if card.TargetHours > 0 {
			card.Progress = int(card.YearMinutes * 100 / int64(card.TargetHours*60))
		}
		issuer := issuerOf(units[m.UnitID], units)
		k := groupKey{work, issuer.ID}
		g := groups[k]
		if g == nil {
			g = &recordGroup{WorkUnit: work, IssuerID: issuer.ID, Issuer: issuer.Name}
			groups[k] = g
			keys = append(keys, k)
		}
		g.Cards = append(g.Cards, card)
		g.Minutes += card.Minutes
	}
	// Employers in natural order, each one's communities as the tree is read,
	// each group's people in pinyin order.
	place := map[uuid.UUID]int{}
	for i, unit := range natural.UnitTree(slices.Collect(maps.Values(units))) {
		place[unit.ID] = i
	}
	sorter := natural.New()
	workKey := map[string][]byte{}
	for _, k := range keys {
		workKey[k.work] = sorter.Key(k.work)
	}
	slices.SortFunc(keys, func(a, b groupKey) int {
		return cmp.Or(bytes.Compare(workKey[a.work], workKey[b.work]), cmp.Compare(place[a.issuer], place[b.issuer]))
	})
	col := collate.New(language.Chinese)
	out := make([]recordGroup, 0, len(keys))
	for _, k := range keys {
		g := groups[k]
		slices.SortStableFunc(g.Cards, func(a, b recordCard) int { return col.CompareString(a.Name, b.Name) })
		out = append(out, *g)
	}
	quarter := fmt.Sprintf("%d-Q%d", from.Year(), int(from.Month()-1)/3+1)
	issued := s.cfg.Now().In(loc).Format("2006-01-02")
	if format == "json" {
		return c.JSON(http.StatusOK, map[string]any{"quarter": quarter, "from": from.Format("2006-01-02"),
			"to": to.AddDate(0, 0, -1).Format("2006-01-02"), "issued": issued, "groups": out})
	}
	lang := s.lang(c)
	t := func(key string, args ...any) string { return s.cat.T(lang, key, args...) }
	// An employer served by two communities gets a sheet from each.
	perEmployer := map[string]int{}
	for _, g := range out {
		perEmployer[g.WorkUnit]++
	}
	year, q := from.Year(), int(from.Month()-1)/3+1
	var sheets []report.Sheet
	used := map[string]bool{}
	for i, g := range out {
		name := g.WorkUnit
		if perEmployer[g.WorkUnit] > 1 {
			name = g.WorkUnit + "-" + g.Issuer
		}
		sh := report.Sheet{Name: sheetName(name, i, used), Title: t("records.title", g.WorkUnit, year, q),
			Header: []string{t("records.col.name"), t("records.col.unit"), t("records.col.date"),
				t("records.col.event"), t("records.col.category"), t("records.col.hours"), t("records.col.quarter_hours"),
				t("records.col.year_hours"), t("records.col.target"), t("records.col.progress")},
			Widths: []float64{10, 16, 12, 28, 12, 10, 12, 12, 12, 10}}
		for _, card := range g.Cards {
			head := []report.Cell{report.TextCell(card.Name), report.TextCell(card.Unit)}
			tail := []report.Cell{report.HoursCell(card.Minutes), report.HoursCell(card.YearMinutes), report.NumCell(int64(card.TargetHours)), report.TextCell(fmt.Sprintf("%d%%", card.Progress))}
			if len(card.Lines) == 0 {
				sh.Rows = append(sh.Rows, append(append(head, report.TextCell(""), report.TextCell(t("records.none")), report.TextCell(""), report.HoursCell(0)), tail...))
			}
			for j, l := range card.Lines {
				row := append([]report.Cell{}, head...)
				if j > 0 {
					row = []report.Cell{report.TextCell(""), report.TextCell("")}
				}
				date := l.Date
				if l.Late {
					date = t("records.late_date", l.Date, l.Posted)
				}
				row = append(row, report.TextCell(date), report.TextCell(l.Event), report.TextCell(s.cat.Category(lang, l.Category)), report.HoursCell(l.Minutes))
				if j == 0 {
					row = append(row, tail...)
				}
				sh.Rows = append(sh.Rows, row)
			}
		}
		sh.Total = []report.Cell{report.TextCell(t("records.total", len(g.Cards))), {}, {}, {}, {}, {}, report.HoursCell(g.Minutes)}
		sh.Notes = []string{t("records.note", g.WorkUnit, quarter), t("records.issued_by", g.Issuer, issued)}
		sh.Signatures = []string{t("records.sign.seal"), t("records.sign.head"), t("records.sign.date")}
		sheets = append(sheets, sh)
	}
	if len(sheets) == 0 {
		sheets = []report.Sheet{{Name: t("records.empty_sheet"), Header: []string{t("records.none")}}}
	}
	var buf bytes.Buffer
	if err := report.WriteXLSX(&buf, 0, sheets...); err != nil {
		return err
	}
	name := t("records.file", year, q)
	if only != "" {
		name = t("records.file_one", year, q, only)
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, attachment(name, fmt.Sprintf("service-records-%s.xlsx", quarter)))
	return c.Blob(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
}

// sheetName makes a sheet name a spreadsheet accepts: at most 31
// characters, none of : \ / ? * [ ], no ' at either end, and not used
// before (spreadsheets compare sheet names ignoring case).
func sheetName(s string, i int, used map[string]bool) string {
	s = strings.Trim(strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) {
			return '_'
		}
		return r
	}, s), "' ")
	if s == "" {
		s = "-"
	}
	if r := []rune(s); len(r) > 28 {
		s = string(r[:28])
	}
	if used[strings.ToLower(s)] {
		s = string([]rune(s)[:min(len([]rune(s)), 26)]) + "-" + strconv.Itoa(i+1)
	}
	used[strings.ToLower(s)] = true
	return s
}

func ptr[T any](v T) *T { return &v }

// certificateView is a certificate as staff see it.
type certificateView struct {
	ledger.Certificate
	Lines     []recordLine `json:"lines"`
	VerifyURL string       `json:"verify_url"`
	QRURL     string       `json:"qr_url"`
}

// issueCertificate makes a certificate for a member and a period
// {member_id, from, to} (dates, inclusive): the confirmed service in it,
// kept as issued.
func (s *server) issueCertificate(c echo.Context) error {
	var req struct {
		MemberID uuid.UUID `json:"member_id"`
		From     string    `json:"from"`
		To       string    `json:"to"`
	}
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	loc := s.cfg.Location
	from, err1 := time.ParseInLocation("2006-01-02", req.From, loc)
	to, err2 := time.ParseInLocation("2006-01-02", req.To, loc)
	switch {
	case err1 != nil || err2 != nil:
		return ledger.Errorf(ledger.EINVALID, "certificate.dates_invalid")
	case to.Before(from) || to.Sub(from) > 10*366*24*time.Hour:
		return ledger.Errorf(ledger.EINVALID, "certificate.period_invalid")
	case to.After(s.cfg.Now().In(loc)):
		return ledger.Errorf(ledger.EINVALID, "certificate.future")
	}
	m, err := s.cfg.Directory.Member(ctx, req.MemberID)
	if err != nil {
		return err
	}
	unit, err := s.unitInScope(c, m.UnitID)
	if err != nil {
		return ledger.Errorf(ledger.ENOTFOUND, "member.not_found")
	}
	// The issuing unit is the member's community (or the unit itself above it).
	issuer := unit
	if units, err := s.unitsByID(c); err == nil {
		issuer = issuerOf(unit, units)
	}
	lines, err := s.cfg.Records.ServiceLines(ctx, m.ID, from, to.AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	if len(lines) == 0 {
		return ledger.Errorf(ledger.EREJECTED, "certificate.no_service", req.From, req.To)
	}
	u, _ := currentUser(c)
	cert := ledger.Certificate{MemberID: m.ID, Name: m.Name, From: req.From, To: req.To, Services: len(lines),
		UnitID: issuer.ID, UnitName: issuer.Name, IssuedBy: u.ID, Lines: lines}
	for _, l := range lines {
		cert.Minutes += l.Minutes
	}
	if cert, err = s.cfg.Records.IssueCertificate(ctx, cert); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, s.viewCertificate(c, cert))
}

func (s *server) viewCertificate(c echo.Context, cert ledger.Certificate) certificateView {
	v := certificateView{Certificate: cert, Lines: []recordLine{},
		VerifyURL: s.publicBase(c) + "/verify/" + cert.Serial,
		QRURL:     "/api/v1/certificates/" + cert.Serial + "/qr.png"}
	v.IssuedAt = v.IssuedAt.In(s.cfg.Location)
	for _, l := range cert.Lines {
		v.Lines = append(v.Lines, s.lineOf(l))
	}
	v.Certificate.Lines = nil
	return v
}

// certificateInScope loads the certificate of path parameter serial if the
// caller may see its member.
func (s *server) certificateInScope(c echo.Context) (ledger.Certificate, error) {
	cert, err := s.cfg.Records.Certificate(c.Request().Context(), c.Param("serial"))
	if err != nil {
		return cert, err
	}
	m, err := s.cfg.Directory.Member(c.Request().Context(), cert.MemberID)
	if err == nil {
		_, err = s.unitInScope(c, m.UnitID)
	}
	if err != nil {
		return cert, ledger.Errorf(ledger.ENOTFOUND, "certificate.not_found")
	}
	return cert, nil
}

func (s *server) getCertificate(c echo.Context) error {
	cert, err := s.certificateInScope(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.viewCertificate(c, cert))
}

// certificateQR is the QR printed on a certificate: the address of its
// public verification page.
func (s *server) certificateQR(c echo.Context) error {
	cert, err := s.certificateInScope(c)
	if err != nil {
		return err
	}
	png, err := qrcode.Encode(s.viewCertificate(c, cert).VerifyURL, qrcode.Medium, 320)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=86400")
	return c.Blob(http.StatusOK, "image/png", png)
}

// verifyPage is the public page a certificate's QR opens: whether the
// certificate is genuine, with the member's name masked and nothing else
// personal.
func (s *server) verifyPage(c echo.Context) error {
	d := struct {
		pageData
		Found    bool
		Serial   string
		Name     string
		From, To string
		Hours    string
		Services int
		Unit     string
		Issued   string
	}{pageData: s.pageData(c), Serial: truncate(c.Param("serial"), 20)}
	cert, err := s.cfg.Records.Certificate(c.Request().Context(), c.Param("serial"))
	status := http.StatusOK
	switch {
	case err == nil:
		d.Found, d.Serial, d.Name, d.From, d.To = true, cert.Serial, cert.MaskedName(), cert.From, cert.To
		d.Hours = strconv.FormatFloat(report.Hours(cert.Minutes), 'f', 1, 64)
		d.Services, d.Unit, d.Issued = cert.Services, cert.UnitName, cert.IssuedAt.In(s.cfg.Location).Format("2006-01-02")
	case ledger.ErrorCode(err) == ledger.ENOTFOUND || ledger.ErrorCode(err) == ledger.EINVALID:
		status = http.StatusNotFound
	default:
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.render(c, status, "verify.html", d)
}
