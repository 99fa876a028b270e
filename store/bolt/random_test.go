package bolt

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// world is a small ledger to throw random operations at.
type world struct {
	issuers, members, shops, expired []ledger.Account
	closed                           ledger.Account // never opened
}

func newWorld(tb testing.TB, s *Store, r *rand.Rand) world {
	tb.Helper()
	id := func() uuid.UUID {
		var u uuid.UUID
		for i := range u {
			u[i] = byte(r.Uint32())
		}
		u[6] = u[6]&0x0f | 0x40
		u[8] = u[8]&0x3f | 0x80
		return u
	}
	var w world
	for range 2 {
		unit := id()
		w.issuers = append(w.issuers, ledger.IssuerAccount(unit))
		w.expired = append(w.expired, ledger.ExpiredAccount(unit))
	}
	for range 6 {
		w.members = append(w.members, ledger.MemberAccount(id()))
	}
	for range 2 {
		w.shops = append(w.shops, ledger.ShopAccount(id()))
	}
	w.closed = ledger.MemberAccount(id())
	for _, group := range [][]ledger.Account{w.issuers, w.expired, w.members, w.shops} {
		openAccounts(tb, s, group...)
	}
	return w
}

func pick(r *rand.Rand, as []ledger.Account) ledger.Account { return as[r.IntN(len(as))] }

// randomTransfer makes a transfer that is often, but not always, acceptable.
func (w world) randomTransfer(r *rand.Rand, key string) ledger.Transfer {
	amount := int64(r.IntN(40)) + 1
	if r.IntN(50) == 0 {
		amount = -amount
	}
	t := ledger.Transfer{Amount: amount, IdempotencyKey: key, Actor: "random", Minutes: 0}
	switch n := r.IntN(100); {
	case n < 35:
		t.Kind, t.Debit, t.Credit = ledger.KindEarn, pick(r, w.issuers), pick(r, w.members)
		t.Minutes = int64(r.IntN(240))
	case n < 55:
		t.Kind, t.Debit, t.Credit = ledger.KindHold, pick(r, w.members), ledger.Escrow
	case n < 70:
		t.Kind, t.Debit, t.Credit = ledger.KindRedeem, ledger.Escrow, pick(r, w.shops)
	case n < 82:
		t.Kind, t.Debit, t.Credit = ledger.KindRelease, ledger.Escrow, pick(r, w.members)
	case n < 92:
		t.Kind, t.Debit, t.Credit = ledger.KindExpire, pick(r, w.members), pick(r, w.expired)
	case n < 96:
		t.Kind, t.Debit, t.Credit = ledger.KindAward, pick(r, w.issuers), w.closed
	default:
		t.Kind, t.Debit, t.Credit = ledger.KindHold, pick(r, w.members), pick(r, w.shops) // wrong direction
	}
	return t
}

// checker checks the ledger's invariants on one consistent snapshot at a
// time, incrementally: it reads the entries appended since its last check,
// follows the hash chain, sums every account's entries, and compares.
type checker struct {
	seq  uint64
	hash ledger.Hash
	sums map[ledger.Account]ledger.Points
}

func (c *checker) check(tb testing.TB, s *Store) {
	tb.Helper()
	if err := c.run(s); err != nil {
		tb.Fatal(err)
	}
}

func (c *checker) run(s *Store) error {
	if c.sums == nil {
		c.sums = map[ledger.Account]ledger.Points{}
	}
	return s.db.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bucketJournal).Cursor()
		for k, v := cur.Seek(u64(c.seq + 1)); k != nil; k, v = cur.Next() {
			se, err := decodeStored(v)
			if err != nil {
				return err
			}
			if se.Seq != c.seq+1 {
				return fmt.Errorf("entry %d follows %d", se.Seq, c.seq)
			}
			if ledger.ChainHash(c.hash, se.canonical) != se.Hash {
				return fmt.Errorf("entry %d breaks the chain", se.Seq)
			}
			c.seq, c.hash = se.Seq, se.Hash
			c.sums[se.Debit] -= se.Amount
			c.sums[se.Credit] += se.Amount
		}
		var total ledger.Points
		err := tx.Bucket(bucketAccounts).ForEach(func(k, v []byte) error {
			if len(k) != ledger.AccountKeySize {
				return nil // a monthly totals row
			}
			a, err := ledger.AccountFromKey(k)
			if err != nil {
				return err
			}
			row, err := decodeAccountRow(v)
			if err != nil {
				return err
			}
			if row.balance != c.sums[a] {
				return fmt.Errorf("at seq %d %s has balance %d, its entries sum to %d", c.seq, a, row.balance, c.sums[a])
			}
			if row.balance < 0 && !a.MayGoNegative() {
				return fmt.Errorf("at seq %d %s is below zero: %d", c.seq, a, row.balance)
			}
			total += row.balance
			return nil
		})
		if err != nil {
			return err
		}
		if total != 0 {
			return fmt.Errorf("at seq %d the accounts sum to %d", c.seq, total)
		}
		return nil
	})
}

