package ledger

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// EventStatus is where an event is in its life: draft -> open -> finished ->
// finalised, or cancelled.
type EventStatus string

// The event statuses.
const (
	EventDraft     EventStatus = "draft"
	EventOpen      EventStatus = "open"
	EventFinished  EventStatus = "finished"
	EventFinalised EventStatus = "finalised"
	EventCancelled EventStatus = "cancelled"
)

// Event is a volunteer activity with a time window, a category and a points rule.
type Event struct {
	ID       uuid.UUID   `json:"id"`
	Title    string      `json:"title"`
	Category string      `json:"category"`
	UnitID   uuid.UUID   `json:"unit_id"`
	TeamIDs  []uuid.UUID `json:"team_ids"`
	Place    string      `json:"place,omitempty"`
	// Description says what volunteers will do and bring; Contact whom to
	// ask (a name and a phone, as the organiser writes it).
	Description    string      `json:"description,omitempty"`
	Contact        string      `json:"contact,omitempty"`
	StartsAt       time.Time   `json:"starts_at"`
	EndsAt         time.Time   `json:"ends_at"`
	Capacity       int         `json:"capacity,omitempty"`
	PointsPerHour  int64       `json:"points_per_hour"`
	MaxMinutes     int64       `json:"max_minutes,omitempty"`
	ReviewRequired bool        `json:"review_required"`
	Status         EventStatus `json:"status"`
	CreatedBy      uuid.UUID   `json:"created_by"`
	CreatedAt      time.Time   `json:"created_at"`
	// Secret keys the event's rotating check-in codes; it never leaves the server.
	Secret []byte `json:"-"`
}

// EventRules are a deployment's settings for hours into points.
type EventRules struct {
	DefaultPointsPerHour int64         // 10
	MaxPointsPerHour     int64         // events may override the default up to this
	Grace                time.Duration // check-in opens this long before the start (not counted)
	DailyCapMinutes      int64         // counted minutes per member per day, over all events
	CodeStep             time.Duration // how long one check-in code lasts (30 s)
	// RepeatWindow is how soon after checking in (or out) a scan of the same
	// event is taken for the same check-in (or check-out) sent again (2 min).
	RepeatWindow time.Duration
}

// DefaultEventRules are the rules unless a deployment changes them.
var DefaultEventRules = EventRules{DefaultPointsPerHour: 10, MaxPointsPerHour: 60, Grace: 30 * time.Minute,
	DailyCapMinutes: 8 * 60, CodeStep: 30 * time.Second, RepeatWindow: 2 * time.Minute}

// maxEventDistance bounds how far from now an event may lie.
const maxEventDistance = 2 * 366 * 24 * time.Hour

// Check normalises and checks a new event, made at now.
func (e *Event) Check(r EventRules, now time.Time) error {
	if err := e.checkFields(r, now); err != nil {
		return err
	}
	switch e.Status {
	case "":
		e.Status = EventOpen
	case EventDraft, EventOpen:
	default:
		return Errorf(EINVALID, "event.status_invalid", Clip(string(e.Status)))
	}
	return nil
}

// The free-text fields of an event.
var (
	eventPlace       = Text{Field: "field.place", Key: "event.place_invalid", Max: 100}
	eventDescription = Text{Field: "field.description", Key: "event.description_invalid", Max: 2000, Multiline: true, Formula: true}
	eventContact     = Text{Field: "field.contact", Key: "event.contact_invalid", Max: 100}
)

