package handlers

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"

	"github.com/labstack/echo/v4"
)

// pageData is what every page template gets: the language, the languages to
// switch to, and T to translate.
type pageData struct {
	Lang  string
	Langs []langLink
	cat   *catalogue
}

// langLink is one entry of a page's language switch.
type langLink struct {
	Code, Name string
	Current    bool
}

// T returns the message key in the page's language.
func (p pageData) T(key string, args ...any) string { return p.cat.T(p.Lang, key, args...) }

func (s *server) pageData(c echo.Context) pageData {
	p := pageData{Lang: s.lang(c), cat: s.cat}
	for _, l := range languages {
		p.Langs = append(p.Langs, langLink{l.Code, l.Name, l.Code == p.Lang})
	}
	return p
}

// render executes a page template into a buffer first, so that a template
// error becomes a clean 500 instead of half a page.
func (s *server) render(c echo.Context, status int, name string, data any) error {
	var buf bytes.Buffer
	page, ok := s.pages[name]
	if !ok {
		return fmt.Errorf("no page template %s", name)
	}
	if err := page.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// startPageData is the data of the page at /: the login form, and once logged in who is
// logged in, with the ledger tools for administrators. The script decides
// which part to show by asking /api/v1/me.
type startPageData struct {
	pageData
	// Messages are the catalogue entries the script formats itself.
	Messages map[string]string
}

func (s *server) startPage(c echo.Context) error {
	p := s.pageData(c)
	return s.render(c, http.StatusOK, "index.html", startPageData{
		pageData: p,
		Messages: s.cat.WithPrefix(p.Lang, "js.", "role."),
	})
}

// asset serves an embedded script or style from static/assets.
func (s *server) asset(c echo.Context) error {
	name := c.Param("*")
	if !fs.ValidPath(name) || name == "." {
		return echo.ErrNotFound
	}
	b, err := fs.ReadFile(s.assets, name)
	if err != nil {
		return echo.ErrNotFound
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = echo.MIMEOctetStream
	}
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, ctype, b)
}

// openAPIDocument serves static/openapi.yaml.
func (s *server) openAPIDocument(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml; charset=utf-8", s.openAPI)
}

// pageMark begins every page file: a page is the base layout
// (templates/base.html) filled with the page's "title", "head",
// "body_class" and "body".
const pageMark = `{{template "base" .}}`

// parsePages parses each page of templates/ into a template set of its
// own, with the parts (every file that is not a page: the base layout,
// the bars, the forms shared by several pages), so that the names each
// page defines do not clash. The map is keyed by the page's file name.
func parsePages(fsys fs.FS) (map[string]*template.Template, error) {
	names, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, err
	}
	var pages, parts []string
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		if bytes.HasPrefix(b, []byte(pageMark)) {
			pages = append(pages, n)
		} else {
			parts = append(parts, n)
		}
	}
	base, err := template.ParseFS(fsys, parts...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*template.Template, len(pages))
	for _, p := range pages {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if t, err = t.ParseFS(fsys, p); err != nil {
			return nil, err
		}
		out[path.Base(p)] = t
	}
	return out, nil
}
