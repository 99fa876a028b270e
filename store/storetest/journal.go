// Package storetest is the conformance suite every storage engine of aixin
// passes: the same tests, run against the bbolt file and against
// PostgreSQL, so that a rule holds on every engine and not only because one
// engine has a single writer. An engine's tests call it with a function that
// opens a fresh, empty store:
//
//	storetest.RunJournal(t, func(t *testing.T, clock func() time.Time) ledger.Journal { … })
//
// The store must close itself when t ends (t.Cleanup).
package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// Open opens a fresh, empty store whose clock is clock.
type Open func(t *testing.T, clock func() time.Time) ledger.Journal

// Clock is a settable clock for the store under test, safe for concurrent
// use. With a step, every reading moves it on by the step first.
type Clock struct{ ns, step atomic.Int64 }

// NewClock returns a clock set to t.
func NewClock(t time.Time) *Clock {
	c := &Clock{}
	c.Set(t)
	return c
}

// Now returns the clock's time (after moving it on by its step).
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Add(c.step.Load())).UTC() }

// Step makes every reading move the clock on by d first (0: it stands still).
func (c *Clock) Step(d time.Duration) { c.step.Store(int64(d)) }

// Set sets the clock.
func (c *Clock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// RunJournal runs the journal's conformance tests (ledger.Journal).
func RunJournal(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(*testing.T, Open)
	}{
		{"AppendAndRead", testAppendAndRead},
		{"Refusals", testRefusals},
		{"IdempotentReplay", testIdempotentReplay},
		{"IdempotentReplayInParallel", testIdempotentReplayInParallel},
		{"ReverseOnce", testReverseOnce},
		{"ReverseRacing", testReverseRacing},
		{"LastPoints", testLastPoints},
		{"ClockBehind", testClockBehind},
		{"Paging", testPaging},
		{"MonthTotals", testMonthTotals},
		{"RandomOperations", testRandomOperations},
		{"ConcurrentWriters", testConcurrentWriters},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

var ctx = context.Background()

// world is a store with some accounts open.
type world struct {
	j       ledger.Journal
	clock   *Clock
	issuer  ledger.Account
	members []ledger.Account
}

func newWorld(t *testing.T, open Open, members int) *world {
	t.Helper()
	w := &world{clock: NewClock(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)), issuer: ledger.IssuerAccount(uuid.New())}
	w.j = open(t, w.clock.Now)
	must(t, w.j.OpenAccount(ctx, w.issuer))
	for range members {
		m := ledger.MemberAccount(uuid.New())
		must(t, w.j.OpenAccount(ctx, m))
		w.members = append(w.members, m)
	}
	t.Cleanup(func() { verify(t, w.j) })
	return w
}

func (w *world) earn(t *testing.T, m ledger.Account, pts ledger.Points) ledger.Entry {
	t.Helper()
	e, err := w.j.Append(ctx, ledger.Transfer{Debit: w.issuer, Credit: m, Amount: pts, Kind: ledger.KindEarn,
		Minutes: int64(pts) * 6, Reference: "attendance:" + uuid.NewString(), Actor: "user:test"})
	must(t, err)
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// refused checks that err is a ledger refusal with the code and key.
func refused(t *testing.T, err error, code, key string) {
	t.Helper()
	le, ok := ledger.AsError(err)
	if !ok || le.Code != code || le.Key != key {
		t.Fatalf("got %v, want %s %s", err, code, key)
	}
}

func verify(t *testing.T, j ledger.Journal) {
	t.Helper()
	rep, err := j.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("verify: %s (at %d)", rep.Problem, rep.FirstBadSeq)
	}
}

func balance(t *testing.T, j ledger.Journal, a ledger.Account) ledger.Points {
	t.Helper()
	b, err := j.Balance(ctx, a)
	must(t, err)
	return b.Points
}

func head(t *testing.T, j ledger.Journal) uint64 {
	t.Helper()
	seq, _, err := j.Head(ctx)
	must(t, err)
	return seq
}

func testAppendAndRead(t *testing.T, open Open) {
	w := newWorld(t, open, 2)
	m := w.members[0]
	e1 := w.earn(t, m, 20)
	if e1.Seq != 1 || e1.PrevHash != (ledger.Hash{}) || e1.Hash != ledger.ChainHash(ledger.Hash{}, e1.Canonical()) {
		t.Fatalf("first entry %+v", e1)
	}
	w.clock.Add(time.Minute)
	e2, err := w.j.Append(ctx, ledger.Transfer{Debit: m, Credit: ledger.Escrow, Amount: 5, Kind: ledger.KindHold,
		Reference: "voucher:" + uuid.NewString(), Actor: "user:test"})
	must(t, err)
	if e2.Seq != 2 || e2.PrevHash != e1.Hash || !e2.Time.Equal(w.clock.Now()) {
		t.Fatalf("second entry %+v", e2)
	}
	b, err := w.j.Balance(ctx, m)
	must(t, err)
	if b.Points != 15 || b.Entries != 2 || b.LastSeq != 2 || b.ServiceMinutes != 120 {
		t.Fatalf("balance %+v", b)
	}
	if got := balance(t, w.j, ledger.Escrow); got != 5 {
		t.Fatalf("escrow %d", got)
	}
	if got := balance(t, w.j, w.issuer); got != -20 {
		t.Fatalf("issuer %d", got)
	}
	seq, h, err := w.j.Head(ctx)
	must(t, err)
	if seq != 2 || h != e2.Hash {
		t.Fatalf("head %d %s", seq, h)
	}
	es, err := w.j.Entries(ctx, 0, 10)
	must(t, err)
	if len(es) != 2 || es[0].Hash != e1.Hash || es[1].PrevHash != e1.Hash || es[1].Memo != e2.Memo {
		t.Fatalf("entries %+v", es)
	}
	if es[0].Reference != e1.Reference || es[0].Minutes != 120 || !es[0].Time.Equal(e1.Time) {
		t.Fatalf("entry read back differs: %+v, want %+v", es[0], e1)
	}
	// An account opened twice is still one account.
	must(t, w.j.OpenAccount(ctx, m))
	if got := balance(t, w.j, m); got != 15 {
		t.Fatalf("balance after a second open %d", got)
	}
}

func testRefusals(t *testing.T, open Open) {
	w := newWorld(t, open, 2)
	m, other := w.members[0], w.members[1]
	w.earn(t, m, 10)
	stranger := ledger.MemberAccount(uuid.New())
	cases := []struct {
		name      string
		t         ledger.Transfer
		code, key string
	}{
		{"ErrInsufficient", ledger.Transfer{Debit: m, Credit: ledger.Escrow, Amount: 11, Kind: ledger.KindHold}, ledger.ECONFLICT, "entry.insufficient"},
		{"ErrDebitNotOpen", ledger.Transfer{Debit: stranger, Credit: ledger.Escrow, Amount: 1, Kind: ledger.KindHold}, ledger.ENOTFOUND, "account.not_open"},
		{"ErrCreditNotOpen", ledger.Transfer{Debit: w.issuer, Credit: stranger, Amount: 1, Kind: ledger.KindEarn}, ledger.ENOTFOUND, "account.not_open"},
		{"ErrSameAccount", ledger.Transfer{Debit: m, Credit: m, Amount: 1, Kind: ledger.KindHold}, ledger.EINVALID, "entry.same_account"},
		{"ErrZeroAmount", ledger.Transfer{Debit: w.issuer, Credit: m, Amount: 0, Kind: ledger.KindEarn}, ledger.EINVALID, "entry.amount_not_positive"},
		{"ErrDirection", ledger.Transfer{Debit: m, Credit: other, Amount: 1, Kind: ledger.KindEarn}, ledger.EINVALID, "entry.direction_invalid"},
		{"ErrReverseUnknown", ledger.Transfer{Debit: m, Credit: w.issuer, Amount: 1, Kind: ledger.KindReverse, Reverses: 99}, ledger.ENOTFOUND, "entry.not_found"},
		{"ErrReverseMismatch", ledger.Transfer{Debit: m, Credit: w.issuer, Amount: 3, Kind: ledger.KindReverse, Reverses: 1}, ledger.EINVALID, "entry.reverse_mismatch"},
		{"ErrOverflow", ledger.Transfer{Debit: w.issuer, Credit: m, Amount: ledger.MaxAmount + 1, Kind: ledger.KindEarn}, ledger.EINVALID, "entry.amount_too_large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seq := head(t, w.j)
			_, err := w.j.Append(ctx, tc.t)
			refused(t, err, tc.code, tc.key)
			if head(t, w.j) != seq || balance(t, w.j, m) != 10 {
				t.Fatal("a refused append changed the journal")
			}
		})
	}
	refused(t, w.j.OpenAccount(ctx, ledger.Account{Kind: 99}), ledger.EINVALID, "account.invalid")
	_, err := w.j.Balance(ctx, stranger)
	refused(t, err, ledger.ENOTFOUND, "account.not_open")
	_, err = w.j.AccountEntries(ctx, stranger, 0, 10)
	refused(t, err, ledger.ENOTFOUND, "account.not_open")
	_, err = w.j.AccountEntries(ctx, other, 1, 10) // entry 1 is not other's
	refused(t, err, ledger.EINVALID, "entry.cursor_invalid")
	_, err = w.j.Reverse(ctx, 1<<63+5, "user:test", "", "")
	refused(t, err, ledger.ENOTFOUND, "entry.not_found")
	if es, err := w.j.Entries(ctx, 1<<64-1, 10); err != nil || len(es) != 0 {
		t.Fatalf("entries after the largest seq: %v %v", es, err)
	}
}

