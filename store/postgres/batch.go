package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The commit queue. Every write of an app server waits here; one goroutine
// takes all that wait and runs them in one transaction:
//
//  1. BEGIN, and lock the chain head row. Every write batch of every app
//     server takes this lock first, so batches never deadlock and the
//     journal has one order.
//  2. Each request in turn: it reads what its decision needs (through wtx,
//     which first sends the writes still pending, so a request sees what
//     the requests before it wrote), calls the decision in package ledger,
//     and queues what it returned. Appends to the journal are decided in
//     memory with ledger.Post against account rows read once per batch.
//  3. The pending writes, the journal's new entries, balances, monthly
//     totals, idempotency and reversal records, the new head, and COMMIT,
//     in one round trip.
//
// A refusal (a *ledger.Error) returned before the request wrote anything
// leaves the rest of the batch alone. Any other error, or a refusal after
// the request wrote, aborts the transaction; that request alone gets the
// error and the others run again in a new one (as on bbolt).

type opKind uint8

const (
	opOpen    opKind = iota + 1 // open an account
	opAppend                    // append a transfer
	opReverse                   // append the reverse of an entry
	opFunc                      // run fn
	opScan                      // a scan (scan.go)
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
	fn      func(w *wtx) error
	scan    *scanOp // opScan
	// points says an opFunc only moves points (vouchers, redemptions):
	// it writes no attendance, event or counter (updatePoints).
	points bool

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
	q := s.ops
	if o.kind == opScan {
		q = s.scans
	}
	select {
	case q <- o:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ledger.Errorf(ledger.EUNAVAILABLE, "store.busy")
	}
	s.mu.RUnlock()
	<-o.done
	return o.err
}

// update runs fn in the commit queue: in the transaction of a batch, after
// the requests queued before it.
func (s *Store) update(ctx context.Context, fn func(w *wtx) error) error {
	return s.queue(ctx, &op{kind: opFunc, fn: fn})
}

// updatePoints is update for a request that writes no attendance, event
// or event counter, nor reads them to decide: its batch may run while
// batches of scans do.
func (s *Store) updatePoints(ctx context.Context, fn func(w *wtx) error) error {
	return s.queue(ctx, &op{kind: opFunc, fn: fn, points: true})
}

// pointsOnly says whether o writes nothing a scan reads.
func (o *op) pointsOnly() bool {
	switch o.kind {
	case opOpen, opAppend, opReverse:
		return true
	case opFunc:
		return o.points
	}
	return false
}

// writeLoop runs the batches of one queue (ops or scans), one at a time.
func (s *Store) writeLoop(q chan *op) {
	batch := make([]*op, 0, s.maxBatch)
	expect := 0 // how many requests the next batch may expect
	for first := range q {
		batch = append(batch[:0], first)
		s.fill(q, &batch, min(expect, s.maxBatch))
		// The next batch takes those that queued during this one, and may
		// wait a moment for this one's callers to come back with their next
		// requests: a batch that waits for them carries twice the requests
		// of one that does not, for the same commit.
		expect = s.commit(q, batch) + len(batch)
	}
}

// refillWait bounds how long a batch waits for the requests it expects.
const refillWait = 200 * time.Microsecond

// fill takes the requests waiting into the batch, up to MaxBatch; while it
// holds fewer than expect, it lets the other goroutines run, up to
// refillWait, and takes those that arrive.
func (s *Store) fill(q chan *op, batch *[]*op, expect int) {
	var deadline time.Time
	for len(*batch) < s.maxBatch {
		select {
		case o, ok := <-q:
			if !ok {
				return
			}
			*batch = append(*batch, o)
			continue
		default:
		}
		if len(*batch) >= expect {
			return
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(refillWait)
		} else if time.Now().After(deadline) {
			return
		}
		runtime.Gosched()
	}
}

// genericPlanBatch is the largest batch that runs its statements with
// their generic plans.
const genericPlanBatch = 4

// batchTimeout bounds one batch's transaction, so that a database that
// stops answering fails the requests waiting instead of holding them.
const batchTimeout = 30 * time.Second

// aborted is runBatch's error when request i failed in a way that spoils
// the transaction.
type aborted struct {
	i   int
	err error
}

