package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// verifyPage is how many entries Verify reads in one query.
const verifyPage = 10_000

// Verify implements ledger.Journal. In one repeatable-read transaction (one
// snapshot, while writers go on) it walks the journal in order, checks every
// entry's hash against the chain and its rules (well-formed, no account
// below zero that may not go there, reverses that match their target and
// happen once, open accounts), rebuilds balances and monthly totals, and
// compares them with the stored accounts, months, idempotency, reversal and
// head records. The report names the first mismatch by seq.
func (s *Store) Verify(ctx context.Context) (ledger.VerifyReport, error) {
	start := time.Now()
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return ledger.VerifyReport{}, unavailable(err)
	}
	defer tx.Rollback(context.Background())
	rep, err := s.verifyTx(ctx, tx)
	rep.Elapsed = time.Since(start)
	if err != nil {
		return rep, unavailable(err)
	}
	return rep, nil
}

func (s *Store) verifyTx(ctx context.Context, tx pgx.Tx) (ledger.VerifyReport, error) {
	rep := ledger.VerifyReport{}
	fail := func(seq uint64, format string, args ...any) (ledger.VerifyReport, error) {
		rep.OK, rep.FirstBadSeq, rep.Problem = false, seq, fmt.Sprintf(format, args...)
		return rep, nil
	}
	stored := map[[ledger.AccountKeySize]byte]accountRow{}
	rows, err := tx.Query(ctx, `SELECT account, balance, last_seq, entries, minutes FROM accounts`)
	if err != nil {
		return rep, err
	}
	for rows.Next() {
		var k []byte
		var r accountRow
		var last, n int64
		if err := rows.Scan(&k, &r.balance, &last, &n, &r.minutes); err != nil {
			rows.Close()
			return rep, err
		}
		if len(k) != ledger.AccountKeySize {
			rows.Close()
			return fail(0, "an account row has a malformed key %x", k)
		}
		r.lastSeq, r.entries = uint64(last), uint64(n)
		stored[[ledger.AccountKeySize]byte(k)] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, err
	}

	rebuilt := make(map[[ledger.AccountKeySize]byte]*accountRow, len(stored))
	for k := range stored {
		rebuilt[k] = &accountRow{}
	}
	months := map[monthKey]*ledger.MonthTotals{}
	reverses := map[uint64]uint64{} // reversed -> by
	keys := map[string]uint64{}
	derived := newDerivedCheck(s.loc)
	var prev ledger.Hash
	var prevTime int64
	var seq uint64
	for {
		page, err := readPage(ctx, tx, seq)
		if err != nil {
			return rep, err
		}
		if len(page) == 0 {
			break
		}
		for _, pe := range page {
			seq++
			if pe.seq != seq {
				return fail(seq, "entry %d is missing (next is %d)", seq, pe.seq)
			}
			e, err := ledger.DecodeCanonical(pe.canonical)
			if err != nil {
				return fail(seq, "entry %d cannot be decoded: %v", seq, err)
			}
			if e.Seq != seq {
				return fail(seq, "entry stored at %d says it is %d", seq, e.Seq)
			}
			if len(pe.hash) != len(e.Hash) || ledger.ChainHash(prev, pe.canonical) != ledger.Hash(pe.hash) {
				return fail(seq, "entry %d does not match its hash (changed, or the chain before it was)", seq)
			}
			copy(e.Hash[:], pe.hash)
			e.PrevHash = prev
			dk, ck := e.Debit.Key(), e.Credit.Key()
			if string(pe.debit) != string(dk[:]) || string(pe.credit) != string(ck[:]) {
				return fail(seq, "entry %d's account columns do not match its accounts", seq)
			}
			if e.Time.UnixNano() < prevTime {
				return fail(seq, "entry %d is dated before the entry preceding it", seq)
			}
			if err := e.Validate(); err != nil {
				return fail(seq, "entry %d breaks a rule: %v", seq, err)
			}
			if e.Kind == ledger.KindReverse {
				if e.Reverses >= seq {
					return fail(seq, "entry %d reverses a later entry %d", seq, e.Reverses)
				}
				if _, twice := reverses[e.Reverses]; twice {
					return fail(seq, "entry %d reverses entry %d a second time", seq, e.Reverses)
				}
				orig, err := entryAt(ctx, tx, e.Reverses)
				if err != nil {
					return fail(seq, "entry %d reverses an entry that cannot be read: %v", seq, err)
				}
				if err := ledger.CheckReverse(e.Transfer, orig); err != nil {
					return fail(seq, "entry %d does not mirror entry %d", seq, e.Reverses)
				}
				reverses[e.Reverses] = seq
			}
			if e.IdempotencyKey != "" {
				if _, dup := keys[e.IdempotencyKey]; dup {
					return fail(seq, "entry %d repeats the idempotency key of an earlier entry", seq)
				}
				keys[e.IdempotencyKey] = seq
			}
			for _, side := range []struct {
				a    ledger.Account
				sign int64
			}{{e.Debit, -1}, {e.Credit, 1}} {
				row, ok := rebuilt[side.a.Key()]
				if !ok {
					return fail(seq, "entry %d touches %s, which is not an open account", seq, side.a)
				}
				row.balance += side.sign * e.Amount
				row.lastSeq = seq
				row.entries++
				row.minutes += ledger.ServiceMinutesDelta(&e, side.a)
				if row.balance < 0 && !side.a.MayGoNegative() {
					return fail(seq, "entry %d takes %s below zero", seq, side.a)
				}
				mk := monthKey{side.a.Key(), ledger.MonthOf(e.Time, s.loc)}
				mt := months[mk]
				if mt == nil {
					mt = &ledger.MonthTotals{Month: mk.month, Account: side.a}
					months[mk] = mt
				}
				mt.Apply(&e, side.a)
			}
			prev, prevTime = e.Hash, e.Time.UnixNano()
			derived.note(e)
		}
		if err := derived.add(ctx, tx); err != nil {
			return rep, err
		}
		if ctx.Err() != nil {
			return fail(seq, "verification cancelled: %v", ctx.Err())
		}
	}
	rep.Entries, rep.Accounts, rep.HeadSeq, rep.HeadHash = seq, len(stored), seq, prev

	for k, want := range rebuilt {
		if got := stored[k]; got != *want {
			a, _ := ledger.AccountFromKey(k[:])
			return fail(0, "the stored balance row of %s is %+v, the journal says %+v", a, got, *want)
		}
	}
	var storedMonths int
	rows, err = tx.Query(ctx, `SELECT account, month, ins, outs, minutes, wish, entries FROM account_months`)
	if err != nil {
		return rep, err
	}
	for rows.Next() {
		var k []byte
		var m int32
		var ins, outs []int64
		var t ledger.MonthTotals
		var n int64
		if err := rows.Scan(&k, &m, &ins, &outs, &t.Minutes, &t.Wish, &n); err != nil {
			rows.Close()
			return rep, err
		}
		storedMonths++
		if len(k) != ledger.AccountKeySize || len(ins) > ledger.NumKinds || len(outs) > ledger.NumKinds {
			rows.Close()
			return fail(0, "a monthly totals row of %d is malformed", m)
		}
		want := months[monthKey{[ledger.AccountKeySize]byte(k), ledger.Month(m)}]
		if want == nil {
			rows.Close()
			return fail(0, "a monthly totals row of %x in %d has no entries", k, m)
		}
		t.Month, t.Account, t.Entries = want.Month, want.Account, uint64(n)
		copy(t.In[:], ins)
		copy(t.Out[:], outs)
		if t != *want {
			rows.Close()
			return fail(0, "the monthly totals of %s in %s are %+v, the journal says %+v", want.Account, want.Month, t, *want)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, err
	}
	if storedMonths != len(months) {
		return fail(0, "%d monthly totals rows are missing", len(months)-storedMonths)
	}

	var n int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM idempotency`).Scan(&n); err != nil {
		return rep, err
	}
	if int(n) != len(keys) {
		return fail(0, "there are %d idempotency records for %d keyed entries", n, len(keys))
	}
	if len(keys) > 0 {
		ks := make([]string, 0, len(keys))
		for k := range keys {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		for i := 0; i < len(ks); i += verifyPage {
			part := ks[i:min(i+verifyPage, len(ks))]
			var bad int64
			seqs := make([]int64, len(part))
			for j, k := range part {
				seqs[j] = int64(keys[k])
			}
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM unnest($1::text[], $2::bigint[]) AS w(key, seq)
				LEFT JOIN idempotency i ON i.key = w.key WHERE i.seq IS DISTINCT FROM w.seq`, part, seqs).Scan(&bad); err != nil {
				return rep, err
			}
			if bad > 0 {
				return fail(0, "%d idempotency records are missing or name another entry", bad)
			}
		}
	}
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM reversed`).Scan(&n); err != nil {
		return rep, err
	}
	if int(n) != len(reverses) {
		return fail(0, "there are %d reversal records for %d reverses", n, len(reverses))
	}
	rrows, err := tx.Query(ctx, `SELECT seq, by_seq FROM reversed`)
	if err != nil {
		return rep, err
	}
	for rrows.Next() {
		var from, by int64
		if err := rrows.Scan(&from, &by); err != nil {
			rrows.Close()
			return rep, err
		}
		if reverses[uint64(from)] != uint64(by) {
			rrows.Close()
			return fail(uint64(by), "the reversal record of entry %d does not name entry %d", from, by)
		}
	}
	rrows.Close()
	if err := rrows.Err(); err != nil {
		return rep, err
	}

	if what, err := derived.compare(ctx, tx); err != nil || what != "" {
		if err != nil {
			return rep, err
		}
		return fail(0, "the stored %s rows differ from what the journal's entries make", what)
	}

	// The events' counters against their attendances counted again.
	var event uuid.UUID
	err = tx.QueryRow(ctx, `SELECT COALESCE(a.event, c.event) FROM
			(SELECT event, count(*) AS total, count(*) FILTER (WHERE open) AS open FROM attendances GROUP BY event) a
			FULL JOIN event_counts c ON c.event = a.event
		WHERE (a.event IS NULL AND (c.total <> 0 OR c.open <> 0)) OR (c.event IS NULL AND a.total > 0)
			OR a.total <> c.total OR a.open <> c.open
		LIMIT 1`).Scan(&event)
	switch {
	case err == nil:
		return fail(0, "the stored attendance counts of event %s differ from its attendances (event_counts)", event)
	case !errors.Is(err, pgx.ErrNoRows):
		return rep, err
	}

	var headSeq, at int64
	var headHash []byte
	if err := tx.QueryRow(ctx, `SELECT seq, hash, at FROM chain_head WHERE id = 1`).Scan(&headSeq, &headHash, &at); err != nil {
		return rep, err
	}
	if uint64(headSeq) != seq || string(headHash) != string(prev[:]) || (seq > 0 && at != prevTime) {
		return fail(seq, "the chain head record says %d, the journal ends at %d", headSeq, seq)
	}
	rep.OK = true
	return rep, nil
}

type pageEntry struct {
	seq                            uint64
	canonical, hash, debit, credit []byte
}

func readPage(ctx context.Context, tx pgx.Tx, after uint64) ([]pageEntry, error) {
	rows, err := tx.Query(ctx, `SELECT seq, canonical, hash, debit, credit FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2`,
		int64(after), verifyPage)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pageEntry
	for rows.Next() {
		var p pageEntry
		var seq int64
		if err := rows.Scan(&seq, &p.canonical, &p.hash, &p.debit, &p.credit); err != nil {
			return nil, err
		}
		p.seq = uint64(seq)
		out = append(out, p)
	}
	return out, rows.Err()
}

func entryAt(ctx context.Context, tx pgx.Tx, seq uint64) (ledger.Entry, error) {
	var canon []byte
	if err := tx.QueryRow(ctx, `SELECT canonical FROM journal WHERE seq = $1`, seqArg(seq)).Scan(&canon); err != nil {
		return ledger.Entry{}, err
	}
	return ledger.DecodeCanonical(canon)
}

// derivedCheck rebuilds the redemption and service rows (ledger.DerivedRows)
// from the journal as Verify walks it: note collects what a page of entries
// names, add reads those vouchers and attendances and counts them.
type derivedCheck struct {
	loc      *time.Location
	rows     *ledger.DerivedRows
	redeems  map[uint64]uuid.UUID         // redeem entry -> its voucher, for reverses later
	vouchers map[uuid.UUID]ledger.Voucher // read so far (found)
	page     []ledger.Entry               // this page's entries that name a voucher or an attendance
}

func newDerivedCheck(loc *time.Location) *derivedCheck {
	return &derivedCheck{loc: loc, rows: ledger.NewDerivedRows(), redeems: map[uint64]uuid.UUID{}, vouchers: map[uuid.UUID]ledger.Voucher{}}
}

func (d *derivedCheck) note(e ledger.Entry) {
	if id, ok := ledger.VoucherOf(&e); ok {
		d.redeems[e.Seq] = id
		d.page = append(d.page, e)
	} else if _, ok := d.redeems[e.Reverses]; ok && e.Kind == ledger.KindReverse {
		d.page = append(d.page, e)
	}
	if _, ok := ledger.AttendanceOf(&e); ok {
		d.page = append(d.page, e)
	}
}

func (d *derivedCheck) add(ctx context.Context, tx pgx.Tx) error {
	if len(d.page) == 0 {
		return nil
	}
	var vids, aids []uuid.UUID
	for i := range d.page {
		e := &d.page[i]
		if id, ok := ledger.VoucherOf(e); ok {
			if _, read := d.vouchers[id]; !read {
				vids = append(vids, id)
			}
		}
		if id, ok := ledger.AttendanceOf(e); ok {
			aids = append(aids, id)
		}
	}
	if err := scanDocs(ctx, tx, `SELECT doc FROM vouchers WHERE id = ANY($1)`, vids, func(v storedVoucher) {
		d.vouchers[v.ID] = v.Voucher
	}); err != nil {
		return err
	}
	atts := map[uuid.UUID]ledger.Attendance{}
	if err := scanDocs(ctx, tx, `SELECT doc FROM attendances WHERE id = ANY($1)`, aids, func(a ledger.Attendance) {
		atts[a.ID] = a
	}); err != nil {
		return err
	}
	for i := range d.page {
		e := &d.page[i]
		m := ledger.MonthOf(e.Time, d.loc)
		if id, ok := ledger.VoucherOf(e); ok {
			if v, found := d.vouchers[id]; found { // else a redeem appended to the journal directly
				d.rows.AddRedemption(v, m, 1, e.Seq)
			}
		} else if id, ok := d.redeems[e.Reverses]; ok && e.Kind == ledger.KindReverse {
			if v, found := d.vouchers[id]; found {
				d.rows.AddRedemption(v, m, -1, e.Seq)
			}
		}
		if id, ok := ledger.AttendanceOf(e); ok {
			if a, found := atts[id]; found {
				d.rows.AddService(e, a, d.loc)
			}
		}
	}
	d.page = d.page[:0]
	return nil
}

// compare returns the kind of the first derived rows that differ from
// the rebuilt ones ("" when none do).
func (d *derivedCheck) compare(ctx context.Context, tx pgx.Tx) (string, error) {
	want := ledger.RecordSums{}
	d.rows.Records(want.Add)
	for _, k := range ledger.DerivedKinds {
		got, err := sumTable(ctx, tx, k)
		if err != nil {
			return "", err
		}
		if got != want.Of(k) {
			return string(k), nil
		}
	}
	return "", nil
}

// scanDocs reads the JSON documents a query on ids returns into fn.
func scanDocs[T any](ctx context.Context, tx pgx.Tx, sql string, ids []uuid.UUID, fn func(T)) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, sql, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return err
		}
		var v T
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			return err
		}
		fn(v)
	}
	return rows.Err()
}