func testIdempotentReplay(t *testing.T, open Open) {
	w := newWorld(t, open, 1)
	m := w.members[0]
	key, err := ledger.ClientKey(uuid.New(), uuid.NewString())
	must(t, err)
	tr := ledger.Transfer{Debit: w.issuer, Credit: m, Amount: 7, Kind: ledger.KindEarn, Reference: "attendance:x",
		IdempotencyKey: key}
	first, err := w.j.Append(ctx, tr)
	must(t, err)
	w.clock.Add(time.Hour)
	again, err := w.j.Append(ctx, tr)
	must(t, err)
	if again != first {
		t.Fatalf("replay gave %+v, want the first entry %+v", again, first)
	}
	other := tr
	other.Amount = 8
	_, err = w.j.Append(ctx, other)
	refused(t, err, ledger.ECONFLICT, "idempotency.mismatch")
	if head(t, w.j) != 1 || balance(t, w.j, m) != 7 {
		t.Fatal("a replay appended")
	}
	// A reverse with a key is idempotent too.
	r1, err := w.j.Reverse(ctx, first.Seq, "user:test", "wrong event", "rev-key")
	must(t, err)
	r2, err := w.j.Reverse(ctx, first.Seq, "user:test", "wrong event", "rev-key")
	must(t, err)
	if r1 != r2 {
		t.Fatalf("reverse replay %+v != %+v", r2, r1)
	}
}

