package handlers

import (
	"io"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"aixin/static"

	"github.com/google/uuid"
)

// specOperation is one operation of the OpenAPI document as far as
// generated clients need it: its id and who may call it.
type specOperation struct {
	Method, Path string // "GET", "/api/v1/members/{id}"
	Line         int    // where the operation starts, for messages
	OperationID  string
	// HasSecurity says the operation has a security entry; Schemes are the
	// schemes its alternatives name, Anonymous that one alternative is {}
	// (the session is optional). Public is `security: []`.
	HasSecurity, Public, Anonymous bool
	Schemes                        []string
	// Problems are security entries this reader does not understand.
	Problems []string
}

// specOperations reads the operations of an OpenAPI document written as
// static/openapi.yaml is: a path is a key indented two spaces under paths:,
// a method four, the operation's own keys six. Security is a block list
// (`security:` then `- session: []` or `- {}` lines) or `security: []`.
// A form it does not read is a Problem, not a pass.
func specOperations(doc string) (ops []specOperation, schemes []string) {
	section, path, inSchemes := "", "", false
	var op *specOperation
	inSecurity := false
	flush := func() {
		if op != nil {
			ops = append(ops, *op)
			op = nil
		}
	}
	for n, line := range strings.Split(doc, "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if indent == 0 {
			flush()
			section, _, _ = strings.Cut(trimmed, ":")
			continue
		}
		if section == "components" {
			switch {
			case indent == 2:
				inSchemes = trimmed == "securitySchemes:"
			case indent == 4 && inSchemes:
				name, _, _ := strings.Cut(trimmed, ":")
				schemes = append(schemes, name)
			}
			continue
		}
		if section != "paths" {
			continue
		}
		key, value, _ := strings.Cut(trimmed, ":")
		value = strings.TrimSpace(value)
		switch {
		case indent == 2:
			flush()
			path = key
		case indent == 4:
			flush()
			switch key {
			case "get", "put", "post", "delete", "patch", "head", "options":
				op = &specOperation{Method: strings.ToUpper(key), Path: path, Line: n + 1}
			}
		case op == nil:
		case indent == 6:
			inSecurity = false
			switch key {
			case "operationId":
				op.OperationID = strings.Trim(value, `"'`)
			case "security":
				op.HasSecurity = true
				switch value {
				case "":
					inSecurity = true
				case "[]":
					op.Public = true
				default:
					op.Problems = append(op.Problems, "security: "+value+" (write it as a block list)")
				}
			}
		case inSecurity && indent == 8:
			entry, ok := strings.CutPrefix(trimmed, "- ")
			switch {
			case !ok:
				op.Problems = append(op.Problems, "security entry "+trimmed)
			case entry == "{}":
				op.Anonymous = true
			default:
				name, scopes, _ := strings.Cut(entry, ":")
				if strings.TrimSpace(scopes) != "[]" {
					op.Problems = append(op.Problems, "security entry "+trimmed+" (one scheme with no scopes)")
				}
				op.Schemes = append(op.Schemes, name)
			}
		}
	}
	flush()
	return ops, schemes
}

func TestSpecOperationsParser(t *testing.T) {
	doc := "openapi: 3.0.3\ncomponents:\n  securitySchemes:\n    session:\n      type: apiKey\n  schemas:\n    X: {}\n" +
		"paths:\n  /a/{id}:\n    get:\n      operationId: getA\n      security:\n        - session: []\n      responses:\n        security: x\n" +
		"    post:\n      operationId: \"postA\"\n      security: []\n" +
		"  /b:\n    delete:\n      security:\n        - {}\n        - session: []\n" +
		"    patch:\n      security: [{session: []}]\ntags: []\n"
	ops, schemes := specOperations(doc)
	if len(schemes) != 1 || schemes[0] != "session" {
		t.Errorf("schemes = %v, want [session]", schemes)
	}
	want := []specOperation{
		{Method: "GET", Path: "/a/{id}", OperationID: "getA", HasSecurity: true, Schemes: []string{"session"}},
		{Method: "POST", Path: "/a/{id}", OperationID: "postA", HasSecurity: true, Public: true},
		{Method: "DELETE", Path: "/b", HasSecurity: true, Anonymous: true, Schemes: []string{"session"}},
		{Method: "PATCH", Path: "/b", HasSecurity: true, Problems: []string{"security: [{session: []}] (write it as a block list)"}},
	}
	if len(ops) != len(want) {
		t.Fatalf("got %d operations %+v, want %d", len(ops), ops, len(want))
	}
	for i, w := range want {
		g := ops[i]
		g.Line = 0
		if g.Method != w.Method || g.Path != w.Path || g.OperationID != w.OperationID || g.HasSecurity != w.HasSecurity ||
			g.Public != w.Public || g.Anonymous != w.Anonymous || strings.Join(g.Schemes, ",") != strings.Join(w.Schemes, ",") ||
			strings.Join(g.Problems, ";") != strings.Join(w.Problems, ";") {
			t.Errorf("operation %d = %+v, want %+v", i, g, w)
		}
	}
}

