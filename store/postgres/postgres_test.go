package postgres_test

import (
	"context"
	"os"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/postgres"
	"aixin/store/postgres/pgtest"
	"aixin/store/storetest"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// openTest opens a store on a new database of the test server.
func openTest(t *testing.T, opts postgres.Options) (*postgres.Store, string) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	s, err := postgres.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, url
}

func TestJournal(t *testing.T) {
	storetest.RunJournal(t, func(t *testing.T, clock func() time.Time) ledger.Journal {
		s, _ := openTest(t, postgres.Options{Now: clock})
		return s
	})
}

// TestOpenTwice opens one database from two app servers at once: one
// migrates, both work, and the time zone is the database's.
func TestOpenTwice(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	errs := make(chan error, 2)
	stores := make(chan *postgres.Store, 2)
	for range 2 {
		go func() {
			s, err := postgres.Open(ctx, url, postgres.Options{})
			errs <- err
			stores <- s
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		s := <-stores
		t.Cleanup(func() { s.Close() })
		if s.Location().String() != ledger.DefaultTimeZone {
			t.Fatalf("time zone %s", s.Location())
		}
	}
	utc := time.UTC
	if _, err := postgres.Open(ctx, url, postgres.Options{Location: utc}); err == nil {
		t.Fatal("opened a database that counts months in Shanghai with UTC")
	}
}

// TestVerifyCatchesTampering changes the stored tables behind the engine's
// back, one way at a time, and expects Verify to notice each.
func TestVerifyCatchesTampering(t *testing.T) {
	tampers := []struct {
		name string
		sql  string
	}{
		{"EntryBytes", `UPDATE journal SET canonical = overlay(canonical placing '\x7f'::bytea from 60 for 1) WHERE seq = 2`},
		{"EntryHash", `UPDATE journal SET hash = sha256('x') WHERE seq = 3`},
		{"EntryDeleted", `DELETE FROM journal WHERE seq = 2`},
		{"Balance", `UPDATE accounts SET balance = balance + 1 WHERE balance > 0`},
		{"MonthRow", `UPDATE account_months SET entries = entries + 1 WHERE entries > 0`},
		{"MonthRowDeleted", `DELETE FROM account_months WHERE ctid IN (SELECT ctid FROM account_months LIMIT 1)`},
		{"Head", `UPDATE chain_head SET seq = seq - 1`},
		{"IdempotencyRecord", `UPDATE idempotency SET seq = 1`},
		{"ReversalRecord", `DELETE FROM reversed`},
		{"AccountColumn", `UPDATE journal SET debit = credit WHERE seq = 1`},
	}
	for _, tc := range tampers {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s, url := openTest(t, postgres.Options{})
			issuer, m := ledger.IssuerAccount(uuid.New()), ledger.MemberAccount(uuid.New())
			for _, a := range []ledger.Account{issuer, m} {
				if err := s.OpenAccount(ctx, a); err != nil {
					t.Fatal(err)
				}
			}
			var first ledger.Entry
			for i := range 4 {
				e, err := s.Append(ctx, ledger.Transfer{Debit: issuer, Credit: m, Amount: 5, Kind: ledger.KindEarn,
					IdempotencyKey: uuid.NewString(), Minutes: 30})
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = e
				}
			}
			if _, err := s.Reverse(ctx, first.Seq, "user:test", "", ""); err != nil {
				t.Fatal(err)
			}
			if rep, err := s.Verify(ctx); err != nil || !rep.OK {
				t.Fatalf("before tampering: %+v %v", rep, err)
			}
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, tc.sql); err != nil {
				t.Fatal(err)
			}
			rep, err := s.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK {
				t.Fatalf("verify did not notice: %s", tc.sql)
			}
			t.Logf("caught: %s", rep.Problem)
		})
	}
}

func TestUsers(t *testing.T) {
	storetest.RunUsers(t, func(t *testing.T, clock func() time.Time) storetest.UsersStore {
		s, _ := openTest(t, postgres.Options{Now: clock})
		return s
	})
}

func TestDirectory(t *testing.T) {
	storetest.RunDirectory(t, func(t *testing.T, clock func() time.Time) storetest.DirectoryStore {
		s, _ := openTest(t, postgres.Options{Now: clock})
		return s
	})
}

func TestAwards(t *testing.T) {
	storetest.RunAwards(t, func(t *testing.T, clock func() time.Time) storetest.AwardsStore {
		s, _ := openTest(t, postgres.Options{Now: clock})
		t.Cleanup(func() {
			if rep, err := s.Verify(context.Background()); err != nil || !rep.OK {
				t.Errorf("verify: %+v %v", rep, err)
			}
		})
		return s
	})
}

func TestWishes(t *testing.T) {
	storetest.RunWishes(t, func(t *testing.T, clock func() time.Time) storetest.WishesStore {
		s, _ := openTest(t, postgres.Options{Now: clock})
		t.Cleanup(func() {
			if rep, err := s.Verify(context.Background()); err != nil || !rep.OK {
				t.Errorf("verify: %+v %v", rep, err)
			}
		})
		return s
	})
}

func TestShops(t *testing.T) {
	storetest.RunShops(t, func(t *testing.T, clock func() time.Time) storetest.ShopsStore {
		s, _ := openTest(t, postgres.Options{Now: clock})
		t.Cleanup(func() {
			if rep, err := s.Verify(context.Background()); err != nil || !rep.OK {
				t.Errorf("verify: %+v %v", rep, err)
			}
		})
		return s
	})
}

func TestEvents(t *testing.T) {
	storetest.RunEvents(t, func(t *testing.T, clock func() time.Time) storetest.EventsStore {
		s, _ := openTest(t, postgres.Options{Now: clock})
		t.Cleanup(func() {
			if rep, err := s.Verify(context.Background()); err != nil || !rep.OK {
				t.Errorf("verify: %+v %v", rep, err)
			}
		})
		return s
	})
}

func TestExpiry(t *testing.T) {
	storetest.RunExpiry(t, func(t *testing.T, clock func() time.Time) storetest.ExpiryStore {
		s, _ := openTest(t, postgres.Options{Now: clock})
		t.Cleanup(func() {
			if rep, err := s.Verify(context.Background()); err != nil || !rep.OK {
				t.Errorf("verify: %+v %v", rep, err)
			}
		})
		return s
	})
}

func TestReports(t *testing.T) {
	storetest.RunReports(t, func(t *testing.T, clock func() time.Time, life time.Duration) storetest.ReportsStore {
		s, _ := openTest(t, postgres.Options{Now: clock, VoucherLife: life})
		return s
	})
}
