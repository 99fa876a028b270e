package handlers

import (
	"sync"
	"time"
)

// Login limits.
const (
	loginAttemptsPerIP    = 20 // login attempts per client IP per minute
	loginFailuresPerLogin = 5  // failed logins per login name per 15 minutes; then it is locked until the window ends
)

// limiter counts events per key in fixed windows: a key's window opens at its
// first event and lasts period. It lives in memory: a restart forgets it, and
// each process of a fleet counts on its own.
type limiter struct {
	max    int
	period time.Duration

	mu        sync.Mutex
	windows   map[string]window
	lastSweep time.Time
}

type window struct {
	start time.Time
	n     int
}

func newLimiter(limit int, period time.Duration) *limiter {
	return &limiter{max: limit, period: period, windows: make(map[string]window)}
}

// hit counts one event for key at now. It returns zero if the event is
// within the limit, else how long until the key's window ends.
func (l *limiter) hit(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	w := l.current(key, now)
	w.n++
	l.windows[key] = w
	if w.n > l.max {
		return w.start.Add(l.period).Sub(now)
	}
	return 0
}

// blocked returns how long until key's window ends if the key has used up
// its limit, else zero. It counts nothing.
func (l *limiter) blocked(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := l.current(key, now); w.n >= l.max {
		return w.start.Add(l.period).Sub(now)
	}
	return 0
}

// reset forgets key.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.windows, key)
}

// current returns key's window at now, a fresh one if it ended.
func (l *limiter) current(key string, now time.Time) window {
	w, ok := l.windows[key]
	if !ok || !now.Before(w.start.Add(l.period)) {
		return window{start: now}
	}
	return w
}

// sweep drops ended windows, at most once a period, so the map holds only
// the keys of the last period or two.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < l.period {
		return
	}
	l.lastSweep = now
	for k, w := range l.windows {
		if !now.Before(w.start.Add(l.period)) {
			delete(l.windows, k)
		}
	}
}

// retrySeconds rounds d up to whole seconds, at least one, for Retry-After.
func retrySeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}