// TestRandomOperations throws thousands of random operations at a store, one
// at a time, predicts each outcome with an independent model, and checks the
// invariants after every step.
func TestRandomOperations(t *testing.T) {
	seeds, ops := 10, 1500
	if testing.Short() {
		seeds, ops = 3, 500
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(seed), 42))
			clock := time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC)
			s := openTest(t, Options{Now: func() time.Time { return clock }})
			w := newWorld(t, s, r)
			model := map[ledger.Account]ledger.Points{}
			var done []ledger.Entry // accepted entries, by seq-1
			reversed := map[uint64]bool{}
			keys := map[string]ledger.Transfer{}
			var c checker
			for i := range ops {
				clock = clock.Add(time.Duration(r.IntN(600)) * time.Second) // crosses into November
				head := uint64(len(done))
				switch n := r.IntN(100); {
				case n < 8 && len(keys) > 0: // replay a keyed request: same entry, nothing written
					k := fmt.Sprint("k", r.IntN(i+1))
					orig, ok := keys[k]
					if !ok {
						break
					}
					e, err := s.Append(ctx, orig)
					if err != nil || e.IdempotencyKey != k || done[e.Seq-1].Hash != e.Hash {
						t.Fatalf("op %d: replay of %s gave %+v %v", i, k, e, err)
					}
					other := orig
					other.Amount++
					_, err = s.Append(ctx, other)
					wantCode(t, err, ledger.ECONFLICT, "idempotency.mismatch")
				case n < 16 && len(done) > 0: // reverse a random earlier entry
					target := done[r.IntN(len(done))]
					e, err := s.Reverse(ctx, target.Seq, "random", "", "")
					switch {
					case target.Kind == ledger.KindReverse:
						wantCode(t, err, ledger.EINVALID, "entry.reverse_of_reverse")
					case reversed[target.Seq]:
						wantCode(t, err, ledger.ECONFLICT, "entry.already_reversed")
					case !target.Credit.MayGoNegative() && model[target.Credit] < target.Amount:
						wantCode(t, err, ledger.ECONFLICT, "entry.insufficient")
					default:
						if err != nil {
							t.Fatalf("op %d: reverse of %d: %v", i, target.Seq, err)
						}
						reversed[target.Seq] = true
						model[target.Credit] -= target.Amount
						model[target.Debit] += target.Amount
						done = append(done, e)
					}
				default:
					key := ""
					if r.IntN(2) == 0 {
						key = fmt.Sprint("k", i)
					}
					tr := w.randomTransfer(r, key)
					e, err := s.Append(ctx, tr)
					switch {
					case tr.Amount <= 0 || (tr.Kind == ledger.KindHold && tr.Credit.Kind == ledger.AccountShop):
						wantCode(t, err, ledger.EINVALID, "")
					case tr.Credit == w.closed:
						wantCode(t, err, ledger.ENOTFOUND, "account.not_open")
					case !tr.Debit.MayGoNegative() && model[tr.Debit] < tr.Amount:
						wantCode(t, err, ledger.ECONFLICT, "entry.insufficient")
					default:
						if err != nil {
							t.Fatalf("op %d: %+v: %v", i, tr, err)
						}
						if e.Seq != head+1 {
							t.Fatalf("op %d: seq %d, want %d", i, e.Seq, head+1)
						}
						model[tr.Debit] -= tr.Amount
						model[tr.Credit] += tr.Amount
						done = append(done, e)
						if key != "" {
							keys[key] = tr
						}
					}
				}
				c.check(t, s)
				if c.seq != uint64(len(done)) {
					t.Fatalf("op %d: journal has %d entries, %d were accepted", i, c.seq, len(done))
				}
				for a, want := range model {
					if c.sums[a] != want {
						t.Fatalf("op %d: %s holds %d, the model says %d", i, a, c.sums[a], want)
					}
				}
			}
			if rep, err := s.Verify(ctx); err != nil || !rep.OK || rep.Entries != uint64(len(done)) {
				t.Fatalf("verify: %+v %v", rep, err)
			}
		})
	}
}

