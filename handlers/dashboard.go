package handlers

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"aixin/ledger"
	"aixin/report"

	"github.com/labstack/echo/v4"
)

// The organiser's dashboard: for the caller's subtree and a month, points
// earned against redeemed over twelve months, hours by service category,
// the most active teams and the items running low. Charts are SVG drawn
// here, served as images: nothing from a chart library or a CDN. The
// figures are report.ComputeDashboard's; here they are kept in memory.

// dashboardMonth reads ?month=, the current month when left out.
func (s *server) dashboardMonth(c echo.Context) (ledger.Month, error) {
	if v := c.QueryParam("month"); v != "" {
		return ledger.ParseMonth(v)
	}
	return ledger.MonthOf(s.cfg.Now(), s.cfg.Location), nil
}

// A dashboard is served from memory: on a busy morning many organisers look
// at the same figures, which cost a pass over the month's members and
// attendances. For dashboardTTL it is fresh; after that, until dashboardStale,
// the copy in memory is still served at once while one refresh runs in the
// background, so that no organiser waits for the pass; older copies are
// computed again while the organiser waits, and dropped from memory.
const (
	dashboardTTL   = 30 * time.Second
	dashboardStale = 10 * time.Minute
)

type cachedDashboard struct {
	at         time.Time
	d          report.Dashboard
	refreshing atomic.Bool // one background refresh at a time
}

func (s *server) buildDashboard(c echo.Context, month ledger.Month, full bool) (report.Dashboard, error) {
	u, _ := currentUser(c)
	scope := scopeOf(u)
	key := fmt.Sprintf("%v|%v|%v|%v", scope.All, scope.Unit, month, full)
	now := s.cfg.Now()
	if v, ok := s.dashboards.Load(key); ok {
		cd := v.(*cachedDashboard)
		switch age := now.Sub(cd.at); {
		case age >= 0 && age < dashboardTTL:
			return cd.d, nil
		case age >= 0 && age < dashboardStale:
			if cd.refreshing.CompareAndSwap(false, true) {
				ctx := context.WithoutCancel(c.Request().Context())
				go s.refreshDashboard(ctx, key, cd, scope, month, full, now)
			}
			return cd.d, nil
		}
	}
	d, err := s.computeDashboard(c.Request().Context(), scope, month, full)
	if err == nil {
		s.keepDashboard(key, now, d)
	}
	return d, err
}

// refreshDashboard computes the dashboard behind the stale copy old, outside
// any request: it replaces old unless a newer copy has taken its place, and on
// failure (or a panic, which must not take the server down) leaves old to be
// refreshed by the next look.
func (s *server) refreshDashboard(ctx context.Context, key string, old *cachedDashboard, scope ledger.Scope, month ledger.Month, full bool, now time.Time) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			s.cfg.Logger.Error("dashboard refresh panicked", "panic", r, "stack", string(debug.Stack()))
			old.refreshing.Store(false)
		}
	}()
	d, err := s.computeDashboard(ctx, scope, month, full)
	if err != nil {
		s.cfg.Logger.Warn("dashboard refresh failed", "err", err)
		old.refreshing.Store(false)
		return
	}
	if s.dashboards.CompareAndSwap(key, old, &cachedDashboard{at: now, d: d}) {
		s.forgetDashboards(now)
	}
}

// keepDashboard remembers a dashboard computed at now and forgets those
// too old to be served, so that months looked at once do not stay.
func (s *server) keepDashboard(key string, now time.Time, d report.Dashboard) {
	s.dashboards.Store(key, &cachedDashboard{at: now, d: d})
	s.forgetDashboards(now)
}

func (s *server) forgetDashboards(now time.Time) {
	s.dashboards.Range(func(k, v any) bool {
		if age := now.Sub(v.(*cachedDashboard).at); age >= dashboardStale || age < -dashboardStale {
			s.dashboards.CompareAndDelete(k, v) // not a fresh copy stored meanwhile
		}
		return true
	})
}

// dashboardFor builds the dashboard of the request's month (full: with
// teams, categories and stock) and a translator for the request's language.
func (s *server) dashboardFor(c echo.Context, full bool) (report.Dashboard, func(string, ...any) string, error) {
	lang := s.lang(c)
	t := func(key string, args ...any) string { return s.cat.T(lang, key, args...) }
	month, err := s.dashboardMonth(c)
	if err != nil {
		return report.Dashboard{}, t, err
	}
	d, err := s.buildDashboard(c, month, full)
	return d, t, err
}

