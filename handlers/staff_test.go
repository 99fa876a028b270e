package handlers

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// patchBody is a JSON body of PATCH /api/v1/users/{id}.
func patchBody(v map[string]any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}

// staffWorld is a community with a shop, its organiser and two clerks.
type staffWorld struct {
	community, other ledger.Unit
	shop             ledger.Shop
	organiser        ledger.User
	clerk, clerk2    ledger.User
	otherOrganiser   ledger.User
}

func newStaffWorld(t *testing.T, e *env) staffWorld {
	t.Helper()
	var w staffWorld
	street, err := e.store.CreateUnit(ctx, "阳光街道", ledger.UnitStreet, uuid.Nil, nil)
	must(t, err)
	w.community, err = e.store.CreateUnit(ctx, "幸福社区", ledger.UnitCommunity, street.ID, nil)
	must(t, err)
	w.other, err = e.store.CreateUnit(ctx, "和谐社区", ledger.UnitCommunity, street.ID, nil)
	must(t, err)
	w.shop, err = e.store.CreateShop(ctx, ledger.Shop{Name: "幸福爱心超市", Kind: ledger.ShopLoveSupermarket, UnitID: w.community.ID})
	must(t, err)
	add := func(login string, role ledger.Role, unit, shop uuid.UUID) ledger.User {
		u, err := e.store.CreateUser(ctx, ledger.User{Login: login, Name: "名 " + login, Role: role, UnitID: unit, ShopID: shop, PasswordHash: testHash()})
		must(t, err)
		return u
	}
	w.organiser = add("xingfu", ledger.RoleOrganizer, w.community.ID, uuid.Nil)
	w.otherOrganiser = add("hexie", ledger.RoleOrganizer, w.other.ID, uuid.Nil)
	w.clerk = add("shop1", ledger.RoleClerk, uuid.Nil, w.shop.ID)
	w.clerk2 = add("shop2", ledger.RoleClerk, uuid.Nil, w.shop.ID)
	return w
}

func TestStaffPasswordReset(t *testing.T) {
	e := newEnv(t)
	w := newStaffWorld(t, e)
	org := e.login("xingfu")
	kiosk, tablet := e.login("shop1"), e.login("shop1")

	res := e.do("PATCH", "/api/v1/users/"+w.clerk.ID.String(), patchBody(map[string]any{"password": "the new counter password"}), org)
	wantStatus(t, res, 200)
	var v staffView
	res.decode(t, &v)
	if v.ID != w.clerk.ID || v.ShopName != "幸福爱心超市" || v.UpdatedByName != "名 xingfu" || v.UpdatedBy != w.organiser.ID {
		t.Errorf("answer %+v", v)
	}
	if _, off := v.UpdatedAt.Zone(); off != 8*3600 || !v.UpdatedAt.Equal(e.clock.Now()) {
		t.Errorf("updated_at %s", v.UpdatedAt)
	}
	if bytes.Contains(res.body, []byte("argon2")) || bytes.Contains(res.body, []byte("password")) {
		t.Errorf("the answer shows the hash: %s", res.body)
	}
	// Every session of the clerk ends; the organiser's goes on.
	wantStatus(t, e.get("/api/v1/me", kiosk), 401)
	wantStatus(t, e.get("/api/v1/me", tablet), 401)
	wantStatus(t, e.get("/api/v1/me", org), 200)
	wantStatus(t, e.do("POST", "/api/v1/login", loginBody("shop1", testPassword), nil), 401)
	wantStatus(t, e.do("POST", "/api/v1/login", loginBody("shop1", "the new counter password"), nil), 200)

	t.Run("Logged", func(t *testing.T) {
		found := false
		for _, l := range e.logs.lines(t) {
			if l["msg"] == "staff account changed" && l["user_login"] == "shop1" && l["actor_login"] == "xingfu" {
				found = true
				if ch, _ := l["changed"].([]any); len(ch) != 1 || ch[0] != "password" {
					t.Errorf("changed = %v", l["changed"])
				}
			}
		}
		if !found {
			t.Error("no log line of the change with its actor")
		}
		e.logs.mu.Lock()
		defer e.logs.mu.Unlock()
		if strings.Contains(e.logs.buf.String(), "new counter") {
			t.Error("the log holds the password")
		}
	})
}

