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
