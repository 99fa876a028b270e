package postgres

import (
	"context"

	"aixin/ledger"
)

// One sweep at a time across app servers. Every app server runs the
// background sweeps (expiring vouchers and points, awards after their
// notice, lapsed wish claims, attendances left open, expired sessions,
// ended rate limit windows), and correctness never depends on who runs
// them: each item is decided again in its own request under the chain
// head's lock. But two servers sweeping the same items at once do the same
// reads twice and race each other's requests; the lock below lets one run a
// sweep and the other skip it.
//
// The lock is pg_try_advisory_xact_lock, taken in a transaction held open
// on a connection of its own while the sweep runs, and let go by its
// ROLLBACK. Chosen over the session lock (pg_try_advisory_lock and an
// unlock) because it cannot outlive the sweep: a transaction's lock ends
// with the transaction or with its connection, so no failed unlock can
// leave a lock on a connection the pool hands to someone else and stop the
// sweep everywhere; and it works through a pooler in transaction mode
// (PgBouncer), where a session lock would be taken on one server
// connection and released on another. The transaction writes nothing and,
// read committed, holds no snapshot between statements, so an open one for
// a long sweep does not hold back vacuum. A server whose transaction is
// cut (idle_in_transaction_session_timeout, a dropped connection) loses the
// lock, and another server may sweep beside it: wasted work, not harm.
//
// Each sweep has a lock of its own, so that different sweeps run on
// different servers at once, and a server holds at most one connection per
// sweep for the lock (Open keeps the pool larger than that).

// sweepLockPrefix is the high bytes of the sweeps' advisory lock keys
// ("aixinsw"); the low byte is the sweep's number. The migration's lock is
// another key ("aixinmig").
const sweepLockPrefix = 0x616978696e737700

// The sweeps' advisory lock keys.
const (
	lockVoucherExpiry = sweepLockPrefix + 1 + iota
	lockOpenAttendances
	lockAwardNotice
	lockPointsExpiry
	lockWishClaims
	lockSessions
	lockLimits

	sweepLocks = iota // how many sweeps take a lock
)

// alone runs the sweep run unless another app server on the database is
// running the same sweep (lock is its key) now: then it returns at once
// with Skipped set, having done nothing. Returns EUNAVAILABLE when the
// database cannot be reached, and what run returns.
func (s *Store) alone(ctx context.Context, lock int64, run func(context.Context) (ledger.SweepResult, error)) (ledger.SweepResult, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return ledger.SweepResult{}, unavailable(err)
	}
	// The ROLLBACK lets the lock go. If it fails, pgx closes the
	// connection, which lets the lock go as well.
	defer tx.Rollback(context.Background())
	var got bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, lock).Scan(&got); err != nil {
		return ledger.SweepResult{}, unavailable(err)
	}
	if !got {
		return ledger.SweepResult{Skipped: true}, nil
	}
	if s.sweepLocked != nil {
		s.sweepLocked(lock)
	}
	return run(ctx)
}