// checkFields normalises and checks everything of an event but its status.
func (e *Event) checkFields(r EventRules, now time.Time) error {
	title, err := cleanName(e.Title, "field.event_title", "event.title_invalid")
	if err != nil {
		return err
	}
	e.Title = title
	if e.Description, err = eventDescription.Clean(e.Description); err != nil {
		return err
	}
	if e.Contact, err = eventContact.Clean(e.Contact); err != nil {
		return err
	}
	if !slices.Contains(Categories, e.Category) {
		return Errorf(EINVALID, "event.category_invalid", Clip(e.Category))
	}
	if e.Place, err = eventPlace.Clean(e.Place); err != nil {
		return err
	}
	if e.StartsAt.IsZero() || e.EndsAt.IsZero() || !e.EndsAt.After(e.StartsAt) {
		return Errorf(EINVALID, "event.window_invalid")
	}
	if e.EndsAt.Sub(e.StartsAt) > 24*time.Hour {
		return Errorf(EINVALID, "event.too_long")
	}
	if e.StartsAt.Before(now.Add(-maxEventDistance)) || e.EndsAt.After(now.Add(maxEventDistance)) {
		return Errorf(EINVALID, "event.too_far")
	}
	if e.PointsPerHour == 0 {
		e.PointsPerHour = r.DefaultPointsPerHour
	}
	if e.PointsPerHour < 1 || e.PointsPerHour > r.MaxPointsPerHour {
		return Errorf(EINVALID, "event.rate_invalid", r.MaxPointsPerHour)
	}
	if e.MaxMinutes < 0 || e.MaxMinutes > 24*60 || e.Capacity < 0 || e.Capacity > 100000 {
		return Errorf(EINVALID, "event.limits_invalid")
	}
	if e.TeamIDs == nil {
		e.TeamIDs = []uuid.UUID{}
	}
	slices.SortFunc(e.TeamIDs, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	if e.TeamIDs = slices.Compact(e.TeamIDs); len(e.TeamIDs) > 50 {
		return Errorf(EINVALID, "event.too_many_teams", 50)
	}
	return nil
}

// AttendanceStatus is where an attendance is.
type AttendanceStatus string

// The attendance statuses.
const (
	AttendanceOpen      AttendanceStatus = "open"      // checked in, not out
	AttendanceClosed    AttendanceStatus = "closed"    // checked out, or closed by an organiser
	AttendanceConfirmed AttendanceStatus = "confirmed" // reviewed and confirmed (or adjusted)
	AttendanceRejected  AttendanceStatus = "rejected"  // reviewed and rejected: no points
	AttendancePosted    AttendanceStatus = "posted"    // points and minutes are in the ledger
)

// Attendance is one person's presence at one event.
type Attendance struct {
	ID           uuid.UUID        `json:"id"`
	EventID      uuid.UUID        `json:"event_id"`
	MemberID     uuid.UUID        `json:"member_id"`
	CheckedInAt  time.Time        `json:"checked_in_at"`
	CheckedOutAt time.Time        `json:"checked_out_at,omitzero"`
	Status       AttendanceStatus `json:"status"`
	// Source says how it was recorded: "scan" (the volunteer), "organizer"
	// (an organiser scanned or picked the member), "backfill" (补录 from paper).
	Source     string    `json:"source"`
	RecordedBy uuid.UUID `json:"recorded_by,omitzero"`
	RecordedAt time.Time `json:"recorded_at"`
	// Reason explains a back-fill, an organiser's close, an adjustment or a rejection.
	Reason string `json:"reason,omitempty"`
	// Minutes and Points are what counts, set when it is closed (before the daily cap).
	Minutes int64 `json:"minutes"`
	Points  int64 `json:"points"`
	// AdjustedMinutes, when set by a review, replaces the counted minutes.
	AdjustedMinutes *int64 `json:"adjusted_minutes,omitempty"`
	// EntrySeq is the journal entry that posted it (0 if none: zero points).
	EntrySeq uint64 `json:"entry_seq,omitempty"`
	// Revision counts the postings and corrections of its points; each has
	// its own idempotency key (PostingKey).
	Revision int `json:"revision,omitempty"`
	// NoCheckout marks 未签退: closed by rule, because no one checked out
	// (see CloseByRule); it stays set once an organiser gives it a time, so
	// the record shows how it ended. RuleClosed says why it was closed
	// (ClosedEventOver, ...), LatestOut the latest check-out an organiser may
	// give it: the event's end, or when it was closed if that was earlier.
	NoCheckout bool      `json:"no_checkout,omitempty"`
	RuleClosed string    `json:"rule_closed,omitempty"`
	LatestOut  time.Time `json:"latest_out,omitzero"`
}

// PostingKey is the idempotency key of the attendance's next posting or correction.
func (a Attendance) PostingKey() string {
	return ServerKey("attendance", a.ID.String(), strconv.Itoa(a.Revision+1))
}

// Reference is the ledger reference of an attendance's points.
func (a Attendance) Reference() string { return "attendance:" + a.ID.String() }

// CheckInOpen checks that an event takes check-ins at now: it is open and
// now lies between the grace period before its start and its end.
func CheckInOpen(e Event, now time.Time, r EventRules) error {
	switch {
	case e.Status != EventOpen:
		return Errorf(ECONFLICT, "checkin.event_not_open", e.Title)
	case now.Before(e.StartsAt.Add(-r.Grace)):
		return Errorf(ECONFLICT, "checkin.too_early", e.Title)
	case now.After(e.EndsAt):
		return Errorf(EGONE, "checkin.event_over", e.Title)
	}
	return nil
}

// CountedMinutes is the whole minutes of [in, out] that fall inside the
// event's window, capped by the event's MaxMinutes when it has one.
func CountedMinutes(e Event, in, out time.Time) int64 {
	from, to := in, out
	if from.Before(e.StartsAt) {
		from = e.StartsAt
	}
	if to.After(e.EndsAt) {
		to = e.EndsAt
	}
	if !to.After(from) {
		return 0
	}
	m := int64(to.Sub(from) / time.Minute)
	if e.MaxMinutes > 0 && m > e.MaxMinutes {
		m = e.MaxMinutes
	}
	return m
}

// PointsFor is minutes × points per hour ÷ 60, rounded down to whole points.
func PointsFor(minutes, pointsPerHour int64) int64 { return minutes * pointsPerHour / 60 }

// CapDaily returns how many of minutes still count on a day when already
// minutes have counted for the member.
func CapDaily(minutes, already int64, r EventRules) int64 {
	if r.DailyCapMinutes <= 0 {
		return minutes
	}
	return max(0, min(minutes, r.DailyCapMinutes-already))
}

// Overlaps reports whether [a1, a2] and [b1, b2] share time; an open end
// (zero time) runs on forever.
func Overlaps(a1, a2, b1, b2 time.Time) bool {
	return (a2.IsZero() || b1.Before(a2)) && (b2.IsZero() || a1.Before(b2))
}

// CheckinStep is the number of the code step that now falls in.
func CheckinStep(now time.Time, r EventRules) int64 {
	return now.Unix() / int64(r.CodeStep/time.Second)
}

// checkinMACLen is how many bytes of HMAC-SHA256 a check-in token keeps.
const checkinMACLen = 8

// CheckinToken returns the token of an event's check-in code for a step:
// the event id, the step and a truncated HMAC of both under the event's
// secret, in Crockford base32 (it goes into the URL the QR holds).
func CheckinToken(e Event, step int64) string {
	b := make([]byte, 0, 16+4+checkinMACLen)
	b = append(b, e.ID[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(step))
	return Crockford.EncodeToString(append(b, checkinMAC(e.Secret, e.ID, step)...))
}

func checkinMAC(secret []byte, id uuid.UUID, step int64) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("checkin"))
	m.Write(id[:])
	m.Write(binary.BigEndian.AppendUint32(nil, uint32(step)))
	return m.Sum(nil)[:checkinMACLen]
}

