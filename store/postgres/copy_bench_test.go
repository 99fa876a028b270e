package postgres_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/bolt"
	"aixin/store/postgres"
	"aixin/store/postgres/pgtest"
)

// BenchmarkCopyJournal1M copies the 1,000,000-entry benchmark file of the
// bbolt engine into PostgreSQL and checks that the head hash and every
// balance match, then verifies the copy there. Build the file first with
// `go test ./store/bolt -run '^$' -bench Verify1M` (it lands in $AIXIN_BENCH_DIR,
// default the temp dir).
//
//	go test ./store/postgres -run '^$' -bench CopyJournal1M -benchtime 1x -timeout 30m
func BenchmarkCopyJournal1M(b *testing.B) {
	dir := os.Getenv("AIXIN_BENCH_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("aixin-bench-1m-v%d.db", bolt.SchemaVersion))
	if _, err := os.Stat(path); err != nil {
		b.Fatalf("%v: build it with go test ./store -run '^$' -bench Verify1M", err)
	}
	ctx := context.Background()
	src, err := bolt.Open(path, bolt.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	accounts, err := src.OpenAccounts(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		dst, err := postgres.Open(ctx, pgtest.NewDatabase(b), postgres.Options{})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		n, err := dst.CopyJournal(ctx, accounts, func(after uint64, limit int) ([]ledger.Entry, error) {
			return src.Entries(ctx, after, limit)
		})
		if err != nil {
			b.Fatal(err)
		}
		copied := time.Since(start)
		srcSeq, srcHash, _ := src.Head(ctx)
		dstSeq, dstHash, _ := dst.Head(ctx)
		if n != srcSeq || dstSeq != srcSeq || dstHash != srcHash {
			b.Fatalf("head %d %s, the file's %d %s", dstSeq, dstHash, srcSeq, srcHash)
		}
		for _, a := range append(accounts, ledger.Escrow) {
			sb, err1 := src.Balance(ctx, a)
			db, err2 := dst.Balance(ctx, a)
			if err1 != nil || err2 != nil || sb != db {
				b.Fatalf("balance of %s: %+v on bbolt, %+v on postgres (%v %v)", a, sb, db, err1, err2)
			}
		}
		rep, err := dst.Verify(ctx)
		if err != nil || !rep.OK {
			b.Fatalf("verify: %+v %v", rep, err)
		}
		b.ReportMetric(copied.Seconds(), "copy-s")
		b.ReportMetric(float64(n)/copied.Seconds(), "entries/s")
		b.ReportMetric(rep.Elapsed.Seconds(), "verify-s")
		b.ReportMetric(float64(len(accounts)), "accounts")
		dst.Close()
	}
}
