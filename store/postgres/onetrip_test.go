package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"aixin/ledger"
	"aixin/store/postgres/pgtest"

	"github.com/google/uuid"
)

// TestOneTrip tries to make a batch that decides before it reads act on
// what it did not read: a key used before, and rows another app server
// changed. Two app servers share one database.
//
//   - Once A found the head where it left it, its next batch of appends
//     takes one round trip.
//   - A replay of a key, and the same key with another amount: the first
//     entry, and a conflict; nothing is appended twice.
//   - B writes; A's next batch finds the head moved, runs again the usual
//     way and sees B's points: A can hold them all, and not one more.
//   - A replay of a key whose transfer would now be refused gets its
//     first entry; a hold of points only another server saw is not
//     refused from A's cache.
//   - 64 writers on A at once, each key sent by two of them: one entry a
//     key; the balance and verify agree.
func TestOneTrip(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	a, err := Open(ctx, url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, url, Options{})
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
	earn := func(s *Store, n ledger.Points, key string) (ledger.Entry, error) {
		return s.Append(ctx, ledger.Transfer{Debit: issuer, Credit: m, Amount: n, Kind: ledger.KindEarn,
			Minutes: 30, IdempotencyKey: key})
	}
	balance := func(s *Store) ledger.Points {
		t.Helper()
		bal, err := s.Balance(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		return bal.Points
	}
	for range 3 {
		if _, err := earn(a, 10, ""); err != nil {
			t.Fatal(err)
		}
	}
	if !a.trustCache {
		t.Fatal("after three batches alone, A does not trust its cache")
	}

	trips := a.stats.oneTrip.Load()
	first, err := earn(a, 10, "key-1")
	if err != nil {
		t.Fatal(err)
	}
	if got := a.stats.oneTrip.Load(); got != trips+1 {
		t.Fatalf("the batch after took %d one-trip commits, want 1", got-trips)
	}
	again, err := earn(a, 10, "key-1")
	if err != nil || again.Seq != first.Seq || again.Hash != first.Hash {
		t.Fatalf("a replay of key-1: %+v %v; want entry %d", again, err, first.Seq)
	}
	if _, err := earn(a, 11, "key-1"); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("key-1 with another amount: %v, want a conflict", err)
	}
	if got := balance(a); got != 40 {
		t.Fatalf("balance %d after four earns of 10", got)
	}

	if _, err := earn(b, 7, ""); err != nil {
		t.Fatal(err)
	}
	moved := a.stats.moved.Load()
	if _, err := earn(a, 10, ""); err != nil {
		t.Fatalf("A's append after B's: %v", err)
	}
	if got := a.stats.moved.Load(); got != moved+1 {
		t.Fatalf("A's one-trip batch found the head moved %d times, want 1", got-moved)
	}
	if got := balance(b); got != 57 {
		t.Fatalf("balance %d, want 57", got)
	}
	for range 3 { // A trusts its cache again
		if _, err := earn(a, 1, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Append(ctx, ledger.Transfer{Debit: m, Credit: ledger.Escrow, Amount: 5, Kind: ledger.KindHold}); err != nil {
		t.Fatal(err)
	}
	hold := func(n ledger.Points) error {
		_, err := a.Append(ctx, ledger.Transfer{Debit: m, Credit: ledger.Escrow, Amount: n, Kind: ledger.KindHold})
		return err
	}
	if err := hold(56); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("A holds 56 of the 55 points left after B's hold: %v", err)
	}
	if err := hold(55); err != nil {
		t.Fatalf("A cannot hold the 55 points left: %v", err)
	}

	// Refusals are not answered from the cache alone. A trusts its cache
	// again; a hold of all its points with a key, then the same key sent
	// again: the first entry, though the points are gone.
	for range 3 {
		if _, err := earn(a, 4, ""); err != nil {
			t.Fatal(err)
		}
	}
	all := ledger.Transfer{Debit: m, Credit: ledger.Escrow, Amount: 12, Kind: ledger.KindHold, IdempotencyKey: "hold-all"}
	held, err := a.Append(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	if !a.trustCache {
		t.Fatal("A does not trust its cache before the replay")
	}
	if again, err := a.Append(ctx, all); err != nil || again.Seq != held.Seq {
		t.Fatalf("a replay of a hold of every point: %+v %v; want entry %d", again, err, held.Seq)
	}
	// B earns the member 9 points A has not seen: A's hold of them holds.
	if _, err := earn(b, 9, ""); err != nil {
		t.Fatal(err)
	}
	if !a.trustCache {
		t.Fatal("A does not trust its cache before the hold")
	}
	if err := hold(9); err != nil {
		t.Fatalf("A refuses a hold of the points B earned: %v", err)
	}
	if got := balance(b); got != 0 {
		t.Fatalf("balance %d after every point was held", got)
	}
	for range 3 { // A trusts its cache again
		if _, err := earn(a, 1, ""); err != nil {
			t.Fatal(err)
		}
	}

	// 64 writers; writers 2j and 2j+1 send the same keys at the same time.
	trips = a.stats.oneTrip.Load()
	var seqs [64][10]uint64
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for i := range 10 {
				e, err := earn(a, 1, fmt.Sprint("burst-", g/2, "-", i))
				if err != nil {
					t.Error(err)
					return
				}
				seqs[g][i] = e.Seq
			}
		})
	}
	wg.Wait()
	for g := 0; g < 64; g += 2 {
		if seqs[g] != seqs[g+1] {
			t.Fatalf("writers %d and %d, same keys: entries %v and %v", g, g+1, seqs[g], seqs[g+1])
		}
	}
	if a.stats.oneTrip.Load() == trips {
		t.Fatal("no batch of the burst took one trip")
	}
	if got := balance(b); got != 323 {
		t.Fatalf("balance %d after 3 points and 320 keys of 1 point", got)
	}
	for _, s := range []*Store{a, b} {
		rep, err := s.Verify(ctx)
		if err != nil || !rep.OK {
			t.Fatalf("verify: %+v %v", rep, err)
		}
	}
}
