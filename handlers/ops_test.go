package handlers

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/labstack/echo/v4"
)

func TestHealthz(t *testing.T) {
	e := newEnv(t)
	res := e.get("/healthz", nil)
	wantStatus(t, res, 200)
	if string(res.body) != "{\"status\":\"ok\"}\n" {
		t.Errorf("body %q", res.body)
	}
}

func TestReadyz(t *testing.T) {
	tests := []struct {
		name      string
		configure func(*Config)
		status    int
		checks    map[string]string
	}{
		{"Ready", nil, 200, map[string]string{"store": "ok", "disk": "ok"}},
		{"DiskTooFull", func(c *Config) { c.MinFreeBytes = math.MaxUint64 }, 503, map[string]string{"store": "ok"}},
		{"StoreNotWritable", func(c *Config) {
			c.Ready = func(context.Context) error { return errors.New("not writable") }
		}, 503, map[string]string{"store": "not writable", "disk": "ok"}},
		{"DataDirMissing", func(c *Config) { c.DataDir = "/no/such/dir" }, 503, map[string]string{"store": "ok"}},
		{"NoDataDir", func(c *Config) { c.DataDir = "" }, 200, map[string]string{"store": "ok", "disk": "not checked"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e *env
			if tt.configure != nil {
				e = newEnv(t, tt.configure)
			} else {
				e = newEnv(t)
			}
			res := e.get("/readyz", nil)
			wantStatus(t, res, tt.status)
			var r readiness
			res.decode(t, &r)
			if (r.Status == "ok") != (tt.status == 200) {
				t.Errorf("status %q", r.Status)
			}
			for k, v := range tt.checks {
				if r.Checks[k] != v {
					t.Errorf("check %s = %q, want %q", k, r.Checks[k], v)
				}
			}
			if tt.status == 503 && r.Checks["disk"] == "ok" && r.Checks["store"] == "ok" {
				t.Errorf("503 without a failed check: %+v", r)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	a := ledger.MemberAccount(e.users[ledger.RoleVolunteer].ID)
	appendEarn(t, e, a, 3)
	e.get("/api/v1/me", nil)
	e.get("/no/such/page", nil)

	res := e.get("/metrics", nil)
	wantStatus(t, res, 200)
	body := string(res.body)
	for _, want := range []string{
		`http_requests_total{method="GET",route="/api/v1/me",status="401"} 1`,
		`http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`http_request_duration_seconds_bucket{route="/api/v1/me",le="0.005"}`,
		"ledger_appends_total 3",
		"ledger_commits_total ",
		"ledger_commit_errors_total 0",
		`ledger_commit_batch_size_bucket{le="1"}`,
		"ledger_commit_batch_size_sum ",
		"ledger_commit_batch_size_count ",
		"ledger_queue_length 0",
		`aixin_build_info{engine="` + cmp.Or(testEngine, "bbolt") + `",version="test"} 1`,
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestStoreCollectorWithoutStats(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.StoreStats = nil })
	res := e.get("/metrics", nil)
	wantStatus(t, res, 200)
	if strings.Contains(string(res.body), "ledger_") {
		t.Error("ledger metrics without StoreStats")
	}
}

func TestRequestLog(t *testing.T) {
	e := newEnv(t)
	ck := e.login("admin")
	res := e.get("/api/v1/me?lang=en", ck, echo.HeaderXRequestID, "trace-42")
	wantStatus(t, res, 200)
	if res.Header.Get(echo.HeaderXRequestID) != "trace-42" {
		t.Errorf("request id %q, want the client's", res.Header.Get(echo.HeaderXRequestID))
	}
	bad := e.get("/healthz", nil, echo.HeaderXRequestID, strings.Repeat("x", 65))
	if id := bad.Header.Get(echo.HeaderXRequestID); id == "" || len(id) > 64 {
		t.Errorf("over-long request id kept: %q", id)
	}

	var line map[string]any
	for _, l := range e.logs.lines(t) {
		if l["msg"] == "request" && l["request_id"] == "trace-42" {
			line = l
		}
	}
	if line == nil {
		t.Fatal("no log line for the request")
	}
	want := map[string]any{
		"level": "INFO", "method": "GET", "route": "/api/v1/me", "path": "/api/v1/me",
		"status": float64(200), "remote_ip": "127.0.0.1", "user_id": e.users[ledger.RoleAdmin].ID.String(),
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v", k, line[k], v)
		}
	}
	if line["bytes"].(float64) <= 0 || line["duration"].(float64) <= 0 {
		t.Errorf("log bytes %v duration %v", line["bytes"], line["duration"])
	}

	n := 0
	for _, l := range e.logs.lines(t) {
		if l["msg"] == "request" {
			n++
		}
	}
	if n != 3 { // login, me, healthz
		t.Errorf("%d request lines for 3 requests", n)
	}
}

func TestSecureHeaders(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/", "/api/v1/me", "/no/such/page", "/static/login.js"} {
		t.Run(path, func(t *testing.T) {
			res := e.get(path, nil)
			for k, v := range map[string]string{
				"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
				"X-Content-Type-Options":  "nosniff",
				"X-Frame-Options":         "DENY",
				"Referrer-Policy":         "same-origin",
			} {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.BodyLimit = "1K" })
	big := `{"login":"admin","password":"` + strings.Repeat("x", 2048) + `"}`
	t.Run("ContentLength", func(t *testing.T) {
		res := e.do("POST", "/api/v1/login", strings.NewReader(big), nil)
		wantStatus(t, res, 413)
		if got := res.errorBody(t); got["code"] != "too_large" {
			t.Errorf("error = %v", got)
		}
	})
	t.Run("Chunked", func(t *testing.T) {
		// A reader of unknown length makes the client send no Content-Length.
		res := e.do("POST", "/api/v1/login", io.MultiReader(strings.NewReader(big)), nil)
		if res.Request.ContentLength != -1 && res.Request.ContentLength != 0 {
			t.Fatalf("request had Content-Length %d", res.Request.ContentLength)
		}
		wantStatus(t, res, 413)
		if got := res.errorBody(t); got["code"] != "too_large" {
			t.Errorf("error = %v", got)
		}
	})
	t.Run("BadLimit", func(t *testing.T) {
		cfg := e.cfg
		cfg.BodyLimit = "lots"
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "body limit") {
			t.Errorf("New with body limit \"lots\": %v", err)
		}
	})
	t.Run("ZeroLimit", func(t *testing.T) {
		cfg := e.cfg
		cfg.LoginsPerMinute = 0
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "at least 1") {
			t.Errorf("New with no login attempts a minute: %v", err)
		}
	})
}

func TestStartPage(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, query, header, lang string
		want                      []string
	}{
		{"Chinese", "", "", "zh-CN", []string{"<title>爱心积分</title>", "登录名（志愿者请填手机号）", "账本校验", "下载备份", `"js.verify_ok":`}},
		{"EnglishQuery", "?lang=en", "zh-CN", "en", []string{"<title>Aixin Points</title>", "Verify ledger", "Download backup"}},
		{"EnglishHeader", "", "en-US,en;q=0.9", "en", []string{"Sign in"}},
		{"QueryBeatsHeader", "?lang=zh-CN", "en", "zh-CN", []string{"账本校验"}},
		{"UnknownLanguage", "?lang=fr", "fr-FR", "zh-CN", []string{"登录"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.get("/"+tt.query, nil, "Accept-Language", tt.header)
			wantStatus(t, res, 200)
			body := string(res.body)
			if !strings.Contains(body, `<html lang="`+tt.lang+`">`) {
				t.Errorf("page not in %s", tt.lang)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			// Nothing from another origin, no inline script.
			if regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(body) {
				t.Error("page loads from another origin")
			}
			if regexp.MustCompile(`<script(?: type="module")?>`).MatchString(body) || strings.Contains(body, " style=") {
				t.Error("inline script or style, which the CSP refuses")
			}
		})
	}
}

func TestAssets(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		path   string
		status int
		ctype  string
	}{
		{"/static/login.js", 200, "javascript"},
		{"/static/app.css", 200, "text/css"},
		{"/static/nope.js", 404, ""},
		{"/static/", 404, ""},
		{"/static/../openapi.yaml", 404, ""},
		{"/static/%2e%2e/openapi.yaml", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res := e.get(tt.path, nil)
			wantStatus(t, res, tt.status)
			if !strings.Contains(res.Header.Get("Content-Type"), tt.ctype) {
				t.Errorf("Content-Type %q", res.Header.Get("Content-Type"))
			}
		})
	}
}

// appendEarn opens a and credits it n times with 10 points from an issuer.
func appendEarn(t *testing.T, e *env, a ledger.Account, n int) []ledger.Entry {
	t.Helper()
	issuer := ledger.IssuerAccount(e.users[ledger.RoleOrganizer].ID)
	for _, acct := range []ledger.Account{a, issuer} {
		if err := e.store.OpenAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
	}
	var out []ledger.Entry
	for range n {
		en, err := e.store.Append(ctx, ledger.Transfer{Debit: issuer, Credit: a, Amount: 10, Kind: ledger.KindEarn,
			Minutes: 60, Reference: "attendance:test"})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, en)
	}
	return out
}

// TestPacedWriter: a write ahead of the pace waits until its bytes are
// due, and stops when the download is given up; a reader that stalled gets
// no burst beyond pacedSlack; what is written is what was given.
func TestPacedWriter(t *testing.T) {
	var out bytes.Buffer
	c, cancel := context.WithCancel(context.Background())
	clk := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	var waits []time.Duration
	p := &pacedWriter{ctx: c, w: &out, perSecond: 1000, start: clk, now: func() time.Time { return clk },
		wait: func(ctx context.Context, d time.Duration) error {
			waits = append(waits, d)
			clk = clk.Add(d)
			return ctx.Err()
		}}
	write := func(s string) error {
		_, err := p.Write([]byte(s))
		return err
	}
	for range 3 { // 100 bytes at 1000 a second: each is due 100 ms after the one before
		if err := write(strings.Repeat("a", 100)); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(waits, []time.Duration{100 * time.Millisecond, 100 * time.Millisecond}) {
		t.Fatalf("waited %v, want nothing then 100 ms twice", waits)
	}
	// The reader stalls for two seconds: the next writes go at once, but only
	// pacedSlack's worth (100 bytes) before the pace holds again.
	clk = clk.Add(2 * time.Second)
	waits = nil
	for range 3 {
		if err := write(strings.Repeat("b", 100)); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(waits, []time.Duration{100 * time.Millisecond}) {
		t.Fatalf("after the stall waited %v, want nothing twice then 100 ms", waits)
	}
	// The client goes while a write waits: nothing more is written.
	cancel()
	if n, err := p.Write([]byte("c")); n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("write after the client went: %d, %v", n, err)
	}
	if out.String() != strings.Repeat("a", 300)+strings.Repeat("b", 300) {
		t.Fatalf("written %d bytes: %.20q…", out.Len(), out.String())
	}
	// The real wait ends with its context.
	gone, stop := context.WithCancel(context.Background())
	stop()
	if err := sleepCtx(gone, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("sleepCtx on an ended context: %v", err)
	}
}
