package ledger

import (
	"time"

	"github.com/google/uuid"
)

// Why an attendance was closed by rule (Attendance.RuleClosed).
const (
	ClosedEventOver  = "event_over"           // its event's window and grace ended without a check-out
	ClosedCancelled  = "event_cancelled"      // its event was cancelled while the member was in
	ClosedFinalised  = "event_finalised"      // its event was finalised while the member was in
	ClosedElsewhere  = "checked_in_elsewhere" // the member checked in at another event
	ActionNoCheckout = "no_checkout"          // a scan closed the member's own attendance as 未签退: too late to check out
)

// CloseAt closes attendance a of event e at out: what it counts is the part
// of [check-in, out] inside the event's window, capped by its maximum.
func CloseAt(e Event, a Attendance, out time.Time) Attendance {
	a.CheckedOutAt = out.UTC()
	a.Status = AttendanceClosed
	a.Minutes = CountedMinutes(e, a.CheckedInAt, a.CheckedOutAt)
	a.Points = PointsFor(a.Minutes, e.PointsPerHour)
	return a
}

// CloseByRule closes an open attendance of event e that no one checked out
// of, at time at, for the reason why: it is marked 未签退 (NoCheckout),
// counts nothing, and occupies none of the member's time, so it blocks them
// nowhere, until an organiser decides what it is worth: nothing (reject) or a
// check-out time no later than LatestOut (CloseAttendance).
func CloseByRule(e Event, a Attendance, at time.Time, why string) Attendance {
	latest := e.EndsAt
	if at.Before(latest) {
		latest = at
	}
	if latest.Before(a.CheckedInAt) {
		latest = a.CheckedInAt
	}
	a.Status, a.NoCheckout, a.RuleClosed, a.LatestOut = AttendanceClosed, true, why, latest.UTC()
	a.CheckedOutAt, a.Minutes, a.Points = time.Time{}, 0, 0
	return a
}

// AwaitsTime reports a 未签退 attendance that no organiser has given a
// check-out time yet: it counts nothing and is not posted.
func (a Attendance) AwaitsTime() bool {
	return a.Status == AttendanceClosed && a.NoCheckout && a.CheckedOutAt.IsZero()
}

// End is when an attendance stops occupying the member's time, for the rule
// that no one is at two events at once: its check-out; its check-in for a
// 未签退 one without a time (it occupies nothing); zero, for ever, while it
// is open.
func (a Attendance) End() time.Time {
	if a.NoCheckout && a.CheckedOutAt.IsZero() {
		return a.CheckedInAt
	}
	return a.CheckedOutAt
}

// Occupies reports whether the attendance holds any of [in, out] (out zero:
// open-ended) against another attendance of the member.
func (a Attendance) Occupies(in, out time.Time) bool {
	if a.Status == AttendanceRejected || (a.NoCheckout && a.CheckedOutAt.IsZero()) {
		return false
	}
	return Overlaps(in, out, a.CheckedInAt, a.End())
}

// Overdue says whether an open attendance of event e must be closed by rule
// at now, and why: its event is cancelled or finalised, or its window and
// the grace after it are over.
func Overdue(e Event, now time.Time, r EventRules) (why string, overdue bool) {
	switch {
	case e.Status == EventCancelled:
		return ClosedCancelled, true
	case e.Status == EventFinalised:
		return ClosedFinalised, true
	case now.After(e.EndsAt.Add(r.Grace)):
		return ClosedEventOver, true
	}
	return "", false
}

// ScanState is what the decision on a scan needs. The store reads it in the
// scan's own transaction and writes what DecideScan returns.
type ScanState struct {
	Now    time.Time
	Rules  EventRules
	Event  Event
	Member Member
	// Source is "scan" (the volunteer's phone) or "organizer"; By who recorded it.
	Source string
	By     uuid.UUID
	// Want is what an organiser asked for, ActionIn or ActionOut; empty for
	// a volunteer's scan, which checks in or out as the state says.
	Want string
	// EndOther says the volunteer agreed to end a check-in at another event
	// that is still running (it becomes 未签退 for that event's organiser).
	EndOther bool
	// Open is the attendance the member is checked in to (nil if none), and
	// OpenEvent its event.
	Open      *Attendance
	OpenEvent Event
	// Latest is the member's most recently recorded attendance (nil if
	// none): a scan soon after checking out of the same event repeats it.
	Latest *Attendance
	// Overlap is an attendance other than Open that a check-in now would
	// overlap (nil if none).
	Overlap *Attendance
	// Count is how many attendances the event has, for its capacity.
	Count int
	// NewID is the id of the attendance a check-in makes.
	NewID uuid.UUID
}

