package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// TestMonthReportAgainstReplay drives members through three months of random
// service, vouchers, redemptions, reversed redemptions, cancellations,
// expiries, corrections and point expiry — across month and year boundaries
// — then checks every month's report against an independent replay of the
// journal.
func TestMonthReportAgainstReplay(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 17))
			clock := newTestClock(time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC))
			s := openTest(t, Options{Now: clock.Now, VoucherLife: 6 * 24 * time.Hour})
			w := shopWorld{s: s, clock: clock, tr: makeTree(t, s)}
			shopA, _ := s.CreateShop(ctx, ledger.Shop{Name: "东河园爱心超市", Kind: ledger.ShopLoveSupermarket, UnitID: w.tr.a.ID})
			shopB, _ := s.CreateShop(ctx, ledger.Shop{Name: "幸福文明银行", Kind: ledger.ShopCivilityBank, UnitID: w.tr.street.ID})
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
				m, err := s.CreateMember(ctx, ledger.Member{Name: fmt.Sprint("志愿者", i), Phone: fmt.Sprintf("1381234%04d", i), UnitID: w.tr.gridA.ID}, "")
				if err != nil {
					t.Fatal(err)
				}
				members = append(members, m)
			}
			iss := ledger.IssuerAccount(w.tr.a.ID)
			exp := ledger.ExpiredAccount(w.tr.a.ID)
			openAccounts(t, s, iss, exp)
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
			checkConsistent(t, s)
			replay := replayMonths(t, s)
			sums, err := s.MonthSums(ctx, 202610, 202702, nil)
			if err != nil || len(sums) != 5 {
				t.Fatalf("sums %v %v", sums, err)
			}
			for i, month := range []ledger.Month{202610, 202611, 202612, 202701, 202702} {
				wantSum := ledger.MonthSum{Month: month}
				for _, m := range replay.report(month).member {
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
				want := replay.report(month)
				if bad, agree := rep.Reconcile(); len(bad) > 0 || !agree {
					t.Fatalf("%v: members %v do not reconcile; accounts agree: %v", month, bad, agree)
				}
				if len(rep.Members) != len(members) {
					t.Fatalf("%v: %d member rows", month, len(rep.Members))
				}
				for _, got := range rep.Members {
					if w := want.member[got.MemberID]; got != w {
						t.Fatalf("%v: member %v\n got %+v\nwant %+v", month, got.MemberID, got, w)
					}
				}
				for _, got := range rep.Shops {
					w := want.shop[got.ShopID]
					if got.Vouchers != w.Vouchers || got.Points != w.Points || got.Items != w.Items || got.Reversed != w.Reversed || len(got.ByItem) != len(w.ByItem) {
						t.Fatalf("%v: shop %+v, want %+v", month, got, w)
					}
					for id, q := range w.ByItem {
						if got.ByItem[id] != q {
							t.Fatalf("%v: shop item %v: %d, want %d", month, id, got.ByItem[id], q)
						}
					}
				}
				if rep.EscrowClosing != want.escrow || rep.MonthEndSeq != want.lastSeq {
					t.Fatalf("%v: escrow %d (want %d), month end %d (want %d)", month, rep.EscrowClosing, want.escrow, rep.MonthEndSeq, want.lastSeq)
				}
				if e, _ := s.Entries(ctx, want.lastSeq-1, 1); want.lastSeq > 0 && e[0].Hash != rep.MonthEndHash {
					t.Fatalf("%v: month-end hash", month)
				}
			}
			// The run tried everything, and vouchers crossed month ends.
			var redeemed, released, adjusted, expired, crossing ledger.Points
			reversed, reversedLater := 0, 0
			for _, month := range []ledger.Month{202611, 202612, 202701} {
				for _, m := range replay.report(month).member {
					redeemed += m.Redeemed
					released += m.Released
					adjusted += m.Adjusted
					expired += m.Expired
					crossing += m.HeldOpening
				}
			}
			_ = s.db.View(func(tx *bolt.Tx) error {
				return tx.Bucket(bucketVouchers).ForEach(func(k, _ []byte) error {
					v, _ := getVoucher(tx, uuid.UUID(k))
					if v.Status == ledger.VoucherReversed {
						reversed++
						if ledger.MonthOf(v.ReversedAt, s.loc) != ledger.MonthOf(v.ClosedAt, s.loc) {
							reversedLater++
						}
					}
					return nil
				})
			})
			if redeemed == 0 || released == 0 || adjusted == 0 || expired == 0 || crossing == 0 || reversed == 0 || reversedLater == 0 {
				t.Fatalf("the run did not try everything: redeemed %d released %d adjusted %d expired %d held over a month end %d reversed %d (%d in a later month)",
					redeemed, released, adjusted, expired, crossing, reversed, reversedLater)
			}
		})
	}
}

