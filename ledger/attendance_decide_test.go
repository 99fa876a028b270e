package ledger

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

var shanghai = time.FixedZone("CST", 8*3600)

// keyOf is the message key of a refusal ("" for none, "!" for an error that is no refusal).
func keyOf(err error) string {
	if err == nil {
		return ""
	}
	if le, ok := AsError(err); ok {
		return le.Key
	}
	return "!"
}

func TestDayOf(t *testing.T) {
	m := uuid.New()
	// 23:30 and 00:30 in Shanghai: two days, though one UTC date.
	late, early := DayOf(m, time.Date(2026, 11, 21, 15, 30, 0, 0, time.UTC), shanghai), DayOf(m, time.Date(2026, 11, 21, 16, 30, 0, 0, time.UTC), shanghai)
	if late.Date != 20261121 || early.Date != 20261122 || late.Member != m {
		t.Fatalf("%+v %+v", late, early)
	}
	e := Event{StartsAt: time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC)}
	other := uuid.New()
	atts := []Attendance{{MemberID: m, CheckedInAt: e.StartsAt}, {MemberID: m, CheckedInAt: e.StartsAt.Add(time.Hour)},
		{MemberID: other, CheckedInAt: e.StartsAt}, {MemberID: m, CheckedInAt: e.StartsAt.Add(16 * time.Hour)}}
	if got := FinalizeDays(atts, shanghai); len(got) != 3 || got[0].Member != m || got[1].Member != other || got[2].Date != 20261122 {
		t.Fatalf("days %+v", got)
	}
}

func TestDecideBackfill(t *testing.T) {
	st0, _ := scanWorld()
	e := st0.Event
	base := BackfillState{Now: e.EndsAt.Add(time.Hour), Event: e, Member: st0.Member, In: e.StartsAt, Out: e.StartsAt.Add(time.Hour),
		Reason: "纸质签到表", By: uuid.New(), NewID: uuid.New()}
	tests := []struct {
		name   string
		change func(st *BackfillState)
		key    string
	}{
		{name: "Recorded"},
		{name: "AtAFinishedEvent", change: func(st *BackfillState) { st.Event.Status = EventFinished }},
		{name: "OutWithinTheClockSkew", change: func(st *BackfillState) { st.Now = st.Out.Add(-4 * time.Minute) }},
		{name: "DraftEvent", change: func(st *BackfillState) { st.Event.Status = EventDraft }, key: "attendance.event_closed"},
		{name: "CancelledEvent", change: func(st *BackfillState) { st.Event.Status = EventCancelled }, key: "attendance.event_closed"},
		{name: "FinalisedEvent", change: func(st *BackfillState) { st.Event.Status = EventFinalised }, key: "attendance.event_closed"},
		{name: "NoCheckIn", change: func(st *BackfillState) { st.In = time.Time{} }, key: "attendance.backfill_window"},
		{name: "NoCheckOut", change: func(st *BackfillState) { st.Out = time.Time{} }, key: "attendance.backfill_window"},
		{name: "OutNotAfterIn", change: func(st *BackfillState) { st.Out = st.In }, key: "attendance.backfill_window"},
		{name: "BeforeTheStart", change: func(st *BackfillState) { st.In = e.StartsAt.Add(-time.Minute) }, key: "attendance.backfill_window"},
		{name: "AfterTheEnd", change: func(st *BackfillState) { st.Out = e.EndsAt.Add(time.Minute) }, key: "attendance.backfill_window"},
		{name: "InTheFuture", change: func(st *BackfillState) { st.Now = st.Out.Add(-6 * time.Minute) }, key: "attendance.in_future"},
		{name: "InactiveMember", change: func(st *BackfillState) { st.Member.Status = MemberSuspended }, key: "checkin.member_inactive"},
		{name: "OverAnotherAttendance", change: func(st *BackfillState) { st.Overlap = &Attendance{ID: uuid.New()} }, key: "checkin.overlap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := base
			if tt.change != nil {
				tt.change(&st)
			}
			a, err := DecideBackfill(st)
			if keyOf(err) != tt.key {
				t.Fatalf("got %v, want %q", err, tt.key)
			}
			if err != nil {
				return
			}
			if a.ID != st.NewID || a.Status != AttendanceClosed || a.Source != ActionBackfill || a.Minutes != 60 || a.Points != 10 ||
				a.Reason != st.Reason || a.RecordedBy != st.By || !a.RecordedAt.Equal(st.Now) || a.MemberID != st.Member.ID {
				t.Fatalf("%+v", a)
			}
		})
	}
}

