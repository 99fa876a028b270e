package handlers

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/report"
	"aixin/report/reporttest"

	"github.com/google/uuid"
)

// householdWorld is the authorization world with a household in each
// community's grid: A's volunteer heads it, A's other volunteer is its
// minor; each shop takes household points; grid workers of each grid; and a
// second grid in A with its own grid worker.
type householdWorld struct {
	*world
	home      map[string]householdView
	grid2     ledger.Unit
	worker    map[string]ledger.User // grid workers of each community's first grid
	worker2   ledger.User            // of A's second grid
	minorUser ledger.User
}

func newHouseholdWorld(t *testing.T, e *env) householdWorld {
	t.Helper()
	w := householdWorld{world: newWorld(t, e), home: map[string]householdView{}, worker: map[string]ledger.User{}}
	st := e.store
	var err error
	if w.grid2, err = st.CreateUnit(ctx, "第二网格", ledger.UnitGrid, w.unit["A"].ID, nil); err != nil {
		t.Fatal(err)
	}
	if w.worker2, err = st.CreateUser(ctx, ledger.User{Login: "gw2", Role: ledger.RoleGridWorker, UnitID: w.grid2.ID, PasswordHash: testHash()}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"A", "B"} {
		if w.worker[c], err = st.CreateUser(ctx, ledger.User{Login: "gw" + c, Role: ledger.RoleGridWorker, UnitID: w.grid[c].ID, PasswordHash: testHash()}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SetShopHouseholds(ctx, w.shop[c].ID, true); err != nil {
			t.Fatal(err)
		}
		org := e.session(w.users["organizer"+c])
		res := e.do("POST", "/api/v1/households", jsonReader(map[string]any{"address": "3单元502室", "unit_id": w.grid[c].ID}), org)
		wantStatus(t, res, http.StatusCreated)
		var h householdView
		res.decode(t, &h)
		res = e.do("PUT", "/api/v1/households/"+h.ID.String()+"/members", jsonReader(map[string]any{
			"members": []map[string]any{{"member_id": w.member[c].ID}, {"member_id": w.other[c].ID, "minor": true}},
			"head_id": w.member[c].ID}), org)
		wantStatus(t, res, http.StatusOK)
		res.decode(t, &h)
		w.home[c] = h
	}
	if w.minorUser, err = st.UserByLogin(ctx, w.other["A"].Phone); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestHouseholdsAuthorization tries the households' routes as every role on
// community A's household and B's: organisers over their subtree, grid
// workers over their grid, a volunteer their own household only (and never
// a change), everyone else refused; refused changes change nothing.
func TestHouseholdsAuthorization(t *testing.T) {
	e := newEnv(t)
	w := newHouseholdWorld(t, e)
	roles := map[string]ledger.User{"volunteer": w.users["volunteer"], "minor": w.minorUser, "clerk": w.users["clerk"],
		"organizerA": w.users["organizerA"], "organizerB": w.users["organizerB"], "admin": w.users["admin"],
		"workerA": w.worker["A"], "workerB": w.worker["B"], "workerA2": w.worker2}
	// The member that a change adds: a third volunteer of the community's grid.
	extra := map[string]ledger.Member{}
	for i, c := range []string{"A", "B"} {
		m, err := e.store.CreateMember(ctx, ledger.Member{Name: "邻居" + c, Phone: fmt.Sprintf("1360000000%d", i), UnitID: w.grid[c].ID}, "")
		if err != nil {
			t.Fatal(err)
		}
		extra[c] = m
	}
	type row struct {
		name          string
		method        string
		path          func(c string) string
		body          func(c string, n int) any
		want          map[string][2]int // by role: community A's household, then B's
		changes       bool
		anonymousCode int
	}
	manage := func(okA, okB int) map[string][2]int {
		return map[string][2]int{"volunteer": {403, 403}, "minor": {403, 403}, "clerk": {403, 403},
			"organizerA": {okA, 404}, "organizerB": {404, okB}, "admin": {okA, okB},
			"workerA": {okA, 404}, "workerB": {404, okB}, "workerA2": {404, 404}}
	}
	read := func(ok, minor int) map[string][2]int {
		return map[string][2]int{"volunteer": {ok, 404}, "minor": {minor, 404}, "clerk": {403, 403},
			"organizerA": {ok, 404}, "organizerB": {404, ok}, "admin": {ok, ok},
			"workerA": {ok, 404}, "workerB": {404, ok}, "workerA2": {404, 404}}
	}
	hpath := func(suffix string) func(c string) string {
		return func(c string) string { return "/api/v1/households/" + w.home[c].ID.String() + suffix }
	}
	rows := []row{
		{name: "Get", method: "GET", path: hpath(""), want: read(200, 200)},
		{name: "Balance", method: "GET", path: hpath("/balance"), want: read(200, 200)},
		{name: "Entries", method: "GET", path: hpath("/entries"), want: read(200, 403)},
		{name: "Candidates", method: "GET", path: hpath("/candidates?q=邻居"), want: manage(200, 200)},
		{name: "SetMembers", method: "PUT", path: hpath("/members"), changes: true, body: func(c string, n int) any {
			head := w.member[c].ID
			if n%2 == 1 {
				head = extra[c].ID
			}
			return map[string]any{"members": []map[string]any{{"member_id": w.member[c].ID}, {"member_id": w.other[c].ID, "minor": true},
				{"member_id": extra[c].ID}}, "head_id": head}
		}, want: manage(200, 200)},
		{name: "Create", method: "POST", path: func(string) string { return "/api/v1/households" }, changes: true, body: func(c string, n int) any {
			return map[string]any{"address": fmt.Sprintf("%d单元101室", n), "unit_id": w.grid[c].ID}
		}, want: map[string][2]int{"volunteer": {403, 403}, "minor": {403, 403}, "clerk": {403, 403},
			"organizerA": {201, 404}, "organizerB": {404, 201}, "admin": {201, 201},
			// Grid workers look after their households' members; organisers make households.
			"workerA": {403, 404}, "workerB": {404, 403}, "workerA2": {404, 404}}},
		{name: "ListOfUnit", method: "GET", path: func(c string) string { return "/api/v1/households?unit_id=" + w.grid[c].ID.String() }, want: manage(200, 200)},
		{name: "MemberHousehold", method: "GET", path: func(c string) string { return "/api/v1/members/" + w.member[c].ID.String() + "/household" },
			want: map[string][2]int{"volunteer": {200, 404}, "minor": {404, 404}, "clerk": {403, 403}, "organizerA": {200, 404}, "organizerB": {404, 200},
				"admin": {200, 200}, "workerA": {200, 404}, "workerB": {404, 200}, "workerA2": {404, 404}}},
		{name: "ShopSetting", method: "PATCH", path: func(c string) string { return "/api/v1/shops/" + w.shop[c].ID.String() }, changes: true,
			body: func(c string, n int) any { return map[string]any{"households": n%2 == 0} },
			want: map[string][2]int{"volunteer": {403, 403}, "minor": {403, 403}, "clerk": {403, 403}, "organizerA": {200, 404}, "organizerB": {404, 200},
				"admin": {200, 200}, "workerA": {403, 403}, "workerB": {403, 403}, "workerA2": {403, 403}}},
	}
	snapshot := func() string {
		var b strings.Builder
		b.WriteString(e.snapshot(w.world))
		hs, _ := e.store.Households(ctx, ledger.Scope{All: true})
		fmt.Fprintf(&b, "%+v", hs)
		return b.String()
	}
	n := 0
	for _, r := range rows {
		for role, want := range r.want {
			for i, c := range []string{"A", "B"} {
				t.Run(fmt.Sprintf("%s/%s/%s", r.name, role, c), func(t *testing.T) {
					n++
					var body *strings.Reader
					if r.body != nil {
						body = jsonReader(r.body(c, n))
					}
					before := snapshot()
					var res response
					if body != nil {
						res = e.do(r.method, r.path(c), body, e.session(roles[role]))
					} else {
						res = e.do(r.method, r.path(c), nil, e.session(roles[role]))
					}
					if res.StatusCode != want[i] {
						t.Fatalf("%s %s as %s: %d, want %d: %s", r.method, r.path(c), role, res.StatusCode, want[i], res.body)
					}
					if res.StatusCode == 404 && strings.Contains(string(res.body), w.home[c].Address) {
						t.Fatalf("a 404 shows the household: %s", res.body)
					}
					if res.StatusCode >= 400 && r.changes && snapshot() != before {
						t.Fatal("a refused request changed something")
					}
				})
			}
		}
		// Not logged in: 401 everywhere.
		var body *strings.Reader
		if r.body != nil {
			body = jsonReader(r.body("A", 0))
		}
		var res response
		if body != nil {
			res = e.do(r.method, r.path("A"), body, nil)
		} else {
			res = e.do(r.method, r.path("A"), nil, nil)
		}
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s anonymous: %d", r.name, res.StatusCode)
		}
	}
	// An unknown household and a malformed id are the same 404.
	org := e.session(w.users["organizerA"])
	for _, p := range []string{uuid.New().String(), "42", "../" + w.home["A"].ID.String()} {
		res := e.get("/api/v1/households/"+p, org)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
	}
	// A volunteer sees their household without the others' phones or own points.
	var h householdView
	e.get("/api/v1/households/"+w.home["A"].ID.String(), e.session(w.users["volunteer"])).decode(t, &h)
	if !h.MaySpend || len(h.Members) != 3 {
		t.Fatalf("%+v", h)
	}
	for _, m := range h.Members {
		if m.Phone != "" || m.Points != nil {
			t.Fatalf("a volunteer sees %+v", m)
		}
	}
	e.get("/api/v1/households/"+w.home["A"].ID.String(), e.session(w.minorUser)).decode(t, &h)
	if h.MaySpend {
		t.Fatal("the minor may spend")
	}
}

// TestHouseholdBadInput: what a household's routes refuse, and what each
// refusal says.
func TestHouseholdBadInput(t *testing.T) {
	e := newEnv(t)
	w := newHouseholdWorld(t, e)
	org := e.session(w.users["organizerA"])
	hp := "/api/v1/households/" + w.home["A"].ID.String()
	for _, tc := range []struct {
		name, method, path string
		body               any
		raw                string
		status             int
		key                string
	}{
		{"NoAddress", "POST", "/api/v1/households", map[string]any{"address": " ", "unit_id": w.grid["A"].ID}, "", 400, "请填写门牌"},
		{"LongAddress", "POST", "/api/v1/households", map[string]any{"address": strings.Repeat("户", 61), "unit_id": w.grid["A"].ID}, "", 400, "最多 60 个字"},
		{"Formula", "POST", "/api/v1/households", map[string]any{"address": "=1+1", "unit_id": w.grid["A"].ID}, "", 400, ""},
		{"InCommunity", "POST", "/api/v1/households", map[string]any{"address": "1单元", "unit_id": w.unit["A"].ID}, "", 400, "网格或楼栋"},
		{"UnknownUnit", "POST", "/api/v1/households", map[string]any{"address": "1单元", "unit_id": uuid.New()}, "", 404, ""},
		{"OtherCommunity", "POST", "/api/v1/households", map[string]any{"address": "1单元", "unit_id": w.grid["B"].ID}, "", 404, ""},
		{"UnknownField", "POST", "/api/v1/households", map[string]any{"address": "1单元", "unit_id": w.grid["A"].ID, "points": 9}, "", 400, ""},
		{"NotJSON", "POST", "/api/v1/households", nil, "{address", 400, ""},
		{"MinorHead", "PUT", hp + "/members", map[string]any{"members": []map[string]any{{"member_id": w.other["A"].ID, "minor": true}}, "head_id": w.other["A"].ID}, "", 400, "户主"},
		{"NoHead", "PUT", hp + "/members", map[string]any{"members": []map[string]any{{"member_id": w.member["A"].ID}}}, "", 400, "户主"},
		{"Twice", "PUT", hp + "/members", map[string]any{"members": []map[string]any{{"member_id": w.member["A"].ID}, {"member_id": w.member["A"].ID}}, "head_id": w.member["A"].ID}, "", 400, ""},
		{"OutsideScope", "PUT", hp + "/members", map[string]any{"members": []map[string]any{{"member_id": w.member["A"].ID}, {"member_id": w.member["B"].ID}}, "head_id": w.member["A"].ID}, "", 404, ""},
		{"UnknownMember", "PUT", hp + "/members", map[string]any{"members": []map[string]any{{"member_id": w.member["A"].ID}, {"member_id": uuid.New()}}, "head_id": w.member["A"].ID}, "", 404, ""},
		{"TooMany", "PUT", hp + "/members", map[string]any{"members": make([]map[string]any, 21)}, "", 400, "最多 20 人"},
		{"ListParam", "GET", "/api/v1/households?page=2", nil, "", 400, "page"},
		{"ListLimit", "GET", "/api/v1/households?limit=0", nil, "", 400, ""},
		{"ListUnit", "GET", "/api/v1/households?unit_id=x", nil, "", 400, ""},
		{"ListOtherUnit", "GET", "/api/v1/households?unit_id=" + w.grid["B"].ID.String(), nil, "", 404, ""},
		{"ListAfter", "GET", "/api/v1/households?after=" + uuid.New().String(), nil, "", 400, ""},
		{"ListLongQuery", "GET", "/api/v1/households?q=" + strings.Repeat("张", 65), nil, "", 400, ""},
		{"EntriesBefore", "GET", hp + "/entries?before=x", nil, "", 400, ""},
		{"ShopNothing", "PATCH", "/api/v1/shops/" + w.shop["A"].ID.String(), map[string]any{}, "", 400, "没有要修改"},
		{"ShopBadValue", "PATCH", "/api/v1/shops/" + w.shop["A"].ID.String(), map[string]any{"households": "yes"}, "", 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res response
			switch {
			case tc.raw != "":
				res = e.do(tc.method, tc.path, strings.NewReader(tc.raw), org)
			case tc.body != nil:
				res = e.do(tc.method, tc.path, jsonReader(tc.body), org)
			default:
				res = e.do(tc.method, tc.path, nil, org)
			}
			wantStatus(t, res, tc.status)
			if msg, _ := res.errorBody(t)["message"].(string); !strings.Contains(msg, tc.key) {
				t.Fatalf("message %q, want it to say %q", msg, tc.key)
			}
		})
	}
}

