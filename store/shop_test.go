package store

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

type shopWorld struct {
	s                *Store
	clock            *testClock
	tr               tree
	shopA, shopB     ledger.Shop
	rice, oil, towel ledger.Item
	member           ledger.Member
}

// newShopWorld makes two shops of community A's street, a catalogue with
// stock, and a member with points.
func newShopWorld(t *testing.T, points ledger.Points) shopWorld {
	t.Helper()
	clock := newTestClock(time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC))
	s := openTest(t, Options{Now: clock.Now})
	w := shopWorld{s: s, clock: clock, tr: makeTree(t, s)}
	var err error
	if w.shopA, err = s.CreateShop(ctx, ledger.Shop{Name: "东河园爱心超市", Kind: ledger.ShopLoveSupermarket, UnitID: w.tr.a.ID}); err != nil {
		t.Fatal(err)
	}
	if w.shopB, err = s.CreateShop(ctx, ledger.Shop{Name: "西湖文明银行", Kind: ledger.ShopCivilityBank, UnitID: w.tr.b.ID}); err != nil {
		t.Fatal(err)
	}
	item := func(shop ledger.Shop, name string, pts ledger.Points, stock, limit int) ledger.Item {
		it, err := s.CreateItem(ctx, ledger.Item{ShopID: shop.ID, Name: name, Points: pts, MonthlyLimit: limit, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		if stock > 0 {
			if it, err = s.MoveStock(ctx, ledger.StockMove{ItemID: it.ID, Kind: ledger.StockIntake, Qty: stock, Donor: "爱心企业"}); err != nil {
				t.Fatal(err)
			}
		}
		return it
	}
	w.rice = item(w.shopA, "大米 5 斤", 30, 10, 0)
	w.oil = item(w.shopA, "食用油", 50, 1, 0)
	w.towel = item(w.shopA, "毛巾", 10, 100, 2)
	if w.member, err = s.CreateMember(ctx, ledger.Member{Name: "李阿姨", Phone: "13812340001", UnitID: w.tr.gridA.ID}, ""); err != nil {
		t.Fatal(err)
	}
	iss := ledger.IssuerAccount(w.tr.a.ID)
	openAccounts(t, s, iss)
	if points > 0 {
		if _, err := s.Append(ctx, ledger.Transfer{Debit: iss, Credit: ledger.MemberAccount(w.member.ID), Amount: points, Kind: ledger.KindEarn}); err != nil {
			t.Fatal(err)
		}
	}
	return w
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

func TestVoucherLifecycle(t *testing.T) {
	w := newShopWorld(t, 100)
	s := w.s
	v, err := s.IssueVoucher(ctx, w.member.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.rice.ID, Qty: 1}, {ItemID: w.towel.ID, Qty: 2}}, uuid.Nil, ledger.PresenceSelf, "")
	if err != nil || v.Points != 50 || v.Status != ledger.VoucherOpen || len(v.Code) != 10 {
		t.Fatalf("issue: %+v %v", v, err)
	}
	if avail, held := w.balance(t); avail != 50 || held != 50 {
		t.Fatalf("after issue: available %d held %d", avail, held)
	}
	rice, _ := s.Item(ctx, w.rice.ID)
	if rice.OnHand != 10 || rice.Reserved != 1 {
		t.Fatalf("rice %+v", rice)
	}
	byCode, err := s.VoucherByCode(ctx, v.Code[:4]+"-"+v.Code[4:])
	if err != nil || byCode.ID != v.ID {
		t.Fatalf("by code: %v", err)
	}
	// At the wrong shop it is refused and nothing changes.
	_, err = s.RedeemVoucher(ctx, v.ID, w.shopB.ID, uuid.Nil, "k1")
	wantCode(t, err, ledger.ECONFLICT, "voucher.other_shop")
	r, err := s.RedeemVoucher(ctx, v.ID, w.shopA.ID, uuid.Nil, "k1")
	if err != nil || r.Status != ledger.VoucherRedeemed {
		t.Fatalf("redeem: %+v %v", r, err)
	}
	again, err := s.RedeemVoucher(ctx, v.ID, w.shopA.ID, uuid.Nil, "k1")
	if err != nil || again.CloseSeq != r.CloseSeq {
		t.Fatalf("replay with the same key: %+v %v", again, err)
	}
	_, err = s.RedeemVoucher(ctx, v.ID, w.shopA.ID, uuid.Nil, "k2")
	wantCode(t, err, ledger.ECONFLICT, "voucher.redeemed")
	rice, _ = s.Item(ctx, w.rice.ID)
	if rice.OnHand != 9 || rice.Reserved != 0 {
		t.Fatalf("rice after redeem %+v", rice)
	}
	moves, _ := s.StockMoves(ctx, w.rice.ID)
	sum := 0
	for _, m := range moves {
		sum += m.Qty
	}
	if sum != rice.OnHand {
		t.Fatalf("stock on hand %d, its movements sum to %d", rice.OnHand, sum)
	}
	if avail, held := w.balance(t); avail != 50 || held != 0 {
		t.Fatalf("after redeem: available %d held %d", avail, held)
	}
	if b, _ := s.Balance(ctx, ledger.ShopAccount(w.shopA.ID)); b.Points != 50 {
		t.Fatalf("shop account %d", b.Points)
	}
	_, err = s.CancelVoucher(ctx, v.ID, uuid.Nil)
	wantCode(t, err, ledger.ECONFLICT, "voucher.not_open")
}

