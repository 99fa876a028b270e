package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// The monthly redemption rows. They are derived from the journal's redeem
// entries and the vouchers they name, kept in the redemption's transaction,
// and checked by Verify.
//
//	memberredeemed  member(16) | yyyymm(4) -> points (varint) | vouchers (uvarint)
//	shopmonth       shop(16) | yyyymm(4) -> vouchers (uvarint) | items (uvarint)
//	shopitemmonth   shop(16) | yyyymm(4) | item(16) -> quantity (uvarint)

// redeemRows are the rows one redemption adds to.
type redeemRows struct {
	member, shop map[string][2]int64 // key -> (points or vouchers, vouchers or items)
	item         map[string]int64
}

func newRedeemRows() redeemRows {
	return redeemRows{member: map[string][2]int64{}, shop: map[string][2]int64{}, item: map[string]int64{}}
}

func yyyymm(id uuid.UUID, m ledger.Month) []byte {
	return binary.BigEndian.AppendUint32(bytes.Clone(id[:]), uint32(m))
}

// add counts voucher v, redeemed in month m.
func (r redeemRows) add(v ledger.Voucher, m ledger.Month) {
	mk := string(yyyymm(v.MemberID, m))
	mr := r.member[mk]
	r.member[mk] = [2]int64{mr[0] + v.Points, mr[1] + 1}
	sk := string(yyyymm(v.ShopID, m))
	sr := r.shop[sk]
	items := int64(0)
	for _, l := range v.Lines {
		items += int64(l.Qty)
		r.item[sk+string(l.ItemID[:])] += int64(l.Qty)
	}
	r.shop[sk] = [2]int64{sr[0] + 1, sr[1] + items}
}

// addRedeemed adds voucher v, redeemed by entry e, to the monthly rows.
func (s *Store) addRedeemed(tx *bolt.Tx, v ledger.Voucher, e ledger.Entry) error {
	r := newRedeemRows()
	r.add(v, ledger.MonthOf(e.Time, s.loc))
	return r.store(tx)
}

// store adds the rows to the buckets.
func (r redeemRows) store(tx *bolt.Tx) error {
	mb, sb, ib := tx.Bucket(bucketMemberRedeemed), tx.Bucket(bucketShopMonth), tx.Bucket(bucketShopItemMonth)
	for k, d := range r.member {
		p, n, _ := decodePair(mb.Get([]byte(k)), true)
		if err := mb.Put([]byte(k), encodePair(p+d[0], n+d[1], true)); err != nil {
			return err
		}
	}
	for k, d := range r.shop {
		a, b, _ := decodePair(sb.Get([]byte(k)), false)
		if err := sb.Put([]byte(k), encodePair(a+d[0], b+d[1], false)); err != nil {
			return err
		}
	}
	for k, d := range r.item {
		q, _ := binary.Uvarint(ib.Get([]byte(k)))
		if err := ib.Put([]byte(k), binary.AppendUvarint(nil, q+uint64(d))); err != nil {
			return err
		}
	}
	return nil
}

// encodePair writes two numbers; the first signed when signed.
func encodePair(a, b int64, signed bool) []byte {
	var out []byte
	if signed {
		out = binary.AppendVarint(out, a)
	} else {
		out = binary.AppendUvarint(out, uint64(a))
	}
	return binary.AppendUvarint(out, uint64(b))
}

var errBadPair = errors.New("malformed monthly redemption row")

func decodePair(v []byte, signed bool) (int64, int64, error) {
	if v == nil {
		return 0, 0, nil
	}
	var a int64
	var w int
	if signed {
		a, w = binary.Varint(v)
	} else {
		var u uint64
		u, w = binary.Uvarint(v)
		a = int64(u)
	}
	if w <= 0 {
		return 0, 0, errBadPair
	}
	b, w2 := binary.Uvarint(v[w:])
	if w2 <= 0 || w+w2 != len(v) {
		return 0, 0, errBadPair
	}
	return a, int64(b), nil
}

