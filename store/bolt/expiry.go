package bolt

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"aixin/ledger"
	"aixin/store"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// Points that expire (see ledger/expiry.go for the rule). Two small buckets
// keep the sweep's every-minute look cheap:
//
//	expirypolicy street id(16) -> years(1): the streets that have a policy, as
//	             their units say (written with the unit, in one transaction)
//	expiryruns   street id(16) | year(4) -> JSON ledger.ExpiryRun: the street's
//	             expiry of the points earned up to that year
//
// So a look costs one row per street with a policy and a seek into its runs;
// the work of a year (O(accounts × months after the year)) is done once,
// when a cutoff has passed and the street's year is not done yet.

func expiryRunKey(street uuid.UUID, year int) []byte {
	return binary.BigEndian.AppendUint32(bytes.Clone(street[:]), uint32(year))
}

// SetExpiryPolicy implements ledger.Expiries: the unit and the sweep's index
// of policies, in one transaction.
func (s *Store) SetExpiryPolicy(ctx context.Context, street uuid.UUID, p ledger.ExpiryPatch, by uuid.UUID) (ledger.Unit, error) {
	var u ledger.Unit
	err := s.update(ctx, func(w *writeTx) error {
		current, err := getJSON[ledger.Unit](w.tx.Bucket(bucketUnits), street, "unit.not_found")
		if err != nil {
			return err
		}
		if u, err = current.PatchExpiry(p, by, s.now()); err != nil {
			return err
		}
		if err := putJSON(w.tx.Bucket(bucketUnits), u.ID, u); err != nil {
			return err
		}
		if u.ExpiryYears == 0 {
			return w.tx.Bucket(bucketExpiryPolicy).Delete(u.ID[:])
		}
		return w.tx.Bucket(bucketExpiryPolicy).Put(u.ID[:], []byte{byte(u.ExpiryYears)})
	})
	return u, err
}

// rebuildExpiryPolicy fills the index of policies from the units (migration 18).
func rebuildExpiryPolicy(tx *bolt.Tx, _ *Store) error {
	if err := createBuckets(tx, bucketExpiryPolicy, bucketExpiryRuns); err != nil {
		return err
	}
	b := tx.Bucket(bucketExpiryPolicy)
	return tx.Bucket(bucketUnits).ForEach(func(k, v []byte) error {
		var u ledger.Unit
		if err := json.Unmarshal(v, &u); err != nil {
			return fmt.Errorf("unit %x: %w", k, err)
		}
		if u.Kind != ledger.UnitStreet || u.ExpiryYears <= 0 {
			return nil
		}
		return b.Put(u.ID[:], []byte{byte(u.ExpiryYears)})
	})
}

