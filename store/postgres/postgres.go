// Package postgres keeps aixin's ledger in PostgreSQL, for deployments that
// run several app servers or must survive the loss of one: every app server
// is stateless and any request may reach any of them.
//
// It is the second engine beside the bbolt file (package bolt) and calls
// the same decisions in package ledger: an engine reads what a decision
// needs, calls it, and writes what it returned in one SQL transaction.
// The journal's canonical bytes and hash chain are the bbolt engine's, so
// the same journal has the same head hash on both.
//
// Writes share commits as the bbolt commit queue does: one goroutine per
// app server takes every append waiting, reads the rows they need in one
// round trip (the chain head first, locked, then the accounts in key
// order, locked), decides each append in memory with ledger.Post, writes
// the results in one round trip and commits once. A refused append writes
// nothing and does not disturb the others of its batch. Appends from
// several app servers are ordered by the lock on the chain head row.
//
// The schema is plain SQL (no extensions), in numbered files under
// migrations/, applied at Open under an advisory lock.
package postgres

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // months are counted in Asia/Shanghai even where the system has no tz data

	"aixin/ledger"
	"aixin/store"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// SchemaVersion is the number of the newest migration.
var SchemaVersion = func() int {
	ms, err := migrations()
	if err != nil {
		panic(err)
	}
	return ms[len(ms)-1].version
}()

// Options are the settings of Open. The zero value is usable.
type Options struct {
	// Location is the time zone months are counted in. A new database
	// records it; an existing one must be opened with the same one.
	// Default: the database's own, or Asia/Shanghai for a new one.
	Location *time.Location
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// MaxBatch caps how many appends one commit takes. Default 1024.
	MaxBatch int
	// MaxConns is the size of the connection pool. Default 16.
	MaxConns int32
	// AwardRules are the settings of behaviour awards. Default ledger.DefaultAwardRules.
	AwardRules *ledger.AwardRules
	// Rules are the rules of hours into points. Default ledger.DefaultEventRules.
	Rules *ledger.EventRules
	// VoucherLife is how long a voucher stays valid. Default ledger.VoucherLife (30 days).
	VoucherLife time.Duration
	// WishClaimLife is how long a claim of a wish stays before it goes back
	// to the wall unfulfilled. Default ledger.DefaultWishClaimDays days.
	WishClaimLife time.Duration
	// Existing opens only a database that already holds aixin's ledger at
	// this version's schema, and changes nothing at open (for verify).
	Existing bool
}

// Store is the PostgreSQL engine. It implements ledger.Journal.
type Store struct {
	pool        *pgxpool.Pool
	loc         *time.Location
	now         func() time.Time
	maxBatch    int
	awardRules  ledger.AwardRules
	voucherLife time.Duration
	rules       ledger.EventRules
	// wishClaimLife is how long a claim of a wish lasts (Options.WishClaimLife).
	wishClaimLife time.Duration

	mu     sync.RWMutex // guards closed against sends on ops and scans
	closed bool
	ops    chan *op // the commit queue
	scans  chan *op // the scans' queue (scan.go)
	done   sync.WaitGroup
	// capacity are the events seen with a capacity: their scans take the
	// scans' gate alone (scan.go).
	capacity sync.Map
	stats    stats
	cache    rowCache // the commit queue's rows, as of its last commit
	// trustCache says the commit queue's last batch found the head where
	// the cache holds it: the next may take one trip (onetrip.go).
	trustCache bool

	// sweepLocked, when set (by tests), is called by a sweep that has
	// taken its lock, with the lock's key, before it sweeps.
	sweepLocked func(lock int64)
}

// stats are the engine's counters: the ones every engine has, and how
// often a batch ran again after a serialization failure or deadlock.
type stats struct {
	store.Counters
	retries atomic.Uint64
	shared  atomic.Uint64 // batches of scans that shared the gate
	oneTrip atomic.Uint64 // batches committed in one round trip (onetrip.go)
	moved   atomic.Uint64 // one-trip batches that found another server's commit
}

// Stats returns a snapshot of the engine's counters.
func (s *Store) Stats() store.Stats { return s.stats.Snapshot(len(s.ops) + len(s.scans)) }

