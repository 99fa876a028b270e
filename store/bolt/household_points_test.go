package bolt

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// householdWorld is shopWorld with a household of community A whose shop
// takes household points: n adults (the first heads it) and a minor, and
// household points from its opening.
type householdWorld struct {
	shopWorld
	home   ledger.Household
	adults []ledger.Member
	minor  ledger.Member
}

// ownPoints are what each member of a householdWorld has of their own.
const ownPoints = 20

func newHouseholdWorld(t *testing.T, adults int, opening ledger.Points) householdWorld {
	t.Helper()
	w := householdWorld{shopWorld: newShopWorld(t, 0)}
	s := w.s
	var err error
	if w.shopA, err = s.SetShopHouseholds(ctx, w.shopA.ID, true); err != nil || !w.shopA.Households {
		t.Fatalf("%+v %v", w.shopA, err)
	}
	ch := ledger.HouseholdChange{}
	for i := range adults {
		m, err := s.CreateMember(ctx, ledger.Member{Name: fmt.Sprintf("家人%d", i+1), Phone: fmt.Sprintf("139%08d", i+1), UnitID: w.tr.gridA.ID}, "")
		if err != nil {
			t.Fatal(err)
		}
		w.adults = append(w.adults, m)
		ch.Members = append(ch.Members, ledger.HouseholdMember{MemberID: m.ID})
	}
	if w.minor, err = s.CreateMember(ctx, ledger.Member{Name: "张小明", Phone: "13700000099", UnitID: w.tr.gridA.ID}, ""); err != nil {
		t.Fatal(err)
	}
	ch.Members = append(ch.Members, ledger.HouseholdMember{MemberID: w.minor.ID, Minor: true})
	ch.HeadID = w.adults[0].ID
	if w.home, err = s.CreateHousehold(ctx, "3单元502室", w.tr.gridA.ID, opening); err != nil {
		t.Fatal(err)
	}
	if w.home, err = s.SetHouseholdMembers(ctx, w.home.ID, ch); err != nil {
		t.Fatal(err)
	}
	// Each adult has points of their own, which household vouchers never touch.
	for _, m := range append(w.adults, w.minor) {
		if _, err := s.Append(ctx, ledger.Transfer{Debit: ledger.IssuerAccount(w.tr.a.ID), Credit: ledger.MemberAccount(m.ID), Amount: ownPoints, Kind: ledger.KindEarn}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// points returns the household's points (available) and held.
func (w householdWorld) points(t *testing.T) (ledger.Points, ledger.Points) {
	t.Helper()
	b, err := w.s.Balance(ctx, w.home.Account())
	if err != nil {
		t.Fatal(err)
	}
	held, err := w.s.HouseholdHeld(ctx, w.home.ID)
	if err != nil {
		t.Fatal(err)
	}
	return b.Points, held
}

// checkHouseholds checks what every household test must leave: the ledger
// verifies; every account's balance is the sum of its entries; the points
// each household and member has held are those of their open vouchers; no
// member's own account paid for a household voucher; the month reconciles
// with the households counted.
func checkHouseholds(t *testing.T, s *Store) {
	t.Helper()
	checkConsistent(t, s)
	err := s.db.View(func(tx *bolt.Tx) error {
		sums := map[ledger.Account]ledger.Points{}
		if err := tx.Bucket(bucketJournal).ForEach(func(_, v []byte) error {
			se, err := decodeStored(v)
			if err != nil {
				return err
			}
			sums[se.Debit] -= se.Amount
			sums[se.Credit] += se.Amount
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bucketAccounts).ForEach(func(k, v []byte) error {
			if len(k) != ledger.AccountKeySize {
				return nil
			}
			a, err := ledger.AccountFromKey(k)
			if err != nil {
				return err
			}
			row, err := decodeAccountRow(v)
			if err != nil {
				return err
			}
			if row.balance != sums[a] {
				t.Errorf("%s: balance %d, its entries sum to %d", a, row.balance, sums[a])
			}
			if row.balance < 0 && !a.MayGoNegative() {
				t.Errorf("%s is below zero: %d", a, row.balance)
			}
			return nil
		}); err != nil {
			return err
		}
		memberHeld, householdHeld := map[uuid.UUID]ledger.Points{}, map[uuid.UUID]ledger.Points{}
		if err := tx.Bucket(bucketVouchers).ForEach(func(k, _ []byte) error {
			v, err := getVoucher(tx, uuid.UUID(k))
			if err != nil {
				return err
			}
			hold, err := readEntry(tx, v.HoldSeq)
			if err != nil {
				return err
			}
			if hold.Debit != v.Account() || hold.Kind != ledger.KindHold {
				t.Errorf("voucher %s holds from %s, not %s", v.ID, hold.Debit, v.Account())
			}
			if v.HouseholdID != uuid.Nil {
				if tx.Bucket(bucketHouseholdVouchers).Get(pairKey(v.HouseholdID, v.ID)) == nil {
					t.Errorf("household voucher %s is not in its household's index", v.ID)
				}
			}
			if v.Status != ledger.VoucherOpen {
				return nil
			}
			if v.HouseholdID != uuid.Nil {
				householdHeld[v.HouseholdID] += v.Points
			} else {
				memberHeld[v.MemberID] += v.Points
			}
			return nil
		}); err != nil {
			return err
		}
		for _, c := range []struct {
			bucket []byte
			want   map[uuid.UUID]ledger.Points
		}{{bucketMemberHeld, memberHeld}, {bucketHouseholdHeld, householdHeld}} {
			n := 0
			_ = tx.Bucket(c.bucket).ForEach(func(k, v []byte) error {
				if got := getCount(tx.Bucket(c.bucket), k); got != c.want[uuid.UUID(k)] {
					t.Errorf("%s %x: %d held, open vouchers hold %d", c.bucket, k, got, c.want[uuid.UUID(k)])
				}
				if getCount(tx.Bucket(c.bucket), k) != 0 {
					n++
				}
				return nil
			})
			if n != len(c.want) {
				t.Errorf("%s: %d holders, open vouchers name %d", c.bucket, n, len(c.want))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.MonthReport(ctx, ledger.MonthOf(s.now(), s.loc), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bad, agree := rep.Reconcile(); len(bad) != 0 || !agree {
		t.Errorf("the month does not reconcile: bad %v, escrow and shops agree %v (%+v)", bad, agree, rep.Households)
	}
}

func TestHouseholdOpeningPoints(t *testing.T) {
	clock := newTestClock(time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC))
	s := openTest(t, Options{Now: clock.Now})
	tr := makeTree(t, s)
	building, err := s.CreateUnit(ctx, "5号楼", ledger.UnitBuilding, tr.gridA.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 遵义: 60 points from the community's issuer, which opens with it.
	h, err := s.CreateHousehold(ctx, "1单元101室", building.ID, 60)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Balance(ctx, h.Account())
	if err != nil || b.Points != 60 || b.Entries != 1 {
		t.Fatalf("household %+v %v", b, err)
	}
	if ib, err := s.Balance(ctx, ledger.IssuerAccount(tr.a.ID)); err != nil || ib.Points != -60 {
		t.Fatalf("issuer %+v %v", ib, err)
	}
	es, err := s.AccountEntries(ctx, h.Account(), 0, 10)
	if err != nil || len(es) != 1 || es[0].Kind != ledger.KindAward || es[0].Reference != "household:"+h.ID.String() ||
		es[0].IdempotencyKey != ledger.ServerKey("household", h.ID.String(), "opening") {
		t.Fatalf("%+v %v", es, err)
	}
	// No points by default: no entry.
	head, _, _ := s.Head(ctx)
	h2, err := s.CreateHousehold(ctx, "1单元102室", tr.gridA.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := s.Balance(ctx, h2.Account()); b.Points != 0 || b.Entries != 0 {
		t.Fatalf("%+v", b)
	}
	// A bad setting refuses before anything is written.
	for _, bad := range []ledger.Points{-1, ledger.MaxHouseholdOpening + 1} {
		_, err := s.CreateHousehold(ctx, "1单元103室", tr.gridA.ID, bad)
		wantCode(t, err, ledger.EINVALID, "household.opening_invalid")
	}
	if all, _ := s.Households(ctx, ledger.Scope{All: true}); len(all) != 2 {
		t.Fatalf("%d households", len(all))
	}
	if now, _, _ := s.Head(ctx); now != head {
		t.Fatalf("head moved from %d to %d", head, now)
	}
	hms, err := s.HouseholdMonths(ctx, 202611, ledger.Scope{Unit: tr.a.ID})
	if err != nil || len(hms) != 2 {
		t.Fatalf("%+v %v", hms, err)
	}
	for _, hm := range hms {
		want := ledger.Points(0)
		if hm.Household.ID == h.ID {
			want = 60
		}
		if p := hm.Points; p.Earned != want || p.Behaviour != want || p.Closing != want || p.Opening != 0 || !p.Reconciles() {
			t.Fatalf("%+v", hm)
		}
	}
	if other, _ := s.HouseholdMonths(ctx, 202611, ledger.Scope{Unit: tr.b.ID}); len(other) != 0 {
		t.Fatalf("another community's households: %+v", other)
	}
	checkHouseholds(t, s)
}

// TestHouseholdSpentFromTwoPhones: two adults of one household pay from
// its last points at once, at the same moment, from their phones: the one
// the points cover wins, the other is refused, nothing goes below zero, and
// what is held is what the open voucher holds. Then sixteen at once.
func TestHouseholdSpentFromTwoPhones(t *testing.T) {
	for _, tc := range []struct {
		adults  int
		opening ledger.Points
		want    int // vouchers of one rice (30 points) the points cover
	}{{2, 50, 1}, {2, 60, 2}, {16, 100, 3}, {16, 29, 0}} {
		t.Run(fmt.Sprintf("%dAdults%dPoints", tc.adults, tc.opening), func(t *testing.T) {
			w := newHouseholdWorld(t, tc.adults, tc.opening)
			s := w.s
			rice := w.rice
			if _, err := s.MoveStock(ctx, ledger.StockMove{ItemID: rice.ID, Kind: ledger.StockIntake, Qty: 100, Donor: "爱心企业"}); err != nil {
				t.Fatal(err)
			}
			var stop atomic.Bool
			var low atomic.Int64 // the lowest balance seen while they race
			low.Store(tc.opening)
			watched := make(chan struct{})
			go func() {
				defer close(watched)
				for !stop.Load() {
					if b, err := s.Balance(ctx, w.home.Account()); err == nil && b.Points < low.Load() {
						low.Store(b.Points)
					}
					time.Sleep(50 * time.Microsecond)
				}
			}()
			errs := make([]error, tc.adults)
			vs := make([]ledger.Voucher, tc.adults)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, m := range w.adults {
				wg.Go(func() {
					<-start
					vs[i], errs[i] = s.IssueHouseholdVoucher(ctx, m.ID, w.home.ID, w.shopA.ID,
						[]ledger.VoucherRequestLine{{ItemID: rice.ID, Qty: 1}}, m.ID, ledger.PresenceSelf, fmt.Sprintf("client:%s:phone", m.ID))
				})
			}
			close(start)
			wg.Wait()
			stop.Store(true)
			<-watched
			won := 0
			var held ledger.Points
			for i, err := range errs {
				switch {
				case err == nil:
					won++
					held += vs[i].Points
					if vs[i].HouseholdID != w.home.ID || vs[i].MemberID != w.adults[i].ID || vs[i].Account() != w.home.Account() {
						t.Errorf("voucher %+v", vs[i])
					}
				default:
					wantCode(t, err, ledger.ECONFLICT, "entry.insufficient")
				}
			}
			if won != tc.want {
				t.Fatalf("%d vouchers, the points cover %d", won, tc.want)
			}
			avail, h := w.points(t)
			if avail != tc.opening-30*ledger.Points(tc.want) || h != held || low.Load() < 0 || avail < 0 {
				t.Fatalf("available %d held %d (vouchers hold %d), lowest seen %d", avail, h, held, low.Load())
			}
			list, err := s.HouseholdVouchers(ctx, w.home.ID)
			if err != nil || len(list) != won {
				t.Fatalf("%d household vouchers %v", len(list), err)
			}
			for _, m := range w.adults {
				if b, _ := s.Balance(ctx, ledger.MemberAccount(m.ID)); b.Points != ownPoints {
					t.Fatalf("%s's own points: %d", m.Name, b.Points)
				}
				if mh, _ := s.Held(ctx, m.ID); mh != 0 {
					t.Fatalf("%s's own held: %d", m.Name, mh)
				}
			}
			it, _ := s.Item(ctx, rice.ID)
			if it.Reserved != won {
				t.Fatalf("reserved %d", it.Reserved)
			}
			checkHouseholds(t, s)
		})
	}
}

// TestHouseholdVoucherGivesBack: a cancel, an expiry and the reversal of a
// redemption all give the points back to the household, never to the
// member who made the voucher; a redemption is as a member's.
func TestHouseholdVoucherGivesBack(t *testing.T) {
	w := newHouseholdWorld(t, 2, 200)
	s := w.s
	dad, mum := w.adults[0], w.adults[1]
	issue := func(m ledger.Member, it ledger.Item) ledger.Voucher {
		t.Helper()
		v, err := s.IssueHouseholdVoucher(ctx, m.ID, w.home.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: it.ID, Qty: 1}}, m.ID, ledger.PresenceSelf, "")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	want := func(avail, held ledger.Points) {
		t.Helper()
		if a, h := w.points(t); a != avail || h != held {
			t.Fatalf("household available %d held %d, want %d %d", a, h, avail, held)
		}
		for _, m := range []ledger.Member{dad, mum, w.minor} {
			if b, _ := s.Balance(ctx, ledger.MemberAccount(m.ID)); b.Points != ownPoints {
				t.Fatalf("%s's own points moved: %d", m.Name, b.Points)
			}
		}
	}
	cancelled := issue(dad, w.rice)
	want(170, 30)
	if _, err := s.CancelVoucher(ctx, cancelled.ID, dad.ID); err != nil {
		t.Fatal(err)
	}
	want(200, 0)

	expiring := issue(mum, w.rice)
	redeemed := issue(dad, w.rice)
	want(140, 60)
	if _, err := s.RedeemVoucher(ctx, redeemed.ID, w.shopA.ID, uuid.Nil, ""); err != nil {
		t.Fatal(err)
	}
	want(140, 30)
	w.clock.Add(ledger.VoucherLife + time.Minute)
	if res, err := s.ExpireVouchers(ctx); err != nil || res.Done != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	want(170, 0)
	if v, _ := s.Voucher(ctx, expiring.ID); v.Status != ledger.VoucherExpired {
		t.Fatalf("%+v", v)
	}
	if _, err := s.ReverseRedemption(ctx, redeemed.ID, uuid.Nil, "扫错了券", ""); err != nil {
		t.Fatal(err)
	}
	want(200, 0)
	if sh, _ := s.Balance(ctx, ledger.ShopAccount(w.shopA.ID)); sh.Points != 0 {
		t.Fatalf("shop %d", sh.Points)
	}
	// The month counts the household's redemption and its reversal for the
	// household, none for the member who made the voucher.
	rep, err := s.MonthReport(ctx, ledger.MonthOf(w.clock.Now(), s.loc), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, mm := range rep.Members {
		if mm.Redeemed != 0 || mm.HeldIn != 0 {
			t.Fatalf("a member's month counts a household voucher: %+v", mm)
		}
	}
	list, _ := s.HouseholdVouchers(ctx, w.home.ID)
	if len(list) != 3 || list[0].ID != redeemed.ID || list[2].ID != cancelled.ID {
		t.Fatalf("household vouchers %+v", list)
	}
	// Each voucher is still its member's: their list shows it.
	if mine, _ := s.MemberVouchers(ctx, mum.ID); len(mine) != 1 || mine[0].ID != expiring.ID {
		t.Fatalf("mum's vouchers %+v", mine)
	}
	checkHouseholds(t, s)
}

// TestHouseholdVoucherMonths: redemptions count in the household's month,
// November's held points are December's opening held, and a redemption
// of November reversed in December counts in December.
func TestHouseholdVoucherMonths(t *testing.T) {
	w := newHouseholdWorld(t, 1, 100)
	s := w.s
	w.clock.Set(time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)) // 23:00 on 30 November in Shanghai
	dad := w.adults[0]
	a, err := s.IssueHouseholdVoucher(ctx, dad.ID, w.home.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.rice.ID, Qty: 1}}, dad.ID, ledger.PresenceSelf, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.IssueHouseholdVoucher(ctx, dad.ID, w.home.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.oil.ID, Qty: 1}}, dad.ID, ledger.PresenceSelf, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RedeemVoucher(ctx, a.ID, w.shopA.ID, uuid.Nil, ""); err != nil {
		t.Fatal(err)
	}
	w.clock.Add(2 * time.Hour) // December
	if _, err := s.RedeemVoucher(ctx, b.ID, w.shopA.ID, uuid.Nil, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReverseRedemption(ctx, a.ID, uuid.Nil, "物品未领取", ""); err != nil {
		t.Fatal(err)
	}
	month := func(m ledger.Month) ledger.MemberMonth {
		t.Helper()
		hms, err := s.HouseholdMonths(ctx, m, ledger.Scope{All: true})
		if err != nil || len(hms) != 1 || !hms[0].Points.Reconciles() {
			t.Fatalf("%+v %v", hms, err)
		}
		return hms[0].Points
	}
	nov, dec := month(202611), month(202612)
	if nov.Opening != 0 || nov.Earned != 100 || nov.Redeemed != 30 || nov.HeldIn != 80 || nov.HeldClosing != 50 || nov.Closing != 70 || nov.Vouchers != 1 {
		t.Fatalf("November %+v", nov)
	}
	// December: the oil (50) redeemed, the rice's redemption (30) reversed: 20 net.
	if dec.Opening != 70 || dec.HeldOpening != 50 || dec.Redeemed != 20 || dec.Released != 30 || dec.HeldClosing != 0 || dec.Closing != 50 || dec.Vouchers != 0 {
		t.Fatalf("December %+v", dec)
	}
	checkHouseholds(t, s)
}

// TestHouseholdVoucherRefused: a minor, a member who has left, someone
// who never belonged, and a shop that does not take household points are
// refused, with nothing written; the monthly item limits stay each
// member's; a replayed key gives the first voucher, and the same key for
// another account is a conflict.
func TestHouseholdVoucherRefused(t *testing.T) {
	w := newHouseholdWorld(t, 3, 100)
	s := w.s
	dad, mum, gran := w.adults[0], w.adults[1], w.adults[2]
	towel := []ledger.VoucherRequestLine{{ItemID: w.towel.ID, Qty: 2}} // the monthly limit is 2 a person
	// Gran moves out.
	if _, err := s.SetHouseholdMembers(ctx, w.home.ID, ledger.HouseholdChange{HeadID: dad.ID,
		Members: []ledger.HouseholdMember{{MemberID: dad.ID}, {MemberID: mum.ID}, {MemberID: w.minor.ID, Minor: true}}}); err != nil {
		t.Fatal(err)
	}
	head, _, _ := s.Head(ctx)
	for name, tc := range map[string]struct {
		member ledger.Member
		shop   uuid.UUID
		key    string
	}{
		"Minor":       {w.minor, w.shopA.ID, "household.minor_spend"},
		"Left":        {gran, w.shopA.ID, "household.not_member"},
		"Stranger":    {w.member, w.shopA.ID, "household.not_member"},
		"ShopRefuses": {dad, w.shopB.ID, "household.shop_refuses"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.IssueHouseholdVoucher(ctx, tc.member.ID, w.home.ID, tc.shop, towel, tc.member.ID, ledger.PresenceSelf, "")
			wantCode(t, err, ledger.EFORBIDDEN, tc.key)
		})
	}
	// A shop of the street that does not take household points.
	other, err := s.CreateShop(ctx, ledger.Shop{Name: "东河园文明银行", Kind: ledger.ShopCivilityBank, UnitID: w.tr.a.ID})
	if err != nil {
		t.Fatal(err)
	}
	soap, err := s.CreateItem(ctx, ledger.Item{ShopID: other.ID, Name: "肥皂", Points: 5, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.MoveStock(ctx, ledger.StockMove{ItemID: soap.ID, Kind: ledger.StockIntake, Qty: 9}); err != nil {
		t.Fatal(err)
	}
	_, err = s.IssueHouseholdVoucher(ctx, dad.ID, w.home.ID, other.ID, []ledger.VoucherRequestLine{{ItemID: soap.ID, Qty: 1}}, dad.ID, ledger.PresenceSelf, "")
	wantCode(t, err, ledger.EFORBIDDEN, "household.shop_refuses")
	if now, _, _ := s.Head(ctx); now != head {
		t.Fatalf("a refusal wrote: head %d -> %d", head, now)
	}
	// Limits are each member's: dad takes his two towels on the household,
	// mum hers; dad's third is refused, on either account.
	key := "client:" + dad.ID.String() + ":towels"
	first, err := s.IssueHouseholdVoucher(ctx, dad.ID, w.home.ID, w.shopA.ID, towel, dad.ID, ledger.PresenceSelf, key)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.IssueHouseholdVoucher(ctx, dad.ID, w.home.ID, w.shopA.ID, towel, dad.ID, ledger.PresenceSelf, key)
	if err != nil || again.ID != first.ID {
		t.Fatalf("replay: %v %v", again.ID, err)
	}
	_, err = s.IssueVoucher(ctx, dad.ID, w.shopA.ID, towel, dad.ID, ledger.PresenceSelf, key)
	wantCode(t, err, ledger.ECONFLICT, "idempotency.mismatch")
	if _, err := s.IssueHouseholdVoucher(ctx, mum.ID, w.home.ID, w.shopA.ID, towel, mum.ID, ledger.PresenceSelf, ""); err != nil {
		t.Fatal(err)
	}
	_, err = s.IssueHouseholdVoucher(ctx, dad.ID, w.home.ID, w.shopA.ID, towel[:1], dad.ID, ledger.PresenceSelf, "")
	wantCode(t, err, ledger.ECONFLICT, "voucher.limit_reached")
	_, err = s.IssueVoucher(ctx, dad.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.towel.ID, Qty: 1}}, dad.ID, ledger.PresenceSelf, "")
	wantCode(t, err, ledger.ECONFLICT, "voucher.limit_reached")
	// The minor spends their own points as anyone does.
	if v, err := s.IssueVoucher(ctx, w.minor.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.towel.ID, Qty: 1}}, w.minor.ID, ledger.PresenceSelf, ""); err != nil || v.HouseholdID != uuid.Nil {
		t.Fatalf("%+v %v", v, err)
	}
	if avail, held := w.points(t); avail != 60 || held != 40 {
		t.Fatalf("household %d %d", avail, held)
	}
	checkHouseholds(t, s)
}

// TestHouseholdLeaveWhileSpending: a member leaves the household while
// they pay from it: either the voucher was made while they belonged (and
// leaving released it), or it is refused; never both after.
func TestHouseholdLeaveWhileSpending(t *testing.T) {
	for round := range 8 {
		w := newHouseholdWorld(t, 2, 100)
		s := w.s
		dad, mum := w.adults[0], w.adults[1]
		var wg sync.WaitGroup
		var v ledger.Voucher
		var issueErr, leaveErr error
		wg.Go(func() {
			v, issueErr = s.IssueHouseholdVoucher(ctx, mum.ID, w.home.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.rice.ID, Qty: 1}}, mum.ID, ledger.PresenceSelf, "")
		})
		wg.Go(func() {
			_, leaveErr = s.SetHouseholdMembers(ctx, w.home.ID, ledger.HouseholdChange{HeadID: dad.ID, Members: []ledger.HouseholdMember{{MemberID: dad.ID}}})
		})
		wg.Wait()
		if leaveErr != nil {
			t.Fatal(leaveErr)
		}
		if issueErr != nil {
			wantCode(t, issueErr, ledger.EFORBIDDEN, "household.not_member")
		} else if v.HouseholdID != w.home.ID {
			t.Fatalf("round %d: %+v", round, v)
		}
		// After she has left, she cannot.
		_, err := s.IssueHouseholdVoucher(ctx, mum.ID, w.home.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.rice.ID, Qty: 1}}, mum.ID, ledger.PresenceSelf, "")
		wantCode(t, err, ledger.EFORBIDDEN, "household.not_member")
		// Her voucher made before she left was released by her leaving.
		if issueErr == nil {
			if got, err := s.Voucher(ctx, v.ID); err != nil || got.Status != ledger.VoucherCancelled {
				t.Fatalf("round %d: her voucher is %s %v", round, got.Status, err)
			}
		}
		if avail, held := w.points(t); avail != 100 || held != 0 {
			t.Fatalf("round %d: %d %d", round, avail, held)
		}
		checkHouseholds(t, s)
	}
}

// TestMonthSumsCountHouseholds: the month's sums (the dashboard's earned
// and redeemed) count a household's awards and redemptions as its
// members' are counted, for every account or for the accounts named; an
// account that is neither a member's nor a household's is refused.
func TestMonthSumsCountHouseholds(t *testing.T) {
	w := newHouseholdWorld(t, 2, 60)
	v, err := w.s.IssueHouseholdVoucher(ctx, w.adults[0].ID, w.home.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.rice.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.RedeemVoucher(ctx, v.ID, w.shopA.ID, uuid.Nil, ""); err != nil {
		t.Fatal(err)
	}
	m := ledger.MonthOf(w.clock.Now(), w.s.loc)
	sum := func(accounts []ledger.Account) ledger.MonthSum {
		t.Helper()
		sums, err := w.s.MonthSums(ctx, m, m, accounts)
		if err != nil || len(sums) != 1 {
			t.Fatalf("%+v %v", sums, err)
		}
		return sums[0]
	}
	own := 3 * ownPoints // two adults and the minor
	if got := sum(nil); got.Earned != ledger.Points(own)+60 || got.Redeemed != w.rice.Points {
		t.Fatalf("every account: %+v", got)
	}
	if got := sum([]ledger.Account{w.home.Account()}); got.Earned != 60 || got.Redeemed != w.rice.Points {
		t.Fatalf("the household: %+v", got)
	}
	if got := sum([]ledger.Account{ledger.MemberAccount(w.adults[0].ID)}); got.Earned != ownPoints || got.Redeemed != 0 {
		t.Fatalf("the adult who paid with the household's points: %+v", got)
	}
	if _, err := w.s.MonthSums(ctx, m, m, []ledger.Account{ledger.Escrow}); ledger.ErrorCode(err) != ledger.EINVALID {
		t.Fatalf("the escrow account: %v", err)
	}
}

// TestLeavingReleasesHouseholdVouchers: an adult who leaves the household,
// or is marked a minor, takes none of its points with them: their open
// vouchers paid from it are released in the same write (the points back to
// the household, the goods to the shelf), and the counter refuses them.
func TestLeavingReleasesHouseholdVouchers(t *testing.T) {
	w := newHouseholdWorld(t, 3, 60)
	issue := func(i int) ledger.Voucher {
		t.Helper()
		v, err := w.s.IssueHouseholdVoucher(ctx, w.adults[i].ID, w.home.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.towel.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, "")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	leaver, grownDown, stays := issue(1), issue(2), issue(0)
	if p, held := w.points(t); p != 30 || held != 30 {
		t.Fatalf("before: %d available, %d held", p, held)
	}
	ch := ledger.HouseholdChange{HeadID: w.adults[0].ID, Members: []ledger.HouseholdMember{
		{MemberID: w.adults[0].ID}, {MemberID: w.adults[2].ID, Minor: true}, {MemberID: w.minor.ID, Minor: true}}}
	if _, err := w.s.SetHouseholdMembers(ctx, w.home.ID, ch); err != nil {
		t.Fatal(err)
	}
	for _, v := range []ledger.Voucher{leaver, grownDown} {
		got, err := w.s.Voucher(ctx, v.ID)
		if err != nil || got.Status != ledger.VoucherCancelled {
			t.Fatalf("voucher of who may spend no more: %+v %v", got.Status, err)
		}
		if _, err := w.s.RedeemVoucher(ctx, v.ID, w.shopA.ID, uuid.Nil, ""); ledger.ErrorCode(err) != ledger.EGONE {
			t.Fatalf("redeemed after leaving: %v", err)
		}
	}
	if got, _ := w.s.Voucher(ctx, stays.ID); got.Status != ledger.VoucherOpen {
		t.Fatalf("the head's voucher: %s", got.Status)
	}
	if p, held := w.points(t); p != 50 || held != 10 {
		t.Fatalf("after: %d available, %d held", p, held)
	}
	if it, _ := w.s.Item(ctx, w.towel.ID); it.Reserved != 1 {
		t.Fatalf("towels reserved: %d", it.Reserved)
	}
	if _, err := w.s.RedeemVoucher(ctx, stays.ID, w.shopA.ID, uuid.Nil, ""); err != nil {
		t.Fatal(err)
	}
	checkHouseholds(t, w.s)
}
