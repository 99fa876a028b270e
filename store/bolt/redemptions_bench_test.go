package bolt

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// BenchmarkShopRedemptions lists one month's redemptions of a shop that
// has redeemed 288 vouchers a month for two years, and one day of each: the
// oldest month and the newest should cost alike, since the walk enters the
// shop account's chain at the month's last redemption instead of walking
// back from today.
//
//	go test ./store -run '^$' -bench ShopRedemptions -benchtime 200x
func BenchmarkShopRedemptions(b *testing.B) {
	const months, perMonth = 24, 300
	clock := newTestClock(time.Date(2025, 1, 3, 2, 0, 0, 0, time.UTC))
	s := openTest(b, Options{Now: clock.Now, VoucherLife: 400 * 24 * time.Hour})
	tr := makeTree(b, s)
	shop, err := s.CreateShop(ctx, ledger.Shop{Name: "东河园爱心超市", Kind: ledger.ShopLoveSupermarket, UnitID: tr.a.ID})
	if err != nil {
		b.Fatal(err)
	}
	it, err := s.CreateItem(ctx, ledger.Item{ShopID: shop.ID, Name: "毛巾", Points: 1, Active: true})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.MoveStock(ctx, ledger.StockMove{ItemID: it.ID, Kind: ledger.StockIntake, Qty: 100000}); err != nil {
		b.Fatal(err)
	}
	iss := ledger.IssuerAccount(tr.a.ID)
	openAccounts(b, s, iss)
	var members []uuid.UUID
	for i := range 32 {
		m, err := s.CreateMember(ctx, ledger.Member{Name: fmt.Sprint("志愿者", i), Phone: fmt.Sprintf("1391234%04d", i), UnitID: tr.gridA.ID}, "")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Append(ctx, ledger.Transfer{Debit: iss, Credit: ledger.MemberAccount(m.ID), Amount: 100000, Kind: ledger.KindEarn}); err != nil {
			b.Fatal(err)
		}
		members = append(members, m.ID)
	}
	for mo := range months {
		clock.Set(time.Date(2025, time.Month(1+mo), 3, 2, 0, 0, 0, time.UTC))
		// Each member makes and redeems vouchers at once, so that writes share commits.
		var wg sync.WaitGroup
		for i, m := range members {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range perMonth / len(members) {
					v, err := s.IssueVoucher(ctx, m, shop.ID, []ledger.VoucherRequestLine{{ItemID: it.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, "")
					if err == nil {
						_, err = s.RedeemVoucher(ctx, v.ID, shop.ID, uuid.Nil, "")
					}
					if err != nil {
						b.Errorf("member %d: %v", i, err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	head, _, _ := s.Head(ctx)
	b.Logf("%d entries, %d redemptions at the shop", head, months*(perMonth/len(members))*len(members))
	for _, tc := range []struct {
		name string
		m    ledger.Month
		day  bool
	}{{"month=oldest", 202501, false}, {"month=newest", 202612, false}, {"day=oldest", 202501, true}, {"day=newest", 202612, true}} {
		b.Run(tc.name, func(b *testing.B) {
			from, to := tc.m.Span(s.loc)
			if tc.day {
				to = from.AddDate(0, 0, 3)
				from = from.AddDate(0, 0, 2)
			}
			var n int
			for b.Loop() {
				p, err := s.ShopRedemptions(ctx, shop.ID, from, to, 0, 500)
				if err != nil {
					b.Fatal(err)
				}
				n = len(p.Redemptions)
			}
			if n == 0 {
				b.Fatal("nothing listed")
			}
			b.ReportMetric(float64(n), "lines")
		})
	}
}
