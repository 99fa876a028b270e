package postgres

import (
	"context"
	"errors"
	"fmt"

	"aixin/ledger"

	"github.com/jackc/pgx/v5"
)

// copyPage is how many entries CopyJournal reads and writes at a time.
const copyPage = 10_000

// ErrNotEmpty is returned by CopyJournal when the database already holds
// entries or accounts: a copy never mixes two ledgers.
var ErrNotEmpty = errors.New("the target database is not empty: copy only into a new, empty database")

// CopyJournal copies a journal from another engine into this empty
// database: the open accounts, then every entry byte for byte, in pages
// from entries(after, limit). Each entry's hash is checked against the
// chain as it is read, so what arrives is exactly what the source holds;
// balances, monthly totals, idempotency and reversal records are rebuilt
// from the entries, in one transaction: a copy that fails leaves the
// database empty. It returns the number of entries copied.
func (s *Store) CopyJournal(ctx context.Context, accounts []ledger.Account, entries func(after uint64, limit int) ([]ledger.Entry, error)) (uint64, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, unavailable(err)
	}
	defer tx.Rollback(context.Background())
	if err := journalEmpty(ctx, tx); err != nil {
		return 0, err
	}
	n, err := s.copyJournal(ctx, tx, accounts, entries)
	if err != nil {
		return n, err
	}
	return n, tx.Commit(ctx)
}

// journalEmpty refuses a database with entries or accounts but escrow,
// and locks the chain head for the copy.
func journalEmpty(ctx context.Context, tx pgx.Tx) error {
	var seq, others int64
	if err := tx.QueryRow(ctx, `SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE`).Scan(&seq); err != nil {
		return err
	}
	escrow := ledger.Escrow.Key()
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM accounts WHERE account <> $1`, escrow[:]).Scan(&others); err != nil {
		return err
	}
	if seq != 0 || others != 0 {
		return ErrNotEmpty
	}
	return nil
}

// copyJournal is CopyJournal's work in tx, on a journal checked empty.
func (s *Store) copyJournal(ctx context.Context, tx pgx.Tx, accounts []ledger.Account, entries func(after uint64, limit int) ([]ledger.Entry, error)) (uint64, error) {
	escrow := ledger.Escrow.Key()
	rows := map[[ledger.AccountKeySize]byte]*accountRow{escrow: {}}
	for _, a := range accounts {
		if !a.Valid() {
			return 0, fmt.Errorf("account %s is not valid", a)
		}
		rows[a.Key()] = &accountRow{}
	}
	months := map[monthKey]*ledger.MonthTotals{}
	var keys [][]any
	var reversed [][]any
	var prev ledger.Hash
	var last ledger.Entry
	var n uint64
	for {
		page, err := entries(n, copyPage)
		if err != nil {
			return n, fmt.Errorf("reading entries after %d: %w", n, err)
		}
		if len(page) == 0 {
			break
		}
		out := make([][]any, 0, len(page))
		for i := range page {
			e := &page[i]
			n++
			if e.Seq != n || e.PrevHash != prev || ledger.ChainHash(prev, e.Canonical()) != e.Hash {
				return n, fmt.Errorf("entry %d does not follow the chain: verify the source", n)
			}
			dk, ck := e.Debit.Key(), e.Credit.Key()
			for _, side := range []struct {
				a    ledger.Account
				k    [ledger.AccountKeySize]byte
				sign int64
			}{{e.Debit, dk, -1}, {e.Credit, ck, 1}} {
				r := rows[side.k]
				if r == nil {
					return n, fmt.Errorf("entry %d touches %s, which is not an open account", n, side.a)
				}
				r.balance += side.sign * e.Amount
				r.lastSeq, r.entries = n, r.entries+1
				r.minutes += ledger.ServiceMinutesDelta(e, side.a)
				mk := monthKey{side.k, ledger.MonthOf(e.Time, s.loc)}
				mt := months[mk]
				if mt == nil {
					mt = &ledger.MonthTotals{Month: mk.month, Account: side.a}
					months[mk] = mt
				}
				mt.Apply(e, side.a)
			}
			if e.IdempotencyKey != "" {
				keys = append(keys, []any{e.IdempotencyKey, int64(n)})
			}
			if e.Kind == ledger.KindReverse {
				reversed = append(reversed, []any{int64(e.Reverses), int64(n)})
			}
			out = append(out, []any{int64(n), e.Canonical(), e.Hash[:], dk[:], ck[:]})
			prev, last = e.Hash, *e
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"journal"}, []string{"seq", "canonical", "hash", "debit", "credit"},
			pgx.CopyFromRows(out)); err != nil {
			return n, err
		}
	}

	acc := make([][]any, 0, len(rows))
	for k, r := range rows {
		if k == escrow {
			if _, err := tx.Exec(ctx, `UPDATE accounts SET balance = $2, last_seq = $3, entries = $4, minutes = $5 WHERE account = $1`,
				k[:], r.balance, int64(r.lastSeq), int64(r.entries), r.minutes); err != nil {
				return n, err
			}
			continue
		}
		acc = append(acc, []any{k[:], r.balance, int64(r.lastSeq), int64(r.entries), r.minutes})
	}
	mrows := make([][]any, 0, len(months))
	for k, t := range months {
		mrows = append(mrows, []any{k.account[:], int32(k.month), t.In[:], t.Out[:], t.Minutes, t.Wish, int64(t.Entries)})
	}
	for _, c := range []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"accounts", []string{"account", "balance", "last_seq", "entries", "minutes"}, acc},
		{"account_months", []string{"account", "month", "ins", "outs", "minutes", "wish", "entries"}, mrows},
		{"idempotency", []string{"key", "seq"}, keys},
		{"reversed", []string{"seq", "by_seq"}, reversed},
	} {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
			return n, fmt.Errorf("%s: %w", c.table, err)
		}
	}
	if n > 0 {
		if _, err := tx.Exec(ctx, `UPDATE chain_head SET seq = $1, hash = $2, at = $3 WHERE id = 1`,
			int64(n), last.Hash[:], last.Time.UnixNano()); err != nil {
			return n, err
		}
	}
	return n, nil
}
