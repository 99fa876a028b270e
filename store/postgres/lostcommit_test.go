package postgres

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/postgres/pgtest"

	"github.com/google/uuid"
)

// TestLostCommitAnswer cuts the connection of a one-trip batch after
// PostgreSQL received its COMMIT and before the answer comes back, as a
// network that fails at the worst moment does. The batch committed; the
// app server cannot know. It must not send the batch again: a keyless
// transfer would be appended twice. The caller gets "unavailable"; the
// entry is there once; a caller that retries with its key gets that entry.
func TestLostCommitAnswer(t *testing.T) {
	ctx := context.Background()
	direct := pgtest.NewDatabase(t)
	p := newCutProxy(t, direct)
	a, err := Open(ctx, p.url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	issuer, m := ledger.IssuerAccount(uuid.New()), ledger.MemberAccount(uuid.New())
	for _, acc := range []ledger.Account{issuer, m} {
		if err := a.OpenAccount(ctx, acc); err != nil {
			t.Fatal(err)
		}
	}
	earn := func(n ledger.Points, key string) (ledger.Entry, error) {
		return a.Append(ctx, ledger.Transfer{Debit: issuer, Credit: m, Amount: n, Kind: ledger.KindEarn,
			Minutes: 30, IdempotencyKey: key})
	}
	var want ledger.Points
	settled := 0
	settle := func() {
		t.Helper()
		// The batches after a cut find the head and trust the cache again.
		// One has a key, so that the connection has the statements of a
		// keyed batch prepared: the batch cut next then goes in one trip,
		// with no round trip before it that the proxy would cut instead.
		for i := range 3 {
			key := ""
			if i == 1 {
				settled++
				key = fmt.Sprint("settle-", settled)
			}
			if _, err := earn(1, key); err != nil {
				t.Fatal(err)
			}
			want++
		}
		if !a.trustCache {
			t.Fatal("after three batches alone, the store does not trust its cache: the next batch would not take one trip")
		}
	}
	cut := func(n ledger.Points, key string) {
		t.Helper()
		settle()
		cuts := p.cuts.Load()
		p.armed.Store(true)
		e, err := earn(n, key)
		if p.cuts.Load() != cuts+1 {
			t.Fatalf("the proxy cut %d connections after PostgreSQL answered COMMIT, want 1 (answer %+v, %v)",
				p.cuts.Load()-cuts, e, err)
		}
		if code, ok := ledger.AsError(err); !ok || code.Code != ledger.EUNAVAILABLE {
			t.Fatalf("an append whose COMMIT answer was lost answered %+v, %v; want EUNAVAILABLE", e, err)
		}
		want += n // PostgreSQL answered COMMIT: the entry is there
	}
	check := func(s *Store) {
		t.Helper()
		bal, err := s.Balance(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if bal.Points != want {
			t.Fatalf("the balance is %d, want %d: an entry whose COMMIT answer was lost was appended %s",
				bal.Points, want, map[bool]string{true: "twice", false: "not at all"}[bal.Points > want])
		}
		if rep, err := s.Verify(ctx); err != nil || !rep.OK {
			t.Fatalf("verify: %+v %v", rep, err)
		}
	}

	// A keyless transfer: the batch is not sent again.
	cut(100, "")
	check(a)

	// With a key: the caller's retry gets the entry that landed.
	cut(1000, "lost-answer")
	check(a)
	head, _, err := a.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e, err := earn(1000, "lost-answer")
	if err != nil {
		t.Fatalf("the retry of a key whose answer was lost: %v", err)
	}
	if after, _, err := a.Head(ctx); err != nil || after != head || e.Seq > head {
		t.Fatalf("the retry appended: head %d before, %d after (%v), answered entry %d", head, after, err, e.Seq)
	}
	entries, err := a.Entries(ctx, e.Seq-1, 1)
	if err != nil || len(entries) != 1 || entries[0].Hash != e.Hash {
		t.Fatalf("the retry answered entry %d, which the journal does not hold as answered: %+v %v", e.Seq, entries, err)
	}
	check(a)

	// A server that never saw the cut agrees.
	b, err := Open(ctx, direct, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	check(b)
}

// cutProxy is a TCP proxy to a PostgreSQL server. Armed, it passes on the
// next bytes a client sends and everything after, but none of the
// server's answers; once those answers hold COMMIT's command tag (so
// PostgreSQL committed), it closes that connection and counts a cut. A
// connection whose answers hold no COMMIT is closed after five seconds,
// uncounted.
type cutProxy struct {
	url   string
	armed atomic.Bool
	cuts  atomic.Int32
}

// commitTag is the protocol's CommandComplete message for COMMIT: 'C',
// its length (4 + 7), "COMMIT" and a zero byte.
var commitTag = []byte{'C', 0, 0, 0, 11, 'C', 'O', 'M', 'M', 'I', 'T', 0}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	p := &cutProxy{}
	to := u.Host
	u.Host = ln.Addr().String()
	p.url = u.String()
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { p.pipe(c, to) })
		}
	})
	return p
}

func (p *cutProxy) pipe(client net.Conn, to string) {
	server, err := net.Dial("tcp", to)
	if err != nil {
		client.Close()
		return
	}
	var cutting atomic.Bool
	closeBoth := func() { client.Close(); server.Close() }
	done := make(chan struct{})
	go func() { // the server's answers
		defer close(done)
		var dropped []byte // the answers held back, to look for COMMIT's tag in
		buf := make([]byte, 64<<10)
		for {
			n, err := server.Read(buf)
			if n > 0 {
				if !cutting.Load() {
					if _, err := client.Write(buf[:n]); err != nil {
						break
					}
				} else if dropped = append(dropped, buf[:n]...); bytes.Contains(dropped, commitTag) {
					p.cuts.Add(1)
					break
				}
			}
			if err != nil {
				break
			}
		}
		closeBoth()
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			if !cutting.Load() && p.armed.CompareAndSwap(true, false) {
				cutting.Store(true)
				time.AfterFunc(5*time.Second, closeBoth)
			}
			if _, err := server.Write(buf[:n]); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	closeBoth()
	<-done
}
