package bolt

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// TestIdempotentReplay sends the same keyed request again and again, first
// one after another, then from many goroutines at once: one entry is written,
// every answer is that entry, and the same key with another body is refused.
func TestIdempotentReplay(t *testing.T) {
	s := openTest(t, Options{})
	iss, mem := ledger.IssuerAccount(uuid.New()), ledger.MemberAccount(uuid.New())
	openAccounts(t, s, iss, mem)
	tr := ledger.Transfer{Debit: iss, Credit: mem, Amount: 10, Kind: ledger.KindEarn, Reference: "attendance:a", IdempotencyKey: "key-1"}

	t.Run("Sequential", func(t *testing.T) {
		first, err := s.Append(ctx, tr)
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			again, err := s.Append(ctx, tr)
			if err != nil || again.Seq != first.Seq || again.Hash != first.Hash || again.PrevHash != first.PrevHash {
				t.Fatalf("replay: %+v %v", again, err)
			}
		}
		other := tr
		other.Amount = 11
		_, err = s.Append(ctx, other)
		wantCode(t, err, ledger.ECONFLICT, "idempotency.mismatch")
		if b, _ := s.Balance(ctx, mem); b.Points != 10 {
			t.Fatalf("balance %d after replays", b.Points)
		}
	})
	t.Run("Parallel", func(t *testing.T) {
		tr := tr
		tr.IdempotencyKey = "key-2"
		var wg sync.WaitGroup
		seqs := make([]uint64, 64)
		errs := make([]error, 64)
		for i := range seqs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e, err := s.Append(ctx, tr)
				seqs[i], errs[i] = e.Seq, err
			}()
		}
		wg.Wait()
		for i := range seqs {
			if errs[i] != nil || seqs[i] != seqs[0] {
				t.Fatalf("answer %d: seq %d err %v, want seq %d", i, seqs[i], errs[i], seqs[0])
			}
		}
		if b, _ := s.Balance(ctx, mem); b.Points != 20 {
			t.Fatalf("balance %d, want 20: the parallel replays wrote more than one entry", b.Points)
		}
		// Parallel conflicting bodies under one key: exactly one wins.
		var ok, conflict int
		var mu sync.Mutex
		for i := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr := tr
				tr.IdempotencyKey = "key-3"
				tr.Amount = int64(1 + i)
				_, err := s.Append(ctx, tr)
				mu.Lock()
				defer mu.Unlock()
				switch ledger.ErrorCode(err) {
				case "":
					ok++
				case ledger.ECONFLICT:
					conflict++
				default:
					t.Errorf("unexpected %v", err)
				}
			}()
		}
		wg.Wait()
		if ok != 1 || conflict != 31 {
			t.Fatalf("%d accepted, %d conflicts; want 1 and 31", ok, conflict)
		}
	})
}

