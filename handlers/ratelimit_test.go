package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
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
