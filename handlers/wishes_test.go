package handlers

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/report"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"
)

// wishEnv is two communities of one street, A with two grids and a
// building, B with one grid; an organiser of each, a grid worker of A's
// first grid and one of its second, and volunteers: two of A (in A's
// team), one of B.
type wishEnv struct {
	*env
	street, a, b, gridA1, gridA2, gridB, building ledger.Unit
	team                                          ledger.Team
	volA, volA2, volB                             ledger.Member
	cookie                                        map[string]*http.Cookie
	users                                         map[string]ledger.User
}

func newWishEnv(t *testing.T, configure ...func(*Config)) *wishEnv {
	t.Helper()
	e := newEnv(t, configure...)
	st := e.store
	w := &wishEnv{env: e, cookie: map[string]*http.Cookie{}, users: map[string]ledger.User{}}
	// After every test the ledger verifies (before the store closes: cleanups run last first).
	t.Cleanup(func() {
		if rep, err := st.Verify(ctx); err != nil || !rep.OK {
			t.Errorf("verify: %+v %v", rep, err)
		}
	})
	must := func(u ledger.Unit, err error) ledger.Unit {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	w.street = must(st.CreateUnit(ctx, "蓉城街道", ledger.UnitStreet, uuid.Nil, nil))
	w.a = must(st.CreateUnit(ctx, "东河园社区", ledger.UnitCommunity, w.street.ID, nil))
	w.b = must(st.CreateUnit(ctx, "西华社区", ledger.UnitCommunity, w.street.ID, nil))
	w.gridA1 = must(st.CreateUnit(ctx, "第一网格", ledger.UnitGrid, w.a.ID, nil))
	w.gridA2 = must(st.CreateUnit(ctx, "第二网格", ledger.UnitGrid, w.a.ID, nil))
	w.gridB = must(st.CreateUnit(ctx, "第一网格", ledger.UnitGrid, w.b.ID, nil))
	w.building = must(st.CreateUnit(ctx, "3号楼", ledger.UnitBuilding, w.gridA1.ID, nil))
	var err error
	if w.team, err = st.CreateTeam(ctx, ledger.Team{Name: "东河园党员志愿服务队", Kind: ledger.TeamPartyVolunteer, UnitID: w.a.ID}); err != nil {
		t.Fatal(err)
	}
	member := func(name, phone string, unit uuid.UUID, teams ...uuid.UUID) ledger.Member {
		m, err := st.CreateMember(ctx, ledger.Member{Name: name, Phone: phone, UnitID: unit, TeamIDs: teams}, testHash())
		if err != nil {
			t.Fatal(err)
		}
		u, err := st.UserByLogin(ctx, phone)
		if err != nil {
			t.Fatal(err)
		}
		w.users[phone] = u
		return m
	}
	w.volA = member("王建国", "13900000001", w.gridA1.ID, w.team.ID)
	w.volA2 = member("李秀英", "13900000002", w.gridA2.ID, w.team.ID)
	w.volB = member("赵志强", "13900000003", w.gridB.ID)
	staff := func(login string, role ledger.Role, unit uuid.UUID) {
		u, err := st.CreateUser(ctx, ledger.User{Login: login, Name: "测试" + login, Role: role, UnitID: unit, PasswordHash: testHash()})
		if err != nil {
			t.Fatal(err)
		}
		w.users[login] = u
	}
	staff("orgA", ledger.RoleOrganizer, w.a.ID)
	staff("orgB", ledger.RoleOrganizer, w.b.ID)
	staff("gridA1", ledger.RoleGridWorker, w.gridA1.ID)
	staff("gridA2", ledger.RoleGridWorker, w.gridA2.ID)
	w.users["admin"] = e.users[ledger.RoleAdmin]
	w.users["clerk"] = e.users[ledger.RoleClerk]
	w.users["volA"], w.users["volA2"], w.users["volB"] = w.users["13900000001"], w.users["13900000002"], w.users["13900000003"]
	for name, u := range w.users {
		w.cookie[name] = e.session(u)
	}
	return w
}

// call sends a JSON request as who and decodes a 2xx answer into out.
func (w *wishEnv) call(who, method, path string, body any, out any, header ...string) response {
	w.t.Helper()
	var r io.Reader
	if body != nil {
		r = jsonReader(body)
	}
	res := w.do(method, path, r, w.cookie[who], header...)
	if out != nil && res.StatusCode < 300 {
		res.decode(w.t, out)
	}
	return res
}

// wish enters a wish for a resident of the building as orgA and takes it
// to status (published, claimed by volA for themself, fulfilled).
func (w *wishEnv) wish(status ledger.WishStatus, points int) wishView {
	w.t.Helper()
	var v wishView
	wantStatus(w.t, w.call("orgA", "POST", "/api/v1/wishes", map[string]any{"title": "给孙子买个新书包", "need": "书包破了，想要一个结实的双肩书包",
		"resident_name": "张小明", "resident_phone": "13812345678", "unit_id": w.building.ID, "points": points}, &v), http.StatusCreated)
	steps := []struct {
		until ledger.WishStatus
		who   string
		path  string
		body  any
	}{
		{ledger.WishPublished, "orgA", "publish", map[string]any{}},
		{ledger.WishClaimed, "volA", "claim", map[string]any{}},
		{ledger.WishFulfilled, "volA", "fulfil", map[string]any{"note": "书包已送到"}},
		{ledger.WishConfirmed, "orgA", "confirm", map[string]any{"how": "phone"}},
	}
	for _, s := range steps {
		if v.Status == status {
			break
		}
		wantStatus(w.t, w.call(s.who, "POST", "/api/v1/wishes/"+v.ID.String()+"/"+s.path, s.body, &v), http.StatusOK)
	}
	if v.Status != status {
		w.t.Fatalf("wish is %s, want %s", v.Status, status)
	}
	return v
}

// tinyPNG is a valid 1×1 PNG.
var tinyPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
	"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")

