package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// The points of households: their held points and vouchers, the shops'
// setting that takes them, and their months for the exports and the notice.
// A household voucher is issued by issueVoucher (shop.go); the rows it
// leaves are householdheld, householdvouchers and householdredeemed.

// HouseholdHeld implements ledger.Households.
func (s *Store) HouseholdHeld(ctx context.Context, id uuid.UUID) (ledger.Points, error) {
	var n ledger.Points
	err := s.db.View(func(tx *bolt.Tx) error {
		n = getCount(tx.Bucket(bucketHouseholdHeld), id[:])
		return nil
	})
	return n, err
}

// HouseholdVouchers implements ledger.Households: newest first.
func (s *Store) HouseholdVouchers(ctx context.Context, id uuid.UUID) ([]ledger.Voucher, error) {
	out := []ledger.Voucher{}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketHouseholdVouchers).Cursor()
		for k, _ := c.Seek(id[:]); k != nil && bytes.HasPrefix(k, id[:]); k, _ = c.Next() {
			v, err := getVoucher(tx, uuid.UUID(k[16:]))
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	slices.Reverse(out) // voucher ids are UUIDv7: the index is in the order they were made
	return out, err
}

// SetShopHouseholds implements ledger.Households.
func (s *Store) SetShopHouseholds(ctx context.Context, shopID uuid.UUID, accepts bool) (ledger.Shop, error) {
	var sh ledger.Shop
	err := s.update(ctx, func(w *writeTx) error {
		var err error
		if sh, err = getJSON[ledger.Shop](w.tx.Bucket(bucketShops), shopID, "shop.not_found"); err != nil {
			return err
		}
		sh.Households = accepts
		return putJSON(w.tx.Bucket(bucketShops), sh.ID, sh)
	})
	return sh, err
}

// householdMonth works out household h's month m as MonthReport does a
// member's: from the household account's balance, its monthly rows and its
// monthly redemptions, and the points its open vouchers hold. unbalanced
// says the balance or the held points now differ from the sums of all the
// rows (never, when the store is sound).
func householdMonth(tx *bolt.Tx, h ledger.Household, m ledger.Month) (hm ledger.HouseholdMonth, unbalanced bool, err error) {
	a := h.Account()
	k := a.Key()
	accounts := tx.Bucket(bucketAccounts)
	var avail ledger.Points
	if v := accounts.Get(k[:]); v != nil {
		row, err := decodeAccountRow(v)
		if err != nil {
			return hm, false, err
		}
		avail = row.balance
	}
	var rows []ledger.MonthTotals
	var net, heldNet ledger.Points
	ac := accounts.Cursor()
	from := monthKey(0, a)
	for mk, mv := ac.Seek(from); mk != nil && bytes.HasPrefix(mk, k[:]) && len(mk) == len(from); mk, mv = ac.Next() {
		mt, err := decodeMonthRow(ledger.Month(binary.BigEndian.Uint32(mk[ledger.AccountKeySize:])), a, mv)
		if err != nil {
			return hm, false, err
		}
		net += mt.Net()
		heldNet += mt.Out[ledger.KindHold] - mt.In[ledger.KindRelease]
		if mt.Month >= m {
			rows = append(rows, mt)
		}
	}
	var redeemed []ledger.Redeemed
	rc := tx.Bucket(bucketHouseholdRedeemed).Cursor()
	for rk, rv := rc.Seek(h.ID[:]); rk != nil && bytes.HasPrefix(rk, h.ID[:]); rk, rv = rc.Next() {
		p, n, err := decodeMemberRow(rv)
		if err != nil {
			return hm, false, err
		}
		heldNet -= p
		if month := ledger.Month(binary.BigEndian.Uint32(rk[16:])); month >= m {
			redeemed = append(redeemed, ledger.Redeemed{Month: month, Points: p, Vouchers: int(n)})
		}
	}
	heldNow := getCount(tx.Bucket(bucketHouseholdHeld), h.ID[:])
	hm = ledger.HouseholdMonth{Household: h, Points: ledger.MemberMonthOf(h.ID, m, avail, heldNow, rows, redeemed)}
	return hm, net != avail || heldNet != heldNow, nil
}

// householdMonths reads month m of every household whose unit scope covers
// that was made by the end of m (one made later has nothing in m).
func (s *Store) householdMonths(ctx context.Context, tx *bolt.Tx, m ledger.Month, scope ledger.Scope) (out []ledger.HouseholdMonth, unbalanced []uuid.UUID, err error) {
	units := tx.Bucket(bucketUnits)
	i := 0
	err = tx.Bucket(bucketHouseholds).ForEach(func(k, v []byte) error {
		i++
		if err := unhurried(ctx, i); err != nil {
			return err
		}
		var h ledger.Household
		if err := json.Unmarshal(v, &h); err != nil {
			return fmt.Errorf("household %x: %w", k, err)
		}
		if ledger.MonthOf(h.CreatedAt, s.loc) > m {
			return nil
		}
		if !scope.All {
			u, err := getJSON[ledger.Unit](units, h.UnitID, "unit.not_found")
			if err != nil || !scope.Covers(u) {
				return nil
			}
		}
		hm, bad, err := householdMonth(tx, h, m)
		if err != nil {
			return err
		}
		if bad {
			unbalanced = append(unbalanced, h.ID)
		}
		out = append(out, hm)
		return nil
	})
	return out, unbalanced, err
}

// HouseholdMonths implements ledger.Reports.
func (s *Store) HouseholdMonths(ctx context.Context, m ledger.Month, scope ledger.Scope) ([]ledger.HouseholdMonth, error) {
	out := []ledger.HouseholdMonth{}
	err := s.db.View(func(tx *bolt.Tx) error {
		hms, _, err := s.householdMonths(ctx, tx, m, scope)
		out = append(out, hms...)
		return err
	})
	return out, err
}
