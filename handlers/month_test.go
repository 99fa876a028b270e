package handlers

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/report"

	"github.com/google/uuid"
)

// TestOneMonthOneMeaning crosses a month boundary: service on 25 November
// back-filled and posted on 3 December, and on 5 December a correction of
// November's posted service. Every report — the monthly export, the
// dashboard's figures, its chart of hours by category and its twelve months,
// the public notice, certificates and the service record cards — counts
// service in the month it was posted, shows the late service as such, and
// November reads the same before and after December's postings: history
// does not change.
func TestOneMonthOneMeaning(t *testing.T) {
	e := newEnv(t)
	st := e.store
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	at := func(month time.Month, day, hour int) time.Time {
		return time.Date(2026, month, day, hour, 0, 0, 0, shanghai)
	}
	e.clock.t = at(11, 20, 12).UTC()
	street, _ := st.CreateUnit(ctx, "和平街道", ledger.UnitStreet, uuid.Nil, nil)
	community, _ := st.CreateUnit(ctx, "和平社区", ledger.UnitCommunity, street.ID, nil)
	if _, err := st.SetPublicNotice(ctx, community.ID, ledger.NoticePatch{On: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	org, _ := st.CreateUser(ctx, ledger.User{Login: "heping", Name: "和平社区", Role: ledger.RoleOrganizer, UnitID: community.ID, PasswordHash: testHash()})
	member := func(name, phone string) ledger.Member {
		m, err := st.CreateMember(ctx, ledger.Member{Name: name, Phone: phone, UnitID: community.ID,
			OnDuty: &ledger.OnDuty{WorkUnit: "区卫健委", AnnualTargetHours: 20}}, "")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	first, second := member("赵一", "13900000001"), member("钱二", "13900000002")
	event := func(title, category string, from, to time.Time) ledger.Event {
		ev, err := st.CreateEvent(ctx, ledger.Event{Title: title, Category: category, UnitID: community.ID, StartsAt: from.UTC(), EndsAt: to.UTC()})
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	// 20 November: a clean-up, back-filled and finalised the same day: 120 minutes for 赵一.
	cleanUp := event("楼道清理", "环境整治", at(11, 20, 8), at(11, 20, 10))
	a1, err := st.Backfill(ctx, cleanUp.ID, first.ID, cleanUp.StartsAt, cleanUp.EndsAt, "纸质签到表", uuid.Nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.FinalizeEvent(ctx, cleanUp.ID, "x", true); err != nil {
		t.Fatal(err)
	}
	// 25 November: a free clinic whose paper sheet waits in a drawer.
	clinic := event("义诊", "医疗义诊", at(11, 25, 9), at(11, 25, 11))

	type reports struct {
		Export    []report.Cell
		Minutes   int64
		Dashboard report.Dashboard
		Notice    string
	}
	var orgC *http.Cookie
	read := func(month string) reports {
		t.Helper()
		orgC = e.session(org) // a session of today: they last two weeks
		var r reports
		var ex struct {
			View   report.Sheet       `json:"view"`
			Totals ledger.MemberMonth `json:"totals"`
		}
		e.get("/api/v1/exports/monthly?format=json&by=member&month="+month, orgC).decode(t, &ex)
		r.Export, r.Minutes = ex.View.Total, ex.Totals.Minutes
		e.get("/api/v1/dashboard?month="+month, orgC).decode(t, &r.Dashboard)
		res := e.get("/notice/"+community.ID.String()+"?month="+month, nil)
		wantStatus(t, res, http.StatusOK)
		r.Notice = string(res.body)
		return r
	}
	categories := func(d report.Dashboard) map[string]int64 {
		out := map[string]int64{}
		for _, c := range d.Categories {
			out[c.Category] = c.Minutes
		}
		return out
	}
	e.clock.t = at(12, 1, 9).UTC()
	november := read("2026-11")
	if november.Minutes != 120 || november.Dashboard.Minutes != 120 || november.Dashboard.LateMinutes != 0 ||
		!reflect.DeepEqual(categories(november.Dashboard), map[string]int64{"环境整治": 120}) {
		t.Fatalf("November: export %d, dashboard %+v", november.Minutes, november.Dashboard)
	}

	// 3 December: the clinic's sheet is back-filled and the clinic finalised.
	e.clock.t = at(12, 3, 10).UTC()
	if _, err := st.Backfill(ctx, clinic.ID, second.ID, clinic.StartsAt, clinic.EndsAt, "纸质签到表（迟交）", uuid.Nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.FinalizeEvent(ctx, clinic.ID, "x", true); err != nil {
		t.Fatal(err)
	}
	// 5 December: 赵一 left the clean-up half an hour early; the correction takes 30 minutes back.
	e.clock.t = at(12, 5, 10).UTC()
	if _, err := st.ReviewAttendance(ctx, a1.ID, ledger.ReviewAdjust, 90, "提前离开", uuid.Nil); err != nil {
		t.Fatal(err)
	}

	// November is as it was.
	again := read("2026-11")
	again.Dashboard.Months, november.Dashboard.Months = nil, nil // the twelve months end in the month asked for: compared below
	if !reflect.DeepEqual(again.Export, november.Export) || again.Minutes != november.Minutes ||
		!reflect.DeepEqual(again.Dashboard, november.Dashboard) || again.Notice != november.Notice {
		t.Fatalf("November changed after December's postings:\nbefore %+v\nafter  %+v", november, again)
	}
	// December counts the late service and the correction, and says so.
	december := read("2026-12")
	if december.Minutes != 90 || december.Dashboard.Minutes != 90 || december.Dashboard.LateMinutes != 90 || december.Dashboard.LateServices != 2 {
		t.Fatalf("December: export %d, dashboard %+v", december.Minutes, december.Dashboard)
	}
	var sum int64
	for _, n := range categories(december.Dashboard) {
		sum += n
	}
	if cats := categories(december.Dashboard); cats["医疗义诊"] != 120 || cats["环境整治"] != -30 || sum != december.Minutes {
		t.Fatalf("December by category: %v", cats)
	}
	if ms := december.Dashboard.Months; ms[10].Minutes != 120 || ms[11].Minutes != 90 {
		t.Fatalf("twelve months: %+v", ms[10:])
	}
	var late struct {
		View report.Sheet `json:"view"`
	}
	e.get("/api/v1/exports/monthly?format=json&by=late&month=2026-12", orgC).decode(t, &late)
	if rows := late.View.Rows; len(rows) != 2 {
		t.Fatalf("late service: %+v", rows)
	}
	lines := map[string][]string{}
	for _, row := range late.View.Rows {
		var cells []string
		for _, c := range row {
			cells = append(cells, c.String())
		}
		lines[cells[0]] = cells
	}
	if l := lines["钱二"]; l[3] != "义诊" || l[5] != "2026-11-25" || l[6] != "2026-12-03" || l[7] != "2.0" || l[8] != "补录" {
		t.Fatalf("the back-filled clinic: %v", l)
	}
	if l := lines["赵一"]; l[3] != "楼道清理" || l[5] != "2026-11-20" || l[6] != "2026-12-05" || l[7] != "-0.5" || l[8] != "更正" {
		t.Fatalf("the correction: %v", l)
	}

	// Certificates count the same months.
	certificate := func(m ledger.Member, from, to string, status int) certificateView {
		t.Helper()
		res := e.do("POST", "/api/v1/certificates", jsonReader(map[string]any{"member_id": m.ID, "from": from, "to": to}), orgC)
		wantStatus(t, res, status)
		var v certificateView
		if status == http.StatusCreated {
			res.decode(t, &v)
		}
		return v
	}
	certificate(second, "2026-11-01", "2026-11-30", http.StatusUnprocessableEntity) // nothing of hers was posted in November
	c := certificate(second, "2026-12-01", "2026-12-05", http.StatusCreated)
	if c.Minutes != 120 || len(c.Lines) != 1 || c.Lines[0].Date != "2026-11-25" || !c.Lines[0].Late || c.Lines[0].Posted != "2026-12-03" {
		t.Fatalf("the clinic's certificate: %+v", c)
	}
	if c := certificate(first, "2026-11-01", "2026-11-30", http.StatusCreated); c.Minutes != 120 {
		t.Fatalf("赵一's November certificate: %+v", c)
	}
	// The record cards of the quarter: every line, and the quarter's total is November's and December's.
	var cards struct {
		Groups []recordGroup `json:"groups"`
	}
	e.get("/api/v1/exports/service-records?quarter=2026-Q4", orgC).decode(t, &cards)
	if len(cards.Groups) != 1 || cards.Groups[0].Minutes != november.Minutes+december.Minutes {
		b, _ := json.Marshal(cards)
		t.Fatalf("record cards: %s", b)
	}
	for _, card := range cards.Groups[0].Cards {
		switch card.Name {
		case "赵一":
			if card.Minutes != 90 || len(card.Lines) != 1 || card.Lines[0].Late {
				t.Fatalf("赵一's card: %+v", card)
			}
		case "钱二":
			if card.Minutes != 120 || len(card.Lines) != 1 || !card.Lines[0].Late {
				t.Fatalf("钱二's card: %+v", card)
			}
		}
	}
	if rep, err := st.Verify(ctx); err != nil || !rep.OK {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}