// TestConcurrentRandomOperations runs random operations from many goroutines
// while a checker verifies the invariants on snapshots; at the end every
// acknowledged entry must be in the journal exactly as acknowledged, and
// nothing else.
func TestConcurrentRandomOperations(t *testing.T) {
	seeds, workers, ops := 4, 16, 300
	if testing.Short() {
		seeds, ops = 2, 150
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			s := openTest(t, Options{})
			w := newWorld(t, s, rand.New(rand.NewPCG(uint64(seed), 7)))
			var mu sync.Mutex
			acked := map[uint64]ledger.Entry{}
			stop := make(chan struct{})
			checked := make(chan int)
			go func() {
				var c checker
				n := 0
				for {
					select {
					case <-stop:
						if err := c.run(s); err != nil {
							t.Error(err)
						}
						checked <- n
						return
					default:
						if err := c.run(s); err != nil {
							t.Error(err)
							<-stop
							checked <- n
							return
						}
						n++
						time.Sleep(time.Millisecond)
					}
				}
			}()
			var wg sync.WaitGroup
			for g := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(seed), uint64(g)))
					for i := range ops {
						var e ledger.Entry
						var err error
						key := fmt.Sprintf("g%d-%d", g, i)
						if r.IntN(10) == 0 {
							e, err = s.Reverse(ctx, uint64(r.IntN(ops*workers/4)+1), "random", "", key)
						} else {
							e, err = s.Append(ctx, w.randomTransfer(r, key))
						}
						if err == nil {
							mu.Lock()
							if prev, dup := acked[e.Seq]; dup && prev.Hash != e.Hash {
								t.Errorf("seq %d acknowledged twice with different entries", e.Seq)
							}
							acked[e.Seq] = e
							mu.Unlock()
						} else if ledger.ErrorCode(err) == ledger.EINTERNAL {
							t.Errorf("unexpected error: %v", err)
						}
					}
				}()
			}
			wg.Wait()
			close(stop)
			if n := <-checked; n == 0 {
				t.Log("the checker never ran during the writes")
			}
			all, err := s.Entries(ctx, 0, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != len(acked) {
				t.Fatalf("journal has %d entries, %d were acknowledged", len(all), len(acked))
			}
			for _, e := range all {
				a, ok := acked[e.Seq]
				if !ok || a.Hash != e.Hash || a.PrevHash != e.PrevHash {
					t.Fatalf("entry %d differs from what was acknowledged", e.Seq)
				}
			}
		})
	}
}

