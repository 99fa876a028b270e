package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"aixin/ledger"
)

func jsonReader(v any) *strings.Reader {
	b, _ := json.Marshal(v)
	return strings.NewReader(string(b))
}

// createEvent makes an event of community c through the API, starting now.
func (e *env) createEvent(w *world, c string, cookie *http.Cookie, extra map[string]any) eventView {
	e.t.Helper()
	now := e.clock.Now()
	body := map[string]any{"title": "环境整治" + c, "category": "环境整治", "unit_id": w.unit[c].ID,
		"starts_at": now.Add(-5 * time.Minute), "ends_at": now.Add(3 * time.Hour)}
	for k, v := range extra {
		body[k] = v
	}
	res := e.do("POST", "/api/v1/events", jsonReader(body), cookie)
	wantStatus(e.t, res, http.StatusCreated)
	var v eventView
	res.decode(e.t, &v)
	return v
}

func (e *env) code(id string, cookie *http.Cookie) codeView {
	e.t.Helper()
	res := e.get("/api/v1/events/"+id+"/code", cookie)
	wantStatus(e.t, res, http.StatusOK)
	var c codeView
	res.decode(e.t, &c)
	return c
}

func TestCheckinFlow(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	orgA, orgB := e.session(w.users["organizerA"]), e.session(w.users["organizerB"])
	vol := e.session(w.users["volunteer"])
	ev := e.createEvent(w, "A", orgA, nil)
	if ev.Status != ledger.EventOpen || ev.PointsPerHour != 10 || ev.UnitName != "A社区" {
		t.Fatalf("event %+v", ev)
	}
	wantStatus(t, e.get("/api/v1/events/"+ev.ID.String(), orgB), http.StatusNotFound)
	wantStatus(t, e.get("/api/v1/events/"+ev.ID.String()+"/code", vol), http.StatusForbidden)

	code := e.code(ev.ID.String(), orgA)
	if !strings.HasSuffix(code.URL, "/c/"+code.Token) {
		t.Fatalf("code URL %s", code.URL)
	}
	checkin := func(body map[string]any, status int) checkinView {
		t.Helper()
		res := e.do("POST", "/api/v1/checkins", jsonReader(body), vol)
		wantStatus(t, res, status)
		var v checkinView
		if status == 200 {
			res.decode(t, &v)
		}
		return v
	}
	// The whole URL, as a phone's scanner hands it over, checks in.
	if v := checkin(map[string]any{"code": code.URL}, 200); v.Action != "in" || v.Event.CheckedIn != 1 {
		t.Fatalf("first scan %+v", v)
	}
	if v := checkin(map[string]any{"code": code.Token}, 200); v.Action != "in" || !v.Repeated || v.MemberName != "志愿者A" {
		t.Fatalf("a repeat within the window must stay checked in: %+v", v)
	}
	raw, _ := ledger.Crockford.DecodeString(code.Token)
	raw[len(raw)-1] ^= 1 // one bit of the MAC
	checkin(map[string]any{"code": ledger.Crockford.EncodeToString(raw)}, 400)
	checkin(map[string]any{"code": "13800000000"}, 400)
	// Another event of A: checked in elsewhere.
	other := e.createEvent(w, "A", orgA, map[string]any{"title": "义诊", "category": "医疗义诊"})
	checkin(map[string]any{"code": e.code(other.ID.String(), orgA).Token}, 409)
	// 61 seconds on, the code of a minute ago no longer works.
	e.clock.Add(61 * time.Second)
	checkin(map[string]any{"code": code.Token}, 410)
	// Two hours later, the current code checks out.
	e.clock.Add(2 * time.Hour)
	v := checkin(map[string]any{"code": e.code(ev.ID.String(), orgA).Token}, 200)
	if v.Action != "out" || v.Attendance.Minutes != 121 || v.Attendance.Points != 20 {
		t.Fatalf("check out %+v", v.Attendance)
	}
	// The organiser finalises: the volunteer sees the points.
	res := e.do("POST", "/api/v1/events/"+ev.ID.String()+"/finalize", nil, orgA)
	wantStatus(t, res, http.StatusConflict) // it runs for another hour: the organiser is asked first
	res = e.do("POST", "/api/v1/events/"+ev.ID.String()+"/finalize", jsonReader(map[string]any{"confirm": true}), orgA)
	wantStatus(t, res, 200)
	var fin ledger.FinalizeResult
	res.decode(t, &fin)
	if fin.Posted != 1 || fin.Points != 20 {
		t.Fatalf("finalise %+v", fin)
	}
	var bal balanceView
	e.get("/api/v1/members/"+w.member["A"].ID.String()+"/balance", vol).decode(t, &bal)
	if bal.Points != 1000+20 || bal.ServiceMinutes != 121 { // the world gave 1,000 points to start with
		t.Fatalf("balance %+v", bal)
	}
	var foot map[string][]footprintView
	e.get("/api/v1/members/"+w.member["A"].ID.String()+"/attendances", vol).decode(t, &foot)
	if len(foot["attendances"]) != 1 || foot["attendances"][0].EventTitle != "环境整治A" || foot["attendances"][0].Status != ledger.AttendancePosted {
		t.Fatalf("footprint %+v", foot)
	}
	wantStatus(t, e.do("POST", "/api/v1/events/"+ev.ID.String()+"/finalize", nil, orgB), http.StatusNotFound)
}