// TestHouseholdVouchersByAPI: an adult pays from the household on their
// phone; the same request again (its key) is the first voucher; the same key
// for their own points is a conflict; a minor, a member of another
// household and a shop without household points are refused with a clear
// message; an organiser issues one on a member's behalf from the household.
func TestHouseholdVouchersByAPI(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.HouseholdOpeningPoints = 60 })
	w := newHouseholdWorld(t, e)
	vol, minor := e.session(w.users["volunteer"]), e.session(w.minorUser)
	home := w.home["A"]
	if home.Points != 60 || home.Available != 60 {
		t.Fatalf("opening points: %+v", home)
	}
	rice := func(q int) []map[string]any { return []map[string]any{{"item_id": w.item["A"].ID, "qty": q}} }
	req := map[string]any{"shop_id": w.shop["A"].ID, "items": rice(2), "household_id": home.ID}
	res := e.do("POST", "/api/v1/vouchers", jsonReader(req), vol, "Idempotency-Key", "0193a000-0000-7000-8000-00000000aa01")
	wantStatus(t, res, http.StatusCreated)
	var v voucherView
	res.decode(t, &v)
	if v.HouseholdID != home.ID || v.Points != 20 {
		t.Fatalf("%+v", v)
	}
	res = e.do("POST", "/api/v1/vouchers", jsonReader(req), vol, "Idempotency-Key", "0193a000-0000-7000-8000-00000000aa01")
	wantStatus(t, res, http.StatusCreated)
	var again voucherView
	res.decode(t, &again)
	if again.ID != v.ID {
		t.Fatalf("a replay made another voucher: %v", again.ID)
	}
	own := map[string]any{"shop_id": w.shop["A"].ID, "items": rice(2)}
	res = e.do("POST", "/api/v1/vouchers", jsonReader(own), vol, "Idempotency-Key", "0193a000-0000-7000-8000-00000000aa01")
	wantStatus(t, res, http.StatusConflict)
	var b householdBalanceView
	e.get("/api/v1/households/"+home.ID.String()+"/balance", vol).decode(t, &b)
	if b.Points != 60 || b.Held != 20 || b.Available != 40 {
		t.Fatalf("%+v", b)
	}
	var mb balanceView
	e.get("/api/v1/members/"+w.member["A"].ID.String()+"/balance", vol).decode(t, &mb)
	if mb.Points != 1000 || mb.Held != 10 || mb.Available != 990 { // the world's own voucher of 10
		t.Fatalf("the volunteer's own points: %+v", mb)
	}

	// Refusals, with what they say.
	res = e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"shop_id": w.shop["A"].ID, "items": rice(1), "household_id": home.ID}), minor)
	wantStatus(t, res, http.StatusForbidden)
	if msg := res.errorBody(t)["message"].(string); !strings.Contains(msg, "未成年") {
		t.Fatalf("%q", msg)
	}
	res = e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"shop_id": w.shop["A"].ID, "items": rice(1), "household_id": w.home["B"].ID}), vol)
	wantStatus(t, res, http.StatusForbidden)
	if msg := res.errorBody(t)["message"].(string); !strings.Contains(msg, "不是这一户的成员") {
		t.Fatalf("%q", msg)
	}
	org := e.session(w.users["organizerA"])
	wantStatus(t, e.do("PATCH", "/api/v1/shops/"+w.shop["A"].ID.String(), jsonReader(map[string]any{"households": false}), org), http.StatusOK)
	res = e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"shop_id": w.shop["A"].ID, "items": rice(1), "household_id": home.ID}), vol)
	wantStatus(t, res, http.StatusForbidden)
	if msg := res.errorBody(t)["message"].(string); !strings.Contains(msg, "不收家庭积分") {
		t.Fatalf("%q", msg)
	}
	var sv shopView
	res = e.do("PATCH", "/api/v1/shops/"+w.shop["A"].ID.String(), jsonReader(map[string]any{"households": true}), org)
	res.decode(t, &sv)
	if !sv.Households {
		t.Fatalf("%+v", sv)
	}
	// An organiser on the member's behalf (代兑), from the household.
	res = e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"member_id": w.member["A"].ID, "shop_id": w.shop["A"].ID, "items": rice(1),
		"household_id": home.ID, "presence": "proxy"}), org, "Idempotency-Key", "0193a000-0000-7000-8000-00000000aa02")
	wantStatus(t, res, http.StatusCreated)
	res.decode(t, &v)
	if v.HouseholdID != home.ID || !v.Proxy {
		t.Fatalf("%+v", v)
	}
	// The minor cannot be made to spend it by an organiser either.
	res = e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"member_id": w.other["A"].ID, "shop_id": w.shop["A"].ID, "items": rice(1),
		"household_id": home.ID, "presence": "proxy"}), org)
	wantStatus(t, res, http.StatusForbidden)

	// The household's entries, newest first, for the adult; not for the minor.
	var page memberEntriesPage
	e.get("/api/v1/households/"+home.ID.String()+"/entries?limit=2", vol).decode(t, &page)
	if len(page.Entries) != 2 || page.Entries[0].Kind != ledger.KindHold || page.NextBefore == 0 {
		t.Fatalf("%+v", page)
	}
	e.get(fmt.Sprintf("/api/v1/households/%s/entries?before=%d", home.ID, page.NextBefore), vol).decode(t, &page)
	if len(page.Entries) != 1 || page.Entries[0].Kind != ledger.KindAward || page.Entries[0].Reference != "household:"+home.ID.String() {
		t.Fatalf("%+v", page)
	}
	res = e.get("/api/v1/households/"+home.ID.String()+"/entries", minor)
	wantStatus(t, res, http.StatusForbidden)

	// Two phones at once on the last points: 30 left, 20 each; one wins.
	e.get("/api/v1/households/"+home.ID.String()+"/balance", vol).decode(t, &b)
	if b.Available != 30 {
		t.Fatalf("%+v", b)
	}
	second, err := e.store.CreateMember(ctx, ledger.Member{Name: "配偶A", Phone: "13500000001", UnitID: w.grid["A"].ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.do("PUT", "/api/v1/households/"+home.ID.String()+"/members", jsonReader(map[string]any{
		"members": []map[string]any{{"member_id": w.member["A"].ID}, {"member_id": w.other["A"].ID, "minor": true}, {"member_id": second.ID}},
		"head_id": w.member["A"].ID}), org), http.StatusOK)
	su, _ := e.store.UserByLogin(ctx, second.Phone)
	phones := []*http.Cookie{vol, e.session(su)}
	codes := make([]int, 2)
	var wg sync.WaitGroup
	for i, p := range phones {
		wg.Go(func() {
			codes[i] = e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"shop_id": w.shop["A"].ID, "items": rice(2), "household_id": home.ID}), p,
				"Idempotency-Key", fmt.Sprintf("0193a000-0000-7000-8000-0000000000b%d", i)).StatusCode
		})
	}
	wg.Wait()
	if !(codes[0] == 201 && codes[1] == 409 || codes[0] == 409 && codes[1] == 201) {
		t.Fatalf("two phones: %v", codes)
	}
	e.get("/api/v1/households/"+home.ID.String()+"/balance", vol).decode(t, &b)
	if b.Available != 10 || b.Held != 50 || b.Points != 60 {
		t.Fatalf("%+v", b)
	}
	if rep, err := e.store.Verify(ctx); err != nil || !rep.OK {
		t.Fatalf("%+v %v", rep, err)
	}
}