// monthRowsFrom reads account a's monthly totals rows from month from on.
func monthRowsFrom(tx *bolt.Tx, a ledger.Account, from ledger.Month) ([]ledger.MonthTotals, error) {
	prefix := a.Key()
	var out []ledger.MonthTotals
	c := tx.Bucket(bucketAccounts).Cursor()
	for k, v := c.Seek(monthKey(from, a)); k != nil && bytes.HasPrefix(k, prefix[:]); k, v = c.Next() {
		if len(k) != ledger.AccountKeySize+4 {
			return nil, fmt.Errorf("monthly totals of %s: unexpected key %x", a, k)
		}
		t, err := decodeMonthRow(ledger.Month(binary.BigEndian.Uint32(k[ledger.AccountKeySize:])), a, v)
		if err != nil {
			return nil, fmt.Errorf("monthly totals of %s: %w", a, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// accountBalance reads an account's own balance.
func accountBalance(tx *bolt.Tx, a ledger.Account) (ledger.Points, error) {
	k := a.Key()
	v := tx.Bucket(bucketAccounts).Get(k[:])
	if v == nil {
		return 0, ledger.Errorf(ledger.ENOTFOUND, "account.not_open", a.String())
	}
	row, err := decodeAccountRow(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", a, err)
	}
	return row.balance, nil
}

// expiryAccount is a member's or household's account that a street's
// policy covers.
type expiryAccount struct {
	account ledger.Account
	id      uuid.UUID // the member's or household's
	name    string
	unit    uuid.UUID
}

// streetAccounts lists the member and household accounts whose units lie
// in street: one read of every member and household (a yearly run's, or a
// preview's, cost).
func streetAccounts(tx *bolt.Tx, street uuid.UUID) ([]expiryAccount, error) {
	inStreet := map[uuid.UUID]bool{}
	err := tx.Bucket(bucketUnits).ForEach(func(k, v []byte) error {
		var u struct {
			Path []uuid.UUID `json:"path"`
		}
		if err := json.Unmarshal(v, &u); err != nil {
			return fmt.Errorf("unit %x: %w", k, err)
		}
		if len(u.Path) > 0 && u.Path[0] == street {
			inStreet[uuid.UUID(k)] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []expiryAccount
	err = tx.Bucket(bucketMembers).ForEach(func(k, v []byte) error {
		var m struct {
			Name   string    `json:"name"`
			UnitID uuid.UUID `json:"unit_id"`
		}
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("member %x: %w", k, err)
		}
		if inStreet[m.UnitID] {
			out = append(out, expiryAccount{ledger.MemberAccount(uuid.UUID(k)), uuid.UUID(k), m.Name, m.UnitID})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = tx.Bucket(bucketHouseholds).ForEach(func(k, v []byte) error {
		var h struct {
			Address string    `json:"address"`
			UnitID  uuid.UUID `json:"unit_id"`
		}
		if err := json.Unmarshal(v, &h); err != nil {
			return fmt.Errorf("household %x: %w", k, err)
		}
		if inStreet[h.UnitID] {
			out = append(out, expiryAccount{ledger.HouseholdAccount(uuid.UUID(k)), uuid.UUID(k), h.Address, h.UnitID})
		}
		return nil
	})
	return out, err
}

// expiryDone reports whether the street's expiry of year (or of a later
// year, which covers it) is done, and returns the run record of year.
func expiryDone(tx *bolt.Tx, street uuid.UUID, year int) (bool, *ledger.ExpiryRun, error) {
	c := tx.Bucket(bucketExpiryRuns).Cursor()
	var this *ledger.ExpiryRun
	for k, v := c.Seek(expiryRunKey(street, year)); k != nil && bytes.HasPrefix(k, street[:]); k, v = c.Next() {
		var r ledger.ExpiryRun
		if err := json.Unmarshal(v, &r); err != nil {
			return false, nil, fmt.Errorf("expiry run %x: %w", k, err)
		}
		if r.Done {
			return true, &r, nil
		}
		if r.Year == year {
			this = &r
		}
	}
	return false, this, nil
}

// dueExpiry is a street's year whose cutoff has passed and that is not done.
type dueExpiry struct {
	street uuid.UUID
	years  int
	year   int
	last   *ledger.ExpiryRun // the year's record of an earlier attempt
}

// ExpirePoints implements ledger.Expiries. Each minute's look reads one row
// per street with a policy; a street's year is worked on only once its
// cutoff has passed, and again (at most every ledger.ExpiryRetry) only while
// some account could not be handled.
func (s *Store) ExpirePoints(ctx context.Context) (ledger.SweepResult, error) {
	var res ledger.SweepResult
	now := s.now()
	var due []dueExpiry
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketExpiryPolicy).ForEach(func(k, v []byte) error {
			if len(k) != 16 || len(v) != 1 {
				s.stats.SweepFailed(store.SweepPointsExpiry, 1)
				res.Failed = append(res.Failed, ledger.SweepFailure{Err: fmt.Errorf("damaged expiry policy row %x", k)})
				return nil
			}
			street, years := uuid.UUID(k), int(v[0])
			year, ok := ledger.ExpiryYearDue(now, s.loc, years)
			if !ok {
				return nil
			}
			done, last, err := expiryDone(tx, street, year)
			if err != nil {
				s.stats.SweepFailed(store.SweepPointsExpiry, 1)
				res.Failed = append(res.Failed, ledger.SweepFailure{ID: street, Err: err})
				return nil
			}
			if done || (last != nil && now.Sub(last.At) < ledger.ExpiryRetry) {
				return nil
			}
			due = append(due, dueExpiry{street, years, year, last})
			return nil
		})
	})
	if err != nil {
		return res, err
	}
	for _, d := range due {
		if err := s.expireStreet(ctx, d, now, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// expireStreet expires what remains of the points earned up to d.year in
// every account of d.street: it finds the accounts with something to
// expire in one read, expires each in a write of its own (the commit queue
// still commits them together, and one that fails is rolled back alone),
// then records the run. It returns an error only when the store stops
// taking writes.
func (s *Store) expireStreet(ctx context.Context, d dueExpiry, now time.Time, res *ledger.SweepResult) error {
	fail := func(id uuid.UUID, err error) {
		s.stats.SweepFailed(store.SweepPointsExpiry, 1)
		res.Failed = append(res.Failed, ledger.SweepFailure{ID: id, Err: err})
	}
	failed := 0
	var todo []expiryAccount
	from := ledger.Month((d.year+1)*100 + 1)
	err := s.db.View(func(tx *bolt.Tx) error {
		accounts, err := streetAccounts(tx, d.street)
		if err != nil {
			return err
		}
		for i, a := range accounts {
			if err := unhurried(ctx, i); err != nil {
				return err
			}
			if tx.Bucket(bucketIdem).Get(idemKey(ledger.ExpiryKey(a.account, d.year))) != nil {
				continue // expired at an earlier attempt
			}
			balance, err := accountBalance(tx, a.account)
			if err == nil {
				var rows []ledger.MonthTotals
				if rows, err = monthRowsFrom(tx, a.account, from); err == nil {
					if _, ok := ledger.PlanExpiry(a.account, d.street, d.year, balance, rows); ok {
						todo = append(todo, a)
					}
					continue
				}
			}
			fail(a.id, err)
			failed++
		}
		return nil
	})
	if err != nil {
		return err
	}
	expired := make([]ledger.Points, len(todo))
	errs := s.updateEach(ctx, len(todo), func(i int, w *writeTx) error {
		var err error
		expired[i], err = s.expireAccount(w, d.street, d.year, todo[i].account)
		return err
	})
	run := ledger.ExpiryRun{Street: d.street, Year: d.year, Years: d.years, Cutoff: ledger.ExpiryCutoff(d.year, d.years, s.loc)}
	if d.last != nil {
		run.Accounts, run.Points = d.last.Accounts, d.last.Points
	}
	for i, err := range errs {
		switch {
		case err == nil && expired[i] > 0:
			res.Done++
			run.Accounts++
			run.Points += expired[i]
		case err == nil:
		case ledger.ErrorCode(err) == ledger.EUNAVAILABLE:
			return err // the store is closing or cannot write: stop the sweep
		default:
			fail(todo[i].id, err)
			failed++
		}
	}
	run.Failed, run.Done, run.At = failed, failed == 0, now.UTC()
	return s.update(ctx, func(w *writeTx) error {
		raw, err := json.Marshal(run)
		if err != nil {
			return err
		}
		return w.tx.Bucket(bucketExpiryRuns).Put(expiryRunKey(d.street, d.year), raw)
	})
}

// expireAccount expires, in one write, what remains of account a's points
// earned up to the end of year under street's policy, deciding from the
// balance and monthly rows it reads in the same transaction, so that a
// voucher issued meanwhile is taken into account. It returns how many
// points expired (0 when nothing remains, or the entry exists already).
func (s *Store) expireAccount(w *writeTx, street uuid.UUID, year int, a ledger.Account) (ledger.Points, error) {
	tx := w.tx
	if w.idem.Get(idemKey(ledger.ExpiryKey(a, year))) != nil {
		return 0, nil
	}
	balance, err := accountBalance(tx, a)
	if err != nil {
		return 0, err
	}
	rows, err := monthRowsFrom(tx, a, ledger.Month((year+1)*100+1))
	if err != nil {
		return 0, err
	}
	t, ok := ledger.PlanExpiry(a, street, year, balance, rows)
	if !ok {
		return 0, nil
	}
	accounts := tx.Bucket(bucketAccounts)
	k := t.Credit.Key()
	opened := false
	if accounts.Get(k[:]) == nil {
		if err := accounts.Put(k[:], make([]byte, accountRowSize)); err != nil {
			return 0, err
		}
		opened = true
	}
	e, err := s.appendTx(w, t)
	if _, refused := ledger.AsError(err); refused && opened {
		// A refusal must leave nothing written: roll the account back with it.
		return 0, abortError{fmt.Sprintf("expire %s: %v", a, err), err}
	}
	if err != nil {
		return 0, err
	}
	return e.Amount, nil
}

// Expiring implements ledger.Expiries.
func (s *Store) Expiring(ctx context.Context, a ledger.Account) (ledger.Expiring, bool, error) {
	var out ledger.Expiring
	var ok bool
	now := s.now()
	err := s.db.View(func(tx *bolt.Tx) error {
		balance, err := accountBalance(tx, a)
		if err != nil {
			return err
		}
		years, err := accountPolicy(tx, a)
		if err != nil || years == 0 {
			return err
		}
		year, _ := ledger.NextExpiry(now, s.loc, years)
		rows, err := monthRowsFrom(tx, a, ledger.Month((year+1)*100+1))
		if err != nil {
			return err
		}
		out, ok = ledger.ExpiringSoon(now, s.loc, years, balance, rows)
		out.At = out.At.In(s.loc)
		return nil
	})
	return out, ok, err
}

// accountPolicy returns the years of the policy of the street a member's or
// household's account lies in (0: none).
func accountPolicy(tx *bolt.Tx, a ledger.Account) (int, error) {
	var unitID uuid.UUID
	switch a.Kind {
	case ledger.AccountMember:
		m, err := getJSON[ledger.Member](tx.Bucket(bucketMembers), a.ID, "member.not_found")
		if err != nil {
			return 0, err
		}
		unitID = m.UnitID
	case ledger.AccountHousehold:
		h, err := getJSON[ledger.Household](tx.Bucket(bucketHouseholds), a.ID, "household.not_found")
		if err != nil {
			return 0, err
		}
		unitID = h.UnitID
	default:
		return 0, nil
	}
	u, err := getJSON[ledger.Unit](tx.Bucket(bucketUnits), unitID, "unit.not_found")
	if err != nil || len(u.Path) == 0 {
		return 0, err
	}
	if v := tx.Bucket(bucketExpiryPolicy).Get(u.Path[0][:]); len(v) == 1 {
		return int(v[0]), nil
	}
	return 0, nil
}

// ExpiryPreview implements ledger.Expiries. It reads every account of the
// street, as the sweep's yearly run does.
func (s *Store) ExpiryPreview(ctx context.Context, street uuid.UUID, years, limit int) (ledger.ExpiryPreview, error) {
	var p ledger.ExpiryPreview
	now := s.now()
	err := s.db.View(func(tx *bolt.Tx) error {
		u, err := getJSON[ledger.Unit](tx.Bucket(bucketUnits), street, "unit.not_found")
		if err != nil {
			return err
		}
		if u.Kind != ledger.UnitStreet {
			return ledger.Errorf(ledger.EINVALID, "unit.expiry_street")
		}
		years = cmp.Or(years, u.ExpiryYears)
		if years == 0 {
			// No years asked for, and the street has no policy: nothing to preview.
			return ledger.Errorf(ledger.EINVALID, "expiry.preview_years")
		}
		if years < ledger.MinExpiryYears || years > ledger.MaxExpiryYears {
			return ledger.Errorf(ledger.EINVALID, "unit.expiry_years_invalid", ledger.MinExpiryYears, ledger.MaxExpiryYears)
		}
		p = ledger.ExpiryPreview{Street: street, Years: years, Accounts: []ledger.ExpiryPreviewLine{}}
		p.DueYear, _ = ledger.ExpiryYearDue(now, s.loc, years)
		p.DueCutoff = ledger.ExpiryCutoff(p.DueYear, years, s.loc)
		p.NextYear, p.NextCutoff = ledger.NextExpiry(now, s.loc, years)
		runDone, _, err := expiryDone(tx, street, p.DueYear)
		if err != nil {
			return err
		}
		accounts, err := streetAccounts(tx, street)
		if err != nil {
			return err
		}
		from := ledger.Month((p.DueYear+1)*100 + 1)
		var lines []ledger.ExpiryPreviewLine
		for i, a := range accounts {
			if err := unhurried(ctx, i); err != nil {
				return err
			}
			balance, err := accountBalance(tx, a.account)
			if err != nil {
				return err
			}
			rows, err := monthRowsFrom(tx, a.account, from)
			if err != nil {
				return err
			}
			done := runDone || tx.Bucket(bucketIdem).Get(idemKey(ledger.ExpiryKey(a.account, p.DueYear))) != nil
			due, next := ledger.PreviewExpiry(now, s.loc, years, balance, rows, done)
			if due+next == 0 {
				continue
			}
			p.DuePoints += due
			p.NextPoints += next
			if due > 0 {
				p.DueAccounts++
			}
			if next > 0 {
				p.NextAccounts++
			}
			lines = append(lines, ledger.ExpiryPreviewLine{Account: a.account, Name: a.name, UnitID: a.unit, Balance: balance, Due: due, Next: next})
		}
		slices.SortStableFunc(lines, func(x, y ledger.ExpiryPreviewLine) int {
			return cmp.Or(cmp.Compare(y.Due+y.Next, x.Due+x.Next), cmp.Compare(x.Name, y.Name))
		})
		if len(lines) > limit {
			p.More = len(lines) - limit
			lines = lines[:limit]
		}
		p.Accounts = append(p.Accounts, lines...)
		p.DueCutoff, p.NextCutoff = p.DueCutoff.In(s.loc), p.NextCutoff.In(s.loc)
		return nil
	})
	return p, err
}

// ExpiryRuns returns the records of a street's expiry runs, oldest year first.
func (s *Store) ExpiryRuns(ctx context.Context, street uuid.UUID) ([]ledger.ExpiryRun, error) {
	var out []ledger.ExpiryRun
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketExpiryRuns).Cursor()
		for k, v := c.Seek(street[:]); k != nil && bytes.HasPrefix(k, street[:]); k, v = c.Next() {
			var r ledger.ExpiryRun
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("expiry run %x: %w", k, err)
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}
