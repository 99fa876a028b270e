package postgres

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"aixin/ledger"
	"aixin/store"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Points that expire, as on bbolt: the sweep's look reads one row per
// street with a policy; a street's year is worked on once its cutoff has
// passed, each account in a request of its own that decides again
// (ledger.PlanExpiry) on the balance and month rows as the batch has them,
// under a server key per account and year, so an account's points of a
// year expire once whoever sweeps.

// SetExpiryPolicy implements ledger.Expiries: the unit and the sweep's list
// of policies, in one transaction.
func (s *Store) SetExpiryPolicy(ctx context.Context, street uuid.UUID, p ledger.ExpiryPatch, by uuid.UUID) (ledger.Unit, error) {
	var u ledger.Unit
	err := s.update(ctx, func(w *wtx) error {
		current, err := w.readUnit(street, true)
		if err != nil {
			return err
		}
		if u, err = current.PatchExpiry(p, by, s.now()); err != nil {
			return err
		}
		if err := w.putUnit(u); err != nil {
			return err
		}
		if u.ExpiryYears == 0 {
			w.Exec(`DELETE FROM expiry_policies WHERE street = $1`, u.ID)
		} else {
			w.Exec(`INSERT INTO expiry_policies (street, years) VALUES ($1, $2) ON CONFLICT (street) DO UPDATE SET years = EXCLUDED.years`,
				u.ID, int16(u.ExpiryYears))
		}
		return nil
	})
	return u, err
}

// monthRowsSQL reads an account's monthly totals from a month on.
const monthRowsSQL = `SELECT month, ins, outs, minutes, wish, entries FROM account_months WHERE account = $1 AND month >= $2 ORDER BY month`

// scanMonthRow scans a row of monthRowsSQL into rows.
func scanMonthRow(a ledger.Account, rows map[ledger.Month]ledger.MonthTotals) func(pgx.Rows) error {
	return func(r pgx.Rows) error {
		var m int32
		var ins, outs []int64
		t := ledger.MonthTotals{Account: a}
		var n int64
		if err := r.Scan(&m, &ins, &outs, &t.Minutes, &t.Wish, &n); err != nil {
			return err
		}
		t.Month, t.Entries = ledger.Month(m), uint64(n)
		copy(t.In[:], ins)
		copy(t.Out[:], outs)
		rows[t.Month] = t
		return nil
	}
}

func sortedRows(rows map[ledger.Month]ledger.MonthTotals) []ledger.MonthTotals {
	out := make([]ledger.MonthTotals, 0, len(rows))
	for _, t := range rows {
		out = append(out, t)
	}
	slices.SortFunc(out, func(x, y ledger.MonthTotals) int { return cmp.Compare(x.Month, y.Month) })
	return out
}

// monthRows reads account a's monthly totals from month from on, as
// committed (outside the commit queue: for pages).
func (s *Store) monthRows(ctx context.Context, a ledger.Account, from ledger.Month) ([]ledger.MonthTotals, error) {
	k := a.Key()
	rows := map[ledger.Month]ledger.MonthTotals{}
	r, err := s.pool.Query(ctx, monthRowsSQL, k[:], int32(from))
	if err != nil {
		return nil, unavailable(err)
	}
	defer r.Close()
	scan := scanMonthRow(a, rows)
	for r.Next() {
		if err := scan(r); err != nil {
			return nil, unavailable(err)
		}
	}
	return sortedRows(rows), unavailable2(r.Err())
}

// monthRowsFrom reads account a's monthly totals from month from on, as
// the batch has them.
func (w *wtx) monthRowsFrom(a ledger.Account, from ledger.Month) ([]ledger.MonthTotals, error) {
	k := a.Key()
	rows := map[ledger.Month]ledger.MonthTotals{}
	if err := w.Query(scanMonthRow(a, rows), monthRowsSQL, k[:], int32(from)); err != nil {
		return nil, err
	}
	for mk, t := range w.st.months { // the batch's own changes
		if mk.account == k && mk.month >= from && t != nil {
			rows[mk.month] = *t
		}
	}
	return sortedRows(rows), nil
}

// expiryAccount is a member's or household's account that a street's
// policy covers.
type expiryAccount struct {
	account ledger.Account
	id      uuid.UUID // the member's or household's
	name    string
	unit    uuid.UUID
}

// streetAccounts lists the member and household accounts whose units lie in street.
func (s *Store) streetAccounts(ctx context.Context, street uuid.UUID) ([]expiryAccount, error) {
	units, err := s.unitsByID(ctx)
	if err != nil {
		return nil, err
	}
	in := func(id uuid.UUID) bool { u, ok := units[id]; return ok && len(u.Path) > 0 && u.Path[0] == street }
	members, err := queryDocs[ledger.Member](ctx, s, `SELECT doc FROM members ORDER BY id`)
	if err != nil {
		return nil, err
	}
	var out []expiryAccount
	for _, m := range members {
		if in(m.UnitID) {
			out = append(out, expiryAccount{ledger.MemberAccount(m.ID), m.ID, m.Name, m.UnitID})
		}
	}
	households, err := listDocs[ledger.Household](ctx, s, "households")
	for _, h := range households {
		if in(h.UnitID) {
			out = append(out, expiryAccount{ledger.HouseholdAccount(h.ID), h.ID, h.Address, h.UnitID})
		}
	}
	return out, err
}

