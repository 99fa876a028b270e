package main

import (
	"context"
	"path/filepath"
	"testing"

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
