package ledger

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestEditEvent(t *testing.T) {
	start := time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC)
	now := start.Add(4 * time.Hour)
	ev := Event{ID: uuid.New(), Title: "环境整治", Category: "环境整治", StartsAt: start, EndsAt: start.Add(3 * time.Hour),
		PointsPerHour: 10, Status: EventOpen, TeamIDs: []uuid.UUID{}}
	closed := CloseAt(ev, Attendance{ID: uuid.New(), CheckedInAt: start.Add(-10 * time.Minute)}, start.Add(2*time.Hour)) // 120 min, 20 points
	adjusted := CloseAt(ev, Attendance{ID: uuid.New(), CheckedInAt: start}, start.Add(time.Hour))
	ninety := int64(90)
	adjusted.Status, adjusted.AdjustedMinutes, adjusted.Points = AttendanceConfirmed, &ninety, 15
	open := Attendance{ID: uuid.New(), CheckedInAt: start, Status: AttendanceOpen}
	waiting := CloseByRule(ev, Attendance{ID: uuid.New(), CheckedInAt: start}, ev.EndsAt, ClosedEventOver)
	atts := []Attendance{closed, adjusted, open, waiting}
	str := func(s string) *string { return &s }
	i64 := func(n int64) *int64 { return &n }
	at := func(t time.Time) *time.Time { return &t }

	t.Run("PlaceOnly", func(t *testing.T) {
		got, err := EditEvent(ev, EventPatch{Place: str(" 3号楼楼下 ")}, atts, DefaultEventRules, now, uuid.New(), uuid.New())
		if err != nil || got.Event.Place != "3号楼楼下" || len(got.Attendances) != 0 || len(got.Change.Fields) != 1 ||
			got.Change.Fields[0] != (FieldChange{"place", "", "3号楼楼下"}) {
			t.Fatalf("%+v %v", got, err)
		}
	})
	t.Run("NothingChanges", func(t *testing.T) {
		got, err := EditEvent(ev, EventPatch{Title: str("环境整治")}, atts, DefaultEventRules, now, uuid.New(), uuid.New())
		if err != nil || len(got.Change.Fields) != 0 || got.Event.ID != ev.ID {
			t.Fatalf("%+v %v", got, err)
		}
	})
	t.Run("RateCountsAgain", func(t *testing.T) {
		got, err := EditEvent(ev, EventPatch{PointsPerHour: i64(20)}, atts, DefaultEventRules, now, uuid.New(), uuid.New())
		if err != nil || len(got.Attendances) != 2 { // the open one and the 未签退 one count nothing either way
			t.Fatalf("%+v %v", got, err)
		}
		byID := map[uuid.UUID]Attendance{}
		for _, a := range got.Attendances {
			byID[a.ID] = a
		}
		if byID[closed.ID].Points != 40 || byID[adjusted.ID].Points != 30 || byID[waiting.ID].Points != 0 {
			t.Fatalf("recounted %+v", got.Attendances)
		}
	})
	t.Run("ShorterWindowCountsAgain", func(t *testing.T) {
		got, err := EditEvent(ev, EventPatch{EndsAt: at(start.Add(90 * time.Minute))}, atts, DefaultEventRules, now, uuid.New(), uuid.New())
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range got.Attendances {
			switch a.ID {
			case closed.ID:
				if a.Minutes != 90 || a.Points != 15 {
					t.Fatalf("closed %+v", a)
				}
			case waiting.ID:
				if !a.LatestOut.Equal(start.Add(90 * time.Minute)) {
					t.Fatalf("a 未签退 may not count past the new end: %+v", a)
				}
			}
		}
	})
	t.Run("BadWindow", func(t *testing.T) {
		_, err := EditEvent(ev, EventPatch{EndsAt: at(start.Add(-time.Hour))}, atts, DefaultEventRules, now, uuid.New(), uuid.New())
		if e, _ := AsError(err); e == nil || e.Key != "event.window_invalid" {
			t.Fatalf("%v", err)
		}
	})
	t.Run("BidiInContact", func(t *testing.T) {
		_, err := EditEvent(ev, EventPatch{Contact: str("王老师 \u202e138")}, atts, DefaultEventRules, now, uuid.New(), uuid.New())
		if e, _ := AsError(err); e == nil || e.Key != "text.bidi" {
			t.Fatalf("%v", err)
		}
	})
	t.Run("MultilineDescription", func(t *testing.T) {
		got, err := EditEvent(ev, EventPatch{Description: str("- 带手套\r\n- 带垃圾袋")}, atts, DefaultEventRules, now, uuid.New(), uuid.New())
		if err != nil || got.Event.Description != "- 带手套\n- 带垃圾袋" {
			t.Fatalf("%+v %v", got.Event.Description, err)
		}
		_, err = EditEvent(ev, EventPatch{Description: str(strings.Repeat("长", 2001))}, atts, DefaultEventRules, now, uuid.New(), uuid.New())
		if e, _ := AsError(err); e == nil || e.Key != "event.description_invalid" {
			t.Fatalf("%v", err)
		}
	})
	t.Run("PostedStays", func(t *testing.T) {
		posted := closed
		posted.Status = AttendancePosted
		_, err := EditEvent(ev, EventPatch{PointsPerHour: i64(20)}, []Attendance{posted}, DefaultEventRules, now, uuid.New(), uuid.New())
		if e, _ := AsError(err); e == nil || e.Code != ECONFLICT || e.Key != "event.edit_posted" {
			t.Fatalf("%v", err)
		}
		// A change that leaves it as posted is fine.
		if _, err := EditEvent(ev, EventPatch{Place: str("活动室")}, []Attendance{posted}, DefaultEventRules, now, uuid.New(), uuid.New()); err != nil {
			t.Fatal(err)
		}
	})
	for _, s := range []EventStatus{EventFinalised, EventCancelled} {
		t.Run("Closed"+string(s), func(t *testing.T) {
			e := ev
			e.Status = s
			if _, err := EditEvent(e, EventPatch{Place: str("x")}, nil, DefaultEventRules, now, uuid.New(), uuid.New()); ErrorCode(err) != ECONFLICT {
				t.Fatalf("%v", err)
			}
		})
	}
}

