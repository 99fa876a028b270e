package store

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// testClock is a clock tests move by hand, safe for concurrent readers.
type testClock struct{ ns atomic.Int64 }

func newTestClock(t time.Time) *testClock {
	c := &testClock{}
	c.ns.Store(t.UnixNano())
	return c
}
func (c *testClock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) Set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *testClock) Add(d time.Duration) { c.ns.Add(int64(d)) }

func newEventWorld(t *testing.T, members int) (*Store, *testClock, tree, ledger.Event, []ledger.Member) {
	t.Helper()
	start := time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC) // 09:00 in Shanghai
	clock := newTestClock(start.Add(-10 * time.Minute))
	s := openTest(t, Options{Now: clock.Now})
	tr := makeTree(t, s)
	e, err := s.CreateEvent(ctx, ledger.Event{Title: "东河园环境整治", Category: "环境整治", UnitID: tr.a.ID,
		StartsAt: start, EndsAt: start.Add(3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var ms []ledger.Member
	for i := range members {
		m, err := s.CreateMember(ctx, ledger.Member{Name: fmt.Sprint("志愿者", i), Phone: fmt.Sprintf("1350%07d", i), UnitID: tr.gridA.ID}, "")
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return s, clock, tr, e, ms
}

func TestScanInOutAndFinalize(t *testing.T) {
	s, clock, tr, e, ms := newEventWorld(t, 2)
	m := ms[0]
	a, action, err := s.Scan(ctx, e.ID, m.ID, "scan", uuid.Nil)
	if err != nil || action != ledger.ActionIn || a.Status != ledger.AttendanceOpen {
		t.Fatalf("check in: %+v %s %v", a, action, err)
	}
	// Checked in here, so another event refuses them.
	other, _ := s.CreateEvent(ctx, ledger.Event{Title: "义诊", Category: "医疗义诊", UnitID: tr.a.ID, StartsAt: e.StartsAt, EndsAt: e.EndsAt})
	_, _, err = s.Scan(ctx, other.ID, m.ID, "scan", uuid.Nil)
	wantCode(t, err, ledger.ECONFLICT, "checkin.elsewhere")

	clock.Add(2*time.Hour + 25*time.Minute) // 11:15: 2 h 15 min counted from 09:00
	a, action, err = s.Scan(ctx, e.ID, m.ID, "scan", uuid.Nil)
	if err != nil || action != ledger.ActionOut || a.Minutes != 135 || a.Points != 22 {
		t.Fatalf("check out: %+v %s %v", a, action, err)
	}
	// The second member checks in and never out.
	if _, _, err := s.Scan(ctx, e.ID, ms[1].ID, "scan", uuid.Nil); err != nil {
		t.Fatal(err)
	}
	res, err := s.FinalizeEvent(ctx, e.ID, "organizer")
	if err != nil || res.Posted != 1 || res.Points != 22 || res.Minutes != 135 || res.StillOpen != 1 {
		t.Fatalf("finalise: %+v %v", res, err)
	}
	b, _ := s.Balance(ctx, ledger.MemberAccount(m.ID))
	if b.Points != 22 || b.ServiceMinutes != 135 {
		t.Fatalf("balance %+v", b)
	}
	again, err := s.FinalizeEvent(ctx, e.ID, "organizer")
	if err != nil || again.Posted != 0 || again.Points != 0 {
		t.Fatalf("finalising twice: %+v %v", again, err)
	}
	if b2, _ := s.Balance(ctx, ledger.MemberAccount(m.ID)); b2.Points != 22 {
		t.Fatal("finalising twice posted again")
	}
	// The missed check-out is closed by an organiser with a reason, then posted.
	open, _ := s.MemberAttendances(ctx, ms[1].ID, 1)
	_, err = s.CloseAttendance(ctx, open[0].ID, e.EndsAt, "忘记签退", uuid.Nil)
	wantCode(t, err, ledger.EINVALID, "attendance.in_future") // it is 11:15 now
	clock.Set(e.EndsAt.Add(time.Hour))
	_, err = s.CloseAttendance(ctx, open[0].ID, e.EndsAt, "", uuid.Nil)
	wantCode(t, err, ledger.EINVALID, "attendance.reason_required")
	if _, err := s.CloseAttendance(ctx, open[0].ID, e.EndsAt, "忘记签退，组织者核实", uuid.Nil); err != nil {
		t.Fatal(err)
	}
	res, _ = s.FinalizeEvent(ctx, e.ID, "organizer") // 11:15 to 12:00: 45 minutes, 7.5 points
	if res.Posted != 1 || res.Points != 7 {
		t.Fatalf("after closing: %+v", res)
	}
}

func TestBackfillAndDailyCap(t *testing.T) {
	s, clock, tr, e, ms := newEventWorld(t, 1)
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
	long, err := s.CreateEvent(ctx, ledger.Event{Title: "值守", Category: "应急抢险", UnitID: tr.a.ID,
		StartsAt: e.EndsAt, EndsAt: e.EndsAt.Add(10 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backfill(ctx, long.ID, m.ID, long.StartsAt, long.EndsAt, "值班表", uuid.Nil); err != nil {
		t.Fatal(err)
	}
	clock.Set(long.EndsAt.Add(time.Hour))
	s.FinalizeEvent(ctx, e.ID, "x")
	res, err := s.FinalizeEvent(ctx, long.ID, "x")
	if err != nil || res.Minutes != 300 || res.Points != 50 {
		t.Fatalf("daily cap: %+v %v", res, err)
	}
	if b, _ := s.Balance(ctx, ledger.MemberAccount(m.ID)); b.ServiceMinutes != 480 || b.Points != 80 {
		t.Fatalf("balance %+v", b)
	}
}

func TestScanRefusals(t *testing.T) {
	s, clock, _, e, ms := newEventWorld(t, 1)
	clock.Set(e.StartsAt.Add(-31 * time.Minute))
	_, _, err := s.Scan(ctx, e.ID, ms[0].ID, "scan", uuid.Nil)
	wantCode(t, err, ledger.ECONFLICT, "checkin.too_early")
	clock.Set(e.EndsAt.Add(time.Minute))
	_, _, err = s.Scan(ctx, e.ID, ms[0].ID, "scan", uuid.Nil)
	wantCode(t, err, ledger.EGONE, "checkin.event_over")
	_, _, err = s.Scan(ctx, uuid.New(), ms[0].ID, "scan", uuid.Nil)
	wantCode(t, err, ledger.ENOTFOUND, "event.not_found")
	if n, _ := s.Attendances(ctx, e.ID); len(n) != 0 {
		t.Fatal("a refused scan recorded an attendance")
	}
}

// TestFiveHundredAtOnce checks 500 volunteers in at once, then out: each
// attendance is recorded once, and the points posted equal the rules' sum.
func TestFiveHundredAtOnce(t *testing.T) {
	n := 500
	if testing.Short() {
		n = 100
	}
	s, clock, _, e, ms := newEventWorld(t, n)
	// Every phone sends its check-in twice, at once: a repeat within the
	// repeat window is the same check-in, not a check-out.
	var wg sync.WaitGroup
	for _, m := range ms {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, a, err := s.Scan(ctx, e.ID, m.ID, "scan", uuid.Nil); err != nil || (a != ledger.ActionIn && a != ledger.ActionRepeat) {
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
			if _, a, err := s.Scan(ctx, e.ID, m.ID, "scan", uuid.Nil); err != nil || a != ledger.ActionOut {
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
	res, err := s.FinalizeEvent(ctx, e.ID, "organizer")
	if err != nil || res.Posted != n || res.Points != want {
		t.Fatalf("finalise: %+v %v, want %d points", res, err, want)
	}
}

// TestCorrectPosted corrects posted attendances: an adjustment reverses the
// entry and posts a new one; a rejection only reverses; nothing is edited.
func TestCorrectPosted(t *testing.T) {
	s, clock, _, e, ms := newEventWorld(t, 2)
	clock.Set(e.EndsAt)
	for _, m := range ms {
		if _, err := s.Backfill(ctx, e.ID, m.ID, e.StartsAt, e.StartsAt.Add(2*time.Hour), "纸质签到表", uuid.Nil); err != nil {
			t.Fatal(err)
		}
	}
	clock.Set(e.EndsAt)
	if res, err := s.FinalizeEvent(ctx, e.ID, "x"); err != nil || res.Points != 40 {
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

// TestCorrectionsKeepTheLedgerTrue runs reviews back and forth on posted
// attendances; after each step every member's balance must equal the points
// of their posted attendances.
func TestCorrectionsKeepTheLedgerTrue(t *testing.T) {
	s, clock, tr, e, ms := newEventWorld(t, 1)
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
	s.FinalizeEvent(ctx, e.ID, "x")
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
		s.FinalizeEvent(ctx, e.ID, "x") // posts a rejected-then-confirmed attendance anew, nothing else
		check(fmt.Sprint("step ", i, " finalised again"))
	}
	// A rejected attendance cannot come back over time another one claimed since.
	e2, _ := s.CreateEvent(ctx, ledger.Event{Title: "宣讲", Category: "政策宣讲", UnitID: tr.a.ID, StartsAt: e.StartsAt, EndsAt: e.EndsAt})
	b, err := s.Backfill(ctx, e2.ID, m.ID, e.StartsAt.Add(time.Hour), e.StartsAt.Add(2*time.Hour), "纸质签到表", uuid.Nil)
	if err != nil {
		t.Fatal(err)
	}
	s.ReviewAttendance(ctx, b.ID, ledger.ReviewReject, 0, "重复", uuid.Nil)
	other, _ := s.CreateEvent(ctx, ledger.Event{Title: "义诊", Category: "医疗义诊", UnitID: tr.a.ID, StartsAt: e.StartsAt, EndsAt: e.EndsAt})
	if _, err := s.Backfill(ctx, other.ID, m.ID, e.StartsAt.Add(time.Hour), e.StartsAt.Add(2*time.Hour), "纸质签到表", uuid.Nil); err != nil {
		t.Fatal(err)
	}
	_, err = s.ReviewAttendance(ctx, b.ID, ledger.ReviewConfirm, 0, "", uuid.Nil)
	wantCode(t, err, ledger.ECONFLICT, "checkin.overlap")
}

func TestLateCheckoutWaitsForOrganiser(t *testing.T) {
	s, clock, _, e, ms := newEventWorld(t, 1)
	clock.Set(e.StartsAt)
	if _, _, err := s.Scan(ctx, e.ID, ms[0].ID, "scan", uuid.Nil); err != nil {
		t.Fatal(err)
	}
	clock.Set(e.EndsAt.Add(72 * time.Hour))
	_, _, err := s.Scan(ctx, e.ID, ms[0].ID, "scan", uuid.Nil)
	wantCode(t, err, ledger.ECONFLICT, "checkin.checkout_late")
	open, err := s.OpenAttendance(ctx, ms[0].ID)
	if err != nil || open.Status != ledger.AttendanceOpen {
		t.Fatalf("still open: %+v %v", open, err)
	}
}

func TestImportLeavesEmptyCellsAlone(t *testing.T) {
	s := openTest(t, Options{})
	tr := makeTree(t, s)
	streetTeam, _ := s.CreateTeam(ctx, ledger.Team{Name: "街道应急队", Kind: ledger.TeamVolunteer, UnitID: tr.street.ID})
	m, err := s.CreateMember(ctx, ledger.Member{Name: "老党员", Phone: "13600000001", UnitID: tr.gridA.ID, PartyMember: true,
		Status: ledger.MemberSuspended, TeamIDs: []uuid.UUID{streetTeam.ID, tr.teamA.ID},
		OnDuty: &ledger.OnDuty{WorkUnit: "区医院", ReportedAt: "2026-03-05", AnnualTargetHours: 50}}, "")
	if err != nil {
		t.Fatal(err)
	}
	// A's organiser imports the phone with a new employer and no teams; the
	// party and status cells are empty, so they are not present.
	item := ledger.ImportItem{Row: 2, Member: ledger.Member{Name: "老党员", Phone: "13600000001", UnitID: tr.gridA.ID,
		OnDuty: &ledger.OnDuty{WorkUnit: "区卫健委"}}, Present: []string{"name", "phone", "unit", "work_unit", "teams"}}
	res, err := s.ImportMembers(ctx, ledger.Scope{Unit: tr.a.ID}, []ledger.ImportItem{item}, false)
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