func TestVoucherRefusals(t *testing.T) {
	w := newShopWorld(t, 60)
	s := w.s
	head, _, _ := s.Head(ctx)
	other, _ := s.CreateMember(ctx, ledger.Member{Name: "外街道", Phone: "13812340002", UnitID: w.tr.gridB.ID}, "")
	otherStreet, _ := s.CreateUnit(ctx, "别的街道", ledger.UnitStreet, uuid.Nil, nil)
	far, _ := s.CreateMember(ctx, ledger.Member{Name: "远方", Phone: "13812340003", UnitID: otherStreet.ID}, "")
	for _, tt := range []struct {
		name   string
		member uuid.UUID
		lines  []ledger.VoucherRequestLine
		code   string
		key    string
	}{
		{"TooFewPoints", w.member.ID, []ledger.VoucherRequestLine{{ItemID: w.rice.ID, Qty: 3}}, ledger.ECONFLICT, "entry.insufficient"},
		{"OutOfStock", w.member.ID, []ledger.VoucherRequestLine{{ItemID: w.oil.ID, Qty: 2}}, ledger.ECONFLICT, "voucher.out_of_stock"},
		{"OverMonthlyLimit", w.member.ID, []ledger.VoucherRequestLine{{ItemID: w.towel.ID, Qty: 2}, {ItemID: w.towel.ID, Qty: 1}}, ledger.ECONFLICT, "voucher.limit_reached"},
		{"ZeroQty", w.member.ID, []ledger.VoucherRequestLine{{ItemID: w.rice.ID, Qty: 0}}, ledger.EINVALID, "voucher.qty_invalid"},
		{"NoLines", w.member.ID, nil, ledger.EINVALID, "voucher.lines_invalid"},
		// The cap of 100 holds for the item, not for each line of it.
		{"ThreeLinesOf100", w.member.ID, []ledger.VoucherRequestLine{{ItemID: w.towel.ID, Qty: 100}, {ItemID: w.towel.ID, Qty: 100}, {ItemID: w.towel.ID, Qty: 100}}, ledger.EINVALID, "voucher.qty_invalid"},
		{"UnknownItem", w.member.ID, []ledger.VoucherRequestLine{{ItemID: uuid.New(), Qty: 1}}, ledger.ENOTFOUND, "item.not_found"},
		{"AnotherStreet", far.ID, []ledger.VoucherRequestLine{{ItemID: w.towel.ID, Qty: 1}}, ledger.EFORBIDDEN, "voucher.shop_not_yours"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.IssueVoucher(ctx, tt.member, w.shopA.ID, tt.lines, uuid.Nil, ledger.PresenceSelf, "")
			wantCode(t, err, tt.code, tt.key)
		})
	}
	// The same street's other community may use it (the default scope).
	if _, err := s.IssueVoucher(ctx, other.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.towel.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, ""); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("a member of the same street without points: %v", err) // refused for points, not for place
	}
	if h, _, _ := s.Head(ctx); h != head {
		t.Fatal("a refused voucher wrote to the journal")
	}
	for _, it := range []ledger.Item{w.rice, w.oil, w.towel} {
		if got, _ := s.Item(ctx, it.ID); got.Reserved != 0 {
			t.Fatalf("%s reserved %d after refusals", got.Name, got.Reserved)
		}
	}
}

