package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// maxClockStepBack is how far the clock may be behind the newest entry's
// time before appends are refused (as on bbolt).
const maxClockStepBack = 5 * time.Minute

type opKind uint8

const (
	opOpen    opKind = iota + 1 // open an account
	opAppend                    // append a transfer
	opReverse                   // append the reverse of an entry
)

// op is one request waiting in the commit queue.
type op struct {
	kind    opKind
	account ledger.Account  // opOpen
	t       ledger.Transfer // opAppend
	seq     uint64          // opReverse: the entry to reverse
	actor   string          // opReverse
	memo    string          // opReverse
	key     string          // opReverse

	entry ledger.Entry
	err   error
	done  chan struct{}
}

// queue puts o in the commit queue and waits for its batch. Once queued, a
// request is carried out even if ctx ends, so the caller learns the outcome.
func (s *Store) queue(ctx context.Context, o *op) error {
	o.done = make(chan struct{})
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ledger.Errorf(ledger.EUNAVAILABLE, "store.closed")
	}
	select {
	case s.ops <- o:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ledger.Errorf(ledger.EUNAVAILABLE, "store.busy")
	}
	s.mu.RUnlock()
	<-o.done
	return o.err
}

func (s *Store) writeLoop() {
	defer close(s.done)
	batch := make([]*op, 0, s.maxBatch)
	for first := range s.ops {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < s.maxBatch {
			select {
			case o, ok := <-s.ops:
				if !ok {
					break fill
				}
				batch = append(batch, o)
			default:
				break fill
			}
		}
		s.commit(batch)
	}
}

// batchTimeout bounds one batch's transaction, so that a database that
// stops answering fails the requests waiting instead of holding them.
const batchTimeout = 30 * time.Second

// commit runs a batch in one transaction, again when PostgreSQL reports a
// serialization failure or deadlock, and answers every request of it.
func (s *Store) commit(batch []*op) {
	var err error
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
		var appended int
		appended, err = s.runBatch(ctx, batch)
		cancel()
		if err == nil {
			s.stats.commits.Add(1)
			s.stats.appends.Add(uint64(appended))
			break
		}
		s.stats.commitErrors.Add(1)
		if !retryable(err) || attempt == 4 {
			err = unavailable(err)
			for _, o := range batch {
				o.entry, o.err = ledger.Entry{}, err
			}
			break
		}
		s.stats.retries.Add(1)
	}
	for _, o := range batch {
		close(o.done)
	}
}

// accountState is an account's row as the batch reads and changes it.
type accountState struct {
	row     accountRow
	stored  bool // the row is in the database
	changed bool
}

type accountRow struct {
	balance ledger.Points
	lastSeq uint64
	entries uint64
	minutes int64
}

type monthKey struct {
	account [ledger.AccountKeySize]byte
	month   ledger.Month
}

// batchState is what one batch read, and what it decided to write.
type batchState struct {
	headSeq  uint64
	headHash ledger.Hash
	headTime time.Time

	accounts map[[ledger.AccountKeySize]byte]*accountState
	months   map[monthKey]*ledger.MonthTotals
	loaded   map[ledger.Month]bool // months whose rows were read for the batch's accounts
	changed  map[monthKey]bool
	entries  map[uint64]ledger.Entry // entries read (reverse targets, idempotent replays) or appended
	keys     map[string]uint64       // idempotency keys known: stored or appended
	reversed map[uint64]uint64       // entry -> the entry that reversed it
	opened   [][ledger.AccountKeySize]byte
	appended []ledger.Entry
	newKeys  []string
	newRev   [][2]uint64
}

