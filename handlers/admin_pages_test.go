package handlers

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"testing"

	"aixin/ledger"
	"aixin/static"

	"github.com/google/uuid"
)

// organiserPages and volunteerPages are every page of the two areas; the
// member page is added per test, with a real member.
var (
	organiserPages = []string{
		"/admin/", "/admin/units", "/admin/teams", "/admin/members", "/admin/import", "/admin/staff",
		"/admin/exports", "/admin/records",
	}
	volunteerPages = []string{"/m/", "/m/card"}
)

// pageWorld is a street with communities A and B, an organiser of each
// (logins "org-a", "org-b"), and a member of A who can log in as a volunteer.
type pageWorld struct {
	a, b         ledger.Unit
	member       ledger.Member
	memberPage   string
	orgA, orgB   ledger.User
	memberLogin  string
	organiserAll []string // organiserPages and the member page
}

func newPageWorld(t *testing.T, e *env) pageWorld {
	t.Helper()
	var w pageWorld
	street, err := e.store.CreateUnit(ctx, "幸福街道", ledger.UnitStreet, uuid.Nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w.a, err = e.store.CreateUnit(ctx, "和平社区", ledger.UnitCommunity, street.ID, nil); err != nil {
		t.Fatal(err)
	}
	if w.b, err = e.store.CreateUnit(ctx, "友谊社区", ledger.UnitCommunity, street.ID, nil); err != nil {
		t.Fatal(err)
	}
	w.memberLogin = "13812345678"
	if w.member, err = e.store.CreateMember(ctx, ledger.Member{Name: "王小明", Phone: w.memberLogin, UnitID: w.a.ID}, testHash()); err != nil {
		t.Fatal(err)
	}
	for _, o := range []struct {
		login string
		unit  uuid.UUID
		user  *ledger.User
	}{{"org-a", w.a.ID, &w.orgA}, {"org-b", w.b.ID, &w.orgB}} {
		if *o.user, err = e.store.CreateUser(ctx, ledger.User{Login: o.login, Role: ledger.RoleOrganizer, UnitID: o.unit, PasswordHash: testHash()}); err != nil {
			t.Fatal(err)
		}
	}
	w.memberPage = "/admin/members/" + w.member.ID.String()
	w.organiserAll = append(append([]string{}, organiserPages...), w.memberPage)
	return w
}

// noFollow is a client that shows redirects instead of following them.
func noFollow(e *env) *http.Client {
	c := *e.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func TestPagesSendAnonymousToLogin(t *testing.T) {
	e := newEnv(t)
	w := newPageWorld(t, e)
	client := noFollow(e)
	for _, p := range append(append([]string{}, w.organiserAll...), volunteerPages...) {
		for _, query := range []string{"", "?lang=en", "?lang=fr&x=1"} {
			t.Run(p+query, func(t *testing.T) {
				res, err := client.Get(e.srv.URL + p + query)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusFound {
					t.Fatalf("status %d, want 302", res.StatusCode)
				}
				loc, err := url.Parse(res.Header.Get("Location"))
				if err != nil {
					t.Fatal(err)
				}
				if loc.Path != "/" || loc.Host != "" {
					t.Errorf("Location %s, want the start page", loc)
				}
				if got := loc.Query().Get("next"); got != p+query {
					t.Errorf("next = %q, want %q", got, p+query)
				}
				wantLang := map[string]string{"": "", "?lang=en": "en", "?lang=fr&x=1": ""}[query]
				if got := loc.Query().Get("lang"); got != wantLang {
					t.Errorf("lang = %q, want %q", got, wantLang)
				}
			})
		}
	}
}

func TestPagesByRole(t *testing.T) {
	e := newEnv(t)
	w := newPageWorld(t, e)
	cookies := map[string]*http.Cookie{
		"admin": e.login("admin"), "org-a": e.login("org-a"), "clerk": e.login("clerk"), "volunteer": e.login(w.memberLogin),
	}
	may := map[string]struct{ admin, volunteer bool }{
		"admin":     {true, false},
		"org-a":     {true, false},
		"clerk":     {false, false},
		"volunteer": {false, true},
	}
	for who, ok := range may {
		for _, pages := range []struct {
			list []string
			ok   bool
		}{{w.organiserAll, ok.admin}, {volunteerPages, ok.volunteer}} {
			for _, p := range pages.list {
				t.Run(who+p, func(t *testing.T) {
					res := e.get(p, cookies[who])
					if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
						t.Errorf("Content-Type %q", res.Header.Get("Content-Type"))
					}
					if !pages.ok {
						wantStatus(t, res, http.StatusForbidden)
						if !strings.Contains(string(res.body), "您的账号没有权限进行这项操作") {
							t.Errorf("403 page does not say why: %s", res.body)
						}
						return
					}
					wantStatus(t, res, http.StatusOK)
					if res.Header.Get("Cache-Control") != "no-store" {
						t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
					}
				})
			}
		}
	}
}

// TestPagesFollowTheCSP checks every page for what the CSP would refuse,
// and that its scripts and the modules they import exist.
func TestPagesFollowTheCSP(t *testing.T) {
	e := newEnv(t)
	w := newPageWorld(t, e)
	staff, volunteer := e.login("org-a"), e.login(w.memberLogin)
	pages := map[string]*http.Cookie{}
	for _, p := range w.organiserAll {
		pages[p] = staff
	}
	for _, p := range volunteerPages {
		pages[p] = volunteer
	}
	for p, ck := range pages {
		for _, lang := range []string{langZH, langEN} {
			t.Run(p+"/"+lang, func(t *testing.T) {
				res := e.get(p+"?lang="+lang, ck)
				wantStatus(t, res, http.StatusOK)
				body := string(res.body)
				msgs := checkPage(t, body, lang)
				if msgs["js.members.empty"] != e.catalogue().T(lang, "js.members.empty") || msgs["role.volunteer"] == "" {
					t.Errorf("#messages lacks the script messages in %s", lang)
				}
			})
		}
	}
}

// catalogue returns the server's message catalogue.
func (e *env) catalogue() *catalogue {
	e.t.Helper()
	return testCatalogue(e.t)
}

// checkModule checks that the script static/assets/name exists, and so do
// the modules it imports, recursively.
// checkPage checks what every page must be: in its language, with no inline
// script, style, handler or javascript: URL (the CSP refuses them), nothing
// from another origin, one page module whose imports all exist, a #messages
// block of JSON, and no message key showing instead of its text. It returns
// the messages.
func checkPage(t *testing.T, body, lang string) map[string]string {
	t.Helper()
	if !strings.Contains(body, `<html lang="`+lang+`">`) {
		t.Errorf("page is not in %s", lang)
	}
	if m := pageInline.FindString(body); m != "" {
		t.Errorf("inline script, style or handler %q, which the CSP refuses", m)
	}
	if m := pageForeign.FindString(body); m != "" {
		t.Errorf("loads from another origin: %q", m)
	}
	scripts := pageScript.FindAllStringSubmatch(body, -1)
	if len(scripts) != 1 {
		t.Fatalf("%d page scripts, want 1", len(scripts))
	}
	checkModule(t, scripts[0][1], map[string]bool{})
	m := pageMessages.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no #messages block")
	}
	var msgs map[string]string
	if err := json.Unmarshal([]byte(m[1]), &msgs); err != nil {
		t.Fatalf("#messages is not JSON: %v", err)
	}
	if pageKeyShown.MatchString(body) {
		t.Error("a message key shows instead of its text")
	}
	return msgs
}

