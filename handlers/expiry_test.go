package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// TestExpiryPolicyPatch: an administrator, or the street's own organiser,
// sets a street's points expiry; an organiser of a community does not
// reach the street (404) and has no policy of their own (400); bad values
// are 400 and change nothing; every change is logged with who made it.
func TestExpiryPolicyPatch(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	streetOrg, err := e.store.CreateUser(ctx, ledger.User{Login: "street-org", Role: ledger.RoleOrganizer, UnitID: w.street.ID, PasswordHash: testHash()})
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/units/" + w.street.ID.String()
	patch := func(u ledger.User, path, body string) response {
		t.Helper()
		return e.do(http.MethodPatch, path, strings.NewReader(body), e.session(u))
	}
	years := func() int {
		t.Helper()
		u, err := e.store.Unit(ctx, w.street.ID)
		if err != nil {
			t.Fatal(err)
		}
		return u.ExpiryYears
	}

	res := patch(w.users["admin"], path, `{"expiry_years": 3}`)
	wantStatus(t, res, http.StatusOK)
	var u ledger.Unit
	res.decode(t, &u)
	if u.ExpiryYears != 3 || u.ExpirySetBy != w.users["admin"].ID || !u.ExpirySetAt.Equal(e.clock.Now()) || years() != 3 {
		t.Fatalf("unit %+v", u)
	}
	wantStatus(t, patch(streetOrg, path, `{"expiry_years": 1}`), http.StatusOK)
	if years() != 1 {
		t.Fatal("the street's organiser did not set the policy")
	}
	for _, tc := range []struct {
		name   string
		user   ledger.User
		path   string
		body   string
		status int
		key    string
	}{
		{"CommunityOrganiserOnTheStreet", w.users["organizerA"], path, `{"expiry_years": 5}`, 404, "unit.not_found"},
		{"CommunityOrganiserOnTheirCommunity", w.users["organizerA"], "/api/v1/units/" + w.unit["A"].ID.String(), `{"expiry_years": 5}`, 400, "unit.expiry_street"},
		{"AdminOnACommunity", w.users["admin"], "/api/v1/units/" + w.unit["B"].ID.String(), `{"expiry_years": 5}`, 400, "unit.expiry_street"},
		{"Volunteer", w.users["volunteer"], path, `{"expiry_years": 5}`, 403, ""},
		{"Clerk", w.users["clerk"], path, `{"expiry_years": 5}`, 403, ""},
		{"Eleven", w.users["admin"], path, `{"expiry_years": 11}`, 400, "unit.expiry_years_invalid"},
		{"Negative", w.users["admin"], path, `{"expiry_years": -1}`, 400, "unit.expiry_years_invalid"},
		{"AString", w.users["admin"], path, `{"expiry_years": "3"}`, 400, "request.json_invalid"},
		{"AFraction", w.users["admin"], path, `{"expiry_years": 2.5}`, 400, "request.json_invalid"},
		{"WithAName", w.users["admin"], path, `{"expiry_years": 5, "name": "新街道"}`, 400, "unit.expiry_alone"},
		{"WithTheNotice", w.users["admin"], path, `{"expiry_years": 5, "public_notice": true}`, 400, "unit.expiry_alone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := patch(tc.user, tc.path, tc.body)
			wantStatus(t, res, tc.status)
			if tc.key != "" {
				want := e.catalogue().T(langZH, tc.key)
				if strings.Contains(want, "%v") {
					want = e.catalogue().T(langZH, tc.key, ledger.MinExpiryYears, ledger.MaxExpiryYears)
				}
				if msg := res.errorBody(t)["message"]; msg != want {
					t.Fatalf("message %q, want %q", msg, want)
				}
			}
			if years() != 1 {
				t.Fatal("a refused patch changed the policy")
			}
		})
	}
	wantStatus(t, patch(w.users["admin"], path, `{"expiry_years": 0}`), http.StatusOK)
	if years() != 0 {
		t.Fatal("the policy is not off")
	}
	var changes []map[string]any
	for _, l := range e.logs.lines(t) {
		if l["msg"] == "expiry policy changed" {
			changes = append(changes, l)
		}
	}
	if len(changes) != 3 || changes[0]["user_login"] != "admin" || changes[0]["to_years"] != 3.0 || changes[0]["from_years"] != 0.0 ||
		changes[1]["user_login"] != "street-org" || changes[2]["to_years"] != 0.0 || changes[0]["street_id"] != w.street.ID.String() {
		b, _ := json.Marshal(changes)
		t.Fatalf("logged %s", b)
	}
}