// tamperFixture writes a closed store file with n entries whose memos are
// unique, and returns its path.
func tamperFixture(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "aixin.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	iss, mem := ledger.IssuerAccount(uuid.New()), ledger.MemberAccount(uuid.New())
	openAccounts(t, s, iss, mem)
	for i := 1; i <= n; i++ {
		tr := ledger.Transfer{Debit: iss, Credit: mem, Amount: int64(i), Kind: ledger.KindEarn, Memo: fmt.Sprintf("memo-%05d", i), IdempotencyKey: fmt.Sprint("k", i)}
		if i%3 == 0 {
			tr = ledger.Transfer{Debit: mem, Credit: ledger.Escrow, Amount: 1, Kind: ledger.KindHold, Memo: fmt.Sprintf("memo-%05d", i)}
		}
		if _, err := s.Append(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func copyFile(t *testing.T, src string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}

func verifyFile(t *testing.T, path string) ledger.VerifyReport {
	t.Helper()
	s, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rep, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// editJournal changes a copy of the file through bbolt, as someone with the
// file and a bbolt tool could.
func editJournal(t *testing.T, path string, fn func(j *bolt.Bucket) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket(bucketJournal)) }); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	orig := tamperFixture(t, 60)
	if rep := verifyFile(t, orig); !rep.OK || rep.Entries != 60 {
		t.Fatalf("untouched file: %+v", rep)
	}
	tests := []struct {
		name    string
		tamper  func(t *testing.T, path string)
		wantSeq uint64
	}{
		{"FlipOneByteInFile", func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			i := bytes.Index(b, []byte("memo-00037"))
			if i < 0 || bytes.Count(b, []byte("memo-00037")) != 1 {
				t.Fatal("memo not found exactly once in the file")
			}
			b[i+5] ^= 0x01 // memo-00037 -> memo-10037
			os.WriteFile(path, b, 0o600)
		}, 37},
		{"ChangeAmount", func(t *testing.T, path string) {
			editJournal(t, path, func(j *bolt.Bucket) error {
				v := append([]byte(nil), j.Get(u64(20))...)
				off := 1 + 8 + 16 + 8 + 2*ledger.AccountKeySize
				binary.BigEndian.PutUint64(v[off:], 2000)
				return j.Put(u64(20), v)
			})
		}, 20},
		{"DeleteEntry", func(t *testing.T, path string) {
			editJournal(t, path, func(j *bolt.Bucket) error { return j.Delete(u64(44)) })
		}, 44},
		{"DeleteLastEntry", func(t *testing.T, path string) {
			editJournal(t, path, func(j *bolt.Bucket) error { return j.Delete(u64(60)) })
		}, 60},
		{"SwapEntries", func(t *testing.T, path string) {
			editJournal(t, path, func(j *bolt.Bucket) error {
				a, b := append([]byte(nil), j.Get(u64(11))...), append([]byte(nil), j.Get(u64(12))...)
				j.Put(u64(11), b)
				return j.Put(u64(12), a)
			})
		}, 11},
		{"RewriteWithValidHash", func(t *testing.T, path string) {
			// Change entry 48 (it has no idempotency key) and re-hash it:
			// 48 looks whole on its own, and the chain breaks at 49.
			editJournal(t, path, func(j *bolt.Bucket) error {
				se, _ := decodeStored(j.Get(u64(48)))
				prev, _ := decodeStored(j.Get(u64(47)))
				se.Memo = "rewritten"
				canon := se.Canonical()
				h := ledger.ChainHash(prev.Hash, canon)
				v := append(append(canon, h[:]...), j.Get(u64(48))[len(j.Get(u64(48)))-linkSize:]...)
				return j.Put(u64(48), v)
			})
		}, 49},
		{"ChangeHeadTime", func(t *testing.T, path string) {
			db, _ := bolt.Open(path, 0o600, nil)
			defer db.Close()
			db.Update(func(tx *bolt.Tx) error {
				v := append([]byte(nil), tx.Bucket(bucketMeta).Get(keyHead)...)
				binary.BigEndian.PutUint64(v[40:], uint64(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()))
				return tx.Bucket(bucketMeta).Put(keyHead, v)
			})
		}, 60},
		{"ChangeBalance", func(t *testing.T, path string) {
			db, _ := bolt.Open(path, 0o600, nil)
			defer db.Close()
			db.Update(func(tx *bolt.Tx) error {
				c := tx.Bucket(bucketAccounts).Cursor()
				for k, v := c.First(); k != nil; k, v = c.Next() {
					if len(k) == ledger.AccountKeySize && k[0] == byte(ledger.AccountMember) {
						row, _ := decodeAccountRow(v)
						row.balance += 100
						return tx.Bucket(bucketAccounts).Put(k, row.encode())
					}
				}
				return nil
			})
		}, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := copyFile(t, orig)
			tt.tamper(t, path)
			rep := verifyFile(t, path)
			if rep.OK || rep.FirstBadSeq != tt.wantSeq {
				t.Fatalf("report %+v, want first bad seq %d", rep, tt.wantSeq)
			}
		})
	}
}