// ParseCheckinToken returns the event a token names, without checking it:
// the caller loads the event's secret and calls CheckCheckinToken. A token
// that is not even well-formed is EINVALID.
func ParseCheckinToken(token string) (uuid.UUID, error) {
	b, err := decodeCanonical(token, 16+4+checkinMACLen)
	if err != nil {
		return uuid.Nil, Errorf(EINVALID, "checkin.code_invalid")
	}
	return uuid.UUID(b[:16]), nil
}

// CheckCheckinToken checks a token against its event at now: the MAC must
// be the event's, and the step the current or the previous one, so that a
// photo of the screen sent home stops working within a minute.
func CheckCheckinToken(e Event, token string, now time.Time, r EventRules) error {
	b, err := decodeCanonical(token, 16+4+checkinMACLen)
	if err != nil || uuid.UUID(b[:16]) != e.ID {
		return Errorf(EINVALID, "checkin.code_invalid")
	}
	step := int64(binary.BigEndian.Uint32(b[16:20]))
	if !hmac.Equal(b[20:], checkinMAC(e.Secret, e.ID, step)) {
		return Errorf(EINVALID, "checkin.code_invalid")
	}
	return CheckinStepValid(step, now, r)
}

// CheckinTokenStep returns the step a well-formed token names, without
// checking it.
func CheckinTokenStep(token string) (int64, error) {
	b, err := decodeCanonical(token, 16+4+checkinMACLen)
	if err != nil {
		return 0, Errorf(EINVALID, "checkin.code_invalid")
	}
	return int64(binary.BigEndian.Uint32(b[16:20])), nil
}

// CheckinStepValid says whether a code of step is still good at now: the
// current step or the one before it. A token whose MAC CheckCheckinToken
// accepted once is good again exactly when this says so.
func CheckinStepValid(step int64, now time.Time, r EventRules) error {
	if cur := CheckinStep(now, r); step != cur && step != cur-1 {
		return Errorf(EGONE, "checkin.code_expired")
	}
	return nil
}

// Attendance actions, as a scan or an organiser records them.
const (
	ActionIn       = "in"
	ActionOut      = "out"
	ActionBackfill = "backfill"
	// ActionRepeat is a scan taken for the check-in before it, sent again.
	ActionRepeat = "repeat"
)

// FinalizeResult says what finalising an event did.
type FinalizeResult struct {
	Posted        int   `json:"posted"`         // attendances posted now
	Points        int64 `json:"points"`         // points posted now
	Minutes       int64 `json:"minutes"`        // service minutes posted now
	NoCheckout    int   `json:"no_checkout"`    // checked in, never out: closed as 未签退 now, counted once an organiser decides
	PendingReview int   `json:"pending_review"` // closed, waiting for a review
}

