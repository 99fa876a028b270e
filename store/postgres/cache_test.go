package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"aixin/ledger"
	"aixin/store/postgres"
	"aixin/store/postgres/pgtest"

	"github.com/google/uuid"
)

// TestRowCacheFollowsOtherServers tries to make an app server act on rows
// it remembers after another server changed them. Two app servers share
// one database; each keeps the account rows of its last commit in memory
// and may use them only while the chain head is where it left it.
//
//   - Turns: A earns a member points, B earns the same member points, A
//     holds them all (it must see B's): a stale row would refuse or
//     overdraw.
//   - An account B opens is one A finds, though A looked for it before.
//   - A race: a member with 100 points; 16 goroutines on each server hold
//     10 points at a time. Exactly ten holds succeed, the balance ends at
//     zero, and the journal, balances and monthly totals verify.
func TestRowCacheFollowsOtherServers(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	a, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	issuer, m := ledger.IssuerAccount(uuid.New()), ledger.MemberAccount(uuid.New())
	for _, acc := range []ledger.Account{issuer, m} {
		if err := a.OpenAccount(ctx, acc); err != nil {
			t.Fatal(err)
		}
	}
	earn := func(s *postgres.Store, to ledger.Account, n ledger.Points) {
		t.Helper()
		if _, err := s.Append(ctx, ledger.Transfer{Debit: issuer, Credit: to, Amount: n, Kind: ledger.KindEarn, Minutes: 60}); err != nil {
			t.Fatal(err)
		}
	}
	hold := func(s *postgres.Store, from ledger.Account, n ledger.Points) error {
		_, err := s.Append(ctx, ledger.Transfer{Debit: from, Credit: ledger.Escrow, Amount: n, Kind: ledger.KindHold})
		return err
	}

	earn(a, m, 30)
	earn(b, m, 40)
	earn(a, m, 30) // A's row of m said 30 before B wrote
	if err := hold(a, m, 100); err != nil {
		t.Fatalf("A does not see the points B posted: %v", err)
	}
	if err := hold(b, m, 1); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("B holds a point of an empty account: %v", err)
	}

	// An account A looked for before B opened it.
	late := ledger.MemberAccount(uuid.New())
	if _, err := a.Append(ctx, ledger.Transfer{Debit: issuer, Credit: late, Amount: 5, Kind: ledger.KindEarn}); ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Fatalf("an earn to an account not open: %v", err)
	}
	if err := b.OpenAccount(ctx, late); err != nil {
		t.Fatal(err)
	}
	earn(a, late, 5)

	// The race.
	racer := ledger.MemberAccount(uuid.New())
	if err := b.OpenAccount(ctx, racer); err != nil {
		t.Fatal(err)
	}
	earn(b, racer, 100)
	var held atomic.Int64
	var wg sync.WaitGroup
	for _, s := range []*postgres.Store{a, b, a, b} {
		for range 8 {
			wg.Go(func() {
				for range 4 {
					err := hold(s, racer, 10)
					switch {
					case err == nil:
						held.Add(1)
					case ledger.ErrorCode(err) != ledger.ECONFLICT:
						t.Error(err)
					}
					earnErr := error(nil)
					if held.Load()%3 == 0 { // the other accounts move too
						_, earnErr = s.Append(ctx, ledger.Transfer{Debit: issuer, Credit: m, Amount: 1, Kind: ledger.KindEarn})
					}
					if earnErr != nil {
						t.Error(earnErr)
					}
				}
			})
		}
	}
	wg.Wait()
	if held.Load() != 10 {
		t.Fatalf("%d holds of 10 points succeeded on 100 points", held.Load())
	}
	for _, s := range []*postgres.Store{a, b} {
		bal, err := s.Balance(ctx, racer)
		if err != nil || bal.Points != 0 {
			t.Fatalf("balance after the race: %+v %v", bal, err)
		}
	}
	rep, err := a.Verify(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}
