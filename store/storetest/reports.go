package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// ReportsStore is what the reports suite needs of an engine: the monthly
// reports (ledger.Reports), shops and vouchers, and the journal.
type ReportsStore interface {
	ShopsStore
	ledger.Journal
	ledger.Reports
}

// OpenReports opens a fresh, empty store whose clock is clock and whose
// vouchers last voucherLife.
type OpenReports func(t *testing.T, clock func() time.Time, voucherLife time.Duration) ReportsStore

// RunReports runs the conformance tests of the monthly reports.
func RunReports(t *testing.T, open OpenReports) {
	t.Run("MonthReportAgainstReplay", func(t *testing.T) { testMonthReportAgainstReplay(t, open) })
}

// testMonthReportAgainstReplay drives members through three months of random
// service, vouchers, redemptions, reversed redemptions, cancellations,
// expiries, corrections and point expiry — across month and year boundaries
// — then checks every month's report against an independent replay of the
// journal.
func testMonthReportAgainstReplay(t *testing.T, open OpenReports) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 17))
			clock := NewClock(time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC))
			s := open(t, clock.Now, 6*24*time.Hour)
			tr := MakeTree(t, s)
			shopA, _ := s.CreateShop(ctx, ledger.Shop{Name: "东河园爱心超市", Kind: ledger.ShopLoveSupermarket, UnitID: tr.A.ID})
			shopB, _ := s.CreateShop(ctx, ledger.Shop{Name: "幸福文明银行", Kind: ledger.ShopCivilityBank, UnitID: tr.Street.ID})
			var items []ledger.Item
			for i, sh := range []ledger.Shop{shopA, shopA, shopB} {
				it, err := s.CreateItem(ctx, ledger.Item{ShopID: sh.ID, Name: fmt.Sprint("物品", i), Points: ledger.Points(5 + 10*i), Active: true})
				if err != nil {
					t.Fatal(err)
				}
				if it, err = s.MoveStock(ctx, ledger.StockMove{ItemID: it.ID, Kind: ledger.StockIntake, Qty: 1000}); err != nil {
					t.Fatal(err)
				}
				items = append(items, it)
			}
			var members []ledger.Member
			for i := range 6 {
				m, err := s.CreateMember(ctx, ledger.Member{Name: fmt.Sprint("志愿者", i), Phone: fmt.Sprintf("1381234%04d", i), UnitID: tr.GridA.ID}, "")
				if err != nil {
					t.Fatal(err)
				}
				members = append(members, m)
			}
			iss := ledger.IssuerAccount(tr.A.ID)
			exp := ledger.ExpiredAccount(tr.A.ID)
			must(t, s.OpenAccount(ctx, iss))
			must(t, s.OpenAccount(ctx, exp))
			var earns []uint64
			var open, done []ledger.Voucher
			end := time.Date(2027, 1, 25, 0, 0, 0, 0, time.UTC)
			for clock.Now().Before(end) {
				clock.Add(time.Duration(r.IntN(14*60)) * time.Minute)
				m := members[r.IntN(len(members))]
				acct := ledger.MemberAccount(m.ID)
				switch op := r.IntN(20); {
				case op < 6:
					e, err := s.Append(ctx, ledger.Transfer{Debit: iss, Credit: acct, Amount: ledger.Points(10 + r.IntN(40)), Minutes: int64(30 + r.IntN(200)), Kind: ledger.KindEarn})
					if err != nil {
						t.Fatal(err)
					}
					earns = append(earns, e.Seq)
				case op < 11:
					it := items[r.IntN(len(items))]
					v, err := s.IssueVoucher(ctx, m.ID, it.ShopID, []ledger.VoucherRequestLine{{ItemID: it.ID, Qty: 1 + r.IntN(2)}}, uuid.Nil, ledger.PresenceSelf, "")
					if err == nil {
						open = append(open, v)
					} else if ledger.ErrorCode(err) != ledger.ECONFLICT {
						t.Fatal(err)
					}
				case op < 14 && len(open) > 0:
					i := r.IntN(len(open))
					v := open[i]
					open = slices.Delete(open, i, i+1)
					v, err := s.RedeemVoucher(ctx, v.ID, v.ShopID, uuid.Nil, "")
					if err == nil {
						done = append(done, v)
					} else if ledger.ErrorCode(err) != ledger.EGONE {
						t.Fatal(err)
					}
				case op < 15 && len(done) > 0 && r.IntN(2) == 0: // a redemption reversed, maybe in a later month
					i := r.IntN(len(done))
					v := done[i]
					done = slices.Delete(done, i, i+1)
					if _, err := s.ReverseRedemption(ctx, v.ID, uuid.Nil, "扫错了券", ""); err != nil {
						t.Fatal(err)
					}
				case op < 15 && len(open) > 0:
					i := r.IntN(len(open))
					v := open[i]
					open = slices.Delete(open, i, i+1)
					if _, err := s.CancelVoucher(ctx, v.ID, uuid.Nil); err != nil && ledger.ErrorCode(err) != ledger.EGONE && ledger.ErrorCode(err) != ledger.ECONFLICT {
						t.Fatal(err)
					}
				case op < 17 && len(earns) > 0:
					seq := earns[r.IntN(len(earns))]
					if _, err := s.Reverse(ctx, seq, "organiser", "wrong person", ""); err != nil && ledger.ErrorCode(err) != ledger.ECONFLICT {
						t.Fatal(err)
					}
				default:
					b, _ := s.Balance(ctx, acct)
					if b.Points > 0 {
						if _, err := s.Append(ctx, ledger.Transfer{Debit: acct, Credit: exp, Amount: 1 + ledger.Points(r.Int64N(int64(b.Points))), Kind: ledger.KindExpire}); err != nil {
							t.Fatal(err)
						}
					}
				}
				if _, err := s.ExpireVouchers(ctx); err != nil {
					t.Fatal(err)
				}
			}
			verify(t, s)
			var memberIDs []uuid.UUID
			for _, m := range members {
				memberIDs = append(memberIDs, m.ID)
			}
			replay := Replay(t, s, memberIDs, []uuid.UUID{shopA.ID, shopB.ID})
			sums, err := s.MonthSums(ctx, 202610, 202702, nil)
			if err != nil || len(sums) != 5 {
				t.Fatalf("sums %v %v", sums, err)
			}
			for i, month := range []ledger.Month{202610, 202611, 202612, 202701, 202702} {
				wantSum := ledger.MonthSum{Month: month}
				for _, m := range replay.Report(month).Member {
					wantSum.Earned += m.Earned + m.Adjusted
					wantSum.Redeemed += m.Redeemed
					wantSum.Minutes += m.Minutes
				}
				if sums[i] != wantSum {
					t.Fatalf("sums of %v: %+v, want %+v", month, sums[i], wantSum)
				}
				rep, err := s.MonthReport(ctx, month, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				want := replay.Report(month)
				if bad, agree := rep.Reconcile(); len(bad) > 0 || !agree {
					t.Fatalf("%v: members %v do not reconcile; accounts agree: %v", month, bad, agree)
				}
				if len(rep.Members) != len(members) {
					t.Fatalf("%v: %d member rows", month, len(rep.Members))
				}
				for _, got := range rep.Members {
					if w := want.Member[got.MemberID]; got != w {
						t.Fatalf("%v: member %v\n got %+v\nwant %+v", month, got.MemberID, got, w)
					}
				}
				for _, got := range rep.Shops {
					w := want.Shop[got.ShopID]
					if got.Vouchers != w.Vouchers || got.Points != w.Points || got.Items != w.Items || got.Reversed != w.Reversed || len(got.ByItem) != len(w.ByItem) {
						t.Fatalf("%v: shop %+v, want %+v", month, got, w)
					}
					for id, q := range w.ByItem {
						if got.ByItem[id] != q {
							t.Fatalf("%v: shop item %v: %d, want %d", month, id, got.ByItem[id], q)
						}
					}
				}
				if rep.EscrowClosing != want.Escrow || rep.MonthEndSeq != want.LastSeq {
					t.Fatalf("%v: escrow %d (want %d), month end %d (want %d)", month, rep.EscrowClosing, want.Escrow, rep.MonthEndSeq, want.LastSeq)
				}
				if e, _ := s.Entries(ctx, want.LastSeq-1, 1); want.LastSeq > 0 && e[0].Hash != rep.MonthEndHash {
					t.Fatalf("%v: month-end hash", month)
				}
			}
			// The run tried everything, and vouchers crossed month ends.
			var redeemed, released, adjusted, expired, crossing ledger.Points
			reversed, reversedLater := 0, 0
			for _, month := range []ledger.Month{202611, 202612, 202701} {
				for _, m := range replay.Report(month).Member {
					redeemed += m.Redeemed
					released += m.Released
					adjusted += m.Adjusted
					expired += m.Expired
					crossing += m.HeldOpening
				}
			}
			for _, m := range members {
				vs, err := s.MemberVouchers(ctx, m.ID)
				must(t, err)
				for _, v := range vs {
					if v.Status == ledger.VoucherReversed {
						reversed++
						if ledger.MonthOf(v.ReversedAt, Shanghai) != ledger.MonthOf(v.ClosedAt, Shanghai) {
							reversedLater++
						}
					}
				}
			}
			if redeemed == 0 || released == 0 || adjusted == 0 || expired == 0 || crossing == 0 || reversed == 0 || reversedLater == 0 {
				t.Fatalf("the run did not try everything: redeemed %d released %d adjusted %d expired %d held over a month end %d reversed %d (%d in a later month)",
					redeemed, released, adjusted, expired, crossing, reversed, reversedLater)
			}
			// The engine's own check rebuilds the same rows from the journal.
			if rep, err := s.Verify(ctx); err != nil || !rep.OK {
				t.Fatalf("verify after the run: %+v %v", rep, err)
			}
		})
	}
}

