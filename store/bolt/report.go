package bolt

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
// entries, the reverse entries of redeem entries and the vouchers they name,
// kept in the transaction of the redemption or its reversal, and checked by
// Verify. Each is net: a redemption adds to the rows of its month, and its
// reversal takes the same away from the rows of the month of the reversal
// (a November redemption reversed in December is a negative redemption of
// December), so a month's rows agree with its entries.
//
//	memberredeemed  member(16) | yyyymm(4) -> points (varint) | vouchers (varint)
//	householdredeemed household(16) | yyyymm(4) -> the same, for the vouchers paid
//	                from a household's account (which count here, not for their member)
//	shopmonth       shop(16) | yyyymm(4) -> vouchers (varint) | items (varint) | reversals (uvarint)
//	                | last seq (uvarint): the shop's last redemption or reversal of the month,
//	                where listing a period of the shop enters the shop account's chain
//	shopitemmonth   shop(16) | yyyymm(4) | item(16) -> quantity (varint)
//
// (Before schema 11 the counts were unsigned and the shop rows had no
// reversals or last seq; migration 11 rebuilds the rows.)

// shopRow is the value of a shopmonth row.
type shopRow struct {
	vouchers, items, reversals int64
	last                       uint64
}

// redeemRows are the rows some redemptions and reversals add to.
type redeemRows struct {
	member map[string][2]int64 // key -> (points, vouchers)
	shop   map[string]shopRow
	item   map[string]int64
	// household is member's for household vouchers.
	household map[string][2]int64
}

func newRedeemRows() redeemRows {
	return redeemRows{member: map[string][2]int64{}, shop: map[string]shopRow{}, item: map[string]int64{}, household: map[string][2]int64{}}
}

func yyyymm(id uuid.UUID, m ledger.Month) []byte {
	return binary.BigEndian.AppendUint32(bytes.Clone(id[:]), uint32(m))
}

// add counts voucher v, redeemed (sign 1) or its redemption reversed (sign
// -1) by entry seq in month m.
func (r redeemRows) add(v ledger.Voucher, m ledger.Month, sign int64, seq uint64) {
	owner, rows := v.MemberID, r.member
	if v.HouseholdID != uuid.Nil {
		owner, rows = v.HouseholdID, r.household
	}
	mk := string(yyyymm(owner, m))
	mr := rows[mk]
	rows[mk] = [2]int64{mr[0] + sign*v.Points, mr[1] + sign}
	sk := string(yyyymm(v.ShopID, m))
	sr := r.shop[sk]
	for _, l := range v.Lines {
		sr.items += sign * int64(l.Qty)
		r.item[sk+string(l.ItemID[:])] += sign * int64(l.Qty)
	}
	sr.vouchers += sign
	if sign < 0 {
		sr.reversals++
	}
	sr.last = max(sr.last, seq)
	r.shop[sk] = sr
}

// addRedeemed adds voucher v, redeemed by entry e (or its redemption
// reversed by e, a reverse entry), to the monthly rows.
func (s *Store) addRedeemed(tx *bolt.Tx, v ledger.Voucher, e ledger.Entry) error {
	r := newRedeemRows()
	sign := int64(1)
	if e.Kind == ledger.KindReverse {
		sign = -1
	}
	r.add(v, ledger.MonthOf(e.Time, s.loc), sign, e.Seq)
	return r.store(tx)
}

// store adds the rows to the buckets.
func (r redeemRows) store(tx *bolt.Tx) error {
	mb, sb, ib := tx.Bucket(bucketMemberRedeemed), tx.Bucket(bucketShopMonth), tx.Bucket(bucketShopItemMonth)
	for _, owner := range []struct {
		b    *bolt.Bucket
		rows map[string][2]int64
	}{{mb, r.member}, {tx.Bucket(bucketHouseholdRedeemed), r.household}} {
		for k, d := range owner.rows {
			p, n, err := decodeMemberRow(owner.b.Get([]byte(k)))
			if err != nil {
				return err
			}
			if err := owner.b.Put([]byte(k), encodeMemberRow(p+d[0], n+d[1])); err != nil {
				return err
			}
		}
	}
	for k, d := range r.shop {
		row, err := decodeShopRow(sb.Get([]byte(k)))
		if err != nil {
			return err
		}
		row.vouchers, row.items, row.reversals, row.last = row.vouchers+d.vouchers, row.items+d.items, row.reversals+d.reversals, max(row.last, d.last)
		if err := sb.Put([]byte(k), row.encode()); err != nil {
			return err
		}
	}
	for k, d := range r.item {
		q, err := decodeItemRow(ib.Get([]byte(k)))
		if err != nil {
			return err
		}
		if err := ib.Put([]byte(k), binary.AppendVarint(nil, q+d)); err != nil {
			return err
		}
	}
	return nil
}