// TestHouseholdList: the list filters by unit and finds a household by a
// part of its address or a member's name, in the order of the tree and
// then of the addresses, a page at a time.
func TestHouseholdList(t *testing.T) {
	e := newEnv(t)
	w := newHouseholdWorld(t, e)
	org := e.session(w.users["organizerA"])
	for _, addr := range []string{"10单元101室", "2单元101室", "1单元101室"} {
		wantStatus(t, e.do("POST", "/api/v1/households", jsonReader(map[string]any{"address": addr, "unit_id": w.grid2.ID}), org), http.StatusCreated)
	}
	list := func(q string) householdsPage {
		t.Helper()
		var p householdsPage
		res := e.get("/api/v1/households?"+q, org)
		wantStatus(t, res, http.StatusOK)
		res.decode(t, &p)
		return p
	}
	addrs := func(p householdsPage) string {
		var out []string
		for _, h := range p.Households {
			out = append(out, h.Address)
		}
		return strings.Join(out, ",")
	}
	if got := addrs(list("")); got != "3单元502室,1单元101室,2单元101室,10单元101室" {
		t.Fatalf("order %s", got)
	}
	if got := addrs(list("unit_id=" + w.grid2.ID.String())); got != "1单元101室,2单元101室,10单元101室" {
		t.Fatalf("by unit %s", got)
	}
	if got := addrs(list("q=2单元")); got != "2单元101室" {
		t.Fatalf("by address %s", got)
	}
	p := list("q=志愿者")
	if addrs(p) != "3单元502室" || p.Households[0].HeadName != "志愿者A" || p.Households[0].UnitLabel != "A社区 / 第一网格" {
		t.Fatalf("by name %+v", p)
	}
	first := list("limit=2")
	if first.Total != 4 || len(first.Households) != 2 || first.NextAfter == "" {
		t.Fatalf("%+v", first)
	}
	next := list("limit=2&after=" + first.NextAfter)
	if addrs(next) != "2单元101室,10单元101室" || next.NextAfter != "" {
		t.Fatalf("%+v", next)
	}
	// The grid worker of the second grid sees only its households.
	if got := e.get("/api/v1/households", e.session(w.worker2)); !strings.Contains(string(got.body), "10单元101室") || strings.Contains(string(got.body), "3单元502室") {
		t.Fatalf("%s", got.body)
	}
	// Candidates: the community's members by name, saying who is in a household already.
	var cands map[string][]candidateView
	e.get("/api/v1/households/"+next.Households[0].ID.String()+"/candidates?q=A", org).decode(t, &cands)
	found := map[string]candidateView{}
	for _, cv := range cands["members"] {
		found[cv.Name] = cv
	}
	if found["志愿者A"].HouseholdID != w.home["A"].ID || !strings.Contains(found["志愿者A"].HouseholdAddress, "3单元502室") || len(found) != 2 {
		t.Fatalf("%+v", cands)
	}
}