// Replayed is the journal replayed entry by entry, with no use of the
// derived rows the store keeps: what the reports must say.
type Replayed struct {
	s       ReportsStore
	entries []ledger.Entry
	members []uuid.UUID
	shops   []uuid.UUID
}

// ReplayMonth is a month as the replay has it.
type ReplayMonth struct {
	Member  map[uuid.UUID]ledger.MemberMonth
	Shop    map[uuid.UUID]ledger.ShopMonth
	Escrow  ledger.Points
	LastSeq uint64
}

// Replay reads the whole journal of s for a replay of the members' and
// shops' months.
func Replay(t *testing.T, s ReportsStore, members, shops []uuid.UUID) Replayed {
	t.Helper()
	var es []ledger.Entry
	for {
		page, err := s.Entries(ctx, uint64(len(es)), 1000)
		must(t, err)
		if len(page) == 0 {
			break
		}
		es = append(es, page...)
	}
	return Replayed{s: s, entries: es, members: members, shops: shops}
}

// Report computes month m's report from the entries and the vouchers their
// references name.
func (rp Replayed) Report(m ledger.Month) ReplayMonth {
	out := ReplayMonth{Member: map[uuid.UUID]ledger.MemberMonth{}, Shop: map[uuid.UUID]ledger.ShopMonth{}}
	avail := map[uuid.UUID]ledger.Points{}
	held := map[uuid.UUID]ledger.Points{}
	func() {
		// Every member account, even one that never moved.
		for _, id := range rp.members {
			out.Member[id] = ledger.MemberMonth{MemberID: id}
		}
		for _, id := range rp.shops {
			out.Shop[id] = ledger.ShopMonth{ShopID: id, ByItem: map[uuid.UUID]int{}}
		}
		voucherOf := func(e ledger.Entry) ledger.Voucher {
			id := uuid.MustParse(strings.TrimPrefix(e.Reference, "voucher:"))
			v, err := rp.s.Voucher(ctx, id)
			if err != nil {
				panic(err)
			}
			return v
		}
		snapshot := func() {
			for id, mm := range out.Member {
				mm.Opening, mm.HeldOpening = avail[id]+held[id], held[id]
				out.Member[id] = mm
			}
		}
		opened := false
		for _, e := range rp.entries {
			em := ledger.MonthOf(e.Time, Shanghai)
			if em > m {
				break
			}
			if em == m && !opened {
				snapshot()
				opened = true
			}
			out.LastSeq = e.Seq
			if e.Kind == ledger.KindReverse && rp.entries[e.Reverses-1].Kind == ledger.KindRedeem {
				// A reversed redemption: back into escrow (held again) to be
				// released by the next entry, and a negative redemption of
				// the month of the reversal.
				v := voucherOf(rp.entries[e.Reverses-1])
				held[v.MemberID] += e.Amount
				if em == m {
					mm := out.Member[v.MemberID]
					mm.Redeemed -= e.Amount
					mm.Vouchers--
					out.Member[v.MemberID] = mm
					sm := out.Shop[v.ShopID]
					sm.Vouchers--
					sm.Reversed++
					sm.Points -= e.Amount
					for _, l := range v.Lines {
						sm.Items -= l.Qty
						sm.ByItem[l.ItemID] -= l.Qty
						if sm.ByItem[l.ItemID] == 0 {
							delete(sm.ByItem, l.ItemID)
						}
					}
					out.Shop[v.ShopID] = sm
				}
			}
			if e.Kind == ledger.KindHold || e.Kind == ledger.KindRelease || e.Kind == ledger.KindRedeem {
				v := voucherOf(e)
				switch e.Kind {
				case ledger.KindHold:
					held[v.MemberID] += e.Amount
				case ledger.KindRelease:
					held[v.MemberID] -= e.Amount
				case ledger.KindRedeem:
					held[v.MemberID] -= e.Amount
					if em == m {
						mm := out.Member[v.MemberID]
						mm.Redeemed += e.Amount
						mm.Vouchers++
						out.Member[v.MemberID] = mm
						sm := out.Shop[v.ShopID]
						sm.Vouchers++
						sm.Points += e.Amount
						for _, l := range v.Lines {
							sm.Items += l.Qty
							sm.ByItem[l.ItemID] += l.Qty
							if sm.ByItem[l.ItemID] == 0 {
								delete(sm.ByItem, l.ItemID)
							}
						}
						out.Shop[v.ShopID] = sm
					}
				}
			}
			for _, side := range []struct {
				a    ledger.Account
				sign ledger.Points
			}{{e.Debit, -1}, {e.Credit, 1}} {
				if side.a.Kind != ledger.AccountMember {
					continue
				}
				id := side.a.ID
				avail[id] += side.sign * e.Amount
				if em != m {
					continue
				}
				mm := out.Member[id]
				switch e.Kind {
				case ledger.KindEarn, ledger.KindAward:
					mm.Earned += e.Amount
					mm.Minutes += e.Minutes
					switch {
					case e.Kind == ledger.KindEarn:
						mm.Service += e.Amount
					case strings.HasPrefix(e.Reference, "wish:"):
						mm.Wishes += e.Amount
					default:
						mm.Behaviour += e.Amount
					}
				case ledger.KindDeduct:
					mm.Deducted += e.Amount
				case ledger.KindReverse:
					mm.Adjusted += side.sign * e.Amount
					mm.Minutes += int64(side.sign) * e.Minutes
				case ledger.KindExpire:
					mm.Expired += e.Amount
				case ledger.KindHold:
					mm.HeldIn += e.Amount
				case ledger.KindRelease:
					mm.Released += e.Amount
				}
				out.Member[id] = mm
			}
		}
		if !opened {
			snapshot()
		}
		for id, mm := range out.Member {
			mm.Closing, mm.HeldClosing = avail[id]+held[id], held[id]
			out.Member[id] = mm
			out.Escrow += held[id]
		}
	}()
	return out
}
