package ledger

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// shopWorld is one street with a shop of rice (30 points, 5 on hand, 1
// reserved, 2 a month) and oil (20 points, no limit), a member of the
// street and their household, on 30 November at 23:30 in Shanghai (15:30 UTC).
type shopWorld struct {
	loc           *time.Location
	now           time.Time
	shop          Shop
	rice, oil     Item
	member, clerk uuid.UUID
	home          Household
	street, grid  Unit
	voucherID     uuid.UUID
	code          string
}

func newShopWorld(t *testing.T) shopWorld {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	w := shopWorld{loc: loc, now: time.Date(2026, 11, 30, 15, 30, 0, 0, time.UTC),
		member: uuid.MustParse("0193a000-0000-7000-8000-000000000002"), clerk: uuid.MustParse("0193a000-0000-7000-8000-000000000003"),
		voucherID: uuid.MustParse("0193a000-0000-7000-8000-0000000000f1"), code: "ABCDEFGHJ0"}
	w.street = Unit{ID: uuid.MustParse("0193a000-0000-7000-8000-0000000000c1"), Kind: UnitStreet}
	w.street.Path = []uuid.UUID{w.street.ID}
	w.grid = Unit{ID: uuid.MustParse("0193a000-0000-7000-8000-0000000000c2"), Path: []uuid.UUID{w.street.ID, uuid.New()}}
	w.shop = Shop{ID: uuid.MustParse("0193a000-0000-7000-8000-000000000001"), Name: "爱心超市", UnitID: w.street.ID, RedeemScope: RedeemStreet, Households: true}
	w.rice = Item{ID: uuid.MustParse("0193a000-0000-7000-8000-0000000000a1"), ShopID: w.shop.ID, Name: "大米", Points: 30, MonthlyLimit: 2, Active: true, OnHand: 5, Reserved: 1}
	w.oil = Item{ID: uuid.MustParse("0193a000-0000-7000-8000-0000000000a2"), ShopID: w.shop.ID, Name: "油", Points: 20, Active: true, OnHand: 10}
	w.home = Household{ID: uuid.MustParse("0193a000-0000-7000-8000-0000000000d1"), Members: []HouseholdMember{{MemberID: w.member}}}
	return w
}

func (w shopWorld) issueState(lines ...VoucherRequestLine) IssueState {
	r := IssueRequest{Member: w.member, Shop: w.shop.ID, Lines: lines, By: w.clerk, Presence: PresenceSelf, Key: "client:k1"}
	shop := w.shop
	return IssueState{Now: w.now, Loc: w.loc, Life: VoucherLife, Request: r,
		Member: Member{ID: w.member, Name: "张三", Status: MemberActive, UnitID: w.grid.ID},
		Shop:   &shop, ShopUnit: w.street, MemberUnit: w.grid,
		Items: map[uuid.UUID]Item{w.rice.ID: w.rice, w.oil.ID: w.oil}, Taken: map[uuid.UUID]int{w.rice.ID: 1},
		NewID: w.voucherID, Code: w.code}
}

// refusedWith checks that err is the coded refusal key.
func refusedWith(t *testing.T, err error, key string) {
	t.Helper()
	if e, ok := AsError(err); !ok || e.Key != key {
		t.Fatalf("got %v; want %s", err, key)
	}
}

func TestIssueRequestCheck(t *testing.T) {
	item := uuid.New()
	r := IssueRequest{Presence: PresenceSelf, Lines: []VoucherRequestLine{{ItemID: item, Qty: 1}, {ItemID: item, Qty: 2}}}
	if err := r.Check(); err != nil || len(r.Lines) != 1 || r.Lines[0].Qty != 3 {
		t.Fatalf("merged: %+v, %v", r.Lines, err)
	}
	bad := IssueRequest{Presence: "telepathy", Lines: r.Lines}
	refusedWith(t, bad.Check(), "voucher.presence_invalid")
	none := IssueRequest{Presence: PresenceSelf}
	refusedWith(t, none.Check(), "voucher.lines_invalid")
}

