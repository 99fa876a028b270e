// Package pgtest gives tests a real PostgreSQL server: the one named by
// AIXIN_TEST_PG (postgres://… of a server that lets its user create
// databases), or one it starts itself in a temporary folder on a free
// loopback port and stops when the tests end. Each test gets a database of
// its own. Nothing is mocked and nothing is skipped: without PostgreSQL the
// tests fail and say how to install it (make test installs it).
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// and in a test: url := pgtest.NewDatabase(t).
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// server is the URL of the server's maintenance database, set by Main.
var server string

var counter atomic.Int64

// Main starts a server when AIXIN_TEST_PG names none, runs the tests and
// stops it. It returns the exit code for os.Exit.
func Main(m *testing.M) int {
	server = os.Getenv("AIXIN_TEST_PG")
	if server == "" {
		s, err := Start()
		if err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			return 1
		}
		defer s.Stop()
		server = s.URL
	}
	return m.Run()
}

// NewDatabase creates an empty database for t, dropped when t ends, and
// returns its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	if server == "" {
		t.Fatal("pgtest: call pgtest.Main from TestMain")
	}
	name := fmt.Sprintf("t_%d_%d", os.Getpid(), counter.Add(1))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", server, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("pgtest: connect to drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Server is a PostgreSQL server that Start started.
type Server struct {
	// URL is postgres://aixin@127.0.0.1:PORT/postgres?sslmode=disable.
	URL string
	// Dir holds the data folder, the socket and the log.
	Dir  string
	Port int
	bin  string
	run  []string // the command prefix that runs as the server's owner
}

// Start initialises a cluster in a new temporary folder and starts it on a
// free loopback port. As root (CI) it runs PostgreSQL as the user postgres,
// since PostgreSQL refuses to run as root. fsync stays on.
func Start() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "aixin-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			return nil, errors.New("running as root needs the user postgres (Debian's postgresql package makes it)")
		}
		s.run = []string{"runuser", "-u", "postgres", "--"}
		// Every folder above the data folder must be reachable by postgres.
		if err := os.Chmod(dir, 0o755); err != nil {
			return nil, err
		}
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("chown %s: %v: %s", dir, err, out)
		}
	}
	if err := s.cmd("initdb", "-D", filepath.Join(dir, "data"), "-A", "trust", "-U", "aixin", "-E", "UTF8",
		"--locale=C", "--no-sync"); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		if s.Port, err = freePort(); err != nil {
			return nil, err
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=128MB", s.Port, dir)
		err = s.cmd("pg_ctl", "-D", filepath.Join(dir, "data"), "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start")
		if err == nil || attempt == 3 {
			break
		}
	}
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return nil, fmt.Errorf("%v\n%s", err, log)
	}
	s.URL = fmt.Sprintf("postgres://aixin@127.0.0.1:%d/postgres?sslmode=disable", s.Port)
	return s, nil
}

// CreateDatabase creates database name on the server and returns its URL.
func (s *Server) CreateDatabase(name string) (string, error) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	return fmt.Sprintf("postgres://aixin@127.0.0.1:%d/%s?sslmode=disable", s.Port, name), nil
}

// Stop stops the server fast and removes its folder.
func (s *Server) Stop() {
	_ = s.cmd("pg_ctl", "-D", filepath.Join(s.Dir, "data"), "-m", "fast", "-w", "stop")
	os.RemoveAll(s.Dir)
}

// Crash stops the server as a power cut would (no checkpoint): it recovers
// from its write-ahead log when started again.
func (s *Server) Crash() error {
	return s.cmd("pg_ctl", "-D", filepath.Join(s.Dir, "data"), "-m", "immediate", "-w", "stop")
}

// Restart starts a stopped server again on the same port.
func (s *Server) Restart() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=128MB", s.Port, s.Dir)
	return s.cmd("pg_ctl", "-D", filepath.Join(s.Dir, "data"), "-o", opts, "-l", filepath.Join(s.Dir, "log"), "-w", "-t", "60", "start")
}

func (s *Server) cmd(name string, args ...string) error {
	argv := append(append(append([]string{}, s.run...), filepath.Join(s.bin, name)), args...)
	c := exec.Command(argv[0], argv[1:]...)
	c.Dir = s.Dir
	out, err := c.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, out)
	}
	return nil
}

// binDir finds PostgreSQL's programs: on PATH, or Debian's
// /usr/lib/postgresql/N/bin (the newest N).
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				return "", err
			}
			return filepath.Dir(real), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL is not installed: run `make test` (it installs Debian's postgresql), " +
		"or `apt-get install -y postgresql`, or set AIXIN_TEST_PG to a server's postgres:// URL")
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