// runBatch reads what the batch needs, decides each request in order and
// writes what was decided, in one transaction. It returns the number of
// entries appended. A refused request gets its refusal and writes nothing;
// an error of the database fails the whole batch (nothing is written).
func (s *Store) runBatch(ctx context.Context, batch []*op) (int, error) {
	for _, o := range batch {
		o.entry, o.err = ledger.Entry{}, nil
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	// BEGIN travels with the first reads and COMMIT with the writes, so a
	// batch costs two round trips (three when it reverses by seq). On any
	// error the transaction is rolled back, or the connection closed if it
	// cannot be.
	open := false
	defer func() {
		if open {
			if _, err := conn.Exec(context.Background(), "ROLLBACK"); err != nil {
				conn.Conn().Close(context.Background())
			}
		}
	}()
	open = true
	st, err := s.readBatch(ctx, conn, batch)
	if err != nil {
		return 0, err
	}
	for _, o := range batch {
		switch o.kind {
		case opOpen:
			k := o.account.Key()
			if _, ok := st.accounts[k]; !ok {
				st.accounts[k] = &accountState{}
				st.opened = append(st.opened, k)
			}
		case opReverse:
			orig, ok := st.entries[o.seq]
			if !ok {
				o.err = ledger.Errorf(ledger.ENOTFOUND, "entry.not_found", o.seq)
				continue
			}
			t, err := ledger.Reverse(orig, o.actor, o.memo, o.key)
			if err != nil {
				o.err = err
				continue
			}
			o.entry, o.err = s.decide(ctx, conn, st, t)
		case opAppend:
			o.entry, o.err = s.decide(ctx, conn, st, o.t)
		}
		if o.err != nil {
			if _, refused := ledger.AsError(o.err); !refused {
				return 0, o.err
			}
		}
	}
	if len(st.appended) == 0 && len(st.opened) == 0 {
		return 0, nil // nothing to write: the rollback ends it
	}
	if err := s.writeBatch(ctx, conn, st); err != nil {
		return 0, err
	}
	open = false
	return len(st.appended), nil
}

// batcher sends a pipelined batch of statements: a connection or a transaction.
type batcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// readBatch locks the chain head, then reads the entries the batch's
// reverses name, the idempotency keys it carries, and its accounts (locked,
// in key order) with their rows of the current month.
func (s *Store) readBatch(ctx context.Context, tx batcher, batch []*op) (*batchState, error) {
	st := &batchState{
		accounts: map[[ledger.AccountKeySize]byte]*accountState{},
		months:   map[monthKey]*ledger.MonthTotals{},
		loaded:   map[ledger.Month]bool{},
		changed:  map[monthKey]bool{},
		entries:  map[uint64]ledger.Entry{},
		keys:     map[string]uint64{},
		reversed: map[uint64]uint64{},
	}
	var targets []int64
	var keys []string
	accountSet := map[[ledger.AccountKeySize]byte]bool{}
	bySeq := false // a reverse by seq: its accounts are known once its entry is read
	for _, o := range batch {
		switch o.kind {
		case opOpen:
			accountSet[o.account.Key()] = true
		case opReverse:
			bySeq = true
			targets = append(targets, seqArg(o.seq))
			if o.key != "" {
				keys = append(keys, o.key)
			}
		case opAppend:
			accountSet[o.t.Debit.Key()], accountSet[o.t.Credit.Key()] = true, true
			if o.t.Kind == ledger.KindReverse {
				targets = append(targets, seqArg(o.t.Reverses))
			}
			if o.t.IdempotencyKey != "" {
				keys = append(keys, o.t.IdempotencyKey)
			}
		}
	}

	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`SELECT seq, hash, at FROM chain_head WHERE id = 1 FOR UPDATE`).QueryRow(func(r pgx.Row) error {
		var seq, at int64
		var hash []byte
		if err := r.Scan(&seq, &hash, &at); err != nil {
			return fmt.Errorf("the chain head: %w", err)
		}
		if len(hash) != len(ledger.Hash{}) {
			return errors.New("the chain head record is damaged: run aixin verify")
		}
		st.headSeq, st.headTime = uint64(seq), time.Unix(0, at)
		copy(st.headHash[:], hash)
		return nil
	})
	if len(targets) > 0 {
		b.Queue(`SELECT j.seq, j.canonical, j.hash, p.hash, r.by_seq FROM journal j
			LEFT JOIN journal p ON p.seq = j.seq - 1 LEFT JOIN reversed r ON r.seq = j.seq
			WHERE j.seq = ANY($1)`, targets).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var by *int64
				e, err := scanEntry(rows, &by)
				if err != nil {
					return err
				}
				st.entries[e.Seq] = e
				if by != nil {
					st.reversed[e.Seq] = uint64(*by)
				}
				accountSet[e.Debit.Key()], accountSet[e.Credit.Key()] = true, true
			}
			return rows.Err()
		})
	}
	if len(keys) > 0 {
		b.Queue(`SELECT i.key, j.seq, j.canonical, j.hash, p.hash FROM idempotency i
			JOIN journal j ON j.seq = i.seq LEFT JOIN journal p ON p.seq = j.seq - 1
			WHERE i.key = ANY($1)`, keys).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var key string
				e, err := scanEntry(rows, nil, &key)
				if err != nil {
					return err
				}
				st.entries[e.Seq], st.keys[key] = e, e.Seq
			}
			return rows.Err()
		})
	}
	if bySeq {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return nil, err
		}
		b = &pgx.Batch{}
	}

	// The accounts (with the reverse targets' accounts once known), locked
	// in key order (the order every engine takes account locks in).
	accts := make([][]byte, 0, len(accountSet))
	for k := range accountSet {
		accts = append(accts, k[:])
	}
	slices.SortFunc(accts, func(a, b []byte) int { return strings.Compare(string(a), string(b)) })
	month := ledger.MonthOf(s.now(), s.loc)
	b.Queue(`SELECT account, balance, last_seq, entries, minutes FROM accounts
		WHERE account = ANY($1) ORDER BY account FOR UPDATE`, accts).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var k []byte
			var r accountRow
			var last, entries int64
			if err := rows.Scan(&k, &r.balance, &last, &entries, &r.minutes); err != nil {
				return err
			}
			r.lastSeq, r.entries = uint64(last), uint64(entries)
			st.accounts[[ledger.AccountKeySize]byte(k)] = &accountState{row: r, stored: true}
		}
		return rows.Err()
	})
	s.queueMonths(b, st, month, accts)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	return st, nil
}