// TestCheckinAfterLogin: a volunteer not logged in scans, logs in, and the
// code they scanned still works thanks to the ticket the landing page gave.
func TestCheckinAfterLogin(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	orgA := e.session(w.users["organizerA"])
	ev := e.createEvent(w, "A", orgA, nil)
	code := e.code(ev.ID.String(), orgA)
	client := e.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Get(e.srv.URL + "/c/" + code.Token)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), "/?next=") {
		t.Fatalf("landing page: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	loc, _ := url.Parse(res.Header.Get("Location"))
	back, _ := url.Parse(loc.Query().Get("next"))
	seen, ticket := back.Query().Get("seen"), back.Query().Get("ticket")
	var nonce string
	for _, ck := range res.Cookies() {
		if ck.Name == ticketCookie {
			nonce = ck.Name + "=" + ck.Value
		}
	}
	if nonce == "" {
		t.Fatal("no ticket cookie")
	}
	e.clock.Add(3 * time.Minute) // logging in takes a while: the code itself has expired
	vol := e.session(w.users["volunteer"])
	body := map[string]any{"code": code.Token, "seen": json.Number(seen), "ticket": ticket}
	// Passed on to another browser (no cookie), the ticket is worth nothing.
	wantStatus(t, e.do("POST", "/api/v1/checkins", jsonReader(body), vol), http.StatusGone)
	res2 := e.do("POST", "/api/v1/checkins", jsonReader(body), vol, "Cookie", nonce)
	wantStatus(t, res2, 200)
	// A forged ticket, or one past its life, does not.
	body["ticket"] = strings.Repeat("0", 32)
	wantStatus(t, e.do("POST", "/api/v1/checkins", jsonReader(body), vol, "Cookie", nonce), http.StatusGone)
	body["ticket"] = ticket
	e.clock.Add(10 * time.Minute)
	wantStatus(t, e.do("POST", "/api/v1/checkins", jsonReader(body), vol, "Cookie", nonce), http.StatusGone)
	// An expired code earns no ticket.
	res, _ = client.Get(e.srv.URL + "/c/" + code.Token)
	res.Body.Close()
	if res.StatusCode != http.StatusGone {
		t.Fatalf("an expired code's landing page: %d", res.StatusCode)
	}
}

func TestOrganiserAttendance(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	orgA, orgB := e.session(w.users["organizerA"]), e.session(w.users["organizerB"])
	ev := e.createEvent(w, "A", orgA, map[string]any{"review_required": true})
	key, _ := e.store.Secret(ctx, "member-card")
	card := ledger.SignCard(key, w.member["A"].ID)
	path := "/api/v1/events/" + ev.ID.String() + "/attendance"
	post := func(cookie *http.Cookie, body map[string]any, status int) checkinView {
		t.Helper()
		res := e.do("POST", path, jsonReader(body), cookie)
		wantStatus(t, res, status)
		var v checkinView
		if status == 200 {
			res.decode(t, &v)
		}
		return v
	}
	post(orgA, map[string]any{"member_code": card, "action": "out"}, 409) // not in yet
	if v := post(orgA, map[string]any{"member_code": card, "action": "in"}, 200); v.Action != "in" || v.Attendance.Source != "organizer" {
		t.Fatalf("organiser check-in %+v", v)
	}
	post(orgA, map[string]any{"member_code": card, "action": "in"}, 409)
	post(orgA, map[string]any{"member_code": "AXM1" + strings.Repeat("0", 42), "action": "in"}, 400)
	post(orgB, map[string]any{"member_code": card, "action": "in"}, 404) // B cannot see A's event
	// B's member cannot be checked in by A's organiser.
	post(orgA, map[string]any{"member_id": w.member["B"].ID, "action": "in"}, 404)
	e.clock.Add(time.Hour)
	if v := post(orgA, map[string]any{"member_code": card, "action": "out"}, 200); v.Attendance.Minutes != 60 {
		t.Fatalf("organiser check-out %+v", v.Attendance)
	}
	// Review is required: finalising posts nothing until confirmed.
	var fin ledger.FinalizeResult
	res := e.do("POST", "/api/v1/events/"+ev.ID.String()+"/finalize", jsonReader(map[string]any{"confirm": true}), orgA)
	res.decode(t, &fin)
	if fin.Posted != 0 || fin.PendingReview != 1 {
		t.Fatalf("finalise before review %+v", fin)
	}
	var list map[string][]attendanceView
	e.get(path, orgA).decode(t, &list)
	att := list["attendances"][0]
	if att.MemberName != "志愿者A" || att.MemberPhone != "138****0000" {
		t.Fatalf("attendance view %+v", att)
	}
	wantStatus(t, e.do("POST", "/api/v1/attendances/"+att.ID.String()+"/review", jsonReader(map[string]any{"decision": "adjust", "minutes": 60}), orgA), 400) // no reason
	wantStatus(t, e.do("POST", "/api/v1/attendances/"+att.ID.String()+"/review", jsonReader(map[string]any{"decision": "adjust", "minutes": 60, "reason": "提前离开"}), orgB), 404)
	// The event is finalised: the adjusted attendance is posted at once.
	res = e.do("POST", "/api/v1/attendances/"+att.ID.String()+"/review", jsonReader(map[string]any{"decision": "adjust", "minutes": 45, "reason": "提前离开"}), orgA)
	wantStatus(t, res, 200)
	var reviewed checkinView
	res.decode(t, &reviewed)
	if reviewed.Attendance.Status != ledger.AttendancePosted || reviewed.Attendance.Points != 7 {
		t.Fatalf("reviewed after finalising: %+v", reviewed.Attendance)
	}
	// The event was finalised above; a back-fill is refused now.
	post(orgA, map[string]any{"member_id": w.member["A"].ID, "action": "backfill", "checked_in_at": ev.StartsAt, "checked_out_at": ev.StartsAt.Add(time.Minute), "reason": "纸质"}, 409)
}

// TestListEventsPaged: the events list comes latest start first, a page at a
// time, every event of the caller's scope once and no other's; a page cannot
// start after an event the caller does not see.
func TestListEventsPaged(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	orgA := e.session(w.users["organizerA"])
	admin := e.session(w.users["admin"])
	var made []string
	for i := range 7 {
		v := e.createEvent(w, "A", orgA, map[string]any{"title": "周末活动" + strconv.Itoa(i),
			"starts_at": e.clock.Now().Add(time.Duration(i%4) * time.Hour), "ends_at": e.clock.Now().Add(5 * time.Hour)})
		made = append(made, v.ID.String())
	}
	other := e.createEvent(w, "B", admin, nil)
	type page struct {
		Events    []eventView `json:"events"`
		NextAfter string      `json:"next_after"`
	}
	var seen []eventView
	after := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("the pages never end")
		}
		var p page
		e.get("/api/v1/events?limit=3&after="+after, orgA).decode(t, &p)
		if len(p.Events) > 3 {
			t.Fatalf("a page of %d", len(p.Events))
		}
		seen = append(seen, p.Events...)
		if p.NextAfter == "" {
			break
		}
		after = p.NextAfter
	}
	ids := map[string]bool{}
	for i, v := range seen {
		if ids[v.ID.String()] {
			t.Fatalf("%s twice", v.Title)
		}
		ids[v.ID.String()] = true
		if v.ID == other.ID {
			t.Fatal("organiser A sees B's event")
		}
		if i > 0 && seen[i-1].StartsAt.Before(v.StartsAt) {
			t.Fatalf("%s (%v) before %s (%v)", seen[i-1].Title, seen[i-1].StartsAt, v.Title, v.StartsAt)
		}
	}
	for _, id := range made {
		if !ids[id] {
			t.Fatalf("event %s never listed among %d", id, len(seen))
		}
	}
	// The whole list in one page by default; B's event is not a place to start from.
	var all page
	e.get("/api/v1/events", admin).decode(t, &all)
	if len(all.Events) < 8 || all.NextAfter != "" {
		t.Fatalf("admin: %d events, next %q", len(all.Events), all.NextAfter)
	}
	wantStatus(t, e.get("/api/v1/events?after="+other.ID.String(), orgA), http.StatusNotFound)
	for _, q := range []string{"limit=0", "limit=501", "limit=x", "after=nope"} {
		wantStatus(t, e.get("/api/v1/events?"+q, orgA), http.StatusBadRequest)
	}
}