// TestHouseholdPages: the organiser's households list and a household's
// page, and the volunteer's own, for whom they are and in both languages,
// follow the CSP and load scripts that exist; another community's
// household is the 404 page; other roles get the 403 page.
func TestHouseholdPages(t *testing.T) {
	e := newEnv(t)
	w := newHouseholdWorld(t, e)
	orgA, orgB := e.session(w.users["organizerA"]), e.session(w.users["organizerB"])
	vol, worker := e.session(w.users["volunteer"]), e.session(w.worker["A"])
	homeA := "/admin/households/" + w.home["A"].ID.String()
	for _, tc := range []struct {
		path   string
		cookie *http.Cookie
		status int
	}{
		{"/admin/households", orgA, 200}, {homeA, orgA, 200}, {"/m/household", vol, 200},
		{"/admin/households", e.session(w.users["admin"]), 200}, {homeA, e.session(w.users["admin"]), 200},
		{homeA, orgB, 404}, {"/admin/households/" + uuid.New().String(), orgA, 404},
		{"/admin/households", vol, 403}, {homeA, vol, 403}, {"/admin/households", worker, 403},
		{"/admin/households", e.session(w.users["clerk"]), 403}, {"/m/household", orgA, 403},
		{"/admin/members/" + w.member["A"].ID.String(), orgA, 200}, {"/m/", vol, 200}, {"/m/shop", vol, 200}, {"/admin/shops/" + w.shop["A"].ID.String(), orgA, 200},
	} {
		for _, lang := range []string{langZH, langEN} {
			t.Run(tc.path+"/"+lang, func(t *testing.T) {
				res := e.get(tc.path+"?lang="+lang, tc.cookie)
				wantStatus(t, res, tc.status)
				if tc.status != 200 {
					if strings.Contains(string(res.body), w.home["A"].Address) {
						t.Fatal("a refusal shows the household")
					}
					return
				}
				msgs := checkPage(t, string(res.body), lang)
				if msgs["js.household.head"] != e.catalogue().T(lang, "js.household.head") {
					t.Errorf("#messages lacks the household's messages in %s", lang)
				}
			})
		}
	}
	res := e.get("/admin/households", nil)
	if res.Request.URL.Path != "/" || res.Request.URL.Query().Get("next") != "/admin/households" {
		t.Fatalf("not logged in: sent to %v", res.Request.URL)
	}
}