func TestCancelAndExpiryReleaseExactly(t *testing.T) {
	w := newShopWorld(t, 200)
	s := w.s
	lines := []ledger.VoucherRequestLine{{ItemID: w.rice.ID, Qty: 2}, {ItemID: w.towel.ID, Qty: 2}}
	v1, err := s.IssueVoucher(ctx, w.member.ID, w.shopA.ID, lines, uuid.Nil, ledger.PresenceSelf, "")
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Add(24 * time.Hour)
	v2, err := s.IssueVoucher(ctx, w.member.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.rice.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CancelVoucher(ctx, v2.ID, uuid.Nil); err != nil {
		t.Fatal(err)
	}
	// The towel limit (2 a month) is free again only after v1 goes.
	_, err = s.IssueVoucher(ctx, w.member.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.towel.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, "")
	wantCode(t, err, ledger.ECONFLICT, "voucher.limit_reached")
	w.clock.Set(v1.ExpiresAt.Add(time.Second))
	_, err = s.RedeemVoucher(ctx, v1.ID, w.shopA.ID, uuid.Nil, "k")
	wantCode(t, err, ledger.EGONE, "voucher.expired")
	if res, err := s.ExpireVouchers(ctx); err != nil || res.Done != 1 || len(res.Failed) != 0 {
		t.Fatalf("expired %+v: %v", res, err)
	}
	if res, _ := s.ExpireVouchers(ctx); res.Done != 0 {
		t.Fatal("expired twice")
	}
	if avail, held := w.balance(t); avail != 200 || held != 0 {
		t.Fatalf("after cancel and expiry: available %d held %d", avail, held)
	}
	for _, it := range []ledger.Item{w.rice, w.towel} {
		got, _ := s.Item(ctx, it.ID)
		if got.Reserved != 0 || got.OnHand != it.OnHand {
			t.Fatalf("%s after release: %+v", got.Name, got)
		}
	}
	got, _ := s.Voucher(ctx, v1.ID)
	if got.Status != ledger.VoucherExpired {
		t.Fatalf("status %s", got.Status)
	}
	_, err = s.RedeemVoucher(ctx, v1.ID, w.shopA.ID, uuid.Nil, "k")
	wantCode(t, err, ledger.EGONE, "voucher.expired")
	_, err = s.RedeemVoucher(ctx, v2.ID, w.shopA.ID, uuid.Nil, "k")
	wantCode(t, err, ledger.EGONE, "voucher.cancelled")
}

// TestRedeemRace redeems one voucher from 100 goroutines, clerks of two
// shops: exactly one succeeds, and one redeem entry exists.
func TestRedeemRace(t *testing.T) {
	w := newShopWorld(t, 100)
	s := w.s
	v, err := s.IssueVoucher(ctx, w.member.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.rice.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, "")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			shop := w.shopA.ID
			if i%2 == 1 {
				shop = w.shopB.ID
			}
			_, err := s.RedeemVoucher(ctx, v.ID, shop, uuid.Nil, fmt.Sprint("kiosk-", i))
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			} else if ledger.ErrorCode(err) != ledger.ECONFLICT {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d redemptions succeeded", ok)
	}
	entries, _ := s.AccountEntries(ctx, ledger.Escrow, 0, 100)
	redeems := 0
	for _, e := range entries {
		if e.Kind == ledger.KindRedeem {
			redeems++
		}
	}
	if redeems != 1 {
		t.Fatalf("%d redeem entries", redeems)
	}
}

