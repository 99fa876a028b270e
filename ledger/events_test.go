package ledger

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func testEvent() Event {
	start := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	return Event{ID: uuid.MustParse("01934b6e-1f2a-7c3d-8e4f-5a6b7c8d9e0f"), Title: "环境整治", Category: "环境整治",
		StartsAt: start, EndsAt: start.Add(3 * time.Hour), PointsPerHour: 10, Status: EventOpen, Secret: []byte("event secret")}
}

func TestCountedMinutesAndPoints(t *testing.T) {
	e := testEvent()
	at := func(h, m int) time.Time { return time.Date(2026, 11, 21, h, m, 0, 0, time.UTC) }
	tests := []struct {
		name     string
		in, out  time.Time
		max      int64
		minutes  int64
		points10 int64
	}{
		{"Inside", at(9, 2), at(11, 17), 0, 135, 22},
		{"EarlyArrivalNotCounted", at(8, 40), at(10, 0), 0, 60, 10},
		{"LateLeaveNotCounted", at(11, 0), at(13, 0), 0, 60, 10},
		{"WholeWindow", at(8, 0), at(14, 0), 0, 180, 30},
		{"CappedByMax", at(9, 0), at(12, 0), 90, 90, 15},
		{"BeforeStart", at(7, 0), at(8, 59), 0, 0, 0},
		{"AfterEnd", at(12, 0), at(12, 30), 0, 0, 0},
		{"SecondsRoundDown", at(9, 0), at(9, 5).Add(59 * time.Second), 0, 5, 0},
		{"SevenMinutesIsOnePoint", at(9, 0), at(9, 7), 0, 7, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := e
			ev.MaxMinutes = tt.max
			m := CountedMinutes(ev, tt.in, tt.out)
			if m != tt.minutes || PointsFor(m, 10) != tt.points10 {
				t.Fatalf("minutes %d points %d, want %d and %d", m, PointsFor(m, 10), tt.minutes, tt.points10)
			}
		})
	}
	if PointsFor(135, 15) != 33 { // 33.75 rounds down
		t.Fatal("rounding")
	}
}

func TestCapDaily(t *testing.T) {
	r := DefaultEventRules
	for _, tt := range []struct{ minutes, already, want int64 }{{60, 0, 60}, {60, 450, 30}, {60, 480, 0}, {60, 600, 0}} {
		if got := CapDaily(tt.minutes, tt.already, r); got != tt.want {
			t.Errorf("CapDaily(%d, %d) = %d, want %d", tt.minutes, tt.already, got, tt.want)
		}
	}
}

func TestCheckInOpen(t *testing.T) {
	r := DefaultEventRules
	e := testEvent()
	for _, tt := range []struct {
		name   string
		status EventStatus
		now    time.Time
		code   string
	}{
		{"InGrace", EventOpen, e.StartsAt.Add(-29 * time.Minute), ""},
		{"TooEarly", EventOpen, e.StartsAt.Add(-31 * time.Minute), ECONFLICT},
		{"During", EventOpen, e.StartsAt.Add(time.Hour), ""},
		{"Over", EventOpen, e.EndsAt.Add(time.Second), EGONE},
		{"Draft", EventDraft, e.StartsAt, ECONFLICT},
		{"Cancelled", EventCancelled, e.StartsAt, ECONFLICT},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ev := e
			ev.Status = tt.status
			if got := ErrorCode(CheckInOpen(ev, tt.now, r)); got != tt.code {
				t.Fatalf("got %q, want %q", got, tt.code)
			}
		})
	}
}

func TestCheckinCodeRotates(t *testing.T) {
	r := DefaultEventRules
	e := testEvent()
	t0 := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC) // a step boundary
	tok := CheckinToken(e, CheckinStep(t0, r))
	if id, err := ParseCheckinToken(tok); err != nil || id != e.ID {
		t.Fatalf("parse: %v %v", id, err)
	}
	for _, tt := range []struct {
		name  string
		after time.Duration
		code  string
	}{
		{"SameStep", 29 * time.Second, ""},
		{"PreviousStep", 30 * time.Second, ""},
		{"PreviousStepEnd", 59 * time.Second, ""},
		{"TwoStepsOld", 60 * time.Second, EGONE},
		{"FromTheFuture", -time.Second, EGONE},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCode(CheckCheckinToken(e, tok, t0.Add(tt.after), r)); got != tt.code {
				t.Fatalf("got %q, want %q", got, tt.code)
			}
		})
	}
	other := e
	other.Secret = []byte("another event's secret")
	if ErrorCode(CheckCheckinToken(other, tok, t0, r)) != EINVALID {
		t.Fatal("a token under another secret was accepted")
	}
	raw, _ := Crockford.DecodeString(tok)
	raw[len(raw)-1] ^= 1 // one bit of the MAC
	if ErrorCode(CheckCheckinToken(e, Crockford.EncodeToString(raw), t0, r)) != EINVALID {
		t.Fatal("an altered token was accepted")
	}
	// Base32's spare bits: another spelling of the same bytes is refused too.
	last := strings.IndexByte("0123456789ABCDEFGHJKMNPQRSTVWXYZ", tok[len(tok)-1])
	respelled := tok[:len(tok)-1] + string("0123456789ABCDEFGHJKMNPQRSTVWXYZ"[last^1])
	if ErrorCode(CheckCheckinToken(e, respelled, t0, r)) != EINVALID {
		t.Fatal("a respelled token was accepted")
	}
	if _, err := ParseCheckinToken("13812345678"); ErrorCode(err) != EINVALID {
		t.Fatal("garbage parsed")
	}
}