// replayed is the journal replayed entry by entry, with no use of the
// derived rows the store keeps.
type replayed struct {
	s       *Store
	entries []ledger.Entry
	tx      func(func(*bolt.Tx) error) error
}

type replayMonth struct {
	member  map[uuid.UUID]ledger.MemberMonth
	shop    map[uuid.UUID]ledger.ShopMonth
	escrow  ledger.Points
	lastSeq uint64
}

func replayMonths(t *testing.T, s *Store) replayed {
	t.Helper()
	es, err := s.Entries(ctx, 0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return replayed{s: s, entries: es, tx: s.db.View}
}

// report computes month m's report from the entries and the vouchers their
// references name.
func (rp replayed) report(m ledger.Month) replayMonth {
	out := replayMonth{member: map[uuid.UUID]ledger.MemberMonth{}, shop: map[uuid.UUID]ledger.ShopMonth{}}
	avail := map[uuid.UUID]ledger.Points{}
	held := map[uuid.UUID]ledger.Points{}
	_ = rp.tx(func(tx *bolt.Tx) error {
		// Every member account, even one that never moved.
		c := tx.Bucket(bucketAccounts).Cursor()
		for k, _ := c.Seek([]byte{byte(ledger.AccountMember)}); k != nil && k[0] == byte(ledger.AccountMember); k, _ = c.Next() {
			if len(k) == ledger.AccountKeySize {
				out.member[uuid.UUID(k[1:])] = ledger.MemberMonth{MemberID: uuid.UUID(k[1:])}
			}
		}
		_ = tx.Bucket(bucketShops).ForEach(func(k, _ []byte) error {
			out.shop[uuid.UUID(k)] = ledger.ShopMonth{ShopID: uuid.UUID(k), ByItem: map[uuid.UUID]int{}}
			return nil
		})
		voucherOf := func(e ledger.Entry) ledger.Voucher {
			id := uuid.MustParse(strings.TrimPrefix(e.Reference, "voucher:"))
			v, err := getVoucher(tx, id)
			if err != nil {
				panic(err)
			}
			return v
		}
		snapshot := func() {
			for id, mm := range out.member {
				mm.Opening, mm.HeldOpening = avail[id]+held[id], held[id]
				out.member[id] = mm
			}
		}
		opened := false
		for _, e := range rp.entries {
			em := ledger.MonthOf(e.Time, rp.s.loc)
			if em > m {
				break
			}
			if em == m && !opened {
				snapshot()
				opened = true
			}
			out.lastSeq = e.Seq
			if e.Kind == ledger.KindReverse && rp.entries[e.Reverses-1].Kind == ledger.KindRedeem {
				// A reversed redemption: back into escrow (held again) to be
				// released by the next entry, and a negative redemption of
				// the month of the reversal.
				v := voucherOf(rp.entries[e.Reverses-1])
				held[v.MemberID] += e.Amount
				if em == m {
					mm := out.member[v.MemberID]
					mm.Redeemed -= e.Amount
					mm.Vouchers--
					out.member[v.MemberID] = mm
					sm := out.shop[v.ShopID]
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
					out.shop[v.ShopID] = sm
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
						mm := out.member[v.MemberID]
						mm.Redeemed += e.Amount
						mm.Vouchers++
						out.member[v.MemberID] = mm
						sm := out.shop[v.ShopID]
						sm.Vouchers++
						sm.Points += e.Amount
						for _, l := range v.Lines {
							sm.Items += l.Qty
							sm.ByItem[l.ItemID] += l.Qty
							if sm.ByItem[l.ItemID] == 0 {
								delete(sm.ByItem, l.ItemID)
							}
						}
						out.shop[v.ShopID] = sm
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
				mm := out.member[id]
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
				out.member[id] = mm
			}
		}
		if !opened {
			snapshot()
		}
		for id, mm := range out.member {
			mm.Closing, mm.HeldClosing = avail[id]+held[id], held[id]
			out.member[id] = mm
			out.escrow += held[id]
		}
		return nil
	})
	return out
}

// TestVerifyFindsChangedRedemptionRows damages each kind of monthly
// redemption row: Verify says which.
func TestVerifyFindsChangedRedemptionRows(t *testing.T) {
	for _, bucket := range [][]byte{bucketMemberRedeemed, bucketShopMonth, bucketShopItemMonth} {
		t.Run(string(bucket), func(t *testing.T) {
			w := newShopWorld(t, 200)
			v, err := w.s.IssueVoucher(ctx, w.member.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.rice.ID, Qty: 2}}, uuid.Nil, ledger.PresenceSelf, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.s.RedeemVoucher(ctx, v.ID, w.shopA.ID, uuid.Nil, ""); err != nil {
				t.Fatal(err)
			}
			checkConsistent(t, w.s)
			var key, orig []byte
			if err := w.s.db.Update(func(tx *bolt.Tx) error {
				k, val := tx.Bucket(bucket).Cursor().First()
				key, orig = bytes.Clone(k), bytes.Clone(val)
				return tx.Bucket(bucket).Put(key, append(bytes.Clone(val[:len(val)-1]), val[len(val)-1]+1))
			}); err != nil {
				t.Fatal(err)
			}
			rep, err := w.s.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || !strings.Contains(rep.Problem, "do not match the journal's redemptions") {
				t.Fatalf("verify: %+v", rep)
			}
			if err := w.s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(key, orig) }); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestMigration5RebuildsRedemptionRows opens a file as schema 4 left it —
// redemptions made, no monthly redemption rows — and finds the rows rebuilt
// from the journal.
func TestMigration5RebuildsRedemptionRows(t *testing.T) {
	w := newShopWorld(t, 500)
	var ids []uuid.UUID
	for i, it := range []ledger.Item{w.rice, w.towel, w.rice} {
		v, err := w.s.IssueVoucher(ctx, w.member.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: it.ID, Qty: 1 + i%2}}, uuid.Nil, ledger.PresenceSelf, "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, v.ID)
		w.clock.Add(20 * 24 * time.Hour) // the next one in the next month
		if _, err := w.s.RedeemVoucher(ctx, v.ID, w.shopA.ID, uuid.Nil, ""); err != nil && ledger.ErrorCode(err) != ledger.EGONE {
			t.Fatal(err)
		}
	}
	before, err := w.s.MonthReport(ctx, 202612, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := w.s.db.Path()
	if err := w.s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMemberRedeemed, bucketShopMonth, bucketShopItemMonth} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, 4))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(path, Options{Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkConsistent(t, s)
	after, err := s.MonthReport(ctx, 202612, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before.Members, after.Members) || before.Shops[0].Vouchers != after.Shops[0].Vouchers || before.Shops[0].Items != after.Shops[0].Items {
		t.Fatalf("before %+v\nafter %+v", before, after)
	}
	if before.Members[0].Vouchers == 0 {
		t.Fatal("nothing was redeemed in December")
	}
}

// TestMonthReportFindsUnbalanced: when a member's held points or balance
// row disagree with their monthly rows, the report names the member, and
// Reconcile does too — the check does not follow from how the month is
// worked out.
func TestMonthReportFindsUnbalanced(t *testing.T) {
	w := newShopWorld(t, 200)
	if _, err := w.s.IssueVoucher(ctx, w.member.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.rice.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, ""); err != nil {
		t.Fatal(err)
	}
	month := ledger.MonthOf(w.clock.Now(), w.s.loc)
	check := func(want bool) {
		t.Helper()
		rep, err := w.s.MonthReport(ctx, month, []uuid.UUID{w.member.ID}, nil)
		if err != nil {
			t.Fatal(err)
		}
		bad, _ := rep.Reconcile()
		if got := len(rep.Unbalanced) == 1 && len(bad) == 1; got != want {
			t.Fatalf("unbalanced %v, bad %v; want found %v", rep.Unbalanced, bad, want)
		}
	}
	check(false)
	bump := func(bucket []byte, key []byte, delta int64) {
		if err := w.s.db.Update(func(tx *bolt.Tx) error { return addCount(tx.Bucket(bucket), key, delta) }); err != nil {
			t.Fatal(err)
		}
	}
	bump(bucketMemberHeld, w.member.ID[:], 5)
	check(true)
	bump(bucketMemberHeld, w.member.ID[:], -5)
	check(false)
	// A balance row that lost a point.
	k := ledger.MemberAccount(w.member.ID).Key()
	var orig []byte
	if err := w.s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAccounts)
		orig = bytes.Clone(b.Get(k[:]))
		row, _ := decodeAccountRow(orig)
		row.balance--
		return b.Put(k[:], row.encode())
	}); err != nil {
		t.Fatal(err)
	}
	check(true)
	if err := w.s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketAccounts).Put(k[:], orig) }); err != nil {
		t.Fatal(err)
	}
	check(false)
}