func testIdempotentReplayInParallel(t *testing.T, open Open) {
	w := newWorld(t, open, 1)
	m := w.members[0]
	tr := ledger.Transfer{Debit: w.issuer, Credit: m, Amount: 3, Kind: ledger.KindEarn, IdempotencyKey: "k-" + uuid.NewString()}
	const n = 32
	got := make([]ledger.Entry, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = w.j.Append(ctx, tr) })
	}
	wg.Wait()
	for i := range n {
		must(t, errs[i])
		if got[i] != got[0] {
			t.Fatalf("replay %d gave entry %d, another %d", i, got[i].Seq, got[0].Seq)
		}
	}
	if head(t, w.j) != 1 || balance(t, w.j, m) != 3 {
		t.Fatalf("%d parallel replays of one key appended %d entries", n, head(t, w.j))
	}
}

func testReverseOnce(t *testing.T, open Open) {
	w := newWorld(t, open, 1)
	m := w.members[0]
	e := w.earn(t, m, 10)
	r, err := w.j.Reverse(ctx, e.Seq, "user:test", "wrong person", "")
	must(t, err)
	if r.Kind != ledger.KindReverse || r.Reverses != e.Seq || r.Debit != m || r.Credit != w.issuer || r.Amount != 10 {
		t.Fatalf("reverse %+v", r)
	}
	_, err = w.j.Reverse(ctx, e.Seq, "user:test", "again", "")
	le, _ := ledger.AsError(err)
	refused(t, err, ledger.ECONFLICT, "entry.already_reversed")
	if by, _ := le.Fields["reversed_by"].(uint64); by != r.Seq {
		t.Fatalf("reversed_by %v, want %d", le.Fields["reversed_by"], r.Seq)
	}
	_, err = w.j.Reverse(ctx, r.Seq, "user:test", "", "")
	refused(t, err, ledger.EINVALID, "entry.reverse_of_reverse")
	// A reverse that would take a member below zero is refused.
	e2 := w.earn(t, m, 5)
	_, err = w.j.Append(ctx, ledger.Transfer{Debit: m, Credit: ledger.Escrow, Amount: 5, Kind: ledger.KindHold})
	must(t, err)
	_, err = w.j.Reverse(ctx, e2.Seq, "user:test", "", "")
	refused(t, err, ledger.ECONFLICT, "entry.insufficient")
	if balance(t, w.j, m) != 0 || balance(t, w.j, w.issuer) != -5 {
		t.Fatal("balances moved")
	}
	if ms := mustBalance(t, w.j, m).ServiceMinutes; ms != 30 {
		t.Fatalf("service minutes after a reversed earn: %d, want 30", ms)
	}
}

