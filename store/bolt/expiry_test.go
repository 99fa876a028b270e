package bolt

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/storetest"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

var expiryZone = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// expiryWorld is a street with a shop, whose members earn and spend over
// the years on a clock the test moves.
type expiryWorld struct {
	s         *Store
	clock     *testClock
	tr        tree
	shop      ledger.Shop
	one, ten  ledger.Item // items of 1 and 10 points
	iss       ledger.Account
	nextPhone int
}

func newExpiryWorld(t *testing.T, start time.Time) *expiryWorld {
	t.Helper()
	clock := newTestClock(start)
	s := openTest(t, Options{Now: clock.Now, VoucherLife: 90 * 24 * time.Hour})
	w := &expiryWorld{s: s, clock: clock, tr: makeTree(t, s)}
	t.Cleanup(func() { checkSums(t, s) })
	var err error
	if w.shop, err = s.CreateShop(ctx, ledger.Shop{Name: "东河园爱心超市", Kind: ledger.ShopLoveSupermarket, UnitID: w.tr.a.ID}); err != nil {
		t.Fatal(err)
	}
	for _, it := range []*ledger.Item{&w.one, &w.ten} {
		pts := ledger.Points(1)
		if it == &w.ten {
			pts = 10
		}
		if *it, err = s.CreateItem(ctx, ledger.Item{ShopID: w.shop.ID, Name: fmt.Sprint("积分券 ", pts), Points: pts, Active: true}); err != nil {
			t.Fatal(err)
		}
		if *it, err = s.MoveStock(ctx, ledger.StockMove{ItemID: it.ID, Kind: ledger.StockIntake, Qty: 100000}); err != nil {
			t.Fatal(err)
		}
	}
	w.iss = ledger.IssuerAccount(w.tr.a.ID)
	openAccounts(t, s, w.iss)
	return w
}

// shTime is a time in Shanghai.
func shTime(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, expiryZone)
}

func (w *expiryWorld) set(t *testing.T, when time.Time) {
	t.Helper()
	if when.Before(w.clock.Now()) {
		t.Fatalf("the clock goes back: %v before %v", when, w.clock.Now())
	}
	w.clock.Set(when)
}

