package handlers

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"aixin/config"
	"aixin/ledger"
	"aixin/store/bolt"
	"aixin/store/postgres"
	"aixin/store/postgres/pgtest"

	"github.com/labstack/echo/v4"
)

// testPassword is every test user's password. Its hash is computed once:
// argon2id is slow on purpose, more so under the race detector.
const testPassword = "correct horse battery staple"

var testHash = sync.OnceValue(func() string {
	h, err := HashPassword(testPassword)
	if err != nil {
		panic(err)
	}
	return h
})

// clock is a settable time source for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logBuffer collects log output from concurrent requests.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns the JSON log records written so far.
func (l *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(l.buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// testStore is what the HTTP tests need of an engine: every contract, and
// the secrets and settings the server is made with.
type testStore interface {
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
	Secret(ctx context.Context, name string) ([]byte, error)
	Location() *time.Location
	Close() error
}

// testEngine is the engine the HTTP tests run on: bbolt, or PostgreSQL
// when AIXIN_TEST_ENGINE=postgres (make test runs both).
var testEngine = os.Getenv("AIXIN_TEST_ENGINE")

func TestMain(m *testing.M) {
	if testEngine == "postgres" {
		os.Exit(pgtest.Main(m))
	}
	os.Exit(m.Run())
}

// backupStatus is what an administrator's GET /api/v1/admin/backup
// answers: the file on bbolt, and on PostgreSQL a 400 that says to use
// PostgreSQL's own backups.
var backupStatus = map[bool]int{false: 200, true: 400}[testEngine == "postgres"]

// boltOnly marks a test of what only the bbolt engine has (its file, its
// backup, its commit queue's counters): it runs in the bbolt run of the
// suite, and is not one of the PostgreSQL run.
func boltOnly(tb testing.TB) {
	tb.Helper()
	if testEngine == "postgres" {
		tb.Skip("a test of the bbolt engine's own file; the bbolt run of the suite runs it")
	}
}

// env is a running server on a real store in a temp dir.
type env struct {
	t     *testing.T
	store testStore
	echo  *echo.Echo
	srv   *httptest.Server
	clock *clock
	logs  *logBuffer
	users map[ledger.Role]ledger.User // one user of each role, login = role name
	cfg   Config                      // what the server was made with
}

var ctx = context.Background()

// newEnv opens a store, creates one user per role and starts the server.
// configure may change the Config before New.
func newEnv(t *testing.T, configure ...func(*Config)) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)}
	e := &env{t: t, clock: clk, logs: &logBuffer{}}
	e.store, e.cfg, e.echo, e.srv = startServer(t, bolt.Options{Now: clk.Now}, e.logs, configure...)

	e.users = make(map[ledger.Role]ledger.User)
	for _, r := range []ledger.Role{ledger.RoleAdmin, ledger.RoleOrganizer, ledger.RoleClerk, ledger.RoleVolunteer} {
		e.users[r] = e.addUser(string(r), r, false)
	}
	return e
}