func (a *aborted) Error() string { return fmt.Sprintf("request %d: %v", a.i, a.err) }

// commit runs a batch of queue q in one transaction (again after a
// serialization failure or deadlock, and without a request that aborted
// it) and answers every request of it. It returns how many requests
// queued meanwhile.
func (s *Store) commit(q chan *op, batch []*op) (waiting int) {
	// The scans' queue shares the chain head unless a scan may need it
	// alone (scan.go); only the commit queue uses the row cache.
	m := mode{scans: q == s.scans, exclusive: s.needsGate(batch)}
	m.oneTrip = !m.scans && s.mayTakeOneTrip(batch)
	for attempt := 0; len(batch) > 0; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
		appended, err := s.runBatch(ctx, batch, m)
		cancel()
		if err == nil {
			if m.scans && !m.exclusive {
				s.stats.shared.Add(1)
			}
			s.stats.Commits.Add(1)
			s.stats.Appends.Add(uint64(appended))
			s.stats.ObserveBatch(len(batch))
			break
		}
		if errors.Is(err, errNeedsGate) && m.scans && !m.exclusive {
			m.exclusive = true
			attempt--
			continue
		}
		if errors.Is(err, errOneTrip) && m.oneTrip {
			m.oneTrip = false
			attempt--
			continue
		}
		s.stats.CommitErrors.Add(1)
		if !m.scans {
			s.cache.reset() // the batch may have committed or not
		}
		var ab *aborted
		if errors.As(err, &ab) {
			o := batch[ab.i]
			if _, refused := ledger.AsError(ab.err); refused {
				o.err = ab.err
			} else {
				o.err = fmt.Errorf("store write: %w", ab.err)
			}
			o.entry = ledger.Entry{}
			close(o.done)
			batch = append(batch[:ab.i:ab.i], batch[ab.i+1:]...)
			continue
		}
		if retryable(err) && attempt < 4 {
			s.stats.retries.Add(1)
			continue
		}
		err = unavailable(err)
		for _, o := range batch {
			o.entry, o.err = ledger.Entry{}, err
		}
		break
	}
	waiting = len(q)
	for _, o := range batch {
		close(o.done)
	}
	return waiting
}

// accountState is an account's row as the batch reads and changes it.
type accountState struct {
	row     accountRow
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

// batchState is the journal as one batch read it, and what it decided to write.
type batchState struct {
	headSeq  uint64
	headHash ledger.Hash
	headTime time.Time

	// accounts holds the rows read (nil: read and not open) or opened.
	accounts map[[ledger.AccountKeySize]byte]*accountState
	months   map[monthKey]*ledger.MonthTotals
	loaded   map[ledger.Month]bool // months whose rows were read for every account read
	changed  map[monthKey]bool
	// newMonths are the monthly totals rows the batch made: not in the
	// database yet.
	newMonths map[monthKey]bool
	entries   map[uint64]ledger.Entry // entries read (reverse targets, idempotent replays) or appended
	seqsRead  map[uint64]bool         // entries looked for (found or not)
	keys      map[string]uint64       // idempotency keys stored or appended (0: looked for, not found)
	reversed  map[uint64]uint64       // entry -> the entry that reversed it
	// cached says the head is where this server's last commit left it:
	// account and month rows come from the row cache.
	cached   bool
	opened   [][ledger.AccountKeySize]byte
	appended []ledger.Entry
	newKeys  []string
	newRev   [][2]uint64
}

func newBatchState() *batchState {
	return &batchState{
		accounts:  map[[ledger.AccountKeySize]byte]*accountState{},
		months:    map[monthKey]*ledger.MonthTotals{},
		loaded:    map[ledger.Month]bool{},
		changed:   map[monthKey]bool{},
		newMonths: map[monthKey]bool{},
		entries:   map[uint64]ledger.Entry{},
		seqsRead:  map[uint64]bool{},
		keys:      map[string]uint64{},
		reversed:  map[uint64]uint64{},
	}
}

// wtx is a batch's transaction as one request sees it.
type wtx struct {
	ctx     context.Context
	s       *Store
	conn    *pgxpool.Conn
	st      *batchState
	pending *pgx.Batch // writes not sent yet
	// wrote says whether the current request has written (queued a write
	// or appended an entry): a refusal after that spoils the batch.
	wrote bool
	// dirty says some request of the batch queued a write (sent or not):
	// the batch must commit.
	dirty bool
	// down is the first error of a round trip that found the database
	// unreachable (dbDown).
	down error
	// oneTrip says the batch sends everything at commit unless a request
	// must read; moved, that its head check found another server's
	// commit (onetrip.go).
	oneTrip, moved bool
}

// Exec queues a write; it is sent with the next read or at commit.
func (w *wtx) Exec(sql string, args ...any) {
	w.pending.Queue(sql, args...)
	w.wrote, w.dirty = true, true
}

// send sends the pending writes and b's reads in one round trip.
func (w *wtx) send(b *pgx.Batch) error {
	if len(w.pending.QueuedQueries) > 0 {
		b.QueuedQueries = append(w.pending.QueuedQueries, b.QueuedQueries...)
		w.pending = &pgx.Batch{}
	}
	if len(b.QueuedQueries) == 0 {
		return nil
	}
	err := w.conn.SendBatch(w.ctx, b).Close()
	if err != nil && w.down == nil && w.dbDown(err) {
		w.down = err
	}
	return err
}

// dbDown says whether err means the database could not be reached or
// went away: the connection is closed, the round trip timed out, or the
// server said so (SQLSTATE classes 08, 53, 57, 58). Then a request that
// failed on it did not fail by itself, and the whole batch is
// unavailable. An error of a statement, or of a request's own reading of
// the rows (a damaged document), is the request's alone.
func (w *wtx) dbDown(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code[:2] {
		case "08", "53", "57", "58": // connection exception, resources, operator intervention, system error
			return true
		}
		return false
	}
	return w.conn.Conn().IsClosed() || pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded)
}

