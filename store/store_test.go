package store_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestEnginesStandApart keeps the layout's one dependency rule: the engines
// never import each other or the HTTP layer, the HTTP layer imports no
// engine, and this shared base imports neither.
func TestEnginesStandApart(t *testing.T) {
	rules := []struct {
		pkg    string
		banned []string
	}{
		{"aixin/store", []string{"aixin/store/", "aixin/handlers", "go.etcd.io/bbolt", "github.com/jackc/pgx"}},
		{"aixin/store/bolt", []string{"aixin/store/postgres", "aixin/handlers", "github.com/jackc/pgx", "github.com/labstack/echo"}},
		{"aixin/store/postgres", []string{"aixin/store/bolt", "aixin/handlers", "go.etcd.io/bbolt", "github.com/labstack/echo"}},
		{"aixin/handlers", []string{"aixin/store", "go.etcd.io/bbolt", "github.com/jackc/pgx"}},
	}
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-deps", r.pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", r.pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, banned := range r.banned {
				if strings.HasPrefix(dep, banned) && dep != r.pkg {
					t.Errorf("%s depends on %s", r.pkg, dep)
				}
			}
		}
	}
}