// queueMonths queues the read of the month rows of accts in month m.
func (s *Store) queueMonths(b *pgx.Batch, st *batchState, m ledger.Month, accts [][]byte) {
	st.loaded[m] = true
	b.Queue(`SELECT account, ins, outs, minutes, wish, entries FROM account_months
		WHERE month = $1 AND account = ANY($2)`, int32(m), accts).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			t, k, err := scanMonth(rows, m)
			if err != nil {
				return err
			}
			st.months[monthKey{k, m}] = &t
		}
		return rows.Err()
	})
}

// decide decides one transfer against the batch's state so far (ledger.Post
// and the checks around it) and, when it is accepted, applies it to that
// state. It returns a refusal without changing anything.
func (s *Store) decide(ctx context.Context, tx batcher, st *batchState, t ledger.Transfer) (ledger.Entry, error) {
	if t.IdempotencyKey != "" {
		if seq, ok := st.keys[t.IdempotencyKey]; ok {
			first := st.entries[seq]
			if first.Fingerprint() != t.Fingerprint() {
				return ledger.Entry{}, ledger.Errorf(ledger.ECONFLICT, "idempotency.mismatch")
			}
			return first, nil
		}
	}
	if t.Kind == ledger.KindReverse {
		orig, ok := st.entries[t.Reverses]
		if !ok {
			return ledger.Entry{}, ledger.Errorf(ledger.ENOTFOUND, "entry.not_found", t.Reverses)
		}
		if err := ledger.CheckReverse(t, orig); err != nil {
			return ledger.Entry{}, err
		}
		if by, ok := st.reversed[t.Reverses]; ok {
			return ledger.Entry{}, ledger.Errorf(ledger.ECONFLICT, "entry.already_reversed", t.Reverses).With("reversed_by", by)
		}
	}
	d, c := st.accounts[t.Debit.Key()], st.accounts[t.Credit.Key()]
	if d == nil {
		return ledger.Entry{}, ledger.Errorf(ledger.ENOTFOUND, "account.not_open", t.Debit.String())
	}
	if c == nil {
		return ledger.Entry{}, ledger.Errorf(ledger.ENOTFOUND, "account.not_open", t.Credit.String())
	}
	id, err := uuid.NewV7()
	if err != nil {
		return ledger.Entry{}, err
	}
	now := s.now()
	if now.Before(st.headTime) {
		// Entry times never go backwards along the chain (see the bbolt engine).
		if st.headTime.Sub(now) > maxClockStepBack {
			return ledger.Entry{}, ledger.Errorf(ledger.EUNAVAILABLE, "store.clock_behind")
		}
		now = st.headTime
	}
	e, err := ledger.Post(t, d.row.balance, c.row.balance, st.headSeq+1, id, now, st.headHash)
	if err != nil {
		return ledger.Entry{}, err
	}
	m := ledger.MonthOf(e.Time, s.loc)
	if !st.loaded[m] {
		// The month turned during the batch: read that month's rows first.
		b := &pgx.Batch{}
		accts := make([][]byte, 0, len(st.accounts))
		for k := range st.accounts {
			accts = append(accts, k[:])
		}
		s.queueMonths(b, st, m, accts)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return ledger.Entry{}, err
		}
	}

	// Accepted: from here on, only changes to the batch's state.
	d.row.balance -= t.Amount
	c.row.balance += t.Amount
	for _, side := range []struct {
		a ledger.Account
		s *accountState
	}{{t.Debit, d}, {t.Credit, c}} {
		side.s.row.lastSeq = e.Seq
		side.s.row.entries++
		side.s.row.minutes += ledger.ServiceMinutesDelta(&e, side.a)
		side.s.changed = true
		mk := monthKey{side.a.Key(), m}
		mt := st.months[mk]
		if mt == nil {
			mt = &ledger.MonthTotals{Month: m, Account: side.a}
			st.months[mk] = mt
		}
		mt.Apply(&e, side.a)
		st.changed[mk] = true
	}
	st.entries[e.Seq] = e
	if t.IdempotencyKey != "" {
		st.keys[t.IdempotencyKey] = e.Seq
		st.newKeys = append(st.newKeys, t.IdempotencyKey)
	}
	if t.Kind == ledger.KindReverse {
		st.reversed[t.Reverses] = e.Seq
		st.newRev = append(st.newRev, [2]uint64{t.Reverses, e.Seq})
	}
	st.appended = append(st.appended, e)
	st.headSeq, st.headHash, st.headTime = e.Seq, e.Hash, e.Time
	return e, nil
}