// TestBalanceWarnsOfExpiry: a member's balance says what expires at the
// next cutoff from 30 days before it, and not a moment earlier; the
// volunteer sees it on their own balance.
func TestBalanceWarnsOfExpiry(t *testing.T) {
	e := newEnv(t)
	sh := e.store.Location()
	e.clock.t = time.Date(2025, 5, 1, 10, 0, 0, 0, sh)
	w := newWorld(t, e) // 志愿者A earns 1000 (and holds 10) in May 2025
	if _, err := e.store.SetExpiryPolicy(ctx, w.street.ID, ledger.ExpiryPatch{Years: ptr(1)}, uuid.Nil); err != nil {
		t.Fatal(err)
	}
	e.clock.t = time.Date(2026, 4, 1, 10, 0, 0, 0, sh)
	iss := ledger.IssuerAccount(w.unit["A"].ID)
	if _, err := e.store.Append(ctx, ledger.Transfer{Debit: iss, Credit: ledger.MemberAccount(w.member["A"].ID), Amount: 40, Kind: ledger.KindEarn}); err != nil {
		t.Fatal(err)
	}
	balance := func() balanceView {
		t.Helper()
		var b balanceView
		// The volunteer's session is made on the moved clock: it lasts two weeks.
		res := e.get("/api/v1/members/"+w.member["A"].ID.String()+"/balance", e.session(w.users["volunteer"]))
		wantStatus(t, res, http.StatusOK)
		res.decode(t, &b)
		if strings.Contains(string(res.body), `"expiring"`) != (b.Expiring != nil) {
			t.Fatalf("body %s", res.body)
		}
		return b
	}
	e.clock.t = time.Date(2026, 12, 1, 23, 59, 59, 0, sh)
	if b := balance(); b.Expiring != nil {
		t.Fatalf("warned 30 days and a second ahead: %+v", b.Expiring)
	}
	e.clock.t = time.Date(2026, 12, 2, 0, 0, 0, 0, sh)
	res := e.get("/api/v1/members/"+w.member["A"].ID.String()+"/balance", e.session(w.users["volunteer"]))
	if !strings.Contains(string(res.body), `"expiring":{"points":990,"at":"2027-01-01T00:00:00+08:00","year":2025}`) {
		t.Fatalf("balance %s", res.body) // 1000 of 2025 less the 10 held
	}
	if b := balance(); b.Available != 1030 || b.Held != 10 {
		t.Fatalf("balance %+v", b)
	}
	// The other volunteer, of a street with the same policy, earned nothing then.
	var b balanceView
	e.get("/api/v1/members/"+w.other["A"].ID.String()+"/balance", e.session(w.users["admin"])).decode(t, &b)
	if b.Expiring != nil {
		t.Fatalf("nothing to expire, and warned: %+v", b.Expiring)
	}
	// After the cutoff the sweep takes the 990 (and B's), and the next warning is a year away.
	e.clock.t = time.Date(2027, 1, 1, 0, 1, 0, 0, sh)
	if res, err := e.store.ExpirePoints(ctx); err != nil || res.Done != 2 {
		t.Fatalf("sweep %+v %v", res, err)
	}
	if b := balance(); b.Expiring != nil || b.Available != 40 || b.Points != 50 {
		t.Fatalf("after the cutoff %+v", b)
	}
}