// TestCrashKeepsAcknowledgedWrites runs a writer in a child process, kills it
// with SIGKILL at a random moment, reopens the file, verifies it, and checks
// that every write the child saw acknowledged is in the journal.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	if path := os.Getenv("AIXIN_CRASH_CHILD"); path != "" {
		crashChild(path)
		return
	}
	rounds := 20
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	path := filepath.Join(t.TempDir(), "aixin.db")
	total := 0
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashKeepsAcknowledgedWrites$")
		cmd.Env = append(os.Environ(), "AIXIN_CRASH_CHILD="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := map[string]uint64{}
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		kill := time.After(time.Duration(50+r.IntN(400)) * time.Millisecond)
	read:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					break read
				}
				if key, seq, ok := strings.Cut(l, " "); ok {
					n, _ := strconv.ParseUint(seq, 10, 64)
					acked[key] = n
				}
			case <-kill:
				cmd.Process.Signal(syscall.SIGKILL)
				kill = nil
			}
		}
		cmd.Wait()
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		rep, err := s.Verify(ctx)
		if err != nil || !rep.OK {
			t.Fatalf("round %d: verify after kill: %+v %v", round, rep, err)
		}
		err = s.db.View(func(tx *bolt.Tx) error {
			for key, seq := range acked {
				v := tx.Bucket(bucketIdem).Get(idemKey(key))
				if v == nil || binary.BigEndian.Uint64(v) != seq {
					return fmt.Errorf("acknowledged write %s (seq %d) is missing after the kill", key, seq)
				}
			}
			return nil
		})
		s.Close()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if len(acked) == 0 {
			t.Logf("round %d: killed before any write was acknowledged", round)
		}
		total += len(acked)
	}
	t.Logf("%d rounds, %d acknowledged writes all found", rounds, total)
	if total == 0 {
		t.Fatal("no write was ever acknowledged: the test proved nothing")
	}
}

// crashChild appends from 8 goroutines until it is killed, printing
// "key seq" for each acknowledged write.
func crashChild(path string) {
	s, err := Open(path, Options{LockTimeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	iss, mem := ledger.IssuerAccount(uuid.MustParse("00000000-0000-4000-8000-000000000001")), ledger.MemberAccount(uuid.MustParse("00000000-0000-4000-8000-000000000002"))
	if s.OpenAccount(ctx, iss) != nil || s.OpenAccount(ctx, mem) != nil {
		os.Exit(2)
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	run := uuid.NewString()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				key := fmt.Sprintf("%s-%d-%d", run, g, i)
				tr := ledger.Transfer{Debit: iss, Credit: mem, Amount: 1, Kind: ledger.KindEarn, IdempotencyKey: key}
				if i%4 == 3 {
					tr = ledger.Transfer{Debit: mem, Credit: ledger.Escrow, Amount: 1, Kind: ledger.KindHold, IdempotencyKey: key}
				}
				e, err := s.Append(ctx, tr)
				if err != nil {
					continue
				}
				mu.Lock()
				fmt.Fprintf(w, "%s %d\n", key, e.Seq)
				w.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	io.WriteString(os.Stderr, "unreachable")
}

// TestBatchIsolatesFailures puts appends, a request that fails in an
// unexpected way and one that panics into one batch: only those two fail,
// the appends commit, and the process lives on.
func TestBatchIsolatesFailures(t *testing.T) {
	s := openTest(t, Options{})
	iss, mem := ledger.IssuerAccount(uuid.New()), ledger.MemberAccount(uuid.New())
	openAccounts(t, s, iss, mem)
	// Hold the writer in a transaction so that what follows queues up as one batch.
	release, holding := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- s.update(ctx, func(w *writeTx) error { close(holding); <-release; return nil })
	}()
	<-holding
	var wg sync.WaitGroup
	results := make([]error, 6)
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i {
			case 2:
				results[i] = s.update(ctx, func(w *writeTx) error {
					w.tx.Bucket(bucketMeta).Put([]byte("half-done"), []byte("x"))
					return errors.New("boom")
				})
			case 4:
				results[i] = s.update(ctx, func(w *writeTx) error { panic("bad request") })
			default:
				_, results[i] = s.Append(ctx, ledger.Transfer{Debit: iss, Credit: mem, Amount: 1, Kind: ledger.KindEarn})
			}
		}()
	}
	for len(s.ops) < 6 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for i, err := range results {
		switch i {
		case 2, 4:
			if err == nil || ledger.ErrorCode(err) != ledger.EINTERNAL {
				t.Errorf("request %d: %v, want an internal error", i, err)
			}
		default:
			if err != nil {
				t.Errorf("append %d: %v", i, err)
			}
		}
	}
	if b, _ := s.Balance(ctx, mem); b.Points != 4 {
		t.Fatalf("balance %d, want the 4 appends", b.Points)
	}
	_ = s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta).Get([]byte("half-done")) != nil {
			t.Error("the failed request's write was committed")
		}
		return nil
	})
	if s.Failed() != nil {
		t.Fatalf("an ordinary failure stopped the store: %v", s.Failed())
	}
}

