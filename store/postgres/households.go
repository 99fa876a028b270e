package postgres

import (
	"context"
	"errors"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// CreateHousehold implements ledger.Households: the household, its account
// and the points it starts with, in one transaction. Both decisions come
// before the first write.
func (s *Store) CreateHousehold(ctx context.Context, address string, unitID uuid.UUID, opening ledger.Points) (ledger.Household, error) {
	var h ledger.Household
	err := s.update(ctx, func(w *wtx) error {
		unit, err := w.readUnit(unitID, false)
		if err != nil {
			return err
		}
		if h, err = ledger.NewHousehold(uuid.Must(uuid.NewV7()), address, unit, s.now()); err != nil {
			return err
		}
		door := ledger.DoorKey(h.Address)
		var one int
		if found, err := w.QueryRow(`SELECT 1 FROM households WHERE unit = $1 AND door = $2`, []any{unit.ID, door}, &one); err != nil || found {
			if err == nil {
				err = ledger.Errorf(ledger.ECONFLICT, "household.address_taken", h.Address)
			}
			return err
		}
		var community uuid.UUID
		if len(unit.Path) > 1 {
			community = unit.Path[1] // street, community, grid, building
		}
		grant, give, err := ledger.HouseholdOpening(h, community, opening)
		if err != nil {
			return err
		}
		doc, err := jsonDoc(h)
		if err != nil {
			return err
		}
		// Decided: from here on, only writes.
		if err := w.OpenAccount(h.Account()); err != nil {
			return err
		}
		w.Exec(`INSERT INTO households (id, unit, door, doc) VALUES ($1, $2, $3, $4)`, h.ID, h.UnitID, door, doc)
		if !give {
			return nil
		}
		if err := w.OpenAccount(grant.Debit); err != nil {
			return err
		}
		_, err = w.Append(grant)
		return err
	})
	return h, err
}

// Household implements ledger.Households.
func (s *Store) Household(ctx context.Context, id uuid.UUID) (ledger.Household, error) {
	return viewDoc[ledger.Household](ctx, s, "households", id, "household.not_found")
}

// MemberHousehold implements ledger.Households.
func (s *Store) MemberHousehold(ctx context.Context, memberID uuid.UUID) (ledger.Household, error) {
	var id uuid.UUID
	err := s.pool.QueryRow(ctx, `SELECT household FROM member_households WHERE member = $1`, memberID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return ledger.Household{}, ledger.Errorf(ledger.ENOTFOUND, "household.none")
	}
	if err != nil {
		return ledger.Household{}, unavailable(err)
	}
	return s.Household(ctx, id)
}

// Households implements ledger.Households: every household in scope.
func (s *Store) Households(ctx context.Context, scope ledger.Scope) ([]ledger.Household, error) {
	all, err := listDocs[ledger.Household](ctx, s, "households")
	if err != nil {
		return nil, err
	}
	out := []ledger.Household{}
	units, err := s.unitsByID(ctx)
	if err != nil {
		return nil, err
	}
	for _, h := range all {
		if u, ok := units[h.UnitID]; scope.All || (ok && scope.Covers(u)) {
			out = append(out, h)
		}
	}
	return out, nil
}

// unitsByID reads the whole unit tree once.
func (s *Store) unitsByID(ctx context.Context) (map[uuid.UUID]ledger.Unit, error) {
	all, err := s.Units(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[uuid.UUID]ledger.Unit, len(all))
	for _, u := range all {
		m[u.ID] = u
	}
	return m, nil
}

// SetHouseholdMembers implements ledger.Households: it reads the household,
// the unit of each member named and the household each belongs to now,
// lets ledger.ChangeHouseholdMembers decide, and writes the household and
// the members' index as decided, then releases the open vouchers paid
// from the household by someone who may spend it no more (who left, or is
// now a minor): the points to the household, the goods to the shelf.
func (s *Store) SetHouseholdMembers(ctx context.Context, id uuid.UUID, ch ledger.HouseholdChange) (ledger.Household, error) {
	if len(ch.Members) > ledger.MaxHouseholdMembers {
		return ledger.Household{}, ledger.Errorf(ledger.EINVALID, "household.too_many", ledger.MaxHouseholdMembers)
	}
	var out ledger.Household
	err := s.update(ctx, func(w *wtx) error {
		h, err := readDoc[ledger.Household](w, "households", id, true, "household.not_found")
		if err != nil {
			return err
		}
		unit, err := w.readUnit(h.UnitID, false)
		if err != nil {
			return err
		}
		f := ledger.HouseholdFacts{Units: map[uuid.UUID]ledger.Unit{}, Households: map[uuid.UUID]uuid.UUID{}}
		if len(unit.Path) > 1 {
			f.Community = unit.Path[1] // street, community, grid, building
		}
		for _, m := range ch.Members {
			mem, err := readDoc[ledger.Member](w, "members", m.MemberID, false, "member.not_found")
			if ledger.ErrorCode(err) == ledger.ENOTFOUND {
				continue // the decision says so
			}
			if err != nil {
				return err
			}
			if f.Units[m.MemberID], err = w.readUnit(mem.UnitID, false); err != nil {
				return err
			}
			var in uuid.UUID
			found, err := w.QueryRow(`SELECT household FROM member_households WHERE member = $1 FOR UPDATE`, []any{m.MemberID}, &in)
			if err != nil {
				return err
			}
			if found {
				f.Households[m.MemberID] = in
			}
		}
		if out, err = ledger.ChangeHouseholdMembers(h, ch, f, s.now()); err != nil {
			return err
		}
		var gone, stay []uuid.UUID
		for _, m := range h.Members {
			if !out.Has(m.MemberID) {
				gone = append(gone, m.MemberID)
			}
		}
		for _, m := range out.Members {
			stay = append(stay, m.MemberID)
		}
		doc, err := jsonDoc(out)
		if err != nil {
			return err
		}
		w.Exec(`DELETE FROM member_households WHERE member = ANY($1)`, gone)
		w.Exec(`INSERT INTO member_households (member, household) SELECT unnest($1::uuid[]), $2
			ON CONFLICT (member) DO UPDATE SET household = EXCLUDED.household`, stay, out.ID)
		w.Exec(`UPDATE households SET doc = $2 WHERE id = $1`, out.ID, doc)
		var open []uuid.UUID
		err = w.Query(func(rows pgx.Rows) error {
			var id uuid.UUID
			err := rows.Scan(&id)
			open = append(open, id)
			return err
		}, `SELECT id FROM vouchers WHERE household = $1 AND expires_at IS NOT NULL ORDER BY id`, out.ID)
		if err != nil {
			return err
		}
		for _, id := range open {
			v, err := w.readVoucher(id)
			if err != nil {
				return err
			}
			if _, _, err := w.release(ledger.ReleaseState{Voucher: v, Cause: ledger.ReleaseHousehold, Household: out}); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}
