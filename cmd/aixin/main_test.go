package main

import (
	"aixin/handlers"
	"aixin/ledger"
	"aixin/store/bolt"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"
	"golang.org/x/text/encoding/simplifiedchinese"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func envFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// startServe runs "aixin serve" on a free loopback port and returns its base
// URL, its stdout and a function that stops it (as SIGTERM would) and
// returns run's error.
func startServe(t *testing.T, env map[string]string) (string, *syncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errs := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, envFrom(env), strings.NewReader(""), out, errs)
	}()
	re := regexp.MustCompile(`listening on (http://\S+)`)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], out, func() error { cancel(); return <-done }
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended early: %v\n%s\n%s", err, out, errs)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("serve did not start:\n%s\n%s", out, errs)
	return "", nil, nil
}

func client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func postJSON(t *testing.T, c *http.Client, url string, body any) *http.Response {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := c.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestServeAsANewUser(t *testing.T) {
	data := filepath.Join(t.TempDir(), "aixin-data")
	env := map[string]string{"AIXIN_DATA": data}
	base, out, stop := startServe(t, env)

	m := regexp.MustCompile(`password / 密码: (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no one-time password printed:\n%s", out)
	}
	c := client(t)
	resp := postJSON(t, c, base+"/api/v1/login", map[string]string{"login": "admin", "password": m[1]})
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %s", resp.Status)
	}
	resp, err := c.Get(base + "/api/v1/ledger/verify")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct{ OK bool }
	json.NewDecoder(resp.Body).Decode(&rep)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !rep.OK {
		t.Fatalf("verify: %s %+v", resp.Status, rep)
	}

	// A second server on the same folder stops at once with a clear message.
	start := time.Now()
	var out2, errs2 syncBuffer
	err = run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0"}, envFrom(env), strings.NewReader(""), &out2, &errs2)
	if err == nil || !strings.Contains(err.Error(), "in use by another aixin process") {
		t.Fatalf("second serve: %v", err)
	}
	if time.Since(start) > 15*time.Second {
		t.Fatal("second serve took too long to give up")
	}
	// So do verify and backup, pointing at the HTTP API instead.
	var vout syncBuffer
	if err := run(context.Background(), []string{"verify"}, envFrom(env), nil, &vout, &vout); err == nil || !strings.Contains(err.Error(), "/api/v1/ledger/verify") {
		t.Fatalf("verify on a running server: %v", err)
	}

	if err := stop(); err != nil {
		t.Fatalf("serve after SIGTERM: %v", err)
	}

	vout = syncBuffer{}
	if err := run(context.Background(), []string{"verify"}, envFrom(env), nil, &vout, &vout); err != nil || !strings.HasPrefix(vout.String(), "ok: ") {
		t.Fatalf("verify: %v %s", err, vout.String())
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	var bout syncBuffer
	if err := run(context.Background(), []string{"backup", "-o", copyPath}, envFrom(env), nil, &bout, &bout); err != nil || !strings.Contains(bout.String(), "the copy verifies") {
		t.Fatalf("backup: %v %s", err, bout.String())
	}
	vout = syncBuffer{}
	if err := run(context.Background(), []string{"verify", copyPath}, envFrom(env), nil, &vout, &vout); err != nil {
		t.Fatalf("verify of the copy: %v %s", err, vout.String())
	}

	// Restart: the administrator exists, no new password is printed.
	base, out, stop = startServe(t, env)
	if strings.Contains(out.String(), "password") {
		t.Fatalf("a second start printed a password:\n%s", out)
	}
	resp = postJSON(t, client(t), base+"/api/v1/login", map[string]string{"login": "admin", "password": m[1]})
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login after restart: %s", resp.Status)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestAdminPasswordFromEnvironment(t *testing.T) {
	env := map[string]string{"AIXIN_DATA": t.TempDir(), "AIXIN_ADMIN_LOGIN": "root", "AIXIN_ADMIN_PASSWORD": "correct horse battery"}
	base, out, stop := startServe(t, env)
	defer stop()
	if strings.Contains(out.String(), "correct horse") {
		t.Fatal("the password from the environment was printed")
	}
	resp := postJSON(t, client(t), base+"/api/v1/login", map[string]string{"login": "root", "password": "correct horse battery"})
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %s", resp.Status)
	}
}

func TestUserCommands(t *testing.T) {
	env := envFrom(map[string]string{"AIXIN_DATA": t.TempDir()})
	var out syncBuffer
	ctx := context.Background()
	if err := run(ctx, []string{"user", "add", "--login", "li.clerk", "--role", "clerk"}, env, strings.NewReader("counter-pass-1\n"), &out, &out); err == nil || !strings.Contains(err.Error(), "--shop") {
		t.Fatalf("a clerk without a shop: %v", err)
	}
	if err := run(ctx, []string{"user", "add", "--login", "li.clerk", "--role", "admin"}, env, strings.NewReader("counter-pass-1\n"), &out, &out); err != nil {
		t.Fatalf("user add: %v %s", err, out.String())
	}
	// Organisers and grid workers are bound to a unit, a grid worker to a grid.
	st, err := bolt.Open(filepath.Join(env("AIXIN_DATA"), "aixin.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	street, err := st.CreateUnit(ctx, "蓉城街道", ledger.UnitStreet, uuid.Nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	community, err := st.CreateUnit(ctx, "东河园社区", ledger.UnitCommunity, street.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	grid, err := st.CreateUnit(ctx, "第一网格", ledger.UnitGrid, community.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	for _, a := range [][]string{
		{"--login", "wang.org", "--role", "organizer", "--unit", community.ID.String()},
		{"--login", "zhao.grid", "--role", "grid_worker", "--unit", grid.ID.String()},
	} {
		if err := run(ctx, append([]string{"user", "add"}, a...), env, strings.NewReader("counter-pass-1\n"), &out, &out); err != nil {
			t.Fatalf("user add %v: %v %s", a, err, out.String())
		}
	}
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"Taken", []string{"user", "add", "--login", "LI.CLERK", "--role", "admin"}, "another-pass\n", "taken"},
		{"OrganiserWithoutUnit", []string{"user", "add", "--login", "y", "--role", "organizer"}, "long-enough\n", "--unit"},
		{"GridWorkerOfACommunity", []string{"user", "add", "--login", "y", "--role", "grid_worker", "--unit", community.ID.String()}, "long-enough\n", "bound to a grid"},
		{"UnknownUnit", []string{"user", "add", "--login", "y", "--role", "grid_worker", "--unit", uuid.NewString()}, "long-enough\n", "no unit"},
		{"ShortPassword", []string{"user", "add", "--login", "x", "--role", "clerk"}, "short\n", "at least 8"},
		{"BadRole", []string{"user", "add", "--login", "x", "--role", "volunteer"}, "long-enough\n", "want admin, organizer, grid_worker or clerk"},
		{"PasswdUnknown", []string{"user", "passwd", "--login", "nobody"}, "long-enough\n", "no user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(ctx, tt.args, env, strings.NewReader(tt.stdin), &out, &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
	if err := run(ctx, []string{"user", "passwd", "--login", "li.clerk"}, env, strings.NewReader("new-pass-123\n"), &out, &out); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"nonsense"}, env, nil, &out, &out); !errors.Is(err, errUsage) {
		t.Fatalf("unknown command: %v", err)
	}
	if err := run(ctx, []string{"verify", filepath.Join(t.TempDir(), "missing.db")}, env, nil, &out, &out); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("verify of a missing file: %v", err)
	}
	out = syncBuffer{}
	if err := run(ctx, []string{"version"}, env, nil, &out, &out); err != nil || !strings.HasPrefix(out.String(), "aixin ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
}

func TestVerifyReportsDamage(t *testing.T) {
	data := t.TempDir()
	path := filepath.Join(data, "aixin.db")
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	iss, mem := ledger.IssuerAccount(uuid.New()), ledger.MemberAccount(uuid.New())
	st.OpenAccount(context.Background(), iss)
	st.OpenAccount(context.Background(), mem)
	for range 3 {
		if _, err := st.Append(context.Background(), ledger.Transfer{Debit: iss, Credit: mem, Amount: 5, Kind: ledger.KindEarn, Memo: "服务"}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	// Change the amount of entry 2 in place, as someone with the file could.
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bbolt.Tx) error {
		j := tx.Bucket([]byte("journal"))
		k := []byte{0, 0, 0, 0, 0, 0, 0, 2}
		v := append([]byte(nil), j.Get(k)...)
		v[1+8+16+8+2*ledger.AccountKeySize+7] = 50
		return j.Put(k, v)
	})
	db.Close()
	env := envFrom(map[string]string{"AIXIN_DATA": data})
	var out syncBuffer
	err = run(context.Background(), []string{"verify"}, env, nil, &out, &out)
	if err == nil || !strings.HasPrefix(out.String(), "FAILED at seq 2:") {
		t.Fatalf("verify of a changed entry: %v %q", err, out.String())
	}
	if err := os.WriteFile(path, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"verify"}, env, nil, &out, &out); err == nil {
		t.Fatal("a garbage file verified")
	}
}

// TestImportMembersCommand imports a roster saved by Excel on Chinese
// Windows (GB18030, CRLF) into a stopped server's data, twice.
func TestImportMembersCommand(t *testing.T) {
	data := t.TempDir()
	st, err := bolt.Open(filepath.Join(data, "aixin.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	street, _ := st.CreateUnit(context.Background(), "阳光街道", ledger.UnitStreet, uuid.Nil, nil)
	community, _ := st.CreateUnit(context.Background(), "幸福社区", ledger.UnitCommunity, street.ID, nil)
	if _, err := st.CreateUnit(context.Background(), "第一网格", ledger.UnitGrid, community.ID, nil); err != nil {
		t.Fatal(err)
	}
	st.Close()
	roster, err := simplifiedchinese.GB18030.NewEncoder().String("姓名,手机号,所属社区/网格,是否党员\r\n张三,13812345678,幸福社区/第一网格,是\r\n李四,13912345678,幸福社区,否\r\n")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "名册.csv")
	os.WriteFile(file, []byte(roster), 0o600)
	env := envFrom(map[string]string{"AIXIN_DATA": data})
	var out syncBuffer
	if err := run(context.Background(), []string{"import", "members", file}, env, nil, &out, &out); err != nil || !strings.Contains(out.String(), "2 created") {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	out = syncBuffer{}
	if err := run(context.Background(), []string{"import", "members", file}, env, nil, &out, &out); err != nil || !strings.Contains(out.String(), "2 unchanged") {
		t.Fatalf("import again: %v\n%s", err, out.String())
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("姓名,手机号,所属社区/网格\r\n王五,12345,幸福社区\r\n赵六,13712345678,幸福社区\r\n"), 0o600)
	out = syncBuffer{}
	err = run(context.Background(), []string{"import", "members", bad}, env, nil, &out, &out)
	if err == nil || !strings.Contains(out.String(), "row 2\tphone") {
		t.Fatalf("bad roster: %v\n%s", err, out.String())
	}
	out = syncBuffer{}
	if err := run(context.Background(), []string{"import", "members", "--skip-invalid", bad}, env, nil, &out, &out); err != nil || !strings.Contains(out.String(), "1 created") {
		t.Fatalf("skipping the bad row: %v\n%s", err, out.String())
	}
}

func TestExportMonthlyCommand(t *testing.T) {
	data := t.TempDir()
	st, err := bolt.Open(filepath.Join(data, "aixin.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	street, _ := st.CreateUnit(ctx, "阳光街道", ledger.UnitStreet, uuid.Nil, nil)
	community, _ := st.CreateUnit(ctx, "幸福社区", ledger.UnitCommunity, street.ID, nil)
	m, err := st.CreateMember(ctx, ledger.Member{Name: "张三", Phone: "13812345678", UnitID: community.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	iss := ledger.IssuerAccount(community.ID)
	st.OpenAccount(ctx, iss)
	if _, err := st.Append(ctx, ledger.Transfer{Debit: iss, Credit: ledger.MemberAccount(m.ID), Amount: 25, Minutes: 150, Kind: ledger.KindEarn}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	env := envFrom(map[string]string{"AIXIN_DATA": data})
	var out, errs syncBuffer
	now := ledger.MonthOf(time.Now(), mustLoad(t, "Asia/Shanghai"))
	if err := run(ctx, []string{"export", "monthly", "--month", now.String(), "--format", "csv", "-o", "-"}, env, nil, &out, &errs); err != nil {
		t.Fatalf("export: %v\n%s", err, errs.String())
	}
	if !strings.Contains(out.String(), "张三,138****5678,阳光街道 / 幸福社区,,,,2.5,0,25,25,0,0,0,0,0,0,25,0,0\r\n") {
		t.Fatalf("export:\n%s", out.String())
	}
	dir := t.TempDir()
	t.Chdir(dir)
	errs = syncBuffer{}
	if err := run(ctx, []string{"export", "monthly", "--full-phone"}, env, nil, &out, &errs); err != nil {
		t.Fatalf("xlsx: %v\n%s", err, errs.String())
	}
	prev := now.AddMonths(-1) // by default, the last month finished
	name := fmt.Sprintf("%d年%d月积分汇总.xlsx", int(prev)/100, int(prev)%100)
	if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !bytes.HasPrefix(b, []byte("PK")) {
		t.Fatalf("%s: %v (%s)", name, err, errs.String())
	}
	for _, args := range [][]string{{"export", "monthly", "--month", "2026-13"}, {"export", "monthly", "--by", "street"}, {"export", "monthly", "--unit", uuid.NewString()}} {
		errs = syncBuffer{}
		if err := run(ctx, args, env, nil, &out, &errs); err == nil {
			t.Fatalf("%v: no error", args)
		}
	}
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestDemo fills a new folder with the demo district: the ledger verifies,
// every role's login is printed, there is a month of service, vouchers
// redeemed and waiting, and a second run refuses the full folder.
func TestDemo(t *testing.T) {
	data := t.TempDir()
	env := envFrom(map[string]string{"AIXIN_DATA": data, "AIXIN_ADMIN_PASSWORD": "demo-admin-password-2026"})
	var out, errs syncBuffer
	if err := run(context.Background(), []string{"demo"}, env, nil, &out, &errs); err != nil {
		t.Fatalf("demo: %v\n%s", err, errs.String())
	}
	for _, want := range []string{"donghe ", "rongcheng ", "donghe-shop", "rongcheng-bank", "13905500000", "demo-volunteer-2026", "donghe-grid"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("the logins lack %q:\n%s", want, out.String())
		}
	}
	st, err := bolt.Open(filepath.Join(data, "aixin.db"), bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rep, err := st.Verify(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	members, _ := st.Members(ctx, ledger.MemberFilter{Scope: ledger.Scope{All: true}, Limit: 1000})
	events, _ := st.Events(ctx)
	var onDuty int
	for _, m := range members {
		if m.OnDuty != nil {
			onDuty++
		}
	}
	month := ledger.MonthOf(time.Now(), st.Location())
	mr, err := st.MonthReport(ctx, month, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var earned, redeemed, held ledger.Points
	for _, m := range mr.Members {
		held += m.HeldClosing
	}
	sums, err := st.MonthSums(ctx, month.AddMonths(-1), month, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sums {
		earned += s.Earned
		redeemed += s.Redeemed
	}
	// The month is told day by day: the points carry the days of their events.
	entries, err := st.Entries(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var first, last time.Time
	for _, e := range entries {
		if e.Kind == ledger.KindEarn {
			if first.IsZero() {
				first = e.Time
			}
			last = e.Time
		}
	}
	if last.Sub(first) < 20*24*time.Hour || last.After(time.Now()) {
		t.Fatalf("earn entries from %v to %v", first, last)
	}
	if len(members) != 48 || onDuty != 15 || len(events) != 18 || earned == 0 || redeemed == 0 || held == 0 {
		t.Fatalf("demo: %d members (%d on duty), %d events, earned %d, redeemed %d, held %d", len(members), onDuty, len(events), earned, redeemed, held)
	}
	checkDemoHouseholds(t, st)
	demoWishesHold(t, st)
	st.Close()
	// Logins work as printed.
	u, err := func() (ledger.User, error) {
		st, err := bolt.Open(filepath.Join(data, "aixin.db"), bolt.Options{ReadOnly: true})
		if err != nil {
			return ledger.User{}, err
		}
		defer st.Close()
		return st.UserByLogin(ctx, "donghe")
	}()
	if err != nil || !handlers.CheckPassword(u.PasswordHash, "demo-organiser-2026") {
		t.Fatalf("organiser login: %v", err)
	}
	out = syncBuffer{}
	if err := run(context.Background(), []string{"demo"}, env, nil, &out, &errs); err == nil || !strings.Contains(err.Error(), "already has members") {
		t.Fatalf("a second demo: %v", err)
	}
}

// TestRestoreFromHotBackup follows the README's restore: a hot backup
// taken while serving, more work after it, stop, the backup put in place of
// the data file, verify, start — the server is back at the backup.
func TestRestoreFromHotBackup(t *testing.T) {
	data := filepath.Join(t.TempDir(), "aixin-data")
	env := map[string]string{"AIXIN_DATA": data, "AIXIN_DEMO": "true", "AIXIN_ADMIN_PASSWORD": "restore-admin-2026"}
	base, _, stop := startServe(t, env)
	admin := client(t)
	resp := postJSON(t, admin, base+"/api/v1/login", map[string]string{"login": "admin", "password": "restore-admin-2026"})
	resp.Body.Close()
	resp, err := admin.Get(base + "/api/v1/admin/backup")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("backup: %v %v", err, resp.Status)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	f, _ := os.Create(backup)
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	f.Close()
	count := func(c *http.Client) int {
		t.Helper()
		resp, err := c.Get(base + "/api/v1/members?limit=200")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var page struct{ Members []json.RawMessage }
		json.NewDecoder(resp.Body).Decode(&page)
		return len(page.Members)
	}
	// Work after the backup: a new member.
	org := client(t)
	postJSON(t, org, base+"/api/v1/login", map[string]string{"login": "donghe", "password": demoOrganiserPassword}).Body.Close()
	units := struct{ Units []struct{ ID, Name string } }{}
	resp, _ = org.Get(base + "/api/v1/units")
	json.NewDecoder(resp.Body).Decode(&units)
	resp.Body.Close()
	resp = postJSON(t, org, base+"/api/v1/members", map[string]any{"name": "备份后新增", "phone": "13712340000", "unit_id": units.Units[0].ID})
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || count(admin) != 49 {
		t.Fatalf("after the backup: %s, %d members", resp.Status, count(admin))
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// Restore: the backup in place of the file, verified, then served.
	raw, _ := os.ReadFile(backup)
	if err := os.WriteFile(filepath.Join(data, "aixin.db"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	var vout syncBuffer
	if err := run(context.Background(), []string{"verify"}, envFrom(env), nil, &vout, &vout); err != nil || !strings.HasPrefix(vout.String(), "ok: ") {
		t.Fatalf("verify the restored file: %v %s", err, vout.String())
	}
	base, out, stop := startServe(t, env)
	defer stop()
	if strings.Contains(out.String(), "Demo district") {
		t.Fatal("the demo was made again over restored data")
	}
	admin = client(t)
	postJSON(t, admin, base+"/api/v1/login", map[string]string{"login": "admin", "password": "restore-admin-2026"}).Body.Close()
	if n := count(admin); n != 48 {
		t.Fatalf("restored: %d members, want the backup's 48", n)
	}
}

// percentiles must not reorder what it is given: the Saturday bench pairs each
// latency with when it started, after printing the percentiles.
func TestPercentilesLeaveTheirInput(t *testing.T) {
	lat := []time.Duration{5 * time.Millisecond, time.Millisecond, 9 * time.Millisecond, 3 * time.Millisecond}
	p := percentiles(lat)
	if p[0] != 5*time.Millisecond || p[1] != 9*time.Millisecond {
		t.Fatalf("p50, p99 = %v", p)
	}
	if !slices.Equal(lat, []time.Duration{5 * time.Millisecond, time.Millisecond, 9 * time.Millisecond, 3 * time.Millisecond}) {
		t.Fatalf("the latencies were reordered: %v", lat)
	}
}

// A setting that cannot be read stops the start with its name and what it
// should look like, rather than quietly leaving the default.
func TestServeRefusesUnreadableSettings(t *testing.T) {
	for key, bad := range map[string]string{"AIXIN_USER_LIMIT": "thirty", "AIXIN_CHECKIN_REPEAT": "2 minutes",
		"AIXIN_BACKUP_MBPS": "-1", "AIXIN_COOKIE_SECURE": "yes please", "AIXIN_MIN_FREE_MB": "64MB"} {
		env := envFrom(map[string]string{"AIXIN_DATA": t.TempDir(), key: bad})
		var out, errs syncBuffer
		// Were the setting taken, the server would start: the context stops it.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, env, strings.NewReader(""), &out, &errs)
		cancel()
		if err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "give ") {
			t.Fatalf("%s=%s: %v", key, bad, err)
		}
	}
}

// demoWishesHold checks the demo's wishes (微心愿): some in every state, in
// every community, the confirmed ones' points awarded, the grid worker of
// 东河园's first grid, and 东河园's public wall on.
func demoWishesHold(t *testing.T, st *bolt.Store) {
	t.Helper()
	ctx := context.Background()
	wishes, err := st.ListWishes(ctx, ledger.WishFilter{Scope: ledger.Scope{All: true}})
	if err != nil {
		t.Fatal(err)
	}
	states := map[ledger.WishStatus]int{}
	communities := map[uuid.UUID]bool{}
	for _, w := range wishes {
		states[w.Status]++
		communities[w.CommunityID] = true
		var awarded ledger.Points
		for _, a := range w.Awards {
			awarded += a.Points
		}
		if (w.Status == ledger.WishConfirmed) != (awarded > 0) || (awarded > 0 && awarded != w.Points) {
			t.Errorf("wish %s (%s, %d points) awarded %d", w.Title, w.Status, w.Points, awarded)
		}
	}
	for _, s := range ledger.WishStatuses {
		if states[s] == 0 {
			t.Errorf("the demo has no %s wish: %v", s, states)
		}
	}
	if len(communities) != 3 {
		t.Errorf("wishes in %d communities", len(communities))
	}
	gw, err := st.UserByLogin(ctx, "donghe-grid")
	if err != nil || gw.Role != ledger.RoleGridWorker || !handlers.CheckPassword(gw.PasswordHash, "demo-organiser-2026") {
		t.Fatalf("grid worker: %+v %v", gw, err)
	}
	grid, err := st.Unit(ctx, gw.UnitID)
	if err != nil || grid.Kind != ledger.UnitGrid || grid.Name != "第一网格" {
		t.Fatalf("the grid worker's unit: %+v %v", grid, err)
	}
	walls, err := st.WishWalls(ctx)
	if err != nil || !walls[grid.ParentID].On || len(walls) != 1 {
		t.Fatalf("walls %v %v", walls, err)
	}
	// The demo volunteer has a claim in hand and points from a wish.
	vol, err := st.Members(ctx, ledger.MemberFilter{Scope: ledger.Scope{All: true}, Query: "13905500000", Limit: 1})
	if err != nil || len(vol) != 1 {
		t.Fatalf("%v %v", vol, err)
	}
	mine, _ := st.ListWishes(ctx, ledger.WishFilter{Scope: ledger.Scope{All: true}, Member: vol[0].ID})
	got := map[ledger.WishStatus]bool{}
	for _, w := range mine {
		got[w.Status] = true
	}
	if !got[ledger.WishClaimed] || !got[ledger.WishConfirmed] {
		t.Errorf("the demo volunteer's wishes: %v", got)
	}
}
