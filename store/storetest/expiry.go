package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// ExpiryStore is what the expiry suite needs of an engine: points that
// expire (ledger.Expiries), shops to spend at, the directory and the journal.
type ExpiryStore interface {
	ShopsStore
	ledger.Expiries
	Entries(ctx context.Context, after uint64, limit int) ([]ledger.Entry, error)
}

// OpenExpiry opens a fresh, empty store whose clock is clock.
type OpenExpiry func(t *testing.T, clock func() time.Time) ExpiryStore

// RunExpiry runs the conformance tests of points that expire (积分有效期).
func RunExpiry(t *testing.T, open OpenExpiry) {
	t.Run("CrossesTheYear", func(t *testing.T) { testExpiryCrossesTheYear(t, open) })
	t.Run("SweepsAtOnce", func(t *testing.T) { testExpirySweepsAtOnce(t, open) })
}

func shTime(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, Shanghai)
}

// expiryWorld is the Tree with a shop, whose members earn and spend over
// the years on a clock the test moves.
type expiryWorld struct {
	s     ExpiryStore
	clock *Clock
	tr    Tree
	shop  ledger.Shop
	one   ledger.Item
	iss   ledger.Account
	n     int
}

func newExpiryWorld(t *testing.T, open OpenExpiry, start time.Time) *expiryWorld {
	t.Helper()
	w := &expiryWorld{clock: NewClock(start)}
	w.s = open(t, w.clock.Now)
	w.tr = MakeTree(t, w.s)
	var err error
	w.shop, err = w.s.CreateShop(ctx, ledger.Shop{Name: "东河园爱心超市", Kind: ledger.ShopLoveSupermarket, UnitID: w.tr.A.ID})
	must(t, err)
	w.one, err = w.s.CreateItem(ctx, ledger.Item{ShopID: w.shop.ID, Name: "积分券", Points: 1, Active: true})
	must(t, err)
	w.one, err = w.s.MoveStock(ctx, ledger.StockMove{ItemID: w.one.ID, Kind: ledger.StockIntake, Qty: 100000})
	must(t, err)
	w.iss = ledger.IssuerAccount(w.tr.A.ID)
	must(t, w.s.OpenAccount(ctx, w.iss))
	return w
}

func (w *expiryWorld) member(t *testing.T, name string) ledger.Member {
	t.Helper()
	w.n++
	m, err := w.s.CreateMember(ctx, ledger.Member{Name: name, Phone: fmt.Sprintf("1390000%04d", w.n), UnitID: w.tr.GridA.ID}, "")
	must(t, err)
	return m
}

func (w *expiryWorld) earn(t *testing.T, a ledger.Account, n ledger.Points) {
	t.Helper()
	_, err := w.s.Append(ctx, ledger.Transfer{Debit: w.iss, Credit: a, Amount: n, Kind: ledger.KindEarn})
	must(t, err)
}

// spend redeems vouchers of n points in all for m (at most 100 a voucher).
func (w *expiryWorld) spend(t *testing.T, m ledger.Member, n int) {
	t.Helper()
	for n > 0 {
		q := min(n, 100)
		v, err := w.s.IssueVoucher(ctx, m.ID, w.shop.ID, []ledger.VoucherRequestLine{{ItemID: w.one.ID, Qty: q}}, uuid.Nil, ledger.PresenceSelf, "")
		must(t, err)
		_, err = w.s.RedeemVoucher(ctx, v.ID, w.shop.ID, uuid.Nil, "")
		must(t, err)
		n -= q
	}
}

func (w *expiryWorld) balance(t *testing.T, a ledger.Account) ledger.Points {
	t.Helper()
	b, err := w.s.Balance(ctx, a)
	must(t, err)
	return b.Points
}

// sweep runs the expiry sweep and wants it to handle done accounts and fail none.
func (w *expiryWorld) sweep(t *testing.T, done int) {
	t.Helper()
	res, err := w.s.ExpirePoints(ctx)
	if err != nil || res.Done != done || len(res.Failed) != 0 {
		t.Fatalf("sweep at %v: %+v %v, want %d done", w.clock.Now().In(Shanghai), res, err, done)
	}
}

