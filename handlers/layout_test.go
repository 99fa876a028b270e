package handlers

import (
	"io/fs"
	"strings"
	"testing"

	"aixin/static"
)

// TestPagesShareTheLayout: every page is the base layout filled in. No
// template but base.html writes a document's head; every page defines its
// title and body; and each page renders its own parts, not another
// page's of the same name (each has a set of its own).
func TestPagesShareTheLayout(t *testing.T) {
	names, err := fs.Glob(static.FS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	pages, err := parsePages(static.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		b, _ := fs.ReadFile(static.FS, n)
		text := strings.ToLower(string(b))
		if n != "templates/base.html" && (strings.Contains(text, "<!doctype") || strings.Contains(text, "<head>")) {
			t.Errorf("%s writes a document head of its own: use the base layout", n)
		}
	}
	if len(pages) < 30 {
		t.Fatalf("%d pages found", len(pages))
	}
	for name, p := range pages {
		for _, part := range []string{"base", "title", "body"} {
			if p.Lookup(part) == nil {
				t.Errorf("%s: no %q", name, part)
			}
		}
	}

	// Two pages, two titles: the sets do not share their definitions.
	e := newEnv(t)
	var titles []string
	admin := e.login("admin")
	for _, path := range []string{"/", "/admin/"} {
		res := e.get(path, admin)
		body := string(res.body)
		if res.StatusCode != 200 || strings.Count(body, "<title>") != 1 || !strings.HasPrefix(body, "<!doctype html>") {
			t.Fatalf("%s: %d\n%s", path, res.StatusCode, body)
		}
		i := strings.Index(body, "<title>")
		j := strings.Index(body, "</title>")
		titles = append(titles, body[i:j])
		if c := strings.Index(body, `<meta charset="utf-8">`); c < 0 || c > i {
			t.Errorf("%s: the charset is not declared before the title", path)
		}
	}
	if titles[0] == titles[1] {
		t.Fatalf("/ and /admin/ have the same title %q: the page sets share a definition", titles[0])
	}
}
