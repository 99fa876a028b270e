package ledger

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// The organiser's decisions on attendances, each a pure function of the
// state the store reads for it in the request's transaction: back-fill,
// close, review (and correction of a posted one), finalising and the
// overdue sweep. The store writes exactly what they return.

// DayKey names a member's day, for the daily cap on minutes: the minutes
// posted for them on that day (the day of each attendance's check-in, in
// the deployment's location).
type DayKey struct {
	Member uuid.UUID
	Date   uint32 // yyyymmdd
}

// DayOf is the day of member's check-in at t, in loc.
func DayOf(member uuid.UUID, t time.Time, loc *time.Location) DayKey {
	d := t.In(loc)
	return DayKey{Member: member, Date: uint32(d.Year()*10000 + int(d.Month())*100 + d.Day())}
}

// Posting is what posting an attendance (or correcting a posted one)
// writes, in order: Reverse (the entry posted before, taken back), then
// Earn (the points now), then the day's minutes and the attendance. The
// store sets Attendance.EntrySeq to the Earn entry's seq when there is one.
// A refusal of the first entry appended leaves everything as it was; any
// failure after it aborts the request.
type Posting struct {
	Reverse    *Transfer
	Earn       *Transfer
	Attendance Attendance
	// Day is the member's day and DayMinutes their posted minutes on it afterwards.
	Day        DayKey
	DayMinutes int64
}

// PlanPost posts attendance a of event e, within the member's daily cap
// (already: the minutes posted on its day before), by actor, and marks it
// posted.
func PlanPost(e Event, a Attendance, already int64, actor string, r EventRules, loc *time.Location) Posting {
	minutes := a.Minutes
	if a.AdjustedMinutes != nil {
		minutes = *a.AdjustedMinutes
	}
	minutes = CapDaily(minutes, already, r)
	a.Minutes, a.Points = minutes, PointsFor(minutes, e.PointsPerHour)
	p := Posting{Day: DayOf(a.MemberID, a.CheckedInAt, loc), DayMinutes: already + minutes}
	if a.Points > 0 {
		p.Earn = earn(e, a, actor, e.Title)
	}
	a.Revision++
	a.Status = AttendancePosted
	p.Attendance = a
	return p
}

// earn is the entry of attendance a's points and minutes, from event e's issuer.
func earn(e Event, a Attendance, actor, memo string) *Transfer {
	return &Transfer{Debit: IssuerAccount(e.UnitID), Credit: MemberAccount(a.MemberID), Amount: a.Points, Kind: KindEarn,
		Reference: a.Reference(), Minutes: a.Minutes, Actor: actor, Memo: memo, IdempotencyKey: a.PostingKey()}
}

// Decided is an attendance an organiser decided on, to store: at an event
// already finalised, one that is now postable is posted at once (Posting,
// whose Attendance is the one to store).
type Decided struct {
	Attendance Attendance
	Posting    *Posting
}

// settle stores a decided attendance, posting it at once at an event
// already finalised if it is postable now.
func settle(e Event, a Attendance, already int64, actor string, r EventRules, loc *time.Location) Decided {
	if e.Status == EventFinalised && Postable(e, a) {
		p := PlanPost(e, a, already, actor, r, loc)
		return Decided{Attendance: p.Attendance, Posting: &p}
	}
	return Decided{Attendance: a}
}

// BackfillState is what a back-fill (补录: a paper record of an attendance
// entered afterwards) needs.
type BackfillState struct {
	Now    time.Time
	Event  Event
	Member Member
	// In and Out are the times recorded; Reason (already cleaned) why.
	In, Out time.Time
	Reason  string
	By      uuid.UUID
	// Overlap is an attendance of the member that holds some of [In, Out]
	// (Attendance.Occupies), or nil.
	Overlap *Attendance
	// NewID is the new attendance's id.
	NewID uuid.UUID
}

