package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"aixin/ledger"
)

// TestCheckinSeesEventChanges: the server keeps an event's check-in secret
// after the first scan, so that a scan need not read the event twice; the
// event itself is read in the scan. An edit shows in the next scan's
// answer, and a cancelled event refuses the next scan.
func TestCheckinSeesEventChanges(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	org, vol := e.session(w.users["organizerA"]), e.session(w.users["volunteer"])
	ev := e.createEvent(w, "A", org, nil)
	scan := func(status int) checkinView {
		t.Helper()
		res := e.do("POST", "/api/v1/checkins", jsonReader(map[string]any{"code": e.code(ev.ID.String(), org).Token}), vol)
		wantStatus(t, res, status)
		var v checkinView
		if status == http.StatusOK {
			res.decode(t, &v)
		}
		return v
	}
	if v := scan(http.StatusOK); v.Action != ledger.ActionIn || v.Event.Title != ev.Title || v.Event.UnitName != "A社区" ||
		v.Event.CheckedIn != 1 || v.MemberName != "志愿者A" {
		t.Fatalf("check-in %+v", v)
	}
	wantStatus(t, e.do("PATCH", "/api/v1/events/"+ev.ID.String(), jsonReader(map[string]any{"title": "河道清理"}), org), http.StatusOK)
	e.clock.Add(3 * time.Minute) // past the repeat window
	if v := scan(http.StatusOK); v.Action != ledger.ActionOut || v.Event.Title != "河道清理" || v.Event.CheckedIn != 0 || v.Event.CheckedOut != 1 {
		t.Fatalf("check-out after an edit %+v", v)
	}
	wantStatus(t, e.do("POST", "/api/v1/events/"+ev.ID.String()+"/status", jsonReader(map[string]any{"status": ledger.EventCancelled}), org), http.StatusOK)
	e.clock.Add(3 * time.Minute)
	// A cancelled event shows no code; its token is made as the code page would.
	stored, err := e.store.Event(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	token := ledger.CheckinToken(stored, ledger.CheckinStep(e.clock.Now(), ledger.DefaultEventRules))
	res := e.do("POST", "/api/v1/checkins", jsonReader(map[string]any{"code": token}), vol)
	wantStatus(t, res, http.StatusConflict)
	if code := res.errorBody(t)["code"]; code != ledger.ECONFLICT {
		t.Fatalf("a scan of a cancelled event: %v", res.errorBody(t))
	}
}

// TestCheckinAnswerPretty: ?pretty indents a scan's answer, as c.JSON does
// for every other answer; without it the answer is compact.
func TestCheckinAnswerPretty(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	org, vol := e.session(w.users["organizerA"]), e.session(w.users["volunteer"])
	ev := e.createEvent(w, "A", org, nil)
	for _, tc := range []struct{ query, prefix string }{
		{"?pretty", "{\n  \"action\": \"in\",\n"},
		{"?other=1", `{"action":"in","repeated":true,"event":{`},
	} {
		res := e.do("POST", "/api/v1/checkins"+tc.query, jsonReader(map[string]any{"code": e.code(ev.ID.String(), org).Token}), vol)
		wantStatus(t, res, http.StatusOK)
		if !strings.HasPrefix(string(res.body), tc.prefix) || !strings.HasSuffix(string(res.body), "}\n") {
			t.Fatalf("%s: %s", tc.query, res.body)
		}
	}
}
