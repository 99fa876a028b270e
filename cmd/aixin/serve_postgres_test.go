package main

import (
	"context"
	"encoding/json"
	"net/http"
	neturl "net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"aixin/store/postgres/pgtest"

	"github.com/jackc/pgx/v5"
)

// TestTwoServersOnOnePostgres starts two app servers on one PostgreSQL
// database, the first with the demo district, and uses them as one: a
// session made on one is good on the other, an organiser's and a
// volunteer's pages answer on both, 40 check-ins of one volunteer sent to
// both servers at once leave one open attendance, and the ledger verifies
// (aixin verify --db) after both stop.
func TestTwoServersOnOnePostgres(t *testing.T) {
	mustParse := func(t *testing.T, s string) *neturl.URL {
		u, err := neturl.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	url := pgtest.NewDatabase(t)
	env := map[string]string{"AIXIN_DB": url, "AIXIN_DATA": t.TempDir(), "AIXIN_ADMIN_PASSWORD": "admin-pass-2026",
		"AIXIN_DEMO": "1", "AIXIN_LOGIN_LIMIT": "1000", "AIXIN_USER_LIMIT": "1000"}
	a, _, stopA := startServe(t, env)
	delete(env, "AIXIN_DEMO")
	b, _, stopB := startServe(t, env)

	c := client(t)
	resp := postJSON(t, c, a+"/api/v1/login", map[string]string{"login": "donghe", "password": demoOrganiserPassword})
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login on server A: %s", resp.Status)
	}
	// The cookie A set is good on B: sessions are in the database.
	cookies := c.Jar.Cookies(mustParse(t, a))
	for _, ck := range cookies {
		c.Jar.SetCookies(mustParse(t, b), []*http.Cookie{ck})
	}
	for _, base := range []string{a, b} {
		for _, p := range []string{"/admin/", "/admin/events", "/admin/members", "/admin/exports", "/api/v1/members"} {
			resp, err := c.Get(base + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s%s: %s", base, p, resp.Status)
			}
		}
	}
	// The organiser makes an event running now on B, and checks one
	// volunteer in from both servers at once.
	var me struct {
		UnitID string `json:"unit_id"`
	}
	resp, err := c.Get(b + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	now := time.Now()
	resp = postJSON(t, c, b+"/api/v1/events", map[string]any{"title": "两台服务器的活动", "category": "环境整治", "unit_id": me.UnitID,
		"starts_at": now.Add(-10 * time.Minute), "ends_at": now.Add(2 * time.Hour), "points_per_hour": 10})
	var ev struct {
		ID string `json:"id"`
	}
	json.NewDecoder(resp.Body).Decode(&ev)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("create an event: %s", resp.Status)
	}
	var list struct {
		Members []struct {
			ID string `json:"id"`
		} `json:"members"`
	}
	resp, err = c.Get(a + "/api/v1/members?limit=1")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Members) == 0 {
		t.Fatal("the demo has no members")
	}
	member := list.Members[0].ID
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := range 40 {
		wg.Go(func() {
			base := a
			if i%2 == 1 {
				base = b
			}
			resp := postJSON(t, c, base+"/api/v1/events/"+ev.ID+"/attendance", map[string]string{"member_id": member, "action": "toggle"})
			resp.Body.Close()
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[http.StatusOK]+statuses[http.StatusCreated] != 40 {
		t.Fatalf("check-ins from both servers: %v", statuses)
	}

	if err := stopA(); err != nil {
		t.Fatal(err)
	}
	if err := stopB(); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	if err := run(context.Background(), []string{"verify", "--db", url}, envFrom(nil), nil, &out, &out); err != nil {
		t.Fatalf("verify after two servers: %v\n%s", err, out.String())
	}
	// One open attendance for the volunteer: one check-in, the rest repeats.
	var open int
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM attendances WHERE open`).Scan(&open); err != nil {
		t.Fatal(err)
	}
	if open != 1 {
		t.Fatalf("%d open attendances after 40 check-ins of one volunteer", open)
	}
}

// TestTwoServersShareLoginLockout starts two app servers on one PostgreSQL
// database: five wrong passwords of one login, sent to both in turn, lock
// it on both: serve passes the database's rate limit counter to handlers,
// which holds the seven attempts (every attempt counts) after both stop.
func TestTwoServersShareLoginLockout(t *testing.T) {
	url := pgtest.NewDatabase(t)
	env := map[string]string{"AIXIN_DB": url, "AIXIN_DATA": t.TempDir(), "AIXIN_ADMIN_PASSWORD": "admin-pass-2026"}
	a, _, stopA := startServe(t, env)
	b, _, stopB := startServe(t, env)
	c := client(t)
	login := func(base, password string) int {
		resp := postJSON(t, c, base+"/api/v1/login", map[string]string{"login": "admin", "password": password})
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 5 {
		if got := login([]string{a, b}[i%2], "wrong-pass"); got != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i+1, got)
		}
	}
	for _, base := range []string{a, b} {
		if got := login(base, "admin-pass-2026"); got != http.StatusTooManyRequests {
			t.Fatalf("%s: the right password after 5 wrong ones on two servers: %d, want 429", base, got)
		}
	}
	for _, stop := range []func() error{stopA, stopB} {
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var count int
	if err := conn.QueryRow(context.Background(), `SELECT count FROM rate_limits WHERE name = 'login_fail' AND key = 'admin'`).Scan(&count); err != nil || count != 7 {
		t.Fatalf("the login's count in the database: %d %v, want 7", count, err)
	}
}

// TestBenchSaturdayTwoServers runs a short "aixin bench saturday" against
// two app servers on one PostgreSQL database: volunteers, kiosks and
// organisers spread over both, every request answered without error, the
// ledger verifying at the end, and the backup left to PostgreSQL.
func TestBenchSaturdayTwoServers(t *testing.T) {
	url := pgtest.NewDatabase(t)
	env := map[string]string{"AIXIN_DB": url, "AIXIN_DATA": t.TempDir(), "AIXIN_ADMIN_PASSWORD": "admin-pass-2026",
		"AIXIN_LOGIN_LIMIT": "100000", "AIXIN_USER_LIMIT": "1000000", "AIXIN_CHECKIN_REPEAT": "0s"}
	a, _, stopA := startServe(t, env)
	b, _, stopB := startServe(t, env)
	var out, errs syncBuffer
	err := run(context.Background(), []string{"bench", "saturday", "--url", a + "," + b, "--volunteers", "60", "--events", "3",
		"--rate", "60", "--kiosks", "4", "--redeem-every", "500ms", "--organisers", "2", "--duration", "4s"},
		envFrom(map[string]string{"AIXIN_ADMIN_PASSWORD": "admin-pass-2026"}), strings.NewReader(""), &out, &errs)
	t.Log(out.String())
	if err != nil {
		t.Fatalf("bench saturday: %v\n%s", err, errs.String())
	}
	for _, want := range []string{"2 app server(s) on postgres", "backup: not taken", "ledger verify ok"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if err := stopA(); err != nil {
		t.Fatal(err)
	}
	if err := stopB(); err != nil {
		t.Fatal(err)
	}
}
