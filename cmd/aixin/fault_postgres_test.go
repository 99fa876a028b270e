package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"aixin/store/postgres"
	"aixin/store/postgres/pgtest"
)

// Two app servers on one PostgreSQL, under HTTP load on both (clients make
// and cancel vouchers, each a ledger entry). Each round:
//
//  1. one app server gets SIGKILL: the other goes on acknowledging, and
//     every voucher and cancellation either of them acknowledged is in the
//     database, which verifies;
//
//  2. PostgreSQL crashes (stop -m immediate, as a power cut) and starts
//     again: while it is down the writes answer 503 and nothing else of the
//     5xx kind; afterwards both app servers acknowledge again by
//     themselves; nothing acknowledged is lost and the journal verifies.
//
//     go test ./cmd/aixin -run TestFleetFaults                              (3 rounds, as in CI)
//     AIXIN_FAULT_ROUNDS=20 go test ./cmd/aixin -run TestFleetFaults -v -timeout 60m   (the long run)
func TestFleetFaults(t *testing.T) {
	rounds := 3
	if v := os.Getenv("AIXIN_FAULT_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("AIXIN_FAULT_ROUNDS=%q", v)
		}
		rounds = n
	}
	srv, err := pgtest.Start() // a server of its own: the test crashes it
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	ctx := context.Background()
	url, err := srv.CreateDatabase("fleet")
	if err != nil {
		t.Fatal(err)
	}

	start := func(demo bool) (stop func(syscall.Signal), base string) {
		env := map[string]string{"AIXIN_DB": url, "AIXIN_DATA": t.TempDir()}
		if demo {
			env["AIXIN_DEMO"] = "true"
		}
		child, base, logs := startChild(t, env)
		t.Cleanup(func() {
			if t.Failed() {
				for _, l := range strings.Split(logs.String(), "\n") {
					if strings.Contains(l, "level=ERROR") && !strings.Contains(l, "error=\"unavailable") {
						t.Log(l)
					}
				}
			}
		})
		return func(sig syscall.Signal) {
			child.Process.Signal(sig)
			done := make(chan error, 1)
			go func() { done <- child.Wait() }()
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				child.Process.Kill()
				t.Fatalf("an app server did not stop:\n%s", logs.String())
			}
		}, base
	}
	stopA, baseA := start(true) // the demo district, written once
	stopB, baseB := start(false)
	defer func() { stopB(syscall.SIGTERM) }()

	var loads []*voucherLoad
	check := func(round int, what string) {
		t.Helper()
		st, err := postgres.Open(ctx, url, postgres.Options{})
		if err != nil {
			t.Fatalf("round %d, %s: open: %v", round, what, err)
		}
		defer st.Close()
		opened, cancelled := 0, 0
		for _, w := range loads {
			o, c := w.checkStore(t, st, round)
			opened, cancelled = opened+o, cancelled+c
		}
		t.Logf("round %d, %s: %d acknowledged vouchers and %d cancellations, all there", round, what, opened, cancelled)
	}
	acked := func(w *voucherLoad) int {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.acked
	}
	waitAcked := func(w *voucherLoad, than int, what string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for acked(w) <= than {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no request acknowledged in 20 s (%v)", what, w.codes)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// Vouchers a kill or a crash left open hold towels and points: each new
	// load cancels those of the loads before it.
	leftover := func() []string {
		var ids []string
		for _, w := range loads {
			for id, cancelled := range w.open {
				if !cancelled {
					ids = append(ids, id)
				}
			}
		}
		return ids
	}
	for round := range rounds {
		// 1. An app server killed under load.
		la, lb := newVoucherLoad(t, baseA, leftover()), newVoucherLoad(t, baseB, nil)
		loads = append(loads, la, lb)
		la.start(4)
		lb.start(4)
		waitAcked(la, 0, "server A")
		waitAcked(lb, 0, "server B")
		time.Sleep(time.Duration(100+round*37%300) * time.Millisecond)
		stopA(syscall.SIGKILL)
		la.stop()
		n := acked(lb)
		waitAcked(lb, n, "server B after A was killed")
		lb.stop()
		check(round, "an app server killed")
		stopA, baseA = start(false)

		// 2. PostgreSQL crashed under load and started again.
		la, lb = newVoucherLoad(t, baseA, leftover()), newVoucherLoad(t, baseB, nil)
		loads = append(loads, la, lb)
		la.start(4)
		lb.start(4)
		waitAcked(la, 0, "server A")
		waitAcked(lb, 0, "server B")
		if err := srv.Crash(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		if err := srv.Restart(); err != nil {
			t.Fatal(err)
		}
		na, nb := acked(la), acked(lb)
		waitAcked(la, na, "server A after PostgreSQL came back")
		waitAcked(lb, nb, "server B after PostgreSQL came back")
		la.stop()
		lb.stop()
		unavailable := 0
		for _, w := range []*voucherLoad{la, lb} {
			for code, n := range w.codes {
				switch {
				case code == 503:
					unavailable += n
				case code >= 500:
					t.Errorf("round %d: %d answers %d while PostgreSQL was down (want 503): %s", round, n, code, w.bodies[code])
				}
			}
		}
		if unavailable == 0 {
			t.Errorf("round %d: no write answered 503: PostgreSQL did not go down under load", round)
		}
		check(round, "PostgreSQL crashed")
	}
	stopA(syscall.SIGTERM)
}
