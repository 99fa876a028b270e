package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"aixin/ledger"
)

// OpenLimits returns a fresh, empty rate limit counter.
type OpenLimits func(t *testing.T) ledger.Limits

// RunLimits runs the conformance tests of rate limits and login lockouts
// (ledger.Limits), which the HTTP layer counts in memory on one server and
// in the database on PostgreSQL.
func RunLimits(t *testing.T, open OpenLimits) {
	tests := []struct {
		name string
		fn   func(*testing.T, OpenLimits)
	}{
		{"Windows", testLimitWindows},
		{"NamesApart", testLimitNamesApart},
		{"RacingHitsCountExactly", testLimitRace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

var limitT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// hitWant hits key and fails unless the wait is want.
func hitWant(t *testing.T, s ledger.Limits, l ledger.Limit, key string, now time.Time, want time.Duration) {
	t.Helper()
	got, err := s.HitLimit(context.Background(), l, key, now)
	if err != nil || got != want {
		t.Fatalf("hit %s %q at %v: %v, %v; want %v", l.Name, key, now.Sub(limitT0), got, err, want)
	}
}

// blockedWant looks at key and fails unless the wait is want.
func blockedWant(t *testing.T, s ledger.Limits, l ledger.Limit, key string, now time.Time, want time.Duration) {
	t.Helper()
	got, err := s.LimitBlocked(context.Background(), l, key, now)
	if err != nil || got != want {
		t.Fatalf("blocked %s %q at %v: %v, %v; want %v", l.Name, key, now.Sub(limitT0), got, err, want)
	}
}

// testLimitWindows: a window opens at a key's first event, allows Max
// events, says how long is left after, ends after Period, and a reset
// forgets it.
func testLimitWindows(t *testing.T, open OpenLimits) {
	s := open(t)
	l := ledger.Limit{Name: "login_fail", Max: 3, Period: time.Minute}
	at := func(d time.Duration) time.Time { return limitT0.Add(d) }
	blockedWant(t, s, l, "a", at(0), 0)
	for i := range 3 {
		hitWant(t, s, l, "a", at(time.Duration(i)*time.Second), 0)
	}
	blockedWant(t, s, l, "a", at(10*time.Second), 50*time.Second)
	hitWant(t, s, l, "a", at(10*time.Second), 50*time.Second)
	hitWant(t, s, l, "a", at(20*time.Second), 40*time.Second) // still counted, the window does not move
	blockedWant(t, s, l, "b", at(10*time.Second), 0)
	// The window ends a Period after its first event, however many came after.
	blockedWant(t, s, l, "a", at(time.Minute-time.Millisecond), time.Millisecond)
	blockedWant(t, s, l, "a", at(time.Minute), 0)
	hitWant(t, s, l, "a", at(time.Minute), 0)
	hitWant(t, s, l, "a", at(time.Minute+time.Second), 0)
	hitWant(t, s, l, "a", at(time.Minute+2*time.Second), 0)
	blockedWant(t, s, l, "a", at(time.Minute+3*time.Second), 57*time.Second)
	if err := s.ResetLimit(context.Background(), l, "a"); err != nil {
		t.Fatal(err)
	}
	blockedWant(t, s, l, "a", at(time.Minute+3*time.Second), 0)
	hitWant(t, s, l, "a", at(time.Minute+3*time.Second), 0)
	// Forgetting a key that has no count does nothing.
	if err := s.ResetLimit(context.Background(), l, "never"); err != nil {
		t.Fatal(err)
	}
	// Times below a second survive the store.
	l2 := ledger.Limit{Name: "fine", Max: 1, Period: time.Second}
	hitWant(t, s, l2, "k", at(1234567), 0)
	hitWant(t, s, l2, "k", at(1234567+10), time.Second-10)
}

// testLimitNamesApart: the same key counts apart under two limits, and a
// reset of one leaves the other.
func testLimitNamesApart(t *testing.T, open OpenLimits) {
	s := open(t)
	checkins := ledger.Limit{Name: "checkin", Max: 1, Period: time.Minute}
	vouchers := ledger.Limit{Name: "voucher", Max: 1, Period: time.Minute}
	hitWant(t, s, checkins, "u", limitT0, 0)
	hitWant(t, s, vouchers, "u", limitT0, 0)
	hitWant(t, s, checkins, "u", limitT0, time.Minute)
	if err := s.ResetLimit(context.Background(), vouchers, "u"); err != nil {
		t.Fatal(err)
	}
	blockedWant(t, s, checkins, "u", limitT0, time.Minute)
	blockedWant(t, s, vouchers, "u", limitT0, 0)
}

// testLimitRace: many hits of one key at once are each counted exactly
// once: exactly Max of them are let through.
func testLimitRace(t *testing.T, open OpenLimits) {
	s := open(t)
	const hits, allowed = 64, 10
	l := ledger.Limit{Name: "login_fail", Max: allowed, Period: 15 * time.Minute}
	var wg sync.WaitGroup
	var mu sync.Mutex
	through, limited := 0, 0
	for range hits {
		wg.Go(func() {
			wait, err := s.HitLimit(context.Background(), l, "target", limitT0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Error(err)
			case wait == 0:
				through++
			default:
				limited++
			}
		})
	}
	wg.Wait()
	if through != allowed || limited != hits-allowed {
		t.Fatalf("%d hits let through and %d limited, want %d and %d", through, limited, allowed, hits-allowed)
	}
	blockedWant(t, s, l, "target", limitT0.Add(time.Minute), 14*time.Minute)
}