// attendanceWorld is an event of scanWorld with one attendance of an hour,
// closed, and the state around it.
func attendanceWorld() (Event, Attendance) {
	st, _ := scanWorld()
	e := st.Event
	e.UnitID = uuid.New()
	a := CloseAt(e, Attendance{ID: uuid.New(), EventID: e.ID, MemberID: st.Member.ID, CheckedInAt: e.StartsAt}, e.StartsAt.Add(time.Hour))
	return e, a
}

// checkPosting checks a posting of a's points: minutes, points, an earn
// entry when it has points, and the day's minutes afterwards.
func checkPosting(t *testing.T, e Event, p *Posting, minutes, day int64) {
	t.Helper()
	if p == nil {
		t.Fatal("not posted")
	}
	a := p.Attendance
	if a.Status != AttendancePosted || a.Minutes != minutes || a.Points != PointsFor(minutes, e.PointsPerHour) || p.DayMinutes != day ||
		p.Day != DayOf(a.MemberID, a.CheckedInAt, shanghai) {
		t.Fatalf("posting %+v of %+v", p, a)
	}
	if a.Points == 0 {
		if p.Earn != nil {
			t.Fatalf("an earn of nothing: %+v", p.Earn)
		}
		return
	}
	if tr := p.Earn; tr == nil || tr.Amount != a.Points || tr.Debit != IssuerAccount(e.UnitID) || tr.Credit != MemberAccount(a.MemberID) ||
		tr.Kind != KindEarn || tr.Minutes != minutes || tr.Reference != a.Reference() || tr.Validate() != nil {
		t.Fatalf("earn %+v", p.Earn)
	}
}

func TestPlanPost(t *testing.T) {
	e, a := attendanceWorld()
	adjusted := int64(90)
	tests := []struct {
		name            string
		change          func(a *Attendance)
		already         int64
		minutes, dayEnd int64
	}{
		{name: "AsCounted", minutes: 60, dayEnd: 60},
		{name: "AsAdjusted", change: func(a *Attendance) { a.AdjustedMinutes = &adjusted }, minutes: 90, dayEnd: 90},
		{name: "CappedByTheDay", already: 450, minutes: 30, dayEnd: 480},
		{name: "DayFull", already: 480, minutes: 0, dayEnd: 480},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := a
			if tt.change != nil {
				tt.change(&a)
			}
			p := PlanPost(e, a, tt.already, "user:x", DefaultEventRules, shanghai)
			checkPosting(t, e, &p, tt.minutes, tt.dayEnd)
			if p.Attendance.Revision != a.Revision+1 || p.Reverse != nil {
				t.Fatalf("%+v", p)
			}
			if p.Earn != nil && (p.Earn.IdempotencyKey != a.PostingKey() || p.Earn.Memo != e.Title || p.Earn.Actor != "user:x") {
				t.Fatalf("earn %+v", p.Earn)
			}
		})
	}
}

