package handlers

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"aixin/config"
	"aixin/ledger"
)

func TestLogin(t *testing.T) {
	e := newEnv(t)
	e.addUser("retired", ledger.RoleOrganizer, true)

	t.Run("Success", func(t *testing.T) {
		res := e.do("POST", "/api/v1/login", loginBody(" Admin ", testPassword), nil)
		wantStatus(t, res, 200)
		ck := sessionCookieOf(t, res)
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure {
			t.Errorf("cookie attributes: %+v", ck)
		}
		if ck.MaxAge != 14*24*3600 || len(ck.Value) != 43 {
			t.Errorf("cookie MaxAge %d, value length %d", ck.MaxAge, len(ck.Value))
		}
		if bytes.Contains(res.body, []byte("argon2")) || bytes.Contains(res.body, []byte("password")) {
			t.Errorf("login answer shows the password hash: %s", res.body)
		}
		var u ledger.User
		res.decode(t, &u)
		if u.ID != e.users[ledger.RoleAdmin].ID || u.Role != ledger.RoleAdmin {
			t.Errorf("user = %+v", u)
		}
		if _, off := u.CreatedAt.Zone(); off != 8*3600 {
			t.Errorf("created_at not in Asia/Shanghai: %s", u.CreatedAt)
		}
	})
	t.Run("StoresOnlyTheTokenHash", func(t *testing.T) {
		ck := e.login("clerk")
		h, ok := hashToken(ck.Value)
		if !ok {
			t.Fatal("token not ours")
		}
		if _, err := e.store.Session(ctx, h, e.clock.Now()); err != nil {
			t.Errorf("session by hash: %v", err)
		}
		var raw ledger.Hash
		b, _ := base64.RawURLEncoding.DecodeString(ck.Value)
		copy(raw[:], b)
		if _, err := e.store.Session(ctx, raw, e.clock.Now()); err == nil {
			t.Error("the store knows the raw token")
		}
	})

	tests := []struct {
		name, login, password string
		status                int
		code, message         string
	}{
		{"WrongPassword", "admin", "wrong", 401, "unauthorized", "登录名或密码不正确"},
		{"UnknownLogin", "nobody", testPassword, 401, "unauthorized", "登录名或密码不正确"},
		{"DisabledWithRightPassword", "retired", testPassword, 403, "forbidden", "该账号已停用，不能登录。如需恢复，请联系社区管理员"},
		{"DisabledWithWrongPassword", "retired", "wrong", 401, "unauthorized", "登录名或密码不正确"},
		{"EmptyLogin", "  ", testPassword, 400, "invalid", "请填写登录名和密码"},
		{"LoginTooLong", strings.Repeat("长", 65), testPassword, 400, "invalid", "登录名或密码太长"},
		{"PasswordTooLong", "admin", strings.Repeat("x", 1025), 400, "invalid", "登录名或密码太长"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do("POST", "/api/v1/login", loginBody(tt.login, tt.password), nil)
			wantStatus(t, res, tt.status)
			if got := res.errorBody(t); got["code"] != tt.code || got["message"] != tt.message {
				t.Errorf("error = %v", got)
			}
			if len(res.Cookies()) != 0 {
				t.Errorf("failed login set cookies %v", res.Cookies())
			}
		})
	}
}

func TestCookieSecure(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.CookieSecure = true })
	res := e.do("POST", "/api/v1/login", loginBody("admin", testPassword), nil)
	wantStatus(t, res, 200)
	if !sessionCookieOf(t, res).Secure {
		t.Error("cookie not Secure")
	}
}