func mustBalance(t *testing.T, j ledger.Journal, a ledger.Account) ledger.Balance {
	t.Helper()
	b, err := j.Balance(ctx, a)
	must(t, err)
	return b
}

func testReverseRacing(t *testing.T, open Open) {
	w := newWorld(t, open, 1)
	e := w.earn(t, w.members[0], 10)
	const n = 16
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := w.j.Reverse(ctx, e.Seq, "user:test", fmt.Sprint(i), "")
			switch le, _ := ledger.AsError(err); {
			case err == nil:
				ok.Add(1)
			case le == nil || le.Key != "entry.already_reversed":
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || balance(t, w.j, w.members[0]) != 0 {
		t.Fatalf("%d of %d racing reverses succeeded", ok.Load(), n)
	}
}

func testLastPoints(t *testing.T, open Open) {
	w := newWorld(t, open, 1)
	m := w.members[0]
	w.earn(t, m, 10)
	const n = 64
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := w.j.Append(ctx, ledger.Transfer{Debit: m, Credit: ledger.Escrow, Amount: 1, Kind: ledger.KindHold,
				Reference: "voucher:" + uuid.NewString()})
			switch le, _ := ledger.AsError(err); {
			case err == nil:
				ok.Add(1)
			case le == nil || le.Key != "entry.insufficient":
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 10 || balance(t, w.j, m) != 0 || balance(t, w.j, ledger.Escrow) != 10 {
		t.Fatalf("%d of %d holds of the last 10 points succeeded", ok.Load(), n)
	}
}

func testClockBehind(t *testing.T, open Open) {
	w := newWorld(t, open, 1)
	m := w.members[0]
	e1 := w.earn(t, m, 1)
	w.clock.Add(-time.Minute) // a time sync: absorbed
	e2 := w.earn(t, m, 1)
	if !e2.Time.Equal(e1.Time) {
		t.Fatalf("entry after a small step back is dated %v, want %v", e2.Time, e1.Time)
	}
	w.clock.Add(-time.Hour)
	_, err := w.j.Append(ctx, ledger.Transfer{Debit: w.issuer, Credit: m, Amount: 1, Kind: ledger.KindEarn})
	refused(t, err, ledger.EUNAVAILABLE, "store.clock_behind")
	w.clock.Add(2 * time.Hour)
	w.earn(t, m, 1)
}

func testPaging(t *testing.T, open Open) {
	w := newWorld(t, open, 3)
	var mine []uint64 // members[0]'s entries, oldest first
	for i := range 60 {
		m := w.members[i%3]
		e := w.earn(t, m, 1)
		if m == w.members[0] {
			mine = append(mine, e.Seq)
		}
	}
	var got []uint64
	var before uint64
	for {
		page, err := w.j.AccountEntries(ctx, w.members[0], before, 7)
		must(t, err)
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if e.Credit != w.members[0] {
				t.Fatalf("entry %d is not the member's", e.Seq)
			}
			got = append(got, e.Seq)
		}
		before = page[len(page)-1].Seq
	}
	if len(got) != len(mine) {
		t.Fatalf("paged %d entries, want %d", len(got), len(mine))
	}
	for i, s := range got {
		if s != mine[len(mine)-1-i] {
			t.Fatalf("page order %v, want newest first of %v", got, mine)
		}
	}
	var prev ledger.Hash
	var after uint64
	for {
		page, err := w.j.Entries(ctx, after, 9)
		must(t, err)
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if e.Seq != after+1 || e.PrevHash != prev || e.Hash != ledger.ChainHash(prev, e.Canonical()) {
				t.Fatalf("entry %d does not follow %d in the chain", e.Seq, after)
			}
			prev, after = e.Hash, e.Seq
		}
	}
	if after != 60 {
		t.Fatalf("walked %d entries", after)
	}
}

