package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"aixin/store/bolt"

	"github.com/google/uuid"
)

// benchSaturday is "aixin bench saturday": a busy Saturday morning against
// a running server, everything at once — volunteers checking in and out of
// twenty events at a steady rate, kiosks redeeming vouchers, organisers
// browsing (a page a second each), one exporting the month as CSV a third
// of the way in and as a workbook two thirds in — with a hot backup taken halfway
// through. It prints throughput, p50/p99 and errors per action, check-in
// latency during the backup against the rest, and the server's peak
// memory; it fails if any request failed or the backup does not verify.
// --url may name several app servers on one PostgreSQL, comma-separated:
// each volunteer, kiosk and organiser then keeps to one of them, in turn,
// as a load balancer spreads clients (the backup is PostgreSQL's own then,
// and not taken).
//
//	AIXIN_LOGIN_LIMIT=100000 AIXIN_USER_LIMIT=1000000 AIXIN_CHECKIN_REPEAT=0s AIXIN_ADMIN_PASSWORD=… aixin serve
//	AIXIN_ADMIN_PASSWORD=… aixin bench saturday
//	AIXIN_ADMIN_PASSWORD=… aixin bench saturday --url http://127.0.0.1:8080,http://127.0.0.1:8081
func benchSaturday(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench saturday", stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "the server, or several app servers on one database, comma-separated")
	n := fs.Int("volunteers", 1000, "volunteers checking in and out")
	events := fs.Int("events", 20, "events they are at")
	rate := fs.Float64("rate", 3000, "scans per second all volunteers together offer")
	kiosks := fs.Int("kiosks", 20, "kiosks redeeming")
	redeemEvery := fs.Duration("redeem-every", 250*time.Millisecond, "how often each kiosk redeems a voucher")
	organisers := fs.Int("organisers", 5, "organisers browsing members, events and the dashboard")
	dur := fs.Duration("duration", 30*time.Second, "how long the morning lasts")
	backup := fs.Bool("backup", true, "take a hot backup halfway through and verify it")
	login := fs.String("admin", envOr(getenv, "AIXIN_ADMIN_LOGIN", "admin"), "administrator login (password: AIXIN_ADMIN_PASSWORD)")
	if err := parseArgs(fs, args, stderr, 0); err != nil {
		return err
	}
	if *events < 1 || *kiosks < 1 || *n < *events {
		return usageError(stderr, "bench saturday", "--events and --kiosks must be at least 1, and --volunteers at least --events")
	}
	password := getenv("AIXIN_ADMIN_PASSWORD")
	if password == "" {
		return errors.New("set AIXIN_ADMIN_PASSWORD to the administrator's password")
	}
	client := &http.Client{Timeout: 60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: *n + *kiosks + *organisers + 20}}
	var servers []*bencher // the first sets up and takes the backup
	for u := range strings.SplitSeq(*base, ",") {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			servers = append(servers, &bencher{base: u, client: client})
		}
	}
	if len(servers) == 0 {
		return usageError(stderr, "bench saturday", "--url names no server")
	}
	b := servers[0]
	// server is the app server the i-th client of a kind keeps to.
	server := func(i int) *bencher { return servers[i%len(servers)] }
	t0 := time.Now()
	admin, err := b.login(*login, password)
	if err != nil {
		return fmt.Errorf("administrator login: %w", err)
	}
	vols, firstEvent, community, err := b.setup(admin, *n)
	if err != nil {
		return err
	}
	eventIDs := []string{firstEvent}
	now := time.Now()
	for i := 1; i < *events; i++ {
		var ev struct{ ID string }
		if err := b.call(admin, "POST", "/api/v1/events", map[string]any{"title": fmt.Sprintf("周六活动 %d", i+1), "category": "环境整治",
			"unit_id": community, "starts_at": now.Add(-5 * time.Minute), "ends_at": now.Add(4 * time.Hour)}, &ev); err != nil {
			return err
		}
		eventIDs = append(eventIDs, ev.ID)
	}
	vouchers := int(float64(*kiosks)*dur.Seconds()/redeemEvery.Seconds()) + *kiosks
	clerks, tokens, _, err := b.redeemSetup(admin, *kiosks, vouchers)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "set up %d volunteers, %d events, %d kiosks and %d vouchers in %v\n", *n, *events, *kiosks, len(tokens), time.Since(t0).Round(time.Second))
	engine := serverEngine(b)
	if *backup && engine == "postgres" {
		*backup = false
		fmt.Fprintln(stdout, "backup: not taken, PostgreSQL's own backups (pg_dump) serve a database")
	}
	fmt.Fprintf(stdout, "%d app server(s) on %s\n", len(servers), cmp.Or(engine, "an engine the server does not name"))

	// The events' rotating codes, fetched as a display screen does.
	tokensByEvent := make([]atomic.Value, len(eventIDs))
	refresh := func() error {
		for i, id := range eventIDs {
			var code struct{ Token string }
			if err := b.call(admin, "GET", "/api/v1/events/"+id+"/code", nil, &code); err != nil {
				return err
			}
			tokensByEvent[i].Store(code.Token)
		}
		return nil
	}
	if err := refresh(); err != nil {
		return err
	}

	// Each volunteer's connection is opened before the morning starts, as a
	// reverse proxy keeps its connections to the server open: the morning
	// measures scans, not a thousand TCP handshakes in the first second.
	var warm sync.WaitGroup
	var coldErr atomic.Pointer[error]
	for i, cookie := range vols {
		warm.Go(func() {
			if err := server(i).call(cookie, "GET", "/api/v1/me", nil, nil); err != nil {
				coldErr.CompareAndSwap(nil, &err)
			}
		})
	}
	warm.Wait()
	if err := coldErr.Load(); err != nil {
		return *err
	}

	stats := map[string]*actionStats{}
	for _, a := range []string{"check-in/out", "redeem", "browse", "export csv", "export xlsx", "backup"} {
		stats[a] = &actionStats{}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	cpuOf := func() (cpu float64) {
		for _, sv := range servers {
			_, _, c := serverProcess(sv)
			cpu += c
		}
		return cpu
	}
	cpuBefore := cpuOf()
	start := time.Now()
	deadline := start.Add(*dur)
	loop := func(interval time.Duration, offset time.Duration, fn func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			due := start.Add(offset)
			for due.Before(deadline) {
				select {
				case <-stop:
					return
				case <-time.After(time.Until(due)):
				}
				fn()
				due = due.Add(interval)
			}
		}()
	}
	var backupFrom, backupTo atomic.Int64
	// Volunteers: each scans its event's code every n/rate, check-in then out.
	interval := time.Duration(float64(*n) / *rate * float64(time.Second))
	for i, cookie := range vols {
		ev := i % len(eventIDs)
		loop(interval, time.Duration(rand.Int64N(int64(interval))), func() {
			body, _ := json.Marshal(map[string]string{"code": tokensByEvent[ev].Load().(string)})
			stats["check-in/out"].do(server(i), "POST", "/api/v1/checkins", cookie, body, "")
		})
	}
	// Kiosks.
	var next atomic.Int64
	for k := range *kiosks {
		loop(*redeemEvery, time.Duration(rand.Int64N(int64(*redeemEvery))), func() {
			i := int(next.Add(1) - 1)
			if i >= len(tokens) {
				return
			}
			stats["redeem"].do(server(k), "POST", "/api/v1/redemptions", clerks[k], []byte(`{"token":"`+tokens[i]+`"}`), uuid.Must(uuid.NewV7()).String())
		})
	}
	// Organisers browse; one of them exports the month now and then.
	pages := []string{"/api/v1/members?limit=50", "/api/v1/events", "/api/v1/dashboard"}
	for o := range *organisers {
		loop(time.Second, time.Duration(o)*200*time.Millisecond, func() {
			stats["browse"].do(server(o), "GET", pages[rand.IntN(len(pages))], admin, nil, "")
		})
	}
	var csvFrom, csvTo, xlsxFrom, xlsxTo atomic.Int64
	loop(*dur, *dur/3, func() {
		csvFrom.Store(time.Now().UnixNano())
		stats["export csv"].do(b, "GET", "/api/v1/exports/monthly?format=csv", admin, nil, "")
		csvTo.Store(time.Now().UnixNano())
	})
	loop(*dur, 2**dur/3, func() {
		xlsxFrom.Store(time.Now().UnixNano())
		stats["export xlsx"].do(b, "GET", "/api/v1/exports/monthly?format=xlsx", admin, nil, "")
		xlsxTo.Store(time.Now().UnixNano())
	})
	// The codes rotate every 30 s: fetch them as screens do.
	loop(10*time.Second, 10*time.Second, func() { refresh() })
	// Peak memory, from the server's own metrics.
	var peakRSS, peakHeap atomic.Int64
	loop(500*time.Millisecond, 0, func() {
		var rss, heap int64
		for _, sv := range servers {
			r, h, _ := serverProcess(sv)
			rss, heap = rss+r, heap+h
		}
		if rss > peakRSS.Load() {
			peakRSS.Store(rss)
		}
		if heap > peakHeap.Load() {
			peakHeap.Store(heap)
		}
	})
	var backupFile string
	var backupSize int64
	if *backup {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(*dur / 2)
			f, err := os.CreateTemp("", "aixin-saturday-*.db")
			if err != nil {
				stats["backup"].fail()
				return
			}
			backupFile = f.Name()
			backupFrom.Store(time.Now().UnixNano())
			t := time.Now()
			req, _ := http.NewRequest("GET", b.base+"/api/v1/admin/backup", nil)
			req.Header.Set("Cookie", admin)
			res, err := b.client.Do(req)
			if err == nil && res.StatusCode == http.StatusOK {
				backupSize, err = io.Copy(f, res.Body)
				res.Body.Close()
			} else if err == nil {
				err = fmt.Errorf("backup answered %s", res.Status)
			}
			f.Close()
			backupTo.Store(time.Now().UnixNano())
			stats["backup"].add(time.Since(t), err == nil)
		}()
	}
	wg.Wait()
	close(stop)
	elapsed := time.Since(start)
	cpuAfter := cpuOf()

	failed := 0
	for _, name := range []string{"check-in/out", "redeem", "browse", "export csv", "export xlsx", "backup"} {
		s := stats[name]
		if len(s.lat) == 0 && s.errors == 0 {
			continue
		}
		p := percentiles(s.lat)
		fmt.Fprintf(stdout, "%-13s %7d requests, %7.0f/s, p50 %8v, p99 %8v, errors %d %v\n",
			name, len(s.lat), float64(len(s.lat))/elapsed.Seconds(), p[0], p[1], s.errors, s.statuses)
		failed += s.errors
	}
	// Check-in latency while the heavier requests ran, against the rest of the morning.
	checkins := stats["check-in/out"]
	during := func(what string, from, to int64) {
		if to == 0 {
			return
		}
		in, out := checkins.split(from, to)
		pi, po := percentiles(in), percentiles(out)
		fmt.Fprintf(stdout, "while %s (%v): check-in p99 %v over %d scans; otherwise %v (%.2f×)\n", what,
			time.Duration(to-from).Round(time.Millisecond), pi[1], len(in), po[1], float64(pi[1])/float64(max(po[1], 1)))
	}
	during("the CSV was exported", csvFrom.Load(), csvTo.Load())
	during("the workbook was built", xlsxFrom.Load(), xlsxTo.Load())
	if *backup && backupFile != "" {
		defer os.Remove(backupFile)
		during(fmt.Sprintf("the backup was taken, %.1f MB", float64(backupSize)/1e6), backupFrom.Load(), backupTo.Load())
		st, err := bolt.Open(backupFile, bolt.Options{ReadOnly: true})
		if err != nil {
			return fmt.Errorf("the backup does not open: %w", err)
		}
		rep, err := st.Verify(ctx)
		st.Close()
		if err != nil || !rep.OK {
			return fmt.Errorf("the backup does not verify: %+v %v", rep, err)
		}
		fmt.Fprintf(stdout, "the backup verifies: %d entries\n", rep.Entries)
	}
	cpu := "not reported"
	if cpuBefore > 0 && cpuAfter > 0 {
		cpu = fmt.Sprintf("%.1f s, %.2f cores", cpuAfter-cpuBefore, (cpuAfter-cpuBefore)/elapsed.Seconds())
	}
	fmt.Fprintf(stdout, "server peak memory (all app servers): RSS %.0f MB (with the data file's pages it read), Go heap %.0f MB; server CPU over the morning: %s\n",
		float64(peakRSS.Load())/1e6, float64(peakHeap.Load())/1e6, cpu)
	var rep struct{ OK bool }
	if err := b.call(admin, "GET", "/api/v1/ledger/verify", nil, &rep); err != nil || !rep.OK {
		return fmt.Errorf("the ledger does not verify: %v", err)
	}
	fmt.Fprintln(stdout, "ledger verify ok")
	if failed > 0 {
		return fmt.Errorf("%d requests failed", failed)
	}
	return nil
}