func TestDecideCloseAttendance(t *testing.T) {
	e, closed := attendanceWorld()
	open := closed
	open.Status, open.CheckedOutAt, open.Minutes, open.Points = AttendanceOpen, time.Time{}, 0, 0
	waiting := CloseByRule(e, open, e.EndsAt.Add(time.Hour), ClosedEventOver)
	base := CloseState{Now: e.EndsAt.Add(time.Hour), Rules: DefaultEventRules, Loc: shanghai, Event: e, Attendance: open,
		Out: e.StartsAt.Add(time.Hour), Reason: "忘记签退", Actor: "user:x"}
	tests := []struct {
		name    string
		change  func(st *CloseState)
		key     string
		post    bool
		minutes int64
		day     int64
	}{
		{name: "OpenClosed", minutes: 60},
		{name: "WaitingGivenATime", change: func(st *CloseState) { st.Attendance = waiting }, minutes: 60},
		{name: "AtAFinalisedEventPostedAtOnce", change: func(st *CloseState) { st.Event.Status, st.Attendance = EventFinalised, waiting },
			post: true, minutes: 60, day: 60},
		{name: "AtAFinalisedEventWithinTheDay", change: func(st *CloseState) {
			st.Event.Status, st.Attendance, st.DayMinutes = EventFinalised, waiting, 460
		}, post: true, minutes: 20, day: 480},
		{name: "AtAFinalisedEventThatWantsReview", change: func(st *CloseState) {
			st.Event.Status, st.Event.ReviewRequired, st.Attendance = EventFinalised, true, waiting
		}, minutes: 60},
		{name: "BeforeTheCheckIn", change: func(st *CloseState) { st.Out = e.StartsAt.Add(-time.Minute) }, key: "attendance.close_time"},
		{name: "PastTheGrace", change: func(st *CloseState) { st.Out = e.EndsAt.Add(DefaultEventRules.Grace + time.Minute) }, key: "attendance.close_time"},
		{name: "WaitingPastItsLatest", change: func(st *CloseState) { st.Attendance, st.Out = waiting, waiting.LatestOut.Add(time.Minute) },
			key: "attendance.close_latest"},
		{name: "WaitingOverAnother", change: func(st *CloseState) { st.Attendance, st.Overlap = waiting, &Attendance{} }, key: "checkin.overlap"},
		{name: "InTheFuture", change: func(st *CloseState) { st.Now = st.Out.Add(-6 * time.Minute) }, key: "attendance.in_future"},
		{name: "ClosedAlready", change: func(st *CloseState) { st.Attendance = closed }, key: "attendance.not_open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := base
			if tt.change != nil {
				tt.change(&st)
			}
			d, err := DecideCloseAttendance(st)
			if keyOf(err) != tt.key {
				t.Fatalf("got %v, want %q", err, tt.key)
			}
			if err != nil {
				return
			}
			if tt.post {
				checkPosting(t, st.Event, d.Posting, tt.minutes, tt.day)
				if d.Attendance != d.Posting.Attendance {
					t.Fatal("the attendance is not the posted one")
				}
				return
			}
			if d.Posting != nil || d.Attendance.Status != AttendanceClosed || d.Attendance.Minutes != tt.minutes || d.Attendance.Reason != st.Reason {
				t.Fatalf("%+v", d)
			}
		})
	}
	if !CloseNeedsOverlap(waiting, waiting.LatestOut) || CloseNeedsOverlap(open, open.CheckedInAt) || CloseNeedsOverlap(waiting, e.StartsAt.Add(-time.Minute)) {
		t.Fatal("CloseNeedsOverlap")
	}
}

