package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// expirePoints applies the streets' points expiry policies at start and
// every minute. A look costs one row per street with a policy; the year's
// work is done once, when a street's cutoff (1 January) has passed.
func expirePoints(ctx context.Context, st engine, logger *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		res, err := st.ExpirePoints(ctx)
		logSweep(ctx, logger, "points expiry", "account", res, err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// serverClock is the clock the server runs on: the system's, or, for the
// browser tests only, one that starts at AIXIN_TEST_CLOCK (an RFC 3339
// time) and runs on from there, so that a test can serve at a year's end.
// Every entry written is dated by it: never set it on a real deployment
// (a later start without it is refused writes until the real time has
// caught up, as the ledger's times never go back).
func serverClock(getenv func(string) string, logger *slog.Logger) (func() time.Time, error) {
	v := getenv("AIXIN_TEST_CLOCK")
	if v == "" {
		return time.Now, nil
	}
	start, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, fmt.Errorf("AIXIN_TEST_CLOCK %q: want an RFC 3339 time: %w", v, err)
	}
	started := time.Now()
	logger.Warn("the clock is set by AIXIN_TEST_CLOCK, for tests only: entries are dated from it", "start", start.Format(time.RFC3339))
	return func() time.Time { return start.Add(time.Since(started)) }, nil
}
