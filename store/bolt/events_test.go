package bolt

import (
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/storetest"

	bolt "go.etcd.io/bbolt"
)

// testClock is the conformance suite's clock, which tests move by hand.
type testClock = storetest.Clock

var newTestClock = storetest.NewClock

// TestEventsConformance runs the engines' shared events suite on bbolt.
func TestEventsConformance(t *testing.T) {
	storetest.RunEvents(t, openEvents)
}

func openEvents(t *testing.T, clock func() time.Time) storetest.EventsStore {
	return openTest(t, Options{Now: clock})
}

func newEventWorld(t *testing.T, members int) (*Store, *testClock, tree, ledger.Event, []ledger.Member) {
	t.Helper()
	s, clock, tr, e, ms := storetest.NewEventWorld(t, openEvents, members)
	return s.(*Store), clock, tree{street: tr.Street, a: tr.A, b: tr.B, gridA: tr.GridA, gridB: tr.GridB, teamA: tr.TeamA}, e, ms
}

// TestOverdueSweep closes the attendances left open at events that are
// over, cancelled or finalised — and leaves running ones alone — one by one:
// a damaged attendance is reported and the rest are closed.
func TestOverdueSweep(t *testing.T) {
	s, clock, tr, e, ms := newEventWorld(t, 5)
	long, err := s.CreateEvent(ctx, ledger.Event{Title: "全天值守", Category: "应急抢险", UnitID: tr.a.ID, StartsAt: e.StartsAt, EndsAt: e.StartsAt.Add(10 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(e.StartsAt)
	for i, m := range ms {
		ev := e
		if i == 4 {
			ev = long
		}
		if _, _, err := storetest.ScanAs(s, ev.ID, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	open, _ := s.OpenAttendance(ctx, ms[3].ID)
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAttendances).Put(open.ID[:], []byte("{damaged"))
	}); err != nil {
		t.Fatal(err)
	}
	clock.Set(e.EndsAt.Add(20 * time.Minute)) // within the grace: nothing is due
	if res, err := s.CloseOverdueAttendances(ctx); err != nil || res.Done != 0 || len(res.Failed) != 1 {
		t.Fatalf("within the grace: %+v %v", res, err) // only the damaged one, which cannot be read
	}
	clock.Set(e.EndsAt.Add(31 * time.Minute))
	res, err := s.CloseOverdueAttendances(ctx)
	if err != nil || res.Done != 3 || len(res.Failed) != 1 || res.Failed[0].ID != open.ID {
		t.Fatalf("sweep: %+v %v", res, err)
	}
	for i, m := range ms[:3] {
		atts, _ := s.MemberAttendances(ctx, m.ID, 1)
		if a := atts[0]; !a.AwaitsTime() || a.RuleClosed != ledger.ClosedEventOver {
			t.Fatalf("member %d: %+v", i, a)
		}
	}
	if _, err := s.OpenAttendance(ctx, ms[4].ID); err != nil {
		t.Fatalf("the long event still runs: %v", err)
	}
	if st := s.Stats(); st.SweepFailures["open_attendances"] != 2 {
		t.Fatalf("failures %v", st.SweepFailures)
	}
	// Cancelling the long event closes its one open attendance at once.
	if _, err := s.SetEventStatus(ctx, long.ID, ledger.EventCancelled); err != nil {
		t.Fatal(err)
	}
	atts, _ := s.MemberAttendances(ctx, ms[4].ID, 1)
	if a := atts[0]; !a.AwaitsTime() || a.RuleClosed != ledger.ClosedCancelled {
		t.Fatalf("after cancelling: %+v", a)
	}
	if res, _ := s.CloseOverdueAttendances(ctx); res.Done != 0 || len(res.Failed) != 1 {
		t.Fatalf("a second sweep: %+v", res)
	}
	// Mended, it is closed on the next run (and the checks at the end can read it).
	if err := s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx.Bucket(bucketAttendances), open.ID, open) }); err != nil {
		t.Fatal(err)
	}
	if res, _ := s.CloseOverdueAttendances(ctx); res.Done != 1 || len(res.Failed) != 0 {
		t.Fatalf("after mending: %+v", res)
	}
}

// TestVerifyChecksWhoIsCheckedIn: the index the overdue sweep reads must
// name exactly the open attendances; one missing would never be swept.
func TestVerifyChecksWhoIsCheckedIn(t *testing.T) {
	s, clock, _, e, ms := newEventWorld(t, 2)
	clock.Set(e.StartsAt)
	for _, m := range ms {
		if _, _, err := storetest.ScanAs(s, e.ID, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	row := func(put bool, v []byte) {
		t.Helper()
		if err := s.db.Update(func(tx *bolt.Tx) error {
			if put {
				return tx.Bucket(bucketOpenAtt).Put(ms[0].ID[:], v)
			}
			return tx.Bucket(bucketOpenAtt).Delete(ms[0].ID[:])
		}); err != nil {
			t.Fatal(err)
		}
	}
	open, _ := s.OpenAttendance(ctx, ms[0].ID)
	row(false, nil)
	if rep, _ := s.Verify(ctx); rep.OK {
		t.Fatal("verify passed an open attendance missing from the index")
	}
	other, _ := s.OpenAttendance(ctx, ms[1].ID)
	row(true, other.ID[:])
	if rep, _ := s.Verify(ctx); rep.OK {
		t.Fatal("verify passed an index row naming someone else's attendance")
	}
	row(true, open.ID[:])
	if rep, _ := s.Verify(ctx); !rep.OK {
		t.Fatalf("after mending: %+v", rep)
	}
}