func TestDecideReviewAttendance(t *testing.T) {
	e, closed := attendanceWorld()
	posted := PlanPost(e, closed, 0, "user:x", DefaultEventRules, shanghai).Attendance
	posted.EntrySeq = 7
	entry := Entry{Seq: 7, Transfer: *PlanPost(e, closed, 0, "user:x", DefaultEventRules, shanghai).Earn}
	rejected := closed
	rejected.Status = AttendanceRejected
	base := ReviewState{Rules: DefaultEventRules, Loc: shanghai, Event: e, Attendance: closed, Decision: ReviewConfirm, Actor: "user:y"}
	onPosted := func(decision string, minutes int64) func(st *ReviewState) {
		return func(st *ReviewState) {
			st.Attendance, st.Posted, st.DayMinutes, st.Decision, st.Minutes, st.Reason = posted, &entry, 60, decision, minutes, "核对"
		}
	}
	tests := []struct {
		name   string
		change func(st *ReviewState)
		key    string
		check  func(t *testing.T, st ReviewState, d Decided)
	}{
		{name: "Confirmed", check: func(t *testing.T, st ReviewState, d Decided) {
			if d.Posting != nil || d.Attendance.Status != AttendanceConfirmed {
				t.Fatalf("%+v", d)
			}
		}},
		{name: "ConfirmedAtAFinalisedEventPostedAtOnce", change: func(st *ReviewState) { st.Event.Status, st.DayMinutes = EventFinalised, 30 },
			check: func(t *testing.T, st ReviewState, d Decided) { checkPosting(t, st.Event, d.Posting, 60, 90) }},
		{name: "RejectedAtAFinalisedEventNotPosted", change: func(st *ReviewState) {
			st.Event.Status, st.Decision, st.Reason = EventFinalised, ReviewReject, "未到场"
		},
			check: func(t *testing.T, st ReviewState, d Decided) {
				if d.Posting != nil || d.Attendance.Status != AttendanceRejected {
					t.Fatalf("%+v", d)
				}
			}},
		{name: "OpenNotReviewable", change: func(st *ReviewState) { st.Attendance.Status = AttendanceOpen }, key: "attendance.not_reviewable"},
		{name: "UnknownDecision", change: func(st *ReviewState) { st.Decision = "maybe" }, key: "attendance.decision_invalid"},
		{name: "RejectedBackOverAnother", change: func(st *ReviewState) { st.Attendance, st.Overlap = rejected, &Attendance{} }, key: "checkin.overlap"},
		{name: "PostedConfirmed", change: onPosted(ReviewConfirm, 0), key: "attendance.already_posted"},
		{name: "PostedAdjustedBelowZero", change: onPosted(ReviewAdjust, -1), key: "attendance.minutes_invalid"},
		{name: "PostedAdjustedPastTheEvent", change: onPosted(ReviewAdjust, 181), key: "attendance.minutes_invalid"},
		{name: "PostedEntryNotRead", change: func(st *ReviewState) { onPosted(ReviewReject, 0)(st); st.Posted = nil }, key: "!"},
		{name: "PostedRejected", change: onPosted(ReviewReject, 0), check: func(t *testing.T, st ReviewState, d Decided) {
			p, a := d.Posting, d.Attendance
			if want, _ := Reverse(entry, "user:y", "核对", ""); p == nil || p.Reverse == nil || *p.Reverse != want || p.Earn != nil {
				t.Fatalf("%+v", p)
			}
			if a.Status != AttendanceRejected || a.Minutes != 0 || a.Points != 0 || a.EntrySeq != 0 || a.Revision != posted.Revision+1 ||
				a.Reason != "核对" || p.DayMinutes != 0 {
				t.Fatalf("%+v day %d", a, p.DayMinutes)
			}
		}},
		{name: "PostedAdjusted", change: onPosted(ReviewAdjust, 90), check: func(t *testing.T, st ReviewState, d Decided) {
			checkPosting(t, st.Event, d.Posting, 90, 90)
			p := d.Posting
			p.Attendance.Status = AttendancePosted
			if p.Reverse == nil || p.Earn.Memo != "核对" || p.Earn.IdempotencyKey != posted.PostingKey() || *d.Attendance.AdjustedMinutes != 90 {
				t.Fatalf("%+v", p)
			}
		}},
		{name: "PostedAdjustedWithinTheDay", change: func(st *ReviewState) { onPosted(ReviewAdjust, 90)(st); st.DayMinutes = 450 },
			check: func(t *testing.T, st ReviewState, d Decided) { checkPosting(t, st.Event, d.Posting, 90, 480) }},
		{name: "PostedAdjustedDayFull", change: func(st *ReviewState) { onPosted(ReviewAdjust, 90)(st); st.DayMinutes = 540 },
			check: func(t *testing.T, st ReviewState, d Decided) { checkPosting(t, st.Event, d.Posting, 0, 480) }},
		{name: "PostedWithoutPointsAdjusted", change: func(st *ReviewState) {
			onPosted(ReviewAdjust, 30)(st)
			st.Attendance.EntrySeq, st.Posted = 0, nil
		}, check: func(t *testing.T, st ReviewState, d Decided) {
			if d.Posting.Reverse != nil {
				t.Fatal("a reverse of no entry")
			}
			checkPosting(t, st.Event, d.Posting, 30, 30)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := base
			if tt.change != nil {
				tt.change(&st)
			}
			d, err := DecideReviewAttendance(st)
			if keyOf(err) != tt.key {
				t.Fatalf("got %v, want %q", err, tt.key)
			}
			if err == nil && tt.check != nil {
				tt.check(t, st, d)
			}
		})
	}
	if !ReviewNeedsOverlap(rejected, ReviewConfirm) || ReviewNeedsOverlap(rejected, ReviewReject) || ReviewNeedsOverlap(closed, ReviewConfirm) {
		t.Fatal("ReviewNeedsOverlap")
	}
}

