package handlers

import (
	"aixin/ledger"
	"aixin/store/bolt"
	"aixin/store/postgres/pgtest"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wantLimited sends do n times within the limit, then once more: that one
// is 429 with a Retry-After of at most a minute, and a message.
func wantLimited(t *testing.T, n int, do func() response) {
	t.Helper()
	for i := range n {
		if res := do(); res.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("request %d of %d was limited", i+1, n)
		}
	}
	res := do()
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("request %d: %d, want 429", n+1, res.StatusCode)
	}
	if ra, _ := strconv.Atoi(res.Header.Get("Retry-After")); ra < 1 || ra > 60 || !strings.Contains(string(res.body), "秒后再试") {
		t.Fatalf("Retry-After %q, body %s", res.Header.Get("Retry-After"), res.body)
	}
}

func TestUserActionLimits(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ActionsPerMinute = 3 })
	w := newWorld(t, e)
	vol := e.session(w.users["volunteer"])
	orgA := e.session(w.users["organizerA"])
	checkin := func(c *http.Cookie) func() response {
		return func() response {
			return e.do("POST", "/api/v1/checkins", jsonReader(map[string]any{"code": "AXC-NOT-A-CODE"}), c)
		}
	}
	wantLimited(t, 3, checkin(vol))
	voucher := func(c *http.Cookie) func() response {
		return func() response {
			return e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"shop_id": w.shop["A"].ID, "items": []any{}}), c)
		}
	}
	// Check-ins and vouchers count apart, and per user.
	wantLimited(t, 3, voucher(vol))
	wantLimited(t, 3, voucher(orgA))
	// A minute later the volunteer may scan again.
	e.clock.Add(61e9)
	if res := checkin(vol)(); res.StatusCode == http.StatusTooManyRequests {
		t.Fatal("still limited after the window")
	}
}

func TestClientAddressBehindProxies(t *testing.T) {
	login := func(e *env, xff string) func() response {
		return func() response {
			return e.do("POST", "/api/v1/login", jsonReader(map[string]any{"login": "nobody-" + xff, "password": "x"}), nil, "X-Forwarded-For", xff)
		}
	}
	// By default the header is ignored: forging it does not get around the limit.
	e := newEnv(t, func(c *Config) { c.LoginsPerMinute = 2 })
	forged := 0
	wantLimited(t, 2, func() response { forged++; return login(e, "203.0.113."+strconv.Itoa(forged))() })
	// Behind a trusted proxy each client counts on its own.
	e = newEnv(t, func(c *Config) { c.LoginsPerMinute = 2; c.TrustedProxies = []string{"127.0.0.1", "10.0.0.0/8"} })
	wantLimited(t, 2, login(e, "203.0.113.7"))
	wantLimited(t, 2, login(e, "203.0.113.8, 10.1.2.3")) // through a second trusted hop
	if res := login(e, "198.51.100.1")(); res.StatusCode == http.StatusTooManyRequests {
		t.Fatal("another client was limited")
	}
	if _, err := ipExtractor([]string{"not-an-address"}); err == nil || !strings.Contains(err.Error(), "trusted proxy") {
		t.Fatalf("a bad trusted proxy: %v", err)
	}
}

func TestPublicPagesLimit(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.PublicPerMinute = 4 })
	wantLimited(t, 4, func() response { return e.get("/verify/2026-ZZZZZZZZ", nil) })
}