// Query runs a read after the pending writes and scans its rows with fn.
func (w *wtx) Query(fn func(pgx.Rows) error, sql string, args ...any) error {
	b := &pgx.Batch{}
	b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			if err := fn(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	return w.send(b)
}

// QueryRow runs a read of at most one row after the pending writes and
// scans it into dest; it reports whether there was a row.
func (w *wtx) QueryRow(sql string, args []any, dest ...any) (bool, error) {
	found := false
	err := w.Query(func(rows pgx.Rows) error {
		found = true
		return rows.Scan(dest...)
	}, sql, args...)
	return found, err
}

// Append decides a transfer with ledger.Post against the batch's journal
// state, reading what it lacks first, and applies it when accepted.
func (w *wtx) Append(t ledger.Transfer) (ledger.Entry, error) {
	if err := t.Validate(); err != nil {
		return ledger.Entry{}, err
	}
	need := newNeed()
	need.transfer(t)
	if err := w.s.load(w.ctx, w, w.st, need); err != nil {
		return ledger.Entry{}, err
	}
	before := len(w.st.appended)
	e, err := w.s.decide(w.ctx, w, w.st, t)
	if len(w.st.appended) > before {
		w.wrote = true
	}
	return e, err
}

// OpenAccount opens an account in the batch (nothing if it is open).
func (w *wtx) OpenAccount(a ledger.Account) error {
	need := newNeed()
	k := a.Key()
	need.accounts[k] = true
	if err := w.s.load(w.ctx, w, w.st, need); err != nil {
		return err
	}
	if w.st.accounts[k] == nil {
		w.st.accounts[k] = &accountState{}
		w.st.opened = append(w.st.opened, k)
		w.wrote = true
	}
	return nil
}

// openNewAccount opens the account of an object made in this request
// (a new member's): it cannot be open yet, so nothing is read.
func (w *wtx) openNewAccount(a ledger.Account) {
	k := a.Key()
	if w.st.accounts[k] == nil {
		w.st.accounts[k] = &accountState{}
		w.st.opened = append(w.st.opened, k)
	}
	w.wrote = true
}

// sweep handles each item of a background sweep in a request of its own
// (the requests share commits, and one that fails fails alone). handle
// decides again on what its request reads and says whether it handled
// item i, so two app servers sweeping at once handle an item once; the
// last run of a request (a batch may run again) is the one counted. The
// outcomes are added to res; sweep returns an error only when the
// database cannot be reached, and the sweep should stop.
func (s *Store) sweep(ctx context.Context, ids []uuid.UUID, res *ledger.SweepResult, handle func(w *wtx, i int) (bool, error)) error {
	handled := make([]bool, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			errs[i] = s.update(ctx, func(w *wtx) error {
				var err error
				handled[i], err = handle(w, i)
				return err
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case err == nil && handled[i]:
			res.Done++
		case err == nil:
		case ledger.ErrorCode(err) == ledger.EUNAVAILABLE:
			return err
		default:
			res.Failed = append(res.Failed, ledger.SweepFailure{ID: ids[i], Err: err})
		}
	}
	return nil
}

// mode is how a batch runs: a batch of the commit queue (with the chain
// head and the row cache), or of the scans' queue (scans), sharing the
// scans' gate with other batches of scans or holding it alone (exclusive).
//
// oneTrip is a batch of the commit queue that the row cache can decide
// alone (onetrip.go): it goes in one round trip.
type mode struct{ scans, exclusive, oneTrip bool }

// runBatch runs the batch in one transaction and commits. It returns the
// number of entries appended.
func (s *Store) runBatch(ctx context.Context, batch []*op, m mode) (int, error) {
	for _, o := range batch {
		o.entry, o.err = ledger.Entry{}, nil
	}
	st := newBatchState()
	// What the batch's appends, reverses and opens need, read with the
	// head; accounts the row cache may hold wait until the head says
	// whether it does.
	need, later := newNeed(), newNeed()
	for _, o := range batch {
		switch o.kind {
		case opOpen:
			need.accounts[o.account.Key()] = true
		case opReverse:
			need.seqs[o.seq] = true
			if o.key != "" {
				need.keys[o.key] = true
			}
		case opAppend:
			need.transfer(o.t)
		}
	}
	if m.oneTrip && !s.fromCache(st, need) {
		return 0, errOneTrip
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	// BEGIN travels with the first reads and COMMIT with the writes, so a
	// batch of appends costs two round trips (one when it takes one trip:
	// onetrip.go). On any error the transaction is rolled back, or the
	// connection closed if it cannot be.
	open := true
	defer func() {
		if open {
			if _, err := conn.Exec(context.Background(), "ROLLBACK"); err != nil {
				conn.Conn().Close(context.Background())
			}
		}
	}()
	w := &wtx{ctx: ctx, s: s, conn: conn, st: st, pending: &pgx.Batch{}, oneTrip: m.oneTrip}
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	// The batch reads rows by key only. A plan made while a table was
	// small (prepared statements keep theirs until ANALYZE) must not stay a
	// scan of the whole table once it is large: within the batch, scans
	// and the joins that read a whole side (hash, merge) lose to index
	// lookups. A small batch uses its statements' generic plans: custom
	// ones, made again at every run, cost more than the batch's work.
	planMode := "auto"
	if len(batch) <= genericPlanBatch {
		planMode = "force_generic_plan"
	}
	b.Queue(`SELECT set_config('enable_seqscan', 'off', true), set_config('enable_hashjoin', 'off', true),
		set_config('enable_mergejoin', 'off', true), set_config('plan_cache_mode', $1, true)`, planMode)
	// The chain head, alone: every batch that appends or may write what
	// scans read. The scans' gate after it: shared by batches of scans,
	// alone for every other batch that may write what scans read (all but
	// those whose requests only move points).
	gate := ""
	switch {
	case m.scans && m.exclusive:
		gate = `pg_advisory_xact_lock`
	case m.scans:
		gate = `pg_advisory_xact_lock_shared`
	case m.oneTrip:
		queueHeadCheck(b, st, &w.moved)
	default:
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
		for _, o := range batch {
			if !o.pointsOnly() {
				gate = `pg_advisory_xact_lock`
				break
			}
		}
	}
	if gate != "" {
		b.Queue(`SELECT `+gate+`($1)`, int64(scanGateLock))
	}
	// The scans' reads travel with the head and the gate (scan.go).
	var scans []*scanOp
	for _, o := range batch {
		if o.kind == opScan {
			scans = append(scans, o.scan)
		}
	}
	var reads *scanReads
	if len(scans) > 0 {
		reads = newScanReads()
		s.queueScanReads(b, reads, scans)
	}
	w.pending = b
	if !m.oneTrip {
		if !m.scans && s.cache.valid {
			for k := range need.accounts {
				if _, ok := s.cache.accounts[k]; ok {
					delete(need.accounts, k)
					later.accounts[k] = true
				}
			}
		}
		if err := s.load(ctx, w, st, need); err != nil {
			return 0, err
		}
		if err := w.send(&pgx.Batch{}); err != nil { // when the batch needed nothing: the head still
			return 0, err
		}
		if !m.scans {
			st.cached = s.cache.matches(st.headSeq, st.headHash)
			if s.trustCache = st.cached; !st.cached {
				s.cache.reset()
			}
		}
		if m.scans && s.noteCapacities(reads, scans) && !m.exclusive {
			return 0, errNeedsGate
		}
		if err := s.load(ctx, w, st, later); err != nil {
			return 0, err
		}
	}

	// The scans first: what they read at the start holds until another
	// request writes. The requests of a batch all waited at once; any
	// order of them is one they could have come in.
	order := make([]int, 0, len(batch))
	for i, o := range batch {
		if o.kind == opScan {
			order = append(order, i)
		}
	}
	for i, o := range batch {
		if o.kind != opScan {
			order = append(order, i)
		}
	}
	for _, i := range order {
		o := batch[i]
		if o.kind != opScan && reads != nil {
			// The scans' writes, before a request that may read them.
			reads.flush(w)
		}
		w.wrote = false
		switch o.kind {
		case opScan:
			o.err = w.runScan(reads, o.scan)
		case opOpen:
			k := o.account.Key()
			if st.accounts[k] == nil {
				st.accounts[k] = &accountState{}
				st.opened = append(st.opened, k)
			}
		case opReverse:
			orig, ok := st.entries[o.seq]
			if !ok {
				o.err = ledger.Errorf(ledger.ENOTFOUND, "entry.not_found", o.seq)
				break
			}
			t, err := ledger.Reverse(orig, o.actor, o.memo, o.key)
			if err != nil {
				o.err = err
				break
			}
			o.entry, o.err = w.Append(t)
		case opAppend:
			o.entry, o.err = w.Append(o.t)
		case opFunc:
			o.err = runFn(o.fn, w)
		}
		if o.err == nil {
			continue
		}
		if w.down != nil {
			return 0, w.down // no request's own fault: the batch fails as a whole
		}
		if m.oneTrip {
			// A refusal decided on what the batch did not read (a key
			// replayed, a balance another server changed) is not settled
			// here, nor a request's failure: the usual way reads first
			// (onetrip.go).
			if w.moved {
				return 0, s.oneTripFailed(w, o.err)
			}
			return 0, errOneTrip
		}
		if _, refused := ledger.AsError(o.err); !refused || w.wrote {
			return 0, &aborted{i, o.err}
		}
		// A refusal before any write: nothing of it is in the transaction.
	}
	if reads != nil {
		reads.flush(w)
	}
	if len(st.appended) == 0 && len(st.opened) == 0 && !w.dirty {
		return 0, nil // nothing written: the rollback ends it
	}
	s.queueJournal(w.pending, st)
	committed := false
	w.pending.Queue(`COMMIT`).Exec(func(tag pgconn.CommandTag) error {
		committed = tag.String() == "COMMIT" // an aborted transaction answers COMMIT with ROLLBACK
		return nil
	})
	if err := w.send(&pgx.Batch{}); err != nil {
		if m.oneTrip {
			return 0, s.oneTripFailed(w, err)
		}
		return 0, err
	}
	open = false
	if !committed {
		return 0, errors.New("the transaction was rolled back at commit")
	}
	if !m.scans {
		s.cache.keep(st)
	}
	if m.oneTrip {
		s.stats.oneTrip.Add(1)
	}
	return len(st.appended), nil
}

// runFn runs a request's function, turning a panic into an error that
// aborts the batch instead of ending the process.
func runFn(fn func(*wtx) error, w *wtx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in a write: %v", r)
		}
	}()
	return fn(w)
}

// need is what a decision needs of the journal that the batch may not have read.
type need struct {
	accounts map[[ledger.AccountKeySize]byte]bool
	keys     map[string]bool
	seqs     map[uint64]bool
}

func newNeed() need {
	return need{map[[ledger.AccountKeySize]byte]bool{}, map[string]bool{}, map[uint64]bool{}}
}

func (n need) transfer(t ledger.Transfer) {
	n.accounts[t.Debit.Key()], n.accounts[t.Credit.Key()] = true, true
	if t.Kind == ledger.KindReverse {
		n.seqs[t.Reverses] = true
	}
	if t.IdempotencyKey != "" {
		n.keys[t.IdempotencyKey] = true
	}
}

// load reads what n names and the batch has not read yet: reverse targets
// (with whether they were reversed) and idempotency keys first, then the
// accounts (queueAccounts). It costs one round trip; one more when a
// reverse names its entry by seq only, and one more when a key was used
// before (to read the entry it made).
func (s *Store) load(ctx context.Context, w *wtx, st *batchState, n need) error {
	b := &pgx.Batch{}
	var seqs []int64
	for seq := range n.seqs {
		if !st.seqsRead[seq] {
			st.seqsRead[seq] = true
			seqs = append(seqs, seqArg(seq))
		}
	}
	var keys []string
	for k := range n.keys {
		if _, ok := st.keys[k]; !ok {
			st.keys[k] = 0
			keys = append(keys, k)
		}
	}
	// Each read names one table by its key, so that its plan stays a few
	// index probes however many keys a large batch brings.
	if len(seqs) > 0 {
		queueEntries(b, st, seqs, n.accounts)
		b.Queue(`SELECT seq, by_seq FROM reversed WHERE seq = ANY($1)`, seqs).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var seq, by int64
				if err := rows.Scan(&seq, &by); err != nil {
					return err
				}
				st.reversed[uint64(seq)] = uint64(by)
			}
			return rows.Err()
		})
	}
	var replayed []int64 // entries an idempotency key names, not read yet
	if len(keys) > 0 {
		b.Queue(`SELECT key, seq FROM idempotency WHERE key = ANY($1)`, keys).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var key string
				var seq int64
				if err := rows.Scan(&key, &seq); err != nil {
					return err
				}
				st.keys[key] = uint64(seq)
				if _, ok := st.entries[uint64(seq)]; !ok {
					replayed = append(replayed, seq)
				}
			}
			return rows.Err()
		})
	}
	if len(seqs) > 0 {
		// A reverse named by seq: its accounts are known once its entry is.
		if err := w.send(b); err != nil {
			return err
		}
		b = &pgx.Batch{}
	}
	s.queueAccounts(b, st, n.accounts)
	if len(keys) > 0 && len(seqs) == 0 {
		// The keys' answer decides whether a replay's entry must be read.
		if err := w.send(b); err != nil {
			return err
		}
		b = &pgx.Batch{}
	}
	if len(replayed) > 0 {
		queueEntries(b, st, replayed, nil)
	}
	if len(b.QueuedQueries) == 0 && w.oneTrip {
		return nil // nothing to read: the batch's one trip comes at commit
	}
	return w.send(b)
}

