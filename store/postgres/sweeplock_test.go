package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/postgres"
	"aixin/store/storetest"

	"github.com/google/uuid"
)

// TestSweepsOneServerAtATime: two app servers on one database expire the
// same due vouchers. While one holds the sweep's lock the other skips,
// and says so; every voucher is released once.
func TestSweepsOneServerAtATime(t *testing.T) {
	t.Run("Held", func(t *testing.T) {
		w, a, b := twoShopServers(t)
		vouchers := issueDue(t, w, 8)
		locked, release := make(chan struct{}), make(chan struct{})
		postgres.SetSweepLocked(a, func(int64) {
			close(locked)
			<-release
		})
		done := make(chan ledger.SweepResult)
		go func() {
			res, err := a.ExpireVouchers(context.Background())
			if err != nil {
				t.Error(err)
			}
			done <- res
		}()
		<-locked
		res, err := b.ExpireVouchers(context.Background())
		if err != nil || !res.Skipped || res.Done != 0 {
			t.Fatalf("server B while A sweeps: %+v %v; want skipped", res, err)
		}
		if n := b.Stats().SweepsSkipped["voucher_expiry"]; n != 1 {
			t.Fatalf("server B counted %d skipped voucher expiry runs, want 1", n)
		}
		close(release)
		if res := <-done; res.Skipped || res.Done != len(vouchers) {
			t.Fatalf("server A: %+v; want %d released", res, len(vouchers))
		}
		// The lock went with A's sweep: B sweeps again, and finds nothing due.
		if res, err := b.ExpireVouchers(context.Background()); err != nil || res.Skipped || res.Done != 0 {
			t.Fatalf("server B after A: %+v %v", res, err)
		}
		wantReleasedOnce(t, w, vouchers)
	})
	t.Run("AtOnce", func(t *testing.T) {
		w, a, b := twoShopServers(t)
		vouchers := issueDue(t, w, 8)
		var wg sync.WaitGroup
		results := make([]ledger.SweepResult, 2)
		for i, s := range []*postgres.Store{a, b} {
			wg.Go(func() {
				var err error
				if results[i], err = s.ExpireVouchers(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got := results[0].Done + results[1].Done; got != len(vouchers) {
			t.Fatalf("results %+v: %d released, want %d", results, got, len(vouchers))
		}
		t.Logf("skipped: A %v, B %v", results[0].Skipped, results[1].Skipped)
		wantReleasedOnce(t, w, vouchers)
	})
	t.Run("Sessions", func(t *testing.T) {
		a, url := openTest(t, postgres.Options{})
		b, err := postgres.Open(context.Background(), url, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		locked, release := make(chan struct{}), make(chan struct{})
		postgres.SetSweepLocked(a, func(int64) {
			close(locked)
			<-release
		})
		swept := make(chan error)
		go func() {
			_, err := a.DeleteExpiredSessions(context.Background(), time.Now())
			swept <- err
		}()
		<-locked
		defer func() {
			close(release)
			if err := <-swept; err != nil {
				t.Error(err)
			}
		}()
		// Another sweep than the one held runs; the held one is skipped.
		if n, err := b.DeleteExpiredSessions(context.Background(), time.Now()); n != 0 || err != nil {
			t.Fatalf("session sweep while another server sweeps: %d %v", n, err)
		}
		if res, err := b.ExpireVouchers(context.Background()); err != nil || res.Skipped {
			t.Fatalf("another sweep was held up: %+v %v", res, err)
		}
		if res, err := b.SweepLimits(context.Background(), time.Now()); err != nil || res.Skipped {
			t.Fatalf("the limits sweep was held up: %+v %v", res, err)
		}
	})
}

// twoShopServers makes the shops' world on one store and opens a second
// store, another app server, on its database with the same clock.
func twoShopServers(t *testing.T) (*storetest.ShopWorld, *postgres.Store, *postgres.Store) {
	t.Helper()
	var a *postgres.Store
	var url string
	w := storetest.NewShopWorld(t, func(t *testing.T, clock func() time.Time) storetest.ShopsStore {
		a, url = openTest(t, postgres.Options{Now: clock})
		return a
	}, 300)
	b, err := postgres.Open(context.Background(), url, postgres.Options{Now: w.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if rep, err := b.Verify(context.Background()); err != nil || !rep.OK {
			t.Errorf("verify: %+v %v", rep, err)
		}
		b.Close()
	})
	return w, a, b
}

// issueDue issues n vouchers of one bag of rice and moves the clock past
// their expiry.
func issueDue(t *testing.T, w *storetest.ShopWorld, n int) []ledger.Voucher {
	t.Helper()
	var vs []ledger.Voucher
	for range n {
		v, err := w.S.IssueVoucher(context.Background(), w.Member.ID, w.ShopA.ID,
			[]ledger.VoucherRequestLine{{ItemID: w.Rice.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, "")
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	w.Clock.Set(vs[len(vs)-1].ExpiresAt.Add(time.Second))
	return vs
}

// wantReleasedOnce checks that every voucher expired, the member's points
// came back once (one release entry each), and no rice stays reserved.
func wantReleasedOnce(t *testing.T, w *storetest.ShopWorld, vs []ledger.Voucher) {
	t.Helper()
	ctx := context.Background()
	for _, v := range vs {
		got, err := w.S.Voucher(ctx, v.ID)
		if err != nil || got.Status != ledger.VoucherExpired {
			t.Fatalf("voucher %s: %s %v", v.ID, got.Status, err)
		}
	}
	entries, err := w.S.AccountEntries(ctx, ledger.MemberAccount(w.Member.ID), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	released := map[string]int{}
	for _, e := range entries {
		if e.Kind == ledger.KindRelease {
			released[e.Reference]++
		}
	}
	for _, v := range vs {
		if n := released[v.Reference()]; n != 1 {
			t.Errorf("voucher %s released %d times; releases %v", v.ID, n, released)
		}
	}
	if avail, held := w.Balance(t); avail != 300 || held != 0 {
		t.Fatalf("available %d, held %d; want 300 and 0", avail, held)
	}
	if rice, _ := w.S.Item(ctx, w.Rice.ID); rice.Reserved != 0 {
		t.Fatalf("rice reserved %d", rice.Reserved)
	}
}