// writeBatch writes what the batch decided and commits, in one round trip.
func (s *Store) writeBatch(ctx context.Context, tx batcher, st *batchState) error {
	b := &pgx.Batch{}
	if len(st.opened) > 0 {
		keys := make([][]byte, len(st.opened))
		for i, k := range st.opened {
			keys[i] = k[:]
		}
		b.Queue(`INSERT INTO accounts (account) SELECT unnest($1::bytea[]) ON CONFLICT (account) DO NOTHING`, keys)
	}
	if len(st.appended) > 0 {
		n := len(st.appended)
		seqs, canon, hashes, debits, credits := make([]int64, n), make([][]byte, n), make([][]byte, n), make([][]byte, n), make([][]byte, n)
		for i := range st.appended {
			e := &st.appended[i]
			dk, ck := e.Debit.Key(), e.Credit.Key()
			seqs[i], canon[i], hashes[i], debits[i], credits[i] = int64(e.Seq), e.Canonical(), e.Hash[:], dk[:], ck[:]
		}
		b.Queue(`INSERT INTO journal (seq, canonical, hash, debit, credit)
			SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bytea[], $5::bytea[])`,
			seqs, canon, hashes, debits, credits)

		var ak [][]byte
		var bal, last, cnt, mins []int64
		for k, a := range st.accounts {
			if a.changed {
				ak = append(ak, k[:])
				bal, last, cnt, mins = append(bal, a.row.balance), append(last, int64(a.row.lastSeq)),
					append(cnt, int64(a.row.entries)), append(mins, a.row.minutes)
			}
		}
		b.Queue(`INSERT INTO accounts (account, balance, last_seq, entries, minutes)
			SELECT * FROM unnest($1::bytea[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
			ON CONFLICT (account) DO UPDATE SET balance = EXCLUDED.balance, last_seq = EXCLUDED.last_seq,
				entries = EXCLUDED.entries, minutes = EXCLUDED.minutes`, ak, bal, last, cnt, mins)

		var mk [][]byte
		var mm []int32
		var ins, outs []string
		var mmin, wish, ment []int64
		for k := range st.changed {
			t := st.months[k]
			mk, mm = append(mk, k.account[:]), append(mm, int32(k.month))
			ins, outs = append(ins, intArray(t.In[:])), append(outs, intArray(t.Out[:]))
			mmin, wish, ment = append(mmin, t.Minutes), append(wish, t.Wish), append(ment, int64(t.Entries))
		}
		b.Queue(`INSERT INTO account_months (account, month, ins, outs, minutes, wish, entries)
			SELECT a, m, i::bigint[], o::bigint[], mi, w, e
			FROM unnest($1::bytea[], $2::integer[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[])
				AS u(a, m, i, o, mi, w, e)
			ON CONFLICT (account, month) DO UPDATE SET ins = EXCLUDED.ins, outs = EXCLUDED.outs,
				minutes = EXCLUDED.minutes, wish = EXCLUDED.wish, entries = EXCLUDED.entries`,
			mk, mm, ins, outs, mmin, wish, ment)

		if len(st.newKeys) > 0 {
			kseq := make([]int64, len(st.newKeys))
			for i, k := range st.newKeys {
				kseq[i] = int64(st.keys[k])
			}
			b.Queue(`INSERT INTO idempotency (key, seq) SELECT * FROM unnest($1::text[], $2::bigint[])`, st.newKeys, kseq)
		}
		if len(st.newRev) > 0 {
			from, by := make([]int64, len(st.newRev)), make([]int64, len(st.newRev))
			for i, r := range st.newRev {
				from[i], by[i] = int64(r[0]), int64(r[1])
			}
			b.Queue(`INSERT INTO reversed (seq, by_seq) SELECT * FROM unnest($1::bigint[], $2::bigint[])`, from, by)
		}
		b.Queue(`UPDATE chain_head SET seq = $1, hash = $2, at = $3 WHERE id = 1`,
			int64(st.headSeq), st.headHash[:], st.headTime.UnixNano())
	}
	committed := false
	b.Queue(`COMMIT`).Exec(func(tag pgconn.CommandTag) error {
		committed = tag.String() == "COMMIT" // an aborted transaction answers COMMIT with ROLLBACK
		return nil
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	if !committed {
		return errors.New("the transaction was rolled back at commit")
	}
	return nil
}

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
	if limit <= 0 {
		return nil, nil
	}
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