// Open connects to the database at url (postgres://…), applies the
// migrations it has not seen yet and starts the commit queue.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database address: %w", err)
	}
	// Each running sweep holds a connection for its lock (sweeplock.go):
	// the pool stays larger than that, so requests and the commit queue
	// always find one.
	cfg.MaxConns = max(cmp.Or(opts.MaxConns, 16), sweepLocks+4)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", cfg.ConnConfig.Host, err)
	}
	s := &Store{pool: pool, now: opts.Now, maxBatch: cmp.Or(opts.MaxBatch, 1024)}
	if s.now == nil {
		s.now = time.Now
	}
	s.voucherLife = cmp.Or(opts.VoucherLife, ledger.VoucherLife)
	s.rules = ledger.DefaultEventRules
	if opts.Rules != nil {
		s.rules = *opts.Rules
	}
	s.wishClaimLife = cmp.Or(opts.WishClaimLife, ledger.DefaultWishClaimDays*24*time.Hour)
	s.awardRules = ledger.DefaultAwardRules
	if opts.AwardRules != nil {
		s.awardRules = *opts.AwardRules
	}
	if err := s.migrate(ctx, opts.Location, opts.Existing); err != nil {
		pool.Close()
		return nil, err
	}
	s.ops, s.scans = make(chan *op, s.maxBatch), make(chan *op, s.maxBatch)
	s.done.Go(func() { s.writeLoop(s.ops) })
	s.done.Go(func() { s.writeLoop(s.scans) })
	return s, nil
}

// Close stops taking writes, waits for those queued and closes the pool.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.ops)
	close(s.scans)
	s.mu.Unlock()
	s.done.Wait()
	s.pool.Close()
	return nil
}

// Location returns the time zone months are counted in.
func (s *Store) Location() *time.Location { return s.loc }

// Ping checks that the database answers (for /readyz).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return unavailable(err)
	}
	return nil
}

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: the name must start with its number", n)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{v, base, string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: numbers must run 1, 2, 3… without gaps", m.name)
		}
	}
	return out, nil
}

// migrationLock is the advisory lock key that one app server at a time
// holds while it migrates (the bytes of "aixinmig").
const migrationLock = 0x616978696e6d6967

// migrate applies the migrations the database has not seen, in one
// transaction under an advisory lock so that app servers starting together
// migrate once, and checks the time zone.
func (s *Store) migrate(ctx context.Context, loc *time.Location, existing bool) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return unavailable(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("schema_migrations: %w", err)
	}
	var have int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return err
	}
	if have > len(ms) {
		return fmt.Errorf("the database has schema %d, newer than this aixin knows (%d): run a newer aixin", have, len(ms))
	}
	if existing && have == 0 {
		return errors.New("the database holds no aixin ledger: is the address right?")
	}
	if existing && have < len(ms) {
		return fmt.Errorf("the database has schema %d, older than this aixin's %d: start aixin serve on it once to migrate", have, len(ms))
	}
	for _, m := range ms[have:] {
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
			return err
		}
	}
	var tz string
	err = tx.QueryRow(ctx, `SELECT value FROM aixin_meta WHERE name = 'tz'`).Scan(&tz)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		s.loc = loc
		if s.loc == nil {
			if s.loc, err = time.LoadLocation(ledger.DefaultTimeZone); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO aixin_meta (name, value) VALUES ('tz', $1)`, s.loc.String()); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if s.loc, err = time.LoadLocation(tz); err != nil {
			return fmt.Errorf("the database counts months in %q, which this system does not know: %w", tz, err)
		}
		if loc != nil && loc.String() != tz {
			return fmt.Errorf("the database counts months in %s, not %s", tz, loc)
		}
	}
	return tx.Commit(ctx)
}

// unavailable turns an error reaching the database into the refusal a
// client sees (503): try again later. The cause is kept for the log.
func unavailable(err error) error {
	if _, ok := ledger.AsError(err); ok {
		return err
	}
	return causedError{ledger.Errorf(ledger.EUNAVAILABLE, "store.db_unavailable"), err}
}

// causedError is a refusal with the error behind it, which the log shows.
type causedError struct {
	refusal *ledger.Error
	cause   error
}

func (e causedError) Error() string   { return e.refusal.Error() + ": " + e.cause.Error() }
func (e causedError) Unwrap() []error { return []error{e.refusal, e.cause} }

// retryable reports whether a transaction failed only because another
// transaction got in its way (serialization failure or deadlock): it may
// be run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// What the engine carries so far.
var (
	_ ledger.Journal   = (*Store)(nil)
	_ ledger.Users     = (*Store)(nil)
	_ ledger.Directory = (*Store)(nil)
	_ ledger.Awards    = (*Store)(nil)
	_ ledger.Wishes    = (*Store)(nil)
)