func TestStaffDisable(t *testing.T) {
	e := newEnv(t)
	w := newStaffWorld(t, e)
	org := e.login("xingfu")
	kiosk := e.login("shop2")
	other := e.login("shop1")

	res := e.do("PATCH", "/api/v1/users/"+w.clerk2.ID.String(), patchBody(map[string]any{"disabled": true}), org)
	wantStatus(t, res, 200)
	var v staffView
	res.decode(t, &v)
	if !v.Disabled || !v.DisabledAt.Equal(e.clock.Now()) {
		t.Errorf("answer %+v", v)
	}
	// The open kiosk is logged out on its next request.
	res = e.get("/api/v1/redemptions/today", kiosk)
	wantStatus(t, res, 401)
	wantStatus(t, e.get("/api/v1/me", other), 200) // the other clerk works on

	t.Run("LoginSaysDisabledToTheRightPasswordOnly", func(t *testing.T) {
		res := e.do("POST", "/api/v1/login", loginBody("shop2", testPassword), nil)
		wantStatus(t, res, 403)
		if got := res.errorBody(t); got["message"] != "该账号已停用，不能登录。如需恢复，请联系社区管理员" {
			t.Errorf("error %v", got)
		}
		if len(res.Cookies()) != 0 {
			t.Error("a disabled login set a cookie")
		}
		res = e.do("POST", "/api/v1/login", loginBody("shop2", "a wrong guess"), nil)
		wantStatus(t, res, 401)
		if got := res.errorBody(t); got["message"] != "登录名或密码不正确" {
			t.Errorf("a wrong password of a disabled account: %v", got)
		}
		res = e.do("POST", "/api/v1/login", loginBody("shop2", testPassword), nil, "Accept-Language", "en")
		if got := res.errorBody(t); !strings.Contains(got["message"].(string), "disabled") {
			t.Errorf("in English: %v", got)
		}
	})
	t.Run("Listed", func(t *testing.T) {
		var page usersPage
		e.get("/api/v1/users", org).decode(t, &page)
		for _, u := range page.Users {
			if u.ID == w.clerk2.ID && (!u.Disabled || u.UpdatedByName != "名 xingfu") {
				t.Errorf("listed %+v", u)
			}
		}
	})
	t.Run("DisableAgainChangesNothing", func(t *testing.T) {
		e.clock.Add(time.Hour)
		res := e.do("PATCH", "/api/v1/users/"+w.clerk2.ID.String(), patchBody(map[string]any{"disabled": true}), org)
		wantStatus(t, res, 200)
		var v staffView
		res.decode(t, &v)
		if !v.DisabledAt.Equal(e.clock.Now().Add(-time.Hour)) {
			t.Errorf("disabled_at moved: %s", v.DisabledAt)
		}
	})
	t.Run("EnabledAgain", func(t *testing.T) {
		res := e.do("PATCH", "/api/v1/users/"+w.clerk2.ID.String(), patchBody(map[string]any{"disabled": false}), org)
		wantStatus(t, res, 200)
		var v staffView
		res.decode(t, &v)
		if v.Disabled || !v.DisabledAt.IsZero() {
			t.Errorf("answer %+v", v)
		}
		wantStatus(t, e.get("/api/v1/me", e.login("shop2")), 200)
	})
	t.Run("SessionOfADisabledAccountRefused", func(t *testing.T) {
		// Whatever leaves a session behind, the middleware refuses it.
		u := e.addUser("left-behind", ledger.RoleClerk, true)
		wantStatus(t, e.get("/api/v1/me", e.session(u)), 401)
	})
}

func TestStaffChangeRefusals(t *testing.T) {
	e := newEnv(t)
	w := newStaffWorld(t, e)
	org := e.login("xingfu")
	admin := e.login("admin")
	path := func(u ledger.User) string { return "/api/v1/users/" + u.ID.String() }
	tests := []struct {
		name   string
		cookie *http.Cookie
		path   string
		body   string
		status int
		msg    string
	}{
		{"DisableThemself", org, path(w.organiser), `{"disabled":true}`, 400, "不能停用自己的账号"},
		{"AdminDisablesThemself", admin, path(e.users[ledger.RoleAdmin]), `{"disabled":true}`, 400, "不能停用自己的账号"},
		{"OwnPasswordWithoutTheCurrent", org, path(w.organiser), `{"password":"a brand new password"}`, 400, "修改自己的密码请用“修改我的密码”，并填写原密码"},
		{"OtherCommunity", org, path(w.otherOrganiser), `{"name":"x"}`, 404, "找不到该用户"},
		{"Administrator", org, path(e.users[ledger.RoleAdmin]), `{"disabled":true}`, 404, "找不到该用户"},
		{"Volunteer", admin, path(e.users[ledger.RoleVolunteer]), `{"password":"a brand new password"}`, 400, "志愿者的账号请在志愿者页面修改（设置密码、状态）"},
		{"Nothing", org, path(w.clerk), `{}`, 400, "没有要修改的内容"},
		{"NullsAreNothing", org, path(w.clerk), `{"name":null,"disabled":null}`, 400, "没有要修改的内容"},
		{"UnknownField", org, path(w.clerk), `{"role":"admin"}`, 400, ""},
		{"ShortPassword", org, path(w.clerk), `{"password":"short"}`, 400, ""},
		{"NameTooLong", org, path(w.clerk), `{"name":"` + strings.Repeat("名", 65) + `"}`, 400, "姓名最多 64 个字"},
		{"NameWithControl", org, path(w.clerk), `{"name":"王\u0007明"}`, 400, ""},
		{"NotAnID", org, "/api/v1/users/not-an-id", `{"name":"x"}`, 404, "找不到该用户"},
		{"Clerk", e.login("shop1"), path(w.clerk2), `{"disabled":true}`, 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.snapshotUsers(t)
			res := e.do("PATCH", tt.path, strings.NewReader(tt.body), tt.cookie)
			wantStatus(t, res, tt.status)
			if got := res.errorBody(t); tt.msg != "" && got["message"] != tt.msg {
				t.Errorf("message %q, want %q", got["message"], tt.msg)
			}
			if e.snapshotUsers(t) != before {
				t.Error("a refused change changed an account")
			}
		})
	}
}

