package handlers

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Limits.
const (
	loginAttemptsPerIP    = 20  // login attempts per client IP per minute
	loginFailuresPerLogin = 5   // failed logins per login name per 15 minutes; then it is locked until the window ends
	userActionsPerMinute  = 30  // check-ins, and voucher creations, per user per minute
	publicPagesPerIP      = 120 // public pages per client IP per minute
)

// ipExtractor is how a request's client address is found: the connection's
// address, or, behind the trusted proxies, the nearest address in
// X-Forwarded-For that is not one of them.
func ipExtractor(trusted []string) (echo.IPExtractor, error) {
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, t := range trusted {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if !strings.Contains(t, "/") {
			if ip := net.ParseIP(t); ip != nil && ip.To4() != nil {
				t += "/32"
			} else {
				t += "/128"
			}
		}
		_, ipNet, err := net.ParseCIDR(t)
		if err != nil {
			return nil, fmt.Errorf("handlers: trusted proxy %q is not an address or CIDR", t)
		}
		opts = append(opts, echo.TrustIPRange(ipNet))
	}
	if len(opts) == 3 { // no proxy: the connection's address, whatever the header says
		return echo.ExtractIPDirect(), nil
	}
	return echo.ExtractIPFromXFFHeader(opts...), nil
}

// limitPerIP refuses a client address's requests beyond l's limit with 429.
func (s *server) limitPerIP(l *limiter) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if wait := l.hit(c.RealIP(), s.cfg.Now()); wait > 0 {
				return tooMany(wait)
			}
			return next(c)
		}
	}
}

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