// TestRandomShopOperations throws random voucher operations at a store —
// vouchers made (from a member's own points or their household's),
// redeemed, cancelled, left to expire, and redemptions reversed (again,
// with the same key, without a reason), across month ends, while a member
// leaves the household and comes back — predicts each outcome with an
// independent model of points, held points, stock, monthly counts,
// household membership and voucher states, and checks the model after
// every step; at the end every month's report reconciles.
func TestRandomShopOperations(t *testing.T) {
	seeds, ops := 4, 500
	if testing.Short() {
		seeds, ops = 2, 250
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(seed), 99))
			clock := newTestClock(time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC))
			s := openTest(t, Options{Now: clock.Now})
			tr := makeTree(t, s)
			shop, err := s.CreateShop(ctx, ledger.Shop{Name: "东河园爱心超市", Kind: ledger.ShopLoveSupermarket, UnitID: tr.a.ID})
			if err != nil {
				t.Fatal(err)
			}
			if shop, err = s.SetShopHouseholds(ctx, shop.ID, true); err != nil {
				t.Fatal(err)
			}
			type item struct {
				id               uuid.UUID
				points           ledger.Points
				limit            int
				onHand, reserved int
			}
			var items []*item
			for i, spec := range []struct {
				points       ledger.Points
				stock, limit int
			}{{30, 12, 0}, {10, 40, 3}, {5, 200, 0}} {
				it, err := s.CreateItem(ctx, ledger.Item{ShopID: shop.ID, Name: fmt.Sprint("物品", i), Points: spec.points, MonthlyLimit: spec.limit, Active: true})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.MoveStock(ctx, ledger.StockMove{ItemID: it.ID, Kind: ledger.StockIntake, Qty: spec.stock}); err != nil {
					t.Fatal(err)
				}
				items = append(items, &item{id: it.ID, points: spec.points, limit: spec.limit, onHand: spec.stock})
			}
			iss := ledger.IssuerAccount(tr.a.ID)
			openAccounts(t, s, iss)
			// An account that pays vouchers: a member's own, or the household's.
			type member struct {
				id          uuid.UUID
				avail, held ledger.Points
			}
			var members []*member
			for i := range 4 {
				m, err := s.CreateMember(ctx, ledger.Member{Name: fmt.Sprint("志愿者", i), Phone: fmt.Sprintf("1390000000%d", i), UnitID: tr.gridA.ID}, "")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.Append(ctx, ledger.Transfer{Debit: iss, Credit: ledger.MemberAccount(m.ID), Amount: 400, Kind: ledger.KindEarn}); err != nil {
					t.Fatal(err)
				}
				members = append(members, &member{id: m.ID, avail: 400})
			}
			// The household: members 0 and 1 are its adults (1 leaves and
			// comes back now and then), 3 its minor; 2 belongs to none.
			home, err := s.CreateHousehold(ctx, "3单元502室", tr.gridA.ID, 300)
			if err != nil {
				t.Fatal(err)
			}
			household := &member{id: home.ID, avail: 300}
			inHome := true // whether member 1 is in the household now
			setHome := func(with bool) {
				t.Helper()
				ch := ledger.HouseholdChange{HeadID: members[0].id, Members: []ledger.HouseholdMember{{MemberID: members[0].id}, {MemberID: members[3].id, Minor: true}}}
				if with {
					ch.Members = append(ch.Members, ledger.HouseholdMember{MemberID: members[1].id})
				}
				if _, err := s.SetHouseholdMembers(ctx, home.ID, ch); err != nil {
					t.Fatal(err)
				}
				inHome = with
			}
			setHome(true)
			type voucher struct {
				v      ledger.Voucher
				m      *member // whose voucher it is (the monthly limits)
				payer  *member // whose points it holds: m, or the household
				status ledger.VoucherStatus
				key    string // the key it was reversed with
			}
			var vouchers []*voucher
			itemOf := func(id uuid.UUID) *item {
				for _, it := range items {
					if it.id == id {
						return it
					}
				}
				t.Fatalf("no item %v", id)
				return nil
			}
			// taken is the model's monthly count: open and redeemed vouchers made in month mo.
			taken := func(m *member, it *item, mo ledger.Month) int {
				n := 0
				for _, vo := range vouchers {
					if vo.m == m && (vo.status == ledger.VoucherOpen || vo.status == ledger.VoucherRedeemed) && ledger.MonthOf(vo.v.CreatedAt, s.loc) == mo {
						for _, l := range vo.v.Lines {
							if l.ItemID == it.id {
								n += l.Qty
							}
						}
					}
				}
				return n
			}
			reversals := 0
			for i := range ops {
				clock.Add(time.Duration(r.IntN(150)) * time.Minute)
				// Vouchers whose time is up expire at the next sweep.
				res, err := s.ExpireVouchers(ctx)
				if err != nil || len(res.Failed) > 0 {
					t.Fatalf("op %d: sweep %+v %v", i, res, err)
				}
				for _, vo := range vouchers {
					if vo.status == ledger.VoucherOpen && !clock.Now().Before(vo.v.ExpiresAt) {
						vo.status = ledger.VoucherExpired
						vo.payer.avail += vo.v.Points
						vo.payer.held -= vo.v.Points
						for _, l := range vo.v.Lines {
							itemOf(l.ItemID).reserved -= l.Qty
						}
					}
				}
				pickVoucher := func() *voucher {
					if len(vouchers) == 0 {
						return nil
					}
					return vouchers[r.IntN(len(vouchers))]
				}
				switch n := r.IntN(100); {
				case n < 3: // member 1 leaves the household, or comes back
					setHome(!inHome)
					if inHome {
						break
					}
					// Leaving releases their open vouchers paid from the household.
					for _, vo := range vouchers {
						if vo.m == members[1] && vo.payer == household && vo.status == ledger.VoucherOpen {
							vo.status = ledger.VoucherCancelled
							household.avail += vo.v.Points
							household.held -= vo.v.Points
							for _, l := range vo.v.Lines {
								itemOf(l.ItemID).reserved -= l.Qty
							}
						}
					}
				case n < 40: // a voucher of one or two lines (maybe of one item twice)
					m := members[r.IntN(len(members))]
					payer, from, refused := m, uuid.Nil, ""
					if r.IntN(3) == 0 {
						payer, from = household, home.ID
						switch {
						case m == members[3]:
							refused = "household.minor_spend"
						case m == members[2] || (m == members[1] && !inHome):
							refused = "household.not_member"
						}
					}
					var req []ledger.VoucherRequestLine
					for range 1 + r.IntN(2) {
						req = append(req, ledger.VoucherRequestLine{ItemID: items[r.IntN(len(items))].id, Qty: 1 + r.IntN(3)})
					}
					lines, _ := ledger.MergeVoucherLines(req)
					mo := ledger.MonthOf(clock.Now(), s.loc)
					want, cost := "", ledger.Points(0)
					for _, l := range lines {
						it := itemOf(l.ItemID)
						switch {
						case want != "":
						case it.onHand-it.reserved < l.Qty:
							want = "voucher.out_of_stock"
						case it.limit > 0 && taken(m, it, mo)+l.Qty > it.limit:
							want = "voucher.limit_reached"
						}
						cost += it.points * ledger.Points(l.Qty)
					}
					if want == "" && cost > payer.avail {
						want = "entry.insufficient"
					}
					v, err := s.IssueHouseholdVoucher(ctx, m.id, from, shop.ID, req, uuid.Nil, ledger.PresenceProxy, "")
					if refused != "" {
						wantCode(t, err, ledger.EFORBIDDEN, refused)
						break
					}
					if want != "" {
						wantCode(t, err, ledger.ECONFLICT, want)
						break
					}
					if err != nil || v.Points != cost || v.HouseholdID != from {
						t.Fatalf("op %d: voucher %+v %v, want %d points", i, v, err, cost)
					}
					vouchers = append(vouchers, &voucher{v: v, m: m, payer: payer, status: ledger.VoucherOpen})
					payer.avail -= cost
					payer.held += cost
					for _, l := range v.Lines {
						itemOf(l.ItemID).reserved += l.Qty
					}
				case n < 65: // a redemption
					vo := pickVoucher()
					if vo == nil {
						break
					}
					_, err := s.RedeemVoucher(ctx, vo.v.ID, shop.ID, uuid.Nil, "")
					switch vo.status {
					case ledger.VoucherOpen:
						if err != nil {
							t.Fatalf("op %d: redeem: %v", i, err)
						}
						vo.status = ledger.VoucherRedeemed
						vo.payer.held -= vo.v.Points
						for _, l := range vo.v.Lines {
							itemOf(l.ItemID).reserved -= l.Qty
							itemOf(l.ItemID).onHand -= l.Qty
						}
					case ledger.VoucherRedeemed:
						wantCode(t, err, ledger.ECONFLICT, "voucher.redeemed")
					case ledger.VoucherReversed:
						wantCode(t, err, ledger.ECONFLICT, "voucher.redeemed_reversed")
					case ledger.VoucherCancelled:
						wantCode(t, err, ledger.EGONE, "voucher.cancelled")
					case ledger.VoucherExpired:
						wantCode(t, err, ledger.EGONE, "voucher.expired")
					}
				case n < 75: // a cancellation
					vo := pickVoucher()
					if vo == nil {
						break
					}
					_, err := s.CancelVoucher(ctx, vo.v.ID, uuid.Nil)
					if vo.status != ledger.VoucherOpen {
						wantCode(t, err, ledger.ECONFLICT, "voucher.not_open")
						break
					}
					if err != nil {
						t.Fatalf("op %d: cancel: %v", i, err)
					}
					vo.status = ledger.VoucherCancelled
					vo.payer.avail += vo.v.Points
					vo.payer.held -= vo.v.Points
					for _, l := range vo.v.Lines {
						itemOf(l.ItemID).reserved -= l.Qty
					}
				default: // a reversal: of a redemption, again, with the first key, or without a reason
					vo := pickVoucher()
					if vo == nil {
						break
					}
					reason, key := "扫错了券", fmt.Sprint("client:", uuid.Nil, ":", i)
					switch k := r.IntN(10); {
					case k == 0:
						reason = ""
					case k < 3 && vo.key != "":
						key = vo.key
					}
					got, err := s.ReverseRedemption(ctx, vo.v.ID, uuid.Nil, reason, key)
					switch {
					case vo.status == ledger.VoucherReversed && key == vo.key:
						if err != nil || got.Status != ledger.VoucherReversed {
							t.Fatalf("op %d: the same reversal again: %+v %v", i, got, err)
						}
					case vo.status == ledger.VoucherReversed:
						wantCode(t, err, ledger.ECONFLICT, "voucher.already_reversed")
					case vo.status != ledger.VoucherRedeemed:
						wantCode(t, err, ledger.ECONFLICT, "voucher.not_redeemed")
					case reason == "":
						wantCode(t, err, ledger.EINVALID, "attendance.reason_required")
					default:
						if err != nil {
							t.Fatalf("op %d: reverse: %v", i, err)
						}
						reversals++
						vo.status, vo.key = ledger.VoucherReversed, key
						vo.payer.avail += vo.v.Points
						for _, l := range vo.v.Lines {
							itemOf(l.ItemID).onHand += l.Qty
						}
					}
				}
				// The store agrees with the model.
				mo := ledger.MonthOf(clock.Now(), s.loc)
				for _, m := range members {
					b, err := s.Balance(ctx, ledger.MemberAccount(m.id))
					held, _ := s.Held(ctx, m.id)
					if err != nil || b.Points != m.avail || held != m.held {
						t.Fatalf("op %d: member %v has %d available and %d held, the model says %d and %d", i, m.id, b.Points, held, m.avail, m.held)
					}
					ids := make([]uuid.UUID, len(items))
					for j, it := range items {
						ids[j] = it.id
					}
					counts, _ := s.Taken(ctx, m.id, ids)
					for _, it := range items {
						if counts[it.id] != taken(m, it, mo) {
							t.Fatalf("op %d: member %v took %d of %v this month, the model says %d", i, m.id, counts[it.id], it.id, taken(m, it, mo))
						}
					}
				}
				hb, err := s.Balance(ctx, home.Account())
				hheld, _ := s.HouseholdHeld(ctx, home.ID)
				if err != nil || hb.Points != household.avail || hheld != household.held {
					t.Fatalf("op %d: the household has %d available and %d held, the model says %d and %d", i, hb.Points, hheld, household.avail, household.held)
				}
				for _, it := range items {
					got, _ := s.Item(ctx, it.id)
					if got.OnHand != it.onHand || got.Reserved != it.reserved {
						t.Fatalf("op %d: item %v on hand %d reserved %d, the model says %d and %d", i, it.id, got.OnHand, got.Reserved, it.onHand, it.reserved)
					}
				}
				for j, vo := range vouchers {
					if i%25 != 0 && j < len(vouchers)-3 {
						continue // every voucher now and then, the newest always
					}
					if got, _ := s.Voucher(ctx, vo.v.ID); got.Status != vo.status {
						t.Fatalf("op %d: voucher %v is %s, the model says %s", i, vo.v.ID, got.Status, vo.status)
					}
				}
			}
			if reversals == 0 {
				t.Fatal("no redemption was reversed")
			}
			paidByHousehold := 0
			for _, vo := range vouchers {
				if vo.payer == household && vo.status != ledger.VoucherOpen {
					paidByHousehold++
				}
			}
			if paidByHousehold == 0 {
				t.Fatal("no household voucher was closed")
			}
			for mo := ledger.Month(202611); mo <= ledger.MonthOf(clock.Now(), s.loc); mo = mo.Next() {
				rep, err := s.MonthReport(ctx, mo, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				if bad, agree := rep.Reconcile(); len(bad) > 0 || !agree {
					t.Fatalf("%v: members %v do not reconcile, accounts agree %v", mo, bad, agree)
				}
			}
		})
	}
}