// Review decisions.
const (
	ReviewConfirm = "confirm"
	ReviewAdjust  = "adjust"
	ReviewReject  = "reject"
)

// ScanRequest is who scans and what for: a volunteer's scan (Source "scan")
// checks in or out as the state says; an organiser's (Source "organizer")
// says what they want (Want, ActionIn or ActionOut).
type ScanRequest struct {
	Source string
	By     uuid.UUID
	Want   string
	// EndOther: the volunteer agrees to end their check-in at another event
	// that is still running (see DecideScan).
	EndOther bool
}

// Events keeps events and attendances, and posts attendances' points.
type Events interface {
	// CreateEvent stores a new event with a fresh secret. Returns EINVALID per Event.Check, ENOTFOUND for its unit.
	CreateEvent(ctx context.Context, e Event) (Event, error)
	// CreateEvents stores an event and, for one that repeats, its weekly
	// copies (WeeklySeries) in one transaction.
	CreateEvents(ctx context.Context, e Event, weeks int) ([]Event, error)
	// UpdateEvent edits an event as EditEvent decides, recording the change.
	UpdateEvent(ctx context.Context, id uuid.UUID, p EventPatch, by uuid.UUID) (Event, error)
	// EventChanges returns the record of an event's edits, oldest first.
	EventChanges(ctx context.Context, id uuid.UUID) ([]EventChange, error)
	// Event returns ENOTFOUND for an unknown id.
	Event(ctx context.Context, id uuid.UUID) (Event, error)
	// Events returns every event, newest first.
	Events(ctx context.Context) ([]Event, error)
	// SetEventStatus moves an event to open, finished or cancelled (PlanEventStatus).
	SetEventStatus(ctx context.Context, id uuid.UUID, status EventStatus) (Event, error)
	// Scan checks a member in to the event, or out, at the store's clock, as
	// DecideScan decides, and stores what it decided.
	Scan(ctx context.Context, eventID, memberID uuid.UUID, req ScanRequest) (ScanDecision, error)
	// ScanAnswered is Scan, answered with what the scanner's phone shows,
	// read in the same transaction.
	ScanAnswered(ctx context.Context, eventID, memberID uuid.UUID, req ScanRequest) (ScanAnswer, error)
	// Backfill records a paper attendance with explicit times and a reason.
	Backfill(ctx context.Context, eventID, memberID uuid.UUID, in, out time.Time, reason string, by uuid.UUID) (Attendance, error)
	// CloseAttendance gives an open attendance (a missed check-out) or a
	// 未签退 one its check-out time, with a reason (DecideClose); at a
	// finalised event it is posted at once.
	CloseAttendance(ctx context.Context, id uuid.UUID, out time.Time, reason string, by uuid.UUID) (Attendance, error)
	// CheckoutAll checks out everyone still checked in to an event, at its
	// end or now, with one reason (PlanCheckoutAll), and returns them.
	CheckoutAll(ctx context.Context, eventID uuid.UUID, when, reason string, by uuid.UUID) ([]Attendance, error)
	// ReviewAttendance confirms, adjusts (minutes) or rejects a closed
	// attendance; at a finalised event a confirmed one is posted at once.
	ReviewAttendance(ctx context.Context, id uuid.UUID, decision string, minutes int64, reason string, by uuid.UUID) (Attendance, error)
	// Attendance returns ENOTFOUND for an unknown id.
	Attendance(ctx context.Context, id uuid.UUID) (Attendance, error)
	// OpenAttendance returns the attendance the member is checked in to now; ENOTFOUND if none.
	OpenAttendance(ctx context.Context, memberID uuid.UUID) (Attendance, error)
	// EventCounts returns how many attendances an event has, and how many are open now.
	EventCounts(ctx context.Context, id uuid.UUID) (total, open int, err error)
	// Attendances returns an event's attendances in the order they began.
	Attendances(ctx context.Context, eventID uuid.UUID) ([]Attendance, error)
	// MemberAttendances returns a member's attendances, newest first (footprint).
	MemberAttendances(ctx context.Context, memberID uuid.UUID, limit int) ([]Attendance, error)
	// FinalizeEvent closes the attendances still open as 未签退, posts every
	// postable attendance as an earn entry (issuer of the event's unit to
	// the member) with its minutes, and marks the event finalised
	// (PlanFinalize: while it runs or people are in, only when confirmed).
	// Finalising again posts nothing new.
	FinalizeEvent(ctx context.Context, id uuid.UUID, actor string, confirmed bool) (FinalizeResult, error)
	// CloseOverdueAttendances closes by rule (未签退) every open attendance
	// whose event is over (with its grace), cancelled or finalised, each in a
	// write of its own, and reports the ones it could not close.
	CloseOverdueAttendances(ctx context.Context) (SweepResult, error)
}