// DecideBackfill decides a back-fill: a closed attendance inside the event's
// window, not in the future and not over another attendance of an active
// member, at an event that is neither a draft, cancelled nor finalised.
func DecideBackfill(st BackfillState) (Attendance, error) {
	e, in, out := st.Event, st.In, st.Out
	switch {
	case e.Status == EventCancelled || e.Status == EventDraft || e.Status == EventFinalised:
		return Attendance{}, Errorf(ECONFLICT, "attendance.event_closed", e.Title)
	case in.IsZero() || out.IsZero() || !out.After(in) || in.Before(e.StartsAt) || out.After(e.EndsAt):
		return Attendance{}, Errorf(EINVALID, "attendance.backfill_window")
	case out.After(st.Now.Add(ClockSkew)):
		return Attendance{}, Errorf(EINVALID, "attendance.in_future")
	case st.Member.Status != MemberActive:
		return Attendance{}, Errorf(ECONFLICT, "checkin.member_inactive", st.Member.Name)
	case st.Overlap != nil:
		return Attendance{}, Errorf(ECONFLICT, "checkin.overlap")
	}
	a := Attendance{ID: st.NewID, EventID: e.ID, MemberID: st.Member.ID, CheckedInAt: in.UTC(),
		Source: ActionBackfill, RecordedBy: st.By, RecordedAt: st.Now.UTC(), Reason: st.Reason}
	return CloseAt(e, a, out), nil
}

// CloseState is what an organiser's check-out time for an attendance needs.
type CloseState struct {
	Now   time.Time
	Rules EventRules
	Loc   *time.Location
	Event Event
	// Attendance is the one to close, Out the time, Reason (already
	// cleaned) why, Actor who.
	Attendance Attendance
	Out        time.Time
	Reason     string
	Actor      string
	// Overlap is another attendance the new time would overlap (read only
	// for a 未签退 one: CloseNeedsOverlap), or nil.
	Overlap *Attendance
	// DayMinutes are the member's minutes posted on the attendance's day
	// (read only at a finalised event).
	DayMinutes int64
}

// CloseNeedsOverlap reports whether closing a at out must look for an
// overlap: a 未签退 attendance occupied no time; now it will.
func CloseNeedsOverlap(a Attendance, out time.Time) bool {
	return a.AwaitsTime() && !out.Before(a.CheckedInAt)
}

// DecideCloseAttendance decides an organiser's check-out time (DecideClose)
// and, at a finalised event, posts it at once.
func DecideCloseAttendance(st CloseState) (Decided, error) {
	a, err := DecideClose(st.Event, st.Attendance, st.Out, st.Now, st.Reason, st.Overlap, st.Rules)
	if err != nil {
		return Decided{}, err
	}
	return settle(st.Event, a, st.DayMinutes, st.Actor, st.Rules, st.Loc), nil
}

// ReviewState is what an organiser's review of an attendance needs.
type ReviewState struct {
	Rules EventRules
	Loc   *time.Location
	Event Event
	// Attendance is the one reviewed; Decision ReviewConfirm, ReviewAdjust
	// or ReviewReject; Minutes for an adjustment; Reason (already cleaned,
	// but for a confirmation) why; Actor who.
	Attendance Attendance
	Decision   string
	Minutes    int64
	Reason     string
	Actor      string
	// Overlap is another attendance a rejected one brought back would
	// overlap (ReviewNeedsOverlap), or nil.
	Overlap *Attendance
	// Posted is the entry that posted a posted attendance (its EntrySeq;
	// nil when it posted no points).
	Posted *Entry
	// DayMinutes are the member's minutes posted on the attendance's day.
	DayMinutes int64
}

// ReviewNeedsOverlap reports whether a review of a must look for an
// overlap: bringing a rejected attendance with a time back.
func ReviewNeedsOverlap(a Attendance, decision string) bool {
	return a.Status == AttendanceRejected && decision != ReviewReject && !a.AwaitsTime() && !a.CheckedOutAt.IsZero()
}

// DecideReviewAttendance decides an organiser's review: of an attendance
// not yet posted by DecideReview (posted at once at a finalised event), of
// a posted one by a correction (DecideCorrection).
func DecideReviewAttendance(st ReviewState) (Decided, error) {
	if st.Attendance.Status == AttendancePosted {
		p, err := DecideCorrection(st)
		if err != nil {
			return Decided{}, err
		}
		return Decided{Attendance: p.Attendance, Posting: &p}, nil
	}
	a, err := DecideReview(st.Event, st.Attendance, st.Decision, st.Minutes, st.Reason, st.Overlap)
	if err != nil {
		return Decided{}, err
	}
	return settle(st.Event, a, st.DayMinutes, st.Actor, st.Rules, st.Loc), nil
}