var (
	pageInline   = regexp.MustCompile(`<script(?:\s+type="module")?\s*>|<style|\sstyle=|\son[a-z]+=|javascript:`)
	pageForeign  = regexp.MustCompile(`(?:src|href|action)="(?:https?:)?//`)
	pageScript   = regexp.MustCompile(`<script type="module" src="/static/([^"]+)"></script>`)
	pageMessages = regexp.MustCompile(`(?s)<script type="application/json" id="messages">(.*?)</script>`)
	pageKeyShown = regexp.MustCompile(`>(page|js)\.[a-z_.]+<`)
)

func checkModule(t *testing.T, name string, seen map[string]bool) {
	t.Helper()
	if seen[name] {
		return
	}
	seen[name] = true
	b, err := fs.ReadFile(static.FS, "assets/"+name)
	if err != nil {
		t.Errorf("script %s: %v", name, err)
		return
	}
	for _, m := range regexp.MustCompile(`(?m)^import (?:[^;]*?from )?'\./([^']+)';`).FindAllStringSubmatch(string(b), -1) {
		checkModule(t, path.Clean(m[1]), seen)
	}
}

func TestEveryScriptIsUsed(t *testing.T) {
	used := map[string]bool{}
	pages, err := fs.Glob(static.FS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		b, err := fs.ReadFile(static.FS, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`src="/static/([^"]+\.js)"`).FindAllStringSubmatch(string(b), -1) {
			checkModule(t, m[1], used)
		}
	}
	scripts, err := fs.Glob(static.FS, "assets/*.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scripts {
		if name := path.Base(s); !used[name] {
			t.Errorf("script %s is used by no page", name)
		}
	}
}