func (s *server) getDashboard(c echo.Context) error {
	d, _, err := s.dashboardFor(c, true)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// pointsChart draws earned (red) against redeemed (blue) points for twelve months.
func (s *server) pointsChart(c echo.Context) error {
	d, t, err := s.dashboardFor(c, false)
	if err != nil {
		return err
	}
	lang := s.lang(c)
	const w, h, left, bottom, top = 720, 280, 56, 36, 36
	var peak ledger.Points = 1
	for _, m := range d.Months {
		peak = max(peak, m.Earned, m.Redeemed)
	}
	scale := niceCeiling(peak)
	var b strings.Builder
	svgOpen(&b, w, h, t("dash.points_title"))
	plotH := float64(h - bottom - top)
	for i := 0; i <= 4; i++ { // grid lines and their values
		y := float64(top) + plotH*float64(4-i)/4
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e6e6e6"/>`, left, y, w-8, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" font-size="11" fill="#666">%d</text>`, left-6, y+4, scale*int64(i)/4)
	}
	slot := float64(w-left-8) / float64(len(d.Months))
	for i, m := range d.Months {
		x := float64(left) + slot*float64(i)
		for j, v := range []ledger.Points{m.Earned, m.Redeemed} {
			bh := plotH * float64(v) / float64(scale)
			color := [2]string{"#c62828", "#1a4fb5"}[j]
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`,
				x+slot*0.15+float64(j)*slot*0.35, float64(top)+plotH-bh, slot*0.33, bh, color,
				html.EscapeString(t([2]string{"dash.earned_tip", "dash.redeemed_tip"}[j], m.Month.String(), v)))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" font-size="11" fill="#444">%s</text>`,
			x+slot/2, h-bottom+16, monthLabel(m.Month, lang))
	}
	legend(&b, w-250, 14, []string{"#c62828", "#1a4fb5"}, []string{t("dash.earned"), t("dash.redeemed")})
	b.WriteString(`</svg>`)
	return svgBlob(c, b.String())
}

// categoriesChart draws the month's hours by service category as bars.
func (s *server) categoriesChart(c echo.Context) error {
	d, t, err := s.dashboardFor(c, true) // the page has just built it: from memory
	if err != nil {
		return err
	}
	const w, row = 720, 30
	lang := s.lang(c)
	left := 110
	if lang != langZH {
		left = 200 // Elderly and disabled care
	}
	h := max(60, 24+row*len(d.Categories))
	var b strings.Builder
	svgOpen(&b, w, h, t("dash.categories_title"))
	if len(d.Categories) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="36" text-anchor="middle" font-size="14" fill="#666">%s</text>`, w/2, html.EscapeString(t("dash.no_events")))
	}
	var peak int64 = 1
	for _, cat := range d.Categories {
		peak = max(peak, cat.Minutes)
	}
	for i, cat := range d.Categories {
		y := 12 + row*i
		bw := float64(w-left-120) * float64(max(0, cat.Minutes)) / float64(peak) // a month's corrections may take time back
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="13" fill="#222">%s</text>`, left-8, y+15, html.EscapeString(s.cat.Category(lang, cat.Category)))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="20" rx="3" fill="#e57373"/>`, left, y+1, bw)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" fill="#444">%s</text>`, float64(left)+bw+6, y+15,
			html.EscapeString(t("dash.hours_events", report.Hours(cat.Minutes), cat.Events)))
	}
	b.WriteString(`</svg>`)
	return svgBlob(c, b.String())
}

// monthLabel is a chart's month: 11月, or Nov; January says its year.
func monthLabel(m ledger.Month, lang string) string {
	mo := int(m) % 100
	label := time.Month(mo).String()[:3]
	if lang == "zh-CN" {
		label = strconv.Itoa(mo) + "月"
	}
	if mo == 1 {
		label = strconv.Itoa(int(m)/100) + " " + label
	}
	return label
}

func svgOpen(b *strings.Builder, w, h int, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" font-family="Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif">`, w, h, w, h)
	fmt.Fprintf(b, `<title>%s</title><rect width="100%%" height="100%%" fill="#fff"/>`, html.EscapeString(title))
}

func legend(b *strings.Builder, x, y int, colors, labels []string) {
	for i := range colors {
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d" font-size="12" fill="#222">%s</text>`,
			x+i*120, y-10, colors[i], x+i*120+16, y, html.EscapeString(labels[i]))
	}
}

// niceCeiling is the chart's top: four grid steps of 1, 2 or 5 times a
// power of ten, at least v.
func niceCeiling(v int64) int64 {
	need := (v + 3) / 4
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= need {
				return 4 * m * p
			}
		}
	}
}

func svgBlob(c echo.Context, svg string) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "private, max-age=60")
	// The image is ours and holds no script; say so twice.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	return c.Blob(http.StatusOK, "image/svg+xml", []byte(svg))
}

// computeDashboard computes the figures of a dashboard (report.ComputeDashboard).
func (s *server) computeDashboard(ctx context.Context, scope ledger.Scope, month ledger.Month, full bool) (report.Dashboard, error) {
	return report.ComputeDashboard(ctx, report.DashboardDeps{Directory: s.cfg.Directory, Households: s.cfg.Households,
		Reports: s.cfg.Reports, Events: s.cfg.Events, Shops: s.cfg.Shops, Wishes: s.cfg.Wishes}, scope, month, full, s.cfg.Location)
}
