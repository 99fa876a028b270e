package handlers

import (
	"bytes"
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"

	"aixin/ledger"
	"aixin/report"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// The wish ledger (微心愿台账) of a month, as the street office keeps it:
// one line for every wish of the caller's units that something happened to
// in the month (received, verified, published, claimed, fulfilled,
// confirmed, withdrawn or rejected), with the day of each step, who
// claimed it, how the resident confirmed and the points awarded; under it
// the month's counts and the fulfilment rate, and lines to sign.

// exportWishes answers GET /api/v1/exports/wishes?month=YYYY-MM[&format=xlsx|json].
func (s *server) exportWishes(c echo.Context) error {
	q := c.QueryParams()
	for k := range q {
		switch k {
		case "month", "format", "lang":
		default:
			return ledger.Errorf(ledger.EINVALID, "wish.param_unknown", truncate(k, 32))
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
	format := cmp.Or(q.Get("format"), "xlsx")
	if format != "xlsx" && format != "json" {
		return ledger.Errorf(ledger.EINVALID, "export.format_invalid", truncate(format, 16))
	}
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	scope := scopeOf(u)
	wishes, err := s.wishesInScope(ctx, scope)
	if err != nil {
		return err
	}
	units, err := s.unitsMap(ctx)
	if err != nil {
		return err
	}
	lang := s.lang(c)
	t := func(key string, args ...any) string { return s.cat.T(lang, key, args...) }
	where := t("wish.ledger.all")
	if !scope.All {
		where = units[scope.Unit].Name
	}
	sh, fig := s.wishLedger(c, wishes, units, month, where, t)
	if format == "json" {
		return c.JSON(http.StatusOK, map[string]any{"month": month.String(), "sheet": sh, "figures": fig})
	}
	var buf bytes.Buffer
	if err := report.WriteXLSX(&buf, 0, sh); err != nil {
		return err
	}
	y, mo := int(month)/100, int(month)%100
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, attachment(t("wish.ledger.file", y, mo), s.cat.T(langEN, "wish.ledger.file", y, mo)))
	h.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
}

// wishLedger is the month's sheet and figures.
func (s *server) wishLedger(c echo.Context, wishes []ledger.Wish, units map[uuid.UUID]ledger.Unit, month ledger.Month, where string,
	t func(string, ...any) string) (report.Sheet, ledger.WishFigures) {
	loc := s.cfg.Location
	fig := ledger.CountWishes(wishes, month, loc)
	in := func(at time.Time) bool { return !at.IsZero() && ledger.MonthOf(at, loc) == month }
	day := func(h *ledger.WishStep) report.Cell {
		if h == nil {
			return report.TextCell("")
		}
		return report.TextCell(h.At.In(loc).Format("2006-01-02"))
	}
	first := func(w ledger.Wish, step string) *ledger.WishStep {
		for i := range w.History {
			if w.History[i].Step == step {
				return &w.History[i]
			}
		}
		return nil
	}
	var rows []ledger.Wish
	for _, w := range wishes {
		for _, h := range w.History {
			if in(h.At) {
				rows = append(rows, w)
				break
			}
		}
	}
	slices.SortStableFunc(rows, func(a, b ledger.Wish) int { return a.CreatedAt.Compare(b.CreatedAt) })
	v := s.wishViewer(c.Request().Context(), &wishCaller{units: units})
	sh := report.Sheet{
		Name:  t("wish.ledger.sheet"),
		Title: t("wish.ledger.title", where, int(month)/100, int(month)%100),
		Header: []string{t("wish.ledger.no"), t("wish.ledger.wish"), t("wish.ledger.resident"), t("wish.ledger.phone"),
			t("wish.ledger.community"), t("wish.ledger.place"), t("wish.ledger.entered_by"), t("wish.ledger.received"), t("wish.ledger.verified"),
			t("wish.ledger.published"), t("wish.ledger.claimed"), t("wish.ledger.claimer"), t("wish.ledger.fulfilled"),
			t("wish.ledger.confirmed"), t("wish.ledger.how"), t("wish.ledger.points"), t("wish.ledger.status")},
		Widths:     []float64{6, 22, 10, 14, 14, 16, 12, 11, 11, 11, 11, 20, 11, 11, 12, 8, 10},
		Signatures: []string{t("export.sign.maker"), t("export.sign.checker"), t("export.sign.date")},
	}
	var points ledger.Points
	for i, w := range rows {
		place, community := wishPlace(units, w.UnitID)
		verified := first(w, ledger.WishStepVerify)
		if verified == nil && w.EnteredAs != ledger.RoleVolunteer {
			verified = first(w, ledger.WishStepEnter) // staff enter wishes checked
		}
		claim := w.Step(ledger.WishStepClaim)
		claimer := ""
		if claim != nil {
			claimer = cmp.Or(v.team(claim.TeamID), v.member(claim.MemberID))
			if claim.TeamID != uuid.Nil {
				claimer += "（" + v.member(claim.MemberID) + "）"
			}
		}
		how := ""
		var awarded ledger.Points
		if w.Confirmation != nil {
			how = t("wish.how." + w.Confirmation.How)
			for _, a := range w.Awards {
				awarded += a.Points
			}
		}
		if in(confirmedAt(w)) {
			points += awarded
		}
		entered := cmp.Or(v.n.user(w.EnteredBy), v.member(w.EnteredMember))
		sh.Rows = append(sh.Rows, []report.Cell{report.NumCell(int64(i + 1)), report.TextCell(w.Title), report.TextCell(w.Resident.Name), report.TextCell(maskWishPhone(w.Resident.Phone)),
			report.TextCell(community), report.TextCell(place), report.TextCell(entered), report.TextCell(w.CreatedAt.In(loc).Format("2006-01-02")), day(verified),
			day(first(w, ledger.WishStepPublish)), day(claim), report.TextCell(claimer), day(w.Step(ledger.WishStepFulfil)), day(w.Step(ledger.WishStepConfirm)),
			report.TextCell(how), report.PointsCell(awarded), report.TextCell(t("wish.status." + string(w.Status)))})
	}
	sh.Total = []report.Cell{report.TextCell(t("wish.ledger.total")), report.TextCell(t("wish.ledger.lines", len(rows)))}
	for len(sh.Total) < 15 {
		sh.Total = append(sh.Total, report.TextCell(""))
	}
	sh.Total = append(sh.Total, report.PointsCell(points), report.TextCell(""))
	sh.Notes = []string{
		t("wish.ledger.counts", fig.Received, fig.Verified, fig.Published, fig.Claimed, fig.Fulfilled, fig.Confirmed, fig.Points),
		t("wish.ledger.rate", fig.Published, fig.Done, pct(fig)),
		t("wish.ledger.rate_means"),
		t("wish.ledger.now", fig.Open, fig.InHand, fig.Waiting),
	}
	return sh, fig
}

// confirmedAt is when the wish was confirmed (zero if not).
func confirmedAt(w ledger.Wish) time.Time {
	if w.Confirmation == nil {
		return time.Time{}
	}
	return w.Confirmation.At
}

// maskWishPhone shows a resident's phone as lists do: a mobile as
// 138****5678, a landline with its area code and last four digits
// (028-****1234); nothing for no phone.
func maskWishPhone(p string) string {
	if p == "" || len(p) == 11 {
		if p == "" {
			return ""
		}
		return ledger.MaskPhone(p)
	}
	head := 3
	if i := strings.IndexByte(p, '-'); i > 0 {
		head = i + 1
	}
	if len(p) < head+4 {
		return "***"
	}
	return p[:head] + strings.Repeat("*", len(p)-head-4) + p[len(p)-4:]
}