// queueAccounts queues the reads of the accounts the batch has not read
// yet, locked in key order (the order every engine takes account locks
// in), with their rows of the months read; those the row cache holds, it
// takes from there.
func (s *Store) queueAccounts(b *pgx.Batch, st *batchState, accounts map[[ledger.AccountKeySize]byte]bool) {
	unread := false
	for k := range accounts {
		if _, ok := st.accounts[k]; !ok {
			unread = true
			break
		}
	}
	if !unread {
		return
	}
	months := []ledger.Month{ledger.MonthOf(s.now(), s.loc)}
	for m := range st.loaded {
		if m != months[0] {
			months = append(months, m)
		}
	}
	if !st.loaded[months[0]] && len(st.loaded) > 0 {
		// The month turned during the batch: the accounts read before need
		// their rows of the new month too.
		var before [][]byte
		for k, a := range st.accounts {
			if a != nil {
				before = append(before, k[:])
			}
		}
		if len(before) > 0 {
			s.queueMonths(b, st, months[0], before)
		}
	}
	for _, m := range months {
		st.loaded[m] = true
	}
	var accts [][]byte
	for k := range accounts {
		if _, ok := st.accounts[k]; ok {
			continue
		}
		if st.cached && s.cache.fill(st, k, months) {
			continue
		}
		st.accounts[k] = nil
		accts = append(accts, k[:])
	}
	if len(accts) > 0 {
		slices.SortFunc(accts, func(a, b []byte) int { return strings.Compare(string(a), string(b)) })
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
				st.accounts[[ledger.AccountKeySize]byte(k)] = &accountState{row: r}
			}
			return rows.Err()
		})
		for _, m := range months {
			s.queueMonths(b, st, m, accts)
		}
	}
}