// TestExpiryPreviewScope: the preview is for staff over the street: the
// administrator and the street's organiser; an organiser of a community
// gets 404, a volunteer or clerk 403, and a community is 400.
func TestExpiryPreviewScope(t *testing.T) {
	e := newEnv(t)
	sh := e.store.Location()
	e.clock.t = time.Date(2025, 5, 1, 10, 0, 0, 0, sh)
	w := newWorld(t, e)
	streetOrg, _ := e.store.CreateUser(ctx, ledger.User{Login: "street-org", Role: ledger.RoleOrganizer, UnitID: w.street.ID, PasswordHash: testHash()})
	e.clock.t = time.Date(2027, 6, 1, 10, 0, 0, 0, sh)
	q := "/api/v1/admin/expiry?street=" + w.street.ID.String()
	for _, tc := range []struct {
		name   string
		user   ledger.User
		path   string
		status int
	}{
		{"Admin", w.users["admin"], q + "&years=1", 200},
		{"StreetOrganiser", streetOrg, q + "&years=1", 200},
		{"CommunityOrganiser", w.users["organizerA"], q + "&years=1", 404},
		{"Volunteer", w.users["volunteer"], q + "&years=1", 403},
		{"Clerk", w.users["clerk"], q + "&years=1", 403},
		{"ACommunity", w.users["admin"], "/api/v1/admin/expiry?years=1&street=" + w.unit["A"].ID.String(), 400},
		{"OwnCommunity", w.users["organizerA"], "/api/v1/admin/expiry?years=1&street=" + w.unit["A"].ID.String(), 400},
		{"NoPolicyNoYears", w.users["admin"], q, 400},
		{"ElevenYears", w.users["admin"], q + "&years=11", 400},
		{"NoStreet", w.users["admin"], "/api/v1/admin/expiry?years=1", 400},
		{"UnknownStreet", w.users["admin"], "/api/v1/admin/expiry?years=1&street=" + uuid.NewString(), 404},
		{"BadLimit", w.users["admin"], q + "&years=1&limit=0", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, e.get(tc.path, e.session(tc.user)), tc.status)
		})
	}
	wantStatus(t, e.get(q, nil), 401)
	// What the administrator sees: both volunteers A and B (1000 earned in
	// 2025, 10 held each), due at once under one year; the runs so far.
	var p expiryPreviewView
	e.get(q+"&years=1&limit=1", e.session(w.users["admin"])).decode(t, &p)
	if p.DueYear != 2025 || p.DuePoints != 1980 || p.DueAccounts != 2 || p.NextYear != 2026 || p.NextPoints != 0 ||
		len(p.Accounts) != 1 || p.More != 1 || p.Accounts[0].Due != 990 || len(p.Runs) != 0 ||
		p.DueCutoff.Format(time.RFC3339) != "2027-01-01T00:00:00+08:00" {
		t.Fatalf("preview %+v", p)
	}
	if _, err := e.store.SetExpiryPolicy(ctx, w.street.ID, ledger.ExpiryPatch{Years: ptr(1)}, uuid.Nil); err != nil {
		t.Fatal(err)
	}
	if res, err := e.store.ExpirePoints(ctx); err != nil || res.Done != 2 {
		t.Fatalf("sweep %+v %v", res, err)
	}
	e.get(q, e.session(streetOrg)).decode(t, &p)
	if p.Years != 1 || p.DuePoints != 0 || len(p.Runs) != 1 || !p.Runs[0].Done || p.Runs[0].Points != 1980 {
		t.Fatalf("after the run %+v", p)
	}
}

