package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// benchCheckin is "aixin bench checkin": simulated volunteers checking in
// and out of one event on a running server, with the figures printed. It
// sets up its own street, community, event and volunteers through the API
// as an administrator. Start the server for it with
//
//	AIXIN_LOGIN_LIMIT=100000 AIXIN_USER_LIMIT=1000000 AIXIN_CHECKIN_REPEAT=0s aixin serve
//
// so that it may log its volunteers in, and so that every scan writes (with
// the default repeat window a second scan within two minutes is a no-op).
//
// It prints the server's CPU time over the scans (from /metrics), per scan.
// tools/checkin-cpu.sh measures it as issue 14 did instead: the difference
// of two runs of different lengths, each on a new server, so that start-up,
// set-up and finalising cancel; it compares binaries, interleaved.
func benchCheckin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench checkin", stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "the server")
	n := fs.Int("volunteers", 500, "concurrent volunteers")
	dur := fs.Duration("duration", 15*time.Second, "how long the concurrent phase runs")
	single := fs.Int("single", 300, "scans of one volunteer alone, one after another")
	rate := fs.Float64("rate", 3000, "scans per second all volunteers together offer in the paced phase (0: skip it)")
	login := fs.String("admin", envOr(getenv, "AIXIN_ADMIN_LOGIN", "admin"), "administrator login (password: AIXIN_ADMIN_PASSWORD)")
	if err := parseArgs(fs, args, stderr, 0); err != nil {
		return err
	}
	if *n < 1 {
		return usageError(stderr, "bench checkin", "--volunteers must be at least 1")
	}
	password := getenv("AIXIN_ADMIN_PASSWORD")
	if password == "" {
		return errors.New("set AIXIN_ADMIN_PASSWORD to the administrator's password")
	}
	b := &bencher{base: strings.TrimRight(*base, "/"), client: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: *n + 10, MaxConnsPerHost: 0},
	}}
	start := time.Now()
	admin, err := b.login(*login, password)
	if err != nil {
		return fmt.Errorf("administrator login: %w", err)
	}
	vols, eventID, _, err := b.setup(admin, *n)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "set up %d volunteers and one event in %v\n", *n, time.Since(start).Round(time.Millisecond))

	var token atomic.Value
	refresh := func() error {
		var code struct{ Token string }
		if err := b.call(admin, "GET", "/api/v1/events/"+eventID+"/code", nil, &code); err != nil {
			return err
		}
		token.Store(code.Token)
		return nil
	}
	if err := refresh(); err != nil {
		return err
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				refresh()
			}
		}
	}()
	scan := func(cookie string) (string, int, time.Duration) {
		body, _ := json.Marshal(map[string]string{"code": token.Load().(string)})
		t0 := time.Now()
		req, _ := http.NewRequest("POST", b.base+"/api/v1/checkins", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cookie", cookie)
		res, err := b.client.Do(req)
		d := time.Since(t0)
		if err != nil {
			return "", 0, d
		}
		defer res.Body.Close()
		var v struct{ Action string }
		json.NewDecoder(res.Body).Decode(&v)
		return v.Action, res.StatusCode, d
	}

	// The server's CPU over the scans alone (set-up and finalising left
	// out), from its /metrics.
	_, _, cpu0 := serverProcess(b)
	var scans int

	// One volunteer alone.
	var lone []time.Duration
	actions := map[string]int{}
	for range *single {
		a, status, d := scan(vols[0])
		if status != 200 {
			return fmt.Errorf("a lone scan answered %d", status)
		}
		actions[a]++
		lone = append(lone, d)
	}
	p := percentiles(lone)
	fmt.Fprintf(stdout, "1 volunteer, %d scans one after another: p50 %v, p99 %v (%d in, %d out)\n", len(lone), p[0], p[1], actions["in"], actions["out"])
	if actions["out"] == 0 {
		fmt.Fprintln(stdout, "note: no scan checked out: the server's repeat window makes repeated scans no-ops; start it with AIXIN_CHECKIN_REPEAT=0s to measure writes")
	}

	// Everyone at once: first as fast as they can (each volunteer scans again
	// as soon as the last scan answered), then paced at the offered rate.
	// A paced scan's latency counts from when it was due, so a server that
	// falls behind is charged for the wait too.
	var failed int
	type phase struct {
		name     string
		interval time.Duration // between one volunteer's scans; 0: as soon as the last answered
	}
	phases := []phase{{"as fast as they can", 0}}
	if *rate > 0 {
		phases = append(phases, phase{fmt.Sprintf("paced at %.0f scans/s", *rate), time.Duration(float64(len(vols)) / *rate * float64(time.Second))})
	}
	for _, phase := range phases {
		var wg sync.WaitGroup
		lat := make([][]time.Duration, len(vols))
		statuses := make([]map[int]int, len(vols))
		t0 := time.Now()
		deadline := t0.Add(*dur)
		for i, cookie := range vols {
			statuses[i] = map[int]int{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				due := t0
				if phase.interval > 0 { // spread the volunteers over one interval
					due = t0.Add(time.Duration(rand.Int64N(int64(phase.interval))))
				}
				for due.Before(deadline) {
					if wait := time.Until(due); wait > 0 {
						time.Sleep(wait)
					}
					start := time.Now()
					if phase.interval > 0 {
						start = due
					}
					_, status, _ := scan(cookie)
					lat[i] = append(lat[i], time.Since(start))
					statuses[i][status]++
					if phase.interval > 0 {
						due = due.Add(phase.interval)
					} else {
						due = time.Now()
					}
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(t0)
		all := slices.Concat(lat...)
		counts := map[int]int{}
		for _, m := range statuses {
			for k, v := range m {
				counts[k] += v
			}
		}
		failed += len(all) - counts[200]
		scans += len(all)
		p = percentiles(all)
		fmt.Fprintf(stdout, "%d volunteers %s for %v: %d scans, %.0f scans/s, p50 %v, p99 %v, statuses %v\n",
			len(vols), phase.name, elapsed.Round(time.Millisecond), len(all), float64(len(all))/elapsed.Seconds(), p[0], p[1], counts)
	}

	if _, _, cpu1 := serverProcess(b); cpu0 > 0 && cpu1 > 0 {
		scans += len(lone)
		fmt.Fprintf(stdout, "server CPU over the %d scans: %.2f s, %.3f ms per scan\n", scans, cpu1-cpu0, (cpu1-cpu0)/float64(scans)*1000)
	}

	// Post the points and check the ledger.
	t1 := time.Now()
	var fin struct {
		Posted     int
		Points     int64
		NoCheckout int `json:"no_checkout"`
	}
	// The event still runs: finalising it is confirmed.
	if err := b.call(admin, "POST", "/api/v1/events/"+eventID+"/finalize", map[string]any{"confirm": true}, &fin); err != nil {
		return err
	}
	var rep struct {
		OK      bool
		Entries uint64
	}
	if err := b.call(admin, "GET", "/api/v1/ledger/verify", nil, &rep); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "finalised: %d attendances posted (%d points), %d still checked in (now 未签退); ledger verify ok=%v over %d entries (%v)\n",
		fin.Posted, fin.Points, fin.NoCheckout, rep.OK, rep.Entries, time.Since(t1).Round(time.Millisecond))
	if failed > 0 {
		return fmt.Errorf("%d scans did not answer 200", failed)
	}
	if !rep.OK {
		return errors.New("the ledger does not verify")
	}
	return nil
}

func percentiles(d []time.Duration) [2]time.Duration {
	if len(d) == 0 {
		return [2]time.Duration{}
	}
	d = slices.Sorted(slices.Values(d)) // a copy: callers keep their order
	return [2]time.Duration{d[len(d)*50/100].Round(10 * time.Microsecond), d[len(d)*99/100].Round(10 * time.Microsecond)}
}

type bencher struct {
	base   string
	client *http.Client
}

// call sends a JSON request with a session cookie and decodes the answer into out.
func (b *bencher) call(cookie, method, path string, body any, out any) error {
	var r io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, b.base+path, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return b.do(req, cookie, out)
}

func (b *bencher) do(req *http.Request, cookie string, out any) error {
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	res, err := b.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, res.StatusCode, data)
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}

// login logs in and returns the session cookie as a Cookie header value.
func (b *bencher) login(login, password string) (string, error) {
	j, _ := json.Marshal(map[string]string{"login": login, "password": password})
	res, err := b.client.Post(b.base+"/api/v1/login", "application/json", bytes.NewReader(j))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusTooManyRequests {
		return "", errors.New("login rate-limited: start the server with AIXIN_LOGIN_LIMIT=100000 AIXIN_USER_LIMIT=1000000 for the benchmark")
	}
	for _, c := range res.Cookies() {
		if c.Name == "aixin_session" && res.StatusCode == 200 {
			return c.Name + "=" + c.Value, nil
		}
	}
	return "", fmt.Errorf("login %s: %s", login, res.Status)
}

// upload posts a file as the multipart field "file".
func (b *bencher) upload(cookie, path, name, content string) error {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	io.WriteString(fw, content)
	mw.Close()
	req, _ := http.NewRequest("POST", b.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req, cookie, nil)
}

// memberIDs lists the ids of a unit's members, in order.
func (b *bencher) memberIDs(cookie, unit string) ([]string, error) {
	var ids []string
	for after := ""; ; {
		var page struct {
			Members   []struct{ ID string }
			NextAfter string `json:"next_after"`
		}
		if err := b.call(cookie, "GET", "/api/v1/members?limit=200&unit_id="+unit+"&after="+after, nil, &page); err != nil {
			return nil, err
		}
		for _, m := range page.Members {
			ids = append(ids, m.ID)
		}
		if page.NextAfter == "" {
			return ids, nil
		}
		after = page.NextAfter
	}
}

// setup makes a street, a community, an event that is on now, and n
// volunteers with passwords, and logs them in.
// setup makes a street and a community with one open event and n
// volunteers logged in; it answers their session cookies, the event and
// the community.
func (b *bencher) setup(admin string, n int) ([]string, string, string, error) {
	tag := time.Now().Format("0102-150405")
	var street, community struct{ ID string }
	if err := b.call(admin, "POST", "/api/v1/units", map[string]any{"name": "压测街道 " + tag, "kind": "street"}, &street); err != nil {
		return nil, "", "", err
	}
	if err := b.call(admin, "POST", "/api/v1/units", map[string]any{"name": "压测社区", "kind": "community", "parent_id": street.ID}, &community); err != nil {
		return nil, "", "", err
	}
	now := time.Now()
	var event struct{ ID string }
	if err := b.call(admin, "POST", "/api/v1/events", map[string]any{"title": "压测活动 " + tag, "category": "其他",
		"unit_id": community.ID, "starts_at": now.Add(-5 * time.Minute), "ends_at": now.Add(4 * time.Hour)}, &event); err != nil {
		return nil, "", "", err
	}
	// The volunteers, as one roster.
	base := 19900000000 + rand.Int64N(90_000_000/int64(n+1))*int64(n+1)/1000*1000
	var csv strings.Builder
	csv.WriteString("姓名,手机号,所属社区/网格\r\n")
	phones := make([]string, n)
	for i := range n {
		phones[i] = fmt.Sprint(base + int64(i))
		fmt.Fprintf(&csv, "压测%d,%s,压测街道 %s/压测社区\r\n", i, phones[i], tag)
	}
	if err := b.upload(admin, "/api/v1/members/import", "bench.csv", csv.String()); err != nil {
		return nil, "", "", err
	}
	ids, err := b.memberIDs(admin, community.ID)
	if err != nil {
		return nil, "", "", err
	}
	if len(ids) != n {
		return nil, "", "", fmt.Errorf("imported %d volunteers, want %d", len(ids), n)
	}
	// Passwords and logins, a few at a time (each costs an argon2 hash).
	const pass = "bench-volunteer-pass"
	cookies := make([]string, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := b.call(admin, "POST", "/api/v1/members/"+ids[i]+"/password", map[string]string{"password": pass}, nil); err != nil {
				errs <- err
				return
			}
		}()
	}
	wg.Wait()
	// Members come back in id order, the roster's order: match by listing phones.
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := b.login(phones[i], pass)
			if err != nil {
				errs <- err
				return
			}
			cookies[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return nil, "", "", err
	}
	return cookies, event.ID, community.ID, nil
}
