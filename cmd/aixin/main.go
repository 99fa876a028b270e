// Command aixin is the one binary of aixin (爱心积分): it serves the web
// application and API, and verifies, backs up and administers a data folder.
//
//	aixin serve                 start the server (creates the first administrator on an empty folder)
//	aixin demo                  fill a new data folder with a demo district (serve --demo does it on start)
//	aixin verify [FILE]         recompute the ledger's hash chain and derived state
//	                            (--db postgres://… verifies a PostgreSQL database, servers running)
//	aixin backup [-o FILE]      write a consistent copy of a stopped server's data
//	aixin migrate --to postgres://…  copy a stopped server's data folder into an empty PostgreSQL database
//	aixin user add|passwd       add a staff account or set a password (password on stdin)
//	aixin import members FILE   import a roster (.csv or .xlsx) into a stopped server's data
//	aixin export monthly        the monthly totals of a stopped server's data (.xlsx or .csv)
//	aixin version               print the version
//
// Every flag has an AIXIN_* environment fallback; see "aixin help".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	if errors.Is(err, errHelp) {
		return
	}
	if errors.Is(err, errUsage) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "aixin:", err)
		os.Exit(1)
	}
}

// errUsage reports a command line that could not be understood; what is
// wrong with it and the command's usage have already been printed on stderr.
var errUsage = errors.New("usage")

// errHelp reports a command line that asked for the usage (-h), which has
// been printed.
var errHelp = errors.New("help")

const usage = `aixin (爱心积分): volunteer service points for communities

Usage:
  aixin serve   [--data DIR] [--addr HOST:PORT] [--tz ZONE] [--cookie-secure] [--log text|json] [--demo]
                [--login-limit N] [--user-limit N] [--trusted-proxy ADDRS] [--checkin-repeat D] [--backup-rate MB]
                [--public-url URL]
  aixin demo    [--data DIR]    fill a new data folder with a demo district and print its logins
  aixin verify  [--data DIR] [FILE] | --db postgres://…   (the journal of a PostgreSQL database)
  aixin backup  [--data DIR] [-o FILE]
  aixin migrate [--from DIR] --to postgres://…   copy a stopped server's data folder into an empty PostgreSQL database
  aixin user add    --login LOGIN --role admin|organizer|grid_worker|clerk [--unit ID] [--shop ID] [--name NAME] [--data DIR]
                                                                                          (password on stdin)
  aixin user passwd --login LOGIN [--data DIR]                                            (password on stdin)
  aixin import members [--skip-invalid] [--lang zh-CN|en] [--data DIR] FILE.csv|FILE.xlsx
  aixin export monthly [--month YYYY-MM] [--by member|team|unit|shop] [--format xlsx|csv] [--unit ID] [--full-phone] [--data DIR] [-o FILE|-]
  aixin bench checkin  [--url U] [--volunteers 500] [--duration 15s] [--rate 3000]   load tests against a running server:
  aixin bench redeem   [--url U] [--kiosks 50] [--vouchers 2000]                      see the README for how to start it
  aixin bench saturday [--url U] [--volunteers 1000] [--events 20] [--rate 3000] [--kiosks 20] [--organisers 5] [--duration 30s]
  aixin version
  aixin help [COMMAND]

Environment (used when the flag is not given):
  AIXIN_DATA            data folder (default ./aixin-data)
  AIXIN_ADDR            listen address (default 127.0.0.1:8080)
  AIXIN_TZ              time zone months are counted in (default Asia/Shanghai)
  AIXIN_COOKIE_SECURE   true behind HTTPS
  AIXIN_LOG             text or json (default text)
  AIXIN_MIN_FREE_MB     /readyz fails below this much free disk (default 64)
  AIXIN_LOGIN_LIMIT     login attempts per client address per minute (default 20)
  AIXIN_USER_LIMIT      check-ins, and voucher creations, per user per minute (default 30)
  AIXIN_TRUSTED_PROXIES reverse proxies whose X-Forwarded-For names the client (default none)
  AIXIN_PUBLIC_URL      the address phones reach aixin at, carried by check-in and certificate QR codes
                        (default: the address the page was opened at)
  AIXIN_CHECKIN_REPEAT  a second scan this soon after checking in is the same check-in (default 2m)
  AIXIN_BACKUP_MBPS     MB a second at most that a hot backup streams; 0: no cap (default 128)
  AIXIN_ADMIN_LOGIN     login of the first administrator (default admin)
  AIXIN_ADMIN_PASSWORD  its password; if unset, a one-time password is printed once
  AIXIN_DEMO            true: serve fills a data folder without members with the demo district
`

