package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/postgres/pgtest"

	"github.com/google/uuid"
)

// TestScansOnTwoServers has two app servers take scans at once. 100
// members scan twice at the same instant, once on each server (with no
// repeat window: one check-in and one check-out, in some order); then
// every member scans once, half on each server, 60 of them racing for the
// 10 places of a small event. Batches
// of scans share the chain head, and never wait for each other in a
// circle (no deadlock, no batch run again); the places are never
// exceeded; the counters agree with the attendances; the ledger verifies.
func TestScansOnTwoServers(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	rules := ledger.DefaultEventRules
	rules.RepeatWindow = 0
	var servers [2]*Store
	for i := range servers {
		s, err := Open(ctx, url, Options{Rules: &rules})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		servers[i] = s
	}
	a := servers[0]
	_, ms, events := scanWorld(t, a, 160, 9, 10)
	small := events[8]

	// Each of 100 members scans at the same instant on both servers.
	actions := make([][2]string, 100)
	var wg sync.WaitGroup
	for i, m := range ms[:100] {
		for k, s := range servers {
			wg.Go(func() {
				d, err := s.Scan(ctx, events[i%8].ID, m.ID, ledger.ScanRequest{Source: "scan"})
				if err != nil {
					t.Errorf("member %d on server %d: %v", i, k, err)
				}
				actions[i][k] = d.Action
			})
		}
	}
	wg.Wait()
	for i, got := range actions {
		if got != [2]string{ledger.ActionIn, ledger.ActionOut} && got != [2]string{ledger.ActionOut, ledger.ActionIn} {
			t.Errorf("member %d: %v, want one check-in and one check-out", i, got)
		}
	}
	// Then each member scans once, half on each server: the 100 into the
	// eight events again, the 60 others race for the 10 places.
	admitted := 0
	var mu sync.Mutex
	for i, m := range ms {
		e := events[(i+1)%8]
		if i >= 100 {
			e = small
		}
		wg.Go(func() {
			d, err := servers[i%2].Scan(ctx, e.ID, m.ID, ledger.ScanRequest{Source: "scan"})
			switch {
			case err == nil && d.Action == ledger.ActionIn:
				if e.ID == small.ID {
					mu.Lock()
					admitted++
					mu.Unlock()
				}
			case err != nil && e.ID == small.ID && ledger.ErrorCode(err) == ledger.ECONFLICT:
			default:
				t.Errorf("member %d: %s %v", i, d.Action, err)
			}
		})
	}
	wg.Wait()
	if admitted != small.Capacity {
		t.Errorf("%d admitted to %d places", admitted, small.Capacity)
	}
	// Ten rounds more of the 100, out and in, half on each server: batches
	// that move the counters of the same events at once.
	for round := range 10 {
		for i, m := range ms[:100] {
			wg.Go(func() {
				if _, err := servers[i%2].Scan(ctx, events[(i+1+round/2)%8].ID, m.ID, ledger.ScanRequest{Source: "scan", EndOther: true}); err != nil {
					t.Errorf("round %d, member %d: %v", round, i, err)
				}
			})
		}
		wg.Wait()
	}
	sum := 0
	for _, e := range events {
		atts, err := a.Attendances(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		open := 0
		for _, at := range atts {
			if at.Status == ledger.AttendanceOpen {
				open++
			}
		}
		total, counted, err := a.EventCounts(ctx, e.ID)
		sum += open
		if err != nil || total != len(atts) || counted != open {
			t.Errorf("%s: counters %d/%d (%v), attendances %d/%d", e.Title, counted, total, err, open, len(atts))
		}
	}
	if sum != 10 {
		t.Errorf("%d checked in, want the 10 of the small event", sum)
	}
	if rep, err := a.Verify(ctx); err != nil || !rep.OK {
		t.Fatalf("verify %+v %v", rep, err)
	}
	// The places opened up: the event's scans share the gate again.
	zero := 0
	if _, err := a.UpdateEvent(ctx, small.ID, ledger.EventPatch{Capacity: &zero}, uuid.Nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Scan(ctx, small.ID, ms[159].ID, ledger.ScanRequest{Source: "scan"}); err != nil {
		t.Fatal(err)
	}
	if _, still := a.capacity.Load(small.ID); still {
		t.Error("an event without a capacity still takes the gate alone")
	}
	var shared, retries uint64
	for _, s := range servers {
		shared += s.stats.shared.Load()
		retries += s.stats.retries.Load()
	}
	if shared == 0 || retries != 0 {
		t.Fatalf("%d batches of scans shared the gate, %d ran again (a deadlock)", shared, retries)
	}
}

// TestScansWaitAtTheGate holds a batch of the commit queue that writes an
// attendance (an organiser's back-filled check-in) open while a scan of
// the same member comes in: the scan waits at the scans' gate, then sees
// the check-in and checks out.
func TestScansWaitAtTheGate(t *testing.T) {
	ctx := context.Background()
	rules := ledger.DefaultEventRules
	rules.RepeatWindow = 0
	s, err := Open(ctx, pgtest.NewDatabase(t), Options{Rules: &rules})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, ms, events := scanWorld(t, s, 1, 1, 0)
	m, ev, now := ms[0], events[0], time.Now()
	holding, release := make(chan struct{}), make(chan struct{})
	backfill := make(chan error, 1)
	go func() {
		backfill <- s.update(ctx, func(w *wtx) error {
			close(holding)
			<-release
			return w.putAttendance(ledger.Attendance{ID: uuid.Must(uuid.NewV7()), EventID: ev.ID, MemberID: m.ID,
				CheckedInAt: now.Add(-time.Minute), Status: ledger.AttendanceOpen, Source: "organizer", RecordedAt: now})
		})
	}()
	<-holding
	scanned := make(chan ledger.ScanDecision, 1)
	go func() {
		d, err := s.Scan(ctx, ev.ID, m.ID, ledger.ScanRequest{Source: "scan"})
		if err != nil {
			t.Error(err)
		}
		scanned <- d
	}()
	time.Sleep(100 * time.Millisecond) // time for the scan to reach the gate
	select {
	case d := <-scanned:
		close(release)
		<-backfill
		t.Fatalf("the scan ran while the gate was held: %s", d.Action)
	default:
	}
	close(release)
	if err := <-backfill; err != nil {
		t.Fatalf("the back-filled check-in: %v", err)
	}
	if d := <-scanned; d.Action != ledger.ActionOut {
		t.Fatalf("the scan: %s, want the check-out of the back-filled check-in", d.Action)
	}
}

// scanWorld makes a street, a community in it, members of it and events of
// it running now, the last of them with the given capacity (0: none).
func scanWorld(t *testing.T, s *Store, members, events, capacity int) (ledger.Unit, []ledger.Member, []ledger.Event) {
	t.Helper()
	ctx := context.Background()
	street, err := s.CreateUnit(ctx, "幸福街道", ledger.UnitStreet, uuid.Nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	unit, err := s.CreateUnit(ctx, "A社区", ledger.UnitCommunity, street.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ms []ledger.Member
	for i := range members {
		m, err := s.CreateMember(ctx, ledger.Member{Name: fmt.Sprint("志愿者", i), Phone: fmt.Sprintf("1390%07d", i), UnitID: unit.ID}, "")
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	now := time.Now()
	var evs []ledger.Event
	for i := range events {
		e := ledger.Event{Title: fmt.Sprint("环境整治", i), Category: "环境整治", UnitID: unit.ID,
			StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour)}
		if i == events-1 {
			e.Capacity = capacity
		}
		if e, err = s.CreateEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	return unit, ms, evs
}