var errBadRedeemRow = errors.New("malformed monthly redemption row")

// readVarints reads exactly the numbers of v: signed ones, then unsigned.
func readVarints(v []byte, signed, unsigned int) ([]int64, []uint64, error) {
	s := make([]int64, signed)
	u := make([]uint64, unsigned)
	for i := range s {
		n, w := binary.Varint(v)
		if w <= 0 {
			return nil, nil, errBadRedeemRow
		}
		s[i], v = n, v[w:]
	}
	for i := range u {
		n, w := binary.Uvarint(v)
		if w <= 0 {
			return nil, nil, errBadRedeemRow
		}
		u[i], v = n, v[w:]
	}
	if len(v) != 0 {
		return nil, nil, errBadRedeemRow
	}
	return s, u, nil
}

func encodeMemberRow(points, vouchers int64) []byte {
	return binary.AppendVarint(binary.AppendVarint(nil, points), vouchers)
}

// decodeMemberRow decodes a memberredeemed value; a missing row is zero.
func decodeMemberRow(v []byte) (points, vouchers int64, err error) {
	if v == nil {
		return 0, 0, nil
	}
	s, _, err := readVarints(v, 2, 0)
	if err != nil {
		return 0, 0, err
	}
	return s[0], s[1], nil
}

func (r shopRow) encode() []byte {
	b := binary.AppendVarint(binary.AppendVarint(nil, r.vouchers), r.items)
	return binary.AppendUvarint(binary.AppendUvarint(b, uint64(r.reversals)), r.last)
}

// decodeShopRow decodes a shopmonth value; a missing row is zero.
func decodeShopRow(v []byte) (shopRow, error) {
	if v == nil {
		return shopRow{}, nil
	}
	s, u, err := readVarints(v, 2, 2)
	if err != nil {
		return shopRow{}, err
	}
	return shopRow{vouchers: s[0], items: s[1], reversals: int64(u[0]), last: u[1]}, nil
}