func TestCommitFailures(t *testing.T) {
	s := openTest(t, Options{})
	for _, err := range []error{fmt.Errorf("write: %w", syscall.ENOSPC), errors.New("file resize error: no space left on device")} {
		if got := s.commitFailed(err); ledger.ErrorCode(got) != ledger.EUNAVAILABLE {
			t.Fatalf("%v gave %v", err, got)
		}
	}
	if s.Failed() != nil {
		t.Fatal("a full disk stopped the store")
	}
	s.commitFailed(fmt.Errorf("sync: %w", syscall.EIO))
	if s.Failed() == nil {
		t.Fatal("a sync error did not stop writes")
	}
	_, err := s.Append(ctx, ledger.Transfer{Debit: ledger.IssuerAccount(uuid.New()), Credit: ledger.MemberAccount(uuid.New()), Amount: 1, Kind: ledger.KindEarn})
	wantCode(t, err, ledger.EUNAVAILABLE, "store.failed")
	s.failed.Store(nil) // let the cleanup verify
}

// TestDamagedHeadStopsWrites removes the chain head record: the store must
// refuse to write rather than start the journal again over entry 1.
func TestDamagedHeadStopsWrites(t *testing.T) {
	path := copyFile(t, tamperFixture(t, 5))
	db, _ := bolt.Open(path, 0o600, nil)
	db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyHead) })
	db.Close()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	iss := ledger.IssuerAccount(uuid.New())
	if err := s.OpenAccount(ctx, iss); err == nil {
		t.Fatal("a write went through with the head record missing")
	}
	if s.Failed() == nil {
		t.Fatal("the store did not stop writes")
	}
	rep, _ := s.Verify(ctx)
	if rep.OK {
		t.Fatal("verify did not notice the missing head")
	}
}

func TestClockFarBehindIsRefused(t *testing.T) {
	clock := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	s := openTest(t, Options{Now: func() time.Time { return clock }})
	iss, mem := ledger.IssuerAccount(uuid.New()), ledger.MemberAccount(uuid.New())
	openAccounts(t, s, iss, mem)
	tr := ledger.Transfer{Debit: iss, Credit: mem, Amount: 1, Kind: ledger.KindEarn}
	first, _ := s.Append(ctx, tr)
	clock = clock.Add(-time.Minute) // a time sync: absorbed
	e, err := s.Append(ctx, tr)
	if err != nil || !e.Time.Equal(first.Time) {
		t.Fatalf("small step back: %v %v", e.Time, err)
	}
	clock = clock.Add(-time.Hour)
	_, err = s.Append(ctx, tr)
	wantCode(t, err, ledger.EUNAVAILABLE, "store.clock_behind")
}

// TestFinaliseWithClockBehindWritesNothing: a finalise whose postings the
// clock refuses tells why (not an internal error), and posts nothing — not
// even the attendances before the one that failed.
func TestFinaliseWithClockBehindWritesNothing(t *testing.T) {
	s, clock, _, e, ms := newEventWorld(t, 3)
	clock.Add(2 * time.Hour)
	for _, m := range ms {
		if _, err := s.Backfill(ctx, e.ID, m.ID, e.StartsAt, e.StartsAt.Add(time.Hour), "纸质签到表", uuid.Nil); err != nil {
			t.Fatal(err)
		}
	}
	clock.Add(2 * time.Hour)
	// Something posted later in the ledger's time, then the clock falls back an hour.
	iss, mem := ledger.IssuerAccount(uuid.New()), ledger.MemberAccount(uuid.New())
	openAccounts(t, s, iss, mem)
	if _, err := s.Append(ctx, ledger.Transfer{Debit: iss, Credit: mem, Amount: 1, Kind: ledger.KindEarn}); err != nil {
		t.Fatal(err)
	}
	head, _, _ := s.Head(ctx)
	clock.Add(-time.Hour)
	_, err := s.FinalizeEvent(ctx, e.ID, "organiser", true)
	wantCode(t, err, ledger.EUNAVAILABLE, "store.clock_behind")
	if after, _, _ := s.Head(ctx); after != head {
		t.Fatalf("the journal grew from %d to %d", head, after)
	}
	atts, _ := s.Attendances(ctx, e.ID)
	for _, a := range atts {
		if a.Status == ledger.AttendancePosted {
			t.Fatalf("attendance %s was posted", a.ID)
		}
	}
	clock.Add(2 * time.Hour)
	if res, err := s.FinalizeEvent(ctx, e.ID, "organiser", true); err != nil || res.Posted != 3 {
		t.Fatalf("finalise once the clock is right: %+v %v", res, err)
	}
}