func (w *expiryWorld) member(t *testing.T, name string) ledger.Member {
	t.Helper()
	w.nextPhone++
	m, err := w.s.CreateMember(ctx, ledger.Member{Name: name, Phone: fmt.Sprintf("1390000%04d", w.nextPhone), UnitID: w.tr.gridA.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (w *expiryWorld) earn(t *testing.T, a ledger.Account, n ledger.Points) {
	t.Helper()
	k := ledger.KindEarn
	if a.Kind == ledger.AccountHousehold {
		k = ledger.KindAward
	}
	if _, err := w.s.Append(ctx, ledger.Transfer{Debit: w.iss, Credit: a, Amount: n, Kind: k}); err != nil {
		t.Fatal(err)
	}
}

func (w *expiryWorld) lines(n ledger.Points) []ledger.VoucherRequestLine {
	var l []ledger.VoucherRequestLine
	if n/10 > 0 {
		l = append(l, ledger.VoucherRequestLine{ItemID: w.ten.ID, Qty: int(n / 10)})
	}
	if n%10 > 0 {
		l = append(l, ledger.VoucherRequestLine{ItemID: w.one.ID, Qty: int(n % 10)})
	}
	return l
}

// hold issues a voucher of n points (n < 1000) for m.
func (w *expiryWorld) hold(t *testing.T, m ledger.Member, n ledger.Points) ledger.Voucher {
	t.Helper()
	v, err := w.s.IssueVoucher(ctx, m.ID, w.shop.ID, w.lines(n), uuid.Nil, ledger.PresenceSelf, "")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// spend redeems a voucher of n points for m.
func (w *expiryWorld) spend(t *testing.T, m ledger.Member, n ledger.Points) {
	t.Helper()
	v := w.hold(t, m, n)
	if _, err := w.s.RedeemVoucher(ctx, v.ID, w.shop.ID, uuid.Nil, ""); err != nil {
		t.Fatal(err)
	}
}

func (w *expiryWorld) policy(t *testing.T, years int) {
	t.Helper()
	if _, err := w.s.SetExpiryPolicy(ctx, w.tr.street.ID, ledger.ExpiryPatch{Years: &years}, uuid.Nil); err != nil {
		t.Fatal(err)
	}
}

func (w *expiryWorld) balance(t *testing.T, a ledger.Account) ledger.Points {
	t.Helper()
	b, err := w.s.Balance(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return b.Points
}

// sweep runs the expiry sweep and wants it to handle done accounts and fail none.
func (w *expiryWorld) sweep(t *testing.T, done int) {
	t.Helper()
	res, err := w.s.ExpirePoints(ctx)
	if err != nil || res.Done != done || len(res.Failed) != 0 {
		t.Fatalf("sweep at %v: %+v %v, want %d done", w.clock.Now().In(expiryZone), res, err, done)
	}
}

// checkSums checks that every account's balance is the sum of its entries
// and that the balances sum to zero.
func checkSums(t *testing.T, s *Store) {
	t.Helper()
	if s.closed {
		return
	}
	var accounts []ledger.Account
	_ = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAccounts).ForEach(func(k, _ []byte) error {
			if len(k) == ledger.AccountKeySize {
				a, err := ledger.AccountFromKey(k)
				if err != nil {
					t.Errorf("account key %x: %v", k, err)
				}
				accounts = append(accounts, a)
			}
			return nil
		})
	})
	var total ledger.Points
	for _, a := range accounts {
		b, err := s.Balance(ctx, a)
		if err != nil {
			t.Errorf("%v: %v", a, err)
			continue
		}
		es, err := s.AccountEntries(ctx, a, 0, 1<<30)
		if err != nil {
			t.Errorf("%v: %v", a, err)
			continue
		}
		var sum ledger.Points
		for _, e := range es {
			if e.Credit == a {
				sum += e.Amount
			} else {
				sum -= e.Amount
			}
		}
		if sum != b.Points || uint64(len(es)) != b.Entries {
			t.Errorf("%v: balance %d over %d entries, the entries sum to %d over %d", a, b.Points, b.Entries, sum, len(es))
		}
		if b.Points < 0 && !a.MayGoNegative() {
			t.Errorf("%v is below zero: %d", a, b.Points)
		}
		total += b.Points
	}
	if total != 0 {
		t.Errorf("the balances sum to %d", total)
	}
}

// TestExpiryCrossesTheYear: one year's policy; points earned in 2025 and
// 2026, some spent in 2026. At 2027-01-01 exactly the unspent points of
// 2025 expire, oldest first; a second run, and a run an hour later, expire
// nothing; at 2028-01-01 those of 2026 follow.
func TestExpiryCrossesTheYear(t *testing.T) {
	w := newExpiryWorld(t, shTime(2025, 3, 10, 9, 0))
	w.policy(t, 1)
	li, wang, zhao := w.member(t, "李秀英"), w.member(t, "王建国"), w.member(t, "赵春燕")
	liA, wangA, zhaoA := ledger.MemberAccount(li.ID), ledger.MemberAccount(wang.ID), ledger.MemberAccount(zhao.ID)
	w.earn(t, liA, 100)
	w.earn(t, wangA, 40)
	w.set(t, shTime(2025, 11, 5, 10, 0))
	w.earn(t, liA, 50)
	w.set(t, shTime(2025, 12, 31, 23, 59))
	w.earn(t, liA, 7) // the last minute of 2025 is 2025
	w.set(t, shTime(2026, 1, 1, 0, 0))
	w.earn(t, zhaoA, 60) // the first of 2026 is 2026
	w.set(t, shTime(2026, 2, 14, 9, 0))
	w.earn(t, liA, 80)
	w.set(t, shTime(2026, 5, 20, 15, 0))
	w.spend(t, li, 120) // of li's 157 of 2025: 37 left, and 80 of 2026

	// Nothing happens before the cutoff, however often the sweep looks.
	w.sweep(t, 0) // 2024 is past its cutoff, but nothing was earned then
	w.set(t, shTime(2026, 12, 1, 23, 59))
	if _, ok, err := w.s.Expiring(ctx, liA); ok || err != nil {
		t.Fatalf("warned 31 days ahead: %v", err)
	}
	w.set(t, shTime(2026, 12, 2, 0, 0))
	if x, ok, err := w.s.Expiring(ctx, liA); !ok || err != nil || x.Points != 37 || !x.At.Equal(shTime(2027, 1, 1, 0, 0)) || x.Year != 2025 {
		t.Fatalf("the warning 30 days ahead: %+v %v %v", x, ok, err)
	}
	if _, ok, _ := w.s.Expiring(ctx, zhaoA); ok {
		t.Fatal("赵春燕 earned in 2026 only, and is warned")
	}
	w.set(t, shTime(2026, 12, 31, 23, 59))
	w.sweep(t, 0)
	if w.balance(t, liA) != 117 {
		t.Fatalf("balance before the cutoff %d", w.balance(t, liA))
	}

	w.set(t, shTime(2027, 1, 1, 0, 0).Add(30*time.Second))
	head, _, _ := w.s.Head(ctx)
	w.sweep(t, 2)
	for a, want := range map[ledger.Account]ledger.Points{liA: 80, wangA: 0, zhaoA: 60, ledger.ExpiredAccount(w.tr.street.ID): 77} {
		if got := w.balance(t, a); got != want {
			t.Fatalf("%v: %d, want %d", a, got, want)
		}
	}
	es, _ := w.s.Entries(ctx, head, 10)
	if len(es) != 2 {
		t.Fatalf("%d entries", len(es))
	}
	for _, e := range es {
		if e.Kind != ledger.KindExpire || e.Credit != ledger.ExpiredAccount(w.tr.street.ID) || e.Memo != "2025年及以前获得的积分到期" ||
			e.Actor != ledger.ExpiryActor || e.IdempotencyKey != ledger.ExpiryKey(e.Debit, 2025) {
			t.Fatalf("entry %+v", e)
		}
	}
	// Twice, and an hour later: nothing twice.
	head, _, _ = w.s.Head(ctx)
	w.sweep(t, 0)
	w.set(t, shTime(2027, 1, 1, 2, 0))
	w.sweep(t, 0)
	if again, _, _ := w.s.Head(ctx); again != head {
		t.Fatalf("the repeats wrote %d entries", again-head)
	}
	runs, err := w.s.ExpiryRuns(ctx, w.tr.street.ID)
	if err != nil || len(runs) != 2 {
		t.Fatalf("runs %+v %v", runs, err)
	}
	if r := runs[1]; r.Year != 2025 || r.Years != 1 || !r.Done || r.Accounts != 2 || r.Points != 77 || r.Failed != 0 || !r.Cutoff.Equal(shTime(2027, 1, 1, 0, 0)) {
		t.Fatalf("run %+v", r)
	}
	if r := runs[0]; r.Year != 2024 || !r.Done || r.Accounts != 0 {
		t.Fatalf("the first look's run %+v", r)
	}
	// January's report shows it and adds up.
	rep, err := w.s.MonthReport(ctx, 202701, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range rep.Members {
		want := map[uuid.UUID]ledger.Points{li.ID: 37, wang.ID: 40}[m.MemberID]
		if m.Expired != want || !m.Reconciles() {
			t.Fatalf("January of %v: %+v", m.MemberID, m)
		}
	}

	// A year on, 2026's points go: 李's 80 and 赵's 60.
	w.set(t, shTime(2027, 12, 31, 23, 59))
	w.sweep(t, 0)
	w.set(t, shTime(2028, 1, 1, 0, 1))
	w.sweep(t, 2)
	if w.balance(t, liA) != 0 || w.balance(t, zhaoA) != 0 || w.balance(t, ledger.ExpiredAccount(w.tr.street.ID)) != 217 {
		t.Fatal("2026's points did not expire")
	}
	checkConsistent(t, w.s)
}

// TestExpiryLeavesHeldPoints: a voucher open across the cutoff keeps its
// points, held and untouched. Cancelled afterwards, its points come back
// as old points: the run of that year is done and does not take them back
// retroactively; they expire at the next cutoff.
func TestExpiryLeavesHeldPoints(t *testing.T) {
	w := newExpiryWorld(t, shTime(2025, 4, 1, 9, 0))
	w.policy(t, 1)
	m := w.member(t, "孙德胜")
	a := ledger.MemberAccount(m.ID)
	w.earn(t, a, 100)
	w.set(t, shTime(2026, 3, 1, 9, 0))
	w.earn(t, a, 20)
	w.set(t, shTime(2026, 12, 20, 9, 0))
	v := w.hold(t, m, 90) // the oldest 90 of 2025, in escrow
	redeemed := w.hold(t, m, 5)
	if x, ok, _ := w.s.Expiring(ctx, a); !ok || x.Points != 5 {
		t.Fatalf("warning %+v", x) // 100 of 2025 less the 95 held
	}

	w.set(t, shTime(2027, 1, 1, 0, 1))
	w.sweep(t, 1)
	if got := w.balance(t, a); got != 20 {
		t.Fatalf("balance %d, want 20 (the 5 of 2025 not held expired)", got)
	}
	if held, _ := w.s.Held(ctx, m.ID); held != 95 {
		t.Fatalf("held %d", held)
	}
	if got, _ := w.s.Voucher(ctx, v.ID); got.Status != ledger.VoucherOpen {
		t.Fatalf("voucher %v", got.Status)
	}
	if _, err := w.s.RedeemVoucher(ctx, redeemed.ID, w.shop.ID, uuid.Nil, ""); err != nil {
		t.Fatalf("a voucher open across the cutoff does not redeem: %v", err)
	}

	// Cancelled on 10 January: the 90 come back, and stay until the next cutoff.
	w.set(t, shTime(2027, 1, 10, 9, 0))
	if _, err := w.s.CancelVoucher(ctx, v.ID, uuid.Nil); err != nil {
		t.Fatal(err)
	}
	w.set(t, shTime(2027, 1, 10, 12, 0))
	w.sweep(t, 0)
	if got := w.balance(t, a); got != 110 {
		t.Fatalf("balance %d after the cancellation", got)
	}
	w.set(t, shTime(2027, 12, 2, 0, 0))
	if x, ok, _ := w.s.Expiring(ctx, a); !ok || x.Points != 110 || x.Year != 2026 {
		t.Fatalf("the next warning %+v", x)
	}
	w.set(t, shTime(2028, 1, 1, 0, 1))
	w.sweep(t, 1)
	if got := w.balance(t, a); got != 0 {
		t.Fatalf("balance %d after the next cutoff", got)
	}
}

// TestHouseholdPointsExpire: a household's account expires as a member's.
func TestHouseholdPointsExpire(t *testing.T) {
	w := newExpiryWorld(t, shTime(2025, 6, 1, 9, 0))
	w.policy(t, 1)
	h, err := w.s.CreateHousehold(ctx, "3单元502室", w.tr.gridA.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Another street's household keeps its points.
	other, _ := w.s.CreateUnit(ctx, "光明街道", ledger.UnitStreet, uuid.Nil, nil)
	oc, _ := w.s.CreateUnit(ctx, "光明社区", ledger.UnitCommunity, other.ID, nil)
	og, _ := w.s.CreateUnit(ctx, "第一网格", ledger.UnitGrid, oc.ID, nil)
	oh, err := w.s.CreateHousehold(ctx, "1单元101室", og.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.earn(t, h.Account(), 50)
	w.earn(t, oh.Account(), 30)
	w.set(t, shTime(2026, 7, 1, 9, 0))
	w.earn(t, h.Account(), 10)
	w.set(t, shTime(2026, 12, 15, 9, 0))
	if x, ok, err := w.s.Expiring(ctx, h.Account()); !ok || err != nil || x.Points != 50 {
		t.Fatalf("household warning %+v %v", x, err)
	}
	if _, ok, err := w.s.Expiring(ctx, oh.Account()); ok || err != nil {
		t.Fatalf("a street without a policy warns: %v", err)
	}
	w.set(t, shTime(2027, 1, 1, 0, 1))
	w.sweep(t, 1)
	if w.balance(t, h.Account()) != 10 || w.balance(t, oh.Account()) != 30 {
		t.Fatalf("households: %d and %d", w.balance(t, h.Account()), w.balance(t, oh.Account()))
	}
}

// TestExpirySkipsADamagedAccount: an account whose balance row is damaged
// is skipped and counted while the others expire; the street's year stays
// open, and once the row is sound again a later run (after ExpiryRetry)
// expires that account alone.
func TestExpirySkipsADamagedAccount(t *testing.T) {
	w := newExpiryWorld(t, shTime(2025, 6, 1, 9, 0))
	w.policy(t, 1)
	var ms []ledger.Member
	for i := range 5 {
		m := w.member(t, fmt.Sprint("志愿者", i))
		w.earn(t, ledger.MemberAccount(m.ID), ledger.Points(10*(i+1)))
		ms = append(ms, m)
	}
	bad := ledger.MemberAccount(ms[2].ID).Key()
	var good []byte
	damage := func(v []byte) {
		if err := w.s.db.Update(func(tx *bolt.Tx) error {
			if good == nil {
				good = append([]byte(nil), tx.Bucket(bucketAccounts).Get(bad[:])...)
			}
			return tx.Bucket(bucketAccounts).Put(bad[:], v)
		}); err != nil {
			t.Fatal(err)
		}
	}
	damage([]byte{1, 2, 3})
	w.set(t, shTime(2027, 1, 1, 0, 1))
	res, err := w.s.ExpirePoints(ctx)
	if err != nil || res.Done != 4 || len(res.Failed) != 1 || res.Failed[0].ID != ms[2].ID {
		t.Fatalf("sweep %+v %v", res, err)
	}
	if n := w.s.Stats().SweepFailures["points_expiry"]; n != 1 {
		t.Fatalf("failures counted %d", n)
	}
	runs, _ := w.s.ExpiryRuns(ctx, w.tr.street.ID)
	if r := runs[len(runs)-1]; r.Done || r.Failed != 1 || r.Accounts != 4 || r.Points != 120 {
		t.Fatalf("run %+v", r)
	}
	// Not again at once.
	w.set(t, shTime(2027, 1, 1, 0, 30))
	w.sweep(t, 0)
	damage(good)
	w.set(t, shTime(2027, 1, 1, 1, 2))
	w.sweep(t, 1)
	runs, _ = w.s.ExpiryRuns(ctx, w.tr.street.ID)
	if r := runs[len(runs)-1]; !r.Done || r.Failed != 0 || r.Accounts != 5 || r.Points != 150 {
		t.Fatalf("run %+v", r)
	}
	for _, m := range ms {
		if b := w.balance(t, ledger.MemberAccount(m.ID)); b != 0 {
			t.Fatalf("%s keeps %d", m.Name, b)
		}
	}
}

// TestExpiryWithConcurrentVouchers: volunteers make vouchers while the
// sweep runs at the cutoff. No account goes below zero, no voucher or
// expiry fails but for points that are not there, and afterwards nothing
// of 2025 is left unexpired: each account was decided on what it held at
// the moment of its write.
func TestExpiryWithConcurrentVouchers(t *testing.T) {
	w := newExpiryWorld(t, shTime(2025, 6, 1, 9, 0))
	w.policy(t, 1)
	var ms []ledger.Member
	for i := range 24 {
		m := w.member(t, fmt.Sprint("志愿者", i))
		w.earn(t, ledger.MemberAccount(m.ID), 60)
		ms = append(ms, m)
	}
	w.set(t, shTime(2026, 3, 1, 9, 0))
	for _, m := range ms {
		w.earn(t, ledger.MemberAccount(m.ID), 30)
	}
	w.set(t, shTime(2027, 1, 1, 0, 0))
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for g := range 6 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 5))
			for range 20 {
				m := ms[r.IntN(len(ms))]
				_, err := w.s.IssueVoucher(ctx, m.ID, w.shop.ID, w.lines(ledger.Points(5+r.IntN(40))), uuid.Nil, ledger.PresenceSelf, "")
				if err != nil && ledger.ErrorCode(err) != ledger.ECONFLICT {
					errs <- err
				}
			}
		})
	}
	var res ledger.SweepResult
	var sweepErr error
	wg.Go(func() { res, sweepErr = w.s.ExpirePoints(ctx) })
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if sweepErr != nil || len(res.Failed) != 0 {
		t.Fatalf("sweep %+v %v", res, sweepErr)
	}
	var expired ledger.Points
	_ = w.s.db.View(func(tx *bolt.Tx) error {
		for _, m := range ms {
			a := ledger.MemberAccount(m.ID)
			b, err := accountBalance(tx, a)
			if err != nil {
				t.Fatal(err)
			}
			rows, _ := monthRowsFrom(tx, a, 202601)
			if b < 0 || ledger.ExpiryDue(b, 2025, rows) != 0 {
				t.Fatalf("%s: balance %d, %d of 2025 left", m.Name, b, ledger.ExpiryDue(b, 2025, rows))
			}
		}
		return nil
	})
	expired = w.balance(t, ledger.ExpiredAccount(w.tr.street.ID))
	if expired == 0 || expired > 24*60 {
		t.Fatalf("expired %d", expired)
	}
}