// actionStats are one action's latencies (with when they started) and failures.
type actionStats struct {
	mu       sync.Mutex
	lat      []time.Duration
	at       []int64
	errors   int
	statuses map[int]int
}

func (s *actionStats) add(d time.Duration, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lat = append(s.lat, d)
	s.at = append(s.at, time.Now().Add(-d).UnixNano())
	if !ok {
		s.errors++
	}
}

func (s *actionStats) fail() {
	s.mu.Lock()
	s.errors++
	s.mu.Unlock()
}

// do sends one request and records it: anything but 2xx is an error.
func (s *actionStats) do(b *bencher, method, path, cookie string, body []byte, key string) {
	req, _ := http.NewRequest(method, b.base+path, bytes.NewReader(body))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Cookie", cookie)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	t := time.Now()
	res, err := b.client.Do(req)
	status := 0
	if err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		status = res.StatusCode
	}
	s.add(time.Since(t), status >= 200 && status < 300)
	s.mu.Lock()
	if s.statuses == nil {
		s.statuses = map[int]int{}
	}
	s.statuses[status]++
	s.mu.Unlock()
}

// split parts the latencies into those that started within [from, to] and the rest.
func (s *actionStats) split(from, to int64) (in, out []time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, at := range s.at {
		if at >= from && at <= to {
			in = append(in, s.lat[i])
		} else {
			out = append(out, s.lat[i])
		}
	}
	return slices.Clip(in), out
}

// serverEngine reads from the server's /metrics the storage engine it
// runs on: "bbolt", "postgres", or "" when it does not say.
func serverEngine(b *bencher) string {
	res, err := b.client.Get(b.base + "/metrics")
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), `aixin_build_info{engine="`); ok {
			engine, _, _ := strings.Cut(rest, `"`)
			return engine
		}
	}
	return ""
}

// serverProcess reads from the server's /metrics its resident memory (which
// counts the pages of the data file it has read through its memory map), the
// Go heap in use (bytes), and the CPU time it has used (seconds).
func serverProcess(b *bencher) (rss, heap int64, cpu float64) {
	res, err := b.client.Get(b.base + "/metrics")
	if err != nil {
		return 0, 0, 0
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "process_resident_memory_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			rss = int64(f)
		} else if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			heap = int64(f)
		} else if v, ok := strings.CutPrefix(sc.Text(), "process_cpu_seconds_total "); ok {
			cpu, _ = strconv.ParseFloat(v, 64)
		}
	}
	return rss, heap, cpu
}