func TestDecideIssue(t *testing.T) {
	w := newShopWorld(t)
	rice1, oil2 := VoucherRequestLine{ItemID: w.rice.ID, Qty: 1}, VoucherRequestLine{ItemID: w.oil.ID, Qty: 2}
	first := Voucher{ID: uuid.New(), MemberID: w.member, ShopID: w.shop.ID, Presence: PresenceSelf,
		Lines: []VoucherLine{{ItemID: w.rice.ID, Qty: 1}, {ItemID: w.oil.ID, Qty: 2}}}
	hold := &Entry{Seq: 7, Transfer: Transfer{Kind: KindHold, Reference: first.Reference()}}
	tests := []struct {
		name    string
		change  func(st *IssueState)
		wantKey string
		check   func(t *testing.T, d VoucherDecision)
	}{
		{name: "Issues", check: func(t *testing.T, d VoucherDecision) {
			v := d.Voucher
			if d.Repeat || v.ID != w.voucherID || v.Code != w.code || v.Status != VoucherOpen || v.Points != 70 || v.HoldSeq != 0 ||
				!v.CreatedAt.Equal(w.now) || !v.ExpiresAt.Equal(w.now.Add(VoucherLife)) || v.CreatedBy != w.clerk || v.Presence != PresenceSelf {
				t.Fatalf("voucher %+v", v)
			}
			want := Transfer{Debit: MemberAccount(w.member), Credit: Escrow, Amount: 70, Kind: KindHold, Reference: v.Reference(),
				Actor: "user:" + w.clerk.String(), IdempotencyKey: "client:k1"}
			if d.Entry != want || d.Held != 70 {
				t.Fatalf("hold %+v held %d", d.Entry, d.Held)
			}
			if len(d.Stock) != 2 || d.Stock[0] != (StockChange{ItemID: w.rice.ID, Reserved: 1}) || d.Stock[1] != (StockChange{ItemID: w.oil.ID, Reserved: 2}) {
				t.Fatalf("stock %+v", d.Stock)
			}
			// 23:30 on 30 November in Shanghai is still November there.
			if len(d.Counts) != 2 || d.Counts[0] != (ItemCount{MemberID: w.member, ItemID: w.rice.ID, Month: 202611, Delta: 1}) || d.Counts[1].Delta != 2 {
				t.Fatalf("counts %+v", d.Counts)
			}
			if len(d.Moves) != 0 {
				t.Fatalf("an issue moves stock: %+v", d.Moves)
			}
		}},
		{name: "ServerKeyWithoutClientKey", change: func(st *IssueState) { st.Request.Key = "" }, check: func(t *testing.T, d VoucherDecision) {
			if d.Entry.IdempotencyKey != d.Voucher.Key("hold") {
				t.Fatalf("hold key %q", d.Entry.IdempotencyKey)
			}
		}},
		{name: "FromHousehold", change: func(st *IssueState) { st.Request.Household, st.Home = w.home.ID, w.home },
			check: func(t *testing.T, d VoucherDecision) {
				if d.Entry.Debit != HouseholdAccount(w.home.ID) || d.Voucher.HouseholdID != w.home.ID {
					t.Fatalf("%+v", d)
				}
			}},
		{name: "LimitReachedExactly", change: func(st *IssueState) { st.Request.Lines = []VoucherRequestLine{rice1} },
			check: func(t *testing.T, d VoucherDecision) {
				if d.Voucher.Points != 30 {
					t.Fatalf("%+v", d.Voucher)
				}
			}},
		{name: "Repeat", change: func(st *IssueState) { st.Replay, st.ReplayVoucher = hold, &first }, check: func(t *testing.T, d VoucherDecision) {
			if !d.Repeat || d.Voucher.ID != first.ID || d.Entry != (Transfer{}) || len(d.Stock) != 0 {
				t.Fatalf("%+v", d)
			}
		}},
		{name: "ReplayOtherLines", change: func(st *IssueState) {
			st.Replay, st.ReplayVoucher, st.Request.Lines = hold, &first, []VoucherRequestLine{rice1}
		}, wantKey: "idempotency.mismatch"},
		{name: "ReplayOtherQty", change: func(st *IssueState) {
			st.Replay, st.ReplayVoucher, st.Request.Lines = hold, &first, []VoucherRequestLine{rice1, {ItemID: w.oil.ID, Qty: 3}}
		}, wantKey: "idempotency.mismatch"},
		{name: "ReplayOtherPresence", change: func(st *IssueState) {
			st.Replay, st.ReplayVoucher, st.Request.Presence = hold, &first, PresenceProxy
		}, wantKey: "idempotency.mismatch"},
		{name: "ReplayOtherHousehold", change: func(st *IssueState) {
			st.Replay, st.ReplayVoucher, st.Request.Household = hold, &first, w.home.ID
		}, wantKey: "idempotency.mismatch"},
		{name: "ReplayOtherShop", change: func(st *IssueState) {
			st.Replay, st.ReplayVoucher, st.Request.Shop = hold, &first, uuid.New()
		}, wantKey: "idempotency.mismatch"},
		{name: "ReplayNotAHold", change: func(st *IssueState) {
			st.Replay, st.ReplayVoucher = &Entry{Transfer: Transfer{Kind: KindAward}}, &first
		}, wantKey: "idempotency.mismatch"},
		{name: "ReplayOfNoVoucher", change: func(st *IssueState) { st.Replay = &Entry{Transfer: Transfer{Kind: KindAward}} }, wantKey: "idempotency.mismatch"},
		{name: "MemberInactive", change: func(st *IssueState) { st.Member.Status = MemberSuspended }, wantKey: "voucher.member_inactive"},
		{name: "NoShop", change: func(st *IssueState) { st.Shop = nil }, wantKey: "shop.not_found"},
		{name: "ShopNotYours", change: func(st *IssueState) { st.MemberUnit = Unit{Path: []uuid.UUID{uuid.New()}} }, wantKey: "voucher.shop_not_yours"},
		{name: "ShopRefusesHouseholds", change: func(st *IssueState) {
			shop := w.shop
			shop.Households = false
			st.Shop, st.Request.Household, st.Home = &shop, w.home.ID, w.home
		}, wantKey: "household.shop_refuses"},
		{name: "NotInHousehold", change: func(st *IssueState) { st.Request.Household = w.home.ID }, wantKey: "household.not_member"},
		{name: "MinorSpends", change: func(st *IssueState) {
			st.Request.Household, st.Home = w.home.ID, Household{ID: w.home.ID, Members: []HouseholdMember{{MemberID: w.member, Minor: true}}}
		}, wantKey: "household.minor_spend"},
		{name: "ItemMissing", change: func(st *IssueState) { delete(st.Items, w.oil.ID) }, wantKey: "item.not_found"},
		{name: "ItemOfAnotherShop", change: func(st *IssueState) {
			oil := w.oil
			oil.ShopID = uuid.New()
			st.Items = map[uuid.UUID]Item{w.rice.ID: w.rice, w.oil.ID: oil}
		}, wantKey: "item.not_found"},
		{name: "ItemInactive", change: func(st *IssueState) {
			oil := w.oil
			oil.Active = false
			st.Items = map[uuid.UUID]Item{w.rice.ID: w.rice, w.oil.ID: oil}
		}, wantKey: "voucher.item_inactive"},
		{name: "OutOfStock", change: func(st *IssueState) { st.Request.Lines = []VoucherRequestLine{{ItemID: w.oil.ID, Qty: 11}} }, wantKey: "voucher.out_of_stock"},
		{name: "ReservedIsNotAvailable", change: func(st *IssueState) {
			st.Taken = nil
			st.Request.Lines = []VoucherRequestLine{{ItemID: w.rice.ID, Qty: 5}}
			rice := w.rice
			rice.MonthlyLimit = 0
			st.Items = map[uuid.UUID]Item{w.rice.ID: rice}
		}, wantKey: "voucher.out_of_stock"},
		{name: "LimitReached", change: func(st *IssueState) { st.Request.Lines = []VoucherRequestLine{{ItemID: w.rice.ID, Qty: 2}} }, wantKey: "voucher.limit_reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := w.issueState(rice1, oil2)
			if tt.change != nil {
				tt.change(&st)
			}
			d, err := DecideIssue(st)
			if tt.wantKey != "" {
				refusedWith(t, err, tt.wantKey)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
}

// openVoucher is a voucher of w's member at w's shop: one rice and two oil,
// made on 28 November and expiring in 30 days.
func (w shopWorld) openVoucher() Voucher {
	made := time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)
	return Voucher{ID: w.voucherID, MemberID: w.member, ShopID: w.shop.ID, Status: VoucherOpen, Points: 70,
		Lines:     []VoucherLine{{ItemID: w.rice.ID, Name: "大米", Points: 30, Qty: 1}, {ItemID: w.oil.ID, Name: "油", Points: 20, Qty: 2}},
		CreatedAt: made, ExpiresAt: made.Add(VoucherLife), HoldSeq: 7}
}

func TestDecideRedeem(t *testing.T) {
	w := newShopWorld(t)
	moves := []uuid.UUID{uuid.New(), uuid.New()}
	redeemedAt := time.Date(2026, 11, 29, 1, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		change  func(st *RedeemState)
		wantKey string
		check   func(t *testing.T, d VoucherDecision, err error)
	}{
		{name: "Redeems", check: func(t *testing.T, d VoucherDecision, err error) {
			v := d.Voucher
			if err != nil || d.Repeat || v.Status != VoucherRedeemed || !v.ClosedAt.Equal(w.now) || v.ClosedBy != w.clerk || v.RedeemKey != "client:r1" || v.CloseSeq != 0 {
				t.Fatalf("%+v %v", v, err)
			}
			want := Transfer{Debit: Escrow, Credit: ShopAccount(w.shop.ID), Amount: 70, Kind: KindRedeem, Reference: v.Reference(),
				Actor: "user:" + w.clerk.String(), IdempotencyKey: v.Key("redeem")}
			if d.Entry != want || d.Held != -70 || len(d.Counts) != 0 {
				t.Fatalf("%+v", d.VoucherWrite)
			}
			if len(d.Stock) != 2 || d.Stock[1] != (StockChange{ItemID: w.oil.ID, OnHand: -2, Reserved: -2}) {
				t.Fatalf("stock %+v", d.Stock)
			}
			m := d.Moves[1]
			if len(d.Moves) != 2 || m.ID != moves[1] || m.ItemID != w.oil.ID || m.Kind != StockRedeem || m.Qty != -2 ||
				m.Reference != v.Reference() || m.By != w.clerk || !m.At.Equal(w.now) {
				t.Fatalf("moves %+v", d.Moves)
			}
		}},
		{name: "Repeat", change: func(st *RedeemState) {
			st.Voucher.Status, st.Voucher.ClosedAt, st.Voucher.RedeemKey = VoucherRedeemed, redeemedAt, "client:r1"
		}, check: func(t *testing.T, d VoucherDecision, err error) {
			if err != nil || !d.Repeat || d.Voucher.ClosedAt != redeemedAt || d.Entry != (Transfer{}) {
				t.Fatalf("%+v %v", d, err)
			}
		}},
		{name: "RedeemedBefore", change: func(st *RedeemState) {
			st.Voucher.Status, st.Voucher.ClosedAt, st.Voucher.RedeemKey = VoucherRedeemed, redeemedAt, "client:other"
		}, wantKey: "voucher.redeemed", check: func(t *testing.T, d VoucherDecision, err error) {
			e, _ := AsError(err)
			if e.Args[0] != "2026-11-29 09:00" || e.Args[1] != "爱心超市" || e.Fields["shop"] != "爱心超市" {
				t.Fatalf("%+v", e)
			}
		}},
		{name: "RedeemedBeforeWithoutKey", change: func(st *RedeemState) {
			st.Voucher.Status, st.Voucher.ClosedAt, st.Key = VoucherRedeemed, redeemedAt, ""
		}, wantKey: "voucher.redeemed"},
		{name: "Reversed", change: func(st *RedeemState) {
			st.Voucher.Status, st.Voucher.ClosedAt, st.Voucher.ReversedAt = VoucherReversed, redeemedAt, redeemedAt.Add(time.Hour)
		}, wantKey: "voucher.redeemed_reversed", check: func(t *testing.T, d VoucherDecision, err error) {
			if e, _ := AsError(err); e.Args[2] != "2026-11-29 10:00" {
				t.Fatalf("%+v", e)
			}
		}},
		{name: "Cancelled", change: func(st *RedeemState) { st.Voucher.Status = VoucherCancelled }, wantKey: "voucher.cancelled"},
		{name: "Expired", change: func(st *RedeemState) { st.Voucher.Status = VoucherExpired }, wantKey: "voucher.expired"},
		{name: "TimeIsUp", change: func(st *RedeemState) { st.Now = st.Voucher.ExpiresAt }, wantKey: "voucher.expired",
			check: func(t *testing.T, d VoucherDecision, err error) {
				if e, _ := AsError(err); e.Args[0] != "2026-12-28" {
					t.Fatalf("%+v", e)
				}
			}},
		{name: "OtherShop", change: func(st *RedeemState) { st.At = uuid.New() }, wantKey: "voucher.other_shop"},
		{name: "Household", change: func(st *RedeemState) { st.Voucher.HouseholdID, st.Household = w.home.ID, &w.home },
			check: func(t *testing.T, d VoucherDecision, err error) {
				if err != nil || d.Voucher.Status != VoucherRedeemed {
					t.Fatalf("%+v %v", d, err)
				}
			}},
		{name: "HouseholdMissing", change: func(st *RedeemState) { st.Voucher.HouseholdID = w.home.ID }, wantKey: "household.not_found"},
		{name: "HouseholdLeft", change: func(st *RedeemState) {
			st.Voucher.HouseholdID, st.Household = w.home.ID, &Household{ID: w.home.ID}
		}, wantKey: "household.voucher_left"},
		{name: "TooFewMoveIDs", change: func(st *RedeemState) { st.MoveIDs = moves[:1] }, check: func(t *testing.T, d VoucherDecision, err error) {
			if _, coded := AsError(err); err == nil || coded {
				t.Fatalf("a damaged state is a refusal: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := RedeemState{Now: w.now, Loc: w.loc, Voucher: w.openVoucher(), Shop: w.shop, At: w.shop.ID, Clerk: w.clerk, Key: "client:r1", MoveIDs: moves}
			if tt.change != nil {
				tt.change(&st)
			}
			d, err := DecideRedeem(st)
			if tt.wantKey != "" {
				refusedWith(t, err, tt.wantKey)
			}
			if tt.check != nil {
				tt.check(t, d, err)
			}
		})
	}
}

func TestPlanRelease(t *testing.T) {
	w := newShopWorld(t)
	// 1 December in UTC is already 1 December in Shanghai; the voucher's own month is November.
	now := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		change  func(st *ReleaseState)
		wantKey string
		nothing bool
		status  VoucherStatus
		by      uuid.UUID
	}{
		{name: "Cancel", status: VoucherCancelled, by: w.clerk},
		{name: "CancelNotOpen", change: func(st *ReleaseState) { st.Voucher.Status = VoucherRedeemed }, wantKey: "voucher.not_open"},
		{name: "Expiry", change: func(st *ReleaseState) { st.Cause = ReleaseExpiry }, status: VoucherExpired},
		{name: "ExpiryRedeemedMeanwhile", change: func(st *ReleaseState) { st.Cause, st.Voucher.Status = ReleaseExpiry, VoucherRedeemed }, nothing: true},
		{name: "ExpiryCancelledMeanwhile", change: func(st *ReleaseState) { st.Cause, st.Voucher.Status = ReleaseExpiry, VoucherCancelled }, nothing: true},
		{name: "HouseholdLeft", change: func(st *ReleaseState) {
			st.Cause, st.Voucher.HouseholdID, st.Household = ReleaseHousehold, w.home.ID, Household{ID: w.home.ID}
		}, status: VoucherCancelled},
		{name: "HouseholdNowMinor", change: func(st *ReleaseState) {
			st.Cause, st.Voucher.HouseholdID = ReleaseHousehold, w.home.ID
			st.Household = Household{ID: w.home.ID, Members: []HouseholdMember{{MemberID: w.member, Minor: true}}}
		}, status: VoucherCancelled},
		{name: "HouseholdStillSpends", change: func(st *ReleaseState) {
			st.Cause, st.Voucher.HouseholdID, st.Household = ReleaseHousehold, w.home.ID, w.home
		}, nothing: true},
		{name: "HouseholdNotOpen", change: func(st *ReleaseState) {
			st.Cause, st.Voucher.HouseholdID, st.Voucher.Status = ReleaseHousehold, w.home.ID, VoucherExpired
		}, nothing: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := ReleaseState{Now: now, Loc: w.loc, Voucher: w.openVoucher(), Cause: ReleaseCancel, By: w.clerk}
			if tt.change != nil {
				tt.change(&st)
			}
			d, err := PlanRelease(st)
			switch {
			case tt.wantKey != "":
				refusedWith(t, err, tt.wantKey)
				return
			case err != nil:
				t.Fatal(err)
			case d.Nothing != tt.nothing:
				t.Fatalf("nothing = %v", d.Nothing)
			case tt.nothing:
				if d.Entry != (Transfer{}) || len(d.Stock) != 0 {
					t.Fatalf("passed over, yet writes: %+v", d)
				}
				return
			}
			v := d.Voucher
			if v.Status != tt.status || !v.ClosedAt.Equal(now) || v.ClosedBy != tt.by || v.CloseSeq != 0 {
				t.Fatalf("voucher %+v", v)
			}
			want := Transfer{Debit: Escrow, Credit: st.Voucher.Account(), Amount: 70, Kind: KindRelease, Reference: v.Reference(),
				Actor: "user:" + tt.by.String(), Memo: string(tt.status), IdempotencyKey: v.Key("release")}
			if d.Entry != want || d.Held != -70 || len(d.Moves) != 0 {
				t.Fatalf("release %+v held %d", d.Entry, d.Held)
			}
			if st.Voucher.HouseholdID != uuid.Nil && d.Entry.Credit != HouseholdAccount(w.home.ID) {
				t.Fatalf("a household voucher's points went to %v", d.Entry.Credit)
			}
			if len(d.Stock) != 2 || d.Stock[1] != (StockChange{ItemID: w.oil.ID, Reserved: -2}) {
				t.Fatalf("stock %+v", d.Stock)
			}
			if len(d.Counts) != 2 || d.Counts[1] != (ItemCount{MemberID: w.member, ItemID: w.oil.ID, Month: 202611, Delta: -2}) {
				t.Fatalf("counts %+v", d.Counts)
			}
		})
	}
	if _, err := PlanRelease(ReleaseState{Loc: w.loc, Voucher: w.openVoucher(), Cause: 9}); err == nil {
		t.Fatal("an unknown cause was planned")
	}
}

func TestStockMoveCheck(t *testing.T) {
	tests := []struct {
		name    string
		m       StockMove
		wantKey string
	}{
		{name: "Intake", m: StockMove{Kind: StockIntake, Qty: 3, Donor: "  张三  "}},
		{name: "IntakeMost", m: StockMove{Kind: StockIntake, Qty: 100000}},
		{name: "IntakeNone", m: StockMove{Kind: StockIntake}, wantKey: "stock.qty_invalid"},
		{name: "IntakeNegative", m: StockMove{Kind: StockIntake, Qty: -1}, wantKey: "stock.qty_invalid"},
		{name: "IntakeTooMany", m: StockMove{Kind: StockIntake, Qty: 100001}, wantKey: "stock.qty_invalid"},
		{name: "CorrectionDown", m: StockMove{Kind: StockCorrection, Qty: -2, Note: "盘点少了两袋"}},
		{name: "CorrectionWithoutNote", m: StockMove{Kind: StockCorrection, Qty: -2}, wantKey: "stock.correction_invalid"},
		{name: "CorrectionOfNothing", m: StockMove{Kind: StockCorrection, Note: "盘点"}, wantKey: "stock.correction_invalid"},
		{name: "CorrectionTooLarge", m: StockMove{Kind: StockCorrection, Qty: -100001, Note: "盘点"}, wantKey: "stock.correction_invalid"},
		{name: "RedeemByHand", m: StockMove{Kind: StockRedeem, Qty: -1}, wantKey: "stock.kind_invalid"},
		{name: "NoteTooLong", m: StockMove{Kind: StockCorrection, Qty: 1, Note: strings.Repeat("多", 201)}, wantKey: "stock.text_invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m
			err := m.Check()
			if tt.wantKey != "" {
				refusedWith(t, err, tt.wantKey)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.m.Donor != "" && m.Donor != "张三" {
				t.Fatalf("donor %q not cleaned", m.Donor)
			}
		})
	}
}

func TestDecideStockMove(t *testing.T) {
	it := Item{ID: uuid.New(), Name: "大米", OnHand: 5, Reserved: 2}
	tests := []struct {
		name    string
		qty     int
		wantKey string
		onHand  int
	}{
		{name: "Intake", qty: 3, onHand: 8},
		{name: "CorrectionDownToReserved", qty: -3, onHand: 2},
		{name: "BelowReserved", qty: -4, wantKey: "stock.below_reserved"},
		{name: "BelowZero", qty: -6, wantKey: "stock.below_zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecideStockMove(it, StockMove{ItemID: it.ID, Kind: StockCorrection, Qty: tt.qty})
			if tt.wantKey != "" {
				refusedWith(t, err, tt.wantKey)
				return
			}
			if err != nil || got.OnHand != tt.onHand || got.Reserved != it.Reserved || got.ID != it.ID {
				t.Fatalf("%+v %v", got, err)
			}
		})
	}
}

// TestReverseRedemptionStock checks what a reversal gives back besides its
// entries: the moves under the ids passed in, the items on hand and the
// counts of the voucher's month (November, though it is reversed in December).
func TestReverseRedemptionStock(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	v, redeem := redeemedVoucher(t)
	ids := []uuid.UUID{uuid.New(), uuid.New()}
	req := ReversalRequest{By: uuid.New(), Reason: "扫错了券", Now: time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), MoveIDs: ids}
	d, err := ReverseRedemption(v, redeem, "", req, loc)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range v.Lines {
		if m := d.Stock[i]; m.ID != ids[i] || m.ItemID != l.ItemID || m.Qty != l.Qty || m.Kind != StockReversal {
			t.Fatalf("move %d: %+v", i, m)
		}
		if c := d.Changes[i]; c != (StockChange{ItemID: l.ItemID, OnHand: l.Qty}) {
			t.Fatalf("change %d: %+v", i, c)
		}
		if c := d.Counts[i]; c != (ItemCount{MemberID: v.MemberID, ItemID: l.ItemID, Month: 202611, Delta: -l.Qty}) {
			t.Fatalf("count %d: %+v", i, c)
		}
	}
	if len(d.Stock) != 2 || len(d.Changes) != 2 || len(d.Counts) != 2 {
		t.Fatalf("%+v", d)
	}
}