func testMonthTotals(t *testing.T, open Open) {
	w := newWorld(t, open, 2)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	// 23:30 on 31 March in Shanghai is still March there, April in a minute-late UTC view.
	w.clock.Set(time.Date(2026, 3, 31, 23, 30, 0, 0, loc))
	m := w.members[0]
	w.earn(t, m, 10)
	_, err := w.j.Append(ctx, ledger.Transfer{Debit: m, Credit: ledger.Escrow, Amount: 4, Kind: ledger.KindHold})
	must(t, err)
	w.clock.Set(time.Date(2026, 4, 1, 0, 30, 0, 0, loc))
	w.earn(t, m, 3)
	_, err = w.j.Append(ctx, ledger.Transfer{Debit: w.issuer, Credit: w.members[1], Amount: 6, Kind: ledger.KindAward,
		Reference: ledger.WishReferencePrefix + uuid.NewString()})
	must(t, err)
	march, err := w.j.MonthTotals(ctx, 202603)
	must(t, err)
	april, err := w.j.MonthTotals(ctx, 202604)
	must(t, err)
	find := func(ts []ledger.MonthTotals, a ledger.Account) ledger.MonthTotals {
		for _, x := range ts {
			if x.Account == a {
				return x
			}
		}
		t.Fatalf("no totals of %s", a)
		return ledger.MonthTotals{}
	}
	mm := find(march, m)
	if mm.In[ledger.KindEarn] != 10 || mm.Out[ledger.KindHold] != 4 || mm.Minutes != 60 || mm.Entries != 2 || mm.Net() != 6 {
		t.Fatalf("march %+v", mm)
	}
	am := find(april, m)
	if am.In[ledger.KindEarn] != 3 || am.Entries != 1 {
		t.Fatalf("april %+v", am)
	}
	if w1 := find(april, w.members[1]); w1.Wish != 6 || w1.In[ledger.KindAward] != 6 {
		t.Fatalf("wish points %+v", w1)
	}
	if len(march) != 3 || len(april) != 3 {
		t.Fatalf("march has %d rows, april %d: want 3 each (issuer, escrow or member)", len(march), len(april))
	}
	for i := 1; i < len(april); i++ {
		a, b := april[i-1].Account.Key(), april[i].Account.Key()
		if string(a[:]) >= string(b[:]) {
			t.Fatal("month totals are not in account order")
		}
	}
}

// model is what the journal should hold, kept beside it by the random test.
type model struct {
	balances map[ledger.Account]ledger.Points
	entries  []ledger.Entry
	reversed map[uint64]bool
	keys     map[string]ledger.Transfer
}

func testRandomOperations(t *testing.T, open Open) {
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w := newWorld(t, open, 6)
			r := rand.New(rand.NewPCG(seed, 99))
			md := model{balances: map[ledger.Account]ledger.Points{}, reversed: map[uint64]bool{}, keys: map[string]ledger.Transfer{}}
			accounts := append([]ledger.Account{w.issuer, ledger.Escrow}, w.members...)
			for step := range 300 {
				w.clock.Add(time.Duration(r.IntN(int(72 * time.Hour))))
				var tr ledger.Transfer
				m := w.members[r.IntN(len(w.members))]
				switch op := r.IntN(10); {
				case op < 4:
					tr = ledger.Transfer{Debit: w.issuer, Credit: m, Amount: ledger.Points(1 + r.IntN(30)), Kind: ledger.KindEarn, Minutes: int64(r.IntN(240))}
				case op < 7:
					tr = ledger.Transfer{Debit: m, Credit: ledger.Escrow, Amount: ledger.Points(1 + r.IntN(20)), Kind: ledger.KindHold}
				case op < 8:
					tr = ledger.Transfer{Debit: ledger.Escrow, Credit: m, Amount: ledger.Points(1 + r.IntN(10)), Kind: ledger.KindRelease}
				case op < 9 && len(md.entries) > 0:
					orig := md.entries[r.IntN(len(md.entries))]
					e, err := w.j.Reverse(ctx, orig.Seq, "user:test", "random", "")
					want := md.reverse(orig)
					md.check(t, step, e, err, want)
					continue
				default:
					// A replay of an earlier key, or a new keyed earn.
					for k, old := range md.keys {
						e, err := w.j.Append(ctx, old)
						if err != nil || e.IdempotencyKey != k {
							t.Fatalf("step %d: replay of %s: %v %+v", step, k, err, e)
						}
						break
					}
					tr = ledger.Transfer{Debit: w.issuer, Credit: m, Amount: 2, Kind: ledger.KindEarn, IdempotencyKey: uuid.NewString()}
				}
				e, err := w.j.Append(ctx, tr)
				md.check(t, step, e, err, md.append(tr))
				if step%25 == 0 {
					md.compare(t, w.j, accounts)
				}
			}
			md.compare(t, w.j, accounts)
		})
	}
}

