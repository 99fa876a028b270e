package handlers

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/report"
)

func TestDashboard(t *testing.T) {
	e, w := exportWorld(t)
	orgA, admin := e.session(w.users["organizerA"]), e.session(w.users["admin"])
	var d report.Dashboard
	e.get("/api/v1/dashboard?month=2026-03", orgA).decode(t, &d)
	if d.Month != "2026-03" || len(d.Months) != 12 || d.Months[0].Month != 202504 || d.Months[11].Month != 202603 {
		t.Fatalf("months: %+v", d.Months)
	}
	// A: 1000 to 志愿者A, 1 + 7 − 7 to 队员A; nothing redeemed in March (A's voucher went in April).
	if d.People != 2 || d.Active != 2 || d.Earned != 1001 || d.Redeemed != 0 || d.Minutes != 10 {
		t.Fatalf("organiser A: %+v", d)
	}
	if len(d.Teams) != 1 || d.Teams[0].Name != "党员志愿服务队" || d.Teams[0].Earned != 1000 {
		t.Fatalf("teams: %+v", d.Teams)
	}
	if len(d.Categories) != 1 || d.Categories[0].Category != "环境整治" || d.Categories[0].Minutes != 10 || d.Categories[0].Events != 1 {
		t.Fatalf("categories: %+v", d.Categories)
	}
	if len(d.LowStock) != 0 {
		t.Fatalf("low stock: %+v", d.LowStock)
	}
	// April: the redemption, and a shop that has run low.
	e.get("/api/v1/dashboard?month=2026-04", admin).decode(t, &d)
	if d.Redeemed != 10 || d.Earned != 5 || d.Months[10].Redeemed != 10 {
		t.Fatalf("admin, April: %+v", d)
	}
	// The charts are well-formed SVG with the months on them, and no script.
	for _, path := range []string{"/api/v1/dashboard/points.svg?month=2026-03", "/api/v1/dashboard/categories.svg?month=2026-03"} {
		res := e.get(path, orgA)
		wantStatus(t, res, http.StatusOK)
		if res.Header.Get("Content-Type") != "image/svg+xml" {
			t.Fatalf("%s: %s", path, res.Header.Get("Content-Type"))
		}
		dec := xml.NewDecoder(strings.NewReader(string(res.body)))
		for {
			tok, err := dec.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("%s is not well-formed: %v", path, err)
				}
				break
			}
			if se, ok := tok.(xml.StartElement); ok && strings.EqualFold(se.Name.Local, "script") {
				t.Fatalf("%s has a script", path)
			}
		}
	}
	body := string(e.get("/api/v1/dashboard/points.svg?month=2026-03", orgA).body)
	for _, want := range []string{"3月", "2026 1月", "获得积分"} {
		if !strings.Contains(body, want) {
			t.Fatalf("points chart lacks %q", want)
		}
	}
	if !strings.Contains(string(e.get("/api/v1/dashboard/categories.svg?month=2026-03", orgA).body), "环境整治") {
		t.Fatal("categories chart lacks its category")
	}
	// In English the category has its English name; the stored one stays Chinese.
	if en := string(e.get("/api/v1/dashboard/categories.svg?month=2026-03&lang=en", orgA).body); !strings.Contains(en, "Environment clean-up") || strings.Contains(en, "环境整治") {
		t.Fatalf("English categories chart:\n%s", en)
	}
	wantStatus(t, e.get("/api/v1/dashboard?month=2026-13", orgA), http.StatusBadRequest)
	wantStatus(t, e.get("/api/v1/dashboard", e.session(w.users["volunteer"])), http.StatusForbidden)
}

