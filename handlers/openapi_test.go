package handlers

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	"aixin/static"

	"github.com/labstack/echo/v4"
)

// undocumented are the routes the OpenAPI document leaves out on purpose:
// embedded files, not an API.
var undocumented = map[string]bool{
	"GET /static/*": true,
}

// specRoutes reads "METHOD /path" pairs from the paths: section of an
// OpenAPI document: a path is a key indented two spaces, a method a key
// indented four. Path parameters {id} become Echo's :id.
func specRoutes(t *testing.T, doc string) []string {
	t.Helper()
	var out []string
	inPaths, path := false, ""
	param := regexp.MustCompile(`\{([^}]+)\}`)
	for line := range strings.Lines(doc) {
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if !strings.HasPrefix(line, " ") {
			inPaths = line == "paths:"
			continue
		}
		if !inPaths {
			continue
		}
		switch {
		case strings.HasPrefix(line, "  /") && strings.HasSuffix(line, ":"):
			path = param.ReplaceAllString(strings.TrimSuffix(strings.TrimSpace(line), ":"), ":$1")
		case strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     "):
			key, _, _ := strings.Cut(strings.TrimSpace(line), ":")
			switch key {
			case "get", "put", "post", "delete", "patch", "head", "options":
				out = append(out, strings.ToUpper(key)+" "+path)
			}
		}
	}
	return out
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t)
	doc, err := fs.ReadFile(static.FS, "openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	documented := specRoutes(t, string(doc))
	if len(documented) < 10 {
		t.Fatalf("parsed only %v from openapi.yaml", documented)
	}

	var registered []string
	for _, r := range e.echo.Routes() {
		key := r.Method + " " + r.Path
		if r.Method == echo.RouteNotFound || undocumented[key] {
			continue
		}
		registered = append(registered, key)
	}
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in static/openapi.yaml", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(registered, d) {
			t.Errorf("openapi.yaml documents %s, which is not a route", d)
		}
	}
	slices.Sort(documented)
	if dup := slices.Compact(slices.Clone(documented)); len(dup) != len(documented) {
		t.Error("openapi.yaml documents a route twice")
	}

	t.Run("Served", func(t *testing.T) {
		res := e.get("/api/v1/openapi.yaml", nil)
		wantStatus(t, res, 200)
		if string(res.body) != string(doc) || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/yaml") {
			t.Errorf("served document differs or Content-Type %q", res.Header.Get("Content-Type"))
		}
	})
}

func TestSpecRoutesParser(t *testing.T) {
	doc := "openapi: 3.0.3\ncomponents:\n  schemas:\n    get:\n      x: 1\npaths:\n  /a/{id}:\n    get:\n      summary: x\n    post:\n      responses:\n        get: {}\n  /b:\n    delete: {}\ntags: []\n"
	got := specRoutes(t, doc)
	want := []string{"GET /a/:id", "POST /a/:id", "DELETE /b"}
	if !slices.Equal(got, want) {
		t.Errorf("specRoutes = %v, want %v", got, want)
	}
}
