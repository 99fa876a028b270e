package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"aixin/ledger"

	"github.com/google/uuid"
)

// awardWorld is a street with communities A and B, a grid each, an
// organiser of each community and one of the street, a grid worker of
// each grid, a volunteer of each grid with a login, and the behaviours
// 垃圾分类 (A, +2, photo), 见义勇为 (street, +50) and 乱扔垃圾 (A, −2).
type awardWorld struct {
	e                          *env
	street, a, b, gridA, gridB ledger.Unit
	orgA, orgB, orgS, gwA, gwB *http.Cookie
	volA, volB, clerk          *http.Cookie
	memA, memB                 ledger.Member
	sorting, hero, litter      ledger.Behaviour
}

func newAwardWorld(t *testing.T) *awardWorld {
	t.Helper()
	e := newEnv(t)
	st := e.store
	w := &awardWorld{e: e}
	must := func(u ledger.Unit, err error) ledger.Unit {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	w.street = must(st.CreateUnit(ctx, "幸福街道", ledger.UnitStreet, uuid.Nil, nil))
	w.a = must(st.CreateUnit(ctx, "东河园社区", ledger.UnitCommunity, w.street.ID, nil))
	w.b = must(st.CreateUnit(ctx, "西湖社区", ledger.UnitCommunity, w.street.ID, nil))
	w.gridA = must(st.CreateUnit(ctx, "第一网格", ledger.UnitGrid, w.a.ID, nil))
	w.gridB = must(st.CreateUnit(ctx, "第一网格", ledger.UnitGrid, w.b.ID, nil))
	staff := func(login string, role ledger.Role, unit uuid.UUID) *http.Cookie {
		if _, err := st.CreateUser(ctx, ledger.User{Login: login, Role: role, UnitID: unit, PasswordHash: testHash()}); err != nil {
			t.Fatal(err)
		}
		return e.login(login)
	}
	w.orgA, w.orgB, w.orgS = staff("org-a", ledger.RoleOrganizer, w.a.ID), staff("org-b", ledger.RoleOrganizer, w.b.ID), staff("org-s", ledger.RoleOrganizer, w.street.ID)
	w.gwA, w.gwB = staff("gw-a", ledger.RoleGridWorker, w.gridA.ID), staff("gw-b", ledger.RoleGridWorker, w.gridB.ID)
	w.clerk = e.login("clerk")
	var err error
	if w.memA, err = st.CreateMember(ctx, ledger.Member{Name: "张小明", Phone: "13800000001", UnitID: w.gridA.ID}, testHash()); err != nil {
		t.Fatal(err)
	}
	if w.memB, err = st.CreateMember(ctx, ledger.Member{Name: "李四", Phone: "13800000002", UnitID: w.gridB.ID}, testHash()); err != nil {
		t.Fatal(err)
	}
	w.volA, w.volB = e.login(w.memA.Phone), e.login(w.memB.Phone)
	beh := func(unit uuid.UUID, name string, points ledger.Points, photo bool) ledger.Behaviour {
		b, err := st.CreateBehaviour(ctx, ledger.Behaviour{UnitID: unit, Name: name, Category: "文明", Points: points, EvidenceRequired: photo})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	w.sorting, w.hero, w.litter = beh(w.a.ID, "垃圾分类", 2, true), beh(w.street.ID, "见义勇为", 50, false), beh(w.a.ID, "乱扔垃圾", -2, false)
	return w
}

// testPNG is a real, small PNG.
func testPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// awardForm is a multipart award request with the given photos.
func awardForm(t *testing.T, award any, photos ...[]byte) (*bytes.Buffer, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	js, _ := json.Marshal(award)
	if err := mw.WriteField("award", string(js)); err != nil {
		t.Fatal(err)
	}
	for i, p := range photos {
		fw, err := mw.CreateFormFile("file", fmt.Sprintf("p%d.png", i))
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(p)
	}
	mw.Close()
	return &body, mw.FormDataContentType()
}

func awardJSON(v any) *bytes.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}

type awardAnswer struct {
	ID           uuid.UUID          `json:"id"`
	Status       ledger.AwardStatus `json:"status"`
	EvidenceURLs []string           `json:"evidence_urls"`
	TargetName   string             `json:"target_name"`
	Taken        ledger.Points      `json:"taken"`
	NotTaken     ledger.Points      `json:"not_taken"`
}

func (w *awardWorld) record(t *testing.T, who *http.Cookie, b ledger.Behaviour, member uuid.UUID, note string, photos ...[]byte) response {
	t.Helper()
	body, ctype := awardForm(t, map[string]any{"behaviour_id": b.ID, "member_id": member, "note": note}, photos...)
	return w.e.do(http.MethodPost, "/api/v1/awards", body, who, "Content-Type", ctype)
}

func wantKey(t *testing.T, res response, status int, key string) {
	t.Helper()
	wantStatus(t, res, status)
	if key == "" {
		return
	}
	var v struct {
		Error struct {
			Key string `json:"key"`
		} `json:"error"`
	}
	_ = json.Unmarshal(res.body, &v)
	msg := res.errorBody(t)["message"]
	if cat := testCatalogue(t); msg != cat.T(langZH, key) && !strings.HasPrefix(fmt.Sprint(msg), strings.SplitN(cat.T(langZH, key), "%", 2)[0]) {
		t.Fatalf("%s: message %q, want the message of %s", res.Request.URL.Path, msg, key)
	}
}

// TestAwardAuthorization: every object checked for its caller. Another
// community's organiser and another grid's worker find nothing (404); a
// volunteer or a clerk may not record (403); a grid worker records in
// their grid but approves nothing (403); the recorder cannot approve their
// own (403); a volunteer sees only their own awards and photos.
func TestAwardAuthorization(t *testing.T) {
	w := newAwardWorld(t)
	e, photo := w.e, testPNG(t)
	wantStatus(t, w.record(t, w.orgB, w.sorting, w.memA.ID, "", photo), http.StatusNotFound)
	wantStatus(t, w.record(t, w.gwB, w.sorting, w.memA.ID, "", photo), http.StatusNotFound)
	wantStatus(t, w.record(t, w.volA, w.sorting, w.memA.ID, "", photo), http.StatusForbidden)
	wantStatus(t, w.record(t, w.clerk, w.sorting, w.memA.ID, "", photo), http.StatusForbidden)
	res := w.record(t, w.gwA, w.sorting, w.memA.ID, "分类正确", photo)
	wantStatus(t, res, http.StatusCreated)
	var small awardAnswer
	res.decode(t, &small)
	if small.Status != ledger.AwardPosted || len(small.EvidenceURLs) != 1 || small.TargetName != "张小明" {
		t.Fatalf("%+v", small)
	}
	// The photo: to staff over it and to the member, as it was sent.
	got := e.get(small.EvidenceURLs[0], w.volA)
	wantStatus(t, got, http.StatusOK)
	if got.Header.Get("Content-Type") != "image/png" || !bytes.Equal(got.body, photo) {
		t.Fatalf("photo %s, %d bytes", got.Header.Get("Content-Type"), len(got.body))
	}
	for _, who := range []*http.Cookie{w.orgB, w.gwB, w.volB} {
		wantStatus(t, e.get(small.EvidenceURLs[0], who), http.StatusNotFound)
		wantStatus(t, e.get("/api/v1/awards/"+small.ID.String(), who), http.StatusNotFound)
	}

	// 见义勇为: waits for a second organiser.
	res = w.record(t, w.orgA, w.hero, w.memA.ID, "河边救人")
	wantStatus(t, res, http.StatusCreated)
	var hero awardAnswer
	res.decode(t, &hero)
	if hero.Status != ledger.AwardPending {
		t.Fatalf("%+v", hero)
	}
	approve := "/api/v1/awards/" + hero.ID.String() + "/approve"
	wantStatus(t, e.do(http.MethodPost, approve, nil, w.orgA), http.StatusForbidden)
	wantStatus(t, e.do(http.MethodPost, approve, nil, w.gwA), http.StatusForbidden)
	wantStatus(t, e.do(http.MethodPost, approve, nil, w.gwB), http.StatusNotFound)
	wantStatus(t, e.do(http.MethodPost, approve, nil, w.orgB), http.StatusNotFound)
	wantStatus(t, e.do(http.MethodPost, approve, nil, w.volA), http.StatusForbidden)
	res = e.do(http.MethodPost, approve, nil, w.orgS)
	wantStatus(t, res, http.StatusOK)
	res.decode(t, &hero)
	if hero.Status != ledger.AwardPosted {
		t.Fatalf("%+v", hero)
	}
	wantStatus(t, e.do(http.MethodPost, approve, nil, e.login("admin")), http.StatusConflict)
	// Reversing: organisers over it only.
	reverse := "/api/v1/awards/" + small.ID.String() + "/reverse"
	wantStatus(t, e.do(http.MethodPost, reverse, awardJSON(map[string]string{"reason": "错"}), w.gwA), http.StatusForbidden)
	wantStatus(t, e.do(http.MethodPost, reverse, awardJSON(map[string]string{"reason": "错"}), w.orgB), http.StatusNotFound)
	wantStatus(t, e.do(http.MethodPost, reverse, awardJSON(map[string]string{"reason": "登记错人"}), w.orgA), http.StatusOK)
	wantStatus(t, e.do(http.MethodPost, reverse, awardJSON(map[string]string{"reason": "登记错人"}), w.orgA), http.StatusConflict)

	// Lists: a volunteer their own, whatever they ask; staff their subtree.
	var list struct {
		Awards []awardAnswer `json:"awards"`
	}
	res = e.get("/api/v1/awards", w.volA)
	wantStatus(t, res, http.StatusOK)
	res.decode(t, &list)
	if len(list.Awards) != 2 {
		t.Fatalf("A sees %d", len(list.Awards))
	}
	wantStatus(t, e.get("/api/v1/awards?member_id="+w.memA.ID.String(), w.volB), http.StatusNotFound)
	res = e.get("/api/v1/awards", w.volB)
	res.decode(t, &list)
	if len(list.Awards) != 0 {
		t.Fatalf("B sees %d", len(list.Awards))
	}
	for who, n := range map[*http.Cookie]int{w.orgB: 0, w.gwB: 0, w.orgA: 2, w.gwA: 2, w.orgS: 2} {
		res = e.get("/api/v1/awards?month=2026-03", who)
		wantStatus(t, res, http.StatusOK)
		res.decode(t, &list)
		if len(list.Awards) != n {
			t.Fatalf("%s sees %d, want %d", who.Value[:6], len(list.Awards), n)
		}
	}
	// Targets: a grid worker finds their grid's members only.
	var targets struct {
		Targets []ledger.AwardTarget `json:"targets"`
	}
	res = e.get("/api/v1/awards/targets?q=%E5%BC%A0", w.gwB) // 张
	res.decode(t, &targets)
	if len(targets.Targets) != 0 {
		t.Fatalf("another grid finds %+v", targets)
	}
	res = e.get("/api/v1/awards/targets?q=%E5%BC%A0", w.gwA)
	res.decode(t, &targets)
	if len(targets.Targets) != 1 || targets.Targets[0].ID != w.memA.ID {
		t.Fatalf("%+v", targets)
	}
	wantStatus(t, e.get("/api/v1/awards/targets?member_id="+w.memA.ID.String(), w.gwB), http.StatusNotFound)
	// Behaviours: a grid worker reads the lists, an organiser of B cannot change A's, A's cannot change the street's.
	wantStatus(t, e.get("/api/v1/behaviours", w.gwA), http.StatusOK)
	patch := func(b ledger.Behaviour, who *http.Cookie) response {
		return e.do(http.MethodPatch, "/api/v1/behaviours/"+b.ID.String(), awardJSON(map[string]any{"points": 3}), who)
	}
	wantStatus(t, patch(w.sorting, w.gwA), http.StatusForbidden)
	wantStatus(t, patch(w.sorting, w.orgB), http.StatusNotFound)
	wantStatus(t, patch(w.hero, w.orgA), http.StatusForbidden)
	wantStatus(t, patch(w.sorting, w.orgA), http.StatusOK)
	// Pages: grid workers and organisers; a volunteer gets the 403 page.
	for _, p := range []string{"/admin/awards", "/admin/behaviours"} {
		wantStatus(t, e.get(p, w.gwA), http.StatusOK)
		wantStatus(t, e.get(p, w.volA), http.StatusForbidden)
	}
	if rep, err := e.store.Verify(ctx); err != nil || !rep.OK {
		t.Fatalf("verify %+v %v", rep, err)
	}
}

// TestAwardBadInput: what a request can get wrong is refused with 400 (or
// 413 for a body too big) and writes nothing.
func TestAwardBadInput(t *testing.T) {
	w := newAwardWorld(t)
	e, photo := w.e, testPNG(t)
	post := func(body any) response {
		return e.do(http.MethodPost, "/api/v1/awards", awardJSON(body), w.orgA)
	}
	for name, tt := range map[string]struct {
		res    response
		status int
		key    string
	}{
		"UnknownBehaviour": {post(map[string]any{"behaviour_id": uuid.New(), "member_id": w.memA.ID}), 400, "award.behaviour_unknown"},
		"NoPhoto":          {post(map[string]any{"behaviour_id": w.sorting.ID, "member_id": w.memA.ID}), 400, ""},
		"NoReason":         {post(map[string]any{"behaviour_id": w.litter.ID, "member_id": w.memA.ID}), 400, "award.note_required"},
		"ControlInNote":    {post(map[string]any{"behaviour_id": w.hero.ID, "member_id": w.memA.ID, "note": "救人\u0007"}), 400, ""},
		"BidiInNote":       {post(map[string]any{"behaviour_id": w.hero.ID, "member_id": w.memA.ID, "note": "救人\u202e"}), 400, ""},
		"UnknownField":     {post(map[string]any{"behaviour_id": w.hero.ID, "member_id": w.memA.ID, "points": 999}), 400, "request.json_invalid"},
		"NoOne":            {post(map[string]any{"behaviour_id": w.hero.ID}), 400, "award.target_required"},
		"UnknownMember":    {post(map[string]any{"behaviour_id": w.hero.ID, "member_id": uuid.New()}), 404, ""},
		"NotAPicture":      {w.record(t, w.orgA, w.sorting, w.memA.ID, "", []byte("<html><script>alert(1)</script>")), 400, "award.picture_type"},
		"HugeBody":         {w.record(t, w.orgA, w.sorting, w.memA.ID, "", bytes.Repeat([]byte{0x89}, 1100<<10)), 413, ""},
		"BehaviourZero":    {e.do(http.MethodPost, "/api/v1/behaviours", awardJSON(map[string]any{"unit_id": w.a.ID, "name": "x", "category": "y", "points": 0}), w.orgA), 400, ""},
		"BehaviourHuge":    {e.do(http.MethodPost, "/api/v1/behaviours", awardJSON(map[string]any{"unit_id": w.a.ID, "name": "x", "category": "y", "points": 5000}), w.orgA), 400, ""},
		"BehaviourControl": {e.do(http.MethodPost, "/api/v1/behaviours", awardJSON(map[string]any{"unit_id": w.a.ID, "name": "垃圾\u0000分类", "category": "y", "points": 2}), w.orgA), 400, ""},
		"BehaviourInGrid":  {e.do(http.MethodPost, "/api/v1/behaviours", awardJSON(map[string]any{"unit_id": w.gridA.ID, "name": "x", "category": "y", "points": 2}), w.orgA), 400, "behaviour.unit_kind"},
		"BehaviourOtherB":  {e.do(http.MethodPost, "/api/v1/behaviours", awardJSON(map[string]any{"unit_id": w.b.ID, "name": "x", "category": "y", "points": 2}), w.orgA), 404, ""},
		"BadStatusFilter":  {e.get("/api/v1/awards?status=paid", w.orgA), 400, ""},
		"BadMonthFilter":   {e.get("/api/v1/awards?month=2026-13", w.orgA), 400, ""},
		"DecideNoPost":     {e.do(http.MethodPost, "/api/v1/awards/"+uuid.NewString()+"/decide", awardJSON(map[string]any{"reason": "x"}), w.orgA), 404, ""},
	} {
		t.Run(name, func(t *testing.T) {
			wantKey(t, tt.res, tt.status, tt.key)
		})
	}
	// Nothing was written: no award, no entry.
	if list, err := e.store.Awards(ctx, ledger.AwardFilter{Scope: ledger.Scope{All: true}}); err != nil || len(list) != 0 {
		t.Fatalf("%d awards %v", len(list), err)
	}
	if seq, _, _ := e.store.Head(ctx); seq != 0 {
		t.Fatalf("%d entries", seq)
	}
	_ = photo
}

// TestAwardIdempotentReplay: the same Idempotency-Key and request records
// one award and answers the first answer again; the same key with another
// note is 409; the points post once.
func TestAwardIdempotentReplay(t *testing.T) {
	w := newAwardWorld(t)
	e, photo := w.e, testPNG(t)
	key := uuid.NewString()
	send := func(note string) response {
		body, ctype := awardForm(t, map[string]any{"behaviour_id": w.sorting.ID, "member_id": w.memA.ID, "note": note}, photo)
		return e.do(http.MethodPost, "/api/v1/awards", body, w.gwA, "Content-Type", ctype, "Idempotency-Key", key)
	}
	var first, again awardAnswer
	res := send("分类正确")
	wantStatus(t, res, http.StatusCreated)
	res.decode(t, &first)
	res = send("分类正确")
	wantStatus(t, res, http.StatusCreated)
	res.decode(t, &again)
	if first.ID != again.ID || first.ID == uuid.Nil {
		t.Fatalf("%v and %v", first.ID, again.ID)
	}
	wantStatus(t, send("别的说明"), http.StatusConflict)
	if b, err := e.store.Balance(ctx, ledger.MemberAccount(w.memA.ID)); err != nil || b.Points != 2 {
		t.Fatalf("%+v %v", b, err)
	}
	// Another user's same key is their own.
	body, ctype := awardForm(t, map[string]any{"behaviour_id": w.sorting.ID, "member_id": w.memA.ID, "note": "分类正确"}, photo)
	wantStatus(t, e.do(http.MethodPost, "/api/v1/awards", body, w.orgA, "Content-Type", ctype, "Idempotency-Key", key), http.StatusCreated)
}

// TestAwardObjectionFromTheNotice: an award on a community's notice is
// listed on the public page with the name masked; a volunteer of the
// community objects from it, one of another community may not, and
// without a login it is 401.
func TestAwardObjectionFromTheNotice(t *testing.T) {
	w := newAwardWorld(t)
	e := w.e
	three, on := 3, true
	if _, err := e.store.SetPublicNotice(ctx, w.a.ID, ledger.NoticePatch{On: &on, AwardDays: &three}); err != nil {
		t.Fatal(err)
	}
	res := w.record(t, w.orgA, w.hero, w.memA.ID, "河边救人")
	var a awardAnswer
	res.decode(t, &a)
	wantStatus(t, e.do(http.MethodPost, "/api/v1/awards/"+a.ID.String()+"/approve", nil, w.orgS), http.StatusOK)
	page := e.get("/notice/"+w.a.ID.String(), nil)
	wantStatus(t, page, http.StatusOK)
	if !strings.Contains(string(page.body), "张*明") || strings.Contains(string(page.body), "张小明") || !strings.Contains(string(page.body), a.ID.String()) {
		t.Fatalf("the notice lacks the award or shows the name")
	}
	object := "/api/v1/awards/" + a.ID.String() + "/object"
	wantStatus(t, e.do(http.MethodPost, object, awardJSON(map[string]string{"reason": "不属实"}), nil), http.StatusUnauthorized)
	wantStatus(t, e.do(http.MethodPost, object, awardJSON(map[string]string{"reason": "不属实"}), w.volB), http.StatusForbidden)
	res = e.do(http.MethodPost, object, awardJSON(map[string]string{"reason": "不属实"}), w.volA)
	wantStatus(t, res, http.StatusOK)
	if strings.Contains(string(res.body), "张小明") {
		t.Fatal("a volunteer's answer names the member")
	}
	wantStatus(t, e.do(http.MethodPost, object, awardJSON(map[string]string{"reason": "再一次"}), w.volA), http.StatusConflict)
	res = e.do(http.MethodPost, "/api/v1/awards/"+a.ID.String()+"/decide", awardJSON(map[string]any{"post": true, "reason": "核实属实"}), w.orgA)
	wantStatus(t, res, http.StatusOK)
	res.decode(t, &a)
	if a.Status != ledger.AwardPosted {
		t.Fatalf("%+v", a)
	}
}

// TestAwardsInTheExport: the month's export splits earned points into
// service, wishes and behaviour awards, shows deductions, and reconciles;
// the behaviour bank's pages follow the CSP like every page.
func TestAwardsInTheExport(t *testing.T) {
	w := newAwardWorld(t)
	e := w.e
	wantStatus(t, w.record(t, w.gwA, w.sorting, w.memA.ID, "分类正确", testPNG(t)), http.StatusCreated)
	wantStatus(t, w.record(t, w.orgA, w.litter, w.memA.ID, "乱扔果皮"), http.StatusCreated)
	wantStatus(t, w.record(t, w.orgA, w.litter, w.memA.ID, "又扔"), http.StatusCreated) // nothing left to take
	var ex struct {
		Totals     ledger.MemberMonth `json:"totals"`
		Reconciles bool               `json:"reconciles"`
		Notes      []string           `json:"notes"`
	}
	res := e.get("/api/v1/exports/monthly?format=json&by=member&month=2026-03", w.orgA)
	wantStatus(t, res, http.StatusOK)
	res.decode(t, &ex)
	if !ex.Reconciles || ex.Totals.Behaviour != 2 || ex.Totals.Deducted != 2 || ex.Totals.Service != 0 || ex.Totals.Earned != 2 || ex.Totals.Closing != 0 {
		t.Fatalf("%+v %v", ex.Totals, ex.Notes)
	}
	for _, p := range []string{"/admin/awards", "/admin/behaviours"} {
		for _, lang := range []string{langZH, langEN} {
			res := e.get(p+"?lang="+lang, w.orgA)
			wantStatus(t, res, http.StatusOK)
			checkPage(t, string(res.body), lang)
		}
	}
}

// TestAwardSockPuppet: an organiser cannot be their own second pair of
// eyes through an account they make: not one of their own unit (refused),
// and one of a grid below (allowed to be made) does not approve their
// large award; the street's organiser does.
func TestAwardSockPuppet(t *testing.T) {
	w := newAwardWorld(t)
	e := w.e
	mk := func(login string, unit uuid.UUID) response {
		return e.do(http.MethodPost, "/api/v1/users", awardJSON(map[string]any{"login": login, "password": "sock-puppet-2026",
			"role": "organizer", "unit_id": unit}), w.orgA)
	}
	res := mk("dh-peer", w.a.ID)
	wantStatus(t, res, http.StatusForbidden)
	if _, err := e.store.UserByLogin(ctx, "dh-peer"); ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Fatalf("an organiser of the same unit was made: %v", err)
	}
	wantStatus(t, mk("dh-sock", w.gridA.ID), http.StatusCreated)
	sock := sessionCookieOf(t, e.do(http.MethodPost, "/api/v1/login", loginBody("dh-sock", "sock-puppet-2026"), nil))
	res = w.record(t, w.orgA, w.hero, w.memA.ID, "河边救人")
	wantStatus(t, res, http.StatusCreated)
	var hero awardAnswer
	res.decode(t, &hero)
	approve := "/api/v1/awards/" + hero.ID.String() + "/approve"
	wantKey(t, e.do(http.MethodPost, approve, nil, sock), http.StatusForbidden, "award.approver_level")
	if b, _ := e.store.Balance(ctx, ledger.MemberAccount(w.memA.ID)); b.Points != 0 {
		t.Fatalf("the sock puppet's approval posted %d points", b.Points)
	}
	wantStatus(t, e.do(http.MethodPost, approve, nil, w.orgS), http.StatusOK)
}

