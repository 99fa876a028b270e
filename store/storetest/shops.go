package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// ShopsStore is what the shops suite needs of an engine: shops, stock and
// vouchers (ledger.Shops), the directory, and the journal.
type ShopsStore interface {
	DirectoryStore
	ledger.Shops
	Append(ctx context.Context, t ledger.Transfer) (ledger.Entry, error)
	OpenAccount(ctx context.Context, a ledger.Account) error
	AccountEntries(ctx context.Context, a ledger.Account, before uint64, limit int) ([]ledger.Entry, error)
	Held(ctx context.Context, memberID uuid.UUID) (ledger.Points, error)
}

// OpenShops opens a fresh, empty store whose clock is clock.
type OpenShops func(t *testing.T, clock func() time.Time) ShopsStore

// RunShops runs the conformance tests of shops, stock and vouchers.
func RunShops(t *testing.T, open OpenShops) {
	tests := []struct {
		name string
		fn   func(*testing.T, OpenShops)
	}{
		{"VoucherLifecycle", testVoucherLifecycle},
		{"VoucherRefusals", testVoucherRefusals},
		{"CancelAndExpiryReleaseExactly", testCancelAndExpiryReleaseExactly},
		{"RedeemRace", testRedeemRace},
		{"IssueRace", testIssueRace},
		{"StockMoves", testStockMoves},
		{"IssueVoucherIdempotent", testIssueVoucherIdempotent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// ShopWorld is two shops of one street, a catalogue with stock, and a
// member with points.
type ShopWorld struct {
	S                ShopsStore
	Clock            *Clock
	Tr               Tree
	ShopA, ShopB     ledger.Shop
	Rice, Oil, Towel ledger.Item
	Member           ledger.Member
}

// NewShopWorld opens a store and makes two shops of community A's street,
// a catalogue with stock, and a member with points.
func NewShopWorld(t *testing.T, open OpenShops, points ledger.Points) *ShopWorld {
	t.Helper()
	clock := NewClock(time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC))
	s := open(t, clock.Now)
	w := &ShopWorld{S: s, Clock: clock, Tr: MakeTree(t, s)}
	var err error
	if w.ShopA, err = s.CreateShop(ctx, ledger.Shop{Name: "东河园爱心超市", Kind: ledger.ShopLoveSupermarket, UnitID: w.Tr.A.ID}); err != nil {
		t.Fatal(err)
	}
	if w.ShopB, err = s.CreateShop(ctx, ledger.Shop{Name: "西湖文明银行", Kind: ledger.ShopCivilityBank, UnitID: w.Tr.B.ID}); err != nil {
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
	w.Rice = item(w.ShopA, "大米 5 斤", 30, 10, 0)
	w.Oil = item(w.ShopA, "食用油", 50, 1, 0)
	w.Towel = item(w.ShopA, "毛巾", 10, 100, 2)
	if w.Member, err = s.CreateMember(ctx, ledger.Member{Name: "李阿姨", Phone: "13812340001", UnitID: w.Tr.GridA.ID}, ""); err != nil {
		t.Fatal(err)
	}
	iss := ledger.IssuerAccount(w.Tr.A.ID)
	must(t, s.OpenAccount(ctx, iss))
	if points > 0 {
		if _, err := s.Append(ctx, ledger.Transfer{Debit: iss, Credit: ledger.MemberAccount(w.Member.ID), Amount: points, Kind: ledger.KindEarn}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// Balance returns the member's available and held points.
func (w *ShopWorld) Balance(t *testing.T) (ledger.Points, ledger.Points) {
	t.Helper()
	b, err := w.S.Balance(ctx, ledger.MemberAccount(w.Member.ID))
	if err != nil {
		t.Fatal(err)
	}
	held, _ := w.S.Held(ctx, w.Member.ID)
	return b.Points, held
}

func testVoucherLifecycle(t *testing.T, open OpenShops) {
	w := NewShopWorld(t, open, 100)
	s := w.S
	v, err := s.IssueVoucher(ctx, w.Member.ID, w.ShopA.ID, []ledger.VoucherRequestLine{{ItemID: w.Rice.ID, Qty: 1}, {ItemID: w.Towel.ID, Qty: 2}}, uuid.Nil, ledger.PresenceSelf, "")
	if err != nil || v.Points != 50 || v.Status != ledger.VoucherOpen || len(v.Code) != 10 {
		t.Fatalf("issue: %+v %v", v, err)
	}
	if avail, held := w.Balance(t); avail != 50 || held != 50 {
		t.Fatalf("after issue: available %d held %d", avail, held)
	}
	rice, _ := s.Item(ctx, w.Rice.ID)
	if rice.OnHand != 10 || rice.Reserved != 1 {
		t.Fatalf("rice %+v", rice)
	}
	byCode, err := s.VoucherByCode(ctx, v.Code[:4]+"-"+v.Code[4:])
	if err != nil || byCode.ID != v.ID {
		t.Fatalf("by code: %v", err)
	}
	// At the wrong shop it is refused and nothing changes.
	_, err = s.RedeemVoucher(ctx, v.ID, w.ShopB.ID, uuid.Nil, "k1")
	wantCode(t, err, ledger.ECONFLICT, "voucher.other_shop")
	r, err := s.RedeemVoucher(ctx, v.ID, w.ShopA.ID, uuid.Nil, "k1")
	if err != nil || r.Status != ledger.VoucherRedeemed {
		t.Fatalf("redeem: %+v %v", r, err)
	}
	again, err := s.RedeemVoucher(ctx, v.ID, w.ShopA.ID, uuid.Nil, "k1")
	if err != nil || again.CloseSeq != r.CloseSeq {
		t.Fatalf("replay with the same key: %+v %v", again, err)
	}
	_, err = s.RedeemVoucher(ctx, v.ID, w.ShopA.ID, uuid.Nil, "k2")
	wantCode(t, err, ledger.ECONFLICT, "voucher.redeemed")
	rice, _ = s.Item(ctx, w.Rice.ID)
	if rice.OnHand != 9 || rice.Reserved != 0 {
		t.Fatalf("rice after redeem %+v", rice)
	}
	moves, _ := s.StockMoves(ctx, w.Rice.ID)
	sum := 0
	for _, m := range moves {
		sum += m.Qty
	}
	if sum != rice.OnHand {
		t.Fatalf("stock on hand %d, its movements sum to %d", rice.OnHand, sum)
	}
	if avail, held := w.Balance(t); avail != 50 || held != 0 {
		t.Fatalf("after redeem: available %d held %d", avail, held)
	}
	if b, _ := s.Balance(ctx, ledger.ShopAccount(w.ShopA.ID)); b.Points != 50 {
		t.Fatalf("shop account %d", b.Points)
	}
	_, err = s.CancelVoucher(ctx, v.ID, uuid.Nil)
	wantCode(t, err, ledger.ECONFLICT, "voucher.not_open")
}

func testVoucherRefusals(t *testing.T, open OpenShops) {
	w := NewShopWorld(t, open, 60)
	s := w.S
	head, _, _ := s.Head(ctx)
	other, _ := s.CreateMember(ctx, ledger.Member{Name: "外街道", Phone: "13812340002", UnitID: w.Tr.GridB.ID}, "")
	otherStreet, _ := s.CreateUnit(ctx, "别的街道", ledger.UnitStreet, uuid.Nil, nil)
	far, _ := s.CreateMember(ctx, ledger.Member{Name: "远方", Phone: "13812340003", UnitID: otherStreet.ID}, "")
	for _, tt := range []struct {
		name   string
		member uuid.UUID
		lines  []ledger.VoucherRequestLine
		code   string
		key    string
	}{
		{"TooFewPoints", w.Member.ID, []ledger.VoucherRequestLine{{ItemID: w.Rice.ID, Qty: 3}}, ledger.ECONFLICT, "entry.insufficient"},
		{"OutOfStock", w.Member.ID, []ledger.VoucherRequestLine{{ItemID: w.Oil.ID, Qty: 2}}, ledger.ECONFLICT, "voucher.out_of_stock"},
		{"OverMonthlyLimit", w.Member.ID, []ledger.VoucherRequestLine{{ItemID: w.Towel.ID, Qty: 2}, {ItemID: w.Towel.ID, Qty: 1}}, ledger.ECONFLICT, "voucher.limit_reached"},
		{"ZeroQty", w.Member.ID, []ledger.VoucherRequestLine{{ItemID: w.Rice.ID, Qty: 0}}, ledger.EINVALID, "voucher.qty_invalid"},
		{"NoLines", w.Member.ID, nil, ledger.EINVALID, "voucher.lines_invalid"},
		// The cap of 100 holds for the item, not for each line of it.
		{"ThreeLinesOf100", w.Member.ID, []ledger.VoucherRequestLine{{ItemID: w.Towel.ID, Qty: 100}, {ItemID: w.Towel.ID, Qty: 100}, {ItemID: w.Towel.ID, Qty: 100}}, ledger.EINVALID, "voucher.qty_invalid"},
		{"UnknownItem", w.Member.ID, []ledger.VoucherRequestLine{{ItemID: uuid.New(), Qty: 1}}, ledger.ENOTFOUND, "item.not_found"},
		{"AnotherStreet", far.ID, []ledger.VoucherRequestLine{{ItemID: w.Towel.ID, Qty: 1}}, ledger.EFORBIDDEN, "voucher.shop_not_yours"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.IssueVoucher(ctx, tt.member, w.ShopA.ID, tt.lines, uuid.Nil, ledger.PresenceSelf, "")
			wantCode(t, err, tt.code, tt.key)
		})
	}
	// The same street's other community may use it (the default scope).
	if _, err := s.IssueVoucher(ctx, other.ID, w.ShopA.ID, []ledger.VoucherRequestLine{{ItemID: w.Towel.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, ""); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("a member of the same street without points: %v", err) // refused for points, not for place
	}
	if h, _, _ := s.Head(ctx); h != head {
		t.Fatal("a refused voucher wrote to the journal")
	}
	for _, it := range []ledger.Item{w.Rice, w.Oil, w.Towel} {
		if got, _ := s.Item(ctx, it.ID); got.Reserved != 0 {
			t.Fatalf("%s reserved %d after refusals", got.Name, got.Reserved)
		}
	}
}

func testCancelAndExpiryReleaseExactly(t *testing.T, open OpenShops) {
	w := NewShopWorld(t, open, 200)
	s := w.S
	lines := []ledger.VoucherRequestLine{{ItemID: w.Rice.ID, Qty: 2}, {ItemID: w.Towel.ID, Qty: 2}}
	v1, err := s.IssueVoucher(ctx, w.Member.ID, w.ShopA.ID, lines, uuid.Nil, ledger.PresenceSelf, "")
	if err != nil {
		t.Fatal(err)
	}
	w.Clock.Add(24 * time.Hour)
	v2, err := s.IssueVoucher(ctx, w.Member.ID, w.ShopA.ID, []ledger.VoucherRequestLine{{ItemID: w.Rice.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CancelVoucher(ctx, v2.ID, uuid.Nil); err != nil {
		t.Fatal(err)
	}
	// The towel limit (2 a month) is free again only after v1 goes.
	_, err = s.IssueVoucher(ctx, w.Member.ID, w.ShopA.ID, []ledger.VoucherRequestLine{{ItemID: w.Towel.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, "")
	wantCode(t, err, ledger.ECONFLICT, "voucher.limit_reached")
	w.Clock.Set(v1.ExpiresAt.Add(time.Second))
	_, err = s.RedeemVoucher(ctx, v1.ID, w.ShopA.ID, uuid.Nil, "k")
	wantCode(t, err, ledger.EGONE, "voucher.expired")
	if res, err := s.ExpireVouchers(ctx); err != nil || res.Done != 1 || len(res.Failed) != 0 {
		t.Fatalf("expired %+v: %v", res, err)
	}
	if res, _ := s.ExpireVouchers(ctx); res.Done != 0 {
		t.Fatal("expired twice")
	}
	if avail, held := w.Balance(t); avail != 200 || held != 0 {
		t.Fatalf("after cancel and expiry: available %d held %d", avail, held)
	}
	for _, it := range []ledger.Item{w.Rice, w.Towel} {
		got, _ := s.Item(ctx, it.ID)
		if got.Reserved != 0 || got.OnHand != it.OnHand {
			t.Fatalf("%s after release: %+v", got.Name, got)
		}
	}
	got, _ := s.Voucher(ctx, v1.ID)
	if got.Status != ledger.VoucherExpired {
		t.Fatalf("status %s", got.Status)
	}
	_, err = s.RedeemVoucher(ctx, v1.ID, w.ShopA.ID, uuid.Nil, "k")
	wantCode(t, err, ledger.EGONE, "voucher.expired")
	_, err = s.RedeemVoucher(ctx, v2.ID, w.ShopA.ID, uuid.Nil, "k")
	wantCode(t, err, ledger.EGONE, "voucher.cancelled")
}

// testRedeemRace redeems one voucher from 100 goroutines, clerks of two
// shops: exactly one succeeds, and one redeem entry exists.
func testRedeemRace(t *testing.T, open OpenShops) {
	w := NewShopWorld(t, open, 100)
	s := w.S
	v, err := s.IssueVoucher(ctx, w.Member.ID, w.ShopA.ID, []ledger.VoucherRequestLine{{ItemID: w.Rice.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, "")
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
			shop := w.ShopA.ID
			if i%2 == 1 {
				shop = w.ShopB.ID
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

// testIssueRace creates vouchers from many goroutines against one balance
// and one item's last stock: never overdrawn, never below zero.
func testIssueRace(t *testing.T, open OpenShops) {
	w := NewShopWorld(t, open, 95) // three vouchers of 30 fit, a fourth does not
	s := w.S
	var wg sync.WaitGroup
	var mu sync.Mutex
	okRice, okOil := 0, 0
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			item := w.Rice.ID
			if i%2 == 1 {
				item = w.Oil.ID // one in stock
			}
			_, err := s.IssueVoucher(ctx, w.Member.ID, w.ShopA.ID, []ledger.VoucherRequestLine{{ItemID: item, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && item == w.Oil.ID:
				okOil++
			case err == nil:
				okRice++
			case ledger.ErrorCode(err) != ledger.ECONFLICT:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	avail, held := w.Balance(t)
	if avail < 0 || held != ledger.Points(okRice*30+okOil*50) || avail+held != 95 {
		t.Fatalf("available %d held %d after %d rice and %d oil vouchers", avail, held, okRice, okOil)
	}
	oil, _ := s.Item(ctx, w.Oil.ID)
	if okOil > 1 || oil.Available() < 0 || oil.Reserved != okOil {
		t.Fatalf("oil: %d vouchers, %+v", okOil, oil)
	}
}

func testStockMoves(t *testing.T, open OpenShops) {
	w := NewShopWorld(t, open, 100)
	s := w.S
	if _, err := s.IssueVoucher(ctx, w.Member.ID, w.ShopA.ID, []ledger.VoucherRequestLine{{ItemID: w.Rice.ID, Qty: 2}}, uuid.Nil, ledger.PresenceSelf, ""); err != nil {
		t.Fatal(err)
	}
	_, err := s.MoveStock(ctx, ledger.StockMove{ItemID: w.Rice.ID, Kind: ledger.StockCorrection, Qty: -9, Note: "盘点短少"})
	wantCode(t, err, ledger.ECONFLICT, "stock.below_reserved")
	_, err = s.MoveStock(ctx, ledger.StockMove{ItemID: w.Rice.ID, Kind: ledger.StockCorrection, Qty: -1})
	wantCode(t, err, ledger.EINVALID, "stock.correction_invalid")
	_, err = s.MoveStock(ctx, ledger.StockMove{ItemID: w.Rice.ID, Kind: ledger.StockIntake, Qty: 5, Donor: "=cmd|' /C calc'!A0"})
	wantCode(t, err, ledger.EINVALID, "text.formula")
	_, err = s.MoveStock(ctx, ledger.StockMove{ItemID: w.Rice.ID, Kind: ledger.StockIntake, Qty: 5, Donor: strings.Repeat("爱", 201)})
	wantCode(t, err, ledger.EINVALID, "stock.text_invalid")
	_, err = s.MoveStock(ctx, ledger.StockMove{ItemID: w.Rice.ID, Kind: ledger.StockIntake, Qty: 5, Note: "张\u202e三"})
	wantCode(t, err, ledger.EINVALID, "text.bidi")
	it, err := s.MoveStock(ctx, ledger.StockMove{ItemID: w.Rice.ID, Kind: ledger.StockCorrection, Qty: -8, Note: "盘点短少"})
	if err != nil || it.OnHand != 2 || it.Available() != 0 {
		t.Fatalf("correction: %+v %v", it, err)
	}
}

func testIssueVoucherIdempotent(t *testing.T, open OpenShops) {
	w := NewShopWorld(t, open, 100)
	lines := []ledger.VoucherRequestLine{{ItemID: w.Rice.ID, Qty: 1}}
	key := uuid.Must(uuid.NewV7()).String()
	var wg sync.WaitGroup
	ids := make([]uuid.UUID, 20)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := w.S.IssueVoucher(ctx, w.Member.ID, w.ShopA.ID, lines, uuid.Nil, ledger.PresenceSelf, key)
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
	if avail, held := w.Balance(t); avail != 70 || held != 30 {
		t.Fatalf("available %d held %d: the points were held more than once", avail, held)
	}
	_, err := w.S.IssueVoucher(ctx, w.Member.ID, w.ShopA.ID, []ledger.VoucherRequestLine{{ItemID: w.Rice.ID, Qty: 2}}, uuid.Nil, ledger.PresenceSelf, key)
	wantCode(t, err, ledger.ECONFLICT, "idempotency.mismatch")
}