// TestExpiryPolicyTurnedOnLater: a policy set in June 2027 takes, at the
// next run, what is already past its cutoff; a policy of more years takes
// nothing of it; turned off, nothing runs.
func TestExpiryPolicyTurnedOnLater(t *testing.T) {
	w := newExpiryWorld(t, shTime(2025, 6, 1, 9, 0))
	m := w.member(t, "周玉梅")
	a := ledger.MemberAccount(m.ID)
	w.earn(t, a, 40)
	w.set(t, shTime(2026, 6, 1, 9, 0))
	w.earn(t, a, 25)
	w.set(t, shTime(2027, 6, 1, 9, 0))
	w.sweep(t, 0) // no policy
	w.policy(t, 3)
	w.sweep(t, 0) // 2023 and before: nothing
	p, err := w.s.ExpiryPreview(ctx, w.tr.street.ID, 1, 10)
	if err != nil || p.DueYear != 2025 || p.DuePoints != 40 || p.DueAccounts != 1 || p.NextYear != 2026 || p.NextPoints != 25 || len(p.Accounts) != 1 || p.Accounts[0].Name != "周玉梅" {
		t.Fatalf("preview of one year %+v %v", p, err)
	}
	w.policy(t, 1)
	w.sweep(t, 1)
	if got := w.balance(t, a); got != 25 {
		t.Fatalf("balance %d", got)
	}
	if p, _ := w.s.ExpiryPreview(ctx, w.tr.street.ID, 0, 10); p.DuePoints != 0 || p.NextPoints != 25 || p.Years != 1 {
		t.Fatalf("preview after the run %+v", p)
	}
	w.policy(t, 0)
	w.set(t, shTime(2028, 1, 1, 0, 1))
	w.sweep(t, 0)
	if _, err := w.s.ExpiryPreview(ctx, w.tr.street.ID, 0, 10); ledger.ErrorCode(err) != ledger.EINVALID {
		t.Fatalf("a preview without a policy: %v", err)
	}
	if _, err := w.s.ExpiryPreview(ctx, w.tr.a.ID, 1, 10); ledger.ErrorCode(err) != ledger.EINVALID {
		t.Fatalf("a community's preview: %v", err)
	}
	if got := w.balance(t, a); got != 25 {
		t.Fatalf("balance %d with the policy off", got)
	}
}