func TestDecideFinalize(t *testing.T) {
	e, first := attendanceWorld()
	second := CloseAt(e, Attendance{ID: uuid.New(), EventID: e.ID, MemberID: first.MemberID, CheckedInAt: e.StartsAt.Add(2 * time.Hour)}, e.EndsAt)
	other := CloseAt(e, Attendance{ID: uuid.New(), EventID: e.ID, MemberID: uuid.New(), CheckedInAt: e.StartsAt}, e.StartsAt.Add(time.Hour))
	open := Attendance{ID: uuid.New(), EventID: e.ID, MemberID: uuid.New(), CheckedInAt: e.StartsAt, Status: AttendanceOpen}
	after := e.EndsAt.Add(time.Hour)
	base := FinalizeState{Now: after, Rules: DefaultEventRules, Loc: shanghai, Event: e, Actor: "user:x",
		Attendances: []Attendance{first, second, other}, Days: map[DayKey]int64{}}
	day := DayOf(first.MemberID, first.CheckedInAt, shanghai)
	tests := []struct {
		name   string
		change func(st *FinalizeState)
		key    string
		check  func(t *testing.T, st FinalizeState, d FinalizeDecision)
	}{
		{name: "AllPosted", check: func(t *testing.T, st FinalizeState, d FinalizeDecision) {
			if len(d.Post) != 3 || d.Result.Posted != 3 || d.Result.Minutes != 180 || d.Result.Points != 30 || len(d.Close) != 0 {
				t.Fatalf("%+v", d)
			}
			checkPosting(t, e, &d.Post[0], 60, 60)
			checkPosting(t, e, &d.Post[1], 60, 120) // the same day: after the first
			checkPosting(t, e, &d.Post[2], 60, 60)
		}},
		{name: "TheDayCapCarriesAcrossTheEvent", change: func(st *FinalizeState) { st.Days = map[DayKey]int64{day: 400} },
			check: func(t *testing.T, st FinalizeState, d FinalizeDecision) {
				checkPosting(t, e, &d.Post[0], 60, 460)
				checkPosting(t, e, &d.Post[1], 20, 480)
				checkPosting(t, e, &d.Post[2], 60, 60)
				if d.Result.Minutes != 140 || d.Result.Points != 10+3+10 {
					t.Fatalf("%+v", d.Result)
				}
			}},
		{name: "StillOpenConfirmed", change: func(st *FinalizeState) {
			st.Attendances, st.Confirmed, st.Now = []Attendance{open, other}, true, e.EndsAt.Add(-time.Hour)
		}, check: func(t *testing.T, st FinalizeState, d FinalizeDecision) {
			if len(d.Close) != 1 || !d.Close[0].AwaitsTime() || len(d.Post) != 1 || d.Result.NoCheckout != 1 {
				t.Fatalf("%+v", d)
			}
		}},
		{name: "StillOpenNotConfirmed", change: func(st *FinalizeState) { st.Attendances = []Attendance{open} }, key: "event.finalise_confirm"},
		{name: "Draft", change: func(st *FinalizeState) { st.Event.Status = EventDraft }, key: "event.not_finalisable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := base
			if tt.change != nil {
				tt.change(&st)
			}
			d, err := DecideFinalize(st)
			if keyOf(err) != tt.key {
				t.Fatalf("got %v, want %q", err, tt.key)
			}
			if err != nil {
				return
			}
			if d.Event.Status != EventFinalised || d.Event.ID != e.ID {
				t.Fatalf("event %+v", d.Event)
			}
			if tt.check != nil {
				tt.check(t, st, d)
			}
		})
	}
}

func TestDecideOverdue(t *testing.T) {
	e, _ := attendanceWorld()
	open := Attendance{ID: uuid.New(), EventID: e.ID, CheckedInAt: e.StartsAt, Status: AttendanceOpen}
	over := e.EndsAt.Add(DefaultEventRules.Grace + time.Minute)
	tests := []struct {
		name   string
		status EventStatus
		a      Attendance
		now    time.Time
		why    string // "" for nothing to do
	}{
		{name: "Over", a: open, now: over, why: ClosedEventOver},
		{name: "Cancelled", status: EventCancelled, a: open, now: e.StartsAt.Add(time.Hour), why: ClosedCancelled},
		{name: "Finalised", status: EventFinalised, a: open, now: e.StartsAt.Add(time.Hour), why: ClosedFinalised},
		{name: "StillRunning", a: open, now: e.EndsAt},
		{name: "CheckedOutSince", a: CloseAt(e, open, e.EndsAt), now: over},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e
			if tt.status != "" {
				e.Status = tt.status
			}
			got := DecideOverdue(e, tt.a, tt.now, DefaultEventRules)
			if tt.why == "" {
				if got != nil {
					t.Fatalf("closed %+v", got)
				}
				return
			}
			if got == nil || got.RuleClosed != tt.why || !got.AwaitsTime() || got.ID != tt.a.ID {
				t.Fatalf("%+v", got)
			}
		})
	}
}
