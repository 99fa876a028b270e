package postgres

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"aixin/ledger"
	"aixin/store/postgres/pgtest"

	"github.com/google/uuid"
)

// TestBatchIsolatesRequests runs one batch of requests of every kind by
// hand: a request sees what the requests before it wrote; a refusal before
// any write leaves the others alone; a refusal after a write, an error,
// a panic, and rows a request cannot read each fail only their own
// request, whose writes are all undone, while the rest commit.
func TestBatchIsolatesRequests(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.NewDatabase(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	issuer, m := ledger.IssuerAccount(uuid.New()), ledger.MemberAccount(uuid.New())
	for _, a := range []ledger.Account{issuer, m} {
		if err := s.OpenAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	put := func(name string) func(*wtx) error {
		return func(w *wtx) error {
			w.Exec(`INSERT INTO secrets (name, value) VALUES ($1, $2)`, name, []byte(name))
			return nil
		}
	}
	var seen []byte
	var sawOwnEntry bool
	ops := []*op{
		{kind: opFunc, fn: put("a")},
		{kind: opFunc, fn: func(w *wtx) error { // reads the write before it
			_, err := w.QueryRow(`SELECT value FROM secrets WHERE name = 'a'`, nil, &seen)
			return err
		}},
		{kind: opFunc, fn: func(w *wtx) error { return ledger.Errorf(ledger.ECONFLICT, "test.refused") }},
		{kind: opFunc, fn: func(w *wtx) error { // a refusal after a write
			w.Exec(`INSERT INTO secrets (name, value) VALUES ('b', 'b')`)
			if _, err := w.Append(ledger.Transfer{Debit: issuer, Credit: m, Amount: 50, Kind: ledger.KindEarn}); err != nil {
				return err
			}
			return ledger.Errorf(ledger.ECONFLICT, "test.late_refusal")
		}},
		{kind: opFunc, fn: func(w *wtx) error { panic("boom") }},
		{kind: opFunc, fn: func(w *wtx) error { // an error of the database
			w.Exec(`INSERT INTO no_such_table VALUES (1)`)
			_, err := w.QueryRow(`SELECT 1`, nil, new(int))
			return err
		}},
		{kind: opAppend, t: ledger.Transfer{Debit: issuer, Credit: m, Amount: 7, Kind: ledger.KindEarn}},
		{kind: opFunc, fn: func(w *wtx) error { // an append in a request, after one in the same batch
			e, err := w.Append(ledger.Transfer{Debit: m, Credit: ledger.Escrow, Amount: 7, Kind: ledger.KindHold})
			sawOwnEntry = err == nil && e.Seq == 2
			return err
		}},
		{kind: opFunc, fn: func(w *wtx) error { // rows it cannot read (a damaged document): its own error, not the database's
			var n int
			_, err := w.QueryRow(`SELECT 'not a number'`, nil, &n)
			return err
		}},
		{kind: opFunc, fn: put("c")},
	}
	for _, o := range ops {
		o.done = make(chan struct{})
	}
	s.commit(s.ops, ops)
	wantErr := []string{"", "", "test.refused", "test.late_refusal", "panic", "no_such_table", "", "", "scan", ""}
	for i, o := range ops {
		<-o.done
		switch {
		case wantErr[i] == "" && o.err != nil:
			t.Errorf("request %d: %v", i, o.err)
		case wantErr[i] != "" && (o.err == nil || !strings.Contains(o.err.Error(), wantErr[i])):
			t.Errorf("request %d: got %v, want %s", i, o.err, wantErr[i])
		}
	}
	if !bytes.Equal(seen, []byte("a")) || !sawOwnEntry {
		t.Fatalf("a request did not see the one before it: %q %v", seen, sawOwnEntry)
	}
	var names []string
	rows, _ := s.pool.Query(ctx, `SELECT name FROM secrets ORDER BY name`)
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	if strings.Join(names, ",") != "a,c" {
		t.Fatalf("secrets %v, want a,c (b was written by a request that failed)", names)
	}
	if b, _ := s.Balance(ctx, m); b.Points != 0 || b.Entries != 2 {
		t.Fatalf("member %+v: want the earn of 7 and its hold, not the 50 of the failed request", b)
	}
	if rep, err := s.Verify(ctx); err != nil || !rep.OK {
		t.Fatalf("verify %+v %v", rep, err)
	}
}

// TestSecretIsOne asks 16 times at once, on two app servers, for a secret
// that does not exist yet: all get the same.
func TestSecretIsOne(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	var stores []*Store
	for range 2 {
		s, err := Open(ctx, url, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	got := make([][]byte, 16)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			v, err := stores[i%2].Secret(ctx, "cards")
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		})
	}
	wg.Wait()
	for i := range got {
		if len(got[i]) != 32 || !bytes.Equal(got[i], got[0]) {
			t.Fatalf("secret %d is %x, the first %x", i, got[i], got[0])
		}
	}
}

// TestBatchCommitsWritesSentEarly: a batch without entries whose last
// request only reads still commits what the requests before it wrote
// (their writes were sent with that read, not at the end).
func TestBatchCommitsWritesSentEarly(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.NewDatabase(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var one int
	ops := []*op{
		{kind: opFunc, fn: func(w *wtx) error {
			w.Exec(`INSERT INTO secrets (name, value) VALUES ('early', 'x')`)
			return nil
		}},
		{kind: opFunc, fn: func(w *wtx) error {
			_, err := w.QueryRow(`SELECT 1`, nil, &one)
			return err
		}},
	}
	for _, o := range ops {
		o.done = make(chan struct{})
	}
	s.commit(s.ops, ops)
	for _, o := range ops {
		<-o.done
		if o.err != nil {
			t.Fatal(o.err)
		}
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM secrets WHERE name = 'early'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the early write is lost: %d %v", n, err)
	}
}

// TestRowCacheKeepsNoAbsentAccount: a batch of app server A that commits
// found an account not open; app server B opens it, which moves no chain
// head; A must then find it open. (A's row cache holds only accounts that
// were open.)
func TestRowCacheKeepsNoAbsentAccount(t *testing.T) {
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
	issuer, m, late := ledger.IssuerAccount(uuid.New()), ledger.MemberAccount(uuid.New()), ledger.MemberAccount(uuid.New())
	for _, acc := range []ledger.Account{issuer, m} {
		if err := a.OpenAccount(ctx, acc); err != nil {
			t.Fatal(err)
		}
	}
	ops := []*op{
		{kind: opAppend, t: ledger.Transfer{Debit: issuer, Credit: late, Amount: 5, Kind: ledger.KindEarn}},
		{kind: opAppend, t: ledger.Transfer{Debit: issuer, Credit: m, Amount: 5, Kind: ledger.KindEarn}},
	}
	for _, o := range ops {
		o.done = make(chan struct{})
	}
	a.commit(a.ops, ops) // in the queue's stead: the queue is idle
	if ledger.ErrorCode(ops[0].err) != ledger.ENOTFOUND || ops[1].err != nil {
		t.Fatalf("the batch: %v, %v", ops[0].err, ops[1].err)
	}
	if !a.cache.valid {
		t.Fatal("the committed batch left no rows in the cache: this test proves nothing")
	}
	if err := b.OpenAccount(ctx, late); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Append(ctx, ledger.Transfer{Debit: issuer, Credit: late, Amount: 5, Kind: ledger.KindEarn}); err != nil {
		t.Fatalf("A does not find the account B opened: %v", err)
	}
	if bal, err := b.Balance(ctx, late); err != nil || bal.Points != 5 || bal.Entries != 1 {
		t.Fatalf("the account B opened: %+v %v", bal, err)
	}
	if rep, err := b.Verify(ctx); err != nil || !rep.OK {
		t.Fatalf("verify %+v %v", rep, err)
	}
}

// TestBatchScansFirst runs one batch of scans and requests that read what
// scans write, by hand: the scans run first, so both readers (one queued
// before the scans, one after) see the two check-ins and the counters they
// moved; a member's second scan in the batch sees their first (a repeat).
func TestBatchScansFirst(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.NewDatabase(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	unit, ms, events := scanWorld(t, s, 2, 1, 0)
	ev := events[0]
	type seen struct{ open, total, counted int }
	var reads [2]seen
	reader := func(i int) *op {
		return &op{kind: opFunc, fn: func(w *wtx) error {
			_, err := w.QueryRow(`SELECT (SELECT count(*) FROM attendances WHERE event = $1 AND open),
				(SELECT total FROM event_counts WHERE event = $1), (SELECT open FROM event_counts WHERE event = $1)`,
				[]any{ev.ID}, &reads[i].open, &reads[i].total, &reads[i].counted)
			return err
		}}
	}
	scan := func(m ledger.Member) *op {
		return &op{kind: opScan, scan: &scanOp{event: ev.ID, member: m.ID, req: ledger.ScanRequest{Source: "scan"}, answer: true}}
	}
	ops := []*op{reader(0), scan(ms[0]), scan(ms[0]), scan(ms[1]), reader(1)}
	for _, o := range ops {
		o.done = make(chan struct{})
	}
	s.commit(s.ops, ops)
	for i, o := range ops {
		<-o.done
		if o.err != nil {
			t.Fatalf("request %d: %v", i, o.err)
		}
	}
	if a := ops[1].scan.out; a.Action != ledger.ActionIn || ops[2].scan.out.Action != ledger.ActionRepeat || ops[2].scan.out.Attendance.ID != a.Attendance.ID {
		t.Fatalf("first scan %s, second scan %s of %v", a.Action, ops[2].scan.out.Action, ops[2].scan.out.Attendance.ID)
	}
	if b := ops[3].scan.out; b.Action != ledger.ActionIn || b.UnitName != unit.Name {
		t.Fatalf("other member: %+v", b)
	}
	for i, r := range reads {
		if r != (seen{2, 2, 2}) {
			t.Fatalf("reader %d saw %+v, want two open attendances counted", i, r)
		}
	}
}