// ScanDecision is what a scan does.
type ScanDecision struct {
	// Action is ActionIn, ActionOut, ActionRepeat (the scan before it, sent
	// again: nothing is written) or ActionNoCheckout.
	Action string
	// Attendance is the attendance the scan answers with.
	Attendance Attendance
	// Closed is the member's attendance at another event that the scan
	// closed by rule first (nil if none).
	Closed *Attendance
	// Write lists what to store, in order.
	Write []Attendance
}

// DecideScan decides a scan of an event's code (or an organiser's check-in
// or check-out of a member). A second scan soon after a check-in or a
// check-out repeats it; an attendance left open elsewhere whose event is
// over, cancelled or finalised is closed by rule (未签退) and never blocks
// the member; one whose event still runs blocks them unless they agree to
// end it (EndOther). Returns ECONFLICT for an inactive member, a check-in
// elsewhere ("checkin.elsewhere", with Fields["can_end"]), an overlap, a
// full event, an organiser's in for someone already in or out for someone
// not in; the errors of CheckInOpen.
func DecideScan(st ScanState) (ScanDecision, error) {
	now, e := st.Now.UTC(), st.Event
	if st.Member.Status != MemberActive {
		return ScanDecision{}, Errorf(ECONFLICT, "checkin.member_inactive", st.Member.Name)
	}
	var d ScanDecision
	if o := st.Open; o != nil && o.EventID == e.ID {
		switch {
		case st.Want == ActionIn:
			return ScanDecision{}, Errorf(ECONFLICT, "attendance.already_in", st.Member.Name)
		case st.Want == "" && now.Sub(o.CheckedInAt) < st.Rules.RepeatWindow:
			return ScanDecision{Action: ActionRepeat, Attendance: *o}, nil
		}
		if why, overdue := Overdue(e, now, st.Rules); overdue {
			// Too late to check out: the organiser decides what it is worth.
			a := CloseByRule(e, *o, now, why)
			return ScanDecision{Action: ActionNoCheckout, Attendance: a, Write: []Attendance{a}}, nil
		}
		a := CloseAt(e, *o, now)
		return ScanDecision{Action: ActionOut, Attendance: a, Write: []Attendance{a}}, nil
	} else if o != nil {
		why, overdue := Overdue(st.OpenEvent, now, st.Rules)
		switch {
		case overdue:
		case st.Source != "scan":
			// An organiser is not told about another community's event.
			return ScanDecision{}, Errorf(ECONFLICT, "checkin.elsewhere_other")
		case !st.EndOther:
			return ScanDecision{}, Errorf(ECONFLICT, "checkin.elsewhere", st.OpenEvent.Title).
				With("can_end", true).With("other_event", st.OpenEvent.Title)
		default:
			why = ClosedElsewhere
		}
		closed := CloseByRule(st.OpenEvent, *o, now, why)
		d.Closed, d.Write = &closed, []Attendance{closed}
	}
	if st.Want == ActionOut {
		return ScanDecision{}, Errorf(ECONFLICT, "attendance.already_out", st.Member.Name)
	}
	if l := st.Latest; l != nil && st.Want == "" && d.Closed == nil && l.EventID == e.ID && l.Status != AttendanceOpen &&
		!l.CheckedOutAt.IsZero() && !now.Before(l.CheckedOutAt) && now.Sub(l.CheckedOutAt) < st.Rules.RepeatWindow {
		return ScanDecision{Action: ActionRepeat, Attendance: *l}, nil // the check-out, sent again
	}
	if err := CheckInOpen(e, now, st.Rules); err != nil {
		return ScanDecision{}, err
	}
	if st.Overlap != nil && (d.Closed == nil || st.Overlap.ID != d.Closed.ID) {
		return ScanDecision{}, Errorf(ECONFLICT, "checkin.overlap")
	}
	if e.Capacity > 0 && st.Count >= e.Capacity {
		return ScanDecision{}, Errorf(ECONFLICT, "checkin.full", e.Capacity)
	}
	a := Attendance{ID: st.NewID, EventID: e.ID, MemberID: st.Member.ID, CheckedInAt: now, Status: AttendanceOpen,
		Source: st.Source, RecordedBy: st.By, RecordedAt: now}
	d.Action, d.Attendance, d.Write = ActionIn, a, append(d.Write, a)
	return d, nil
}