// TestIssueRace creates vouchers from many goroutines against one balance
// and one item's last stock: never overdrawn, never below zero.
func TestIssueRace(t *testing.T) {
	w := newShopWorld(t, 95) // three vouchers of 30 fit, a fourth does not
	s := w.s
	var wg sync.WaitGroup
	var mu sync.Mutex
	okRice, okOil := 0, 0
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			item := w.rice.ID
			if i%2 == 1 {
				item = w.oil.ID // one in stock
			}
			_, err := s.IssueVoucher(ctx, w.member.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: item, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && item == w.oil.ID:
				okOil++
			case err == nil:
				okRice++
			case ledger.ErrorCode(err) != ledger.ECONFLICT:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	avail, held := w.balance(t)
	if avail < 0 || held != ledger.Points(okRice*30+okOil*50) || avail+held != 95 {
		t.Fatalf("available %d held %d after %d rice and %d oil vouchers", avail, held, okRice, okOil)
	}
	oil, _ := s.Item(ctx, w.oil.ID)
	if okOil > 1 || oil.Available() < 0 || oil.Reserved != okOil {
		t.Fatalf("oil: %d vouchers, %+v", okOil, oil)
	}
}

func TestStockMoves(t *testing.T) {
	w := newShopWorld(t, 100)
	s := w.s
	if _, err := s.IssueVoucher(ctx, w.member.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.rice.ID, Qty: 2}}, uuid.Nil, ledger.PresenceSelf, ""); err != nil {
		t.Fatal(err)
	}
	_, err := s.MoveStock(ctx, ledger.StockMove{ItemID: w.rice.ID, Kind: ledger.StockCorrection, Qty: -9, Note: "盘点短少"})
	wantCode(t, err, ledger.ECONFLICT, "stock.below_reserved")
	_, err = s.MoveStock(ctx, ledger.StockMove{ItemID: w.rice.ID, Kind: ledger.StockCorrection, Qty: -1})
	wantCode(t, err, ledger.EINVALID, "stock.correction_invalid")
	_, err = s.MoveStock(ctx, ledger.StockMove{ItemID: w.rice.ID, Kind: ledger.StockIntake, Qty: 5, Donor: "=cmd|' /C calc'!A0"})
	wantCode(t, err, ledger.EINVALID, "text.formula")
	_, err = s.MoveStock(ctx, ledger.StockMove{ItemID: w.rice.ID, Kind: ledger.StockIntake, Qty: 5, Donor: strings.Repeat("爱", 201)})
	wantCode(t, err, ledger.EINVALID, "stock.text_invalid")
	_, err = s.MoveStock(ctx, ledger.StockMove{ItemID: w.rice.ID, Kind: ledger.StockIntake, Qty: 5, Note: "张\u202e三"})
	wantCode(t, err, ledger.EINVALID, "text.bidi")
	it, err := s.MoveStock(ctx, ledger.StockMove{ItemID: w.rice.ID, Kind: ledger.StockCorrection, Qty: -8, Note: "盘点短少"})
	if err != nil || it.OnHand != 2 || it.Available() != 0 {
		t.Fatalf("correction: %+v %v", it, err)
	}
}

func TestIssueVoucherIdempotent(t *testing.T) {
	w := newShopWorld(t, 100)
	lines := []ledger.VoucherRequestLine{{ItemID: w.rice.ID, Qty: 1}}
	key := uuid.Must(uuid.NewV7()).String()
	var wg sync.WaitGroup
	ids := make([]uuid.UUID, 20)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := w.s.IssueVoucher(ctx, w.member.ID, w.shopA.ID, lines, uuid.Nil, ledger.PresenceSelf, key)
			if err != nil {
				t.Error(err)
			}
			ids[i] = v.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatal("the same key made two vouchers")
		}
	}
	if avail, held := w.balance(t); avail != 70 || held != 30 {
		t.Fatalf("available %d held %d: the points were held more than once", avail, held)
	}
	_, err := w.s.IssueVoucher(ctx, w.member.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.rice.ID, Qty: 2}}, uuid.Nil, ledger.PresenceSelf, key)
	wantCode(t, err, ledger.ECONFLICT, "idempotency.mismatch")
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
