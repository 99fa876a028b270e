package handlers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"aixin/ledger"
	"aixin/static"
)

func testCatalogue(t *testing.T) *catalogue {
	t.Helper()
	c, err := loadCatalogue(static.FS)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// msgUse is one use of a message key in the source.
type msgUse struct {
	key  string
	args int // arguments given, -1 if unknown
	pos  string
}

// isSelector reports whether e is pkg.name for some pkg.
func isSelector(e ast.Expr, name string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == name
}

// goMessageUses finds every call Errorf(code, "key", args...) and
// T(lang, "key", args...) in the non-test Go files of dir, the field names
// and messages of free-text rules (Text{Field: "field.x", Key: "key"}) and
// of cleanName(s, "field.x", "key").
func goMessageUses(t *testing.T, dir string) []msgUse {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var uses []msgUse
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		str := func(e ast.Expr) (string, bool) {
			lit, ok := e.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return "", false
			}
			v, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			return v, true
		}
		ast.Inspect(f, func(n ast.Node) bool {
			// A free-text rule, Text{Field: "field.x", Key: "y"}: both are messages.
			if lit, ok := n.(*ast.CompositeLit); ok {
				if id, ok := lit.Type.(*ast.Ident); ok && id.Name == "Text" || isSelector(lit.Type, "Text") {
					for _, el := range lit.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							if v, ok := str(kv.Value); ok {
								uses = append(uses, msgUse{v, -1, fset.Position(kv.Pos()).String()})
							}
						}
					}
				}
				return true
			}
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "cleanName" && len(call.Args) == 3 {
				for _, a := range call.Args[1:] {
					if v, ok := str(a); ok {
						uses = append(uses, msgUse{v, 0, fset.Position(a.Pos()).String()})
					}
				}
				return true
			}
			var fn string
			switch f := call.Fun.(type) {
			case *ast.Ident:
				fn = f.Name
			case *ast.SelectorExpr:
				fn = f.Sel.Name
			}
			if fn != "Errorf" && fn != "T" {
				return true
			}
			if _, first := call.Args[0].(*ast.BasicLit); first {
				return true // fmt.Errorf("...", ...) and the like
			}
			lit, ok := call.Args[1].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			key, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			args := len(call.Args) - 2
			if call.Ellipsis.IsValid() {
				args = -1
			}
			uses = append(uses, msgUse{key, args, fset.Position(call.Pos()).String()})
			return true
		})
	}
	return uses
}