// ClockSkew is how far past the server's clock an organiser's times may lie.
const ClockSkew = 5 * time.Minute

// DecideClose decides an organiser's check-out time for an attendance of
// event e, with a reason (already cleaned): an open one (a missed check-out)
// may close between its check-in and the end of the event's grace; a 未签退
// one (AwaitsTime) between its check-in and its LatestOut, and only if that
// time is free (overlap, read by the store, is another attendance the new
// time would overlap, or nil). Never after now. Returns ECONFLICT
// "attendance.not_open" for anything else.
func DecideClose(e Event, a Attendance, out, now time.Time, reason string, overlap *Attendance, r EventRules) (Attendance, error) {
	switch {
	case a.Status == AttendanceOpen:
		if out.Before(a.CheckedInAt) || out.After(e.EndsAt.Add(r.Grace)) {
			return Attendance{}, Errorf(EINVALID, "attendance.close_time")
		}
	case a.AwaitsTime():
		if out.Before(a.CheckedInAt) || out.After(a.LatestOut) {
			return Attendance{}, Errorf(EINVALID, "attendance.close_latest")
		}
		if overlap != nil {
			return Attendance{}, Errorf(ECONFLICT, "checkin.overlap")
		}
	default:
		return Attendance{}, Errorf(ECONFLICT, "attendance.not_open")
	}
	if out.After(now.Add(ClockSkew)) {
		return Attendance{}, Errorf(EINVALID, "attendance.in_future")
	}
	a = CloseAt(e, a, out)
	a.Reason = reason
	return a, nil
}

// Postable reports whether finalising event e posts attendance a now: a
// closed one with a check-out time (unless the event wants every attendance
// reviewed), or a confirmed one.
func Postable(e Event, a Attendance) bool {
	switch a.Status {
	case AttendanceConfirmed:
		return true
	case AttendanceClosed:
		return !e.ReviewRequired && !a.AwaitsTime()
	}
	return false
}

// FinalizePlan is what finalising an event does.
type FinalizePlan struct {
	// Close are the attendances still open, closed by rule as 未签退.
	Close []Attendance
	// Post are the attendances to post, in order (the store applies the
	// daily cap as it posts them).
	Post []Attendance
	// Result has the counts of what waits: NoCheckout (未签退 without a
	// time, Close among them) and PendingReview.
	Result FinalizeResult
}

// PlanFinalize decides what finalising event e at now does with its
// attendances. While the event still runs, or anyone is still checked in
// (whom finalising closes as 未签退), the organiser must confirm: without
// confirmed it returns ECONFLICT "event.finalise_confirm" with
// Fields["still_open"] and Fields["running"]. A draft or cancelled event is
// not finalisable. Finalising again posts only what became postable since.
func PlanFinalize(e Event, atts []Attendance, now time.Time, confirmed bool) (FinalizePlan, error) {
	if e.Status == EventDraft || e.Status == EventCancelled {
		return FinalizePlan{}, Errorf(ECONFLICT, "event.not_finalisable", string(e.Status))
	}
	var p FinalizePlan
	open := 0
	for _, a := range atts {
		if a.Status == AttendanceOpen {
			open++
		}
	}
	running := now.Before(e.EndsAt)
	if (open > 0 || running) && !confirmed && e.Status != EventFinalised {
		return FinalizePlan{}, Errorf(ECONFLICT, "event.finalise_confirm", open).
			With("still_open", open).With("running", running)
	}
	for _, a := range atts {
		if a.Status == AttendanceOpen {
			a = CloseByRule(e, a, now, ClosedFinalised)
			p.Close = append(p.Close, a)
		}
		switch {
		case Postable(e, a):
			p.Post = append(p.Post, a)
		case a.AwaitsTime():
			p.Result.NoCheckout++
		case a.Status == AttendanceClosed:
			p.Result.PendingReview++
		}
	}
	return p, nil
}

// Where CheckoutAll puts the check-out: at the event's end, or now.
const (
	CheckoutAtEnd = "end"
	CheckoutAtNow = "now"
)