// TestEditAndRepeatEvents: an organiser edits an event (the record says who
// changed what, closed attendances are counted again), cannot edit it once
// finalised, and makes a weekly event in one go.
func TestEditAndRepeatEvents(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	orgA, orgB := e.session(w.users["organizerA"]), e.session(w.users["organizerB"])
	ev := e.createEvent(w, "A", orgA, map[string]any{"description": "带好手套", "contact": "王老师 13800000009"})
	if ev.Description != "带好手套" || ev.Contact != "王老师 13800000009" {
		t.Fatalf("created %+v", ev)
	}
	start := ev.StartsAt
	e.clock.Add(2 * time.Hour) // the paper sheet comes in during the event
	res := e.do("POST", "/api/v1/events/"+ev.ID.String()+"/attendance", jsonReader(map[string]any{"member_id": w.member["A"].ID,
		"action": "backfill", "checked_in_at": start, "checked_out_at": start.Add(time.Hour), "reason": "纸质签到表"}), orgA)
	wantStatus(t, res, 200)
	path := "/api/v1/events/" + ev.ID.String()
	patch := func(cookie *http.Cookie, body map[string]any, status int) eventView {
		t.Helper()
		res := e.do("PATCH", path, jsonReader(body), cookie)
		wantStatus(t, res, status)
		var v eventView
		if status == 200 {
			res.decode(t, &v)
		}
		return v
	}
	v := patch(orgA, map[string]any{"points_per_hour": 20, "place": "3号楼"}, 200)
	if v.PointsPerHour != 20 || v.Place != "3号楼" || v.Title != ev.Title {
		t.Fatalf("edited %+v", v)
	}
	var list map[string][]attendanceView
	e.get(path+"/attendance", orgA).decode(t, &list)
	if a := list["attendances"][0]; a.Minutes != 60 || a.Points != 20 {
		t.Fatalf("the back-filled hour is counted at the new rate: %+v", a)
	}
	patch(orgB, map[string]any{"place": "别处"}, 404)
	patch(orgA, map[string]any{"unit_id": w.unit["B"].ID}, 400) // the unit is not edited
	patch(orgA, map[string]any{"ends_at": start.Add(-time.Hour)}, 400)
	patch(orgA, map[string]any{"contact": "=HYPERLINK(\"x\")"}, 400)

	var changes map[string][]eventChangeView
	e.get(path+"/changes", orgA).decode(t, &changes)
	if c := changes["changes"]; len(c) != 1 || c[0].ByName != "orgA" || len(c[0].Fields) != 2 ||
		c[0].Fields[0] != (ledger.FieldChange{Field: "place", Old: "", New: "3号楼"}) || c[0].Fields[1].Field != "points_per_hour" {
		t.Fatalf("changes %+v", c)
	}
	wantStatus(t, e.get(path+"/changes", orgB), http.StatusNotFound)

	e.clock.Add(2 * time.Hour)
	wantStatus(t, e.do("POST", path+"/finalize", nil, orgA), http.StatusOK)
	patch(orgA, map[string]any{"place": "活动室"}, 409)
	var bal balanceView
	e.get("/api/v1/members/"+w.member["A"].ID.String()+"/balance", orgA).decode(t, &bal)
	if bal.Points != 1000+20 {
		t.Fatalf("balance %+v", bal)
	}

	// Weekly, four times.
	next := e.clock.Now().Add(24 * time.Hour)
	res = e.do("POST", "/api/v1/events", jsonReader(map[string]any{"title": "周六义诊", "category": "医疗义诊", "unit_id": w.unit["A"].ID,
		"starts_at": next, "ends_at": next.Add(2 * time.Hour), "repeat_weeks": 4}), orgA)
	wantStatus(t, res, http.StatusCreated)
	var series createdEvents
	res.decode(t, &series)
	if len(series.Series) != 4 || series.ID != series.Series[0].ID || !series.Series[3].StartsAt.Equal(next.Add(21*24*time.Hour)) {
		t.Fatalf("series %+v", series)
	}
	res = e.do("POST", "/api/v1/events", jsonReader(map[string]any{"title": "周六义诊", "category": "医疗义诊", "unit_id": w.unit["A"].ID,
		"starts_at": next, "ends_at": next.Add(2 * time.Hour), "repeat_weeks": 53}), orgA)
	wantStatus(t, res, http.StatusBadRequest)
}

// TestPublicURL: with the public address set, the check-in code and its QR
// image carry it whatever address the page was opened at, and a volunteer's
// scan of that URL checks in; an address that is not a plain http(s) origin
// is refused at start.
func TestPublicURL(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.PublicURL = "https://aixin.example.org/" })
	w := newWorld(t, e)
	orgA, vol := e.session(w.users["organizerA"]), e.session(w.users["volunteer"])
	ev := e.createEvent(w, "A", orgA, nil)
	code := e.code(ev.ID.String(), orgA)
	if code.URL != "https://aixin.example.org/c/"+code.Token {
		t.Fatalf("code URL %s", code.URL)
	}
	res := e.do("POST", "/api/v1/checkins", jsonReader(map[string]any{"code": code.URL}), vol)
	wantStatus(t, res, http.StatusOK)
	for _, bad := range []string{"aixin.example.org", "ftp://aixin.example.org", "https://", "https://aixin.example.org/aixin", "https://a.example.org/?x=1", "https://u:p@a.example.org"} {
		cfg := e.cfg
		cfg.PublicURL = bad
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "public URL") {
			t.Errorf("public URL %q: %v", bad, err)
		}
	}
}