// expiryDone reports whether the street's expiry of year (or of a later
// year, which covers it) is done, and returns the run record of year.
func (s *Store) expiryDone(ctx context.Context, street uuid.UUID, year int) (bool, *ledger.ExpiryRun, error) {
	runs, err := queryDocs[ledger.ExpiryRun](ctx, s, `SELECT doc FROM expiry_runs WHERE street = $1 AND year >= $2 ORDER BY year`, street, int32(year))
	var this *ledger.ExpiryRun
	for _, r := range runs {
		if r.Done {
			return true, &r, err
		}
		if r.Year == year {
			this = &r
		}
	}
	return false, this, err
}

// ExpirePoints implements ledger.Expiries.
func (s *Store) ExpirePoints(ctx context.Context) (ledger.SweepResult, error) {
	res, err := s.alone(ctx, lockPointsExpiry, s.expirePoints)
	s.stats.Swept(store.SweepPointsExpiry, res)
	return res, err
}

func (s *Store) expirePoints(ctx context.Context) (ledger.SweepResult, error) {
	var res ledger.SweepResult
	now := s.now()
	rows, err := s.pool.Query(ctx, `SELECT street, years FROM expiry_policies ORDER BY street`)
	if err != nil {
		return res, unavailable(err)
	}
	type policy struct {
		street uuid.UUID
		years  int16
	}
	var policies []policy
	for rows.Next() {
		var p policy
		if err := rows.Scan(&p.street, &p.years); err != nil {
			rows.Close()
			return res, unavailable(err)
		}
		policies = append(policies, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, unavailable(err)
	}
	for _, p := range policies {
		year, ok := ledger.ExpiryYearDue(now, s.loc, int(p.years))
		if !ok {
			continue
		}
		done, last, err := s.expiryDone(ctx, p.street, year)
		if err != nil {
			res.Failed = append(res.Failed, ledger.SweepFailure{ID: p.street, Err: err})
			continue
		}
		if done || (last != nil && now.Sub(last.At) < ledger.ExpiryRetry) {
			continue
		}
		if err := s.expireStreet(ctx, p.street, int(p.years), year, last, now, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// expireStreet expires what remains of the points earned up to year in
// every account of street, each in a request of its own (they share
// commits), then records the run. It returns an error only when the
// database cannot be reached.
func (s *Store) expireStreet(ctx context.Context, street uuid.UUID, years, year int, last *ledger.ExpiryRun, now time.Time, res *ledger.SweepResult) error {
	accounts, err := s.streetAccounts(ctx, street)
	if err != nil {
		return err
	}
	ids := make([]uuid.UUID, len(accounts))
	for i, a := range accounts {
		ids[i] = a.id
	}
	expired := make([]ledger.Points, len(accounts))
	done, failedBefore := res.Done, len(res.Failed)
	if err := s.sweep(ctx, ids, res, func(w *wtx, i int) (bool, error) {
		n, err := w.expireAccount(street, year, accounts[i].account)
		if err != nil {
			n = 0 // a request that fails expires nothing
		}
		expired[i] = n
		return n > 0, err
	}); err != nil {
		return err
	}
	run := ledger.ExpiryRun{Street: street, Year: year, Years: years, Cutoff: ledger.ExpiryCutoff(year, years, s.loc)}
	if last != nil {
		run.Accounts, run.Points = last.Accounts, last.Points
	}
	run.Accounts += res.Done - done
	for _, p := range expired {
		run.Points += p
	}
	failed := len(res.Failed) - failedBefore
	run.Failed, run.Done, run.At = failed, failed == 0, now.UTC()
	return s.update(ctx, func(w *wtx) error {
		doc, err := jsonDoc(run)
		w.Exec(`INSERT INTO expiry_runs (street, year, doc) VALUES ($1, $2, $3) ON CONFLICT (street, year) DO UPDATE SET doc = EXCLUDED.doc`,
			street, int32(year), doc)
		return err
	})
}

// expireAccount expires what remains of account a's points earned up to
// the end of year under street's policy, deciding from the balance and
// month rows as the batch has them, so that a voucher issued meanwhile is
// taken into account. It returns how many points expired (0 when nothing
// remains, or the entry exists already).
func (w *wtx) expireAccount(street uuid.UUID, year int, a ledger.Account) (ledger.Points, error) {
	if _, found, err := w.EntryByKey(ledger.ExpiryKey(a, year)); err != nil || found {
		return 0, err
	}
	need := newNeed()
	need.accounts[a.Key()] = true
	if err := w.s.load(w.ctx, w, w.st, need); err != nil {
		return 0, err
	}
	if w.st.accounts[a.Key()] == nil {
		return 0, ledger.Errorf(ledger.ENOTFOUND, "account.not_open", a.String())
	}
	balance := w.st.accounts[a.Key()].row.balance
	rows, err := w.monthRowsFrom(a, ledger.Month((year+1)*100+1))
	if err != nil {
		return 0, err
	}
	t, ok := ledger.PlanExpiry(a, street, year, balance, rows)
	if !ok {
		return 0, nil
	}
	if err := w.OpenAccount(t.Credit); err != nil {
		return 0, err
	}
	e, err := w.Append(t)
	if err != nil {
		return 0, err
	}
	return e.Amount, nil
}

// Expiring implements ledger.Expiries: reads only, outside the commit queue.
func (s *Store) Expiring(ctx context.Context, a ledger.Account) (ledger.Expiring, bool, error) {
	now := s.now()
	b, err := s.Balance(ctx, a)
	if err != nil {
		return ledger.Expiring{}, false, err
	}
	years, err := s.accountPolicy(ctx, a)
	if err != nil || years == 0 {
		return ledger.Expiring{}, false, err
	}
	year, _ := ledger.NextExpiry(now, s.loc, years)
	rows, err := s.monthRows(ctx, a, ledger.Month((year+1)*100+1))
	if err != nil {
		return ledger.Expiring{}, false, err
	}
	out, ok := ledger.ExpiringSoon(now, s.loc, years, b.Points, rows)
	out.At = out.At.In(s.loc)
	return out, ok, nil
}

// accountPolicy returns the years of the policy of the street a member's or
// household's account lies in (0: none).
func (s *Store) accountPolicy(ctx context.Context, a ledger.Account) (int, error) {
	var unitID uuid.UUID
	switch a.Kind {
	case ledger.AccountMember:
		m, err := s.Member(ctx, a.ID)
		if err != nil {
			return 0, err
		}
		unitID = m.UnitID
	case ledger.AccountHousehold:
		h, err := s.Household(ctx, a.ID)
		if err != nil {
			return 0, err
		}
		unitID = h.UnitID
	default:
		return 0, nil
	}
	u, err := s.Unit(ctx, unitID)
	if err != nil || len(u.Path) == 0 {
		return 0, err
	}
	var years int16
	err = s.pool.QueryRow(ctx, `SELECT years FROM expiry_policies WHERE street = $1`, u.Path[0]).Scan(&years)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, unavailable(err)
	}
	return int(years), nil
}

// ExpiryPreview implements ledger.Expiries. It reads every account of the
// street, as the sweep's yearly run does.
func (s *Store) ExpiryPreview(ctx context.Context, street uuid.UUID, years, limit int) (ledger.ExpiryPreview, error) {
	var p ledger.ExpiryPreview
	now := s.now()
	u, err := s.Unit(ctx, street)
	if err != nil {
		return p, err
	}
	if u.Kind != ledger.UnitStreet {
		return p, ledger.Errorf(ledger.EINVALID, "unit.expiry_street")
	}
	years = cmp.Or(years, u.ExpiryYears)
	if years == 0 {
		return p, ledger.Errorf(ledger.EINVALID, "expiry.preview_years")
	}
	if years < ledger.MinExpiryYears || years > ledger.MaxExpiryYears {
		return p, ledger.Errorf(ledger.EINVALID, "unit.expiry_years_invalid", ledger.MinExpiryYears, ledger.MaxExpiryYears)
	}
	p = ledger.ExpiryPreview{Street: street, Years: years, Accounts: []ledger.ExpiryPreviewLine{}}
	p.DueYear, _ = ledger.ExpiryYearDue(now, s.loc, years)
	p.DueCutoff = ledger.ExpiryCutoff(p.DueYear, years, s.loc)
	p.NextYear, p.NextCutoff = ledger.NextExpiry(now, s.loc, years)
	runDone, _, err := s.expiryDone(ctx, street, p.DueYear)
	if err != nil {
		return p, err
	}
	accounts, err := s.streetAccounts(ctx, street)
	if err != nil {
		return p, err
	}
	from := ledger.Month((p.DueYear+1)*100 + 1)
	var lines []ledger.ExpiryPreviewLine
	for i, a := range accounts {
		if i%256 == 0 && ctx.Err() != nil {
			return p, ctx.Err()
		}
		b, err := s.Balance(ctx, a.account)
		if err != nil {
			return p, err
		}
		rows, err := s.monthRows(ctx, a.account, from)
		if err != nil {
			return p, err
		}
		var keyed int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM idempotency WHERE key = $1`, ledger.ExpiryKey(a.account, p.DueYear)).Scan(&keyed); err != nil {
			return p, unavailable(err)
		}
		due, next := ledger.PreviewExpiry(now, s.loc, years, b.Points, rows, runDone || keyed > 0)
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
		lines = append(lines, ledger.ExpiryPreviewLine{Account: a.account, Name: a.name, UnitID: a.unit, Balance: b.Points, Due: due, Next: next})
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
	return p, nil
}

// ExpiryRuns implements ledger.Expiries: a street's runs, oldest year first.
func (s *Store) ExpiryRuns(ctx context.Context, street uuid.UUID) ([]ledger.ExpiryRun, error) {
	return queryDocs[ledger.ExpiryRun](ctx, s, `SELECT doc FROM expiry_runs WHERE street = $1 ORDER BY year`, street)
}
