package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/bolt"
)

// TestDemoAwards: the demo district has a behaviour list, a grid worker,
// and awards in every state, a household deduction partly not taken among
// them, and its ledger verifies.
func TestDemoAwards(t *testing.T) {
	data := t.TempDir()
	env := envFrom(map[string]string{"AIXIN_DATA": data, "AIXIN_ADMIN_PASSWORD": "demo-admin-password-2026"})
	var out, errs syncBuffer
	if err := run(context.Background(), []string{"demo"}, env, nil, &out, &errs); err != nil {
		t.Fatalf("demo: %v\n%s", err, errs.String())
	}
	st, err := bolt.Open(filepath.Join(data, "aixin.db"), bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if rep, err := st.Verify(ctx); err != nil || !rep.OK {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	bs, err := st.Behaviours(ctx)
	if err != nil || len(bs) < 10 {
		t.Fatalf("%d behaviours %v", len(bs), err)
	}
	if u, err := st.UserByLogin(ctx, "donghe-grid"); err != nil || u.Role != ledger.RoleGridWorker {
		t.Fatalf("grid worker: %+v %v", u, err)
	}
	awards, err := st.Awards(ctx, ledger.AwardFilter{Scope: ledger.Scope{All: true}, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	states := map[ledger.AwardStatus]int{}
	partly, household, photos := false, false, false
	for _, a := range awards {
		states[a.Status]++
		partly = partly || (a.Status == ledger.AwardPosted && a.Taken > 0 && a.NotTaken > 0)
		household = household || a.Target == ledger.TargetHousehold
		photos = photos || len(a.Evidence) > 0
	}
	for _, s := range []ledger.AwardStatus{ledger.AwardPending, ledger.AwardInNotice, ledger.AwardHeld, ledger.AwardPosted, ledger.AwardRejected, ledger.AwardReversed} {
		if states[s] == 0 {
			t.Errorf("no award %s: %v", s, states)
		}
	}
	if !partly || !household || !photos {
		t.Errorf("partly not taken %v, household %v, photos %v", partly, household, photos)
	}
}

// TestDemoEndsBeforeNow fills the demo district at several times of day
// (Shanghai): its story, dated by the demo's own clock, must end at now at
// the latest, or the server would refuse every write ("store.clock_behind")
// until the real clock caught up. Before the fix, a demo made between
// midnight and about noon ended up to six hours ahead.
func TestDemoEndsBeforeNow(t *testing.T) {
	loc, err := time.LoadLocation(ledger.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	for _, hm := range [][2]int{{0, 20}, {7, 0}, {16, 30}} {
		now := time.Date(2026, 12, 8, hm[0], hm[1], 0, 0, loc)
		t.Run(now.Format("15:04"), func(t *testing.T) {
			clock := &demoClock{t: now.AddDate(0, 0, -40)}
			st, err := bolt.Open(filepath.Join(t.TempDir(), "aixin.db"), bolt.Options{Now: clock.Now, Location: loc})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			ctx := context.Background()
			if _, err := fillDemo(ctx, st, clock, now); err != nil {
				t.Fatal(err)
			}
			seq, _, err := st.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			last, err := st.Entries(ctx, seq-1, 1)
			if err != nil || len(last) != 1 {
				t.Fatalf("the last entry: %v", err)
			}
			if last[0].Time.After(now) || !clock.t.Equal(now) {
				t.Fatalf("the demo's story ends at %v (last entry %v), after now %v", clock.t, last[0].Time, now)
			}
		})
	}
}
