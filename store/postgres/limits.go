package postgres

import (
	"context"
	"errors"
	"time"

	"aixin/ledger"

	"github.com/jackc/pgx/v5"
)

// Rate limits and login lockouts, counted in the table rate_limits
// (migration 0010) so that every app server sees the same counts: five
// wrong passwords lock a login whichever servers they reached. Each call is
// one statement on the pool, outside the commit queue: a count is not part
// of the ledger, must not wait behind a batch of appends, and must not be
// undone by a batch that fails. Times are the caller's clock, never
// PostgreSQL's now(), so that a server's fake clock in tests moves its
// windows (servers' clocks are assumed to agree within a second or so, as
// the journal's times already assume).

// limitSweepChunk is how many ended windows one statement of SweepLimits
// deletes, so that a sweep after a flood holds no lock for long.
const limitSweepChunk = 1000

// HitLimit implements ledger.Limits in one round trip: the row of (limit,
// key) is made with a count of one, or counted on, or started again when
// its window has ended. The row's lock orders concurrent hits of one key
// (PostgreSQL updates the newest version of a row that another hit has
// just changed), so each is counted exactly once.
func (s *Store) HitLimit(ctx context.Context, l ledger.Limit, key string, now time.Time) (time.Duration, error) {
	at := now.UnixNano()
	var start int64
	var count int
	// A count need not wait for its commit to reach the disk: one that a
	// crash of PostgreSQL loses (at most the last 0.6 s of them, by
	// PostgreSQL's wal_writer_delay) only lets a client a few more tries,
	// and an fsync for each hit would cost the scans behind it their disk.
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`SET LOCAL synchronous_commit = off`)
	b.Queue(`INSERT INTO rate_limits AS r (name, key, window_start, window_end, count)
		VALUES ($1, $2, $3, $4, 1)
		ON CONFLICT (name, key) DO UPDATE SET
			window_start = CASE WHEN r.window_end <= $3 THEN excluded.window_start ELSE r.window_start END,
			window_end = CASE WHEN r.window_end <= $3 THEN excluded.window_end ELSE r.window_end END,
			count = CASE WHEN r.window_end <= $3 THEN 1 ELSE r.count + 1 END
		RETURNING window_start, count`, l.Name, key, at, at+int64(l.Period)).QueryRow(func(r pgx.Row) error {
		return r.Scan(&start, &count)
	})
	b.Queue(`COMMIT`)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return 0, unavailable(err)
	}
	return l.HitWait(ledger.LimitWindow{Start: time.Unix(0, start), Count: count}, now), nil
}

// LimitBlocked implements ledger.Limits with one read.
func (s *Store) LimitBlocked(ctx context.Context, l ledger.Limit, key string, now time.Time) (time.Duration, error) {
	var start int64
	var count int
	err := s.pool.QueryRow(ctx, `SELECT window_start, count FROM rate_limits WHERE name = $1 AND key = $2`,
		l.Name, key).Scan(&start, &count)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, unavailable(err)
	}
	w := l.Current(ledger.LimitWindow{Start: time.Unix(0, start), Count: count}, now)
	return l.BlockedWait(w, now), nil
}

// ResetLimit implements ledger.Limits.
func (s *Store) ResetLimit(ctx context.Context, l ledger.Limit, key string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM rate_limits WHERE name = $1 AND key = $2`, l.Name, key); err != nil {
		return unavailable(err)
	}
	return nil
}

// SweepLimits deletes the rate limit windows that ended at now, a chunk at
// a time, so that the table holds only the keys of the last period or
// two; res.Done says how many. A hit finds an ended window by itself, so
// the sweep only saves room. One app server at a time sweeps (sweeplock.go).
func (s *Store) SweepLimits(ctx context.Context, now time.Time) (ledger.SweepResult, error) {
	return s.alone(ctx, lockLimits, func(ctx context.Context) (ledger.SweepResult, error) {
		var res ledger.SweepResult
		for {
			// The outer window_end test is checked again on a row that a
			// hit renewed since the inner select found it, which keeps it.
			tag, err := s.pool.Exec(ctx, `DELETE FROM rate_limits WHERE window_end <= $1 AND (name, key) IN (
				SELECT name, key FROM rate_limits WHERE window_end <= $1 LIMIT `+itoa(limitSweepChunk)+`)`, now.UnixNano())
			if err != nil {
				return res, unavailable(err)
			}
			res.Done += int(tag.RowsAffected())
			if tag.RowsAffected() < limitSweepChunk {
				return res, nil
			}
		}
	})
}

var _ ledger.Limits = (*Store)(nil)