// TestExpiryMonthReportAgainstReplay: members earn, spend, hold, cancel and
// are corrected over 2025 to 2027 while the sweep runs with a policy of one
// year; every month's report from the monthly rows agrees with a replay of
// the journal and adds up, with the sweep's expire entries in it.
func TestExpiryMonthReportAgainstReplay(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 29))
			w := newExpiryWorld(t, shTime(2025, 10, 1, 9, 0))
			w.policy(t, 1)
			var ms []ledger.Member
			for i := range 5 {
				m := w.member(t, fmt.Sprint("志愿者", i))
				w.earn(t, ledger.MemberAccount(m.ID), 200)
				ms = append(ms, m)
			}
			var open []ledger.Voucher
			var earns []uint64
			end := shTime(2027, 2, 20, 0, 0)
			for w.clock.Now().Before(end) {
				w.clock.Add(time.Duration(r.IntN(6*24*60)) * time.Minute)
				m := ms[r.IntN(len(ms))]
				a := ledger.MemberAccount(m.ID)
				switch op := r.IntN(10); {
				case op < 4:
					e, err := w.s.Append(ctx, ledger.Transfer{Debit: w.iss, Credit: a, Amount: ledger.Points(5 + r.IntN(40)), Kind: ledger.KindEarn})
					if err != nil {
						t.Fatal(err)
					}
					earns = append(earns, e.Seq)
				case op < 7:
					v, err := w.s.IssueVoucher(ctx, m.ID, w.shop.ID, w.lines(ledger.Points(1+r.IntN(30))), uuid.Nil, ledger.PresenceSelf, "")
					if err == nil {
						open = append(open, v)
					} else if ledger.ErrorCode(err) != ledger.ECONFLICT {
						t.Fatal(err)
					}
				case op < 9 && len(open) > 0:
					v := open[0]
					open = open[1:]
					var err error
					if op == 7 {
						_, err = w.s.RedeemVoucher(ctx, v.ID, w.shop.ID, uuid.Nil, "")
					} else {
						_, err = w.s.CancelVoucher(ctx, v.ID, uuid.Nil)
					}
					if err != nil && ledger.ErrorCode(err) != ledger.EGONE && ledger.ErrorCode(err) != ledger.ECONFLICT {
						t.Fatal(err)
					}
				case len(earns) > 0:
					if _, err := w.s.Reverse(ctx, earns[r.IntN(len(earns))], "organiser", "更正", ""); err != nil && ledger.ErrorCode(err) != ledger.ECONFLICT {
						t.Fatal(err)
					}
				}
				if _, err := w.s.ExpireVouchers(ctx); err != nil {
					t.Fatal(err)
				}
				if res, err := w.s.ExpirePoints(ctx); err != nil || len(res.Failed) != 0 {
					t.Fatalf("sweep %+v %v", res, err)
				}
			}
			checkConsistent(t, w.s)
			replay := replayMonths(t, w.s)
			var expired ledger.Points
			for month := ledger.Month(202510); month <= 202702; month = month.Next() {
				rep, err := w.s.MonthReport(ctx, month, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				if bad, agree := rep.Reconcile(); len(bad) > 0 || !agree {
					t.Fatalf("%v: members %v do not reconcile; accounts agree: %v", month, bad, agree)
				}
				want := replay.Report(month)
				for _, got := range rep.Members {
					if wm := want.Member[got.MemberID]; got != wm {
						t.Fatalf("%v: member %v\n got %+v\nwant %+v", month, got.MemberID, got, wm)
					}
					if got.Expired != 0 && month != 202601 && month != 202701 {
						t.Fatalf("%v: points expired outside January: %+v", month, got)
					}
					expired += got.Expired
				}
			}
			if expired == 0 || expired != w.balance(t, ledger.ExpiredAccount(w.tr.street.ID)) {
				t.Fatalf("expired %d, the street's expired account %d", expired, w.balance(t, ledger.ExpiredAccount(w.tr.street.ID)))
			}
		})
	}
}

// TestExpiryConformance runs the engines' shared expiry suite on bbolt.
func TestExpiryConformance(t *testing.T) {
	storetest.RunExpiry(t, func(t *testing.T, clock func() time.Time) storetest.ExpiryStore {
		s := openTest(t, Options{Now: clock})
		t.Cleanup(func() { checkSums(t, s) })
		return s
	})
}
