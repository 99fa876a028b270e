package handlers

import (
	"cmp"
	"math"
	"net/http"
	"slices"
	"strconv"

	"aixin/ledger"
	"aixin/report"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// The public monthly points notice (积分公示) of a community that opted in:
// who earned how much (names masked), the month's totals, and the ledger's
// chain at the month's end, so that anyone can later check that the month
// was not rewritten.

// noticeRows is how many people the notice ranks at most.
const noticeRows = 50

type noticeRow struct {
	Rank    int
	Name    string
	Hours   string
	Earned  ledger.Points
	Minutes int64
}

func (s *server) noticePage(c echo.Context) error {
	ctx := c.Request().Context()
	d := struct {
		pageData
		Found            bool
		Unit, Month      string
		PrevMonth        string
		NextMonth        string
		Rows             []noticeRow
		People, Active   int
		Earned, Redeemed ledger.Points
		Hours            string
		EndSeq           uint64
		EndHash          string
		MonthNotOver     bool
		// The objection period (公示期), as dates, and whom to call.
		PeriodFrom, PeriodTo string
		PeriodDays           int
		Contact              string
		// Awards are the behaviour awards in their notice period.
		Awards awardNotice
		// Households are the month's household totals (一家亲), by place.
		Households noticeHouseholds
	}{pageData: s.pageData(c)}
	render := func(status int) error { return s.render(c, status, "notice.html", d) }
	id, err := uuid.Parse(c.Param("unit"))
	if err != nil {
		return render(http.StatusNotFound)
	}
	unit, err := s.cfg.Directory.Unit(ctx, id)
	if ledger.ErrorCode(err) == ledger.ENOTFOUND || (err == nil && !unit.PublicNotice) {
		return render(http.StatusNotFound)
	} else if err != nil {
		return err
	}
	now := ledger.MonthOf(s.cfg.Now(), s.cfg.Location)
	month := now.AddMonths(-1) // the last whole month
	if v := c.QueryParam("month"); v != "" {
		if month, err = ledger.ParseMonth(v); err != nil || month > now {
			return render(http.StatusNotFound)
		}
	}
	members, err := s.cfg.Directory.Members(ctx, ledger.MemberFilter{Scope: ledger.Scope{Unit: unit.ID}, Limit: math.MaxInt32})
	if err != nil {
		return err
	}
	ids := make([]uuid.UUID, len(members))
	names := make(map[uuid.UUID]string, len(members))
	for i, m := range members {
		ids[i], names[m.ID] = m.ID, m.Name
	}
	rep, err := s.cfg.Reports.MonthReport(ctx, month, ids, []uuid.UUID{})
	if err != nil {
		return err
	}
	if d.Households, err = s.householdNotice(ctx, unit, month); err != nil {
		return err
	}
	var minutes int64
	for _, mm := range rep.Members {
		minutes += mm.Minutes
		d.Earned += mm.Gained()
		d.Redeemed += mm.Redeemed
		if mm.Active() {
			d.Active++
		}
	}
	ranked := slices.Clone(rep.Members)
	slices.SortFunc(ranked, func(a, b ledger.MemberMonth) int {
		return cmp.Or(cmp.Compare(b.Gained(), a.Gained()), cmp.Compare(b.Minutes, a.Minutes))
	})
	for _, mm := range ranked {
		if len(d.Rows) == noticeRows || mm.Gained() <= 0 {
			break
		}
		d.Rows = append(d.Rows, noticeRow{Rank: len(d.Rows) + 1, Name: ledger.MaskName(names[mm.MemberID]), Earned: mm.Gained(),
			Hours: strconv.FormatFloat(report.Hours(mm.Minutes), 'f', 1, 64)})
	}
	d.Found, d.Unit, d.Month, d.People = true, unit.Name, month.String(), len(members)
	d.Hours = strconv.FormatFloat(report.Hours(minutes), 'f', 1, 64)
	d.PrevMonth = month.AddMonths(-1).String()
	if month < now {
		d.NextMonth = month.Next().String()
	}
	d.MonthNotOver = month == now
	from, to := unit.NoticePeriod(month, s.cfg.Location)
	d.PeriodFrom, d.PeriodTo = from.Format("2006-01-02"), to.Format("2006-01-02")
	d.PeriodDays = cmp.Or(unit.NoticeDays, ledger.DefaultNoticeDays)
	d.Contact = unit.NoticeContact
	if d.Awards, err = s.noticeAwards(ctx, unit, d.Lang); err != nil {
		return err
	}
	if rep.MonthEndSeq > 0 {
		d.EndSeq, d.EndHash = rep.MonthEndSeq, rep.MonthEndHash.String()
	}
	return render(http.StatusOK)
}