// fulfilForm is a multipart body: a note, participants and photos.
func fulfilForm(t *testing.T, note string, participants []uuid.UUID, photos ...[]byte) (io.Reader, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("note", note)
	for _, p := range participants {
		mw.WriteField("participant_ids", p.String())
	}
	for i, p := range photos {
		fw, err := mw.CreateFormFile("photo", fmt.Sprintf("p%d.png", i))
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(p)
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

// TestWishHTTPFlow: a grid worker enters a wish for an elderly resident; the
// organiser publishes it with points; the public wall shows it without the
// phone or the full name; a volunteer claims it and reports it done with a
// photo; the organiser confirms; the points are the volunteer's, once.
func TestWishHTTPFlow(t *testing.T) {
	w := newWishEnv(t)
	var v wishView
	key := uuid.NewString()
	body := map[string]any{"title": "代买降压药", "need": "腿脚不便，需要每月去社区医院代买降压药", "resident_name": "刘桂兰",
		"resident_phone": "028-85551234", "unit_id": w.building.ID}
	wantStatus(t, w.call("gridA1", "POST", "/api/v1/wishes", body, &v, "Idempotency-Key", key), http.StatusCreated)
	if v.Status != ledger.WishVerified || v.Resident != "刘桂兰" || v.ResidentPhone != "028-85551234" || v.Place != "第一网格 / 3号楼" {
		t.Fatalf("%+v", v)
	}
	var again wishView
	wantStatus(t, w.call("gridA1", "POST", "/api/v1/wishes", body, &again, "Idempotency-Key", key), http.StatusCreated)
	if again.ID != v.ID {
		t.Fatalf("a repeated entry made a second wish")
	}
	body["title"] = "代买别的药"
	wantStatus(t, w.call("gridA1", "POST", "/api/v1/wishes", body, nil, "Idempotency-Key", key), http.StatusConflict)
	// The grid worker may not publish or set points; the organiser does.
	id := v.ID.String()
	wantStatus(t, w.call("gridA1", "POST", "/api/v1/wishes/"+id+"/publish", map[string]any{"points": 10}, nil), http.StatusForbidden)
	wantStatus(t, w.call("orgA", "POST", "/api/v1/wishes/"+id+"/publish", map[string]any{"points": 101}, nil), http.StatusBadRequest)
	wantStatus(t, w.call("orgA", "POST", "/api/v1/wishes/"+id+"/publish", map[string]any{"points": 12}, &v), http.StatusOK)
	if v.Status != ledger.WishPublished || v.Points != 12 || !contains(v.Actions, "reject") || contains(v.Actions, "publish") {
		t.Fatalf("%+v", v)
	}

	// The public wall: off is 404, as for no community; on shows it masked.
	wall := "/wishes/" + w.a.ID.String()
	wantStatus(t, w.get(wall, nil), http.StatusNotFound)
	wantStatus(t, w.call("orgB", "PUT", "/api/v1/wish-walls/"+w.a.ID.String(), map[string]any{"on": true}, nil), http.StatusNotFound)
	wantStatus(t, w.call("orgA", "PUT", "/api/v1/wish-walls/"+w.gridA1.ID.String(), map[string]any{"on": true}, nil), http.StatusBadRequest)
	wantStatus(t, w.call("orgA", "PUT", "/api/v1/wish-walls/"+w.a.ID.String(), map[string]any{}, nil), http.StatusBadRequest)
	wantStatus(t, w.call("orgA", "PUT", "/api/v1/wish-walls/"+w.a.ID.String(), map[string]any{"on": true}, nil), http.StatusOK)
	res := w.get(wall, nil)
	wantStatus(t, res, http.StatusOK)
	page := string(res.body)
	for _, want := range []string{"代买降压药", "刘*兰", "第一网格 / 3号楼", "东河园社区"} {
		if !strings.Contains(page, want) {
			t.Errorf("the wall lacks %q", want)
		}
	}
	for _, never := range []string{"刘桂兰", "85551234", "028-", "/photos/"} {
		if strings.Contains(page, never) {
			t.Errorf("the wall shows %q", never)
		}
	}
	wantStatus(t, w.get("/wishes/"+w.b.ID.String(), nil), http.StatusNotFound)
	wantStatus(t, w.get("/wishes/"+w.gridA1.ID.String(), nil), http.StatusNotFound)
	wantStatus(t, w.get("/wishes/not-a-community", nil), http.StatusNotFound)

	// A volunteer of A sees it as the wall does, claims it and reports it done with a photo.
	var seen wishView
	wantStatus(t, w.call("volA", "GET", "/api/v1/wishes/"+id, nil, &seen), http.StatusOK)
	if seen.Resident != "刘*兰" || seen.ResidentPhone != "" || len(seen.History) != 0 || !contains(seen.Actions, "claim") {
		t.Fatalf("before claiming: %+v", seen)
	}
	wantStatus(t, w.call("volA", "POST", "/api/v1/wishes/"+id+"/claim", map[string]any{"team_id": w.team.ID}, &seen), http.StatusOK)
	if seen.Resident != "刘桂兰" || seen.ResidentPhone != "028-85551234" || seen.Claim.Team != w.team.Name || !contains(seen.Actions, "fulfil") ||
		len(seen.TeamMembers) != 2 {
		t.Fatalf("after claiming: %+v", seen)
	}
	wantStatus(t, w.call("volA2", "POST", "/api/v1/wishes/"+id+"/claim", map[string]any{}, nil), http.StatusConflict)
	form, ctype := fulfilForm(t, "药已买回，送到刘阿姨家", []uuid.UUID{w.volA.ID, w.volA2.ID}, tinyPNG)
	wantStatus(t, w.do("POST", "/api/v1/wishes/"+id+"/fulfil", form, w.cookie["volA2"], "Content-Type", ctype), http.StatusForbidden)
	form, ctype = fulfilForm(t, "药已买回，送到刘阿姨家", []uuid.UUID{w.volA.ID, w.volA2.ID}, tinyPNG)
	res = w.do("POST", "/api/v1/wishes/"+id+"/fulfil", form, w.cookie["volA"], "Content-Type", ctype)
	wantStatus(t, res, http.StatusOK)
	res.decode(t, &seen)
	if seen.Status != ledger.WishFulfilled || len(seen.Photos) != 1 || seen.Photos[0].Stage != ledger.WishPhotoFulfil || len(seen.Fulfilment.Participants) != 2 {
		t.Fatalf("after fulfilling: %+v", seen)
	}
	photo := strings.Split(seen.Photos[0].URL, "?")[0]
	res = w.get(photo, w.cookie["volA"])
	wantStatus(t, res, http.StatusOK)
	if res.Header.Get("Content-Type") != "image/png" || !bytes.Equal(res.body, tinyPNG) {
		t.Fatalf("photo %q %d bytes", res.Header.Get("Content-Type"), len(res.body))
	}
	wantStatus(t, w.get(photo, w.cookie["orgA"]), http.StatusOK)
	wantStatus(t, w.get(photo, w.cookie["volB"]), http.StatusNotFound)
	wantStatus(t, w.get(photo, w.cookie["orgB"]), http.StatusNotFound)
	if strings.Contains(string(w.get(wall, nil).body), "/photos/") {
		t.Fatal("the wall shows a photo")
	}

	// The organiser confirms, once; the points are shared 6 and 6.
	ck := uuid.NewString()
	wantStatus(t, w.call("orgA", "POST", "/api/v1/wishes/"+id+"/confirm", map[string]any{"how": "in_person", "note": "刘阿姨当面确认"}, &v, "Idempotency-Key", ck), http.StatusOK)
	wantStatus(t, w.call("orgA", "POST", "/api/v1/wishes/"+id+"/confirm", map[string]any{"how": "in_person", "note": "刘阿姨当面确认"}, nil, "Idempotency-Key", ck), http.StatusOK)
	res = w.call("admin", "POST", "/api/v1/wishes/"+id+"/confirm", map[string]any{"how": "phone"}, nil)
	wantStatus(t, res, http.StatusConflict)
	if res.errorBody(t)["confirmed_at"] == nil {
		t.Fatalf("a second confirmation does not say when: %s", res.body)
	}
	if v.Status != ledger.WishConfirmed || len(v.Awards) != 2 || v.Awards[0].Points != 6 || v.Confirmation.How != "in_person" {
		t.Fatalf("%+v", v)
	}
	// Once it is done, the claimer no longer sees the resident's phone; staff do.
	seen = wishView{}
	wantStatus(t, w.call("volA", "GET", "/api/v1/wishes/"+id, nil, &seen), http.StatusOK)
	if seen.ResidentPhone != "" || seen.Resident != "刘桂兰" {
		t.Fatalf("the claimer after confirmation: %q %q", seen.Resident, seen.ResidentPhone)
	}
	wantStatus(t, w.call("gridA1", "GET", "/api/v1/wishes/"+id, nil, &seen), http.StatusOK)
	if seen.ResidentPhone != "028-85551234" {
		t.Fatalf("the grid worker after confirmation: %q", seen.ResidentPhone)
	}
	for _, m := range []ledger.Member{w.volA, w.volA2} {
		var bal struct{ Points ledger.Points }
		wantStatus(t, w.call("admin", "GET", "/api/v1/members/"+m.ID.String()+"/balance", nil, &bal), http.StatusOK)
		if bal.Points != 6 {
			t.Fatalf("%s has %d points", m.Name, bal.Points)
		}
	}
	var entries struct{ Entries []ledger.Entry }
	wantStatus(t, w.call("volA", "GET", "/api/v1/members/"+w.volA.ID.String()+"/entries", nil, &entries), http.StatusOK)
	if len(entries.Entries) != 1 || entries.Entries[0].Kind != ledger.KindAward || entries.Entries[0].Reference != "wish:"+id || entries.Entries[0].Memo != "代买降压药" {
		t.Fatalf("entries %+v", entries.Entries)
	}
	// Withdraw and reject after confirmation: refused.
	wantStatus(t, w.call("gridA1", "POST", "/api/v1/wishes/"+id+"/withdraw", map[string]any{"reason": "搞错了"}, nil), http.StatusConflict)
	wantStatus(t, w.call("orgA", "POST", "/api/v1/wishes/"+id+"/reject", map[string]any{"reason": "搞错了"}, nil), http.StatusConflict)
	// The wall counts it: fulfilled by the team, rate 100 %.
	page = string(w.get(wall, nil).body)
	if !strings.Contains(page, w.team.Name) || !strings.Contains(page, "100%") {
		t.Errorf("the wall does not show the fulfilled wish and its rate")
	}
	rep, err := w.store.Verify(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestWishAuthz: every wish route on a wish of community A, as everyone:
// another community's organiser, the grid worker of another grid and a
// volunteer of another community get 404 (the wish is not there for them);
// a volunteer may not verify, publish, confirm or reject (403); nobody
// logged in gets 401; a refused request changes nothing.
func TestWishAuthz(t *testing.T) {
	w := newWishEnv(t)
	published := w.wish(ledger.WishPublished, 10)
	claimed := w.wish(ledger.WishClaimed, 10)
	fulfilled := w.wish(ledger.WishFulfilled, 10)
	routes := []struct {
		method, path string
		body         any
		wish         wishView
	}{
		{"GET", "", nil, published},
		{"POST", "/verify", map[string]any{}, published},
		{"POST", "/publish", map[string]any{}, published},
		{"POST", "/claim", map[string]any{}, published},
		{"POST", "/fulfil", map[string]any{"note": "done"}, claimed},
		{"POST", "/confirm", map[string]any{"how": "phone"}, fulfilled},
		{"POST", "/withdraw", map[string]any{"reason": "x"}, published},
		{"POST", "/reject", map[string]any{"reason": "x"}, published},
		{"POST", "/photos", nil, published},
		{"GET", "/photos/1", nil, published},
	}
	head := func() uint64 { h, _, _ := w.store.Head(ctx); return h }
	snapshot := func() string {
		all, _ := w.store.ListWishes(ctx, ledger.WishFilter{Scope: ledger.Scope{All: true}})
		var b strings.Builder
		for _, x := range all {
			fmt.Fprintf(&b, "%s %s %d|", x.ID, x.Status, len(x.History))
		}
		return b.String() + fmt.Sprint(head())
	}
	for _, who := range []string{"orgB", "gridA2", "volB", "clerk", "volA", "anonymous"} {
		for _, r := range routes {
			t.Run(who+" "+r.method+r.path, func(t *testing.T) {
				before := snapshot()
				path := "/api/v1/wishes/" + r.wish.ID.String() + r.path
				var res response
				if r.path == "/photos" {
					res = w.do("POST", path+"?filename=a.png", bytesReader(tinyPNG), w.cookie[who], "Content-Type", "image/png")
				} else {
					res = w.call(who, r.method, path, r.body, nil)
				}
				want := http.StatusNotFound
				switch {
				case who == "anonymous":
					want = http.StatusUnauthorized
				case who == "clerk":
					want = http.StatusForbidden
				case who == "volA":
					switch r.path {
					case "/verify", "/publish", "/confirm", "/reject":
						want = http.StatusForbidden // the role may not, whatever the wish
					case "", "/claim":
						want = http.StatusOK // the wall's wish of their community; they may claim it
					case "/withdraw", "/photos":
						want = http.StatusForbidden // not theirs
					case "/photos/1":
						want = http.StatusNotFound // no photo for the wall
					case "/fulfil":
						want = http.StatusOK // their own claim
					}
				case who == "volB" || who == "orgB" || who == "gridA2":
					switch r.path {
					case "/verify", "/publish", "/confirm", "/reject":
						if who == "volB" || who == "gridA2" {
							want = http.StatusForbidden // the role may not at all
						}
					case "/claim", "/fulfil":
						if who != "volB" {
							want = http.StatusForbidden // only volunteers claim and fulfil
						}
					}
				}
				if res.StatusCode != want {
					t.Fatalf("%d, want %d: %s", res.StatusCode, want, res.body)
				}
				if want >= 400 && snapshot() != before {
					t.Fatal("a refused request changed something")
				}
				if want == http.StatusNotFound && strings.Contains(string(res.body), "张小明") {
					t.Fatal("a 404 names the resident")
				}
			})
		}
	}
	// The lists: another community's organiser and volunteer, and the other
	// grid's worker, see none of A's first grid's wishes.
	for _, who := range []string{"orgB", "volB", "gridA2"} {
		var page wishListPage
		wantStatus(t, w.call(who, "GET", "/api/v1/wishes", nil, &page), http.StatusOK)
		if len(page.Wishes) != 0 {
			t.Errorf("%s sees %d wishes", who, len(page.Wishes))
		}
	}
	var page wishListPage
	wantStatus(t, w.call("gridA1", "GET", "/api/v1/wishes", nil, &page), http.StatusOK)
	if len(page.Wishes) != 3 || len(page.Units) != 2 { // the grid and its building
		t.Errorf("the grid worker sees %d wishes, %d units", len(page.Wishes), len(page.Units))
	}
	// A grid worker enters wishes only in their own grid, without points.
	entry := map[string]any{"title": "修理水龙头", "need": "厨房水龙头滴水", "resident_name": "周大爷", "unit_id": w.gridA2.ID}
	wantStatus(t, w.call("gridA1", "POST", "/api/v1/wishes", entry, nil), http.StatusNotFound)
	entry["unit_id"], entry["points"] = w.gridA1.ID, 5
	wantStatus(t, w.call("gridA1", "POST", "/api/v1/wishes", entry, nil), http.StatusForbidden)
	// A volunteer enters one for their own community only; it waits to be checked.
	delete(entry, "points")
	entry["unit_id"] = w.gridB.ID
	wantStatus(t, w.call("volA", "POST", "/api/v1/wishes", entry, nil), http.StatusNotFound)
	entry["unit_id"] = w.gridA2.ID
	var v wishView
	wantStatus(t, w.call("volA", "POST", "/api/v1/wishes", entry, &v), http.StatusCreated)
	if v.Status != ledger.WishSubmitted || !contains(v.Mine, "entered") || !contains(v.Actions, "withdraw") {
		t.Fatalf("%+v", v)
	}
	// Not on the wall yet: another volunteer of A does not see it; they cannot claim their own.
	wantStatus(t, w.call("volA2", "GET", "/api/v1/wishes/"+v.ID.String(), nil, nil), http.StatusNotFound)
	wantStatus(t, w.call("orgA", "POST", "/api/v1/wishes/"+v.ID.String()+"/verify", map[string]any{"points": 3}, nil), http.StatusOK)
	wantStatus(t, w.call("orgA", "POST", "/api/v1/wishes/"+v.ID.String()+"/publish", nil, nil), http.StatusOK)
	wantStatus(t, w.call("volA", "POST", "/api/v1/wishes/"+v.ID.String()+"/claim", nil, nil), http.StatusForbidden)
	wantStatus(t, w.call("volA2", "POST", "/api/v1/wishes/"+v.ID.String()+"/claim", nil, nil), http.StatusOK)
	// The wish walls: organisers of their own communities.
	wantStatus(t, w.call("volA", "GET", "/api/v1/wish-walls", nil, nil), http.StatusForbidden)
	wantStatus(t, w.call("gridA1", "PUT", "/api/v1/wish-walls/"+w.a.ID.String(), map[string]any{"on": true}, nil), http.StatusForbidden)
	var walls struct{ Walls []wishWallView }
	wantStatus(t, w.call("orgB", "GET", "/api/v1/wish-walls", nil, &walls), http.StatusOK)
	if len(walls.Walls) != 1 || walls.Walls[0].CommunityID != w.b.ID {
		t.Fatalf("organiser B sees walls %+v", walls.Walls)
	}
	// The ledger and the pages.
	wantStatus(t, w.call("gridA1", "GET", "/api/v1/exports/wishes", nil, nil), http.StatusForbidden)
	wantStatus(t, w.call("volA", "GET", "/admin/wishes", nil, nil), http.StatusForbidden)
	wantStatus(t, w.call("gridA1", "GET", "/admin/wishes", nil, nil), http.StatusOK)
	wantStatus(t, w.call("gridA1", "GET", "/admin/members", nil, nil), http.StatusForbidden)
	wantStatus(t, w.call("volA", "GET", "/m/wishes", nil, nil), http.StatusOK)
	wantStatus(t, w.call("orgA", "GET", "/m/wishes", nil, nil), http.StatusForbidden)
}

// TestWishBadInput: what a form or a script might send wrong is a 4xx
// that changes nothing.
func TestWishBadInput(t *testing.T) {
	w := newWishEnv(t)
	claimed := w.wish(ledger.WishClaimed, 10)
	good := map[string]any{"title": "买书包", "need": "书包", "resident_name": "张小明", "unit_id": w.gridA1.ID}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range good {
			m[a] = b
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name   string
		body   any
		status int
	}{
		{"NoTitle", with("title", nil), http.StatusBadRequest},
		{"NoResident", with("resident_name", ""), http.StatusBadRequest},
		{"NoUnit", with("unit_id", nil), http.StatusNotFound},
		{"UnknownUnit", with("unit_id", uuid.New()), http.StatusNotFound},
		{"CommunityUnit", with("unit_id", w.a.ID), http.StatusBadRequest},
		{"ControlCharacter", with("need", "书包\u0000"), http.StatusBadRequest},
		{"BidiOverride", with("resident_name", "张\u202e明"), http.StatusBadRequest},
		{"Formula", with("title", "=1+1"), http.StatusBadRequest},
		{"LongNeed", with("need", strings.Repeat("书", 501)), http.StatusBadRequest},
		// The title and the need go on the public wall: no phone, ID card or door numbers.
		{"PhoneInTitle", with("title", "电话 13812345678"), http.StatusBadRequest},
		{"SpacedPhoneInNeed", with("need", "联系 138 1234 5678"), http.StatusBadRequest},
		{"IDCardInNeed", with("need", "身份证110101199003077777"), http.StatusBadRequest},
		{"DoorInNeed", with("need", "住3单元502室"), http.StatusBadRequest},
		{"BadPhone", with("resident_phone", "call me"), http.StatusBadRequest},
		{"Points", with("points", 1000), http.StatusBadRequest},
		{"FractionalPoints", with("points", 2.5), http.StatusBadRequest},
		{"UnknownField", with("status", "confirmed"), http.StatusBadRequest},
		{"NotAnObject", []int{1}, http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := w.call("orgA", "POST", "/api/v1/wishes", tc.body, nil)
			wantStatus(t, res, tc.status)
		})
	}
	t.Run("HugeBody", func(t *testing.T) {
		huge := strings.NewReader(`{"title":"` + strings.Repeat("书", 1<<20) + `"}`)
		wantStatus(t, w.do("POST", "/api/v1/wishes", huge, w.cookie["orgA"]), http.StatusRequestEntityTooLarge)
	})
	t.Run("BadKey", func(t *testing.T) {
		wantStatus(t, w.call("orgA", "POST", "/api/v1/wishes", good, nil, "Idempotency-Key", "has space"), http.StatusBadRequest)
	})
	t.Run("ForgedIDs", func(t *testing.T) {
		for _, id := range []string{"not-a-uuid", uuid.NewString(), claimed.ID.String() + "x", claimed.ID.String()[:35]} {
			wantStatus(t, w.call("orgA", "GET", "/api/v1/wishes/"+id, nil, nil), http.StatusNotFound)
			wantStatus(t, w.call("orgA", "POST", "/api/v1/wishes/"+id+"/reject", map[string]any{"reason": "x"}, nil), http.StatusNotFound)
		}
		wantStatus(t, w.call("volA", "GET", "/api/v1/wishes/"+claimed.ID.String()+"/photos/x", nil, nil), http.StatusNotFound)
		wantStatus(t, w.call("volA", "GET", "/api/v1/wishes/"+claimed.ID.String()+"/photos/99", nil, nil), http.StatusNotFound)
	})
	t.Run("BadQueries", func(t *testing.T) {
		wantStatus(t, w.call("orgA", "GET", "/api/v1/wishes?status=lost", nil, nil), http.StatusBadRequest)
		wantStatus(t, w.call("orgA", "GET", "/api/v1/wishes?sort=x", nil, nil), http.StatusBadRequest)
		wantStatus(t, w.call("orgA", "GET", "/api/v1/exports/wishes?month=2026-13", nil, nil), http.StatusBadRequest)
		wantStatus(t, w.call("orgA", "GET", "/api/v1/exports/wishes?format=csv", nil, nil), http.StatusBadRequest)
	})
	path := "/api/v1/wishes/" + claimed.ID.String() + "/fulfil"
	before := func() string { x, _ := w.store.Wish(ctx, claimed.ID); return fmt.Sprint(x.Status, len(x.History)) }
	was := before()
	t.Run("FulfilWithoutNote", func(t *testing.T) {
		wantStatus(t, w.call("volA", "POST", path, map[string]any{"note": "   "}, nil), http.StatusBadRequest)
	})
	t.Run("FulfilFourPhotos", func(t *testing.T) {
		form, ctype := fulfilForm(t, "好了", nil, tinyPNG, tinyPNG, tinyPNG, tinyPNG)
		wantStatus(t, w.do("POST", path, form, w.cookie["volA"], "Content-Type", ctype), http.StatusBadRequest)
	})
	t.Run("FulfilNotAPicture", func(t *testing.T) {
		form, ctype := fulfilForm(t, "好了", nil, []byte("<html><script>alert(1)</script></html>"))
		wantStatus(t, w.do("POST", path, form, w.cookie["volA"], "Content-Type", ctype), http.StatusBadRequest)
	})
	t.Run("FulfilPictureTooLarge", func(t *testing.T) {
		form, ctype := fulfilForm(t, "好了", nil, append(bytes.Clone(tinyPNG), make([]byte, 600<<10)...))
		wantStatus(t, w.do("POST", path, form, w.cookie["volA"], "Content-Type", ctype), http.StatusBadRequest)
	})
	t.Run("FulfilBodyTooLarge", func(t *testing.T) {
		big := append(bytes.Clone(tinyPNG), make([]byte, 500<<10)...)
		form, ctype := fulfilForm(t, "好了", nil, big, big, big, big, big)
		wantStatus(t, w.do("POST", path, form, w.cookie["volA"], "Content-Type", ctype), http.StatusRequestEntityTooLarge)
	})
	t.Run("FulfilStrangeField", func(t *testing.T) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField("note", "好了")
		mw.WriteField("points", "100")
		mw.Close()
		wantStatus(t, w.do("POST", path, &b, w.cookie["volA"], "Content-Type", mw.FormDataContentType()), http.StatusBadRequest)
	})
	t.Run("FulfilForgedParticipant", func(t *testing.T) {
		form, ctype := fulfilForm(t, "好了", []uuid.UUID{uuid.New()})
		wantStatus(t, w.do("POST", path, form, w.cookie["volA"], "Content-Type", ctype), http.StatusBadRequest)
	})
	if got := before(); got != was {
		t.Fatalf("refused reports changed the wish: %s, was %s", got, was)
	}
	t.Run("ConfirmBadHow", func(t *testing.T) {
		f := w.wish(ledger.WishFulfilled, 5)
		wantStatus(t, w.call("orgA", "POST", "/api/v1/wishes/"+f.ID.String()+"/confirm", map[string]any{"how": "magic"}, nil), http.StatusBadRequest)
		wantStatus(t, w.call("orgA", "POST", "/api/v1/wishes/"+f.ID.String()+"/confirm", map[string]any{"how": "other"}, nil), http.StatusBadRequest)
		wantStatus(t, w.call("orgA", "POST", "/api/v1/wishes/"+f.ID.String()+"/reject", map[string]any{"reason": ""}, nil), http.StatusBadRequest)
	})
}

// TestWishClaimLapses: a claim not fulfilled in time goes back to the wall;
// fulfilling after that is refused.
func TestWishClaimLapses(t *testing.T) {
	w := newWishEnv(t)
	claimed := w.wish(ledger.WishClaimed, 10)
	w.clock.Add(8 * 24 * time.Hour)
	res := w.call("volA", "POST", "/api/v1/wishes/"+claimed.ID.String()+"/fulfil", map[string]any{"note": "晚了"}, nil)
	wantStatus(t, res, http.StatusGone)
	if r, err := w.store.LapseWishClaims(ctx); err != nil || r.Done != 1 {
		t.Fatalf("%+v %v", r, err)
	}
	var v wishView
	wantStatus(t, w.call("volA2", "GET", "/api/v1/wishes/"+claimed.ID.String(), nil, &v), http.StatusOK)
	if v.Status != ledger.WishPublished || !contains(v.Actions, "claim") {
		t.Fatalf("%+v", v)
	}
	// The former claimer still finds it among theirs, as the wall shows it.
	var mine wishListPage
	wantStatus(t, w.call("volA", "GET", "/api/v1/wishes?mine=true", nil, &mine), http.StatusOK)
	if len(mine.Wishes) != 1 || mine.Wishes[0].Resident != "张*明" || mine.Wishes[0].ResidentPhone != "" {
		t.Fatalf("%+v", mine.Wishes)
	}
}

// TestWishLedgerAndDashboard: the month's ledger as a workbook and the
// dashboard's figures agree with what happened.
func TestWishLedgerAndDashboard(t *testing.T) {
	w := newWishEnv(t)
	w.wish(ledger.WishConfirmed, 10)
	w.wish(ledger.WishPublished, 5)
	w.wish(ledger.WishClaimed, 5)
	var d report.Dashboard
	wantStatus(t, w.call("orgA", "GET", "/api/v1/dashboard", nil, &d), http.StatusOK)
	if d.Wishes == nil || d.Wishes.Open != 1 || d.Wishes.InHand != 1 || d.Wishes.Confirmed != 1 || d.Wishes.Points != 10 ||
		d.Wishes.Published != 3 || d.Wishes.Rate != 33 {
		t.Fatalf("dashboard %+v", d.Wishes)
	}
	wantStatus(t, w.call("orgB", "GET", "/api/v1/dashboard", nil, &d), http.StatusOK)
	if d.Wishes == nil || d.Wishes.Published != 0 {
		t.Fatalf("organiser B's dashboard counts A's wishes: %+v", d.Wishes)
	}
	res := w.call("orgA", "GET", "/api/v1/exports/wishes?month=2026-03", nil, nil)
	wantStatus(t, res, http.StatusOK)
	if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, "filename*=UTF-8''2026%E5%B9%B43%E6%9C%88") {
		t.Fatalf("Content-Disposition %q", cd)
	}
	f, err := excelize.OpenReader(bytes.NewReader(res.body))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	all := fmt.Sprint(rows)
	for _, want := range []string{"东河园社区 2026年3月微心愿台账", "给孙子买个新书包", "138****5678", "电话回访", "已实现", "实现率 33%"} {
		if !strings.Contains(all, want) {
			t.Errorf("the ledger lacks %q:\n%v", want, rows)
		}
	}
	if strings.Contains(all, "13812345678") {
		t.Error("the ledger shows a full phone number")
	}
	if len(rows) < 2+3 {
		t.Fatalf("%d rows", len(rows))
	}
	// Another month has none.
	var j struct{ Sheet report.Sheet }
	wantStatus(t, w.call("orgA", "GET", "/api/v1/exports/wishes?month=2026-02&format=json", nil, &j), http.StatusOK)
	if len(j.Sheet.Rows) != 0 {
		t.Fatalf("February has %d rows", len(j.Sheet.Rows))
	}
}

// TestWishWallLimits: the public wall is rate-limited per address like the notice.
func TestWishWallLimits(t *testing.T) {
	w := newWishEnv(t, func(c *Config) { c.PublicPerMinute = 3 })
	wantStatus(t, w.call("orgA", "PUT", "/api/v1/wish-walls/"+w.a.ID.String(), map[string]any{"on": true}, nil), http.StatusOK)
	for range 3 {
		wantStatus(t, w.get("/wishes/"+w.a.ID.String(), nil), http.StatusOK)
	}
	wantStatus(t, w.get("/wishes/"+w.a.ID.String(), nil), http.StatusTooManyRequests)
	// Switched off, the wall is gone, as an unknown community is.
	w.clock.Add(2 * time.Minute)
	wantStatus(t, w.call("orgA", "PUT", "/api/v1/wish-walls/"+w.a.ID.String(), map[string]any{"on": false}, nil), http.StatusOK)
	wantStatus(t, w.get("/wishes/"+w.a.ID.String(), nil), http.StatusNotFound)
}

// TestWishPages: the wish pages follow the CSP and carry their messages,
// in both languages; the grid worker's page has the grid worker's bar.
func TestWishPages(t *testing.T) {
	w := newWishEnv(t)
	for _, p := range []struct{ who, path string }{{"orgA", "/admin/wishes"}, {"gridA1", "/admin/wishes"}, {"volA", "/m/wishes"}} {
		for _, lang := range []string{langZH, langEN} {
			t.Run(p.who+p.path+lang, func(t *testing.T) {
				res := w.get(p.path+"?lang="+lang, w.cookie[p.who])
				wantStatus(t, res, http.StatusOK)
				msgs := checkPage(t, string(res.body), lang)
				if msgs["js.wishes.status.published"] == "" {
					t.Error("#messages lacks the wish messages")
				}
				if p.who == "gridA1" && strings.Contains(string(res.body), "/admin/members") {
					t.Error("the grid worker's bar links the organiser's pages")
				}
			})
		}
	}
}

// TestWishRacingClaimsHTTP: sixteen volunteers of the community tap 认领 at
// the same moment; one gets the wish, fifteen hear it was just taken.
func TestWishRacingClaimsHTTP(t *testing.T) {
	w := newWishEnv(t)
	wish := w.wish(ledger.WishPublished, 10)
	var cookies []*http.Cookie
	for i := range 16 {
		m, err := w.store.CreateMember(ctx, ledger.Member{Name: fmt.Sprintf("志愿者%d", i), Phone: fmt.Sprintf("1370000%04d", i), UnitID: w.gridA2.ID}, "")
		if err != nil {
			t.Fatal(err)
		}
		u, err := w.store.UserByLogin(ctx, m.Phone)
		if err != nil {
			t.Fatal(err)
		}
		cookies = append(cookies, w.session(u))
	}
	statuses := make([]int, len(cookies))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, ck := range cookies {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest("POST", w.srv.URL+"/api/v1/wishes/"+wish.ID.String()+"/claim", strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			req.AddCookie(ck)
			res, err := w.srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for _, st := range statuses {
		switch st {
		case http.StatusOK:
			won++
		case http.StatusConflict:
		default:
			t.Fatalf("statuses %v", statuses)
		}
	}
	if won != 1 {
		t.Fatalf("%d claims won: %v", won, statuses)
	}
}

// TestWishFourEyesOverHTTP: the organiser who set a 20-point wish's points
// is not offered confirming it, and is refused; an administrator is
// offered it and confirms. A smaller wish the setter confirms.
func TestWishFourEyesOverHTTP(t *testing.T) {
	w := newWishEnv(t)
	done := func(title string, points int) string {
		t.Helper()
		var v wishView
		wantStatus(t, w.call("orgA", "POST", "/api/v1/wishes", map[string]any{"title": title, "need": "需要" + title,
			"resident_name": "刘桂兰", "unit_id": w.building.ID, "points": points}, &v), http.StatusCreated)
		id := v.ID.String()
		wantStatus(t, w.call("orgA", "POST", "/api/v1/wishes/"+id+"/publish", map[string]any{}, nil), http.StatusOK)
		wantStatus(t, w.call("volA", "POST", "/api/v1/wishes/"+id+"/claim", map[string]any{}, nil), http.StatusOK)
		wantStatus(t, w.call("volA", "POST", "/api/v1/wishes/"+id+"/fulfil", map[string]any{"note": "办好了"}, nil), http.StatusOK)
		return id
	}
	big := done("陪同就医", 20)
	var v wishView
	wantStatus(t, w.call("orgA", "GET", "/api/v1/wishes/"+big, nil, &v), http.StatusOK)
	if contains(v.Actions, "confirm") {
		t.Fatalf("the setter is offered confirming: %v", v.Actions)
	}
	confirm := map[string]any{"how": "phone"}
	wantStatus(t, w.call("orgA", "POST", "/api/v1/wishes/"+big+"/confirm", confirm, nil), http.StatusForbidden)
	wantStatus(t, w.call("admin", "GET", "/api/v1/wishes/"+big, nil, &v), http.StatusOK)
	if !contains(v.Actions, "confirm") {
		t.Fatalf("the administrator is not offered confirming: %v", v.Actions)
	}
	wantStatus(t, w.call("admin", "POST", "/api/v1/wishes/"+big+"/confirm", confirm, nil), http.StatusOK)
	small := done("换灯泡", 5)
	wantStatus(t, w.call("orgA", "POST", "/api/v1/wishes/"+small+"/confirm", confirm, nil), http.StatusOK)
}
