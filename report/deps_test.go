package report

import (
	"os/exec"
	"strings"
	"testing"
)

// TestUseCaseDependencies keeps the use cases (report, roster) and what
// they share (i18n, natural) off the engines and HTTP: they read through
// the ledger's interfaces, and handlers and the command line call them.
func TestUseCaseDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".", "../roster", "../i18n", "../natural").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"go.etcd.io/bbolt", "github.com/labstack/echo", "net/http", "aixin/store", "aixin/handlers", "aixin/cmd"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("a use case depends on %s", dep)
			}
		}
	}
}
