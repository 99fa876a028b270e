package postgres

// One round trip for a batch of appends.
//
// A batch of the commit queue reads the chain head (locking it) and what
// its requests need, decides in memory, then sends its writes and COMMIT:
// two round trips, and the chain head stays locked over both, so the
// next batch of every app server waits for them. When this app server
// wrote the head last, the row cache (cache.go) holds every row a batch
// of appends reads but the idempotency keys. Such a batch then decides
// before it sends anything, and sends the head check, its writes and
// COMMIT in one round trip:
//
//   - The head check locks the chain head, then compares it with the
//     cache's. Another server's commit since makes the comparison divide
//     by zero: the transaction fails before any write, the cache is
//     forgotten, and the batch runs again the usual way.
//   - A key is taken to be new. One used before makes the key's insert
//     fail (its primary key): nothing is written, and the batch runs
//     again the usual way, which reads the key and answers the replay.
//   - A refusal is never answered from the cache alone: a replayed key
//     whose transfer would now be refused, or a balance another server
//     raised, must not be refused unread. A request refused (or failed)
//     sends the batch again the usual way.
//
// A batch that takes one trip is only one whose every request is a plain
// append, after a batch that found the head where the cache holds it:
// with two app servers taking turns, a batch does not try it again until
// one finds the head where it left it.

import (
	"errors"

	"aixin/ledger"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// errOneTrip is runBatch's error when a one-trip batch must run again the
// usual way: the cache lacks a row, another server committed, or a key was
// used before.
var errOneTrip = errors.New("the batch must read first")

// mayTakeOneTrip says whether batch may try one round trip.
func (s *Store) mayTakeOneTrip(batch []*op) bool {
	if !s.trustCache || !s.cache.valid {
		return false
	}
	for _, o := range batch {
		if o.kind != opAppend || o.t.Kind == ledger.KindReverse {
			return false
		}
	}
	return true
}

// fromCache gives the batch what n names from the row cache, as the
// usual first round trip would have read it: the head, the accounts and
// their rows of this month, and every key unused. It reports false when
// the cache lacks a row.
func (s *Store) fromCache(st *batchState, n need) bool {
	c := &s.cache
	if !c.valid || len(n.seqs) > 0 {
		return false
	}
	month := []ledger.Month{ledger.MonthOf(s.now(), s.loc)}
	for k := range n.accounts {
		if !c.fill(st, k, month) {
			return false
		}
	}
	st.loaded[month[0]] = true
	for k := range n.keys {
		st.keys[k] = 0
	}
	st.cached = true
	st.headSeq, st.headHash, st.headTime = c.headSeq, c.headHash, c.headTime
	return true
}

// queueHeadCheck queues the one-trip batch's lock of the chain head and
// its comparison with st's; a mismatch fails the transaction and sets
// *moved.
func queueHeadCheck(b *pgx.Batch, st *batchState, moved *bool) {
	// A copy: the batch's decisions move st's head before the batch is sent.
	hash := st.headHash
	b.Queue(`SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE`)
	b.Queue(`SELECT 1 / (seq = $1 AND hash = $2)::int FROM chain_head WHERE id = 1`,
		seqArg(st.headSeq), hash[:]).QueryRow(func(r pgx.Row) error {
		var one int
		err := r.Scan(&one)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "22012" { // division by zero
			*moved = true
		}
		return err
	})
}

// oneTripFailed turns the error of a one-trip batch's round trip into
// errOneTrip when the batch should run again the usual way.
func (s *Store) oneTripFailed(w *wtx, err error) error {
	var pe *pgconn.PgError
	switch {
	case w.moved:
		s.stats.moved.Add(1)
		s.cache.reset()
		s.trustCache = false
		return errOneTrip
	case errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "idempotency_pkey":
		return errOneTrip
	}
	return err
}
