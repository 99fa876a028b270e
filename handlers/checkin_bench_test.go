//go:build unix

package handlers

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/bolt"

	"github.com/google/uuid"
)

// BenchmarkCheckinInOut is one volunteer's check-in and check-out by
// scanning an event's code, over the real HTTP server on loopback: the
// allocations and time of the whole exchange, client and server. The repeat
// window is off, so that every scan writes, as in `aixin bench checkin`.
//
//	go test ./handlers -run '^$' -bench CheckinInOut -benchtime 3000x
func BenchmarkCheckinInOut(b *testing.B) {
	clk := &clock{t: time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)}
	rules := ledger.DefaultEventRules
	rules.RepeatWindow = 0
	st, _, _, srv := startServer(b, bolt.Options{Now: clk.Now, Rules: &rules}, io.Discard, func(c *Config) {
		c.Rules, c.ActionsPerMinute = rules, 1<<30
	})
	street, err := st.CreateUnit(ctx, "幸福街道", ledger.UnitStreet, uuid.Nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	unit, err := st.CreateUnit(ctx, "A社区", ledger.UnitCommunity, street.ID, nil)
	if err != nil {
		b.Fatal(err)
	}
	m, err := st.CreateMember(ctx, ledger.Member{Name: "志愿者A", Phone: "13800000000", UnitID: unit.ID}, testHash())
	if err != nil {
		b.Fatal(err)
	}
	vol, err := st.UserByLogin(ctx, m.Phone)
	if err != nil {
		b.Fatal(err)
	}
	token, sess := newSession(vol.ID, clk.Now())
	if err := st.CreateSession(ctx, sess); err != nil {
		b.Fatal(err)
	}
	now := clk.Now()
	ev, err := st.CreateEvent(ctx, ledger.Event{Title: "环境整治", Category: "环境整治", UnitID: unit.ID,
		StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	body := `{"code":"` + ledger.CheckinToken(ev, ledger.CheckinStep(now, rules)) + `"}`
	client := srv.Client()
	scan := func(want string) {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/checkins", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: token})
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		var v struct{ Action string }
		if err := json.NewDecoder(res.Body).Decode(&v); err != nil || res.StatusCode != http.StatusOK || v.Action != want {
			b.Fatalf("scan: status %d, action %q (want %q), %v", res.StatusCode, v.Action, want, err)
		}
	}
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		scan(ledger.ActionIn)
		scan(ledger.ActionOut)
	}
	// ns/op is mostly the wait for the disk (each commit here has one scan
	// and syncs); the CPU the process spent, client and server, is the
	// figure a change of the check-in path moves.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