// decodeItemRow decodes a shopitemmonth value; a missing row is zero.
func decodeItemRow(v []byte) (int64, error) {
	if v == nil {
		return 0, nil
	}
	s, _, err := readVarints(v, 1, 0)
	if err != nil {
		return 0, err
	}
	return s[0], nil
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

// redemptionOfEntry says what entry e does to the redemption rows: for a
// redeem entry naming a voucher, the voucher and +1; for the reverse of
// such an entry, the voucher and -1; else ok is false.
func redemptionOfEntry(tx *bolt.Tx, e *ledger.Entry) (v ledger.Voucher, sign int64, ok bool, err error) {
	target, sign := e, int64(1)
	if e.Kind == ledger.KindReverse {
		orig, err := readStored(tx, e.Reverses)
		if err != nil {
			return v, 0, false, err
		}
		target, sign = &orig.Entry, -1
	}
	v, ok, err = voucherOfEntry(tx, target)
	return v, sign, ok, err
}

// rebuildRedeemed recomputes the monthly redemption rows from the journal
// (migrations 5 and 11).
func (s *Store) rebuildRedeemed(tx *bolt.Tx) (redeemRows, error) {
	r := newRedeemRows()
	c := tx.Bucket(bucketJournal).Cursor()
	for k, val := c.First(); k != nil; k, val = c.Next() {
		se, err := decodeStored(val)
		if err != nil {
			return r, err
		}
		v, sign, ok, err := redemptionOfEntry(tx, &se.Entry)
		if err != nil {
			return r, err
		}
		if ok {
			r.add(v, ledger.MonthOf(se.Time, s.loc), sign, se.Seq)
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
		members[k] = encodeMemberRow(d[0], d[1])
	}
	households := map[string][]byte{}
	for k, d := range r.household {
		households[k] = encodeMemberRow(d[0], d[1])
	}
	shops := map[string][]byte{}
	for k, d := range r.shop {
		shops[k] = d.encode()
	}
	items := map[string][]byte{}
	for k, d := range r.item {
		items[k] = binary.AppendVarint(nil, d)
	}
	for _, c := range []struct {
		b    *bolt.Bucket
		want map[string][]byte
		name string
	}{{tx.Bucket(bucketMemberRedeemed), members, "members' monthly redemptions"},
		{tx.Bucket(bucketHouseholdRedeemed), households, "households' monthly redemptions"},
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
				p, n, err := decodeMemberRow(rv)
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
		if rep.AllMembers {
			// Households' vouchers are in the escrow and the shops too.
			hms, bad, err := s.householdMonths(ctx, tx, m, ledger.Scope{All: true})
			if err != nil {
				return err
			}
			rep.Households, rep.Unbalanced = hms, append(rep.Unbalanced, bad...)
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
			row, err := decodeShopRow(sb.Get(key))
			if err != nil {
				return err
			}
			sm.Vouchers, sm.Items, sm.Reversed = int(row.vouchers), int(row.items), int(row.reversals)
			if v := accounts.Get(monthKey(m, ledger.ShopAccount(id))); v != nil {
				mt, err := decodeMonthRow(m, ledger.ShopAccount(id), v)
				if err != nil {
					return err
				}
				sm.Points = shopRedeemed(mt)
			}
			for k, v := ic.Seek(key); k != nil && bytes.HasPrefix(k, key); k, v = ic.Next() {
				q, err := decodeItemRow(v)
				if err != nil {
					return err
				}
				if q != 0 {
					sm.ByItem[uuid.UUID(k[20:])] = int(q)
				}
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
				rep.ShopPoints += shopRedeemed(mt)
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

// shopRedeemed is what a shop account's month took in redemptions less what
// the reversals of redemptions took back (the only entries a shop account
// has: redeem entries credit it, their reverses debit it).
func shopRedeemed(mt ledger.MonthTotals) ledger.Points {
	return mt.In[ledger.KindRedeem] - mt.Out[ledger.KindRedeem] - mt.Out[ledger.KindReverse] + mt.In[ledger.KindReverse]
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

// MonthSums implements ledger.Reports: per account, a seek to its first
// month's row and the rows up to the last month, and the same in its
// monthly redemptions (a member's, or a household's).
func (s *Store) MonthSums(ctx context.Context, first, last ledger.Month, accounts []ledger.Account) ([]ledger.MonthSum, error) {
	for _, a := range accounts {
		if !a.Spendable() {
			return nil, ledger.Errorf(ledger.EINVALID, "account.invalid", a.String())
		}
	}
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
		rows := tx.Bucket(bucketAccounts)
		if accounts == nil {
			c := rows.Cursor()
			for _, kind := range []ledger.AccountKind{ledger.AccountMember, ledger.AccountHousehold} {
				for k, _ := c.Seek([]byte{byte(kind)}); k != nil && k[0] == byte(kind); k, _ = c.Next() {
					if len(k) == ledger.AccountKeySize {
						accounts = append(accounts, ledger.Account{Kind: kind, ID: uuid.UUID(k[1:])})
					}
				}
			}
		}
		ac := rows.Cursor()
		redeemed := map[ledger.AccountKind]*bolt.Cursor{
			ledger.AccountMember:    tx.Bucket(bucketMemberRedeemed).Cursor(),
			ledger.AccountHousehold: tx.Bucket(bucketHouseholdRedeemed).Cursor(),
		}
		for n, a := range accounts {
			if err := unhurried(ctx, n); err != nil {
				return err
			}
			id, rc := a.ID, redeemed[a.Kind]
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
				p, _, err := decodeMemberRow(rv)
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
