package main

import (
	"context"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/bolt"
)

// checkDemoHouseholds checks the demo's households (TestDemo): three in
// each community, of two to four members with some minors, each started
// with 60 points; the love supermarket takes household points; one
// household voucher was redeemed and one is open; the month reconciles
// with the households counted.
func checkDemoHouseholds(t *testing.T, st *bolt.Store) {
	t.Helper()
	ctx := context.Background()
	homes, err := st.Households(ctx, ledger.Scope{All: true})
	if err != nil || len(homes) != 9 {
		t.Fatalf("%d households, %v", len(homes), err)
	}
	minors, inBuilding := 0, 0
	status := map[ledger.VoucherStatus]int{}
	units, err := st.Units(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]ledger.UnitKind{}
	for _, u := range units {
		kinds[u.ID.String()] = u.Kind
	}
	for _, h := range homes {
		if n := len(h.Members); n < 2 || n > 4 || !h.MaySpend(h.HeadID) {
			t.Fatalf("household %+v", h)
		}
		for _, m := range h.Members {
			if m.Minor {
				minors++
			}
		}
		if kinds[h.UnitID.String()] == ledger.UnitBuilding {
			inBuilding++
		}
		es, err := st.AccountEntries(ctx, h.Account(), 0, 100)
		if err != nil || len(es) == 0 || es[len(es)-1].Amount != 60 || es[len(es)-1].Kind != ledger.KindAward {
			t.Fatalf("household %s entries %+v %v", h.Address, es, err)
		}
		vs, err := st.HouseholdVouchers(ctx, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			status[v.Status]++
		}
	}
	if minors == 0 || inBuilding == 0 || status[ledger.VoucherRedeemed] != 1 || status[ledger.VoucherOpen] != 1 {
		t.Fatalf("%d minors, %d households in a building, household vouchers %v", minors, inBuilding, status)
	}
	shops, err := st.Shops(ctx)
	if err != nil {
		t.Fatal(err)
	}
	takes := 0
	for _, sh := range shops {
		if sh.Households {
			takes++
			if sh.Kind != ledger.ShopLoveSupermarket {
				t.Fatalf("%+v", sh)
			}
		}
	}
	if takes != 1 {
		t.Fatalf("%d shops take household points", takes)
	}
	// The demo volunteer heads a household.
	vol, err := st.UserByLogin(ctx, "13905500000")
	if err != nil {
		t.Fatal(err)
	}
	if h, err := st.MemberHousehold(ctx, vol.MemberID); err != nil || h.HeadID != vol.MemberID {
		t.Fatalf("the demo volunteer's household: %+v %v", h, err)
	}
	rep, err := st.MonthReport(ctx, ledger.MonthOf(time.Now(), st.Location()), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bad, agree := rep.Reconcile(); len(bad) != 0 || !agree {
		t.Fatalf("the month does not reconcile: %v %v", bad, agree)
	}
}