func TestMeAndLogout(t *testing.T) {
	e := newEnv(t)
	ck := e.login("volunteer")

	res := e.get("/api/v1/me", ck)
	wantStatus(t, res, 200)
	var u ledger.User
	res.decode(t, &u)
	if u.Login != "volunteer" || u.Role != ledger.RoleVolunteer {
		t.Errorf("me = %+v", u)
	}

	res = e.do("POST", "/api/v1/logout", nil, ck)
	wantStatus(t, res, 204)
	cleared := sessionCookieOf(t, res)
	if cleared.Value != "" || cleared.MaxAge >= 0 {
		t.Errorf("logout cookie %+v does not clear", cleared)
	}

	t.Run("OldCookieIsRevoked", func(t *testing.T) {
		wantStatus(t, e.get("/api/v1/me", ck), 401)
		wantStatus(t, e.do("POST", "/api/v1/logout", nil, ck), 401)
	})
	t.Run("OtherSessionsLive", func(t *testing.T) {
		a, b := e.login("volunteer"), e.login("volunteer")
		wantStatus(t, e.do("POST", "/api/v1/logout", nil, a), 204)
		wantStatus(t, e.get("/api/v1/me", b), 200)
	})
	t.Run("GarbageCookie", func(t *testing.T) {
		for _, v := range []string{"", "x", strings.Repeat("A", 43), "!!!!"} {
			wantStatus(t, e.get("/api/v1/me", &http.Cookie{Name: sessionCookie, Value: v}), 401)
		}
	})
}

func TestSessionExpires(t *testing.T) {
	e := newEnv(t)
	ck := e.login("organizer")
	e.clock.Add(14*24*time.Hour - time.Minute)
	wantStatus(t, e.get("/api/v1/me", ck), 200)
	e.clock.Add(time.Minute)
	wantStatus(t, e.get("/api/v1/me", ck), 401)
}

func TestSetPasswordEndsSessions(t *testing.T) {
	e := newEnv(t)
	ck := e.login("organizer")
	u := e.users[ledger.RoleOrganizer]
	// Setting a password ends the user's sessions in the store.
	if err := e.store.SetPassword(ctx, u.ID, testHash()); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.get("/api/v1/me", ck), 401)
}

func TestLoginRateLimit(t *testing.T) {
	t.Run("PerLogin", func(t *testing.T) {
		e := newEnv(t)
		for i := range loginFailuresPerLogin {
			res := e.do("POST", "/api/v1/login", loginBody("organizer", "wrong"+strconv.Itoa(i)), nil)
			wantStatus(t, res, 401)
		}
		// Locked now, even with the right password, and whatever the case.
		res := e.do("POST", "/api/v1/login", loginBody("ORGANIZER", testPassword), nil)
		wantStatus(t, res, 429)
		if got := res.errorBody(t); got["code"] != "too_many" || got["retry_after"] != float64(15*60) {
			t.Errorf("error = %v", got)
		}
		if res.Header.Get("Retry-After") != "900" {
			t.Errorf("Retry-After = %q", res.Header.Get("Retry-After"))
		}
		// Other logins are not locked.
		e.login("admin")
		// The lock ends with the window.
		e.clock.Add(15 * time.Minute)
		e.login("organizer")
	})
	t.Run("SuccessResetsFailures", func(t *testing.T) {
		e := newEnv(t)
		for range 2 {
			for range loginFailuresPerLogin - 1 {
				wantStatus(t, e.do("POST", "/api/v1/login", loginBody("clerk", "wrong"), nil), 401)
			}
			e.login("clerk")
		}
	})
	t.Run("PerIP", func(t *testing.T) {
		e := newEnv(t)
		// Every attempt counts, even one that is not well-formed.
		for range config.Default().LoginsPerMinute {
			wantStatus(t, e.do("POST", "/api/v1/login", strings.NewReader(`{}`), nil), 400)
		}
		res := e.do("POST", "/api/v1/login", loginBody("admin", testPassword), nil)
		wantStatus(t, res, 429)
		if ra, _ := strconv.Atoi(res.Header.Get("Retry-After")); ra < 1 || ra > 60 {
			t.Errorf("Retry-After = %q", res.Header.Get("Retry-After"))
		}
		e.clock.Add(time.Minute)
		e.login("admin")
	})
}