func TestEventCheck(t *testing.T) {
	r := DefaultEventRules
	e := testEvent()
	e.PointsPerHour = 0
	if err := e.Check(r, e.StartsAt); err != nil || e.PointsPerHour != 10 {
		t.Fatalf("default rate: %v %d", err, e.PointsPerHour)
	}
	for name, mod := range map[string]func(*Event){
		"NoTitle":       func(e *Event) { e.Title = " " },
		"OtherCategory": func(e *Event) { e.Category = "唱歌" },
		"EndsFirst":     func(e *Event) { e.EndsAt = e.StartsAt.Add(-time.Hour) },
		"TwoDays":       func(e *Event) { e.EndsAt = e.StartsAt.Add(48 * time.Hour) },
		"RateTooHigh":   func(e *Event) { e.PointsPerHour = 1000 },
		"Finalised":     func(e *Event) { e.Status = EventFinalised },
		"FarFuture":     func(e *Event) { e.StartsAt = e.StartsAt.AddDate(3, 0, 0); e.EndsAt = e.StartsAt.Add(time.Hour) },
		"Year9999": func(e *Event) {
			e.StartsAt = time.Date(9999, 12, 31, 10, 0, 0, 0, time.UTC)
			e.EndsAt = e.StartsAt.Add(time.Hour)
		},
	} {
		t.Run(name, func(t *testing.T) {
			ev := testEvent()
			mod(&ev)
			if ErrorCode(ev.Check(r, testEvent().StartsAt)) != EINVALID {
				t.Fatal("accepted")
			}
		})
	}
}

func TestOverlaps(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 1, 1, h, 0, 0, 0, time.UTC) }
	var open time.Time
	for _, tt := range []struct {
		a1, a2, b1, b2 time.Time
		want           bool
	}{
		{at(9), at(10), at(10), at(11), false},
		{at(9), at(11), at(10), at(12), true},
		{at(9), open, at(10), at(11), true},
		{at(12), at(13), at(9), open, true},
		{at(9), at(10), at(11), open, false},
	} {
		if got := Overlaps(tt.a1, tt.a2, tt.b1, tt.b2); got != tt.want {
			t.Errorf("Overlaps(%v, %v, %v, %v) = %v", tt.a1, tt.a2, tt.b1, tt.b2, got)
		}
	}
}

// FuzzCheckCheckinToken feeds anything a phone's camera could read to the
// check-in code check: only the event's own current or previous code, spelled
// as it was made (in either case), is accepted.
func FuzzCheckCheckinToken(f *testing.F) {
	r := DefaultEventRules
	e := testEvent()
	t0 := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	step := CheckinStep(t0, r)
	f.Add(CheckinToken(e, step))
	f.Add(CheckinToken(e, step-1))
	f.Add(CheckinToken(e, step-2))
	f.Add(strings.ToLower(CheckinToken(e, step)))
	f.Add("13812345678")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, perr := ParseCheckinToken(s)
		if perr == nil && id != e.ID && CheckCheckinToken(e, s, t0, r) == nil {
			t.Fatalf("%q parses as %v but was accepted for %v", s, id, e.ID)
		}
		read := strings.ToUpper(strings.TrimSpace(s)) // a camera's or a keyboard's case does not matter
		if err := CheckCheckinToken(e, s, t0, r); err == nil && read != CheckinToken(e, step) && read != CheckinToken(e, step-1) {
			t.Fatalf("accepted %q, which is not one of the event's codes", s)
		} else if err != nil && ErrorCode(err) != EINVALID && ErrorCode(err) != EGONE {
			t.Fatalf("%q: %v", s, err)
		}
	})
}
