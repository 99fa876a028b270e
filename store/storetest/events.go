package storetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// EventsStore is what the events suite needs of an engine: events and
// attendances (ledger.Events), the directory and the journal.
type EventsStore interface {
	DirectoryStore
	ledger.Journal
	ledger.Events
	ledger.Records
	EventMinutes(ctx context.Context, m ledger.Month) (map[uuid.UUID]int64, error)
	LateService(ctx context.Context, m ledger.Month) ([]ledger.LateService, error)
}

// OpenEvents opens a fresh, empty store whose clock is clock.
type OpenEvents func(t *testing.T, clock func() time.Time) EventsStore

// RunEvents runs the conformance tests of events, check-in and check-out.
func RunEvents(t *testing.T, open OpenEvents) {
	tests := []struct {
		name string
		fn   func(*testing.T, OpenEvents)
	}{
		{"ScanInOutAndFinalize", testScanInOutAndFinalize},
		{"BackfillAndDailyCap", testBackfillAndDailyCap},
		{"ScanRefusals", testScanRefusals},
		{"FiveHundredAtOnce", testFiveHundredAtOnce},
		{"CorrectPosted", testCorrectPosted},
		{"CorrectionsKeepTheLedgerTrue", testCorrectionsKeepTheLedgerTrue},
		{"LateCheckout", testLateCheckout},
		{"ImportLeavesEmptyCellsAlone", testImportLeavesEmptyCellsAlone},
		{"ForgottenCheckoutDoesNotBlockElsewhere", testForgottenCheckoutDoesNotBlockElsewhere},
		{"RepeatAfterCheckout", testRepeatAfterCheckout},
		{"CheckoutAll", testCheckoutAll},
		{"ScansRaceAcrossEvents", testScansRaceAcrossEvents},
		{"OrganiserTogglesRace", testOrganiserTogglesRace},
		{"FinaliseRacesScans", testFinaliseRacesScans},
		{"ConfirmAfterPostedReject", testConfirmAfterPostedReject},
		{"ServiceByPostingMonth", testServiceByPostingMonth},
		{"Certificates", testCertificates},
		{"ScanAnswered", testScanAnswered},
		{"CapacityRace", testCapacityRace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// NewEventWorld opens a store with the Tree, an event of community A at 09:00
// to 12:00 in Shanghai on 21 November 2026 (the clock ten minutes before),
// and members of its grid.
func NewEventWorld(t *testing.T, open OpenEvents, members int) (EventsStore, *Clock, Tree, ledger.Event, []ledger.Member) {
	t.Helper()
	start := time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC) // 09:00 in Shanghai
	clock := NewClock(start.Add(-10 * time.Minute))
	s := open(t, clock.Now)
	tr := MakeTree(t, s)
	e, err := s.CreateEvent(ctx, ledger.Event{Title: "东河园环境整治", Category: "环境整治", UnitID: tr.A.ID,
		StartsAt: start, EndsAt: start.Add(3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var ms []ledger.Member
	for i := range members {
		m, err := s.CreateMember(ctx, ledger.Member{Name: fmt.Sprint("志愿者", i), Phone: fmt.Sprintf("1350%07d", i), UnitID: tr.GridA.ID}, "")
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return s, clock, tr, e, ms
}

// ScanAs is a volunteer's scan of the event's code.
func ScanAs(s EventsStore, event, member uuid.UUID) (ledger.Attendance, string, error) {
	d, err := s.Scan(ctx, event, member, ledger.ScanRequest{Source: "scan"})
	return d.Attendance, d.Action, err
}
func testScanInOutAndFinalize(t *testing.T, opener OpenEvents) {
	s, clock, tr, e, ms := NewEventWorld(t, opener, 2)
	m := ms[0]
	a, action, err := ScanAs(s, e.ID, m.ID)
	if err != nil || action != ledger.ActionIn || a.Status != ledger.AttendanceOpen {
		t.Fatalf("check in: %+v %s %v", a, action, err)
	}
	// The second member checks in and never out.
	if _, _, err := ScanAs(s, e.ID, ms[1].ID); err != nil {
		t.Fatal(err)
	}
	// Checked in here while it runs, so another event refuses them, and offers to end this one.
	other, _ := s.CreateEvent(ctx, ledger.Event{Title: "义诊", Category: "医疗义诊", UnitID: tr.A.ID, StartsAt: e.StartsAt, EndsAt: e.EndsAt})
	_, _, err = ScanAs(s, other.ID, m.ID)
	wantCode(t, err, ledger.ECONFLICT, "checkin.elsewhere")
	if le, _ := ledger.AsError(err); le.Fields["can_end"] != true {
		t.Fatalf("the refusal does not offer to end the other check-in: %v", le.Fields)
	}

	clock.Add(2*time.Hour + 25*time.Minute) // 11:15: 2 h 15 min counted from 09:00
	a, action, err = ScanAs(s, e.ID, m.ID)
	if err != nil || action != ledger.ActionOut || a.Minutes != 135 || a.Points != 22 {
		t.Fatalf("check out: %+v %s %v", a, action, err)
	}
	// The event runs until 12:00 and one is still in: finalising asks first and changes nothing.
	_, err = s.FinalizeEvent(ctx, e.ID, "organizer", false)
	wantCode(t, err, ledger.ECONFLICT, "event.finalise_confirm")
	if le, _ := ledger.AsError(err); le.Fields["still_open"] != 1 || le.Fields["running"] != true {
		t.Fatalf("the question says %v", le.Fields)
	}
	if _, err := s.OpenAttendance(ctx, ms[1].ID); err != nil {
		t.Fatalf("an unconfirmed finalise closed an attendance: %v", err)
	}
	res, err := s.FinalizeEvent(ctx, e.ID, "organizer", true)
	if err != nil || res.Posted != 1 || res.Points != 22 || res.Minutes != 135 || res.NoCheckout != 1 {
		t.Fatalf("finalise: %+v %v", res, err)
	}
	b, _ := s.Balance(ctx, ledger.MemberAccount(m.ID))
	if b.Points != 22 || b.ServiceMinutes != 135 {
		t.Fatalf("balance %+v", b)
	}
	again, err := s.FinalizeEvent(ctx, e.ID, "organizer", false)
	if err != nil || again.Posted != 0 || again.Points != 0 {
		t.Fatalf("finalising twice: %+v %v", again, err)
	}
	if b2, _ := s.Balance(ctx, ledger.MemberAccount(m.ID)); b2.Points != 22 {
		t.Fatal("finalising twice posted again")
	}
	// The one still in is 未签退 now: it blocks them nowhere.
	left, _ := s.MemberAttendances(ctx, ms[1].ID, 1)
	if l := left[0]; l.Status != ledger.AttendanceClosed || !l.NoCheckout || l.RuleClosed != ledger.ClosedFinalised || !l.LatestOut.Equal(clock.Now()) {
		t.Fatalf("after finalising: %+v", l)
	}
	if _, action, err := ScanAs(s, other.ID, ms[1].ID); err != nil || action != ledger.ActionIn {
		t.Fatalf("a 未签退 attendance blocked a check-in elsewhere: %s %v", action, err)
	}
	// Its organiser decides what it is worth: never past when it was closed.
	_, err = s.CloseAttendance(ctx, left[0].ID, e.EndsAt, "忘记签退，组织者核实", uuid.Nil)
	wantCode(t, err, ledger.EINVALID, "attendance.close_latest")
	_, err = s.ReviewAttendance(ctx, left[0].ID, ledger.ReviewConfirm, 0, "", uuid.Nil)
	wantCode(t, err, ledger.ECONFLICT, "attendance.needs_time")
	got, err := s.CloseAttendance(ctx, left[0].ID, left[0].LatestOut, "忘记签退，组织者核实", uuid.Nil)
	// The event is finalised: it is posted at once. 08:50 to 11:15 counts from 09:00: 135 minutes.
	if err != nil || got.Status != ledger.AttendancePosted || got.Minutes != 135 || !got.NoCheckout {
		t.Fatalf("closing the 未签退: %+v %v", got, err)
	}
	if b, _ := s.Balance(ctx, ledger.MemberAccount(ms[1].ID)); b.Points != 22 || b.ServiceMinutes != 135 {
		t.Fatalf("balance of the one who forgot: %+v", b)
	}
	if res, _ := s.FinalizeEvent(ctx, e.ID, "organizer", false); res.Posted != 0 {
		t.Fatalf("finalising again after the close: %+v", res)
	}
}
func testBackfillAndDailyCap(t *testing.T, opener OpenEvents) {
	s, clock, tr, e, ms := NewEventWorld(t, opener, 1)
	m := ms[0]
	clock.Set(e.EndsAt.Add(12 * time.Hour)) // the paper sheets come in the evening
	_, err := s.Backfill(ctx, e.ID, m.ID, e.StartsAt.Add(-time.Hour), e.StartsAt.Add(time.Hour), "纸质签到表", uuid.Nil)
	wantCode(t, err, ledger.EINVALID, "attendance.backfill_window")
	a, err := s.Backfill(ctx, e.ID, m.ID, e.StartsAt, e.EndsAt, "纸质签到表", uuid.Nil)
	if err != nil || a.Minutes != 180 || a.Source != ledger.ActionBackfill {
		t.Fatalf("backfill: %+v %v", a, err)
	}
	_, err = s.Backfill(ctx, e.ID, m.ID, e.StartsAt.Add(time.Hour), e.EndsAt, "重复", uuid.Nil)
	wantCode(t, err, ledger.ECONFLICT, "checkin.overlap")
	// A second, long event the same day: the daily cap of 8 h counts only 5 h more.
	long, err := s.CreateEvent(ctx, ledger.Event{Title: "值守", Category: "应急抢险", UnitID: tr.A.ID,
		StartsAt: e.EndsAt, EndsAt: e.EndsAt.Add(10 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backfill(ctx, long.ID, m.ID, long.StartsAt, long.EndsAt, "值班表", uuid.Nil); err != nil {
		t.Fatal(err)
	}
	clock.Set(long.EndsAt.Add(time.Hour))
	s.FinalizeEvent(ctx, e.ID, "x", true)
	res, err := s.FinalizeEvent(ctx, long.ID, "x", true)
	if err != nil || res.Minutes != 300 || res.Points != 50 {
		t.Fatalf("daily cap: %+v %v", res, err)
	}
	if b, _ := s.Balance(ctx, ledger.MemberAccount(m.ID)); b.ServiceMinutes != 480 || b.Points != 80 {
		t.Fatalf("balance %+v", b)
	}
}
func testScanRefusals(t *testing.T, opener OpenEvents) {
	s, clock, _, e, ms := NewEventWorld(t, opener, 1)
	clock.Set(e.StartsAt.Add(-31 * time.Minute))
	_, _, err := ScanAs(s, e.ID, ms[0].ID)
	wantCode(t, err, ledger.ECONFLICT, "checkin.too_early")
	clock.Set(e.EndsAt.Add(time.Minute))
	_, _, err = ScanAs(s, e.ID, ms[0].ID)
	wantCode(t, err, ledger.EGONE, "checkin.event_over")
	_, _, err = ScanAs(s, uuid.New(), ms[0].ID)
	wantCode(t, err, ledger.ENOTFOUND, "event.not_found")
	if n, _ := s.Attendances(ctx, e.ID); len(n) != 0 {
		t.Fatal("a refused scan recorded an attendance")
	}
}

// testFiveHundredAtOnce checks 500 volunteers in at once, then out: each
// attendance is recorded once, and the points posted equal the rules' sum.
func testFiveHundredAtOnce(t *testing.T, opener OpenEvents) {
	n := 500
	if testing.Short() {
		n = 100
	}
	s, clock, _, e, ms := NewEventWorld(t, opener, n)
	// Every phone sends its check-in twice, at once: a repeat within the
	// repeat window is the same check-in, not a check-out.
	var wg sync.WaitGroup
	for _, m := range ms {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, a, err := ScanAs(s, e.ID, m.ID); err != nil || (a != ledger.ActionIn && a != ledger.ActionRepeat) {
					t.Errorf("in: %s %v", a, err)
				}
			}()
		}
	}
	wg.Wait()
	clock.Set(e.StartsAt.Add(97 * time.Minute))
	var want int64
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, a, err := ScanAs(s, e.ID, m.ID); err != nil || a != ledger.ActionOut {
				t.Errorf("out %d: %s %v", i, a, err)
			}
		}()
		want += ledger.PointsFor(97, e.PointsPerHour)
	}
	wg.Wait()
	atts, _ := s.Attendances(ctx, e.ID)
	if len(atts) != n {
		t.Fatalf("%d attendances for %d volunteers", len(atts), n)
	}
	res, err := s.FinalizeEvent(ctx, e.ID, "organizer", true)
	if err != nil || res.Posted != n || res.Points != want {
		t.Fatalf("finalise: %+v %v, want %d points", res, err, want)
	}
}

// testCorrectPosted corrects posted attendances: an adjustment reverses the
// entry and posts a new one; a rejection only reverses; nothing is edited.
func testCorrectPosted(t *testing.T, opener OpenEvents) {
	s, clock, _, e, ms := NewEventWorld(t, opener, 2)
	clock.Set(e.EndsAt)
	for _, m := range ms {
		if _, err := s.Backfill(ctx, e.ID, m.ID, e.StartsAt, e.StartsAt.Add(2*time.Hour), "纸质签到表", uuid.Nil); err != nil {
			t.Fatal(err)
		}
	}
	clock.Set(e.EndsAt)
	if res, err := s.FinalizeEvent(ctx, e.ID, "x", true); err != nil || res.Points != 40 {
		t.Fatalf("finalise %+v %v", res, err)
	}
	atts, _ := s.Attendances(ctx, e.ID)
	_, err := s.ReviewAttendance(ctx, atts[0].ID, ledger.ReviewConfirm, 0, "", uuid.Nil)
	wantCode(t, err, ledger.ECONFLICT, "attendance.already_posted")
	a, err := s.ReviewAttendance(ctx, atts[0].ID, ledger.ReviewAdjust, 90, "提前离开", uuid.Nil)
	if err != nil || a.Minutes != 90 || a.Points != 15 || a.Status != ledger.AttendancePosted {
		t.Fatalf("adjust: %+v %v", a, err)
	}
	b, _ := s.Balance(ctx, ledger.MemberAccount(ms[0].ID))
	if b.Points != 15 || b.ServiceMinutes != 90 {
		t.Fatalf("after adjusting: %+v", b)
	}
	list, _ := s.AccountEntries(ctx, ledger.MemberAccount(ms[0].ID), 0, 10)
	if len(list) != 3 || list[1].Kind != ledger.KindReverse || list[0].Kind != ledger.KindEarn || list[2].Amount != 20 {
		t.Fatalf("the journal should hold earn 20, its reverse, earn 15: %+v", list)
	}
	// The second member spends 15 of their 20 points: rejecting cannot take
	// back what is gone, and nothing changes.
	if _, err := s.Append(ctx, ledger.Transfer{Debit: ledger.MemberAccount(ms[1].ID), Credit: ledger.Escrow, Amount: 15, Kind: ledger.KindHold}); err != nil {
		t.Fatal(err)
	}
	_, err = s.ReviewAttendance(ctx, atts[1].ID, ledger.ReviewReject, 0, "冒名签到", uuid.Nil)
	wantCode(t, err, ledger.ECONFLICT, "entry.insufficient")
	if again, _ := s.Attendance(ctx, atts[1].ID); again.Status != ledger.AttendancePosted || again.Points != 20 {
		t.Fatalf("a refused correction changed the attendance: %+v", again)
	}
}

// testCorrectionsKeepTheLedgerTrue runs reviews back and forth on posted
// attendances; after each step every member's balance must equal the points
// of their posted attendances.
func testCorrectionsKeepTheLedgerTrue(t *testing.T, opener OpenEvents) {
	s, clock, tr, e, ms := NewEventWorld(t, opener, 1)
	m := ms[0]
	clock.Set(e.EndsAt)
	a, err := s.Backfill(ctx, e.ID, m.ID, e.StartsAt, e.StartsAt.Add(5*time.Minute), "纸质签到表", uuid.Nil) // 0 points
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string) {
		t.Helper()
		atts, _ := s.MemberAttendances(ctx, m.ID, 100)
		var want int64
		for _, a := range atts {
			if a.Status == ledger.AttendancePosted {
				want += a.Points
			}
		}
		if b, _ := s.Balance(ctx, ledger.MemberAccount(m.ID)); b.Points != want {
			t.Fatalf("%s: balance %d, posted attendances say %d", step, b.Points, want)
		}
	}
	s.FinalizeEvent(ctx, e.ID, "x", true)
	check("finalised")
	for i, step := range []struct {
		decision string
		minutes  int64
	}{{"adjust", 60}, {"adjust", 0}, {"adjust", 60}, {"reject", 0}, {"adjust", 90}, {"reject", 0}} {
		_, err := s.ReviewAttendance(ctx, a.ID, step.decision, step.minutes, fmt.Sprint("更正", i), uuid.Nil)
		if err != nil && !(step.decision == "reject" && ledger.ErrorCode(err) == ledger.ECONFLICT) {
			t.Fatalf("step %d %s: %v", i, step.decision, err)
		}
		check(fmt.Sprint("step ", i))
		s.FinalizeEvent(ctx, e.ID, "x", true) // posts a rejected-then-confirmed attendance anew, nothing else
		check(fmt.Sprint("step ", i, " finalised again"))
	}
	// A rejected attendance cannot come back over time another one claimed since.
	e2, _ := s.CreateEvent(ctx, ledger.Event{Title: "宣讲", Category: "政策宣讲", UnitID: tr.A.ID, StartsAt: e.StartsAt, EndsAt: e.EndsAt})
	b, err := s.Backfill(ctx, e2.ID, m.ID, e.StartsAt.Add(time.Hour), e.StartsAt.Add(2*time.Hour), "纸质签到表", uuid.Nil)
	if err != nil {
		t.Fatal(err)
	}
	s.ReviewAttendance(ctx, b.ID, ledger.ReviewReject, 0, "重复", uuid.Nil)
	other, _ := s.CreateEvent(ctx, ledger.Event{Title: "义诊", Category: "医疗义诊", UnitID: tr.A.ID, StartsAt: e.StartsAt, EndsAt: e.EndsAt})
	if _, err := s.Backfill(ctx, other.ID, m.ID, e.StartsAt.Add(time.Hour), e.StartsAt.Add(2*time.Hour), "纸质签到表", uuid.Nil); err != nil {
		t.Fatal(err)
	}
	_, err = s.ReviewAttendance(ctx, b.ID, ledger.ReviewConfirm, 0, "", uuid.Nil)
	wantCode(t, err, ledger.ECONFLICT, "checkin.overlap")
}

// testLateCheckout: a scan long after the end is no check-out any more: the
// attendance becomes 未签退, counted up to the end only if its organiser says so.
func testLateCheckout(t *testing.T, opener OpenEvents) {
	s, clock, _, e, ms := NewEventWorld(t, opener, 1)
	clock.Set(e.StartsAt)
	if _, _, err := ScanAs(s, e.ID, ms[0].ID); err != nil {
		t.Fatal(err)
	}
	clock.Set(e.EndsAt.Add(72 * time.Hour))
	a, action, err := ScanAs(s, e.ID, ms[0].ID)
	if err != nil || action != ledger.ActionNoCheckout || !a.AwaitsTime() || a.RuleClosed != ledger.ClosedEventOver || !a.LatestOut.Equal(e.EndsAt) {
		t.Fatalf("late scan: %s %+v %v", action, a, err)
	}
	if _, err := s.OpenAttendance(ctx, ms[0].ID); ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Fatalf("still open: %v", err)
	}
	// Finalised, it waits for its organiser and posts nothing.
	if res, err := s.FinalizeEvent(ctx, e.ID, "organizer", false); err != nil || res.Posted != 0 || res.NoCheckout != 1 {
		t.Fatalf("finalise: %+v %v", res, err)
	}
}
func testImportLeavesEmptyCellsAlone(t *testing.T, opener OpenEvents) {
	s, _, tr, _, _ := NewEventWorld(t, opener, 0)
	streetTeam, _ := s.CreateTeam(ctx, ledger.Team{Name: "街道应急队", Kind: ledger.TeamVolunteer, UnitID: tr.Street.ID})
	m, err := s.CreateMember(ctx, ledger.Member{Name: "老党员", Phone: "13600000001", UnitID: tr.GridA.ID, PartyMember: true,
		Status: ledger.MemberSuspended, TeamIDs: []uuid.UUID{streetTeam.ID, tr.TeamA.ID},
		OnDuty: &ledger.OnDuty{WorkUnit: "区医院", ReportedAt: "2026-03-05", AnnualTargetHours: 50}}, "")
	if err != nil {
		t.Fatal(err)
	}
	// A's organiser imports the phone with a new employer and no teams; the
	// party and status cells are empty, so they are not present.
	item := ledger.ImportItem{Row: 2, Member: ledger.Member{Name: "老党员", Phone: "13600000001", UnitID: tr.GridA.ID,
		OnDuty: &ledger.OnDuty{WorkUnit: "区卫健委"}}, Present: []string{"name", "phone", "unit", "work_unit", "teams"}}
	res, err := s.ImportMembers(ctx, ledger.Scope{Unit: tr.A.ID}, []ledger.ImportItem{item}, false)
	if err != nil || res.Updated != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	got, _ := s.Member(ctx, m.ID)
	if !got.PartyMember || got.Status != ledger.MemberSuspended || got.OnDuty.ReportedAt != "2026-03-05" ||
		got.OnDuty.AnnualTargetHours != 50 || got.OnDuty.WorkUnit != "区卫健委" {
		t.Fatalf("import changed more than it gave: %+v %+v", got, got.OnDuty)
	}
	if len(got.TeamIDs) != 1 || got.TeamIDs[0] != streetTeam.ID {
		t.Fatalf("teams %v: the street's team (outside A) must stay, A's team go", got.TeamIDs)
	}
	if u, _ := s.UserByLogin(ctx, "13600000001"); !u.Disabled {
		t.Fatal("the import re-enabled a suspended member's login")
	}
}

// testForgottenCheckoutDoesNotBlockElsewhere: a volunteer who forgot to
// check out of one community's event checks in at another community's event,
// once the first is over, and also while it still runs if they agree to end it.
func testForgottenCheckoutDoesNotBlockElsewhere(t *testing.T, opener OpenEvents) {
	s, clock, tr, e, ms := NewEventWorld(t, opener, 1)
	m := ms[0]
	clock.Set(e.StartsAt)
	if _, _, err := ScanAs(s, e.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	// The afternoon, in the other community.
	after, err := s.CreateEvent(ctx, ledger.Event{Title: "西湖助老", Category: "助老助残", UnitID: tr.B.ID,
		StartsAt: e.EndsAt.Add(2 * time.Hour), EndsAt: e.EndsAt.Add(4 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(after.StartsAt)
	d, err := s.Scan(ctx, after.ID, m.ID, ledger.ScanRequest{Source: "scan"})
	if err != nil || d.Action != ledger.ActionIn || d.Closed == nil || d.Closed.EventID != e.ID || d.Closed.RuleClosed != ledger.ClosedEventOver {
		t.Fatalf("check-in elsewhere after forgetting: %+v %v", d, err)
	}
	first, _ := s.Attendance(ctx, d.Closed.ID)
	if !first.AwaitsTime() || !first.LatestOut.Equal(e.EndsAt) {
		t.Fatalf("the forgotten one: %+v", first)
	}
	// While the afternoon runs, an evening event elsewhere refuses, unless they agree.
	evening, _ := s.CreateEvent(ctx, ledger.Event{Title: "夜间巡逻", Category: "治安巡逻", UnitID: tr.A.ID,
		StartsAt: after.StartsAt.Add(time.Hour), EndsAt: after.EndsAt.Add(2 * time.Hour)})
	clock.Set(evening.StartsAt)
	_, err = s.Scan(ctx, evening.ID, m.ID, ledger.ScanRequest{Source: "scan"})
	wantCode(t, err, ledger.ECONFLICT, "checkin.elsewhere")
	_, err = s.Scan(ctx, evening.ID, m.ID, ledger.ScanRequest{Source: "organizer", Want: ledger.ActionIn, EndOther: true})
	wantCode(t, err, ledger.ECONFLICT, "checkin.elsewhere_other") // an organiser cannot end it for them
	d, err = s.Scan(ctx, evening.ID, m.ID, ledger.ScanRequest{Source: "scan", EndOther: true})
	if err != nil || d.Action != ledger.ActionIn || d.Closed == nil || d.Closed.RuleClosed != ledger.ClosedElsewhere || !d.Closed.LatestOut.Equal(evening.StartsAt) {
		t.Fatalf("ending the afternoon: %+v %v", d, err)
	}
	// The afternoon's organiser can count it up to when they left, not beyond: that time is the evening's.
	_, err = s.CloseAttendance(ctx, d.Closed.ID, after.EndsAt, "核实", uuid.Nil)
	wantCode(t, err, ledger.EINVALID, "attendance.close_latest")
	if got, err := s.CloseAttendance(ctx, d.Closed.ID, evening.StartsAt, "核实", uuid.Nil); err != nil || got.Minutes != 60 {
		t.Fatalf("closing the afternoon: %+v %v", got, err)
	}
	if rep, err := s.Verify(ctx); err != nil || !rep.OK {
		t.Fatalf("verify %+v %v", rep, err)
	}
}

// testRepeatAfterCheckout: a second scan soon after checking out is the same
// check-out, not a new check-in.
func testRepeatAfterCheckout(t *testing.T, opener OpenEvents) {
	s, clock, _, e, ms := NewEventWorld(t, opener, 1)
	clock.Set(e.StartsAt)
	ScanAs(s, e.ID, ms[0].ID)
	clock.Add(time.Hour)
	out, action, err := ScanAs(s, e.ID, ms[0].ID)
	if err != nil || action != ledger.ActionOut {
		t.Fatalf("out: %s %v", action, err)
	}
	clock.Add(20 * time.Second)
	again, action, err := ScanAs(s, e.ID, ms[0].ID)
	if err != nil || action != ledger.ActionRepeat || again.ID != out.ID || again.Status != ledger.AttendanceClosed {
		t.Fatalf("20 s after checking out: %s %+v %v", action, again, err)
	}
	if total, open, _ := s.EventCounts(ctx, e.ID); total != 1 || open != 0 {
		t.Fatalf("counts %d %d", total, open)
	}
	clock.Add(3 * time.Minute) // past the window: a new check-in
	if _, action, err := ScanAs(s, e.ID, ms[0].ID); err != nil || action != ledger.ActionIn {
		t.Fatalf("later: %s %v", action, err)
	}
}
func testCheckoutAll(t *testing.T, opener OpenEvents) {
	s, clock, _, e, ms := NewEventWorld(t, opener, 3)
	clock.Set(e.StartsAt)
	for _, m := range ms[:2] {
		ScanAs(s, e.ID, m.ID)
	}
	clock.Add(30 * time.Minute)
	ScanAs(s, e.ID, ms[2].ID)
	clock.Set(e.StartsAt.Add(2 * time.Hour))
	head, _, _ := s.Head(ctx)
	_, err := s.CheckoutAll(ctx, e.ID, ledger.CheckoutAtEnd, "活动结束", uuid.Nil)
	wantCode(t, err, ledger.EINVALID, "attendance.end_in_future")
	_, err = s.CheckoutAll(ctx, e.ID, ledger.CheckoutAtNow, "", uuid.Nil)
	wantCode(t, err, ledger.EINVALID, "attendance.reason_required")
	got, err := s.CheckoutAll(ctx, e.ID, ledger.CheckoutAtNow, "活动提前结束，统一签退", uuid.Nil)
	if err != nil || len(got) != 3 || got[0].Minutes != 120 || got[2].Minutes != 90 || got[1].Reason != "活动提前结束，统一签退" {
		t.Fatalf("checkout all: %+v %v", got, err)
	}
	if _, open, _ := s.EventCounts(ctx, e.ID); open != 0 {
		t.Fatalf("%d still open", open)
	}
	if again, err := s.CheckoutAll(ctx, e.ID, ledger.CheckoutAtNow, "再次", uuid.Nil); err != nil || len(again) != 0 {
		t.Fatalf("twice: %+v %v", again, err)
	}
	if h, _, _ := s.Head(ctx); h != head {
		t.Fatal("checking out wrote to the journal")
	}
}

// testScansRaceAcrossEvents: one volunteer's phone scans two events' codes
// at once, again and again, agreeing to end the other each time. At no time
// are they checked in twice, and no two attendances share time.
func testScansRaceAcrossEvents(t *testing.T, opener OpenEvents) {
	s, clock, tr, e, ms := NewEventWorld(t, opener, 1)
	other, _ := s.CreateEvent(ctx, ledger.Event{Title: "西湖宣讲", Category: "政策宣讲", UnitID: tr.B.ID, StartsAt: e.StartsAt, EndsAt: e.EndsAt})
	clock.Set(e.StartsAt)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := e
			if i%2 == 1 {
				ev = other
			}
			clock.Add(3 * time.Minute) // past the repeat window each time
			if _, err := s.Scan(ctx, ev.ID, ms[0].ID, ledger.ScanRequest{Source: "scan", EndOther: true}); err != nil && ledger.ErrorCode(err) != ledger.ECONFLICT && ledger.ErrorCode(err) != ledger.EGONE {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	atts, _ := s.MemberAttendances(ctx, ms[0].ID, 100)
	open := 0
	for i, a := range atts {
		if a.Status == ledger.AttendanceOpen {
			open++
		}
		for _, b := range atts[i+1:] {
			if a.Occupies(b.CheckedInAt, b.End()) && b.Occupies(a.CheckedInAt, a.End()) {
				t.Fatalf("two attendances share time: %+v and %+v", a, b)
			}
		}
	}
	if open > 1 || len(atts) < 2 {
		t.Fatalf("%d open of %d", open, len(atts))
	}
}

// testOrganiserTogglesRace: 16 organisers hold the same member's card to
// their cameras at once (a toggle: in or out as the member's state says, in
// the scan's one transaction). At one instant, one checks in and the rest
// repeat it; with the clock past the repeat window at every scan, the
// toggles alternate in and out. Never two attendances open.
func testOrganiserTogglesRace(t *testing.T, opener OpenEvents) {
	s, clock, _, e, ms := NewEventWorld(t, opener, 2)
	clock.Set(e.StartsAt.Add(10 * time.Minute))
	toggleAll := func(member uuid.UUID) []ledger.ScanDecision {
		out := make([]ledger.ScanDecision, 16)
		var wg sync.WaitGroup
		for i := range out {
			wg.Go(func() {
				d, err := s.Scan(ctx, e.ID, member, ledger.ScanRequest{Source: "organizer", By: uuid.New()})
				if err != nil {
					t.Error(err)
				}
				out[i] = d
			})
		}
		wg.Wait()
		return out
	}
	count := func(ds []ledger.ScanDecision) map[string]int {
		n := map[string]int{}
		for _, d := range ds {
			n[d.Action]++
		}
		return n
	}

	// One instant: one check-in, repeated.
	ds := toggleAll(ms[0].ID)
	if n := count(ds); n[ledger.ActionIn] != 1 || n[ledger.ActionRepeat] != 15 {
		t.Fatalf("at one instant: %v", n)
	}
	open, err := s.OpenAttendance(ctx, ms[0].ID)
	for _, d := range ds {
		if err != nil || d.Attendance.ID != open.ID {
			t.Fatalf("a toggle answered with %+v, open %+v %v", d.Attendance, open, err)
		}
	}
	if atts, _ := s.MemberAttendances(ctx, ms[0].ID, 100); len(atts) != 1 {
		t.Fatalf("%d attendances", len(atts))
	}

	// Each scan three minutes after the one before: in, out, in, out...
	clock.Step(3 * time.Minute)
	ds = toggleAll(ms[1].ID)
	clock.Step(0)
	if n := count(ds); n[ledger.ActionIn] != 8 || n[ledger.ActionOut] != 8 {
		t.Fatalf("three minutes apart: %v", n)
	}
	at := func(d ledger.ScanDecision) time.Time {
		if d.Action == ledger.ActionOut {
			return d.Attendance.CheckedOutAt
		}
		return d.Attendance.CheckedInAt
	}
	slices.SortFunc(ds, func(a, b ledger.ScanDecision) int { return at(a).Compare(at(b)) })
	for i, d := range ds {
		if want := []string{ledger.ActionIn, ledger.ActionOut}[i%2]; d.Action != want || (i%2 == 1 && d.Attendance.ID != ds[i-1].Attendance.ID) {
			t.Fatalf("toggle %d: %s of %v, want %s", i, d.Action, d.Attendance.ID, want)
		}
	}
	atts, _ := s.MemberAttendances(ctx, ms[1].ID, 100)
	for i, a := range atts {
		if a.Status != ledger.AttendanceClosed || a.Minutes != 3 {
			t.Fatalf("%+v", a)
		}
		for _, b := range atts[i+1:] {
			if a.Occupies(b.CheckedInAt, b.End()) {
				t.Fatalf("two attendances share time: %+v and %+v", a, b)
			}
		}
	}
	if _, err := s.OpenAttendance(ctx, ms[1].ID); len(atts) != 8 || ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Fatalf("%d attendances, open: %v", len(atts), err)
	}
	if total, open, _ := s.EventCounts(ctx, e.ID); total != 9 || open != 1 {
		t.Fatalf("counts %d, %d open", total, open)
	}
}

// testFinaliseRacesScans throws scans, a check-out of all, the overdue sweep
// and finalising at one event at once. Whatever order they meet in, nobody
// is left checked in, every attendance is posted once or waits as 未签退,
// and the journal agrees with the attendances (checked at the end).
func testFinaliseRacesScans(t *testing.T, opener OpenEvents) {
	n := 40
	s, clock, _, e, ms := NewEventWorld(t, opener, n)
	clock.Set(e.StartsAt.Add(90 * time.Minute))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1 + i%3 { // in, out, in again
				if _, _, err := ScanAs(s, e.ID, m.ID); err != nil && ledger.ErrorCode(err) != ledger.ECONFLICT {
					t.Error(err)
				}
			}
		}()
	}
	for _, op := range []func() error{
		func() error {
			_, err := s.CheckoutAll(ctx, e.ID, ledger.CheckoutAtNow, "统一签退", uuid.Nil)
			return err
		},
		func() error { _, err := s.FinalizeEvent(ctx, e.ID, "x", true); return err },
		func() error { _, err := s.CloseOverdueAttendances(ctx); return err },
		func() error { _, err := s.FinalizeEvent(ctx, e.ID, "x", true); return err },
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := op(); err != nil && ledger.ErrorCode(err) != ledger.ECONFLICT {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, err := s.FinalizeEvent(ctx, e.ID, "x", true); err != nil {
		t.Fatal(err)
	}
	atts, _ := s.Attendances(ctx, e.ID)
	for _, a := range atts {
		if a.Status != ledger.AttendancePosted && !a.AwaitsTime() {
			t.Fatalf("after finalising: %+v", a)
		}
	}
	if _, open, _ := s.EventCounts(ctx, e.ID); open != 0 {
		t.Fatalf("%d still open", open)
	}
	// Scans after finalising open nothing. (Right after checking out, a scan
	// repeats the check-out: past the repeat window, it is refused.)
	clock.Add(3 * time.Minute)
	for _, m := range ms[:5] {
		if _, _, err := ScanAs(s, e.ID, m.ID); ledger.ErrorCode(err) != ledger.ECONFLICT {
			t.Fatalf("a scan after finalising: %v", err)
		}
	}
}

// testConfirmAfterPostedReject: an attendance posted, rejected by a
// correction and confirmed again at the finalised event comes back with its
// minutes and points, as one rejected before posting does.
func testConfirmAfterPostedReject(t *testing.T, opener OpenEvents) {
	s, clock, _, e, ms := NewEventWorld(t, opener, 2)
	clock.Set(e.EndsAt)
	for _, m := range ms {
		if _, err := s.Backfill(ctx, e.ID, m.ID, e.StartsAt, e.StartsAt.Add(2*time.Hour), "纸质签到表", uuid.Nil); err != nil {
			t.Fatal(err)
		}
	}
	atts, _ := s.Attendances(ctx, e.ID)
	if _, err := s.ReviewAttendance(ctx, atts[1].ID, ledger.ReviewReject, 0, "待核实", uuid.Nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinalizeEvent(ctx, e.ID, "x", true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReviewAttendance(ctx, atts[0].ID, ledger.ReviewReject, 0, "冒名", uuid.Nil); err != nil {
		t.Fatal(err)
	}
	for i, a := range atts {
		got, err := s.ReviewAttendance(ctx, a.ID, ledger.ReviewConfirm, 0, "", uuid.Nil)
		if err != nil || got.Status != ledger.AttendancePosted || got.Minutes != 120 || got.Points != 20 {
			t.Fatalf("attendance %d confirmed again: %+v %v", i, got, err)
		}
		if b, _ := s.Balance(ctx, ledger.MemberAccount(ms[i].ID)); b.Points != 20 || b.ServiceMinutes != 120 {
			t.Fatalf("member %d: %+v", i, b)
		}
	}
}

// testServiceByPostingMonth: service counts in the month it was posted; a
// back-fill of last month's event posted this month is late service of this
// month; a correction a month later takes its minutes back in that month.
func testServiceByPostingMonth(t *testing.T, opener OpenEvents) {
	s, clock, _, e, ms := NewEventWorld(t, opener, 2) // 21 November
	clock.Set(e.EndsAt.Add(time.Hour))
	a, err := s.Backfill(ctx, e.ID, ms[0].ID, e.StartsAt, e.EndsAt, "纸质签到表", uuid.Nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinalizeEvent(ctx, e.ID, "x", true); err != nil {
		t.Fatal(err)
	}
	// On 2 December the first member is found to have left half an hour early.
	clock.Set(time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC))
	if _, err := s.ReviewAttendance(ctx, a.ID, ledger.ReviewAdjust, 150, "提前离开", uuid.Nil); err != nil {
		t.Fatal(err)
	}
	nov, dec := ledger.Month(202611), ledger.Month(202612)
	got := func(m ledger.Month) map[uuid.UUID]int64 {
		t.Helper()
		out, err := s.EventMinutes(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if g := got(nov); !maps.Equal(g, map[uuid.UUID]int64{e.ID: 180}) {
		t.Fatalf("November %v", g)
	}
	if g := got(dec); !maps.Equal(g, map[uuid.UUID]int64{e.ID: -30}) {
		t.Fatalf("December %v", g)
	}
	late, err := s.LateService(ctx, dec)
	if err != nil || len(late) != 1 || late[0].AttendanceID != a.ID || late[0].Minutes != -30 || !late[0].Backfilled ||
		!late[0].PostedAt.Equal(clock.Now()) {
		t.Fatalf("late %+v %v", late, err)
	}
	if late, _ := s.LateService(ctx, nov); len(late) != 0 {
		t.Fatalf("November's own service is not late: %+v", late)
	}
	// The lines of a period: November's has the first posting, December's the correction.
	lines, _ := s.ServiceLines(ctx, ms[0].ID, time.Date(2026, 11, 1, 0, 0, 0, 0, Shanghai), time.Date(2026, 12, 1, 0, 0, 0, 0, Shanghai))
	if len(lines) != 1 || lines[0].Minutes != 180 || lines[0].Late {
		t.Fatalf("November's lines %+v", lines)
	}
	lines, _ = s.ServiceLines(ctx, ms[0].ID, time.Date(2026, 12, 1, 0, 0, 0, 0, Shanghai), time.Date(2027, 1, 1, 0, 0, 0, 0, Shanghai))
	if len(lines) != 1 || lines[0].Minutes != -30 || !lines[0].Late {
		t.Fatalf("December's lines %+v", lines)
	}
	lines, _ = s.ServiceLines(ctx, ms[0].ID, time.Date(2026, 10, 1, 0, 0, 0, 0, Shanghai), time.Date(2027, 1, 1, 0, 0, 0, 0, Shanghai))
	if len(lines) != 1 || lines[0].Minutes != 150 {
		t.Fatalf("the quarter nets the correction: %+v", lines)
	}
}

// testCertificates: a certificate issued is read back by its serial, in
// any case; an unknown serial is not found.
func testCertificates(t *testing.T, opener OpenEvents) {
	s, _, tr, _, ms := NewEventWorld(t, opener, 1)
	c, err := s.IssueCertificate(ctx, ledger.Certificate{MemberID: ms[0].ID, UnitID: tr.A.ID, Minutes: 180})
	must(t, err)
	if len(c.Serial) != 13 || c.IssuedAt.IsZero() {
		t.Fatalf("certificate %+v", c)
	}
	got, err := s.Certificate(ctx, strings.ToLower(c.Serial))
	if err != nil || got.Serial != c.Serial || got.Minutes != 180 || got.MemberID != ms[0].ID {
		t.Fatalf("read back %+v %v", got, err)
	}
	_, err = s.Certificate(ctx, c.Serial[:5]+"00000000")
	if ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Fatalf("an unknown serial: %v", err)
	}
}

// testScanAnswered: a scan's answer names the member and the event's unit
// and counts the event's attendances after the scan.
func testScanAnswered(t *testing.T, opener OpenEvents) {
	s, clock, tr, e, ms := NewEventWorld(t, opener, 2)
	clock.Set(e.StartsAt)
	a, err := s.ScanAnswered(ctx, e.ID, ms[0].ID, ledger.ScanRequest{Source: "scan"})
	if err != nil || a.Action != ledger.ActionIn || a.MemberName != ms[0].Name || a.UnitName != tr.A.Name || a.Total != 1 || a.Open != 1 {
		t.Fatalf("check-in answer %+v %v", a, err)
	}
	_, err = s.ScanAnswered(ctx, e.ID, ms[1].ID, ledger.ScanRequest{Source: "scan"})
	must(t, err)
	clock.Add(time.Hour)
	a, err = s.ScanAnswered(ctx, e.ID, ms[0].ID, ledger.ScanRequest{Source: "scan"})
	if err != nil || a.Action != ledger.ActionOut || a.Total != 2 || a.Open != 1 {
		t.Fatalf("check-out answer %+v %v", a, err)
	}
}

// testCapacityRace: 40 volunteers scan into an event with 5 places at
// once. Exactly 5 get in, in some order: their answers count 1 to 5; the
// others hear it is full. Then, at once, the five move on to another event
// (ending their check-in here) and the 35 try again: the places stay
// taken (capacity counts every attendance), and each event's counters
// agree with its attendances throughout.
func testCapacityRace(t *testing.T, opener OpenEvents) {
	s, clock, tr, e, ms := NewEventWorld(t, opener, 40)
	small, err := s.CreateEvent(ctx, ledger.Event{Title: "敬老院慰问", Category: "助老助残", UnitID: tr.A.ID,
		StartsAt: e.StartsAt, EndsAt: e.EndsAt, Capacity: 5})
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(e.StartsAt)
	scanAll := func(event func(i int) uuid.UUID) ([]ledger.ScanAnswer, []error) {
		as, errs := make([]ledger.ScanAnswer, len(ms)), make([]error, len(ms))
		var wg sync.WaitGroup
		for i, m := range ms {
			wg.Go(func() {
				as[i], errs[i] = s.ScanAnswered(ctx, event(i), m.ID, ledger.ScanRequest{Source: "scan", EndOther: true})
			})
		}
		wg.Wait()
		return as, errs
	}
	full := func(err error) bool { e, ok := ledger.AsError(err); return ok && e.Key == "checkin.full" }
	as, errs := scanAll(func(int) uuid.UUID { return small.ID })
	var in []int
	totals := map[int]bool{}
	for i, a := range as {
		switch {
		case errs[i] == nil && a.Action == ledger.ActionIn:
			in = append(in, i)
			totals[a.Total] = true
			if a.Open < 1 || a.Open > a.Total {
				t.Errorf("answer counts %d open of %d", a.Open, a.Total)
			}
		case !full(errs[i]):
			t.Errorf("scan %d: %s %v", i, a.Action, errs[i])
		}
	}
	if len(in) != 5 || len(totals) != 5 || !totals[1] || !totals[5] {
		t.Fatalf("%d got in (answers counted %v), want 5 counted 1 to 5", len(in), totals)
	}
	checkCounts(t, s, small.ID, 5, 5)

	clock.Add(3 * time.Minute)
	took := map[int]bool{}
	for _, i := range in {
		took[i] = true
	}
	as, errs = scanAll(func(i int) uuid.UUID {
		if took[i] {
			return e.ID
		}
		return small.ID
	})
	for i, a := range as {
		if took[i] && (errs[i] != nil || a.Action != ledger.ActionIn || a.Closed == nil || a.ClosedEventTitle != small.Title) {
			t.Errorf("moving on: %+v %v", a, errs[i])
		}
		if !took[i] && !full(errs[i]) {
			t.Errorf("a place left: %s %v", a.Action, errs[i])
		}
	}
	checkCounts(t, s, small.ID, 5, 0)
	checkCounts(t, s, e.ID, 5, 5)
}

// checkCounts checks an event's counters against its attendances, and both
// against what the test expects.
func checkCounts(t *testing.T, s EventsStore, event uuid.UUID, total, open int) {
	t.Helper()
	atts, err := s.Attendances(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range atts {
		if a.Status == ledger.AttendanceOpen {
			n++
		}
	}
	gotTotal, gotOpen, err := s.EventCounts(ctx, event)
	if err != nil || gotTotal != len(atts) || gotOpen != n || gotTotal != total || gotOpen != open {
		t.Fatalf("counters %d/%d (%v), attendances %d/%d, want %d/%d", gotOpen, gotTotal, err, n, len(atts), open, total)
	}
}
