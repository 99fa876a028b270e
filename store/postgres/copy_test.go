package postgres_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/bolt"
	"aixin/store/postgres"
	"aixin/store/storetest"

	"github.com/google/uuid"
)

// TestCopyGivesTheSameChain copies a bbolt journal of random entries over
// several months into PostgreSQL: the head hash, every balance and every
// month's totals are the same on both engines, PostgreSQL verifies, and
// the copy goes on appending to the same chain. A second copy into the now
// full database is refused and changes nothing.
func TestCopyGivesTheSameChain(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock(time.Date(2025, 11, 20, 8, 0, 0, 0, time.UTC))
	src, err := bolt.Open(filepath.Join(t.TempDir(), "aixin.db"), bolt.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	issuer := ledger.IssuerAccount(uuid.New())
	accounts := []ledger.Account{issuer, ledger.MemberAccount(uuid.New()), ledger.MemberAccount(uuid.New()),
		ledger.HouseholdAccount(uuid.New()), ledger.MemberAccount(uuid.New())} // the last one never moves
	for _, a := range accounts {
		if err := src.OpenAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	var earns []uint64
	for i := range 2500 {
		clock.Add(time.Duration(r.IntN(int(90 * time.Minute))))
		to := accounts[1+r.IntN(3)]
		tr := ledger.Transfer{Debit: issuer, Credit: to, Amount: ledger.Points(1 + r.IntN(9)), Kind: ledger.KindEarn,
			Reference: "attendance:" + uuid.NewString(), Actor: "user:x", Memo: "第" + string(rune('一'+i%9)) + "次"}
		switch {
		case to.Kind == ledger.AccountHousehold:
			tr.Kind = ledger.KindAward
		case i%3 == 0:
			tr.Minutes = int64(r.IntN(300))
			tr.IdempotencyKey = uuid.NewString()
		}
		e, err := src.Append(ctx, tr)
		if err != nil {
			t.Fatal(err)
		}
		earns = append(earns, e.Seq)
		if i%50 == 49 {
			if _, err := src.Reverse(ctx, earns[r.IntN(len(earns))], "user:x", "错了", ""); err != nil {
				if le, ok := ledger.AsError(err); !ok || (le.Key != "entry.already_reversed" && le.Key != "entry.insufficient") {
					t.Fatal(err)
				}
			}
		}
	}
	open, err := src.OpenAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dst, _ := openTest(t, postgres.Options{Now: clock.Now})
	n, err := dst.CopyJournal(ctx, open, func(after uint64, limit int) ([]ledger.Entry, error) {
		return src.Entries(ctx, after, limit)
	})
	if err != nil {
		t.Fatal(err)
	}
	srcSeq, srcHash, _ := src.Head(ctx)
	dstSeq, dstHash, err := dst.Head(ctx)
	if err != nil || n != srcSeq || dstSeq != srcSeq || dstHash != srcHash {
		t.Fatalf("copied %d: head %d %s, the source's %d %s (%v)", n, dstSeq, dstHash, srcSeq, srcHash, err)
	}
	for _, a := range append(open, ledger.Escrow) {
		sb, err1 := src.Balance(ctx, a)
		db, err2 := dst.Balance(ctx, a)
		if err1 != nil || err2 != nil || sb != db {
			t.Fatalf("balance of %s: bbolt %+v, postgres %+v (%v %v)", a, sb, db, err1, err2)
		}
	}
	for m := ledger.Month(202511); m <= 202605; m++ {
		if m%100 == 13 {
			m += 88
		}
		st, err1 := src.MonthTotals(ctx, m)
		dt, err2 := dst.MonthTotals(ctx, m)
		if err1 != nil || err2 != nil || len(st) != len(dt) {
			t.Fatalf("month %s: %d rows on bbolt, %d on postgres (%v %v)", m, len(st), len(dt), err1, err2)
		}
		for i := range st {
			if st[i] != dt[i] {
				t.Fatalf("month %s: bbolt %+v, postgres %+v", m, st[i], dt[i])
			}
		}
	}
	if rep, err := dst.Verify(ctx); err != nil || !rep.OK || rep.HeadHash != srcHash {
		t.Fatalf("verify after the copy: %+v %v", rep, err)
	}
	// The chain goes on from where the source stopped.
	e, err := dst.Append(ctx, ledger.Transfer{Debit: issuer, Credit: accounts[4], Amount: 1, Kind: ledger.KindEarn})
	if err != nil || e.Seq != srcSeq+1 || e.PrevHash != srcHash {
		t.Fatalf("append after the copy: %+v %v", e, err)
	}
	_, err = dst.CopyJournal(ctx, open, func(after uint64, limit int) ([]ledger.Entry, error) { return src.Entries(ctx, after, limit) })
	if !errors.Is(err, postgres.ErrNotEmpty) {
		t.Fatalf("a copy into a full database: %v", err)
	}
	if seq, _, _ := dst.Head(ctx); seq != srcSeq+1 {
		t.Fatal("the refused copy changed the database")
	}
}

// TestCopyRefusesABrokenChain feeds the copy a source whose entry 3 was
// changed: the copy stops, and the database stays empty.
func TestCopyRefusesABrokenChain(t *testing.T) {
	ctx := context.Background()
	src, err := bolt.Open(filepath.Join(t.TempDir(), "aixin.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	issuer, m := ledger.IssuerAccount(uuid.New()), ledger.MemberAccount(uuid.New())
	for _, a := range []ledger.Account{issuer, m} {
		if err := src.OpenAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		if _, err := src.Append(ctx, ledger.Transfer{Debit: issuer, Credit: m, Amount: 2, Kind: ledger.KindEarn}); err != nil {
			t.Fatal(err)
		}
	}
	dst, _ := openTest(t, postgres.Options{})
	_, err = dst.CopyJournal(ctx, []ledger.Account{issuer, m}, func(after uint64, limit int) ([]ledger.Entry, error) {
		es, err := src.Entries(ctx, after, limit)
		for i := range es {
			if es[i].Seq == 3 {
				es[i].Amount = 200
			}
		}
		return es, err
	})
	if err == nil {
		t.Fatal("copied a changed entry")
	}
	if seq, _, _ := dst.Head(ctx); seq != 0 {
		t.Fatalf("the failed copy left %d entries", seq)
	}
	if _, err := dst.Balance(ctx, m); err == nil {
		t.Fatal("the failed copy left an account")
	}
}
