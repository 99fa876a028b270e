package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// eventPageWorld is pageWorld with an event of community A.
type eventPageWorld struct {
	pageWorld
	event ledger.Event
	pages []string // the list and the event's two pages
}

func newEventPageWorld(t *testing.T, e *env) eventPageWorld {
	t.Helper()
	w := eventPageWorld{pageWorld: newPageWorld(t, e)}
	start := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC) // 17:00 in Shanghai
	var err error
	w.event, err = e.store.CreateEvent(ctx, ledger.Event{
		Title: "楼道环境整治", Category: ledger.Categories[0], UnitID: w.a.ID, Place: "和平社区3号楼",
		StartsAt: start, EndsAt: start.Add(2 * time.Hour), CreatedBy: w.orgA.ID,
	})
	if err != nil {
		t.Fatal(err)
	}
	id := w.event.ID.String()
	w.pages = []string{"/admin/events", "/admin/events/" + id, "/admin/events/" + id + "/display"}
	return w
}

func TestEventPagesSendAnonymousToLogin(t *testing.T) {
	e := newEnv(t)
	w := newEventPageWorld(t, e)
	wantLoginRedirects(t, e, w.pages)
}

func TestEventPagesByRole(t *testing.T) {
	e := newEnv(t)
	w := newEventPageWorld(t, e)
	for _, tt := range []struct {
		who    string
		cookie *http.Cookie
		status int
	}{
		{"admin", e.login("admin"), http.StatusOK},
		{"org-a", e.login("org-a"), http.StatusOK},
		{"clerk", e.login("clerk"), http.StatusForbidden},
		{"volunteer", e.login(w.memberLogin), http.StatusForbidden},
	} {
		for _, p := range w.pages {
			t.Run(tt.who+p, func(t *testing.T) {
				res := e.get(p, tt.cookie)
				wantStatus(t, res, tt.status)
				if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
					t.Errorf("Content-Type %q", res.Header.Get("Content-Type"))
				}
				if tt.status == http.StatusOK && res.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
				}
			})
		}
	}
}

// TestEventPagesFollowTheCSP checks the event pages as TestPagesFollowTheCSP
// checks the others: nothing inline, nothing from another origin, one page
// script whose imports exist, and the script messages in the page's language.
func TestEventPagesFollowTheCSP(t *testing.T) {
	e := newEnv(t)
	w := newEventPageWorld(t, e)
	staff := e.login("org-a")
	for _, p := range w.pages {
		for _, lang := range []string{langZH, langEN} {
			t.Run(p+"/"+lang, func(t *testing.T) {
				res := e.get(p+"?lang="+lang, staff)
				wantStatus(t, res, http.StatusOK)
				body := string(res.body)
				msgs := checkPage(t, body, lang)
				if msgs["js.events.status.open"] != e.catalogue().T(lang, "js.events.status.open") {
					t.Errorf("#messages lacks the event messages in %s", lang)
				}
				if !strings.Contains(body, `href="/admin/events?lang=`+lang+`"`) && !strings.Contains(p, "/display") {
					t.Error("the navigation lacks the events page")
				}
			})
		}
	}
}

// TestEventPageShowsTheEvent checks that the event's pages render its
// title, place and time in the deployment's zone, and the display page the
// QR image the script fills in.
func TestEventPageShowsTheEvent(t *testing.T) {
	e := newEnv(t)
	w := newEventPageWorld(t, e)
	ck := e.login("org-a")
	id := w.event.ID.String()
	for _, p := range w.pages[1:] {
		res := e.get(p, ck)
		wantStatus(t, res, http.StatusOK)
		body := string(res.body)
		for _, want := range []string{"楼道环境整治", "和平社区3号楼", "2026年3月14日 17:00–19:00", `data-event-id="` + id + `"`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", p, want)
			}
		}
	}
	res := e.get(w.pages[2]+"?lang=en", ck)
	if body := string(res.body); !strings.Contains(body, `id="qr"`) || !strings.Contains(body, "14 Mar 2026 17:00–19:00") {
		t.Errorf("display page lacks the QR or the English time: %s", body)
	}
	res = e.get(w.pages[1], ck)
	if want := `href="/admin/events/` + id + `/display?lang=zh-CN"`; !strings.Contains(string(res.body), want) {
		t.Errorf("event page lacks the link to the display: %s", want)
	}
}

// TestEventPageScope checks that an event outside the organiser's scope
// gets the same 404 page as one that does not exist, as the API answers.
func TestEventPageScope(t *testing.T) {
	e := newEnv(t)
	w := newEventPageWorld(t, e)
	orgB := e.login("org-b")
	id := w.event.ID.String()
	for _, tt := range []struct{ name, path string }{
		{"OtherCommunity", "/admin/events/" + id},
		{"OtherCommunityDisplay", "/admin/events/" + id + "/display"},
		{"Unknown", "/admin/events/" + uuid.NewString()},
		{"UnknownDisplay", "/admin/events/" + uuid.NewString() + "/display"},
		{"NotAnID", "/admin/events/nope"},
		{"Markup", "/admin/events/%27%3Cscript%3E/display"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := e.get(tt.path, orgB)
			wantStatus(t, res, http.StatusNotFound)
			body := string(res.body)
			if !strings.Contains(body, e.catalogue().T(langZH, "event.not_found")) {
				t.Errorf("404 page does not say what: %s", body)
			}
			if strings.Contains(body, "楼道环境整治") || strings.Contains(body, "admin-event") {
				t.Error("404 page shows the event")
			}
		})
	}
	// The list page itself is everyone's; what it lists comes from the API, by scope.
	wantStatus(t, e.get("/admin/events", orgB), http.StatusOK)
}

func TestEventWindow(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	at := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, loc) }
	for _, tt := range []struct {
		lang       string
		start, end time.Time
		want       string
	}{
		{langZH, at(14, 9, 0), at(14, 11, 30), "2026年3月14日 09:00–11:30"},
		{langEN, at(14, 9, 0), at(14, 11, 30), "14 Mar 2026 09:00–11:30"},
		{langZH, at(14, 22, 0), at(15, 2, 0), "2026年3月14日 22:00 – 2026年3月15日 02:00"},
	} {
		if got := eventWindow(tt.lang, tt.start, tt.end); got != tt.want {
			t.Errorf("eventWindow(%s, %v, %v) = %q, want %q", tt.lang, tt.start, tt.end, got, tt.want)
		}
	}
}

// wantLoginRedirects checks that each page, asked for without a session,
// sends the browser to the start page, which comes back to it after login.
func wantLoginRedirects(t *testing.T, e *env, pages []string) {
	t.Helper()
	client := noFollow(e)
	for _, p := range pages {
		t.Run(p, func(t *testing.T) {
			res, err := client.Get(e.srv.URL + p + "?lang=en")
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
			if loc.Path != "/" || loc.Query().Get("next") != p+"?lang=en" || loc.Query().Get("lang") != "en" {
				t.Errorf("Location %s, want the start page with next=%s", loc, p)
			}
		})
	}
}
