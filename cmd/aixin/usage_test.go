package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// commandsOfUsage returns every command the usage shows ("serve", "user
// add", "bench checkin", ...).
func commandsOfUsage(t *testing.T) []string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^  aixin ((?:[a-z]+ ?)+)`)
	var cmds []string
	for _, m := range re.FindAllStringSubmatch(usage, -1) {
		cmds = append(cmds, strings.TrimSpace(m[1]))
	}
	if len(cmds) < 10 {
		t.Fatalf("only %d commands in the usage: %q", len(cmds), cmds)
	}
	return cmds
}

func TestCommandsRefuseArguments(t *testing.T) {
	// What each command takes besides flags: one file, or nothing.
	takesOne := map[string]bool{"verify": true, "import members": true}
	tested := map[string]bool{}
	for _, cmd := range commandsOfUsage(t) {
		tested[cmd] = true
		t.Run(strings.ReplaceAll(cmd, " ", "_"), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			args := strings.Fields(cmd)
			if takesOne[cmd] {
				args = append(args, filepath.Join(dir, "a-file"))
			}
			if cmd == "help" {
				args = append(args, "serve")
			}
			args = append(args, "extra-arg")
			var out, errs syncBuffer
			err := run(context.Background(), args, envFrom(map[string]string{"AIXIN_DATA": dir, "AIXIN_ADMIN_PASSWORD": "not-used-here"}),
				strings.NewReader("a-long-password\n"), &out, &errs)
			if !errors.Is(err, errUsage) {
				t.Fatalf("aixin %s: error %v, want the usage error; stderr %s", strings.Join(args, " "), err, errs.String())
			}
			stderr := errs.String()
			if !strings.HasPrefix(stderr, "aixin "+cmd+": ") || !strings.Contains(stderr, `"extra-arg"`) {
				t.Errorf("stderr does not say what is wrong:\n%s", stderr)
			}
			if u := usageOf(cmd); u == "" || !strings.Contains(stderr, "Usage:\n"+u) {
				t.Errorf("stderr does not show the usage of %s (%q):\n%s", cmd, u, stderr)
			}
			if out.String() != "" {
				t.Errorf("stdout: %s", out.String())
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the command ran: %s exists (%v)", dir, err)
			}
		})
	}
	for _, cmd := range []string{"serve", "demo", "verify", "backup", "user add", "user passwd", "import members", "export monthly", "bench checkin", "bench redeem", "bench saturday", "version"} {
		if !tested[cmd] {
			t.Errorf("%s is not in the usage", cmd)
		}
	}
}

func TestCommandLineMistakes(t *testing.T) {
	tests := []struct {
		args []string
		want string // on stderr, after "aixin "
	}{
		{[]string{"backup", "out.db"}, `backup: takes no arguments, but was given "out.db" (the file to write is given with -o FILE)`},
		{[]string{"verify", "a", "b"}, `verify: takes one file at most, but was given "b"`},
		{[]string{"user"}, "user: say what to do: add or passwd"},
		{[]string{"user", "remove"}, `user: no such action "remove": give add or passwd`},
		{[]string{"user", "add", "--role", "admin"}, "user add: --login is required"},
		{[]string{"user", "add", "--login", "wang"}, "user add: --role is required"},
		{[]string{"user", "passwd", "--login", "wang", "--role", "admin"}, "user passwd: sets a password only"},
		{[]string{"import"}, "import: say what to import: members FILE"},
		{[]string{"import", "roster.csv"}, `import: no import "roster.csv": give members FILE`},
		{[]string{"import", "members"}, "import members: give the roster file"},
		{[]string{"export"}, "export: say what to export: monthly"},
		{[]string{"export", "yearly"}, `export: no export "yearly": give monthly`},
		{[]string{"bench"}, "bench: name the load test"},
		{[]string{"bench", "login"}, `bench: no load test "login"`},
		{[]string{"bench", "checkin", "--volunteers", "0"}, "bench checkin: --volunteers must be at least 1"},
		{[]string{"bench", "redeem", "--kiosks", "0"}, "bench redeem: --kiosks and --vouchers must be at least 1"},
		{[]string{"bench", "saturday", "--events", "10", "--volunteers", "5"}, "bench saturday: --events and --kiosks"},
		{[]string{"help", "nonsense"}, `help: no command "nonsense"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, "_"), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			var out, errs syncBuffer
			err := run(context.Background(), tt.args, envFrom(map[string]string{"AIXIN_DATA": dir, "AIXIN_ADMIN_PASSWORD": "not-used-here"}),
				strings.NewReader("a-long-password\n"), &out, &errs)
			if !errors.Is(err, errUsage) {
				t.Fatalf("error %v, want the usage error", err)
			}
			if !strings.HasPrefix(errs.String(), "aixin "+tt.want) || !strings.Contains(errs.String(), "\nUsage:\n  aixin ") {
				t.Errorf("stderr:\n%s\nwant it to start with aixin %s and show the usage", errs.String(), tt.want)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the command ran: %s exists", dir)
			}
		})
	}
	t.Run("UnknownFlag", func(t *testing.T) {
		var out, errs syncBuffer
		err := run(context.Background(), []string{"backup", "--output", "x.db"}, envFrom(nil), nil, &out, &errs)
		if !errors.Is(err, errUsage) || !strings.Contains(errs.String(), "-output") || !strings.Contains(errs.String(), "Usage:\n"+usageOf("backup")) {
			t.Errorf("error %v, stderr:\n%s", err, errs.String())
		}
	})
	t.Run("HelpFlag", func(t *testing.T) {
		var out, errs syncBuffer
		err := run(context.Background(), []string{"export", "monthly", "-h"}, envFrom(nil), nil, &out, &errs)
		if !errors.Is(err, errHelp) || !strings.Contains(errs.String(), "-full-phone") {
			t.Errorf("error %v, stderr:\n%s", err, errs.String())
		}
	})
	t.Run("HelpOfOneCommand", func(t *testing.T) {
		var out, errs syncBuffer
		if err := run(context.Background(), []string{"help", "user"}, envFrom(nil), nil, &out, &errs); err != nil {
			t.Fatal(err)
		}
		if out.String() != "Usage:\n"+usageOf("user") || !strings.Contains(out.String(), "user passwd") {
			t.Errorf("stdout:\n%s", out.String())
		}
		out = syncBuffer{}
		if err := run(context.Background(), []string{"help", "user", "add"}, envFrom(nil), nil, &out, &errs); err != nil {
			t.Fatal(err)
		}
		if out.String() != "Usage:\n"+usageOf("user add") || strings.Contains(out.String(), "user passwd") {
			t.Errorf("stdout:\n%s", out.String())
		}
	})
}
