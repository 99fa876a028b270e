package bolt

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// The benchmarks measure durable appends the way the service makes them: an
// earn or a hold for one of 10,000 members, with a reference, an actor and an
// idempotency key (a UUIDv7, as aixin's pages make them), each updating two
// balances, two index links, two monthly rows and the idempotency record, and
// each synced to disk before it returns.
//
//	make bench   (go test ./store -run '^$' -bench . -benchtime 20000x)
//
// The 1,000,000-entry file is built once into $AIXIN_BENCH_DIR (default: the
// temp dir) and copied for every benchmark.

const benchMembers = 10_000

type benchWorld struct {
	issuers []ledger.Account
	members []ledger.Account
}

func benchAccounts() benchWorld {
	r := rand.New(rand.NewPCG(1, 2))
	id := func() uuid.UUID {
		u, _ := uuid.NewRandomFromReader(readerFunc(func(p []byte) (int, error) {
			for i := range p {
				p[i] = byte(r.Uint32())
			}
			return len(p), nil
		}))
		return u
	}
	var w benchWorld
	for range 10 {
		w.issuers = append(w.issuers, ledger.IssuerAccount(id()))
	}
	for range benchMembers {
		w.members = append(w.members, ledger.MemberAccount(id()))
	}
	return w
}

type readerFunc func(p []byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// transfer returns the i-th benchmark transfer: mostly earns, every fifth a
// hold of points the member earned before.
func (w benchWorld) transfer(r *rand.Rand, i int) ledger.Transfer {
	m := w.members[r.IntN(len(w.members))]
	t := ledger.Transfer{
		Debit: w.issuers[r.IntN(len(w.issuers))], Credit: m, Amount: 20, Kind: ledger.KindEarn, Minutes: 120,
		Reference: "attendance:" + uuid.NewString(), Actor: "user:" + uuid.NewString(), IdempotencyKey: newKey(),
	}
	if i%5 == 4 {
		t = ledger.Transfer{Debit: m, Credit: ledger.Escrow, Amount: 1, Kind: ledger.KindHold,
			Reference: "voucher:" + uuid.NewString(), Actor: "user:" + uuid.NewString(), IdempotencyKey: newKey()}
	}
	return t
}

func newKey() string { return uuid.Must(uuid.NewV7()).String() }

func openBenchWorld(b *testing.B, s *Store, w benchWorld) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, a := range append(append([]ledger.Account{}, w.issuers...), w.members...) {
			k := a.Key()
			if err := tx.Bucket(bucketAccounts).Put(k[:], make([]byte, accountRowSize)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// millionFile returns the path of a store file holding 1,000,000 entries over
// twelve months, building it if it is not there yet.
func millionFile(b *testing.B) string {
	dir := os.Getenv("AIXIN_BENCH_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("aixin-bench-1m-v%d.db", SchemaVersion))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	start := time.Now()
	clock := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	s, err := Open(path+".tmp", Options{Now: func() time.Time { return clock }})
	if err != nil {
		b.Fatal(err)
	}
	w := benchAccounts()
	openBenchWorld(b, s, w)
	r := rand.New(rand.NewPCG(3, 4))
	const total, perTx = 1_000_000, 10_000
	for done := 0; done < total; done += perTx {
		err := s.db.Update(func(tx *bolt.Tx) error {
			wt, err := s.beginWrite(tx)
			if err != nil {
				return err
			}
			for i := range perTx {
				clock = clock.Add(31 * time.Second) // a year over the million entries
				if _, err := s.appendTx(wt, w.transfer(r, done+i)); err != nil {
					if ledger.ErrorCode(err) == ledger.ECONFLICT {
						continue // a hold before the member earned anything
					}
					return err
				}
			}
			return wt.finish()
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	if err := os.Rename(path+".tmp", path); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %s in %v", path, time.Since(start))
	return path
}

func copyTo(b *testing.B, src string) string {
	dst := filepath.Join(b.TempDir(), "aixin.db")
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	// Write the copy back now, or the kernel does it during the measurement.
	if err := out.Sync(); err != nil {
		b.Fatal(err)
	}
	out.Close()
	return dst
}

func BenchmarkAppend(b *testing.B) {
	for _, file := range []string{"fresh", "1M"} {
		for _, mode := range []string{"queue", "naive"} {
			for _, writers := range []int{1, 8, 64, 256} {
				b.Run(fmt.Sprintf("file=%s/mode=%s/writers=%d", file, mode, writers), func(b *testing.B) {
					benchAppend(b, file, mode, writers)
				})
			}
		}
	}
}

func benchAppend(b *testing.B, file, mode string, writers int) {
	var path string
	if file == "1M" {
		path = copyTo(b, millionFile(b))
	} else {
		path = filepath.Join(b.TempDir(), "aixin.db")
	}
	s, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	w := benchAccounts()
	if file == "fresh" {
		openBenchWorld(b, s, w)
		// Give every member something to hold.
		for _, m := range w.members[:100] {
			_, _ = s.Append(ctx, ledger.Transfer{Debit: w.issuers[0], Credit: m, Amount: 1000, Kind: ledger.KindEarn})
		}
	}
	appendOne := s.Append
	if mode == "naive" {
		appendOne = s.appendNaive
	}
	var next atomic.Int64
	lat := make([][]time.Duration, writers)
	var failed atomic.Int64
	commits0, tx0 := s.Stats().Commits, s.db.Stats().TxStats
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), uint64(time.Now().UnixNano())))
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t := w.transfer(r, int(i))
				t0 := time.Now()
				_, err := appendOne(ctx, t)
				lat[g] = append(lat[g], time.Since(t0))
				if err != nil && ledger.ErrorCode(err) != ledger.ECONFLICT {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if failed.Load() > 0 {
		b.Fatalf("%d appends failed", failed.Load())
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "entries/s")
	b.ReportMetric(float64(all[len(all)*50/100].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(all[len(all)-1].Microseconds())/1000, "max-ms")
	// Commit figures: the queue's own count, or one commit per append for the baseline.
	commits := float64(s.Stats().Commits - commits0)
	if mode == "naive" {
		commits = float64(b.N)
	}
	ts := s.db.Stats().TxStats
	b.ReportMetric(float64(b.N)/commits, "entries/commit")
	b.ReportMetric(float64(ts.GetWrite()-tx0.GetWrite())/commits, "pages/commit")
	b.ReportMetric(float64((ts.GetWriteTime()-tx0.GetWriteTime()).Microseconds())/commits/1000, "write-ms/commit")
}

// appendNaive is the baseline: one bbolt Update, so one commit, per entry.
func (s *Store) appendNaive(_ context.Context, t ledger.Transfer) (ledger.Entry, error) {
	var e ledger.Entry
	err := s.db.Update(func(tx *bolt.Tx) error {
		w, err := s.beginWrite(tx)
		if err != nil {
			return err
		}
		if e, err = s.appendTx(w, t); err != nil {
			return err
		}
		return w.finish()
	})
	return e, err
}

func BenchmarkVerify1M(b *testing.B) {
	path := millionFile(b)
	s, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	fi, _ := os.Stat(path)
	b.ResetTimer()
	for b.Loop() {
		rep, err := s.Verify(ctx)
		if err != nil || !rep.OK {
			b.Fatalf("%+v %v", rep, err)
		}
	}
	b.ReportMetric(float64(fi.Size())/1e6, "file-MB")
}

func BenchmarkBalance(b *testing.B) {
	for _, file := range []string{"fresh", "1M"} {
		b.Run("file="+file, func(b *testing.B) {
			w := benchAccounts()
			var s *Store
			var err error
			if file == "1M" {
				s, err = Open(millionFile(b), Options{ReadOnly: true})
			} else {
				s, err = Open(filepath.Join(b.TempDir(), "aixin.db"), Options{})
				if err == nil {
					openBenchWorld(b, s, w)
				}
			}
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			i := 0
			for b.Loop() {
				if _, err := s.Balance(ctx, w.members[i%len(w.members)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
