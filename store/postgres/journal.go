package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"aixin/ledger"

	"github.com/jackc/pgx/v5"
)

// maxClockStepBack is how far the clock may be behind the newest entry's
// time before appends are refused (as on bbolt).
const maxClockStepBack = 5 * time.Minute

// intArray writes a PostgreSQL array literal: {1,2,3}.
func intArray(v []int64) string {
	b := make([]byte, 0, 4*len(v))
	b = append(b, '{')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, x, 10)
	}
	return string(append(b, '}'))
}

// seqArg turns a seq from outside into a query argument: a seq beyond
// int64 names no entry.
func seqArg(seq uint64) int64 {
	if seq > math.MaxInt64 {
		return -1
	}
	return int64(seq)
}

// scanEntry scans seq, canonical, hash, the previous entry's hash (NULL
// for seq 1), then extra columns; a key column comes first when given.
func scanEntry(rows pgx.Rows, by **int64, key ...*string) (ledger.Entry, error) {
	var seq int64
	var canon, hash, prev []byte
	dest := []any{}
	if len(key) > 0 {
		dest = append(dest, key[0])
	}
	dest = append(dest, &seq, &canon, &hash, &prev)
	if by != nil {
		dest = append(dest, by)
	}
	if err := rows.Scan(dest...); err != nil {
		return ledger.Entry{}, err
	}
	e, err := ledger.DecodeCanonical(canon)
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("entry %d cannot be decoded: %w", seq, err)
	}
	if e.Seq != uint64(seq) || len(hash) != len(e.Hash) || (prev != nil && len(prev) != len(e.PrevHash)) {
		return ledger.Entry{}, fmt.Errorf("entry %d is damaged: run aixin verify", seq)
	}
	copy(e.Hash[:], hash)
	copy(e.PrevHash[:], prev)
	return e, nil
}

// scanMonth scans account, ins, outs, minutes, wish, entries.
func scanMonth(rows pgx.Rows, m ledger.Month) (ledger.MonthTotals, [ledger.AccountKeySize]byte, error) {
	var k []byte
	var ins, outs []int64
	var entries int64
	t := ledger.MonthTotals{Month: m}
	if err := rows.Scan(&k, &ins, &outs, &t.Minutes, &t.Wish, &entries); err != nil {
		return t, [ledger.AccountKeySize]byte{}, err
	}
	if len(k) != ledger.AccountKeySize || len(ins) > ledger.NumKinds || len(outs) > ledger.NumKinds {
		return t, [ledger.AccountKeySize]byte{}, fmt.Errorf("a monthly totals row of %s is damaged: run aixin verify", m)
	}
	a, err := ledger.AccountFromKey(k)
	if err != nil {
		return t, [ledger.AccountKeySize]byte{}, err
	}
	t.Account, t.Entries = a, uint64(entries)
	copy(t.In[:], ins)
	copy(t.Out[:], outs)
	return t, [ledger.AccountKeySize]byte(k), nil
}

// OpenAccount implements ledger.Journal.
func (s *Store) OpenAccount(ctx context.Context, a ledger.Account) error {
	if !a.Valid() {
		return ledger.Errorf(ledger.EINVALID, "account.invalid", a.String())
	}
	k := a.Key()
	var one int
	err := s.pool.QueryRow(ctx, `SELECT 1 FROM accounts WHERE account = $1`, k[:]).Scan(&one)
	if err == nil {
		return nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return unavailable(err)
	}
	return s.queue(ctx, &op{kind: opOpen, account: a})
}

// Append implements ledger.Journal.
func (s *Store) Append(ctx context.Context, t ledger.Transfer) (ledger.Entry, error) {
	if err := t.Validate(); err != nil {
		return ledger.Entry{}, err
	}
	o := &op{kind: opAppend, t: t}
	err := s.queue(ctx, o)
	return o.entry, err
}

// Reverse implements ledger.Journal.
func (s *Store) Reverse(ctx context.Context, seq uint64, actor, memo, key string) (ledger.Entry, error) {
	o := &op{kind: opReverse, seq: seq, actor: actor, memo: memo, key: key}
	err := s.queue(ctx, o)
	return o.entry, err
}

