package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/postgres"
	"aixin/store/postgres/pgtest"

	"github.com/google/uuid"
)

// faultRounds is how many crashes a fault test makes: a few in CI, more by
// hand with AIXIN_FAULT_ROUNDS=20.
func faultRounds(t *testing.T) int {
	if v := os.Getenv("AIXIN_FAULT_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("AIXIN_FAULT_ROUNDS=%q", v)
		}
		return n
	}
	return 3
}

// TestPostgresCrashUnderLoad crashes PostgreSQL (stop -m immediate: no
// checkpoint, as a power cut) while 16 writers append, and starts it again.
// While it is down, appends answer EUNAVAILABLE; when it is back, they go
// on. Every acknowledged append is in the journal afterwards, exactly as it
// was acknowledged; an append retried with its idempotency key after an
// unknown outcome is there once; the journal verifies.
func TestPostgresCrashUnderLoad(t *testing.T) {
	srv, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	ctx := context.Background()
	url, err := srv.CreateDatabase("fault")
	if err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	issuer := ledger.IssuerAccount(uuid.New())
	members := make([]ledger.Account, 16)
	for i := range members {
		members[i] = ledger.MemberAccount(uuid.New())
	}
	for _, a := range append([]ledger.Account{issuer}, members...) {
		if err := s.OpenAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}

	var acked sync.Map // key -> ledger.Entry
	var unavailable, outcomes atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range members {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%d", g, i)
				tr := ledger.Transfer{Debit: issuer, Credit: members[g], Amount: 1, Kind: ledger.KindEarn, IdempotencyKey: key}
				for {
					e, err := s.Append(ctx, tr)
					if err == nil {
						acked.Store(key, e)
						outcomes.Add(1)
						break
					}
					if ledger.ErrorCode(err) != ledger.EUNAVAILABLE {
						t.Errorf("append %s: %v", key, err)
						return
					}
					// Down, or the outcome unknown: try again with the same key.
					unavailable.Add(1)
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	for round := range faultRounds(t) {
		time.Sleep(300 * time.Millisecond)
		before := unavailable.Load()
		if err := srv.Crash(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if err := srv.Restart(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d refusals while down", round, unavailable.Load()-before)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if unavailable.Load() == 0 {
		t.Fatal("no append noticed the database was down: the crash did not happen under load")
	}

	seq, _, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]ledger.Entry{}
	for after := uint64(0); after < seq; {
		es, err := s.Entries(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if _, twice := byKey[e.IdempotencyKey]; twice {
				t.Fatalf("key %s appended twice", e.IdempotencyKey)
			}
			byKey[e.IdempotencyKey] = e
			after = e.Seq
		}
	}
	n := 0
	acked.Range(func(k, v any) bool {
		n++
		got, ok := byKey[k.(string)]
		if !ok || got != v.(ledger.Entry) {
			t.Errorf("acknowledged append %s is %+v in the journal, was %+v", k, got, v)
		}
		return true
	})
	if uint64(len(byKey)) != seq || int64(n) != outcomes.Load() {
		t.Fatalf("%d entries, %d keys, %d acknowledged", seq, len(byKey), n)
	}
	rep, err := s.Verify(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("verify after the crashes: %+v %v", rep, err)
	}
	t.Logf("%d appends acknowledged through %d crashes; %d refused while down", n, faultRounds(t), unavailable.Load())
}