// TestExportHouseholds: the monthly export's household view lists each
// household of the scope with its members and its account's month, apart
// from the members' own; with a household voucher open and one redeemed,
// the administrator's export still reconciles against the escrow and the
// shops (the households counted), and the organiser of the other community
// sees none of A's households.
func TestExportHouseholds(t *testing.T) {
	e, w := exportWorld(t)
	st := e.store
	if _, err := st.SetShopHouseholds(ctx, w.shop["A"].ID, true); err != nil {
		t.Fatal(err)
	}
	home, err := st.CreateHousehold(ctx, "3单元502室", w.grid["A"].ID, 60)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateHousehold(ctx, "1单元101室", w.grid["A"].ID, 0); err != nil {
		t.Fatal(err)
	}
	if home, err = st.SetHouseholdMembers(ctx, home.ID, ledger.HouseholdChange{HeadID: w.member["A"].ID,
		Members: []ledger.HouseholdMember{{MemberID: w.member["A"].ID}, {MemberID: w.other["A"].ID, Minor: true}}}); err != nil {
		t.Fatal(err)
	}
	towel := []ledger.VoucherRequestLine{{ItemID: w.item["A"].ID, Qty: 2}}
	spent, err := st.IssueHouseholdVoucher(ctx, w.member["A"].ID, home.ID, w.shop["A"].ID, towel, uuid.Nil, ledger.PresenceSelf, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RedeemVoucher(ctx, spent.ID, w.shop["A"].ID, uuid.Nil, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := st.IssueHouseholdVoucher(ctx, w.member["A"].ID, home.ID, w.shop["A"].ID, towel[:1], uuid.Nil, ledger.PresenceSelf, ""); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Hour)
	orgA, orgB := e.session(w.users["organizerA"]), e.session(w.users["organizerB"])
	res := e.get("/api/v1/exports/monthly?month=2026-04&format=csv&by=household", orgA)
	wantStatus(t, res, http.StatusOK)
	golden(t, "households-organiser-a.csv", stable(res.body))
	res = e.get("/api/v1/exports/monthly?month=2026-04&format=csv&by=household&lang=en", e.session(w.users["admin"]))
	wantStatus(t, res, http.StatusOK)
	golden(t, "households-admin-en.csv", stable(res.body))
	var preview struct {
		Reconciles bool         `json:"reconciles"`
		Notes      []string     `json:"notes"`
		View       report.Sheet `json:"view"`
	}
	e.get("/api/v1/exports/monthly?month=2026-04&format=json&by=household", e.session(w.users["admin"])).decode(t, &preview)
	if !preview.Reconciles || len(preview.View.Rows) != 2 {
		t.Fatalf("%+v", preview)
	}
	if !strings.Contains(strings.Join(preview.Notes, "\n"), "全体志愿者和家庭待兑换之和 20 = 兑换券托管账户月末余额 20 ✓") {
		t.Fatalf("the escrow check does not count the household's open voucher: %v", preview.Notes)
	}
	e.get("/api/v1/exports/monthly?month=2026-04&format=json&by=household", orgB).decode(t, &preview)
	if len(preview.View.Rows) != 0 {
		t.Fatalf("another community's organiser sees %v", preview.View.Rows)
	}
	res = e.get("/api/v1/exports/monthly?month=2026-04&format=xlsx&by=household", orgA)
	wantStatus(t, res, http.StatusOK)
	if !strings.Contains(string(reporttest.DumpXLSX(t, res.body)), "3单元502室") {
		t.Fatal("the workbook lacks the household")
	}
}

// TestNoticeHouseholds: the public notice shows the month's household
// totals and, by place, what households were awarded and redeemed: the grid,
// building and entrance, never a door number or a name; another community's
// households are not in it.
func TestNoticeHouseholds(t *testing.T) {
	e, w := exportWorld(t)
	st := e.store
	building, err := st.CreateUnit(ctx, "5号楼", ledger.UnitBuilding, w.grid["A"].ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetShopHouseholds(ctx, w.shop["A"].ID, true); err != nil {
		t.Fatal(err)
	}
	homes := map[string]ledger.Household{}
	for _, h := range []struct {
		addr string
		unit uuid.UUID
		pts  ledger.Points
	}{{"3单元502室", w.grid["A"].ID, 60}, {"3单元601室", w.grid["A"].ID, 60}, {"2单元101室", building.ID, 60}, {"幸福路18号", w.grid["A"].ID, 0}, {"9单元909室", w.grid["B"].ID, 60}} {
		if homes[h.addr], err = st.CreateHousehold(ctx, h.addr, h.unit, h.pts); err != nil {
			t.Fatal(err)
		}
	}
	home, err := st.SetHouseholdMembers(ctx, homes["3单元502室"].ID, ledger.HouseholdChange{HeadID: w.member["A"].ID,
		Members: []ledger.HouseholdMember{{MemberID: w.member["A"].ID}}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := st.IssueHouseholdVoucher(ctx, w.member["A"].ID, home.ID, w.shop["A"].ID, []ledger.VoucherRequestLine{{ItemID: w.item["A"].ID, Qty: 3}}, uuid.Nil, ledger.PresenceSelf, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RedeemVoucher(ctx, v.ID, w.shop["A"].ID, uuid.Nil, ""); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.do("PATCH", "/api/v1/units/"+w.unit["A"].ID.String(), jsonReader(map[string]any{"public_notice": true}), e.session(w.users["organizerA"])), http.StatusOK)
	res := e.get("/notice/"+w.unit["A"].ID.String()+"?month=2026-04", nil)
	wantStatus(t, res, http.StatusOK)
	html := string(res.body)
	for _, want := range []string{`<dd id="n-hh-count">4</dd>`, `<dd id="n-hh-awarded">180</dd>`, `<dd id="n-hh-redeemed">30</dd>`,
		`<td>第一网格 3单元</td><td class="num">2</td><td class="num">120</td><td class="num">30</td>`,
		`<td>第一网格 5号楼 2单元</td><td class="num">1</td><td class="num">60</td><td class="num">0</td>`} {
		if !strings.Contains(html, want) {
			t.Fatalf("notice lacks %q:\n%s", want, html)
		}
	}
	// (The month's chain hash is hex, and may hold any digits: it is left out.)
	noHash := regexp.MustCompile(`[0-9a-f]{64}`).ReplaceAllString(html, "")
	for _, never := range []string{"502", "601", "101室", "幸福路", "9单元", "志愿者A"} {
		if strings.Contains(noHash, never) {
			t.Fatalf("the notice shows %q", never)
		}
	}
	if m := pageInline.FindString(html); m != "" {
		t.Fatalf("inline %q", m)
	}
	// The month before they were made has no households.
	res = e.get("/notice/"+w.unit["A"].ID.String()+"?month=2026-03", nil)
	if html := string(res.body); strings.Contains(html, `n-hh`) {
		t.Fatalf("March: %s", html)
	}
}