// queueEntries queues the read of entries seqs, with the entries before
// them for their previous hashes, into st.entries; accounts, when not nil,
// gets the accounts of each.
func queueEntries(b *pgx.Batch, st *batchState, seqs []int64, accounts map[[ledger.AccountKeySize]byte]bool) {
	want := make([]int64, 0, 2*len(seqs))
	for _, seq := range seqs {
		want = append(want, seq, seq-1)
	}
	b.Queue(`SELECT seq, canonical, hash FROM journal WHERE seq = ANY($1)`, want).Query(func(rows pgx.Rows) error {
		type row struct{ canon, hash []byte }
		got := map[int64]row{}
		for rows.Next() {
			var seq int64
			var r row
			if err := rows.Scan(&seq, &r.canon, &r.hash); err != nil {
				return err
			}
			got[seq] = r
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, seq := range seqs {
			r, ok := got[seq]
			if !ok {
				continue
			}
			e, err := ledger.DecodeCanonical(r.canon)
			if err != nil {
				return fmt.Errorf("entry %d cannot be decoded: %w", seq, err)
			}
			p, hasPrev := got[seq-1]
			if e.Seq != uint64(seq) || len(r.hash) != len(e.Hash) || (hasPrev && len(p.hash) != len(e.PrevHash)) {
				return fmt.Errorf("entry %d is damaged: run aixin verify", seq)
			}
			copy(e.Hash[:], r.hash)
			copy(e.PrevHash[:], p.hash)
			st.entries[e.Seq] = e
			if accounts != nil {
				accounts[e.Debit.Key()], accounts[e.Credit.Key()] = true, true
			}
		}
		return nil
	})
}

// queueMonths queues the read of the month rows of accts in month m.
func (s *Store) queueMonths(b *pgx.Batch, st *batchState, m ledger.Month, accts [][]byte) {
	st.loaded[m] = true
	// A lookup of each account's row, so that no plan reads the whole month.
	b.Queue(`SELECT a.account, a.ins, a.outs, a.minutes, a.wish, a.entries
		FROM unnest($2::bytea[]) AS k(account) JOIN account_months a ON a.account = k.account AND a.month = $1`,
		int32(m), accts).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			t, k, err := scanMonth(rows, m)
			if err != nil {
				return err
			}
			if st.months[monthKey{k, m}] == nil {
				st.months[monthKey{k, m}] = &t
			}
		}
		return rows.Err()
	})
}