// TestMonthWithExpiryReconciles: January's monthly export shows the points
// the sweep expired, and every check of the file holds.
func TestMonthWithExpiryReconciles(t *testing.T) {
	e := newEnv(t)
	sh := e.store.Location()
	e.clock.t = time.Date(2025, 5, 1, 10, 0, 0, 0, sh)
	w := newWorld(t, e)
	if _, err := e.store.SetExpiryPolicy(ctx, w.street.ID, ledger.ExpiryPatch{Years: ptr(1)}, uuid.Nil); err != nil {
		t.Fatal(err)
	}
	e.clock.t = time.Date(2027, 1, 1, 0, 1, 0, 0, sh)
	if res, err := e.store.ExpirePoints(ctx); err != nil || res.Done != 2 {
		t.Fatalf("sweep %+v %v", res, err)
	}
	e.clock.t = time.Date(2027, 2, 3, 10, 0, 0, 0, sh)
	var ex struct {
		Totals     ledger.MemberMonth `json:"totals"`
		Reconciles bool               `json:"reconciles"`
		Notes      []string           `json:"notes"`
	}
	res := e.get("/api/v1/exports/monthly?format=json&by=member&month=2027-01", e.session(w.users["admin"]))
	wantStatus(t, res, http.StatusOK)
	res.decode(t, &ex)
	if ex.Totals.Expired != 1980 || ex.Totals.Closing != ex.Totals.Opening-1980 || !ex.Totals.Reconciles() || !ex.Reconciles || len(ex.Notes) == 0 {
		t.Fatalf("January's totals %+v\n%s", ex.Totals, res.body)
	}
	if strings.Contains(string(res.body), "✗") {
		t.Fatalf("a check fails: %s", res.body)
	}
	csv := e.get("/api/v1/exports/monthly?format=csv&by=member&month=2027-01", e.session(w.users["admin"]))
	wantStatus(t, csv, http.StatusOK)
	if !strings.Contains(string(csv.body), "1980") || strings.Contains(string(csv.body), "✗") {
		t.Fatalf("csv %s", csv.body)
	}
}

// TestHouseholdWarnsOfExpiry: a household's points expire as a member's
// do, and the household's view (the phone's 我家积分 card, the household's
// page) says what expires from 30 days before the cutoff.
func TestHouseholdWarnsOfExpiry(t *testing.T) {
	e := newEnv(t)
	sh := e.store.Location()
	e.clock.t = time.Date(2025, 5, 1, 10, 0, 0, 0, sh)
	w := newWorld(t, e)
	h, err := e.store.CreateHousehold(ctx, "3单元502室", w.grid["A"].ID, 0)
	must(t, err)
	_, err = e.store.SetHouseholdMembers(ctx, h.ID, ledger.HouseholdChange{HeadID: w.member["A"].ID,
		Members: []ledger.HouseholdMember{{MemberID: w.member["A"].ID}}})
	must(t, err)
	iss := ledger.IssuerAccount(w.unit["A"].ID)
	_, err = e.store.Append(ctx, ledger.Transfer{Debit: iss, Credit: h.Account(), Amount: 60, Kind: ledger.KindAward, Reference: "award:test"})
	must(t, err)
	_, err = e.store.SetExpiryPolicy(ctx, w.street.ID, ledger.ExpiryPatch{Years: ptr(1)}, uuid.Nil)
	must(t, err)
	view := func() householdView {
		t.Helper()
		var v householdView
		res := e.get("/api/v1/members/"+w.member["A"].ID.String()+"/household", e.session(w.users["volunteer"]))
		wantStatus(t, res, http.StatusOK)
		res.decode(t, &v)
		return v
	}
	e.clock.t = time.Date(2026, 12, 1, 23, 59, 59, 0, sh)
	if v := view(); v.Expiring != nil {
		t.Fatalf("warned 30 days and a second ahead: %+v", v.Expiring)
	}
	e.clock.t = time.Date(2026, 12, 2, 0, 0, 0, 0, sh)
	if v := view(); v.Expiring == nil || v.Expiring.Points != 60 || v.Expiring.Year != 2025 {
		t.Fatalf("the household's warning: %+v", v.Expiring)
	}
	var staff householdView
	e.get("/api/v1/households/"+h.ID.String(), e.session(w.users["organizerA"])).decode(t, &staff)
	if staff.Expiring == nil || staff.Expiring.Points != 60 {
		t.Fatalf("the household's page: %+v", staff.Expiring)
	}
}
