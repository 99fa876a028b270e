package handlers

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"aixin/ledger"

	"github.com/labstack/echo/v4"
)

// The fixed limits; those a deployment sets are in Config (config.Default).
const (
	loginFailuresPerLogin = 5  // failed logins per login name per 15 minutes; then it is locked until the window ends
	codeGuessesPerKiosk   = 10 // wrong voucher short codes per kiosk (clerk) per minute
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
// It fails open: when the count cannot be reached (the database is down) the
// request goes on, and the failure is logged. The pages it guards are public
// reads whose limit only shields the server from floods; turning readers
// away because a counter is out of reach helps no one, and a page that needs
// the database fails by itself when the database is down.
func (s *server) limitPerIP(l ledger.Limit) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx := c.Request().Context()
			wait, err := s.limits.HitLimit(ctx, l, c.RealIP(), s.cfg.Now())
			if err != nil {
				s.cfg.Logger.WarnContext(ctx, "rate limit not counted: the request goes on", "limit", l.Name, "err", err)
				return next(c)
			}
			if wait > 0 {
				return tooMany(wait)
			}
			return next(c)
		}
	}
}

// hit counts one event of key under l at now: nil within the limit, the
// 429 beyond it. It fails closed: when the count cannot be reached it
// returns that error (503), so that a database that is down never lets
// logins, password guesses, check-ins or vouchers through uncounted.
func (s *server) hit(ctx context.Context, l ledger.Limit, key string, now time.Time) error {
	wait, err := s.limits.HitLimit(ctx, l, key, now)
	if err != nil {
		return err
	}
	if wait > 0 {
		return tooMany(wait)
	}
	return nil
}

// blocked is hit without counting: the 429 if key has used up l at now. It
// fails closed as hit does.
func (s *server) blocked(ctx context.Context, l ledger.Limit, key string, now time.Time) error {
	wait, err := s.limits.LimitBlocked(ctx, l, key, now)
	if err != nil {
		return err
	}
	if wait > 0 {
		return tooMany(wait)
	}
	return nil
}

// forget resets key's count under l after a success (the right password).
// A failure is logged and the request goes on: the count left behind can
// only limit the key sooner, never later, and it ends with its window.
func (s *server) forget(ctx context.Context, l ledger.Limit, key string) {
	if err := s.limits.ResetLimit(ctx, l, key); err != nil {
		s.cfg.Logger.WarnContext(ctx, "rate limit not reset", "limit", l.Name, "err", err)
	}
}

// memoryLimits counts rate limits in memory (ledger.Limits): the counter
// of a server on its own, as on the bbolt file, where one process serves
// every request. A restart forgets it. Servers that share a PostgreSQL
// database count in it instead (Config.Limits).
type memoryLimits struct {
	mu        sync.Mutex
	windows   map[limitKey]memoryWindow
	lastSweep time.Time
}

type limitKey struct{ name, key string }

// memoryWindow is a key's window and when it ends, which the sweep reads
// without knowing the limit.
type memoryWindow struct {
	ledger.LimitWindow
	ends time.Time
}

// sweepEvery is how often memoryLimits drops ended windows: the shortest
// limit's period, so the map holds the keys of the last period or two.
const sweepEvery = time.Minute

func newMemoryLimits() *memoryLimits {
	return &memoryLimits{windows: make(map[limitKey]memoryWindow)}
}

// HitLimit implements ledger.Limits.
func (m *memoryLimits) HitLimit(_ context.Context, l ledger.Limit, key string, now time.Time) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	k := limitKey{l.Name, key}
	w := l.Current(m.windows[k].LimitWindow, now)
	w.Count++
	m.windows[k] = memoryWindow{w, l.Ends(w)}
	return l.HitWait(w, now), nil
}

// LimitBlocked implements ledger.Limits.
func (m *memoryLimits) LimitBlocked(_ context.Context, l ledger.Limit, key string, now time.Time) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return l.BlockedWait(l.Current(m.windows[limitKey{l.Name, key}].LimitWindow, now), now), nil
}

// ResetLimit implements ledger.Limits.
func (m *memoryLimits) ResetLimit(_ context.Context, l ledger.Limit, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.windows, limitKey{l.Name, key})
	return nil
}

// sweep drops ended windows, at most once every sweepEvery.
func (m *memoryLimits) sweep(now time.Time) {
	if now.Sub(m.lastSweep) < sweepEvery {
		return
	}
	m.lastSweep = now
	for k, w := range m.windows {
		if !now.Before(w.ends) {
			delete(m.windows, k)
		}
	}
}

// retrySeconds rounds d up to whole seconds, at least one, for Retry-After.
func retrySeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}
