package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// CreateHousehold implements ledger.Households: the household, its account
// and the points it starts with, in one transaction. Both decisions come
// before the first write; the opening entry is the last.
func (s *Store) CreateHousehold(ctx context.Context, address string, unitID uuid.UUID, opening ledger.Points) (ledger.Household, error) {
	var h ledger.Household
	err := s.update(ctx, func(w *writeTx) error {
		unit, err := getJSON[ledger.Unit](w.tx.Bucket(bucketUnits), unitID, "unit.not_found")
		if err != nil {
			return err
		}
		if h, err = ledger.NewHousehold(newID(), address, unit, s.now()); err != nil {
			return err
		}
		doors := w.tx.Bucket(bucketHouseholdDoors)
		door := doorKey(unit.ID, h.Address)
		if doors.Get(door) != nil {
			return ledger.Errorf(ledger.ECONFLICT, "household.address_taken", h.Address)
		}
		var community uuid.UUID
		if len(unit.Path) > 1 {
			community = unit.Path[1] // street, community, grid, building
		}
		grant, give, err := ledger.HouseholdOpening(h, community, opening)
		if err != nil {
			return err
		}
		// Decided: from here on, only writes.
		if err := doors.Put(door, h.ID[:]); err != nil {
			return err
		}
		accounts := w.tx.Bucket(bucketAccounts)
		k := h.Account().Key()
		if err := accounts.Put(k[:], make([]byte, accountRowSize)); err != nil {
			return err
		}
		if err := putJSON(w.tx.Bucket(bucketHouseholds), h.ID, h); err != nil {
			return err
		}
		if !give {
			return nil
		}
		if ik := grant.Debit.Key(); accounts.Get(ik[:]) == nil {
			if err := accounts.Put(ik[:], make([]byte, accountRowSize)); err != nil {
				return err
			}
		}
		if _, err := s.appendTx(w, grant); err != nil {
			return abortError{fmt.Sprintf("the opening points of household %s: %v", h.ID, err), err}
		}
		return nil
	})
	return h, err
}

// doorKey is the key of the householddoors index: the unit, then the
// address as ledger.DoorKey compares it.
func doorKey(unit uuid.UUID, address string) []byte {
	return append(bytes.Clone(unit[:]), ledger.DoorKey(address)...)
}

// rebuildHouseholdDoors fills the index of households by door (migration
// 19): the first household made at a door keeps it.
func rebuildHouseholdDoors(tx *bolt.Tx, _ *Store) error {
	doors, err := tx.CreateBucketIfNotExists(bucketHouseholdDoors)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketHouseholds).ForEach(func(k, v []byte) error {
		var h ledger.Household
		if err := json.Unmarshal(v, &h); err != nil {
			return fmt.Errorf("household %x: %w", k, err)
		}
		if door := doorKey(h.UnitID, h.Address); doors.Get(door) == nil {
			return doors.Put(door, h.ID[:])
		}
		return nil
	})
}

