package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// awardWorld is makeTree's street with staff of every kind, two members of
// community A's grid with points, a household of both, and a behaviour list.
type awardWorld struct {
	s                             *Store
	clock                         *testClock
	tr                            tree
	admin, org, org2, gw, gwB     ledger.User
	ann, bob                      ledger.Member
	annUser                       ledger.User
	home                          ledger.Household
	sorting, hero, litter, family ledger.Behaviour
}

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

func newAwardWorld(t *testing.T, at time.Time) awardWorld {
	t.Helper()
	clock := newTestClock(at)
	s := openTest(t, Options{Now: clock.Now})
	t.Cleanup(func() { checkAwards(t, s) }) // runs before openTest's own check and close
	w := awardWorld{s: s, clock: clock, tr: makeTree(t, s)}
	user := func(login string, role ledger.Role, unit uuid.UUID) ledger.User {
		u, err := s.CreateUser(ctx, ledger.User{Login: login, Role: role, UnitID: unit, PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	w.admin, w.org, w.org2 = user("admin", ledger.RoleAdmin, uuid.Nil), user("donghe", ledger.RoleOrganizer, w.tr.a.ID), user("street", ledger.RoleOrganizer, w.tr.street.ID)
	w.gw, w.gwB = user("grid-a", ledger.RoleGridWorker, w.tr.gridA.ID), user("grid-b", ledger.RoleGridWorker, w.tr.gridB.ID)
	member := func(name, phone string) ledger.Member {
		m, err := s.CreateMember(ctx, ledger.Member{Name: name, Phone: phone, UnitID: w.tr.gridA.ID}, "x")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	w.ann, w.bob = member("安文", "13800000011"), member("鲍勃", "13800000012")
	var err error
	if w.annUser, err = s.UserByLogin(ctx, w.ann.Phone); err != nil {
		t.Fatal(err)
	}
	if w.home, err = s.CreateHousehold(ctx, "3单元502室", w.tr.gridA.ID, 0); err != nil {
		t.Fatal(err)
	}
	if w.home, err = s.SetHouseholdMembers(ctx, w.home.ID, ledger.HouseholdChange{Members: []ledger.HouseholdMember{{MemberID: w.ann.ID}, {MemberID: w.bob.ID}}, HeadID: w.ann.ID}); err != nil {
		t.Fatal(err)
	}
	beh := func(unit uuid.UUID, name string, points ledger.Points, month, year int, target ledger.BehaviourTarget) ledger.Behaviour {
		b, err := s.CreateBehaviour(ctx, ledger.Behaviour{UnitID: unit, Name: name, Category: "文明", Points: points, MonthCap: month, YearCap: year, Target: target})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	w.sorting = beh(w.tr.a.ID, "垃圾分类", 2, 2, 3, ledger.TargetPerson)
	w.hero = beh(w.tr.street.ID, "见义勇为", 50, 0, 0, ledger.TargetPerson)
	w.litter = beh(w.tr.a.ID, "乱扔垃圾", -15, 0, 0, ledger.TargetPerson)
	w.family = beh(w.tr.a.ID, "文明家庭", -5, 0, 0, ledger.TargetHousehold)
	return w
}

// earn gives a member points from community A.
func (w awardWorld) earn(t *testing.T, member uuid.UUID, points ledger.Points) {
	t.Helper()
	iss := ledger.IssuerAccount(w.tr.a.ID)
	openAccounts(t, w.s, iss)
	if _, err := w.s.Append(ctx, ledger.Transfer{Debit: iss, Credit: ledger.MemberAccount(member), Amount: points, Kind: ledger.KindEarn}); err != nil {
		t.Fatal(err)
	}
}

func (w awardWorld) record(by ledger.User, b ledger.Behaviour, member uuid.UUID, note string) (ledger.Award, error) {
	return w.s.RecordAward(ctx, ledger.AwardRequest{BehaviourID: b.ID, MemberID: member, Note: note, By: by.ID})
}

func (w awardWorld) balance(t *testing.T, a ledger.Account) ledger.Points {
	t.Helper()
	b, err := w.s.Balance(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return b.Points
}

// checkAwards checks, besides the ledger and the file (checkConsistent),
// that the awards' indexes agree with the awards, that every posted or
// reversed award's entries are what it says, and that every member's and
// household's balance is the sum of its entries and never below zero.
func checkAwards(tb testing.TB, s *Store) {
	tb.Helper()
	if s.closed {
		return
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		if err := s.checkAwardIndexes(tx); err != nil {
			return err
		}
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
			if err != nil || !a.Spendable() {
				return err
			}
			r, err := decodeAccountRow(v)
			if err != nil {
				return err
			}
			if r.balance != sums[a] || r.balance < 0 {
				return fmt.Errorf("%s: balance %d, its entries sum to %d", a, r.balance, sums[a])
			}
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(bucketAwards).ForEach(func(k, v []byte) error {
			sa, err := getAward(tx, uuid.UUID(k))
			if err != nil {
				return err
			}
			a := sa.Award
			posted := a.Status == ledger.AwardPosted || a.Status == ledger.AwardReversed
			switch {
			case posted && a.EntrySeq == 0 && (a.Taken != 0 || !a.Deduction()):
				return fmt.Errorf("award %s: posted %d without an entry", a.ID, a.Taken)
			case posted && a.EntrySeq != 0:
				e, err := readEntry(tx, a.EntrySeq)
				if err != nil || e.Reference != a.Reference() || e.Amount != a.Taken || (a.Deduction() && e.Debit != a.Account()) || (!a.Deduction() && e.Credit != a.Account()) {
					return fmt.Errorf("award %s: entry %d is not its posting: %+v %v", a.ID, a.EntrySeq, e, err)
				}
				reversed := tx.Bucket(bucketReversed).Get(u64(a.EntrySeq))
				if (reversed != nil) != (a.Status == ledger.AwardReversed) || (reversed != nil && binary.BigEndian.Uint64(reversed) != a.ReverseSeq) {
					return fmt.Errorf("award %s (%s): entry %d reversed by %x", a.ID, a.Status, a.EntrySeq, reversed)
				}
			case !posted && (a.EntrySeq != 0 || a.Taken != 0):
				return fmt.Errorf("award %s (%s) has an entry", a.ID, a.Status)
			}
			if a.Deduction() && posted && a.Taken+a.NotTaken != -a.Points {
				return fmt.Errorf("award %s: took %d and not %d of %d", a.ID, a.Taken, a.NotTaken, a.Points)
			}
			return nil
		})
	})
	if err != nil {
		tb.Errorf("awards: %v", err)
	}
	checkConsistent(tb, s)
}

// TestAwardCapsAtMonthAndYearEnd: 垃圾分类 may be given twice a month and
// three times a year, counted in Shanghai: 23:59 on 30 November and 31
// December fall in their month and year, 00:00 the next day in the next,
// although both are the same day in UTC. A rejected award frees its place.
func TestAwardCapsAtMonthAndYearEnd(t *testing.T) {
	w := newAwardWorld(t, time.Date(2026, 11, 30, 23, 59, 0, 0, shanghai))
	give := func(wantKey string) ledger.Award {
		t.Helper()
		a, err := w.s.RecordAward(ctx, ledger.AwardRequest{BehaviourID: w.sorting.ID, MemberID: w.ann.ID, By: w.gw.ID})
		if wantKey == "" && err != nil {
			t.Fatalf("at %v: %v", w.clock.Now().In(shanghai), err)
		}
		if wantKey != "" {
			wantCode(t, err, ledger.ECONFLICT, wantKey)
		}
		return a
	}
	first := give("")
	give("")
	give("award.month_cap") // the third of November
	w.clock.Set(time.Date(2026, 12, 1, 0, 0, 0, 0, shanghai))
	give("") // December: its month is new, the year has its third
	give("award.year_cap")
	// Reversing November's first frees a place in the year (a posted award is reversed, not rejected).
	if _, err := w.s.RejectAward(ctx, first.ID, w.org.ID, "登记重复"); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("a posted award is rejected: %v", err)
	}
	if _, err := w.s.ReverseAward(ctx, first.ID, w.org.ID, "登记重复"); err != nil {
		t.Fatal(err)
	}
	give("") // the year's place the reversal freed
	give("award.month_cap")
	w.clock.Set(time.Date(2026, 12, 31, 23, 59, 59, 0, shanghai))
	give("award.month_cap")                                  // December's two, and the year's three
	w.clock.Set(time.Date(2027, 1, 1, 0, 0, 0, 0, shanghai)) // 16:00 UTC on 31 December
	give("")
	give("")
	give("award.month_cap")
	// Bob has his own counts.
	if _, err := w.record(w.gw, w.sorting, w.bob.ID, ""); err != nil {
		t.Fatal(err)
	}
	if got := w.balance(t, ledger.MemberAccount(w.ann.ID)); got != 2*5 { // six given, one reversed
		t.Fatalf("Ann has %d points", got)
	}
}

// TestDeductionLargerThanBalance: a deduction of 15 from 10 points of which
// an open voucher holds 6 takes the 4 available and records 11 as not
// taken; a second one finds nothing, posts no entry and records all 15.
// Nothing goes below zero; the voucher still holds its 6; reversing gives
// back what was taken and no more.
func TestDeductionLargerThanBalance(t *testing.T) {
	w := newAwardWorld(t, time.Date(2026, 11, 20, 10, 0, 0, 0, shanghai))
	s := w.s
	w.earn(t, w.ann.ID, 10)
	shop, err := s.CreateShop(ctx, ledger.Shop{Name: "爱心超市", Kind: ledger.ShopLoveSupermarket, UnitID: w.tr.a.ID})
	if err != nil {
		t.Fatal(err)
	}
	soap, err := s.CreateItem(ctx, ledger.Item{ShopID: shop.ID, Name: "肥皂", Points: 6, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.MoveStock(ctx, ledger.StockMove{ItemID: soap.ID, Kind: ledger.StockIntake, Qty: 5}); err != nil {
		t.Fatal(err)
	}
	v, err := s.IssueVoucher(ctx, w.ann.ID, shop.ID, []ledger.VoucherRequestLine{{ItemID: soap.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, "")
	if err != nil {
		t.Fatal(err)
	}
	first, err := w.record(w.org, w.litter, w.ann.ID, "楼道乱扔垃圾")
	if err != nil || first.Status != ledger.AwardPosted || first.Taken != 4 || first.NotTaken != 11 || first.EntrySeq == 0 {
		t.Fatalf("%+v %v", first, err)
	}
	second, err := w.record(w.org, w.litter, w.ann.ID, "又一次")
	if err != nil || second.Status != ledger.AwardPosted || second.Taken != 0 || second.NotTaken != 15 || second.EntrySeq != 0 {
		t.Fatalf("%+v %v", second, err)
	}
	if got, held := w.balance(t, ledger.MemberAccount(w.ann.ID)), mustHeld(t, s, w.ann.ID); got != 0 || held != 6 {
		t.Fatalf("available %d held %d", got, held)
	}
	// The voucher still redeems: its points were never the deduction's.
	if _, err := s.RedeemVoucher(ctx, v.ID, shop.ID, uuid.Nil, ""); err != nil {
		t.Fatal(err)
	}
	if a, err := s.ReverseAward(ctx, first.ID, w.org.ID, "误扣"); err != nil || a.Status != ledger.AwardReversed || a.ReverseSeq == 0 {
		t.Fatalf("%+v %v", a, err)
	}
	if a, err := s.ReverseAward(ctx, second.ID, w.org.ID, "误扣"); err != nil || a.Status != ledger.AwardReversed || a.ReverseSeq != 0 {
		t.Fatalf("%+v %v", a, err)
	}
	if got := w.balance(t, ledger.MemberAccount(w.ann.ID)); got != 4 {
		t.Fatalf("after the reversals Ann has %d, want the 4 taken back", got)
	}
}

func mustHeld(t *testing.T, s *Store, member uuid.UUID) ledger.Points {
	t.Helper()
	n, err := s.Held(ctx, member)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTwoApprovalsAtOnce: a 见义勇为 of 50 waits for a second staff member;
// its recorder cannot approve it, a grid worker cannot; twenty approvals at
// once by two others post it once.
func TestTwoApprovalsAtOnce(t *testing.T) {
	w := newAwardWorld(t, time.Date(2026, 11, 20, 10, 0, 0, 0, shanghai))
	a, err := w.record(w.org, w.hero, w.ann.ID, "河边救起落水儿童")
	if err != nil || a.Status != ledger.AwardPending {
		t.Fatalf("%+v %v", a, err)
	}
	_, err = w.s.ApproveAward(ctx, a.ID, w.org.ID)
	wantCode(t, err, ledger.EFORBIDDEN, "award.own_approval")
	_, err = w.s.ApproveAward(ctx, a.ID, w.gw.ID)
	wantCode(t, err, ledger.EFORBIDDEN, "award.grid_worker_decides")
	_, err = w.s.ApproveAward(ctx, a.ID, w.annUser.ID)
	wantCode(t, err, ledger.EFORBIDDEN, "auth.forbidden")
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			by := w.org2.ID
			if i%2 == 1 {
				by = w.admin.ID
			}
			_, err := w.s.ApproveAward(ctx, a.ID, by)
			mu.Lock()
			defer mu.Unlock()
			switch le, _ := ledger.AsError(err); {
			case err == nil:
				ok++
			case le != nil && le.Key == "award.not_pending":
				refused++
			default:
				t.Errorf("approve: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 || refused != 19 {
		t.Fatalf("%d approvals went through, %d refused", ok, refused)
	}
	if got := w.balance(t, ledger.MemberAccount(w.ann.ID)); got != 50 {
		t.Fatalf("Ann has %d", got)
	}
}

// TestNoticeSweepSkipsADamagedAward: five awards in a three-day notice
// period, one of them damaged and one held by an objection. After the
// period the sweep posts the three others, reports and counts the damaged
// one, leaves the held one alone, and finds nothing new on its next run.
func TestNoticeSweepSkipsADamagedAward(t *testing.T) {
	w := newAwardWorld(t, time.Date(2026, 11, 20, 10, 0, 0, 0, shanghai))
	three := 3
	if _, err := w.s.SetPublicNotice(ctx, w.tr.a.ID, ledger.NoticePatch{AwardDays: &three}); err != nil {
		t.Fatal(err)
	}
	bob := w.hero
	bob.Points = 5
	small, err := w.s.CreateBehaviour(ctx, ledger.Behaviour{UnitID: w.tr.a.ID, Name: "好人好事", Category: "文明", Points: 5})
	if err != nil {
		t.Fatal(err)
	}
	var as []ledger.Award
	for i := range 5 {
		a, err := w.record(w.gw, small, w.ann.ID, fmt.Sprintf("第 %d 件", i+1))
		if err != nil || a.Status != ledger.AwardInNotice || !a.NoticeUntil.Equal(time.Date(2026, 11, 24, 0, 0, 0, 0, shanghai)) {
			t.Fatalf("%+v %v", a, err)
		}
		as = append(as, a)
	}
	if _, err := w.s.ObjectAward(ctx, as[1].ID, w.annUser.ID, "我没做这件事"); err != nil {
		t.Fatal(err)
	}
	if err := w.s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAwards).Put(as[3].ID[:], []byte("{damaged"))
	}); err != nil {
		t.Fatal(err)
	}
	w.clock.Set(time.Date(2026, 11, 23, 23, 59, 0, 0, shanghai))
	if res, err := w.s.PostDueAwards(ctx); err != nil || res.Done != 0 || len(res.Failed) != 0 {
		t.Fatalf("before the end: %+v %v", res, err)
	}
	w.clock.Set(time.Date(2026, 11, 24, 0, 0, 0, 0, shanghai))
	res, err := w.s.PostDueAwards(ctx)
	if err != nil || res.Done != 3 || len(res.Failed) != 1 || res.Failed[0].ID != as[3].ID {
		t.Fatalf("sweep %+v %v", res, err)
	}
	if n := w.s.Stats().SweepFailures["award_notice"]; n != 1 {
		t.Fatalf("sweep failures %d", n)
	}
	if got := w.balance(t, ledger.MemberAccount(w.ann.ID)); got != 15 {
		t.Fatalf("Ann has %d", got)
	}
	if a, _ := w.s.Award(ctx, as[1].ID); a.Status != ledger.AwardHeld {
		t.Fatalf("the held award is %s", a.Status)
	}
	if res, err := w.s.PostDueAwards(ctx); err != nil || res.Done != 0 || len(res.Failed) != 1 {
		t.Fatalf("second sweep %+v %v", res, err)
	}
	// The held one is decided: posted after all.
	if a, err := w.s.DecideAward(ctx, as[1].ID, w.org.ID, true, "经核实属实"); err != nil || a.Status != ledger.AwardPosted {
		t.Fatalf("%+v %v", a, err)
	}
	// Repair the damaged award for the final checks: it is still in notice, and now posts.
	sa := storedAward{Award: as[3]}
	if err := w.s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx.Bucket(bucketAwards), sa.ID, sa) }); err != nil {
		t.Fatal(err)
	}
	if res, err := w.s.PostDueAwards(ctx); err != nil || res.Done != 1 || len(res.Failed) != 0 {
		t.Fatalf("after the repair %+v %v", res, err)
	}
}

// TestObjectionRacesTheSweep: at the end of the notice period objections
// and the sweep run at once while the clock crosses the end. Each award is
// either held (its objection went through, no entry) or posted (the
// objection was too late), never both; an objection that was answered
// with success always finds its award held.
func TestObjectionRacesTheSweep(t *testing.T) {
	w := newAwardWorld(t, time.Date(2026, 11, 20, 10, 0, 0, 0, shanghai))
	one := 1
	if _, err := w.s.SetPublicNotice(ctx, w.tr.a.ID, ledger.NoticePatch{AwardDays: &one}); err != nil {
		t.Fatal(err)
	}
	good, err := w.s.CreateBehaviour(ctx, ledger.Behaviour{UnitID: w.tr.a.ID, Name: "好人好事", Category: "文明", Points: 5})
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	var as []ledger.Award
	for range n {
		a, err := w.record(w.org, good, w.bob.ID, "扶老人过马路")
		if err != nil {
			t.Fatal(err)
		}
		as = append(as, a)
	}
	end := as[0].NoticeUntil
	w.clock.Set(end.Add(-20 * time.Millisecond))
	objected := make([]error, n)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { // the clock crosses the end
		defer wg.Done()
		for range 40 {
			w.clock.Add(time.Millisecond)
			time.Sleep(100 * time.Microsecond)
		}
	}()
	go func() {
		defer wg.Done()
		for i := range as {
			_, objected[i] = w.s.ObjectAward(ctx, as[i].ID, w.annUser.ID, "不属实")
		}
	}()
	go func() {
		defer wg.Done()
		for range 20 {
			if _, err := w.s.PostDueAwards(ctx); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	w.clock.Set(end.Add(time.Second))
	if _, err := w.s.PostDueAwards(ctx); err != nil {
		t.Fatal(err)
	}
	held, posted := 0, 0
	for i, a := range as {
		got, err := w.s.Award(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case objected[i] == nil && got.Status == ledger.AwardHeld && got.EntrySeq == 0:
			held++
		case ledger.ErrorCode(objected[i]) == ledger.ECONFLICT && got.Status == ledger.AwardPosted && got.EntrySeq != 0:
			posted++
		default:
			t.Fatalf("award %d: objection %v, status %s, entry %d", i, objected[i], got.Status, got.EntrySeq)
		}
	}
	if got := w.balance(t, ledger.MemberAccount(w.bob.ID)); got != ledger.Points(5*posted) {
		t.Fatalf("Bob has %d for %d posted", got, posted)
	}
	t.Logf("%d held, %d posted", held, posted)
}

// TestReverseAwardOnce: a posted award is reversed once, even by ten at
// once; a reversal that would take spent points is refused, and the
// award stays posted.
func TestReverseAwardOnce(t *testing.T) {
	w := newAwardWorld(t, time.Date(2026, 11, 20, 10, 0, 0, 0, shanghai))
	a, err := w.s.RecordAward(ctx, ledger.AwardRequest{BehaviourID: w.sorting.ID, MemberID: w.ann.ID, By: w.gw.ID})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = w.s.ReverseAward(ctx, a.ID, w.org.ID, "登记错人")
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if le, _ := ledger.AsError(err); le == nil || le.Key != "award.already_reversed" {
			t.Fatal(err)
		}
	}
	if ok != 1 || w.balance(t, ledger.MemberAccount(w.ann.ID)) != 0 {
		t.Fatalf("%d reversals", ok)
	}
	// Bob spends his award before it is reversed: the reversal is refused.
	b, err := w.record(w.gw, w.sorting, w.bob.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	w.earn(t, w.ann.ID, 1)
	if _, err := w.s.ReverseAward(ctx, b.ID, w.gwB.ID, "x"); ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Fatalf("a grid worker of another grid: %v", err)
	}
	shop, _ := w.s.CreateShop(ctx, ledger.Shop{Name: "爱心超市", Kind: ledger.ShopLoveSupermarket, UnitID: w.tr.a.ID})
	pen, _ := w.s.CreateItem(ctx, ledger.Item{ShopID: shop.ID, Name: "笔", Points: 2, Active: true})
	if _, err := w.s.MoveStock(ctx, ledger.StockMove{ItemID: pen.ID, Kind: ledger.StockIntake, Qty: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.IssueVoucher(ctx, w.bob.ID, shop.ID, []ledger.VoucherRequestLine{{ItemID: pen.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, ""); err != nil {
		t.Fatal(err)
	}
	_, err = w.s.ReverseAward(ctx, b.ID, w.org.ID, "登记错人")
	wantCode(t, err, ledger.ECONFLICT, "entry.insufficient")
	if got, _ := w.s.Award(ctx, b.ID); got.Status != ledger.AwardPosted {
		t.Fatalf("after a refused reversal: %s", got.Status)
	}
}

// TestHouseholdAwards: a household deduction takes from the household's
// account, not its members'; a household award (approved by a second
// organiser) goes to it; a grid worker of another grid finds the household
// nowhere.
func TestHouseholdAwards(t *testing.T) {
	w := newAwardWorld(t, time.Date(2026, 11, 20, 10, 0, 0, 0, shanghai))
	w.earn(t, w.ann.ID, 10)
	good, err := w.s.CreateBehaviour(ctx, ledger.Behaviour{UnitID: w.tr.a.ID, Name: "文明家庭", Category: "家庭", Points: 30, YearCap: 1, Target: ledger.TargetHousehold})
	if err != nil {
		t.Fatal(err)
	}
	hh := w.home.Account()
	d, err := w.s.RecordAward(ctx, ledger.AwardRequest{BehaviourID: w.family.ID, HouseholdID: w.home.ID, Note: "楼道堆物", By: w.gw.ID})
	if err != nil || d.Taken != 0 || d.NotTaken != 5 || d.EntrySeq != 0 {
		t.Fatalf("%+v %v", d, err)
	}
	_, err = w.s.RecordAward(ctx, ledger.AwardRequest{BehaviourID: good.ID, HouseholdID: w.home.ID, By: w.gwB.ID})
	wantCode(t, err, ledger.ENOTFOUND, "household.not_found")
	_, err = w.s.RecordAward(ctx, ledger.AwardRequest{BehaviourID: good.ID, MemberID: w.ann.ID, By: w.gw.ID})
	wantCode(t, err, ledger.EINVALID, "award.behaviour_household")
	a, err := w.s.RecordAward(ctx, ledger.AwardRequest{BehaviourID: good.ID, HouseholdID: w.home.ID, Note: "五好家庭", By: w.gw.ID})
	if err != nil || a.Status != ledger.AwardPending {
		t.Fatalf("%+v %v", a, err)
	}
	if a, err = w.s.ApproveAward(ctx, a.ID, w.org.ID); err != nil || a.Status != ledger.AwardPosted {
		t.Fatalf("%+v %v", a, err)
	}
	_, err = w.s.RecordAward(ctx, ledger.AwardRequest{BehaviourID: good.ID, HouseholdID: w.home.ID, By: w.gw.ID})
	wantCode(t, err, ledger.ECONFLICT, "award.year_cap")
	d2, err := w.s.RecordAward(ctx, ledger.AwardRequest{BehaviourID: w.family.ID, HouseholdID: w.home.ID, Note: "又堆物", By: w.org.ID})
	if err != nil || d2.Taken != 5 || d2.NotTaken != 0 {
		t.Fatalf("%+v %v", d2, err)
	}
	if got, ann := w.balance(t, hh), w.balance(t, ledger.MemberAccount(w.ann.ID)); got != 25 || ann != 10 {
		t.Fatalf("household %d, Ann %d", got, ann)
	}
	list, err := w.s.Awards(ctx, ledger.AwardFilter{Scope: ledger.Scope{Unit: w.tr.gridA.ID}, HouseholdID: w.home.ID})
	if err != nil || len(list) != 3 || list[0].ID != d2.ID {
		t.Fatalf("%d %v", len(list), err)
	}
	if got, err := w.s.Awards(ctx, ledger.AwardFilter{Scope: ledger.Scope{Unit: w.tr.gridB.ID}, HouseholdID: w.home.ID}); err != nil || len(got) != 0 {
		t.Fatalf("another grid sees %d", len(got))
	}
	targets, err := w.s.AwardTargets(ctx, ledger.Scope{Unit: w.tr.gridA.ID}, "安", 10)
	if err != nil || len(targets) != 2 || targets[0].ID != w.ann.ID || targets[0].Household != w.home.ID || targets[1].ID != w.home.ID {
		t.Fatalf("targets %+v %v", targets, err)
	}
	if targets, _ := w.s.AwardTargets(ctx, ledger.Scope{Unit: w.tr.gridB.ID}, "安", 10); len(targets) != 0 {
		t.Fatalf("another grid finds %+v", targets)
	}
}

// TestRecordAwardIdempotent: the same key and request is the same award,
// even sent ten times at once; the same key with another note is refused.
func TestRecordAwardIdempotent(t *testing.T) {
	w := newAwardWorld(t, time.Date(2026, 11, 20, 10, 0, 0, 0, shanghai))
	key, _ := ledger.ClientKey(w.gw.ID, "0190a1b2-0000-7000-8000-000000000001")
	req := ledger.AwardRequest{BehaviourID: w.sorting.ID, MemberID: w.ann.ID, By: w.gw.ID, Key: key, Note: "分类正确",
		Evidence: []ledger.Picture{{ContentType: "image/png", Data: []byte("\x89PNG fake")}}}
	ids := make([]uuid.UUID, 10)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := w.s.RecordAward(ctx, req)
			if err != nil {
				t.Error(err)
			}
			ids[i] = a.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("two awards: %v", ids)
		}
	}
	other := req
	other.Note = "别的"
	_, err := w.s.RecordAward(ctx, other)
	wantCode(t, err, ledger.ECONFLICT, "idempotency.mismatch")
	if got := w.balance(t, ledger.MemberAccount(w.ann.ID)); got != 2 {
		t.Fatalf("Ann has %d", got)
	}
	p, err := w.s.AwardEvidence(ctx, ids[0], 1)
	if err != nil || p.ContentType != "image/png" || string(p.Data) != "\x89PNG fake" {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := w.s.AwardEvidence(ctx, ids[0], 2); !errors.Is(err, err) || ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Fatalf("no second photo: %v", err)
	}
}

// errAwardIndex reports an award index that disagrees with the awards.
var errAwardIndex = errors.New("award index")

// checkAwardIndexes recounts the caps, the open and notice indexes from the
// awards and compares them with what is kept, naming the first difference.
func (s *Store) checkAwardIndexes(tx *bolt.Tx) error {
	caps := map[string]int64{}
	open := map[uuid.UUID]bool{}
	notice := map[string]bool{}
	err := tx.Bucket(bucketAwards).ForEach(func(k, v []byte) error {
		var sa storedAward
		if err := json.Unmarshal(v, &sa); err != nil {
			return fmt.Errorf("%w: award %x: %v", errAwardIndex, k, err)
		}
		a := sa.Award
		if a.Status != ledger.AwardRejected && a.Status != ledger.AwardReversed {
			m := a.Month(s.loc)
			caps[string(capKey(a.BehaviourID, a.TargetID(), m))]++
			caps[string(capKey(a.BehaviourID, a.TargetID(), yearOf(m)))]++
		}
		if a.Status.Open() {
			open[a.ID] = true
		}
		if a.Status == ledger.AwardInNotice {
			notice[string(noticeKey(a))] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketAwardCaps).ForEach(func(k, v []byte) error {
		if n := getCount(tx.Bucket(bucketAwardCaps), k); n != caps[string(k)] {
			return fmt.Errorf("%w: caps %x: kept %d, the awards count %d", errAwardIndex, k, n, caps[string(k)])
		}
		delete(caps, string(k))
		return nil
	}); err != nil {
		return err
	}
	for k, n := range caps {
		if n != 0 {
			return fmt.Errorf("%w: caps %x: none kept, the awards count %d", errAwardIndex, k, n)
		}
	}
	n := 0
	if err := tx.Bucket(bucketAwardOpen).ForEach(func(k, _ []byte) error {
		n++
		if !open[uuid.UUID(k)] {
			return fmt.Errorf("%w: award %x is listed open", errAwardIndex, k)
		}
		return nil
	}); err != nil {
		return err
	}
	if n != len(open) {
		return fmt.Errorf("%w: %d open awards, %d listed", errAwardIndex, len(open), n)
	}
	n = 0
	if err := tx.Bucket(bucketAwardNotice).ForEach(func(k, _ []byte) error {
		n++
		if !notice[string(k)] {
			return fmt.Errorf("%w: notice key %x names no award in notice", errAwardIndex, k)
		}
		return nil
	}); err != nil {
		return err
	}
	if n != len(notice) {
		return fmt.Errorf("%w: %d awards in notice, %d listed", errAwardIndex, len(notice), n)
	}
	return nil
}
