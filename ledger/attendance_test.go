package ledger

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// scanWorld is one member and two events on the morning of 21 November:
// here 09:00–12:00, there 10:00–11:00.
func scanWorld() (ScanState, Event) {
	start := time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC)
	here := Event{ID: uuid.New(), Title: "环境整治", StartsAt: start, EndsAt: start.Add(3 * time.Hour), PointsPerHour: 10, Status: EventOpen}
	there := Event{ID: uuid.New(), Title: "义诊", StartsAt: start.Add(time.Hour), EndsAt: start.Add(2 * time.Hour), PointsPerHour: 10, Status: EventOpen}
	m := Member{ID: uuid.New(), Name: "张三", Status: MemberActive}
	return ScanState{Now: start.Add(30 * time.Minute), Rules: DefaultEventRules, Event: here, Member: m, Source: "scan", NewID: uuid.New()}, there
}

func TestDecideScan(t *testing.T) {
	base, there := scanWorld()
	in := func(e Event, at time.Time) *Attendance {
		return &Attendance{ID: uuid.New(), EventID: e.ID, MemberID: base.Member.ID, CheckedInAt: at, Status: AttendanceOpen, Source: "scan"}
	}
	out := func(a *Attendance, at time.Time) *Attendance {
		c := CloseAt(base.Event, *a, at)
		return &c
	}
	t0 := base.Now
	tests := []struct {
		name    string
		change  func(st *ScanState)
		action  string
		wantKey string
		check   func(t *testing.T, d ScanDecision)
	}{
		{name: "CheckIn", action: ActionIn, check: func(t *testing.T, d ScanDecision) {
			if a := d.Attendance; a.ID != base.NewID || a.Status != AttendanceOpen || len(d.Write) != 1 {
				t.Fatalf("%+v", d)
			}
		}},
		{name: "RepeatOfCheckIn", change: func(st *ScanState) { st.Open = in(st.Event, t0.Add(-90*time.Second)) }, action: ActionRepeat,
			check: func(t *testing.T, d ScanDecision) {
				if len(d.Write) != 0 {
					t.Fatal("a repeat writes")
				}
			}},
		{name: "CheckOut", change: func(st *ScanState) { st.Open = in(st.Event, t0.Add(-time.Hour)) }, action: ActionOut,
			check: func(t *testing.T, d ScanDecision) {
				if d.Attendance.Minutes != 30 || d.Attendance.Points != 5 {
					t.Fatalf("%+v", d.Attendance)
				}
			}},
		{name: "RepeatOfCheckOut", change: func(st *ScanState) {
			st.Latest = out(in(st.Event, t0.Add(-time.Hour)), t0.Add(-20*time.Second))
		}, action: ActionRepeat, check: func(t *testing.T, d ScanDecision) {
			if d.Attendance.Status != AttendanceClosed || len(d.Write) != 0 {
				t.Fatalf("%+v", d)
			}
		}},
		{name: "CheckInAgainAfterTheWindow", change: func(st *ScanState) {
			st.Latest = out(in(st.Event, t0.Add(-time.Hour)), t0.Add(-3*time.Minute))
		}, action: ActionIn},
		{name: "OrganiserCheckInRightAfterCheckOut", change: func(st *ScanState) {
			st.Latest = out(in(st.Event, t0.Add(-time.Hour)), t0.Add(-20*time.Second))
			st.Source, st.Want = "organizer", ActionIn
		}, action: ActionIn},
		{name: "OrganiserCheckOutWithinTheWindow", change: func(st *ScanState) {
			st.Open = in(st.Event, t0.Add(-time.Minute))
			st.Source, st.Want = "organizer", ActionOut
		}, action: ActionOut},
		{name: "OrganiserInButIn", change: func(st *ScanState) {
			st.Open = in(st.Event, t0.Add(-time.Hour))
			st.Source, st.Want = "organizer", ActionIn
		}, wantKey: "attendance.already_in"},
		{name: "OrganiserOutButNotIn", change: func(st *ScanState) { st.Source, st.Want = "organizer", ActionOut }, wantKey: "attendance.already_out"},
		{name: "TooLateToCheckOut", change: func(st *ScanState) {
			st.Open = in(st.Event, st.Event.StartsAt)
			st.Now = st.Event.EndsAt.Add(31 * time.Minute)
		}, action: ActionNoCheckout, check: func(t *testing.T, d ScanDecision) {
			a := d.Attendance
			if !a.AwaitsTime() || a.RuleClosed != ClosedEventOver || !a.LatestOut.Equal(base.Event.EndsAt) || len(d.Write) != 1 {
				t.Fatalf("%+v", a)
			}
		}},
		{name: "StillInElsewhere", change: func(st *ScanState) {
			st.Open, st.OpenEvent = in(there, there.StartsAt), there
			st.Now = there.StartsAt.Add(10 * time.Minute)
		}, wantKey: "checkin.elsewhere"},
		{name: "OrganiserNotToldOfElsewhere", change: func(st *ScanState) {
			st.Open, st.OpenEvent = in(there, there.StartsAt), there
			st.Now, st.Source, st.Want = there.StartsAt.Add(10*time.Minute), "organizer", ActionIn
		}, wantKey: "checkin.elsewhere_other"},
		{name: "OrganiserCannotEndElsewhere", change: func(st *ScanState) {
			st.Open, st.OpenEvent = in(there, there.StartsAt), there
			st.Now, st.Source, st.Want, st.EndOther = there.StartsAt.Add(10*time.Minute), "organizer", ActionIn, true
		}, wantKey: "checkin.elsewhere_other"},
		{name: "EndElsewhereAndCheckIn", change: func(st *ScanState) {
			st.Open, st.OpenEvent = in(there, there.StartsAt), there
			st.Now, st.EndOther = there.StartsAt.Add(10*time.Minute), true
		}, action: ActionIn, check: func(t *testing.T, d ScanDecision) {
			c := d.Closed
			if c == nil || c.RuleClosed != ClosedElsewhere || !c.LatestOut.Equal(there.StartsAt.Add(10*time.Minute)) || len(d.Write) != 2 || d.Write[0].ID != c.ID {
				t.Fatalf("%+v", d)
			}
		}},
		{name: "ForgottenElsewhereIsOver", change: func(st *ScanState) {
			st.Open, st.OpenEvent = in(there, there.StartsAt), there
			st.Now = there.EndsAt.Add(31 * time.Minute)
			st.Overlap = st.Open // the store's read skips it; even if not, it is closed now
		}, action: ActionIn, check: func(t *testing.T, d ScanDecision) {
			if d.Closed == nil || d.Closed.RuleClosed != ClosedEventOver || !d.Closed.LatestOut.Equal(there.EndsAt) {
				t.Fatalf("%+v", d.Closed)
			}
		}},
		{name: "ForgottenElsewhereWasCancelled", change: func(st *ScanState) {
			st.Open, st.OpenEvent = in(there, there.StartsAt), there
			st.OpenEvent.Status = EventCancelled
			st.Now = there.StartsAt.Add(10 * time.Minute)
		}, action: ActionIn, check: func(t *testing.T, d ScanDecision) {
			if d.Closed == nil || d.Closed.RuleClosed != ClosedCancelled {
				t.Fatalf("%+v", d.Closed)
			}
		}},
		{name: "Overlap", change: func(st *ScanState) { st.Overlap = &Attendance{ID: uuid.New()} }, wantKey: "checkin.overlap"},
		{name: "Full", change: func(st *ScanState) { st.Event.Capacity, st.Count = 2, 2 }, wantKey: "checkin.full"},
		{name: "Inactive", change: func(st *ScanState) { st.Member.Status = MemberSuspended }, wantKey: "checkin.member_inactive"},
		{name: "TooEarly", change: func(st *ScanState) { st.Now = st.Event.StartsAt.Add(-31 * time.Minute) }, wantKey: "checkin.too_early"},
		{name: "Over", change: func(st *ScanState) { st.Now = st.Event.EndsAt.Add(time.Minute) }, wantKey: "checkin.event_over"},
		{name: "NotOpen", change: func(st *ScanState) { st.Event.Status = EventFinished }, wantKey: "checkin.event_not_open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := base
			if tt.change != nil {
				tt.change(&st)
			}
			d, err := DecideScan(st)
			if tt.wantKey != "" {
				if e, ok := AsError(err); !ok || e.Key != tt.wantKey {
					t.Fatalf("got %+v, %v; want %s", d, err, tt.wantKey)
				}
				return
			}
			if err != nil || d.Action != tt.action {
				t.Fatalf("got %s, %v; want %s", d.Action, err, tt.action)
			}
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
}

func TestNoCheckoutOccupiesNothing(t *testing.T) {
	st, _ := scanWorld()
	a := CloseByRule(st.Event, Attendance{CheckedInAt: st.Event.StartsAt, Status: AttendanceOpen}, st.Event.StartsAt.Add(time.Hour), ClosedElsewhere)
	if a.Occupies(st.Event.StartsAt, time.Time{}) || a.Minutes != 0 || !a.AwaitsTime() {
		t.Fatalf("a 未签退 attendance without a time holds time: %+v", a)
	}
	// Given a time by its organiser, it holds [in, out] and no more.
	closed, err := DecideClose(st.Event, a, a.LatestOut, a.LatestOut, "核实", nil, DefaultEventRules)
	if err != nil || !closed.Occupies(st.Event.StartsAt, time.Time{}) || closed.Occupies(a.LatestOut, time.Time{}) || closed.Minutes != 60 {
		t.Fatalf("closed %+v %v", closed, err)
	}
	if _, err := DecideClose(st.Event, a, a.LatestOut.Add(time.Minute), a.LatestOut.Add(time.Hour), "核实", nil, DefaultEventRules); ErrorCode(err) != EINVALID {
		t.Fatalf("past its latest: %v", err)
	}
	if _, err := DecideClose(st.Event, a, a.LatestOut, a.LatestOut, "核实", &Attendance{}, DefaultEventRules); ErrorCode(err) != ECONFLICT {
		t.Fatalf("over another attendance: %v", err)
	}
	if _, err := DecideClose(st.Event, closed, a.LatestOut, a.LatestOut, "核实", nil, DefaultEventRules); ErrorCode(err) != ECONFLICT {
		t.Fatalf("closing twice: %v", err)
	}
	if _, err := DecideReview(st.Event, a, ReviewConfirm, 0, "", nil); ErrorCode(err) != ECONFLICT {
		t.Fatalf("confirming a 未签退 without a time: %v", err)
	}
	if r, err := DecideReview(st.Event, a, ReviewReject, 0, "未到场", nil); err != nil || r.Status != AttendanceRejected {
		t.Fatalf("rejecting: %+v %v", r, err)
	}
}

func TestPlanFinalize(t *testing.T) {
	st, _ := scanWorld()
	e := st.Event
	open := Attendance{ID: uuid.New(), CheckedInAt: e.StartsAt, Status: AttendanceOpen}
	closed := CloseAt(e, Attendance{ID: uuid.New(), CheckedInAt: e.StartsAt}, e.StartsAt.Add(time.Hour))
	waiting := CloseByRule(e, Attendance{ID: uuid.New(), CheckedInAt: e.StartsAt}, e.EndsAt, ClosedEventOver)
	atts := []Attendance{open, closed, waiting}
	during, after := e.StartsAt.Add(time.Hour), e.EndsAt.Add(time.Hour)

	_, err := PlanFinalize(e, atts, during, false)
	if le, ok := AsError(err); !ok || le.Key != "event.finalise_confirm" || le.Fields["still_open"] != 1 || le.Fields["running"] != true {
		t.Fatalf("running, not confirmed: %v", err)
	}
	if _, err := PlanFinalize(e, []Attendance{closed}, during, false); ErrorCode(err) != ECONFLICT {
		t.Fatalf("running with nobody in, not confirmed: %v", err)
	}
	if _, err := PlanFinalize(e, atts, after, false); ErrorCode(err) != ECONFLICT {
		t.Fatalf("over but someone in, not confirmed: %v", err)
	}
	p, err := PlanFinalize(e, []Attendance{closed, waiting}, after, false)
	if err != nil || len(p.Post) != 1 || p.Post[0].ID != closed.ID || p.Result.NoCheckout != 1 || len(p.Close) != 0 {
		t.Fatalf("over, nobody in: %+v %v", p, err)
	}
	p, err = PlanFinalize(e, atts, during, true)
	if err != nil || len(p.Close) != 1 || p.Close[0].RuleClosed != ClosedFinalised || !p.Close[0].LatestOut.Equal(during) ||
		len(p.Post) != 1 || p.Result.NoCheckout != 2 {
		t.Fatalf("confirmed: %+v %v", p, err)
	}
	review := e
	review.ReviewRequired = true
	if p, _ := PlanFinalize(review, []Attendance{closed, waiting}, after, false); len(p.Post) != 0 || p.Result.PendingReview != 1 || p.Result.NoCheckout != 1 {
		t.Fatalf("review required: %+v", p)
	}
	for _, s := range []EventStatus{EventDraft, EventCancelled} {
		e2 := e
		e2.Status = s
		if _, err := PlanFinalize(e2, atts, after, true); ErrorCode(err) != ECONFLICT {
			t.Fatalf("%s: %v", s, err)
		}
	}
	// Finalised already (say early, while it ran): finalising again asks nothing.
	fin := e
	fin.Status = EventFinalised
	if _, err := PlanFinalize(fin, []Attendance{closed}, during, false); err != nil {
		t.Fatalf("again: %v", err)
	}
}

func TestPlanCheckoutAll(t *testing.T) {
	st, _ := scanWorld()
	e := st.Event
	early := Attendance{ID: uuid.New(), CheckedInAt: e.StartsAt.Add(-10 * time.Minute), Status: AttendanceOpen}
	late := Attendance{ID: uuid.New(), CheckedInAt: e.StartsAt.Add(2 * time.Hour), Status: AttendanceOpen}
	done := CloseAt(e, Attendance{ID: uuid.New(), CheckedInAt: e.StartsAt}, e.StartsAt.Add(time.Hour))
	atts := []Attendance{early, late, done}
	during := e.StartsAt.Add(150 * time.Minute)
	if _, err := PlanCheckoutAll(e, atts, CheckoutAtEnd, during, "活动结束", DefaultEventRules); ErrorCode(err) != EINVALID {
		t.Fatalf("at the end before the end: %v", err)
	}
	got, err := PlanCheckoutAll(e, atts, CheckoutAtNow, during, "活动结束", DefaultEventRules)
	if err != nil || len(got) != 2 || got[0].Minutes != 150 || got[1].Minutes != 30 || got[0].Reason != "活动结束" {
		t.Fatalf("now: %+v %v", got, err)
	}
	got, err = PlanCheckoutAll(e, atts, CheckoutAtEnd, e.EndsAt.Add(24*time.Hour), "次日补签退", DefaultEventRules)
	if err != nil || len(got) != 2 || got[0].Minutes != 180 || !got[1].CheckedOutAt.Equal(e.EndsAt) {
		t.Fatalf("at the end: %+v %v", got, err)
	}
	if _, err := PlanCheckoutAll(e, atts, "tomorrow", during, "x", DefaultEventRules); ErrorCode(err) != EINVALID {
		t.Fatalf("a made-up time: %v", err)
	}
	fin := e
	fin.Status = EventFinalised
	if _, err := PlanCheckoutAll(fin, atts, CheckoutAtNow, during, "x", DefaultEventRules); ErrorCode(err) != ECONFLICT {
		t.Fatalf("finalised: %v", err)
	}
}

func TestPlanEventStatus(t *testing.T) {
	st, _ := scanWorld()
	e := st.Event
	open := Attendance{ID: uuid.New(), CheckedInAt: e.StartsAt, Status: AttendanceOpen}
	got, closed, err := PlanEventStatus(e, EventCancelled, []Attendance{open}, e.StartsAt.Add(time.Hour))
	if err != nil || got.Status != EventCancelled || len(closed) != 1 || closed[0].RuleClosed != ClosedCancelled || !closed[0].AwaitsTime() {
		t.Fatalf("cancel: %+v %+v %v", got, closed, err)
	}
	if _, closed, err := PlanEventStatus(e, EventFinished, []Attendance{open}, e.EndsAt); err != nil || len(closed) != 0 {
		t.Fatalf("finish: %+v %v", closed, err)
	}
	for _, tt := range []struct{ from, to EventStatus }{{EventFinalised, EventOpen}, {EventCancelled, EventOpen}, {EventOpen, EventDraft}, {EventOpen, EventFinalised}} {
		e2 := e
		e2.Status = tt.from
		if _, _, err := PlanEventStatus(e2, tt.to, nil, e.EndsAt); ErrorCode(err) != ECONFLICT {
			t.Errorf("%s -> %s: %v", tt.from, tt.to, err)
		}
	}
}
