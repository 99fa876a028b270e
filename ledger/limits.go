package ledger

import (
	"context"
	"time"
)

// Limit is one rate limit: events of one kind (login failures of a login,
// check-ins of a user) counted per key in fixed windows. A key's window
// opens at its first event and lasts Period; the window allows Max events.
type Limit struct {
	// Name tells the limits apart where they share a store ("login_fail").
	Name   string
	Max    int
	Period time.Duration
}

// LimitWindow is one key's count in its window.
type LimitWindow struct {
	Start time.Time
	Count int
}

// Ends returns when w ends under l.
func (l Limit) Ends(w LimitWindow) time.Time { return w.Start.Add(l.Period) }

// Current returns the window a key is in at now, given the window it was
// last in (the zero window if none): that one while it lasts, else a fresh
// one opening at now with no events in it.
func (l Limit) Current(w LimitWindow, now time.Time) LimitWindow {
	if w.Count == 0 || !now.Before(l.Ends(w)) {
		return LimitWindow{Start: now}
	}
	return w
}

// HitWait is the answer to an event that left its key's window at w (the
// event counted): zero while w holds at most Max events, else how long
// from now until w ends.
func (l Limit) HitWait(w LimitWindow, now time.Time) time.Duration {
	if w.Count > l.Max {
		return max(l.Ends(w).Sub(now), 0)
	}
	return 0
}

// BlockedWait is the answer to a look at a key's current window w that
// counts nothing: zero while one more event would be within the limit, else
// how long from now until w ends.
func (l Limit) BlockedWait(w LimitWindow, now time.Time) time.Duration {
	if w.Count >= l.Max {
		return max(l.Ends(w).Sub(now), 0)
	}
	return 0
}

// Limits counts events against rate limits and login lockouts. A server on
// its own counts in memory; app servers that share a database count in it,
// so that a limit holds whichever server a request reaches. Times are the
// caller's clock (now), never the store's.
type Limits interface {
	// HitLimit counts one event of key under l at now. It returns zero if
	// the event is within the limit, else how long until the key's window
	// ends (l.HitWait). Concurrent hits of a key count each exactly once.
	// Returns EUNAVAILABLE when the count cannot be reached.
	HitLimit(ctx context.Context, l Limit, key string, now time.Time) (time.Duration, error)
	// LimitBlocked returns how long until key's window ends if the key has
	// used up l at now (l.BlockedWait), else zero. It counts nothing.
	// Returns EUNAVAILABLE when the count cannot be reached.
	LimitBlocked(ctx context.Context, l Limit, key string, now time.Time) (time.Duration, error)
	// ResetLimit forgets key's count under l. Returns EUNAVAILABLE when the
	// count cannot be reached.
	ResetLimit(ctx context.Context, l Limit, key string) error
}