func TestCrossSiteWritesRefused(t *testing.T) {
	e := newEnv(t)
	ck := e.login("admin")
	tests := []struct {
		name   string
		header []string
		status int
	}{
		{"CrossSite", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"SameSiteOtherOrigin", []string{"Sec-Fetch-Site", "same-site"}, 403},
		{"ForeignOrigin", []string{"Origin", "https://evil.example"}, 403},
		{"SameOrigin", []string{"Sec-Fetch-Site", "same-origin"}, 401},
		{"UserTypedURL", []string{"Sec-Fetch-Site", "none"}, 401},
		{"NotABrowser", nil, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do("POST", "/api/v1/login", loginBody("admin", "wrong"), nil, tt.header...)
			wantStatus(t, res, tt.status)
			if tt.status == 403 {
				if got := res.errorBody(t); got["code"] != "forbidden" || !strings.Contains(got["message"].(string), "其他网站") {
					t.Errorf("error = %v", got)
				}
			}
		})
	}
	t.Run("LogoutCrossSite", func(t *testing.T) {
		wantStatus(t, e.do("POST", "/api/v1/logout", nil, ck, "Sec-Fetch-Site", "cross-site"), 403)
		wantStatus(t, e.get("/api/v1/me", ck), 200)
	})
	t.Run("ReadsAllowed", func(t *testing.T) {
		wantStatus(t, e.get("/api/v1/me", ck, "Sec-Fetch-Site", "cross-site"), 200)
	})
}

func TestRoles(t *testing.T) {
	e := newEnv(t)
	cookies := map[string]*http.Cookie{"anonymous": nil}
	for _, r := range []string{"admin", "organizer", "clerk", "volunteer"} {
		cookies[r] = e.login(r)
	}
	want := map[string]int{"anonymous": 401, "volunteer": 403, "organizer": 403, "clerk": 403, "admin": 200}
	for _, path := range []string{"/api/v1/ledger/entries", "/api/v1/ledger/verify", "/api/v1/admin/backup"} {
		for who, status := range want {
			if who == "admin" && strings.HasSuffix(path, "/backup") {
				status = backupStatus
			}
			t.Run(strings.TrimPrefix(path, "/api/v1/")+"/"+who, func(t *testing.T) {
				res := e.get(path, cookies[who])
				wantStatus(t, res, status)
				if status == 401 || status == 403 {
					code := map[int]string{401: "unauthorized", 403: "forbidden"}[status]
					if got := res.errorBody(t); got["code"] != code {
						t.Errorf("error = %v", got)
					}
				}
			})
		}
	}
}

func TestParseLogin(t *testing.T) {
	tests := []struct {
		name, body, login, key string
	}{
		{"Plain", `{"login":"13800138000","password":"pw"}`, "13800138000", ""},
		{"Trimmed", `{"login":"  李四 ","password":" pw "}`, "李四", ""},
		{"Empty", ``, "", "request.json_invalid"},
		{"NotObject", `[]`, "", "request.json_invalid"},
		{"WrongType", `{"login":1,"password":"pw"}`, "", "request.json_invalid"},
		{"Unknown", `{"login":"a","password":"b","x":1}`, "", "request.json_invalid"},
		{"Trailing", `{"login":"a","password":"b"}x`, "", "request.json_invalid"},
		{"Null", `null`, "", "login.missing"},
		{"NoPassword", `{"login":"a","password":""}`, "", "login.missing"},
		{"Long", `{"login":"` + strings.Repeat("a", 65) + `","password":"b"}`, "", "login.too_long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := parseLogin(strings.NewReader(tt.body))
			if tt.key == "" {
				if err != nil || req.Login != tt.login {
					t.Errorf("parseLogin = %+v, %v", req, err)
				}
				return
			}
			if e, ok := ledger.AsError(err); !ok || e.Key != tt.key || e.Code != ledger.EINVALID {
				t.Errorf("error = %v, want %s", err, tt.key)
			}
		})
	}
}

func FuzzParseLogin(f *testing.F) {
	for _, s := range []string{
		`{"login":"admin","password":"secret"}`,
		`{"login":"  13800138000 ","password":"密码"}`,
		`{"login":"","password":""}`,
		`{"login":"a","password":"b"} trailing`,
		`{"login":"a","password":"b","extra":1}`,
		`{"login":"\u0000","password":"\ud800"}`,
		`null`, `[]`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseLogin(bytes.NewReader(body))
		if err != nil {
			if e, ok := ledger.AsError(err); !ok || e.Code != ledger.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		if req.Login == "" || req.Login != strings.TrimSpace(req.Login) || req.Password == "" {
			t.Fatalf("accepted %+v", req)
		}
		if len([]rune(req.Login)) > maxLoginRunes || len(req.Password) > maxPasswordLen {
			t.Fatalf("accepted over-long %+v", req)
		}
	})
}
