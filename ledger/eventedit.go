package ledger

import (
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// EventPatch is an organiser's change of an event: the fields given change,
// the others stay. The unit, the teams and the status change elsewhere.
type EventPatch struct {
	Title          *string    `json:"title,omitempty"`
	Category       *string    `json:"category,omitempty"`
	Place          *string    `json:"place,omitempty"`
	Description    *string    `json:"description,omitempty"`
	Contact        *string    `json:"contact,omitempty"`
	StartsAt       *time.Time `json:"starts_at,omitempty"`
	EndsAt         *time.Time `json:"ends_at,omitempty"`
	Capacity       *int       `json:"capacity,omitempty"`
	PointsPerHour  *int64     `json:"points_per_hour,omitempty"`
	MaxMinutes     *int64     `json:"max_minutes,omitempty"`
	ReviewRequired *bool      `json:"review_required,omitempty"`
}

// EventChange records one edit of an event: who, when, and each field's
// value before and after, as text (times in RFC 3339, UTC).
type EventChange struct {
	ID      uuid.UUID     `json:"id"`
	EventID uuid.UUID     `json:"event_id"`
	At      time.Time     `json:"at"`
	By      uuid.UUID     `json:"by"`
	Fields  []FieldChange `json:"fields"`
}

// FieldChange is one field of an EventChange.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// EventEdit is what editing an event writes: the event, the attendances
// whose counted minutes or points the change moved, and the record of the
// change (Change.Fields empty: nothing changed, nothing to write).
type EventEdit struct {
	Event       Event
	Attendances []Attendance
	Change      EventChange
}

// EditEvent decides an organiser's edit p of event old at now, given its
// attendances: the fields are checked as a new event's are; the minutes and
// points of its closed attendances are counted again by the new window and
// rule. It refuses (ECONFLICT) the edit of a finalised or cancelled event,
// and any change that would alter minutes or points already posted.
func EditEvent(old Event, p EventPatch, atts []Attendance, r EventRules, now time.Time, id, by uuid.UUID) (EventEdit, error) {
	if old.Status == EventFinalised || old.Status == EventCancelled {
		return EventEdit{}, Errorf(ECONFLICT, "event.edit_closed", Term("js.events.status."+string(old.Status)))
	}
	e := old
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&e.Title, p.Title)
	set(&e.Category, p.Category)
	set(&e.Place, p.Place)
	set(&e.Description, p.Description)
	set(&e.Contact, p.Contact)
	if p.StartsAt != nil {
		e.StartsAt = p.StartsAt.UTC()
	}
	if p.EndsAt != nil {
		e.EndsAt = p.EndsAt.UTC()
	}
	if p.Capacity != nil {
		e.Capacity = *p.Capacity
	}
	if p.PointsPerHour != nil {
		e.PointsPerHour = *p.PointsPerHour // 0: the default, as for a new event
	}
	if p.MaxMinutes != nil {
		e.MaxMinutes = *p.MaxMinutes
	}
	if p.ReviewRequired != nil {
		e.ReviewRequired = *p.ReviewRequired
	}
	if err := e.checkFields(r, now); err != nil {
		return EventEdit{}, err
	}
	out := EventEdit{Event: e, Change: EventChange{ID: id, EventID: e.ID, At: now.UTC(), By: by}}
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	for _, f := range []FieldChange{
		{"title", old.Title, e.Title}, {"category", old.Category, e.Category}, {"place", old.Place, e.Place},
		{"description", old.Description, e.Description}, {"contact", old.Contact, e.Contact},
		{"starts_at", ts(old.StartsAt), ts(e.StartsAt)}, {"ends_at", ts(old.EndsAt), ts(e.EndsAt)},
		{"capacity", strconv.Itoa(old.Capacity), strconv.Itoa(e.Capacity)},
		{"points_per_hour", fmt.Sprint(old.PointsPerHour), fmt.Sprint(e.PointsPerHour)},
		{"max_minutes", fmt.Sprint(old.MaxMinutes), fmt.Sprint(e.MaxMinutes)},
		{"review_required", strconv.FormatBool(old.ReviewRequired), strconv.FormatBool(e.ReviewRequired)},
	} {
		if f.Old != f.New {
			out.Change.Fields = append(out.Change.Fields, f)
		}
	}
	if len(out.Change.Fields) == 0 {
		return EventEdit{Event: old}, nil
	}
	posted := 0
	for _, a := range atts {
		if a.Status == AttendanceOpen || (a.CheckedOutAt.IsZero() && !a.NoCheckout) {
			continue
		}
		n := a
		if !n.CheckedOutAt.IsZero() {
			n.Minutes = CountedMinutes(e, n.CheckedInAt, n.CheckedOutAt)
		}
		minutes := n.Minutes
		if n.AdjustedMinutes != nil {
			minutes = *n.AdjustedMinutes
		}
		n.Points = PointsFor(minutes, e.PointsPerHour)
		if n.NoCheckout && n.LatestOut.After(e.EndsAt) {
			n.LatestOut = e.EndsAt
			if n.LatestOut.Before(n.CheckedInAt) {
				n.LatestOut = n.CheckedInAt
			}
		}
		if a.Status == AttendancePosted {
			// What is posted stays as posted: an edit that would change it is refused.
			if n.Minutes != a.Minutes || n.Points != a.Points {
				posted++
			}
			continue
		}
		if n != a {
			out.Attendances = append(out.Attendances, n)
		}
	}
	if posted > 0 {
		return EventEdit{}, Errorf(ECONFLICT, "event.edit_posted", posted)
	}
	return out, nil
}

// MaxWeeks bounds a weekly series of events.
const MaxWeeks = 52

// WeeklySeries returns event e and weeks-1 copies of it, each a week after
// the one before at the same time of day in loc, for an event that repeats
// every week; ids gives each copy its id. EINVALID for weeks outside 1 to
// MaxWeeks.
func WeeklySeries(e Event, weeks int, loc *time.Location, ids func() uuid.UUID) ([]Event, error) {
	if weeks < 1 || weeks > MaxWeeks {
		return nil, Errorf(EINVALID, "event.weeks_invalid", MaxWeeks)
	}
	out := []Event{e}
	for i := 1; i < weeks; i++ {
		c := e
		c.ID = ids()
		c.TeamIDs = append([]uuid.UUID(nil), e.TeamIDs...)
		c.StartsAt = e.StartsAt.In(loc).AddDate(0, 0, 7*i).UTC()
		c.EndsAt = e.EndsAt.In(loc).AddDate(0, 0, 7*i).UTC()
		out = append(out, c)
	}
	return out, nil
}