// PlanCheckoutAll checks out everyone still checked in to event e, at the
// event's end or now (when, CheckoutAtEnd or CheckoutAtNow), with one reason
// (already cleaned) for all. The end may not lie in the future: before the
// end, only now.
func PlanCheckoutAll(e Event, atts []Attendance, when string, now time.Time, reason string, r EventRules) ([]Attendance, error) {
	var at time.Time
	switch when {
	case CheckoutAtEnd:
		if at = e.EndsAt; at.After(now.Add(ClockSkew)) {
			return nil, Errorf(EINVALID, "attendance.end_in_future")
		}
	case CheckoutAtNow:
		at = now
	default:
		return nil, Errorf(EINVALID, "attendance.checkout_when", Clip(when))
	}
	if e.Status != EventOpen && e.Status != EventFinished {
		return nil, Errorf(ECONFLICT, "attendance.event_closed", e.Title)
	}
	var out []Attendance
	for _, a := range atts {
		if a.Status != AttendanceOpen {
			continue
		}
		t := at
		if t.Before(a.CheckedInAt) {
			t = a.CheckedInAt
		}
		a, err := DecideClose(e, a, t, now, reason, nil, r)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// eventMoves are the status changes an organiser may make.
var eventMoves = map[EventStatus][]EventStatus{
	EventDraft:    {EventOpen, EventCancelled},
	EventOpen:     {EventFinished, EventCancelled},
	EventFinished: {EventOpen},
}

// PlanEventStatus decides an organiser's change of event e to status to at
// now: the allowed moves are draft -> open or cancelled, open -> finished or
// cancelled, finished -> open (finalising is FinalizeEvent's). Cancelling
// closes the attendances still open by rule (未签退), returned to be stored.
func PlanEventStatus(e Event, to EventStatus, atts []Attendance, now time.Time) (Event, []Attendance, error) {
	ok := false
	for _, s := range eventMoves[e.Status] {
		ok = ok || s == to
	}
	if !ok {
		return Event{}, nil, Errorf(ECONFLICT, "event.status_change", string(e.Status), string(to))
	}
	e.Status = to
	var closed []Attendance
	if to == EventCancelled {
		for _, a := range atts {
			if a.Status == AttendanceOpen {
				closed = append(closed, CloseByRule(e, a, now, ClosedCancelled))
			}
		}
	}
	return e, closed, nil
}

// DecideReview decides an organiser's review of attendance a of event e
// that is not yet posted (a posted one is corrected with new entries
// instead): confirm, adjust to minutes, or reject, with a reason (already
// cleaned; required but for a confirmation). A 未签退 attendance without a
// time can only be rejected until it is given one. Bringing a rejected one
// back needs its time free: overlap (read by the store) is another
// attendance it would overlap, or nil.
func DecideReview(e Event, a Attendance, decision string, minutes int64, reason string, overlap *Attendance) (Attendance, error) {
	switch {
	case a.Status == AttendanceOpen || a.Status == AttendancePosted:
		return Attendance{}, Errorf(ECONFLICT, "attendance.not_reviewable")
	case decision != ReviewConfirm && decision != ReviewAdjust && decision != ReviewReject:
		return Attendance{}, Errorf(EINVALID, "attendance.decision_invalid", Clip(decision))
	case decision != ReviewReject && a.NoCheckout && a.CheckedOutAt.IsZero():
		return Attendance{}, Errorf(ECONFLICT, "attendance.needs_time")
	case decision != ReviewReject && a.Status == AttendanceRejected && overlap != nil:
		// Rejected time may have been claimed by another attendance since.
		return Attendance{}, Errorf(ECONFLICT, "checkin.overlap")
	}
	switch decision {
	case ReviewConfirm:
		a.Status, a.AdjustedMinutes = AttendanceConfirmed, nil
		if !a.CheckedOutAt.IsZero() {
			// Counted again from its times: a rejection of a posted one took its minutes to zero.
			a.Minutes = CountedMinutes(e, a.CheckedInAt, a.CheckedOutAt)
		}
		a.Points = PointsFor(a.Minutes, e.PointsPerHour)
	case ReviewAdjust:
		if minutes < 0 || minutes > int64(e.EndsAt.Sub(e.StartsAt)/time.Minute) {
			return Attendance{}, Errorf(EINVALID, "attendance.minutes_invalid")
		}
		a.Status, a.AdjustedMinutes = AttendanceConfirmed, &minutes
		a.Points = PointsFor(minutes, e.PointsPerHour)
	case ReviewReject:
		a.Status = AttendanceRejected
	}
	if reason != "" {
		a.Reason = reason
	}
	return a, nil
}