// DecideCorrection corrects a posted attendance: never by an edit, but by a
// reverse entry of what was posted and, for an adjustment, a new earn entry
// for the new minutes (within the daily cap). Only an adjustment or a
// rejection corrects a posted attendance (ECONFLICT
// "attendance.already_posted"); adjusted minutes lie within the event's
// length.
func DecideCorrection(st ReviewState) (Posting, error) {
	e, a := st.Event, st.Attendance
	if st.Decision != ReviewAdjust && st.Decision != ReviewReject {
		return Posting{}, Errorf(ECONFLICT, "attendance.already_posted")
	}
	if st.Decision == ReviewAdjust && (st.Minutes < 0 || st.Minutes > int64(e.EndsAt.Sub(e.StartsAt)/time.Minute)) {
		return Posting{}, Errorf(EINVALID, "attendance.minutes_invalid")
	}
	var p Posting
	if a.EntrySeq != 0 {
		if st.Posted == nil || st.Posted.Seq != a.EntrySeq {
			return Posting{}, fmt.Errorf("attendance %s: the state lacks its entry %d", a.ID, a.EntrySeq)
		}
		rev, err := Reverse(*st.Posted, st.Actor, st.Reason, "")
		if err != nil {
			return Posting{}, err
		}
		p.Reverse = &rev
	}
	already := max(0, st.DayMinutes-a.Minutes)
	a.Reason, a.EntrySeq = st.Reason, 0
	if st.Decision == ReviewReject {
		a.Status, a.Minutes, a.Points = AttendanceRejected, 0, 0
	} else {
		minutes := st.Minutes
		a.AdjustedMinutes = &minutes
		a.Minutes = CapDaily(minutes, already, st.Rules)
		a.Points = PointsFor(a.Minutes, e.PointsPerHour)
		if a.Points > 0 {
			p.Earn = earn(e, a, st.Actor, st.Reason)
		}
	}
	a.Revision++
	p.Attendance, p.Day, p.DayMinutes = a, DayOf(a.MemberID, a.CheckedInAt, st.Loc), already+a.Minutes
	return p, nil
}

// FinalizeState is what finalising an event needs.
type FinalizeState struct {
	Now       time.Time
	Rules     EventRules
	Loc       *time.Location
	Event     Event
	Confirmed bool
	Actor     string
	// Attendances are the event's, in the order they began.
	Attendances []Attendance
	// Days are the minutes posted on each day of FinalizeDays(Attendances).
	Days map[DayKey]int64
}

// FinalizeDays are the days whose posted minutes finalising atts needs.
func FinalizeDays(atts []Attendance, loc *time.Location) []DayKey {
	var out []DayKey
	seen := map[DayKey]bool{}
	for _, a := range atts {
		if k := DayOf(a.MemberID, a.CheckedInAt, loc); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// FinalizeDecision is what finalising an event writes, in order: Close,
// then each of Post (Posting), then Event.
type FinalizeDecision struct {
	Event  Event // finalised
	Close  []Attendance
	Post   []Posting
	Result FinalizeResult
}

// DecideFinalize decides finalising an event (PlanFinalize) and plans the
// postings, each within its member's daily cap as the ones before it on the
// same day left it.
func DecideFinalize(st FinalizeState) (FinalizeDecision, error) {
	plan, err := PlanFinalize(st.Event, st.Attendances, st.Now, st.Confirmed)
	if err != nil {
		return FinalizeDecision{}, err
	}
	e := st.Event
	e.Status = EventFinalised
	d := FinalizeDecision{Event: e, Close: plan.Close, Result: plan.Result}
	days := map[DayKey]int64{}
	for _, a := range plan.Post {
		k := DayOf(a.MemberID, a.CheckedInAt, st.Loc)
		already, ok := days[k]
		if !ok {
			already = st.Days[k]
		}
		p := PlanPost(e, a, already, st.Actor, st.Rules, st.Loc)
		days[k] = p.DayMinutes
		d.Post = append(d.Post, p)
		d.Result.Posted++
		d.Result.Points += p.Attendance.Points
		d.Result.Minutes += p.Attendance.Minutes
	}
	return d, nil
}

// DecideOverdue decides the sweep's item: attendance a of event e, if still
// open when its event is over (Overdue), is closed by rule at now; nil
// when there is nothing to do (checked out or closed since it was found).
func DecideOverdue(e Event, a Attendance, now time.Time, r EventRules) *Attendance {
	why, overdue := Overdue(e, now, r)
	if !overdue || a.Status != AttendanceOpen {
		return nil
	}
	c := CloseByRule(e, a, now, why)
	return &c
}