// voucherOfEntry returns the voucher a redeem entry names, if it names one.
func voucherOfEntry(tx *bolt.Tx, e *ledger.Entry) (ledger.Voucher, bool, error) {
	if e.Kind != ledger.KindRedeem {
		return ledger.Voucher{}, false, nil
	}
	ref, ok := strings.CutPrefix(e.Reference, "voucher:")
	if !ok {
		return ledger.Voucher{}, false, nil // a redeem appended directly to the journal
	}
	id, err := uuid.Parse(ref)
	if err != nil {
		return ledger.Voucher{}, false, nil
	}
	v, err := getVoucher(tx, id)
	if ledger.ErrorCode(err) == ledger.ENOTFOUND {
		return v, false, nil
	}
	return v, err == nil, err
}

// rebuildRedeemed recomputes the monthly redemption rows from the journal
// (migration 5).
func (s *Store) rebuildRedeemed(tx *bolt.Tx) (redeemRows, error) {
	r := newRedeemRows()
	c := tx.Bucket(bucketJournal).Cursor()
	for k, val := c.First(); k != nil; k, val = c.Next() {
		se, err := decodeStored(val)
		if err != nil {
			return r, err
		}
		v, ok, err := voucherOfEntry(tx, &se.Entry)
		if err != nil {
			return r, err
		}
		if ok {
			r.add(v, ledger.MonthOf(se.Time, s.loc))
		}
	}
	return r, nil
}

// equalRows reports whether the stored redemption rows are exactly r.
func (r redeemRows) equal(tx *bolt.Tx) (bool, string) {
	check := func(b *bolt.Bucket, want map[string][]byte, name string) (bool, string) {
		n := 0
		ok := true
		_ = b.ForEach(func(k, v []byte) error {
			n++
			if w, found := want[string(k)]; !found || !bytes.Equal(w, v) {
				ok = false
				return errStop
			}
			return nil
		})
		if !ok || n != len(want) {
			return false, name
		}
		return true, ""
	}
	members := map[string][]byte{}
	for k, d := range r.member {
		members[k] = encodePair(d[0], d[1], true)
	}
	shops := map[string][]byte{}
	for k, d := range r.shop {
		shops[k] = encodePair(d[0], d[1], false)
	}
	items := map[string][]byte{}
	for k, d := range r.item {
		items[k] = binary.AppendUvarint(nil, uint64(d))
	}
	for _, c := range []struct {
		b    *bolt.Bucket
		want map[string][]byte
		name string
	}{{tx.Bucket(bucketMemberRedeemed), members, "members' monthly redemptions"},
		{tx.Bucket(bucketShopMonth), shops, "shops' monthly redemptions"},
		{tx.Bucket(bucketShopItemMonth), items, "shops' monthly items"}} {
		if ok, name := check(c.b, c.want, c.name); !ok {
			return false, name
		}
	}
	return true, ""
}