func TestVolunteerPagesShowOnlyTheMaskedPhone(t *testing.T) {
	e := newEnv(t)
	w := newPageWorld(t, e)
	ck := e.login(w.memberLogin)
	for _, p := range volunteerPages {
		t.Run(p, func(t *testing.T) {
			res := e.get(p, ck)
			wantStatus(t, res, http.StatusOK)
			body := string(res.body)
			if strings.Contains(body, w.memberLogin) {
				t.Error("page shows the full phone number")
			}
			for _, want := range []string{"138****5678", "王小明"} {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
		})
	}
	res := e.get("/m/card", ck)
	if want := `src="/api/v1/members/` + w.member.ID.String() + `/card.png"`; !strings.Contains(string(res.body), want) {
		t.Errorf("card page lacks %s", want)
	}
	res = e.get("/m/", ck)
	if want := `data-member-id="` + w.member.ID.String() + `"`; !strings.Contains(string(res.body), want) {
		t.Errorf("home page lacks %s", want)
	}
}

// TestHomeAsksForAnOwnPassword: a volunteer whose password staff set is
// asked on their home page for one of their own; once they changed it
// (with the current one) the page asks no more.
func TestHomeAsksForAnOwnPassword(t *testing.T) {
	e := newEnv(t)
	w := newPageWorld(t, e)
	ck := e.login(w.memberLogin)
	if res := e.get("/m/", ck); !strings.Contains(string(res.body), `id="own-pw-ask"`) {
		t.Fatal("a staff-set password: the home page does not ask for an own one")
	}
	res := e.do("POST", "/api/v1/me/password", strings.NewReader(`{"old_password":"`+testPassword+`","password":"only-mine-2026"}`), ck)
	wantStatus(t, res, http.StatusNoContent)
	if res := e.get("/m/", ck); strings.Contains(string(res.body), `id="own-pw-ask"`) {
		t.Fatal("an own password: the home page still asks for one")
	}
}

func TestPageRedirects(t *testing.T) {
	e := newEnv(t)
	client := noFollow(e)
	tests := []struct{ path, status, location string }{
		{"/admin", "301", "/admin/"},
		{"/admin?lang=en", "301", "/admin/?lang=en"},
		{"/m", "301", "/m/"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := client.Get(e.srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if got := res.Status[:3]; got != tt.status || res.Header.Get("Location") != tt.location {
				t.Errorf("%s %s, want %s %s", got, res.Header.Get("Location"), tt.status, tt.location)
			}
		})
	}
}

// TestMemberPageScope checks that the member page answers 404, as the API
// does, for a member outside the organiser's scope, an unknown member and a
// malformed id, and shows the member to organisers whose scope holds them.
func TestMemberPageScope(t *testing.T) {
	e := newEnv(t)
	w := newPageWorld(t, e)
	admin, orgA, orgB := e.login("admin"), e.login("org-a"), e.login("org-b")
	tests := []struct {
		name   string
		cookie *http.Cookie
		path   string
		status int
	}{
		{"OrganiserOfTheMember", orgA, w.memberPage, http.StatusOK},
		{"Administrator", admin, w.memberPage, http.StatusOK},
		{"OrganiserOfAnotherCommunity", orgB, w.memberPage, http.StatusNotFound},
		{"UnknownMember", orgA, "/admin/members/" + uuid.NewString(), http.StatusNotFound},
		{"NotAnID", orgA, "/admin/members/nope", http.StatusNotFound},
		{"ShortID", orgA, "/admin/members/12345", http.StatusNotFound},
		{"Markup", orgA, "/admin/members/%27%3Cscript%3E", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.get(tt.path, tt.cookie)
			wantStatus(t, res, tt.status)
			body := string(res.body)
			if tt.status == http.StatusOK {
				if !strings.Contains(body, `data-member-id="`+w.member.ID.String()+`"`) {
					t.Error("member page lacks the member id")
				}
				return
			}
			if !strings.Contains(body, e.catalogue().T(langZH, "member.not_found")) {
				t.Errorf("404 page does not say what: %s", body)
			}
			if strings.Contains(body, "王小明") || strings.Contains(body, "<script") && strings.Contains(body, "admin-member.js") {
				t.Error("404 page shows the member page")
			}
		})
	}
}