// append returns the refusal key the model expects for tr ("" to accept).
func (md *model) append(tr ledger.Transfer) string {
	if !tr.Debit.MayGoNegative() && md.balances[tr.Debit] < tr.Amount {
		return "entry.insufficient"
	}
	return ""
}

func (md *model) reverse(orig ledger.Entry) string {
	switch {
	case orig.Kind == ledger.KindReverse:
		return "entry.reverse_of_reverse"
	case md.reversed[orig.Seq]:
		return "entry.already_reversed"
	case !orig.Credit.MayGoNegative() && md.balances[orig.Credit] < orig.Amount:
		return "entry.insufficient"
	}
	return ""
}

func (md *model) check(t *testing.T, step int, e ledger.Entry, err error, want string) {
	t.Helper()
	if want != "" {
		if le, ok := ledger.AsError(err); !ok || le.Key != want {
			t.Fatalf("step %d: got %v, want %s", step, err, want)
		}
		return
	}
	if err != nil {
		t.Fatalf("step %d: %v", step, err)
	}
	if e.Seq != uint64(len(md.entries))+1 {
		t.Fatalf("step %d: entry %d, want %d", step, e.Seq, len(md.entries)+1)
	}
	md.entries = append(md.entries, e)
	md.balances[e.Debit] -= e.Amount
	md.balances[e.Credit] += e.Amount
	if e.Kind == ledger.KindReverse {
		md.reversed[e.Reverses] = true
	}
	if e.IdempotencyKey != "" {
		md.keys[e.IdempotencyKey] = e.Transfer
	}
}

func (md *model) compare(t *testing.T, j ledger.Journal, accounts []ledger.Account) {
	t.Helper()
	for _, a := range accounts {
		if got := balance(t, j, a); got != md.balances[a] {
			t.Fatalf("balance of %s is %d, the model says %d", a, got, md.balances[a])
		}
	}
	seq, h, err := j.Head(ctx)
	must(t, err)
	if seq != uint64(len(md.entries)) || (seq > 0 && h != md.entries[seq-1].Hash) {
		t.Fatalf("head %d, the model has %d entries", seq, len(md.entries))
	}
	verify(t, j)
}

func testConcurrentWriters(t *testing.T, open Open) {
	w := newWorld(t, open, 16)
	const writers, each = 16, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			m := w.members[i]
			for k := range each {
				if _, err := w.j.Append(ctx, ledger.Transfer{Debit: w.issuer, Credit: m, Amount: 2, Kind: ledger.KindEarn,
					IdempotencyKey: fmt.Sprintf("w%d-%d", i, k)}); err != nil {
					errs <- err
					return
				}
				if _, err := w.j.Append(ctx, ledger.Transfer{Debit: m, Credit: ledger.Escrow, Amount: 1, Kind: ledger.KindHold}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := head(t, w.j); got != writers*each*2 {
		t.Fatalf("head %d after %d appends", got, writers*each*2)
	}
	for _, m := range w.members {
		if b := balance(t, w.j, m); b != each {
			t.Fatalf("member balance %d, want %d", b, each)
		}
	}
	if balance(t, w.j, w.issuer) != -2*writers*each || balance(t, w.j, ledger.Escrow) != writers*each {
		t.Fatal("issuer or escrow balance wrong")
	}
}