func TestStaffRenameThemself(t *testing.T) {
	e := newEnv(t)
	newStaffWorld(t, e)
	here, elsewhere := e.login("xingfu"), e.login("xingfu")
	var me ledger.User
	e.get("/api/v1/me", here).decode(t, &me)
	res := e.do("PATCH", "/api/v1/users/"+me.ID.String(), patchBody(map[string]any{"name": "  王 组织者  "}), here)
	wantStatus(t, res, 200)
	var v staffView
	res.decode(t, &v)
	if v.Name != "王 组织者" || v.UpdatedByName != "王 组织者" {
		t.Errorf("answer %+v", v)
	}
	// The browser that made the change stays logged in; the account's
	// other sessions end.
	wantStatus(t, e.get("/api/v1/me", here), 200)
	wantStatus(t, e.get("/api/v1/me", elsewhere), 401)
}

// snapshotUsers is every account as stored.
func (e *env) snapshotUsers(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, login := range []string{"admin", "organizer", "clerk", "volunteer", "xingfu", "hexie", "shop1", "shop2"} {
		u, err := e.store.UserByLogin(ctx, login)
		must(t, err)
		j, _ := json.Marshal(u)
		b.Write(j)
		b.WriteString(u.PasswordHash)
	}
	return b.String()
}

// TestGridWorkerAccounts: an organiser adds a grid worker (网格员) bound to
// a grid of their own community — not to a community, nor to another
// community's grid — manages the account as any staff account below
// them, and the grid worker reaches none of the organisers' routes.
func TestGridWorkerAccounts(t *testing.T) {
	e := newEnv(t)
	w := newStaffWorld(t, e)
	grid, err := e.store.CreateUnit(ctx, "第一网格", ledger.UnitGrid, w.community.ID, nil)
	must(t, err)
	otherGrid, err := e.store.CreateUnit(ctx, "第二网格", ledger.UnitGrid, w.other.ID, nil)
	must(t, err)
	org := e.login("xingfu")
	create := func(unit uuid.UUID) response {
		return e.do("POST", "/api/v1/users", patchBody(map[string]any{"login": "zhao.grid", "password": "grid-pass-1234",
			"role": "grid_worker", "name": "赵网格", "unit_id": unit}), org)
	}
	for _, tt := range []struct {
		name   string
		unit   uuid.UUID
		status int
		msg    string
	}{
		{"NoUnit", uuid.Nil, 400, "必须绑定一个单位"},
		{"Community", w.community.ID, 400, "网格员须绑定一个网格"},
		{"AnotherCommunitysGrid", otherGrid.ID, 404, "单位"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := create(tt.unit)
			wantStatus(t, res, tt.status)
			if got, _ := res.errorBody(t)["message"].(string); !strings.Contains(got, tt.msg) {
				t.Fatalf("message %q, want %q in it", got, tt.msg)
			}
			if _, err := e.store.UserByLogin(ctx, "zhao.grid"); ledger.ErrorCode(err) != ledger.ENOTFOUND {
				t.Fatalf("an account was made: %v", err)
			}
		})
	}
	res := create(grid.ID)
	wantStatus(t, res, 201)
	var v staffView
	res.decode(t, &v)
	if v.Role != ledger.RoleGridWorker || v.UnitID != grid.ID {
		t.Fatalf("made %+v", v)
	}
	gw := sessionCookieOf(t, e.do("POST", "/api/v1/login", loginBody("zhao.grid", "grid-pass-1234"), nil))
	for _, path := range []string{"/api/v1/members", "/api/v1/users", "/api/v1/events", "/api/v1/exports/monthly?month=2026-11"} {
		wantStatus(t, e.get(path, gw), 403)
	}
	// The organiser of the community manages the account; the other community's does not see it.
	wantStatus(t, e.do("PATCH", "/api/v1/users/"+v.ID.String(), patchBody(map[string]any{"disabled": true}), org), 200)
	wantStatus(t, e.get("/api/v1/me", gw), 401)
	wantStatus(t, e.do("PATCH", "/api/v1/users/"+v.ID.String(), patchBody(map[string]any{"disabled": false}), e.login("hexie")), 404)
}