// MonthReport implements ledger.Reports: one read transaction; per member,
// its balance row, its monthly rows from month m on and its redemption rows
// from m on; per shop, its month's rows.
func (s *Store) MonthReport(ctx context.Context, m ledger.Month, members, shops []uuid.UUID) (ledger.MonthReport, error) {
	rep := ledger.MonthReport{Month: m, AllMembers: members == nil}
	err := s.db.View(func(tx *bolt.Tx) error {
		accounts := tx.Bucket(bucketAccounts)
		if members == nil {
			c := accounts.Cursor()
			first := []byte{byte(ledger.AccountMember)}
			for k, _ := c.Seek(first); k != nil && k[0] == byte(ledger.AccountMember); k, _ = c.Next() {
				if len(k) == ledger.AccountKeySize {
					members = append(members, uuid.UUID(k[1:]))
				}
			}
		}
		ac := accounts.Cursor()
		rc := tx.Bucket(bucketMemberRedeemed).Cursor()
		held := tx.Bucket(bucketMemberHeld)
		rep.Members = make([]ledger.MemberMonth, 0, len(members))
		var rows []ledger.MonthTotals
		var redeemed []ledger.Redeemed
		for i, id := range members {
			if err := unhurried(ctx, i); err != nil {
				return err
			}
			a := ledger.MemberAccount(id)
			k := a.Key()
			var avail ledger.Points
			if v := accounts.Get(k[:]); v != nil {
				row, err := decodeAccountRow(v)
				if err != nil {
					return err
				}
				avail = row.balance
			}
			// Every month row, not just from m on: their sums must come to the
			// balance and the held points kept now, which checks the rows the
			// month is worked back from against what the redemptions and
			// vouchers kept on their own.
			rows = rows[:0]
			var net, heldNet ledger.Points
			from := monthKey(0, a)
			for mk, mv := ac.Seek(from); mk != nil && bytes.HasPrefix(mk, k[:]) && len(mk) == len(from); mk, mv = ac.Next() {
				mt, err := decodeMonthRow(ledger.Month(binary.BigEndian.Uint32(mk[ledger.AccountKeySize:])), a, mv)
				if err != nil {
					return err
				}
				net += mt.Net()
				heldNet += mt.Out[ledger.KindHold] - mt.In[ledger.KindRelease]
				if mt.Month >= m {
					rows = append(rows, mt)
				}
			}
			redeemed = redeemed[:0]
			for rk, rv := rc.Seek(id[:]); rk != nil && bytes.HasPrefix(rk, id[:]); rk, rv = rc.Next() {
				p, n, err := decodePair(rv, true)
				if err != nil {
					return err
				}
				heldNet -= p
				if month := ledger.Month(binary.BigEndian.Uint32(rk[16:])); month >= m {
					redeemed = append(redeemed, ledger.Redeemed{Month: month, Points: p, Vouchers: int(n)})
				}
			}
			heldNow := getCount(held, id[:])
			if net != avail || heldNet != heldNow {
				rep.Unbalanced = append(rep.Unbalanced, id)
			}
			rep.Members = append(rep.Members, ledger.MemberMonthOf(id, m, avail, heldNow, rows, redeemed))
		}

		// Shops: all, or the ones asked for.
		if shops == nil {
			_ = tx.Bucket(bucketShops).ForEach(func(k, _ []byte) error {
				shops = append(shops, uuid.UUID(k))
				return nil
			})
		}
		sb, ic := tx.Bucket(bucketShopMonth), tx.Bucket(bucketShopItemMonth).Cursor()
		for _, id := range shops {
			sm := ledger.ShopMonth{ShopID: id, ByItem: map[uuid.UUID]int{}}
			key := yyyymm(id, m)
			n, items, err := decodePair(sb.Get(key), false)
			if err != nil {
				return err
			}
			sm.Vouchers, sm.Items = int(n), int(items)
			if v := accounts.Get(monthKey(m, ledger.ShopAccount(id))); v != nil {
				mt, err := decodeMonthRow(m, ledger.ShopAccount(id), v)
				if err != nil {
					return err
				}
				sm.Points = mt.In[ledger.KindRedeem] - mt.Out[ledger.KindRedeem]
			}
			for k, v := ic.Seek(key); k != nil && bytes.HasPrefix(k, key); k, v = ic.Next() {
				q, _ := binary.Uvarint(v)
				sm.ByItem[uuid.UUID(k[20:])] = int(q)
			}
			rep.Shops = append(rep.Shops, sm)
		}

		// Every shop account's redemptions and the escrow at the month's end,
		// for the cross-checks.
		c := accounts.Cursor()
		for k, v := c.Seek([]byte{byte(ledger.AccountShop)}); k != nil && k[0] == byte(ledger.AccountShop); k, v = c.Next() {
			if len(k) == ledger.AccountKeySize+4 && ledger.Month(binary.BigEndian.Uint32(k[ledger.AccountKeySize:])) == m {
				mt, err := decodeMonthRow(m, ledger.ShopAccount(uuid.UUID(k[1:ledger.AccountKeySize])), v)
				if err != nil {
					return err
				}
				rep.ShopPoints += mt.In[ledger.KindRedeem]
			}
		}
		ek := ledger.Escrow.Key()
		if v := accounts.Get(ek[:]); v != nil {
			row, err := decodeAccountRow(v)
			if err != nil {
				return err
			}
			rep.EscrowClosing = row.balance
			for k, v := c.Seek(monthKey(m+1, ledger.Escrow)); k != nil && bytes.HasPrefix(k, ek[:]); k, v = c.Next() {
				mt, err := decodeMonthRow(0, ledger.Escrow, v)
				if err != nil {
					return err
				}
				rep.EscrowClosing -= mt.Net()
			}
		}

		// The chain head now, and the last entry of the month.
		if hv := tx.Bucket(bucketMeta).Get(keyHead); len(hv) == 48 {
			rep.HeadSeq = binary.BigEndian.Uint64(hv)
			copy(rep.HeadHash[:], hv[8:40])
		}
		seq, h, err := s.lastEntryBy(tx, rep.HeadSeq, m)
		rep.MonthEndSeq, rep.MonthEndHash = seq, h
		return err
	})
	return rep, err
}