// TestObjectorHidden: the member an award is for sees that it was objected
// to and why, never who objected; staff see who.
func TestObjectorHidden(t *testing.T) {
	w := newAwardWorld(t)
	e := w.e
	on, three := true, 3
	if _, err := e.store.SetPublicNotice(ctx, w.a.ID, ledger.NoticePatch{On: &on, AwardDays: &three}); err != nil {
		t.Fatal(err)
	}
	neighbour, err := e.store.CreateMember(ctx, ledger.Member{Name: "王邻居", Phone: "13800000003", UnitID: w.gridA.ID}, testHash())
	must(t, err)
	res := w.record(t, w.gwA, w.sorting, w.memA.ID, "分类正确", testPNG(t))
	var a awardAnswer
	res.decode(t, &a)
	wantStatus(t, e.do(http.MethodPost, "/api/v1/awards/"+a.ID.String()+"/object", awardJSON(map[string]string{"reason": "那天不是他"}), e.login(neighbour.Phone)), http.StatusOK)
	objector, err := e.store.UserByLogin(ctx, neighbour.Phone)
	must(t, err)
	mine := e.get("/api/v1/awards/"+a.ID.String(), w.volA)
	wantStatus(t, mine, http.StatusOK)
	if strings.Contains(string(mine.body), objector.ID.String()) || strings.Contains(string(mine.body), "王邻居") || !strings.Contains(string(mine.body), "那天不是他") {
		t.Fatalf("the member's view of the objection: %s", mine.body)
	}
	if staff := e.get("/api/v1/awards/"+a.ID.String(), w.orgA); !strings.Contains(string(staff.body), objector.ID.String()) {
		t.Fatalf("staff do not see who objected: %s", staff.body)
	}
}