func TestEveryMessageKeyExists(t *testing.T) {
	c := testCatalogue(t)
	var uses []msgUse
	for _, dir := range []string{"../ledger", "../store", "../store/postgres", "../report", "../roster", "."} {
		if _, err := os.Stat(dir); err == nil {
			uses = append(uses, goMessageUses(t, dir)...)
		}
	}
	if len(uses) < 40 {
		t.Fatalf("found only %d message uses; is the AST walk broken?", len(uses))
	}

	// Keys used by tables rather than literal calls.
	for _, m := range httpErrors {
		uses = append(uses, msgUse{m.key, 0, "httpErrors"})
	}
	for _, r := range []ledger.Role{ledger.RoleAdmin, ledger.RoleOrganizer, ledger.RoleClerk, ledger.RoleVolunteer} {
		uses = append(uses, msgUse{"role." + string(r), 0, "login.js role names"})
	}

	// Keys in page templates ({{.T "key"}}) and in scripts (t('key', ...)).
	templateKey := regexp.MustCompile(`\.T "([^"]+)"`)
	scriptKey := regexp.MustCompile(`\bt\('([^']+)'[,)]`)
	err := fs.WalkDir(static.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		re := templateKey
		switch filepath.Ext(path) {
		case ".html":
		case ".js":
			re = scriptKey
		default:
			return nil
		}
		b, err := fs.ReadFile(static.FS, path)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			uses = append(uses, msgUse{m[1], -1, path})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, u := range uses {
		for _, lang := range []string{langZH, langEN} {
			msg, ok := c.Lookup(lang, u.key)
			if !ok {
				t.Errorf("%s: key %q is missing from %s.json", u.pos, u.key, lang)
				continue
			}
			if u.args >= 0 && verbs(msg) != u.args {
				t.Errorf("%s: key %q gets %d arguments, but its %s message has %d verbs", u.pos, u.key, u.args, lang, verbs(msg))
			}
		}
	}
}

func TestLangSelection(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, query, header, want string
	}{
		{"Default", "", "", langZH},
		{"QueryEnglish", "en", "", langEN},
		{"QueryEnglishRegion", "en-GB", "zh-CN", langEN},
		{"QueryChinese", "zh-CN", "en", langZH},
		{"QueryUnknownFallsToHeader", "fr", "en", langEN},
		{"HeaderEnglish", "", "en-US,en;q=0.9", langEN},
		{"HeaderChineseFirst", "", "zh-CN,zh;q=0.9,en;q=0.8", langZH},
		{"HeaderTraditional", "", "zh-TW", langZH},
		{"HeaderByQuality", "", "zh;q=0.5,en;q=0.8", langEN},
		{"HeaderSkipsUnknown", "", "fr-FR,de;q=0.9,en;q=0.5", langEN},
		{"HeaderZeroQuality", "", "en;q=0,zh;q=0.1", langZH},
		{"HeaderAllUnknown", "", "fr,de", langZH},
		{"HeaderWildcard", "", "fr,*;q=0.5", langZH},
		{"HeaderGarbage", "", ";;;,,q=x", langZH},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/"
			if tt.query != "" {
				path += "?lang=" + tt.query
			}
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("Accept-Language", tt.header)
			c := e.echo.NewContext(req, nil)
			if got := (&server{}).lang(c); got != tt.want {
				t.Errorf("lang = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseAcceptLanguage(t *testing.T) {
	tests := []struct {
		name, header string
		want         []string
	}{
		{"Empty", "", []string{}},
		{"One", "en", []string{"en"}},
		{"Ordered", "en;q=0.5, zh-CN, fr;q=0.7", []string{"zh-CN", "fr", "en"}},
		{"StableForEqualQ", "a, b, c", []string{"a", "b", "c"}},
		{"DropsZeroAndBadQ", "a;q=0, b;q=2, c;q=abc, d;q=NaN, e;level=1, f;q=0.001", []string{"f"}},
		{"Spaces", "  zh-CN ; q=0.8 ,en", []string{"en", "zh-CN"}},
		{"TooManyTags", strings.Repeat("xx,", 100) + "en", slices.Repeat([]string{"xx"}, maxLanguageTags)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseAcceptLanguage(tt.header); !slices.Equal(got, tt.want) {
				t.Errorf("parseAcceptLanguage(%q) = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}

func FuzzParseAcceptLanguage(f *testing.F) {
	for _, s := range []string{
		"", "zh-CN,zh;q=0.9,en;q=0.8", "en-US", "*", "zh;q=0.5,en;q=0.8", "a;q=NaN", "a;q=1e400",
		";;;,,", "zh-Hant-TW;q=0.3", strings.Repeat("en,", 50),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tags := parseAcceptLanguage(h)
		if len(tags) > maxLanguageTags {
			t.Fatalf("%d tags", len(tags))
		}
		for _, tag := range tags {
			if tag == "" || tag != strings.TrimSpace(tag) || strings.ContainsAny(tag, ",;") {
				t.Fatalf("bad tag %q from %q", tag, h)
			}
		}
		// Whatever the header says, a catalogue language is chosen.
		lang := langZH
		for _, tag := range tags {
			if l, ok := matchLang(tag); ok {
				lang = l
				break
			}
		}
		if lang != langZH && lang != langEN {
			t.Fatalf("lang %q", lang)
		}
	})
}