// lastEntryBy finds the last entry dated in month m or before, by binary
// search over the journal (entry times never go down).
func (s *Store) lastEntryBy(tx *bolt.Tx, head uint64, m ledger.Month) (uint64, ledger.Hash, error) {
	lo, hi := uint64(1), head+1 // the answer is the last seq in [lo, hi) with month <= m, or 0
	for lo < hi {
		mid := lo + (hi-lo)/2
		se, err := readStored(tx, mid)
		if err != nil {
			return 0, ledger.Hash{}, err
		}
		if ledger.MonthOf(se.Time, s.loc) <= m {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 1 {
		return 0, ledger.Hash{}, nil
	}
	se, err := readStored(tx, lo-1)
	return lo - 1, se.Hash, err
}

// MonthSums implements ledger.Reports: per member, a seek to its first
// month's row and the rows up to the last month.
func (s *Store) MonthSums(ctx context.Context, first, last ledger.Month, members []uuid.UUID) ([]ledger.MonthSum, error) {
	var months []ledger.Month
	for m := first; m <= last && len(months) < 1200; m = m.Next() {
		months = append(months, m)
	}
	out := make([]ledger.MonthSum, len(months))
	index := map[ledger.Month]int{}
	for i, m := range months {
		out[i].Month = m
		index[m] = i
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		accounts := tx.Bucket(bucketAccounts)
		if members == nil {
			c := accounts.Cursor()
			for k, _ := c.Seek([]byte{byte(ledger.AccountMember)}); k != nil && k[0] == byte(ledger.AccountMember); k, _ = c.Next() {
				if len(k) == ledger.AccountKeySize {
					members = append(members, uuid.UUID(k[1:]))
				}
			}
		}
		ac, rc := accounts.Cursor(), tx.Bucket(bucketMemberRedeemed).Cursor()
		for n, id := range members {
			if err := unhurried(ctx, n); err != nil {
				return err
			}
			a := ledger.MemberAccount(id)
			k := a.Key()
			from := monthKey(first, a)
			for mk, mv := ac.Seek(from); mk != nil && bytes.HasPrefix(mk, k[:]) && len(mk) == len(from); mk, mv = ac.Next() {
				m := ledger.Month(binary.BigEndian.Uint32(mk[ledger.AccountKeySize:]))
				i, ok := index[m]
				if !ok {
					break
				}
				mt, err := decodeMonthRow(m, a, mv)
				if err != nil {
					return err
				}
				out[i].Earned += mt.In[ledger.KindEarn] + mt.In[ledger.KindAward] + mt.In[ledger.KindReverse] - mt.Out[ledger.KindReverse]
				out[i].Minutes += mt.Minutes
			}
			for rk, rv := rc.Seek(yyyymm(id, first)); rk != nil && bytes.HasPrefix(rk, id[:]); rk, rv = rc.Next() {
				i, ok := index[ledger.Month(binary.BigEndian.Uint32(rk[16:]))]
				if !ok {
					break
				}
				p, _, err := decodePair(rv, true)
				if err != nil {
					return err
				}
				out[i].Redeemed += p
			}
		}
		return nil
	})
	return out, err
}