// decide decides one transfer against the batch's state so far (ledger.Post
// and the checks around it) and, when it is accepted, applies it to that
// state. It returns a refusal without changing anything. Everything it
// needs has been loaded.
func (s *Store) decide(ctx context.Context, w *wtx, st *batchState, t ledger.Transfer) (ledger.Entry, error) {
	if t.IdempotencyKey != "" {
		if seq := st.keys[t.IdempotencyKey]; seq != 0 {
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
		if err := w.send(b); err != nil {
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
			st.newMonths[mk] = true
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

// queueJournal queues the writes of what the batch appended and opened.
func (s *Store) queueJournal(b *pgx.Batch, st *batchState) {
	if len(st.opened) > 0 {
		keys := make([][]byte, len(st.opened))
		for i, k := range st.opened {
			keys[i] = k[:]
		}
		b.Queue(`INSERT INTO accounts (account) SELECT unnest($1::bytea[]) ON CONFLICT (account) DO NOTHING`, keys)
	}
	if len(st.appended) == 0 {
		return
	}
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
		if a != nil && a.changed {
			ak = append(ak, k[:])
			bal, last, cnt, mins = append(bal, a.row.balance), append(last, int64(a.row.lastSeq)),
				append(cnt, int64(a.row.entries)), append(mins, a.row.minutes)
		}
	}
	// Every changed account is open (read, or opened above): an update,
	// which costs less than an insert that finds its row. Should a row be
	// missing all the same, the statement fails (a division by zero), so
	// that the transaction cannot commit an entry without its balance.
	b.Queue(`WITH up AS (UPDATE accounts a SET balance = u.b, last_seq = u.l, entries = u.e, minutes = u.m
			FROM unnest($1::bytea[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) AS u(k, b, l, e, m)
			WHERE a.account = u.k RETURNING 1)
		SELECT 1 / (count(*) = $6)::int FROM up`, ak, bal, last, cnt, mins, len(ak))

	// The monthly totals rows: new ones inserted, the others (read, so
	// there) updated.
	var rows [2]struct {
		k         [][]byte
		m         []int32
		ins, outs []string
		mi, w, e  []int64
	}
	for k := range st.changed {
		t, r := st.months[k], &rows[0]
		if st.newMonths[k] {
			r = &rows[1]
		}
		r.k, r.m = append(r.k, k.account[:]), append(r.m, int32(k.month))
		r.ins, r.outs = append(r.ins, intArray(t.In[:])), append(r.outs, intArray(t.Out[:]))
		r.mi, r.w, r.e = append(r.mi, t.Minutes), append(r.w, t.Wish), append(r.e, int64(t.Entries))
	}
	if r := rows[0]; len(r.k) > 0 {
		b.Queue(`WITH up AS (UPDATE account_months a SET ins = u.i::bigint[], outs = u.o::bigint[], minutes = u.mi, wish = u.w, entries = u.e
				FROM unnest($1::bytea[], $2::integer[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[])
					AS u(k, m, i, o, mi, w, e)
				WHERE a.account = u.k AND a.month = u.m RETURNING 1)
			SELECT 1 / (count(*) = $8)::int FROM up`, r.k, r.m, r.ins, r.outs, r.mi, r.w, r.e, len(r.k))
	}
	if r := rows[1]; len(r.k) > 0 {
		b.Queue(`INSERT INTO account_months (account, month, ins, outs, minutes, wish, entries)
			SELECT k, m, i::bigint[], o::bigint[], mi, w, e
			FROM unnest($1::bytea[], $2::integer[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[])
				AS u(k, m, i, o, mi, w, e)`, r.k, r.m, r.ins, r.outs, r.mi, r.w, r.e)
	}

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

// Balance reads an account's balance as the batch has it (0 for an account
// that is not open).
func (w *wtx) Balance(a ledger.Account) (ledger.Points, error) {
	need := newNeed()
	need.accounts[a.Key()] = true
	if err := w.s.load(w.ctx, w, w.st, need); err != nil {
		return 0, err
	}
	if st := w.st.accounts[a.Key()]; st != nil {
		return st.row.balance, nil
	}
	return 0, nil
}

// Entry reads entry seq as the batch has it; ENOTFOUND if there is none.
func (w *wtx) Entry(seq uint64) (ledger.Entry, error) {
	need := newNeed()
	need.seqs[seq] = true
	if err := w.s.load(w.ctx, w, w.st, need); err != nil {
		return ledger.Entry{}, err
	}
	e, ok := w.st.entries[seq]
	if !ok {
		return ledger.Entry{}, ledger.Errorf(ledger.ENOTFOUND, "entry.not_found", seq)
	}
	return e, nil
}

// EntryByKey reads the entry an idempotency key first produced, as the
// batch has it; found is false for a key not used yet.
func (w *wtx) EntryByKey(key string) (e ledger.Entry, found bool, err error) {
	need := newNeed()
	need.keys[key] = true
	if err := w.s.load(w.ctx, w, w.st, need); err != nil {
		return ledger.Entry{}, false, err
	}
	seq := w.st.keys[key]
	if seq == 0 {
		return ledger.Entry{}, false, nil
	}
	return w.st.entries[seq], true, nil
}
