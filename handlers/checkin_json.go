package handlers

import (
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// The answer of a check-in is the one response every scan gets, and
// encoding/json spent more CPU on it than the scan's own decision (through
// reflection, and by checking and compacting what each time and id's
// marshaller returned). renderCheckin writes the very bytes c.JSON would,
// field by field; TestCheckinJSONIsEncodingJSON holds the two equal over
// every field of the types, filled at random, so that a field added to
// ledger.Event or ledger.Attendance fails that test until it is added here.

// renderCheckin answers a scan, as c.JSON(http.StatusOK, v) would.
func renderCheckin(c echo.Context, v checkinView) error {
	// As c.JSON decides to indent (the query is parsed only if there is one).
	if c.Request().URL.RawQuery != "" && c.QueryParams().Has("pretty") || c.Echo().Debug {
		return c.JSON(http.StatusOK, v)
	}
	buf := answerBuffers.Get().(*[]byte)
	defer answerBuffers.Put(buf)
	b, err := appendCheckinView((*buf)[:0], v)
	if err != nil {
		return c.JSON(http.StatusOK, v) // a time encoding/json refuses: let it say so
	}
	*buf = append(b, '\n')                 // json.Encoder ends with a newline
	return c.JSONBlob(http.StatusOK, *buf) // copied into the response's buffer
}

// answerBuffers keeps the buffers answers are encoded in (an answer is
// about 1 KB).
var answerBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// appendCheckinView appends v as encoding/json encodes it (without the
// newline json.Encoder adds).
func appendCheckinView(b []byte, v checkinView) ([]byte, error) {
	var err error
	b = appendKey(b, '{', "action")
	b = appendString(b, v.Action)
	if v.Repeated {
		b = append(b, `,"repeated":true`...)
	}
	b = appendKey(b, ',', "event")
	if b, err = appendEventView(b, v.Event); err != nil {
		return nil, err
	}
	b = appendKey(b, ',', "attendance")
	if b, err = appendAttendance(b, v.Attendance); err != nil {
		return nil, err
	}
	b = appendKey(b, ',', "member_name")
	b = appendString(b, v.MemberName)
	if v.Closed != nil {
		b = appendKey(b, ',', "closed_elsewhere")
		b = appendKey(b, '{', "event_title")
		b = appendString(b, v.Closed.EventTitle)
		b = appendKey(b, ',', "checked_in_at")
		if b, err = appendTime(b, v.Closed.CheckedInAt); err != nil {
			return nil, err
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

func appendEventView(b []byte, v eventView) ([]byte, error) {
	e := v.Event
	var err error
	b = appendKey(b, '{', "id")
	b = appendUUID(b, e.ID)
	b = appendKey(b, ',', "title")
	b = appendString(b, e.Title)
	b = appendKey(b, ',', "category")
	b = appendString(b, e.Category)
	b = appendKey(b, ',', "unit_id")
	b = appendUUID(b, e.UnitID)
	b = appendKey(b, ',', "team_ids")
	if e.TeamIDs == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, id := range e.TeamIDs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendUUID(b, id)
		}
		b = append(b, ']')
	}
	if e.Place != "" {
		b = appendKey(b, ',', "place")
		b = appendString(b, e.Place)
	}
	if e.Description != "" {
		b = appendKey(b, ',', "description")
		b = appendString(b, e.Description)
	}
	if e.Contact != "" {
		b = appendKey(b, ',', "contact")
		b = appendString(b, e.Contact)
	}
	b = appendKey(b, ',', "starts_at")
	if b, err = appendTime(b, e.StartsAt); err != nil {
		return nil, err
	}
	b = appendKey(b, ',', "ends_at")
	if b, err = appendTime(b, e.EndsAt); err != nil {
		return nil, err
	}
	if e.Capacity != 0 {
		b = appendKey(b, ',', "capacity")
		b = strconv.AppendInt(b, int64(e.Capacity), 10)
	}
	b = appendKey(b, ',', "points_per_hour")
	b = strconv.AppendInt(b, e.PointsPerHour, 10)
	if e.MaxMinutes != 0 {
		b = appendKey(b, ',', "max_minutes")
		b = strconv.AppendInt(b, e.MaxMinutes, 10)
	}
	b = appendKey(b, ',', "review_required")
	b = strconv.AppendBool(b, e.ReviewRequired)
	b = appendKey(b, ',', "status")
	b = appendString(b, string(e.Status))
	b = appendKey(b, ',', "created_by")
	b = appendUUID(b, e.CreatedBy)
	b = appendKey(b, ',', "created_at")
	if b, err = appendTime(b, e.CreatedAt); err != nil {
		return nil, err
	}
	b = appendKey(b, ',', "unit_name")
	b = appendString(b, v.UnitName)
	b = appendKey(b, ',', "checked_in")
	b = strconv.AppendInt(b, int64(v.CheckedIn), 10)
	b = appendKey(b, ',', "checked_out")
	b = strconv.AppendInt(b, int64(v.CheckedOut), 10)
	if v.Over {
		b = append(b, `,"over":true`...)
	}
	return append(b, '}'), nil
}

func appendAttendance(b []byte, a ledger.Attendance) ([]byte, error) {
	var err error
	b = appendKey(b, '{', "id")
	b = appendUUID(b, a.ID)
	b = appendKey(b, ',', "event_id")
	b = appendUUID(b, a.EventID)
	b = appendKey(b, ',', "member_id")
	b = appendUUID(b, a.MemberID)
	b = appendKey(b, ',', "checked_in_at")
	if b, err = appendTime(b, a.CheckedInAt); err != nil {
		return nil, err
	}
	if !a.CheckedOutAt.IsZero() {
		b = appendKey(b, ',', "checked_out_at")
		if b, err = appendTime(b, a.CheckedOutAt); err != nil {
			return nil, err
		}
	}
	b = appendKey(b, ',', "status")
	b = appendString(b, string(a.Status))
	b = appendKey(b, ',', "source")
	b = appendString(b, a.Source)
	if a.RecordedBy != uuid.Nil {
		b = appendKey(b, ',', "recorded_by")
		b = appendUUID(b, a.RecordedBy)
	}
	b = appendKey(b, ',', "recorded_at")
	if b, err = appendTime(b, a.RecordedAt); err != nil {
		return nil, err
	}
	if a.Reason != "" {
		b = appendKey(b, ',', "reason")
		b = appendString(b, a.Reason)
	}
	b = appendKey(b, ',', "minutes")
	b = strconv.AppendInt(b, a.Minutes, 10)
	b = appendKey(b, ',', "points")
	b = strconv.AppendInt(b, a.Points, 10)
	if a.AdjustedMinutes != nil {
		b = appendKey(b, ',', "adjusted_minutes")
		b = strconv.AppendInt(b, *a.AdjustedMinutes, 10)
	}
	if a.EntrySeq != 0 {
		b = appendKey(b, ',', "entry_seq")
		b = strconv.AppendUint(b, a.EntrySeq, 10)
	}
	if a.Revision != 0 {
		b = appendKey(b, ',', "revision")
		b = strconv.AppendInt(b, int64(a.Revision), 10)
	}
	if a.NoCheckout {
		b = append(b, `,"no_checkout":true`...)
	}
	if a.RuleClosed != "" {
		b = appendKey(b, ',', "rule_closed")
		b = appendString(b, a.RuleClosed)
	}
	if !a.LatestOut.IsZero() {
		b = appendKey(b, ',', "latest_out")
		if b, err = appendTime(b, a.LatestOut); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendKey appends sep and a key (plain ASCII, needing no escapes) and its colon.
func appendKey(b []byte, sep byte, key string) []byte {
	b = append(b, sep, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

// appendUUID appends an id as uuid.UUID.MarshalText does, quoted.
func appendUUID(b []byte, id uuid.UUID) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i, x := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hex[x>>4], hex[x&0x0f])
	}
	return append(b, '"')
}

// appendTime appends t as time.Time.MarshalJSON does; it refuses what that refuses.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	b = append(b, '"')
	b, err := t.AppendText(b) // RFC 3339 with nanoseconds, strict, as MarshalJSON
	return append(b, '"'), err
}

// appendString appends s quoted as encoding/json does with its HTML
// escaping on (json.Marshal, and echo's encoder): <, > and & as \u003c...,
// U+2028 and U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