func TestWeeklySeries(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	start := time.Date(2026, 12, 26, 9, 0, 0, 0, loc) // a Saturday; the series crosses the year
	e := Event{ID: uuid.New(), Title: "周六义诊", StartsAt: start.UTC(), EndsAt: start.Add(2 * time.Hour).UTC(), TeamIDs: []uuid.UUID{uuid.New()}}
	list, err := WeeklySeries(e, 4, loc, uuid.New)
	if err != nil || len(list) != 4 || list[0].ID != e.ID {
		t.Fatalf("%+v %v", list, err)
	}
	for i, c := range list {
		if got := c.StartsAt.In(loc); got.Weekday() != time.Saturday || got.Hour() != 9 || !c.EndsAt.Equal(c.StartsAt.Add(2*time.Hour)) {
			t.Fatalf("event %d starts %v", i, got)
		}
		if i > 0 && (c.ID == list[i-1].ID || !c.StartsAt.Equal(list[i-1].StartsAt.Add(7*24*time.Hour))) {
			t.Fatalf("event %d: %+v", i, c)
		}
	}
	if list[3].StartsAt.In(loc).Year() != 2027 {
		t.Fatal("the series should reach into 2027")
	}
	list[1].TeamIDs[0] = uuid.Nil
	if e.TeamIDs[0] == uuid.Nil {
		t.Fatal("copies share the team list")
	}
	for _, n := range []int{0, MaxWeeks + 1} {
		if _, err := WeeklySeries(e, n, loc, uuid.New); ErrorCode(err) != EINVALID {
			t.Fatalf("%d weeks: %v", n, err)
		}
	}
}
