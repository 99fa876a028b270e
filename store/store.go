// Package store is what aixin's storage engines share beside the contracts
// of package ledger: the counters /metrics shows for either. The engines are
// store/bolt (one bbolt file, the embedded default) and store/postgres
// (several app servers on one PostgreSQL database); store/storetest is the
// conformance suite both pass.
package store

import (
	"sync/atomic"

	"aixin/ledger"
)

// The background sweeps, whose skipped items the counters count.
const (
	SweepVoucherExpiry = iota
	SweepOpenAttendances
	SweepAwardNotice
	SweepPointsExpiry
	SweepWishClaims
)

// sweepNames name the sweeps in Stats.SweepFailures, by their index.
var sweepNames = [...]string{SweepVoucherExpiry: "voucher_expiry", SweepOpenAttendances: "open_attendances",
	SweepAwardNotice: "award_notice", SweepPointsExpiry: "points_expiry", SweepWishClaims: "wish_claims"}

// batchBuckets are the upper bounds of the commit batch size histogram.
var batchBuckets = [...]float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}

// Counters are an engine's counters, safe for concurrent use.
type Counters struct {
	Appends, Commits, CommitErrors atomic.Uint64
	batchSum                       atomic.Uint64
	batchCounts                    [len(batchBuckets)]atomic.Uint64
	sweepFailures                  [len(sweepNames)]atomic.Uint64
	sweepsSkipped                  [len(sweepNames)]atomic.Uint64
}

// ObserveBatch counts a commit of n requests in the batch size histogram.
func (c *Counters) ObserveBatch(n int) {
	c.batchSum.Add(uint64(n))
	for i, ub := range batchBuckets {
		if float64(n) <= ub {
			c.batchCounts[i].Add(1)
			return
		}
	}
}

// SweepFailed counts n items that sweep (Sweep…) had to skip.
func (c *Counters) SweepFailed(sweep int, n int) { c.sweepFailures[sweep].Add(uint64(n)) }

// Swept counts the items a sweep's result says it skipped, and the run
// itself when another app server was running that sweep.
func (c *Counters) Swept(sweep int, res ledger.SweepResult) {
	c.SweepFailed(sweep, len(res.Failed))
	if res.Skipped {
		c.sweepsSkipped[sweep].Add(1)
	}
}

// Stats is a snapshot of an engine's counters.
type Stats struct {
	Appends, Commits, CommitErrors uint64
	// BatchSizeBuckets are upper bounds; BatchSizeCounts[i] counts commits with
	// at most BatchSizeBuckets[i] requests (cumulative, as Prometheus wants).
	BatchSizeBuckets []float64
	BatchSizeCounts  []uint64
	BatchSizeSum     uint64
	// QueueLen is the number of write requests waiting now.
	QueueLen int
	// SweepFailures counts, per background sweep, the items it had to skip.
	SweepFailures map[string]uint64
	// SweepsSkipped counts, per background sweep, the runs left to another
	// app server that was running it (PostgreSQL).
	SweepsSkipped map[string]uint64
}

// Snapshot reads the counters, with queueLen requests waiting now.
func (c *Counters) Snapshot(queueLen int) Stats {
	st := Stats{
		Appends:          c.Appends.Load(),
		Commits:          c.Commits.Load(),
		CommitErrors:     c.CommitErrors.Load(),
		BatchSizeBuckets: batchBuckets[:],
		BatchSizeCounts:  make([]uint64, len(batchBuckets)),
		BatchSizeSum:     c.batchSum.Load(),
		QueueLen:         queueLen,
		SweepFailures:    make(map[string]uint64, len(sweepNames)),
		SweepsSkipped:    make(map[string]uint64, len(sweepNames)),
	}
	var cum uint64
	for i := range batchBuckets {
		cum += c.batchCounts[i].Load()
		st.BatchSizeCounts[i] = cum
	}
	for i, name := range sweepNames {
		st.SweepFailures[name] = c.sweepFailures[i].Load()
		st.SweepsSkipped[name] = c.sweepsSkipped[i].Load()
	}
	return st
}