// TestDashboardKeptInMemory: a dashboard is fresh for dashboardTTL; then the
// copy in memory is served at once while a refresh runs behind it, and the
// refreshed figures follow; a copy older than dashboardStale is not served.
func TestDashboardKeptInMemory(t *testing.T) {
	e, w := exportWorld(t)
	admin := e.session(w.users["admin"])
	iss := ledger.IssuerAccount(w.unit["A"].ID)
	earn := func(n ledger.Points) {
		t.Helper()
		if _, err := e.store.Append(ctx, ledger.Transfer{Debit: iss, Credit: ledger.MemberAccount(w.member["A"].ID), Amount: n, Kind: ledger.KindEarn, Minutes: 10}); err != nil {
			t.Fatal(err)
		}
	}
	earned := func() ledger.Points {
		t.Helper()
		var d report.Dashboard
		e.get("/api/v1/dashboard?month=2026-04", admin).decode(t, &d)
		return d.Earned
	}
	if got := earned(); got != 5 {
		t.Fatalf("April earned %d, want 5", got)
	}
	earn(3)
	if got := earned(); got != 5 {
		t.Fatalf("within %v the dashboard is served from memory: earned %d, want 5", dashboardTTL, got)
	}
	e.clock.Add(dashboardTTL + time.Second)
	if got := earned(); got != 5 {
		t.Fatalf("the first look after %v gets the copy in memory: earned %d, want 5", dashboardTTL, got)
	}
	// The refresh it started brings the 3 points.
	for i := 0; earned() != 8; i++ {
		if i == 500 {
			t.Fatal("the dashboard was never refreshed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	earn(2)
	e.clock.Add(dashboardStale)
	if got := earned(); got != 10 {
		t.Fatalf("after %v the dashboard is computed again: earned %d, want 10", dashboardStale, got)
	}
}

func TestKeepDashboardForgetsOldOnes(t *testing.T) {
	s := &server{}
	now := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	s.keepDashboard("old", now, report.Dashboard{})
	s.keepDashboard("recent", now.Add(dashboardStale-time.Minute), report.Dashboard{})
	s.keepDashboard("new", now.Add(dashboardStale), report.Dashboard{})
	var kept []string
	s.dashboards.Range(func(k, _ any) bool { kept = append(kept, k.(string)); return true })
	slices.Sort(kept)
	if !slices.Equal(kept, []string{"new", "recent"}) {
		t.Fatalf("kept %v", kept)
	}
}

// flakyReports fails or panics in MonthSums on demand, around the real store.
type flakyReports struct {
	ledger.Reports
	mode  atomic.Value // "", "fail" or "panic"
	calls atomic.Int32
}

func (f *flakyReports) MonthSums(ctx context.Context, first, last ledger.Month, members []ledger.Account) ([]ledger.MonthSum, error) {
	f.calls.Add(1)
	switch f.mode.Load() {
	case "fail":
		return nil, errors.New("the disk is unwell")
	case "panic":
		panic("a bug in the figures")
	}
	return f.Reports.MonthSums(ctx, first, last, members)
}

// TestDashboardRefreshFails: a refresh behind the stale copy that fails, or
// panics, keeps the server up and the copy served, and the next look tries again.
func TestDashboardRefreshFails(t *testing.T) {
	flaky := &flakyReports{}
	flaky.mode.Store("")
	e := newEnv(t, func(c *Config) { flaky.Reports = c.Reports; c.Reports = flaky })
	admin := e.session(e.users[ledger.RoleAdmin])
	// look asks for the dashboard until a computation past the first n has
	// started: each look is answered from memory, and starts a refresh
	// unless one is still running.
	look := func(n int32) {
		t.Helper()
		for i := 0; ; i++ {
			wantStatus(t, e.get("/api/v1/dashboard", admin), http.StatusOK)
			if flaky.calls.Load() > n {
				return
			}
			if i == 500 {
				t.Fatalf("no refresh: %d computations", flaky.calls.Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	look(0)
	for _, mode := range []string{"fail", "panic", ""} {
		flaky.mode.Store(mode)
		e.clock.Add(dashboardTTL + time.Second)
		look(flaky.calls.Load())
	}
	// Each refresh began only once the one before had given up: both were logged.
	logged := map[string]bool{}
	for _, l := range e.logs.lines(t) {
		logged[fmt.Sprint(l["msg"])] = true
	}
	if !logged["dashboard refresh panicked"] || !logged["dashboard refresh failed"] {
		t.Fatalf("the failed refreshes are not logged: %v", logged)
	}
}