// A generated client (a typed TypeScript client, a WeChat mini-program's
// request layer) names its functions after the operationIds and learns from
// security which calls need the session cookie. Every operation, including
// the ones other changes add, must have both.
func TestOpenAPIOperationsHaveIDsAndSecurity(t *testing.T) {
	doc, err := fs.ReadFile(static.FS, "openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ops, schemes := specOperations(string(doc))
	if len(ops) < 10 {
		t.Fatalf("read only %d operations from openapi.yaml", len(ops))
	}
	if len(ops) != len(specRoutes(t, string(doc))) {
		t.Fatalf("read %d operations but %d routes from openapi.yaml", len(ops), len(specRoutes(t, string(doc))))
	}
	identifier := regexp.MustCompile(`^[a-z][A-Za-z0-9]*$`)
	byID := map[string]specOperation{}
	for _, op := range ops {
		name := op.Method + " " + op.Path
		switch {
		case op.OperationID == "":
			t.Errorf("openapi.yaml:%d: %s has no operationId", op.Line, name)
		case !identifier.MatchString(op.OperationID):
			t.Errorf("openapi.yaml:%d: %s: operationId %q is not a lowerCamelCase identifier", op.Line, name, op.OperationID)
		default:
			if first, dup := byID[op.OperationID]; dup {
				t.Errorf("openapi.yaml:%d: %s has operationId %q, as %s %s does", op.Line, name, op.OperationID, first.Method, first.Path)
			}
			byID[op.OperationID] = op
		}
		if !op.HasSecurity {
			t.Errorf("openapi.yaml:%d: %s has no security entry (security: [] if it is public, else - session: [])", op.Line, name)
		}
		for _, p := range op.Problems {
			t.Errorf("openapi.yaml:%d: %s: %s", op.Line, name, p)
		}
		if op.HasSecurity && !op.Public && len(op.Schemes) == 0 && len(op.Problems) == 0 {
			t.Errorf("openapi.yaml:%d: %s: security names no scheme (use security: [] for a public route)", op.Line, name)
		}
		for _, s := range op.Schemes {
			if !strings.Contains(" "+strings.Join(schemes, " ")+" ", " "+s+" ") {
				t.Errorf("openapi.yaml:%d: %s: security scheme %q is not in components.securitySchemes %v", op.Line, name, s, schemes)
			}
		}
	}
}

// The security entries tell the truth: a route that needs the session
// refuses a request without one (401 from the API, a redirect to log in
// from a page) before it looks at anything else, and a public route or one
// whose session is optional answers without.
func TestOpenAPISecurityMatchesServer(t *testing.T) {
	e := newEnv(t)
	doc, err := fs.ReadFile(static.FS, "openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ops, _ := specOperations(string(doc))
	param := regexp.MustCompile(`\{[^}]+\}`)
	client := *e.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, op := range ops {
		if !op.HasSecurity {
			continue // TestOpenAPIOperationsHaveIDsAndSecurity says so
		}
		t.Run(op.Method+" "+op.Path, func(t *testing.T) {
			path := param.ReplaceAllStringFunc(op.Path, func(string) string { return uuid.NewString() })
			var body io.Reader
			if op.Method != http.MethodGet {
				body = strings.NewReader("{}")
			}
			req, err := http.NewRequest(op.Method, e.srv.URL+path, body)
			if err != nil {
				t.Fatal(err)
			}
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			toLogin := res.StatusCode == http.StatusFound && strings.HasPrefix(res.Header.Get("Location"), "/?next=")
			needed := res.StatusCode == http.StatusUnauthorized || toLogin
			switch {
			case op.Public || op.Anonymous:
				if needed {
					t.Errorf("the document says no session is needed, but without one the answer is %d %s", res.StatusCode, res.Header.Get("Location"))
				}
			case strings.HasPrefix(op.Path, "/api/"):
				if res.StatusCode != http.StatusUnauthorized {
					t.Errorf("the document says the session is needed, but without one the answer is %d, not 401", res.StatusCode)
				}
			default:
				if !toLogin {
					t.Errorf("the document says the session is needed, but without one the page answers %d %q, not a redirect to log in", res.StatusCode, res.Header.Get("Location"))
				}
			}
		})
	}
}
