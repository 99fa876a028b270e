package postgres

import (
	"context"
	"fmt"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The monthly reports read in one repeatable-read snapshot, so that every
// figure of a report is of one moment while writers go on; each kind of
// row is read for all the report's accounts in one query.

// readSnapshot runs fn in a read-only repeatable-read transaction.
func (s *Store) readSnapshot(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return unavailable(err)
	}
	defer tx.Rollback(context.Background())
	if err := fn(tx); err != nil {
		if _, refused := ledger.AsError(err); refused {
			return err
		}
		return unavailable(err)
	}
	return nil
}

// ownerFigures are what MemberMonthOf needs of one member or household
// account, and the sums that check its balance and held points.
type ownerFigures struct {
	balance, held ledger.Points
	rows          []ledger.MonthTotals // from the report's month on
	redeemed      []ledger.Redeemed    // from the report's month on
	net, heldNet  ledger.Points        // over all months
	balanceFound  bool
}

// readOwners reads, for accounts, their balance, held points, every month
// row and every redemption row (four queries).
func readOwners(ctx context.Context, tx pgx.Tx, accounts []ledger.Account, m ledger.Month) (map[[ledger.AccountKeySize]byte]*ownerFigures, error) {
	keys := make([][]byte, len(accounts))
	out := make(map[[ledger.AccountKeySize]byte]*ownerFigures, len(accounts))
	byKey := make(map[[ledger.AccountKeySize]byte]ledger.Account, len(accounts))
	for i, a := range accounts {
		k := a.Key()
		keys[i] = k[:]
		out[k], byKey[k] = &ownerFigures{}, a
	}
	each := func(sql string, fn func(pgx.Rows, *ownerFigures, ledger.Account) error) error {
		rows, err := tx.Query(ctx, sql, keys)
		if err != nil {
			return err
		}
		defer rows.Close()
		for i := 0; rows.Next(); i++ {
			if i%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			var k []byte
			vals := rows.RawValues()
			k = append(k, vals[0]...)
			if len(k) != ledger.AccountKeySize {
				return fmt.Errorf("a row of account %x is damaged", k)
			}
			f := out[[ledger.AccountKeySize]byte(k)]
			if f == nil {
				continue
			}
			if err := fn(rows, f, byKey[[ledger.AccountKeySize]byte(k)]); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	err := each(`SELECT account, balance FROM accounts WHERE account = ANY($1)`, func(r pgx.Rows, f *ownerFigures, _ ledger.Account) error {
		var k []byte
		f.balanceFound = true
		return r.Scan(&k, &f.balance)
	})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT account, points FROM held WHERE account = ANY($1)`, func(r pgx.Rows, f *ownerFigures, _ ledger.Account) error {
		var k []byte
		return r.Scan(&k, &f.held)
	})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT account, month, ins, outs, minutes, wish, entries FROM account_months WHERE account = ANY($1) ORDER BY account, month`,
		func(r pgx.Rows, f *ownerFigures, a ledger.Account) error {
			var k []byte
			var month int32
			var ins, outs []int64
			var n int64
			t := ledger.MonthTotals{Account: a}
			if err := r.Scan(&k, &month, &ins, &outs, &t.Minutes, &t.Wish, &n); err != nil {
				return err
			}
			t.Month, t.Entries = ledger.Month(month), uint64(n)
			copy(t.In[:], ins)
			copy(t.Out[:], outs)
			f.net += t.Net()
			f.heldNet += t.Out[ledger.KindHold] - t.In[ledger.KindRelease]
			if t.Month >= m {
				f.rows = append(f.rows, t)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT account, month, points, vouchers FROM redeemed_months WHERE account = ANY($1) ORDER BY account, month`,
		func(r pgx.Rows, f *ownerFigures, _ ledger.Account) error {
			var k []byte
			var month int32
			var p ledger.Points
			var n int64
			if err := r.Scan(&k, &month, &p, &n); err != nil {
				return err
			}
			f.heldNet -= p
			if ledger.Month(month) >= m {
				f.redeemed = append(f.redeemed, ledger.Redeemed{Month: ledger.Month(month), Points: p, Vouchers: int(n)})
			}
			return nil
		})
	return out, err
}

// month works out the owner's month and whether its rows now disagree
// with its balance or held points.
func (f *ownerFigures) month(id uuid.UUID, m ledger.Month) (ledger.MemberMonth, bool) {
	return ledger.MemberMonthOf(id, m, f.balance, f.held, f.rows, f.redeemed), f.net != f.balance || f.heldNet != f.held
}

// accountsOfKind lists every open account of a kind.
func accountsOfKind(ctx context.Context, tx pgx.Tx, kind ledger.AccountKind) ([]ledger.Account, error) {
	rows, err := tx.Query(ctx, `SELECT account FROM accounts WHERE get_byte(account, 0) = $1 ORDER BY account`, int(kind))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.Account
	for rows.Next() {
		var k []byte
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		a, err := ledger.AccountFromKey(k)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// MonthReport implements ledger.Reports.
func (s *Store) MonthReport(ctx context.Context, m ledger.Month, members, shops []uuid.UUID) (ledger.MonthReport, error) {
	rep := ledger.MonthReport{Month: m, AllMembers: members == nil}
	err := s.readSnapshot(ctx, func(tx pgx.Tx) error {
		var accounts []ledger.Account
		if members == nil {
			var err error
			if accounts, err = accountsOfKind(ctx, tx, ledger.AccountMember); err != nil {
				return err
			}
			for _, a := range accounts {
				members = append(members, a.ID)
			}
		} else {
			for _, id := range members {
				accounts = append(accounts, ledger.MemberAccount(id))
			}
		}
		figures, err := readOwners(ctx, tx, accounts, m)
		if err != nil {
			return err
		}
		rep.Members = make([]ledger.MemberMonth, 0, len(members))
		for _, id := range members {
			mm, bad := figures[ledger.MemberAccount(id).Key()].month(id, m)
			if bad {
				rep.Unbalanced = append(rep.Unbalanced, id)
			}
			rep.Members = append(rep.Members, mm)
		}
		if rep.AllMembers {
			hms, bad, err := s.householdMonths(ctx, tx, m, ledger.Scope{All: true})
			if err != nil {
				return err
			}
			rep.Households, rep.Unbalanced = hms, append(rep.Unbalanced, bad...)
		}
		if shops == nil {
			if err := scanAll(ctx, tx, `SELECT id FROM shops ORDER BY id`, nil, func(r pgx.Rows) error {
				var id uuid.UUID
				err := r.Scan(&id)
				shops = append(shops, id)
				return err
			}); err != nil {
				return err
			}
		}
		if err := s.shopMonths(ctx, tx, m, shops, &rep); err != nil {
			return err
		}
		// The escrow at the month's end: its balance now less what later months moved.
		ek := ledger.Escrow.Key()
		var later ledger.Points
		if err := tx.QueryRow(ctx, `SELECT balance FROM accounts WHERE account = $1`, ek[:]).Scan(&rep.EscrowClosing); err != nil {
			return err
		}
		if err := scanAll(ctx, tx, `SELECT ins, outs FROM account_months WHERE account = $1 AND month > $2`, []any{ek[:], int32(m)}, func(r pgx.Rows) error {
			var ins, outs []int64
			if err := r.Scan(&ins, &outs); err != nil {
				return err
			}
			for i := range ins {
				later += ins[i]
			}
			for i := range outs {
				later -= outs[i]
			}
			return nil
		}); err != nil {
			return err
		}
		rep.EscrowClosing -= later
		var head int64
		var hash []byte
		if err := tx.QueryRow(ctx, `SELECT seq, hash FROM chain_head WHERE id = 1`).Scan(&head, &hash); err != nil {
			return err
		}
		rep.HeadSeq = uint64(head)
		copy(rep.HeadHash[:], hash)
		rep.MonthEndSeq, rep.MonthEndHash, err = s.lastEntryBy(ctx, tx, rep.HeadSeq, m)
		return err
	})
	return rep, err
}

// shopMonths fills the report's shops' months, and what every shop account
// received in the month (ShopPoints).
func (s *Store) shopMonths(ctx context.Context, tx pgx.Tx, m ledger.Month, shops []uuid.UUID, rep *ledger.MonthReport) error {
	byShop := map[uuid.UUID]*ledger.ShopMonth{}
	for _, id := range shops {
		byShop[id] = &ledger.ShopMonth{ShopID: id, ByItem: map[uuid.UUID]int{}}
	}
	if err := scanAll(ctx, tx, `SELECT shop, vouchers, items, reversals FROM shop_months WHERE month = $1 AND shop = ANY($2)`,
		[]any{int32(m), shops}, func(r pgx.Rows) error {
			var id uuid.UUID
			var v, i, rv int64
			if err := r.Scan(&id, &v, &i, &rv); err != nil {
				return err
			}
			sm := byShop[id]
			sm.Vouchers, sm.Items, sm.Reversed = int(v), int(i), int(rv)
			return nil
		}); err != nil {
		return err
	}
	if err := scanAll(ctx, tx, `SELECT shop, item, qty FROM shop_item_months WHERE month = $1 AND shop = ANY($2) AND qty <> 0`,
		[]any{int32(m), shops}, func(r pgx.Rows) error {
			var shop, item uuid.UUID
			var q int64
			if err := r.Scan(&shop, &item, &q); err != nil {
				return err
			}
			byShop[shop].ByItem[item] = int(q)
			return nil
		}); err != nil {
		return err
	}
	// Every shop account's month row: a shop asked for takes its own, and
	// all of them add up to ShopPoints.
	if err := scanAll(ctx, tx, `SELECT account, ins, outs FROM account_months WHERE month = $1 AND get_byte(account, 0) = $2`,
		[]any{int32(m), int(ledger.AccountShop)}, func(r pgx.Rows) error {
			var k []byte
			var ins, outs []int64
			if err := r.Scan(&k, &ins, &outs); err != nil {
				return err
			}
			a, err := ledger.AccountFromKey(k)
			if err != nil {
				return err
			}
			var mt ledger.MonthTotals
			copy(mt.In[:], ins)
			copy(mt.Out[:], outs)
			p := mt.In[ledger.KindRedeem] - mt.Out[ledger.KindRedeem] - mt.Out[ledger.KindReverse] + mt.In[ledger.KindReverse]
			rep.ShopPoints += p
			if sm := byShop[a.ID]; sm != nil {
				sm.Points = p
			}
			return nil
		}); err != nil {
		return err
	}
	for _, id := range shops {
		rep.Shops = append(rep.Shops, *byShop[id])
	}
	return nil
}

// scanAll runs a query in tx and calls fn for each row.
func scanAll(ctx context.Context, tx pgx.Tx, sql string, args []any, fn func(pgx.Rows) error) error {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// lastEntryBy finds the last entry dated in month m or before, by binary
// search over the journal (entry times never go down).
func (s *Store) lastEntryBy(ctx context.Context, tx pgx.Tx, head uint64, m ledger.Month) (uint64, ledger.Hash, error) {
	read := func(seq uint64) (ledger.Entry, error) {
		var canon, hash []byte
		if err := tx.QueryRow(ctx, `SELECT canonical, hash FROM journal WHERE seq = $1`, int64(seq)).Scan(&canon, &hash); err != nil {
			return ledger.Entry{}, err
		}
		e, err := ledger.DecodeCanonical(canon)
		copy(e.Hash[:], hash)
		return e, err
	}
	lo, hi := uint64(1), head+1 // the answer is the last seq in [lo, hi) with month <= m, or 0
	for lo < hi {
		mid := lo + (hi-lo)/2
		e, err := read(mid)
		if err != nil {
			return 0, ledger.Hash{}, err
		}
		if ledger.MonthOf(e.Time, s.loc) <= m {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 1 {
		return 0, ledger.Hash{}, nil
	}
	e, err := read(lo - 1)
	return lo - 1, e.Hash, err
}

// householdMonths reads month m of every household in scope made by the
// end of m (one made later has nothing in m).
func (s *Store) householdMonths(ctx context.Context, tx pgx.Tx, m ledger.Month, scope ledger.Scope) ([]ledger.HouseholdMonth, []uuid.UUID, error) {
	var all []ledger.Household
	if err := scanAll(ctx, tx, `SELECT doc FROM households ORDER BY id`, nil, func(r pgx.Rows) error {
		var doc string
		if err := r.Scan(&doc); err != nil {
			return err
		}
		var h ledger.Household
		err := jsonUnmarshal(doc, &h)
		all = append(all, h)
		return err
	}); err != nil {
		return nil, nil, err
	}
	units := map[uuid.UUID]ledger.Unit{}
	if !scope.All {
		if err := scanAll(ctx, tx, `SELECT doc FROM units`, nil, func(r pgx.Rows) error {
			var doc string
			if err := r.Scan(&doc); err != nil {
				return err
			}
			var u ledger.Unit
			err := jsonUnmarshal(doc, &u)
			units[u.ID] = u
			return err
		}); err != nil {
			return nil, nil, err
		}
	}
	var hs []ledger.Household
	var accounts []ledger.Account
	for _, h := range all {
		if ledger.MonthOf(h.CreatedAt, s.loc) > m {
			continue
		}
		if u, ok := units[h.UnitID]; !scope.All && (!ok || !scope.Covers(u)) {
			continue
		}
		hs, accounts = append(hs, h), append(accounts, h.Account())
	}
	figures, err := readOwners(ctx, tx, accounts, m)
	if err != nil {
		return nil, nil, err
	}
	out := make([]ledger.HouseholdMonth, 0, len(hs))
	var unbalanced []uuid.UUID
	for _, h := range hs {
		pm, bad := figures[h.Account().Key()].month(h.ID, m)
		if bad {
			unbalanced = append(unbalanced, h.ID)
		}
		out = append(out, ledger.HouseholdMonth{Household: h, Points: pm})
	}
	return out, unbalanced, nil
}

// HouseholdMonths implements ledger.Reports.
func (s *Store) HouseholdMonths(ctx context.Context, m ledger.Month, scope ledger.Scope) ([]ledger.HouseholdMonth, error) {
	out := []ledger.HouseholdMonth{}
	err := s.readSnapshot(ctx, func(tx pgx.Tx) error {
		hms, _, err := s.householdMonths(ctx, tx, m, scope)
		out = append(out, hms...)
		return err
	})
	return out, err
}

// MonthSums implements ledger.Reports: per month from first to last, what
// the accounts (every member's and household's when nil) earned, redeemed
// and served.
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
	if len(months) == 0 {
		return out, nil
	}
	err := s.readSnapshot(ctx, func(tx pgx.Tx) error {
		all := accounts == nil
		keys := make([][]byte, len(accounts))
		for i, a := range accounts {
			k := a.Key()
			keys[i] = k[:]
		}
		filter := `account = ANY($3)`
		args := []any{int32(first), int32(months[len(months)-1]), keys}
		if all {
			filter, args = `get_byte(account, 0) = ANY($3)`, []any{int32(first), int32(months[len(months)-1]),
				[]int32{int32(ledger.AccountMember), int32(ledger.AccountHousehold)}}
		}
		if err := scanAll(ctx, tx, `SELECT month, ins, outs, minutes FROM account_months WHERE month >= $1 AND month <= $2 AND `+filter,
			args, func(r pgx.Rows) error {
				var month int32
				var ins, outs []int64
				var minutes int64
				if err := r.Scan(&month, &ins, &outs, &minutes); err != nil {
					return err
				}
				i, ok := index[ledger.Month(month)]
				if !ok {
					return nil
				}
				var mt ledger.MonthTotals
				copy(mt.In[:], ins)
				copy(mt.Out[:], outs)
				out[i].Earned += mt.In[ledger.KindEarn] + mt.In[ledger.KindAward] + mt.In[ledger.KindReverse] - mt.Out[ledger.KindReverse]
				out[i].Minutes += minutes
				return nil
			}); err != nil {
			return err
		}
		return scanAll(ctx, tx, `SELECT month, points FROM redeemed_months WHERE month >= $1 AND month <= $2 AND `+filter,
			args, func(r pgx.Rows) error {
				var month int32
				var p ledger.Points
				if err := r.Scan(&month, &p); err != nil {
					return err
				}
				if i, ok := index[ledger.Month(month)]; ok {
					out[i].Redeemed += p
				}
				return nil
			})
	})
	return out, err
}