// TestLockoutSharedByTwoServers: two app servers on one PostgreSQL count a
// login's failures together. Five wrong passwords, spread over both, lock
// the login on both, for the right password too, until the window ends.
func TestLockoutSharedByTwoServers(t *testing.T) {
	if testEngine != "postgres" {
		t.Skip("app servers share a PostgreSQL database; the PostgreSQL run of the suite runs it")
	}
	url := pgtest.NewDatabase(t)
	clk := &clock{t: time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)}
	servers := make([]*env, 2)
	for i := range servers {
		e := &env{t: t, clock: clk, logs: &logBuffer{}}
		e.store, e.cfg, e.echo, e.srv = startServerOn(t, url, bolt.Options{Now: clk.Now}, e.logs)
		servers[i] = e
	}
	servers[0].addUser("donghe", ledger.RoleOrganizer, false)
	login := func(e *env, password string) response {
		return e.do(http.MethodPost, "/api/v1/login", loginBody("donghe", password), nil)
	}
	for i := range loginFailuresPerLogin {
		if res := login(servers[i%2], "wrong password"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d on server %d: %d %s", i+1, i%2, res.StatusCode, res.body)
		}
	}
	clk.Add(time.Minute)
	for i, e := range servers {
		res := login(e, testPassword)
		if res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("server %d: the right password after 5 wrong ones: %d %s", i, res.StatusCode, res.body)
		}
		if ra, _ := strconv.Atoi(res.Header.Get("Retry-After")); ra != 14*60 {
			t.Errorf("server %d: Retry-After %q, want 840", i, res.Header.Get("Retry-After"))
		}
	}
	clk.Add(14 * time.Minute)
	if res := login(servers[1], testPassword); res.StatusCode != http.StatusOK {
		t.Fatalf("after the lockout: %d %s", res.StatusCode, res.body)
	}
	// The success forgot the failures on both servers.
	for i := range loginFailuresPerLogin - 1 {
		login(servers[i%2], "wrong password")
	}
	if res := login(servers[0], testPassword); res.StatusCode != http.StatusOK {
		t.Fatalf("4 failures after a success: %d %s", res.StatusCode, res.body)
	}
}

// downLimits is a rate limit counter out of reach, as PostgreSQL's is when
// the database is down.
type downLimits struct{}

func (downLimits) HitLimit(context.Context, ledger.Limit, string, time.Time) (time.Duration, error) {
	return 0, ledger.Errorf(ledger.EUNAVAILABLE, "store.db_unavailable")
}

func (downLimits) LimitBlocked(context.Context, ledger.Limit, string, time.Time) (time.Duration, error) {
	return 0, ledger.Errorf(ledger.EUNAVAILABLE, "store.db_unavailable")
}

func (downLimits) ResetLimit(context.Context, ledger.Limit, string) error {
	return ledger.Errorf(ledger.EUNAVAILABLE, "store.db_unavailable")
}

// TestLimitsOutOfReach: when the counter cannot be reached, a login, a
// check-in, a voucher and a guess at a voucher's code are refused with 503
// (never let through uncounted), and the public pages answer as usual.
func TestLimitsOutOfReach(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Limits = downLimits{} })
	w := newWorld(t, e)
	vol := e.session(w.users["volunteer"])
	_, _, _, clerk, _ := shopSetup(t, e, w)
	for name, do := range map[string]func() response{
		"Login": func() response {
			return e.do(http.MethodPost, "/api/v1/login", loginBody("admin", testPassword), nil)
		},
		"CheckIn": func() response {
			return e.do("POST", "/api/v1/checkins", jsonReader(map[string]any{"code": "AXC-NOT-A-CODE"}), vol)
		},
		"Voucher": func() response {
			return e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"shop_id": w.shop["A"].ID, "items": []any{}}), vol)
		},
		"VoucherCode": func() response {
			return e.get("/api/v1/redemptions/preview?code=ABCD-EFGHJK", clerk)
		},
	} {
		t.Run(name, func(t *testing.T) {
			if res := do(); res.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("%d %s, want 503", res.StatusCode, res.body)
			}
		})
	}
	t.Run("PublicPage", func(t *testing.T) {
		if res := e.get("/verify/2026-ZZZZZZZZ", nil); res.StatusCode == http.StatusServiceUnavailable || res.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("a public page: %d", res.StatusCode)
		}
	})
}
