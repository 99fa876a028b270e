package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"aixin/handlers"
	"aixin/ledger"
	"aixin/store/bolt"
	"aixin/store/postgres"
)

// engine is the storage aixin runs on: the embedded bbolt file of the data
// folder (the default), or a PostgreSQL database that several app servers
// share (--db, AIXIN_DB). Both carry every contract of package ledger.
type engine interface {
	ledger.Journal
	ledger.Users
	ledger.Directory
	ledger.Events
	ledger.Shops
	ledger.Reports
	ledger.Records
	ledger.Awards
	ledger.Wishes
	ledger.Households
	ledger.Expiries
	Rules() ledger.EventRules
	Secret(ctx context.Context, name string) ([]byte, error)
	Location() *time.Location
	Close() error
}

// engineOptions are the settings both engines take.
type engineOptions struct {
	loc           *time.Location
	rules         *ledger.EventRules
	awardRules    *ledger.AwardRules
	now           func() time.Time
	wishClaimLife time.Duration
	lockTimeout   time.Duration
}

// opened is an engine with what serving it needs besides the contracts.
type opened struct {
	engine
	ready   func(ctx context.Context) error
	stats   func() handlers.StoreStats // the engine's counters for /metrics
	dataDir string                     // whose free space /readyz checks ("" for PostgreSQL)
	where   string                     // for the log: the data folder or the database
	name    string                     // "bbolt" or "postgres", for /metrics
	// limits counts rate limits and login lockouts in the database that
	// app servers share, and sweepLimits deletes its ended windows; nil on
	// bbolt, whose one process counts in memory (handlers' default).
	limits      ledger.Limits
	sweepLimits func(ctx context.Context, now time.Time) (ledger.SweepResult, error)
}

// isPostgres reports whether a --db value names a PostgreSQL database.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// openEngine opens PostgreSQL when c.DB names a database, else the data
// folder's bbolt file.
func openEngine(ctx context.Context, c options, o engineOptions) (opened, error) {
	if c.DB != "" {
		if !isPostgres(c.DB) {
			return opened{}, fmt.Errorf("--db %q: give a PostgreSQL address, postgres://user@host:port/database", c.DB)
		}
		pg, err := postgres.Open(ctx, c.DB, postgres.Options{Location: o.loc, Rules: o.rules, AwardRules: o.awardRules,
			Now: o.now, WishClaimLife: o.wishClaimLife})
		if err != nil {
			return opened{}, err
		}
		return opened{engine: pg, ready: pg.Ping, stats: func() handlers.StoreStats { return handlers.StoreStats(pg.Stats()) },
			where: "PostgreSQL " + redact(c.DB), name: "postgres", limits: pg, sweepLimits: pg.SweepLimits}, nil
	}
	st, err := bolt.Open(c.dbPath(), bolt.Options{Location: o.loc, Rules: o.rules, AwardRules: o.awardRules, Now: o.now,
		WishClaimLife: o.wishClaimLife, LockTimeout: o.lockTimeout})
	if err != nil {
		return opened{}, err
	}
	return opened{engine: st, ready: st.CheckWritable, stats: func() handlers.StoreStats { return handlers.StoreStats(st.Stats()) },
		dataDir: c.DataDir, where: "data " + c.DataDir, name: "bbolt"}, nil
}

// redact leaves a database address's password out of the log.
func redact(db string) string {
	at := strings.LastIndex(db, "@")
	scheme := strings.Index(db, "://")
	if at < 0 || scheme < 0 {
		return db
	}
	user := db[scheme+3 : at]
	if i := strings.Index(user, ":"); i >= 0 {
		user = user[:i] + ":***"
	}
	return db[:scheme+3] + user + db[at:]
}
