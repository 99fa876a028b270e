package bolt

import (
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/storetest"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// shopWorld is storetest's ShopWorld on a bbolt store, under the names the
// bbolt tests use.
type shopWorld struct {
	s                *Store
	clock            *storetest.Clock
	tr               tree
	shopA, shopB     ledger.Shop
	rice, oil, towel ledger.Item
	member           ledger.Member
}

func newShopWorld(t *testing.T, points ledger.Points) shopWorld {
	t.Helper()
	w := storetest.NewShopWorld(t, openShops, points)
	tr := tree{street: w.Tr.Street, a: w.Tr.A, b: w.Tr.B, gridA: w.Tr.GridA, gridB: w.Tr.GridB, teamA: w.Tr.TeamA}
	return shopWorld{s: w.S.(*Store), clock: w.Clock, tr: tr, shopA: w.ShopA, shopB: w.ShopB, rice: w.Rice, oil: w.Oil, towel: w.Towel, member: w.Member}
}

func (w shopWorld) balance(t *testing.T) (ledger.Points, ledger.Points) {
	t.Helper()
	b, err := w.s.Balance(ctx, ledger.MemberAccount(w.member.ID))
	if err != nil {
		t.Fatal(err)
	}
	held, _ := w.s.Held(ctx, w.member.ID)
	return b.Points, held
}

// TestShopsConformance runs the engines' shared shops suite on bbolt.
func TestShopsConformance(t *testing.T) {
	storetest.RunShops(t, openShops)
}

func openShops(t *testing.T, clock func() time.Time) storetest.ShopsStore {
	return openTest(t, Options{Now: clock})
}

// TestExpirySweepSkipsABadVoucher plants two vouchers that cannot be
// released among good ones: one whose release key another entry took (a
// refusal), one whose record is damaged (an error that aborts its write).
// Every other voucher expires, the bad ones are reported and counted, and
// the sweep reads past them page by page.
func TestExpirySweepSkipsABadVoucher(t *testing.T) {
	w := newShopWorld(t, 1000)
	s := w.s
	s.expiryPage = 3 // the ten vouchers take four pages
	var vs []ledger.Voucher
	for range 10 {
		v, err := s.IssueVoucher(ctx, w.member.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.rice.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, "")
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
		w.clock.Add(time.Second) // distinct expiry times: the sweep's order is known
	}
	// vs[0]: another entry took its release key.
	iss := ledger.IssuerAccount(w.tr.a.ID)
	if _, err := s.Append(ctx, ledger.Transfer{Debit: iss, Credit: ledger.MemberAccount(w.member.ID), Amount: 1,
		Kind: ledger.KindEarn, IdempotencyKey: vs[0].Key("release")}); err != nil {
		t.Fatal(err)
	}
	// vs[4]: its record is damaged.
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketVouchers).Put(vs[4].ID[:], []byte("{not json"))
	}); err != nil {
		t.Fatal(err)
	}
	w.clock.Set(vs[9].ExpiresAt.Add(time.Minute))
	res, err := s.ExpireVouchers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Done != 8 || len(res.Failed) != 2 || res.Failed[0].ID != vs[0].ID || res.Failed[1].ID != vs[4].ID {
		t.Fatalf("sweep %+v", res)
	}
	wantCode(t, res.Failed[0].Err, ledger.ECONFLICT, "idempotency.mismatch")
	for i, v := range vs {
		if i == 0 || i == 4 {
			continue
		}
		if got, err := s.Voucher(ctx, v.ID); err != nil || got.Status != ledger.VoucherExpired {
			t.Fatalf("voucher %d: %v %v", i, got.Status, err)
		}
	}
	// 1000 + 1 points, of which the two stuck vouchers still hold 60.
	if avail, held := w.balance(t); avail != 941 || held != 60 {
		t.Fatalf("available %d held %d", avail, held)
	}
	if st := s.Stats(); st.SweepFailures["voucher_expiry"] != 2 {
		t.Fatalf("sweep failures %v", st.SweepFailures)
	}
	// The next run tries the two again, and nothing else.
	if res, err := s.ExpireVouchers(ctx); err != nil || res.Done != 0 || len(res.Failed) != 2 {
		t.Fatalf("second sweep %+v %v", res, err)
	}
	if rep, err := s.Verify(ctx); err != nil || !rep.OK {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}
