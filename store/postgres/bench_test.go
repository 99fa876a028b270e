package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store"
	"aixin/store/bolt"
	"aixin/store/postgres"
	"aixin/store/postgres/pgtest"

	"github.com/google/uuid"
)

// BenchmarkEngines measures durable appends on both engines side by side,
// in one run: an earn for one of 10,000 members from one of ten issuers,
// with a reference, an actor and an idempotency key (a UUIDv7, as aixin's
// pages make them), at 1, 8, 64 and 256 concurrent writers. Each append is
// committed (synced to disk, PostgreSQL with fsync and synchronous_commit
// on) before it returns.
//
//	go test ./store/postgres -run '^$' -bench Engines -benchtime 20000x
//
// engine=bbolt is the embedded file; engine=postgres shares commits among
// the appends waiting on one app server; engine=postgres-naive is the same
// engine with one transaction per append (MaxBatch 1), the baseline.
func BenchmarkEngines(b *testing.B) {
	for _, engine := range []string{"bbolt", "postgres", "postgres-naive"} {
		for _, writers := range []int{1, 8, 64, 256} {
			b.Run(fmt.Sprintf("engine=%s/writers=%d", engine, writers), func(b *testing.B) {
				benchEngine(b, engine, writers)
			})
		}
	}
}

const benchMembers = 10_000

func benchEngine(b *testing.B, engine string, writers int) {
	ctx := context.Background()
	issuers := make([]ledger.Account, 10)
	members := make([]ledger.Account, benchMembers)
	for i := range issuers {
		issuers[i] = ledger.IssuerAccount(uuid.New())
	}
	for i := range members {
		members[i] = ledger.MemberAccount(uuid.New())
	}
	var j ledger.Journal
	switch engine {
	case "bbolt":
		s, err := bolt.Open(filepath.Join(b.TempDir(), "aixin.db"), bolt.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		j = s
	default:
		url := pgtest.NewDatabase(b)
		s, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 32})
		if err != nil {
			b.Fatal(err)
		}
		j = s
		if engine == "postgres-naive" {
			// The accounts are opened by the batching engine (the setup is not
			// measured), the appends by one that commits each alone.
			openAll(b, j, issuers, members)
			s.Close()
			if s, err = postgres.Open(ctx, url, postgres.Options{MaxConns: 32, MaxBatch: 1}); err != nil {
				b.Fatal(err)
			}
			j = s
		}
		defer s.Close()
	}
	openAll(b, j, issuers, members)

	var wg sync.WaitGroup
	lat := make([][]time.Duration, writers)
	commits := func() uint64 { return j.(interface{ Stats() store.Stats }).Stats().Commits }
	commits0 := commits()
	b.ResetTimer()
	start := time.Now()
	for g := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 7))
			for i := g; i < b.N; i += writers {
				t := ledger.Transfer{Debit: issuers[r.IntN(len(issuers))], Credit: members[r.IntN(len(members))], Amount: 20,
					Kind: ledger.KindEarn, Minutes: 120, Reference: "attendance:" + uuid.NewString(),
					Actor: "user:" + uuid.NewString(), IdempotencyKey: uuid.Must(uuid.NewV7()).String()}
				t0 := time.Now()
				if _, err := j.Append(ctx, t); err != nil {
					b.Error(err)
					return
				}
				lat[g] = append(lat[g], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var ls []time.Duration
	for _, l := range lat {
		ls = append(ls, l...)
	}
	if len(ls) == 0 {
		return
	}
	slices.Sort(ls)
	b.ReportMetric(float64(len(ls))/elapsed.Seconds(), "entries/s")
	b.ReportMetric(float64(ls[len(ls)*50/100].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(ls[len(ls)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(ls))/float64(max(commits()-commits0, 1)), "entries/commit")
	b.ReportMetric(0, "ns/op")
}

// openAll opens the accounts from 64 goroutines, so that the opens share commits.
func openAll(b *testing.B, j ledger.Journal, issuers, members []ledger.Account) {
	all := append(slices.Clone(issuers), members...)
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for i := g; i < len(all); i += 64 {
				if err := j.OpenAccount(context.Background(), all[i]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