// SetHouseholdMembers implements ledger.Households: it reads the household,
// the unit of each member named and the household each belongs to now,
// lets ledger.ChangeHouseholdMembers decide, and writes the household and
// the members' index as decided.
func (s *Store) SetHouseholdMembers(ctx context.Context, id uuid.UUID, ch ledger.HouseholdChange) (ledger.Household, error) {
	if len(ch.Members) > ledger.MaxHouseholdMembers {
		return ledger.Household{}, ledger.Errorf(ledger.EINVALID, "household.too_many", ledger.MaxHouseholdMembers)
	}
	var out ledger.Household
	err := s.update(ctx, func(w *writeTx) error {
		tx := w.tx
		h, err := getJSON[ledger.Household](tx.Bucket(bucketHouseholds), id, "household.not_found")
		if err != nil {
			return err
		}
		unit, err := getJSON[ledger.Unit](tx.Bucket(bucketUnits), h.UnitID, "unit.not_found")
		if err != nil {
			return err
		}
		f := ledger.HouseholdFacts{Units: map[uuid.UUID]ledger.Unit{}, Households: map[uuid.UUID]uuid.UUID{}}
		if len(unit.Path) > 1 {
			f.Community = unit.Path[1] // street, community, grid, building
		}
		index := tx.Bucket(bucketMemberHousehold)
		for _, m := range ch.Members {
			mem, err := getJSON[ledger.Member](tx.Bucket(bucketMembers), m.MemberID, "member.not_found")
			if ledger.ErrorCode(err) == ledger.ENOTFOUND {
				continue // the decision says so
			}
			if err != nil {
				return err
			}
			if f.Units[m.MemberID], err = getJSON[ledger.Unit](tx.Bucket(bucketUnits), mem.UnitID, "unit.not_found"); err != nil {
				return err
			}
			if v := index.Get(m.MemberID[:]); len(v) == 16 {
				f.Households[m.MemberID] = uuid.UUID(v)
			}
		}
		if out, err = ledger.ChangeHouseholdMembers(h, ch, f, s.now()); err != nil {
			return err
		}
		for _, m := range h.Members {
			if !out.Has(m.MemberID) {
				if err := index.Delete(m.MemberID[:]); err != nil {
					return err
				}
			}
		}
		for _, m := range out.Members {
			if err := index.Put(m.MemberID[:], out.ID[:]); err != nil {
				return err
			}
		}
		if err := putJSON(tx.Bucket(bucketHouseholds), out.ID, out); err != nil {
			return err
		}
		// The open vouchers paid from the household by someone who may spend
		// it no more (who left, or is now a minor) go back: the points to
		// the household, the goods to the shelf.
		var vouchers []uuid.UUID
		c := tx.Bucket(bucketHouseholdVouchers).Cursor()
		for k, _ := c.Seek(out.ID[:]); k != nil && bytes.HasPrefix(k, out.ID[:]); k, _ = c.Next() {
			vouchers = append(vouchers, uuid.UUID(k[16:]))
		}
		for _, id := range vouchers {
			v, err := getVoucher(tx, id)
			if err != nil {
				return abortError{fmt.Sprintf("household %s: voucher %s: %v", out.ID, id, err), err}
			}
			if _, _, err := s.release(w, ledger.ReleaseState{Voucher: v, Cause: ledger.ReleaseHousehold, Household: out}); err != nil {
				return abortError{fmt.Sprintf("household %s: releasing voucher %s: %v", out.ID, id, err), err}
			}
		}
		return nil
	})
	return out, err
}

// Household implements ledger.Households.
func (s *Store) Household(ctx context.Context, id uuid.UUID) (ledger.Household, error) {
	return viewJSON[ledger.Household](s, bucketHouseholds, id, "household.not_found")
}

// MemberHousehold implements ledger.Households.
func (s *Store) MemberHousehold(ctx context.Context, memberID uuid.UUID) (ledger.Household, error) {
	var h ledger.Household
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		h, err = memberHousehold(tx, memberID)
		return err
	})
	return h, err
}

// memberHousehold reads the household member belongs to; ENOTFOUND
// ("household.none") when none.
func memberHousehold(tx *bolt.Tx, member uuid.UUID) (ledger.Household, error) {
	v := tx.Bucket(bucketMemberHousehold).Get(member[:])
	if len(v) != 16 {
		return ledger.Household{}, ledger.Errorf(ledger.ENOTFOUND, "household.none")
	}
	return getJSON[ledger.Household](tx.Bucket(bucketHouseholds), uuid.UUID(v), "household.not_found")
}

// Households implements ledger.Households. It reads every household and
// the units once: a street has thousands, not millions.
func (s *Store) Households(ctx context.Context, scope ledger.Scope) ([]ledger.Household, error) {
	out := []ledger.Household{}
	err := s.db.View(func(tx *bolt.Tx) error {
		units := tx.Bucket(bucketUnits)
		i := 0
		return tx.Bucket(bucketHouseholds).ForEach(func(k, v []byte) error {
			i++
			if err := unhurried(ctx, i); err != nil {
				return err
			}
			var h ledger.Household
			if err := json.Unmarshal(v, &h); err != nil {
				return fmt.Errorf("household %x: %w", k, err)
			}
			if !scope.All {
				u, err := getJSON[ledger.Unit](units, h.UnitID, "unit.not_found")
				if err != nil || !scope.Covers(u) {
					return nil
				}
			}
			out = append(out, h)
			return nil
		})
	})
	return out, err
}