// testExpiryCrossesTheYear: under a one-year policy, what remains of the
// points earned up to 2025 expires at the first minute of 2027, oldest
// points first, once however often the sweep looks; a warning comes 30
// days ahead; 2026's points go a year later.
func testExpiryCrossesTheYear(t *testing.T, open OpenExpiry) {
	w := newExpiryWorld(t, open, shTime(2025, 3, 10, 9, 0))
	years := 1
	_, err := w.s.SetExpiryPolicy(ctx, w.tr.Street.ID, ledger.ExpiryPatch{Years: &years}, uuid.Nil)
	must(t, err)
	li, wang, zhao := w.member(t, "李秀英"), w.member(t, "王建国"), w.member(t, "赵春燕")
	liA, wangA, zhaoA := ledger.MemberAccount(li.ID), ledger.MemberAccount(wang.ID), ledger.MemberAccount(zhao.ID)
	w.earn(t, liA, 100)
	w.earn(t, wangA, 40)
	w.clock.Set(shTime(2025, 12, 31, 23, 59))
	w.earn(t, liA, 57) // the last minute of 2025 is 2025
	w.clock.Set(shTime(2026, 1, 1, 0, 0))
	w.earn(t, zhaoA, 60) // the first of 2026 is 2026
	w.clock.Set(shTime(2026, 2, 14, 9, 0))
	w.earn(t, liA, 80)
	w.clock.Set(shTime(2026, 5, 20, 15, 0))
	w.spend(t, li, 120) // of li's 157 of 2025: 37 left, and 80 of 2026

	w.sweep(t, 0) // 2024 is past its cutoff, but nothing was earned then
	w.clock.Set(shTime(2026, 12, 1, 23, 59))
	if _, ok, err := w.s.Expiring(ctx, liA); ok || err != nil {
		t.Fatalf("warned 31 days ahead: %v", err)
	}
	w.clock.Set(shTime(2026, 12, 2, 0, 0))
	if x, ok, err := w.s.Expiring(ctx, liA); !ok || err != nil || x.Points != 37 || !x.At.Equal(shTime(2027, 1, 1, 0, 0)) || x.Year != 2025 {
		t.Fatalf("the warning 30 days ahead: %+v %v %v", x, ok, err)
	}
	if _, ok, _ := w.s.Expiring(ctx, zhaoA); ok {
		t.Fatal("赵春燕 earned in 2026 only, and is warned")
	}
	p, err := w.s.ExpiryPreview(ctx, w.tr.Street.ID, 0, 10)
	if err != nil || p.NextPoints != 77 || p.NextAccounts != 2 {
		t.Fatalf("preview %+v %v", p, err)
	}
	w.clock.Set(shTime(2026, 12, 31, 23, 59))
	w.sweep(t, 0)

	w.clock.Set(shTime(2027, 1, 1, 0, 0).Add(30 * time.Second))
	head, _, _ := w.s.Head(ctx)
	w.sweep(t, 2)
	for a, want := range map[ledger.Account]ledger.Points{liA: 80, wangA: 0, zhaoA: 60, ledger.ExpiredAccount(w.tr.Street.ID): 77} {
		if got := w.balance(t, a); got != want {
			t.Fatalf("%v: %d, want %d", a, got, want)
		}
	}
	es, _ := w.s.Entries(ctx, head, 10)
	if len(es) != 2 {
		t.Fatalf("%d entries", len(es))
	}
	for _, e := range es {
		if e.Kind != ledger.KindExpire || e.Credit != ledger.ExpiredAccount(w.tr.Street.ID) || e.Actor != ledger.ExpiryActor ||
			e.IdempotencyKey != ledger.ExpiryKey(e.Debit, 2025) {
			t.Fatalf("entry %+v", e)
		}
	}
	head, _, _ = w.s.Head(ctx)
	w.sweep(t, 0)
	w.clock.Set(shTime(2027, 1, 1, 2, 0))
	w.sweep(t, 0)
	if again, _, _ := w.s.Head(ctx); again != head {
		t.Fatalf("the repeats wrote %d entries", again-head)
	}
	runs, err := w.s.ExpiryRuns(ctx, w.tr.Street.ID)
	if err != nil || len(runs) != 2 {
		t.Fatalf("runs %+v %v", runs, err)
	}
	if r := runs[1]; r.Year != 2025 || !r.Done || r.Accounts != 2 || r.Points != 77 || r.Failed != 0 {
		t.Fatalf("run %+v", r)
	}
	w.clock.Set(shTime(2028, 1, 1, 0, 1))
	w.sweep(t, 2)
	if w.balance(t, liA) != 0 || w.balance(t, zhaoA) != 0 || w.balance(t, ledger.ExpiredAccount(w.tr.Street.ID)) != 217 {
		t.Fatal("2026's points did not expire")
	}
}

// testExpirySweepsAtOnce: eight sweeps at once past a cutoff expire each
// account's points once.
func testExpirySweepsAtOnce(t *testing.T, open OpenExpiry) {
	w := newExpiryWorld(t, open, shTime(2025, 3, 10, 9, 0))
	years := 1
	_, err := w.s.SetExpiryPolicy(ctx, w.tr.Street.ID, ledger.ExpiryPatch{Years: &years}, uuid.Nil)
	must(t, err)
	var accounts []ledger.Account
	for range 12 {
		a := ledger.MemberAccount(w.member(t, "志愿者").ID)
		w.earn(t, a, 9)
		accounts = append(accounts, a)
	}
	w.clock.Set(shTime(2027, 1, 1, 0, 5))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := w.s.ExpirePoints(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, a := range accounts {
		if b := w.balance(t, a); b != 0 {
			t.Fatalf("%v has %d after the sweeps", a, b)
		}
	}
	if got := w.balance(t, ledger.ExpiredAccount(w.tr.Street.ID)); got != 12*9 {
		t.Fatalf("%d points expired, want %d", got, 12*9)
	}
}