// usageOf returns the lines of usage that show how to write cmd ("serve",
// "user", "user add", "bench checkin", ...), or "" for no such command.
func usageOf(cmd string) string {
	var b strings.Builder
	in := false
	for line := range strings.Lines(usage) {
		if line == "\n" || !strings.HasPrefix(line, "  ") {
			in = false
			continue
		}
		if rest, ok := strings.CutPrefix(line, "  aixin "+cmd); ok {
			in = rest == "\n" || rest[0] == ' '
		} else if !strings.HasPrefix(line, "      ") || strings.Contains(line, " aixin ") {
			in = false // a continuation line is indented further
		}
		if in {
			b.WriteString(line)
		}
	}
	return b.String()
}

// usageError says on stderr what is wrong with a command line and how cmd
// is written, and returns errUsage.
func usageError(stderr io.Writer, cmd, format string, args ...any) error {
	fmt.Fprintf(stderr, "aixin %s: %s\n\nUsage:\n%s", cmd, fmt.Sprintf(format, args...), usageOf(cmd))
	return errUsage
}

// newFlagSet returns an empty flag set for cmd whose errors and -h print
// the command's usage and its flags on stderr.
func newFlagSet(cmd string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage:\n%s\nFlags:\n", usageOf(cmd))
		fs.PrintDefaults()
	}
	return fs
}

// argHints add to the message about an unexpected argument of a command
// what the argument was probably meant to be.
var argHints = map[string]string{
	"backup": " (the file to write is given with -o FILE)",
}

// parseArgs parses args with fs and checks that there are at most max (0
// or 1) arguments besides the flags. A flag the command does not know, or an
// argument it does not take, is errUsage after saying so; -h is errHelp.
func parseArgs(fs *flag.FlagSet, args []string, stderr io.Writer, max int) error {
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return errHelp
	} else if err != nil {
		return errUsage // the flag package said what, and printed the usage
	}
	if fs.NArg() > max {
		extra := fs.Args()[max:]
		quoted := make([]string, len(extra))
		for i, a := range extra {
			quoted[i] = strconv.Quote(a)
		}
		what := "takes no arguments"
		if max == 1 {
			what = "takes one file at most"
		}
		return usageError(stderr, fs.Name(), "%s, but was given %s%s", what, strings.Join(quoted, " "), argHints[fs.Name()])
	}
	return nil
}

// run is the whole program, callable from tests with their own arguments,
// environment and streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, "aixin: say which command to run\n\n"+usage)
		return errUsage
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "verify":
		return verify(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, rest, getenv, stdout, stderr)
	case "backup":
		return backup(ctx, rest, getenv, stdout, stderr)
	case "user":
		return user(ctx, rest, getenv, stdin, stdout, stderr)
	case "import":
		return importMembers(ctx, rest, getenv, stdout, stderr)
	case "export":
		return exportMonthly(ctx, rest, getenv, stdout, stderr)
	case "demo":
		return demo(ctx, rest, getenv, stdout, stderr)
	case "bench":
		switch {
		case len(rest) > 0 && rest[0] == "checkin":
			return benchCheckin(ctx, rest[1:], getenv, stdout, stderr)
		case len(rest) > 0 && rest[0] == "redeem":
			return benchRedeem(ctx, rest[1:], getenv, stdout, stderr)
		case len(rest) > 0 && rest[0] == "saturday":
			return benchSaturday(ctx, rest[1:], getenv, stdout, stderr)
		case len(rest) > 0:
			return usageError(stderr, "bench", "no load test %q: give checkin, redeem or saturday", rest[0])
		}
		return usageError(stderr, "bench", "name the load test: checkin, redeem or saturday")
	case "version":
		if err := parseArgs(newFlagSet("version", stderr), rest, stderr, 0); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "aixin", version)
		return nil
	case "help", "-h", "--help":
		switch {
		case len(rest) == 0:
			fmt.Fprint(stdout, usage)
		case usageOf(strings.Join(rest, " ")) != "": // "help user", "help user add"
			fmt.Fprint(stdout, "Usage:\n"+usageOf(strings.Join(rest, " ")))
		case len(rest) > 1 && usageOf(rest[0]) != "":
			return usageError(stderr, "help", "takes one command at most, but was given %q", rest[len(rest)-1])
		default:
			return usageError(stderr, "help", "no command %q", rest[0])
		}
		return nil
	default:
		fmt.Fprintf(stderr, "aixin: unknown command %q\n\n%s", cmd, usage)
		return errUsage
	}
}