func (e *env) addUser(login string, role ledger.Role, disabled bool) ledger.User {
	e.t.Helper()
	u, err := e.store.CreateUser(ctx, ledger.User{Login: login, Name: "测试 " + login, Role: role,
		PasswordHash: testHash(), Disabled: disabled})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// startServer opens a store (a bbolt file in a temp dir, or a new
// PostgreSQL database: testEngine) with opts and starts the server on it,
// logging to logs; configure may change the Config before New.
func startServer(tb testing.TB, opts bolt.Options, logs io.Writer, configure ...func(*Config)) (testStore, Config, *echo.Echo, *httptest.Server) {
	tb.Helper()
	return startServerOn(tb, "", opts, logs, configure...)
}

// startServerOn is startServer on the PostgreSQL database at pgURL, which
// several servers may share as app servers do; "" is a new database (or
// the bbolt file).
func startServerOn(tb testing.TB, pgURL string, opts bolt.Options, logs io.Writer, configure ...func(*Config)) (testStore, Config, *echo.Echo, *httptest.Server) {
	tb.Helper()
	dir := tb.TempDir()
	var st testStore
	var ready func(context.Context) error
	var stats func() StoreStats
	var limits ledger.Limits // nil: in memory, the bbolt deployment's
	if testEngine == "postgres" {
		if pgURL == "" {
			pgURL = pgtest.NewDatabase(tb)
		}
		pg, err := postgres.Open(ctx, pgURL, postgres.Options{Location: opts.Location, Now: opts.Now, Rules: opts.Rules,
			AwardRules: opts.AwardRules, VoucherLife: opts.VoucherLife, WishClaimLife: opts.WishClaimLife})
		if err != nil {
			tb.Fatal(err)
		}
		st, ready, limits = pg, pg.Ping, pg
		stats = func() StoreStats { return StoreStats(pg.Stats()) }
	} else {
		bs, err := bolt.Open(filepath.Join(dir, "aixin.db"), opts)
		if err != nil {
			tb.Fatal(err)
		}
		st, ready, stats = bs, bs.CheckWritable, func() StoreStats { return StoreStats(bs.Stats()) }
	}
	tb.Cleanup(func() {
		if err := st.Close(); err != nil {
			tb.Error(err)
		}
	})
	cfg := Config{
		Journal:    st,
		Users:      st,
		Directory:  st,
		Events:     st,
		Shops:      st,
		Reports:    st,
		Records:    st,
		Awards:     st,
		Households: st,
		Wishes:     st,
		Secret:     st.Secret,
		Ready:      ready,
		StoreStats: stats,
		DataDir:    dir,
		Logger:     slog.New(slog.NewJSONHandler(logs, nil)),
		Now:        opts.Now,
		Version:    "test",
		Engine:     cmp.Or(testEngine, "bbolt"),
		Expiry:     st,
		Limits:     limits,
	}
	d := config.Default()
	cfg.MinFreeBytes, cfg.LoginsPerMinute, cfg.ActionsPerMinute, cfg.PublicPerMinute = d.MinFreeMB<<20, d.LoginsPerMinute, d.ActionsPerMinute, d.PublicPerMinute
	cfg.BackupMBPerSecond, cfg.AwardApprovalPoints, cfg.WishClaimDays = d.BackupMBPerSecond, d.AwardApprovalPoints, d.WishClaimDays
	for _, f := range configure {
		f(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return st, cfg, h, srv
}

// response is a finished HTTP exchange.
type response struct {
	*http.Response
	body []byte
}

// errorBody decodes a JSON error answer.
func (r response) errorBody(t *testing.T) map[string]any {
	t.Helper()
	var v struct {
		Error map[string]any `json:"error"`
	}
	if err := json.Unmarshal(r.body, &v); err != nil || v.Error == nil {
		t.Fatalf("not a JSON error: %v: %s", err, r.body)
	}
	return v.Error
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// do sends a request; header holds extra headers, cookie (if not nil) the session.
func (e *env) do(method, path string, body io.Reader, cookie *http.Cookie, header ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{res, b}
}

func (e *env) get(path string, cookie *http.Cookie, header ...string) response {
	e.t.Helper()
	return e.do(http.MethodGet, path, nil, cookie, header...)
}

// loginBody is a JSON login request.
func loginBody(login, password string) io.Reader {
	b, _ := json.Marshal(map[string]string{"login": login, "password": password})
	return bytes.NewReader(b)
}

// login logs in as login and returns the session cookie.
func (e *env) login(login string) *http.Cookie {
	e.t.Helper()
	res := e.do(http.MethodPost, "/api/v1/login", loginBody(login, testPassword), nil)
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", login, res.StatusCode, res.body)
	}
	return sessionCookieOf(e.t, res)
}

func sessionCookieOf(t *testing.T, res response) *http.Cookie {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", sessionCookie, res.Header["Set-Cookie"])
	return nil
}

func wantStatus(t *testing.T, res response, status int) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", res.Request.Method, res.Request.URL.Path, res.StatusCode, status, res.body)
	}
}

// must fails the test on an error.
func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
