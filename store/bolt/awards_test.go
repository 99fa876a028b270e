package bolt

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/storetest"

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

// TestAwardsConformance runs the engines' shared awards suite on bbolt,
// checking the award indexes (checkAwards) after each test.
func TestAwardsConformance(t *testing.T) {
	storetest.RunAwards(t, func(t *testing.T, clock func() time.Time) storetest.AwardsStore {
		s := openTest(t, Options{Now: clock})
		t.Cleanup(func() { checkAwards(t, s) })
		return s
	})
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
