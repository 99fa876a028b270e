package postgres_test

import (
	"context"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/postgres"
	"aixin/store/storetest"

	"github.com/jackc/pgx/v5"
)

func TestLimits(t *testing.T) {
	storetest.RunLimits(t, func(t *testing.T) ledger.Limits {
		s, _ := openTest(t, postgres.Options{})
		return s
	})
}

// TestLimitsSharedAndSwept: two app servers count one login's failures
// together, a hit after the window starts it again, and the sweep deletes
// the ended windows, more than a chunk of them, and keeps the rest.
func TestLimitsSharedAndSwept(t *testing.T) {
	ctx := context.Background()
	a, url := openTest(t, postgres.Options{})
	b, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	t0 := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	lockout := ledger.Limit{Name: "login_fail", Max: 5, Period: 15 * time.Minute}
	perIP := ledger.Limit{Name: "login_ip", Max: 20, Period: time.Minute}
	for i := range 5 {
		s := []*postgres.Store{a, b}[i%2]
		if wait, err := s.HitLimit(ctx, lockout, "donghe", t0.Add(time.Duration(i)*time.Second)); wait != 0 || err != nil {
			t.Fatalf("failure %d: %v %v", i+1, wait, err)
		}
	}
	for _, s := range []*postgres.Store{a, b} {
		if wait, err := s.LimitBlocked(ctx, lockout, "donghe", t0.Add(time.Minute)); wait != 14*time.Minute || err != nil {
			t.Fatalf("locked for %v, %v; want 14m on both servers", wait, err)
		}
	}
	// The window ends 15 minutes after the first failure: a hit then
	// starts a new one, with a count of one.
	if wait, err := b.HitLimit(ctx, lockout, "donghe", t0.Add(15*time.Minute)); wait != 0 || err != nil {
		t.Fatalf("after the window: %v %v", wait, err)
	}
	for range 4 {
		a.HitLimit(ctx, lockout, "donghe", t0.Add(16*time.Minute))
	}
	if wait, _ := a.LimitBlocked(ctx, lockout, "donghe", t0.Add(16*time.Minute)); wait != 14*time.Minute {
		t.Fatalf("the new window: locked for %v, want 14m", wait)
	}

	// 2,500 client addresses hit once at t0 (their windows end at t0+1m).
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const flood = 2500
	if _, err := conn.Exec(ctx, `INSERT INTO rate_limits (name, key, window_start, window_end, count)
		SELECT 'login_ip', '10.0.' || n, $1, $2, 1 FROM generate_series(1, $3) AS n`,
		t0.UnixNano(), t0.Add(time.Minute).UnixNano(), flood); err != nil {
		t.Fatal(err)
	}
	if _, err := a.HitLimit(ctx, perIP, "203.0.113.9", t0.Add(16*time.Minute)); err != nil {
		t.Fatal(err)
	}
	rows := func() int {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM rate_limits`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := rows(); n != flood+2 {
		t.Fatalf("%d rows before the sweep", n)
	}
	res, err := b.SweepLimits(ctx, t0.Add(16*time.Minute+30*time.Second))
	if err != nil || res.Done != flood || res.Skipped {
		t.Fatalf("sweep: %+v %v; want %d deleted", res, err, flood)
	}
	// Left: the login's lockout (to t0+30m) and the address of t0+16m.
	if n := rows(); n != 2 {
		t.Fatalf("%d rows after the sweep, want 2", n)
	}
	if wait, _ := a.LimitBlocked(ctx, lockout, "donghe", t0.Add(17*time.Minute)); wait != 13*time.Minute {
		t.Fatalf("the sweep touched a window that lasts: %v", wait)
	}
	if res, err := a.SweepLimits(ctx, t0.Add(31*time.Minute)); err != nil || res.Done != 2 || rows() != 0 {
		t.Fatalf("the last sweep: %+v %v, %d rows left", res, err, rows())
	}
}
