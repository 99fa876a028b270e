package bolt

import (
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// TestScanAnsweredReadsAfterTheWrite: the answer of a scan is what separate
// reads after it would say: the event, the member's name, the unit's name,
// the counters with this scan in them, and the title of the event whose
// check-in it ended.
func TestScanAnsweredReadsAfterTheWrite(t *testing.T) {
	s, clock, tr, e, ms := newEventWorld(t, 2)
	clock.Set(e.StartsAt)
	want := func(name string, a ledger.ScanAnswer, scanned ledger.Event, action, closedTitle string) {
		t.Helper()
		ev, _ := s.Event(ctx, scanned.ID)
		unit, _ := s.Unit(ctx, ev.UnitID)
		m, _ := s.Member(ctx, a.Attendance.MemberID)
		total, open, _ := s.EventCounts(ctx, ev.ID)
		if a.Action != action || a.Event.ID != ev.ID || a.Event.Title != ev.Title || a.Event.Status != ev.Status ||
			a.UnitName != unit.Name || a.UnitName == "" || a.MemberName != m.Name || a.Total != total || a.Open != open ||
			a.ClosedEventTitle != closedTitle {
			t.Fatalf("%s: answer %+v; want action %s, event %q, unit %q, member %q, %d in all, %d open, closed at %q",
				name, a, action, ev.Title, unit.Name, m.Name, total, open, closedTitle)
		}
	}
	a, err := s.ScanAnswered(ctx, e.ID, ms[0].ID, ledger.ScanRequest{Source: "scan"})
	if err != nil {
		t.Fatal(err)
	}
	want("first in", a, e, ledger.ActionIn, "")
	if a.Total != 1 || a.Open != 1 {
		t.Fatalf("the counters must hold the scan itself: %+v", a)
	}
	if a, err = s.ScanAnswered(ctx, e.ID, ms[1].ID, ledger.ScanRequest{Source: "scan"}); err != nil {
		t.Fatal(err)
	}
	want("second member in", a, e, ledger.ActionIn, "")
	clock.Add(30 * time.Minute)
	// An edit between two scans: the next one reads the edited event.
	title := "东河园河道清理"
	if _, err := s.UpdateEvent(ctx, e.ID, ledger.EventPatch{Title: &title}, uuid.Nil); err != nil {
		t.Fatal(err)
	}
	if a, err = s.ScanAnswered(ctx, e.ID, ms[0].ID, ledger.ScanRequest{Source: "scan"}); err != nil {
		t.Fatal(err)
	}
	want("out", a, e, ledger.ActionOut, "")
	if a.Event.Title != title {
		t.Fatalf("the scan after an edit read the event before it: %q", a.Event.Title)
	}
	if a.Total != 2 || a.Open != 1 {
		t.Fatalf("after one check-out: %+v", a)
	}
	// Checked in here, ms[1] checks in at an event of the other community
	// that runs too, agreeing to end this one.
	other, err := s.CreateEvent(ctx, ledger.Event{Title: "西湖助老", Category: "助老助残", UnitID: tr.b.ID,
		StartsAt: clock.Now().Add(-time.Minute), EndsAt: clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if a, err = s.ScanAnswered(ctx, other.ID, ms[1].ID, ledger.ScanRequest{Source: "scan", EndOther: true}); err != nil {
		t.Fatal(err)
	}
	want("in elsewhere", a, other, ledger.ActionIn, title)
	// A refusal writes nothing and answers nothing.
	if _, err := s.SetEventStatus(ctx, other.ID, ledger.EventCancelled); err != nil {
		t.Fatal(err)
	}
	_, err = s.ScanAnswered(ctx, other.ID, ms[0].ID, ledger.ScanRequest{Source: "scan"})
	_, err2 := s.Scan(ctx, other.ID, ms[0].ID, ledger.ScanRequest{Source: "scan"})
	if err == nil || ledger.ErrorCode(err) != ledger.ErrorCode(err2) {
		t.Fatalf("a scan of a cancelled event: %v; Scan says %v", err, err2)
	}
	checkConsistent(t, s)
}

// TestKeptAttendanceFollowsItsBytes: the attendance a check-out decoded
// (and kept, see storedAttendance) is not what the next write of it sees
// once its bytes changed: after in, out and finalising, the event's
// counters say one attendance and none open.
func TestKeptAttendanceFollowsItsBytes(t *testing.T) {
	s, clock, _, e, ms := newEventWorld(t, 1)
	clock.Set(e.StartsAt)
	counts := func(name string, wantTotal, wantOpen int) {
		t.Helper()
		total, open, err := s.EventCounts(ctx, e.ID)
		if err != nil || total != wantTotal || open != wantOpen {
			t.Fatalf("%s: %d in all, %d open (%v); want %d, %d", name, total, open, err, wantTotal, wantOpen)
		}
	}
	scan := func(want string) {
		t.Helper()
		d, err := s.Scan(ctx, e.ID, ms[0].ID, ledger.ScanRequest{Source: "scan"})
		if err != nil || d.Action != want {
			t.Fatalf("scan: %s %v, want %s", d.Action, err, want)
		}
	}
	scan(ledger.ActionIn)
	counts("in", 1, 1)
	clock.Add(30 * time.Minute)
	scan(ledger.ActionOut) // decodes the open attendance, and keeps it
	counts("out", 1, 0)
	// Finalising rewrites the closed attendance: what it was before is in
	// the stored bytes, not in the open one the check-out kept.
	clock.Set(e.EndsAt.Add(time.Minute))
	if _, err := s.FinalizeEvent(ctx, e.ID, "organizer", true); err != nil {
		t.Fatal(err)
	}
	counts("finalised", 1, 0)
	checkConsistent(t, s)
}

// TestScanIndexesEveryAttendance: each attendance is listed under its event
// and its member, also when a later event or member was indexed first (a
// check-out leaves the index keys as they are: putKey).
func TestScanIndexesEveryAttendance(t *testing.T) {
	s, clock, tr, e, ms := newEventWorld(t, 3)
	clock.Set(e.StartsAt)
	later, err := s.CreateEvent(ctx, ledger.Event{Title: "西湖助老", Category: "助老助残", UnitID: tr.a.ID,
		StartsAt: e.StartsAt, EndsAt: e.EndsAt})
	if err != nil {
		t.Fatal(err)
	}
	want := map[uuid.UUID]uuid.UUID{} // attendance -> event
	// The last member at the later event first, then back to the first.
	for i, ev := range []ledger.Event{later, e, e} {
		m := ms[len(ms)-1-i]
		for _, action := range []string{ledger.ActionIn, ledger.ActionOut} {
			d, err := s.Scan(ctx, ev.ID, m.ID, ledger.ScanRequest{Source: "scan"})
			if err != nil || d.Action != action {
				t.Fatalf("%s at %s: %s %v", m.Name, ev.Title, d.Action, err)
			}
			want[d.Attendance.ID] = ev.ID
			clock.Add(10 * time.Minute)
		}
		got, err := s.MemberAttendances(ctx, m.ID, 10)
		if err != nil || len(got) != 1 || want[got[0].ID] != ev.ID {
			t.Fatalf("%s's attendances: %+v %v", m.Name, got, err)
		}
	}
	for _, ev := range []ledger.Event{e, later} {
		got, err := s.Attendances(ctx, ev.ID)
		n := 0
		for _, id := range want {
			if id == ev.ID {
				n++
			}
		}
		if err != nil || len(got) != n {
			t.Fatalf("%s's attendances: %d %v, want %d", ev.Title, len(got), err, n)
		}
	}
	checkConsistent(t, s)
}