// Balance implements ledger.Journal.
func (s *Store) Balance(ctx context.Context, a ledger.Account) (ledger.Balance, error) {
	k := a.Key()
	var last, entries int64
	b := ledger.Balance{Account: a}
	err := s.pool.QueryRow(ctx, `SELECT balance, last_seq, entries, minutes FROM accounts WHERE account = $1`, k[:]).
		Scan(&b.Points, &last, &entries, &b.ServiceMinutes)
	if errors.Is(err, pgx.ErrNoRows) {
		return ledger.Balance{}, ledger.Errorf(ledger.ENOTFOUND, "account.not_open", a.String())
	}
	if err != nil {
		return ledger.Balance{}, unavailable(err)
	}
	b.LastSeq, b.Entries = uint64(last), uint64(entries)
	return b, nil
}

// AccountEntries implements ledger.Journal. Each side of the account has
// an index, so a page is two index scans of at most limit rows.
func (s *Store) AccountEntries(ctx context.Context, a ledger.Account, before uint64, limit int) ([]ledger.Entry, error) {
	if _, err := s.Balance(ctx, a); err != nil {
		return nil, err
	}
	k := a.Key()
	below := int64(math.MaxInt64)
	if before != 0 {
		var d, c []byte
		err := s.pool.QueryRow(ctx, `SELECT debit, credit FROM journal WHERE seq = $1`, seqArg(before)).Scan(&d, &c)
		if err != nil || (string(d) != string(k[:]) && string(c) != string(k[:])) {
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return nil, unavailable(err)
			}
			return nil, ledger.Errorf(ledger.EINVALID, "entry.cursor_invalid", before)
		}
		below = int64(before)
	}
	return s.entriesBelow(ctx, a, below, limit)
}

// entriesBelow returns up to limit entries of account a with seq below
// below, newest first. Each side of the account has an index, so a page is
// two index scans of at most limit rows.
func (s *Store) entriesBelow(ctx context.Context, a ledger.Account, below int64, limit int) ([]ledger.Entry, error) {
	if limit <= 0 {
		return nil, nil
	}
	k := a.Key()
	return s.queryEntries(ctx, `SELECT j.seq, j.canonical, j.hash, p.hash FROM (
			(SELECT seq FROM journal WHERE debit = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3)
			UNION ALL
			(SELECT seq FROM journal WHERE credit = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3)) s
		JOIN journal j ON j.seq = s.seq LEFT JOIN journal p ON p.seq = j.seq - 1
		ORDER BY j.seq DESC LIMIT $3`, k[:], below, limit)
}

func (s *Store) queryEntries(ctx context.Context, sql string, args ...any) ([]ledger.Entry, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	var out []ledger.Entry
	for rows.Next() {
		e, err := scanEntry(rows, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(err)
	}
	return out, nil
}

// Entries implements ledger.Journal.
func (s *Store) Entries(ctx context.Context, after uint64, limit int) ([]ledger.Entry, error) {
	if after >= math.MaxInt64 || limit <= 0 {
		return nil, nil
	}
	return s.queryEntries(ctx, `SELECT j.seq, j.canonical, j.hash, p.hash FROM journal j
		LEFT JOIN journal p ON p.seq = j.seq - 1 WHERE j.seq > $1 ORDER BY j.seq LIMIT $2`, int64(after), limit)
}

// Head implements ledger.Journal.
func (s *Store) Head(ctx context.Context) (uint64, ledger.Hash, error) {
	var seq int64
	var hash []byte
	var h ledger.Hash
	if err := s.pool.QueryRow(ctx, `SELECT seq, hash FROM chain_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
		return 0, h, unavailable(err)
	}
	copy(h[:], hash)
	return uint64(seq), h, nil
}

// MonthTotals implements ledger.Journal: the month's rows, in account order.
func (s *Store) MonthTotals(ctx context.Context, m ledger.Month) ([]ledger.MonthTotals, error) {
	rows, err := s.pool.Query(ctx, `SELECT account, ins, outs, minutes, wish, entries FROM account_months
		WHERE month = $1 ORDER BY account`, int32(m))
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	var out []ledger.MonthTotals
	for rows.Next() {
		t, _, err := scanMonth(rows, m)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(err)
	}
	return out, nil
}

// Backup implements ledger.Journal. A PostgreSQL deployment is backed up by
// PostgreSQL's own tools (pg_dump, base backups, replicas), which copy
// every table consistently; aixin does not copy the database itself.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	return 0, ledger.Errorf(ledger.EINVALID, "store.backup_postgres")
}
