package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/google/uuid"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"aixin/handlers"
	"aixin/ledger"
	"aixin/store/bolt"
	"aixin/store/postgres"
)

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// openStopped opens a store file of a server that is not running; while one
// runs, it says what to do instead.
func openStopped(path string, readOnly bool, whileRunning string) (*bolt.Store, error) {
	st, err := bolt.Open(path, bolt.Options{ReadOnly: readOnly, LockTimeout: time.Second})
	if errors.Is(err, bolt.ErrLocked) {
		return nil, fmt.Errorf("%s is in use by a running aixin server; %s", path, whileRunning)
	}
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist: is --data (AIXIN_DATA) the right folder?", path)
	}
	return st, err
}

func verify(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c options
	fs := newFlags("verify", getenv, stderr, &c)
	if err := parseArgs(fs, args, stderr, 1); err != nil {
		return err
	}
	path := c.dbPath()
	if fs.NArg() == 1 {
		path = fs.Arg(0)
	}
	var j ledger.Journal
	if c.DB != "" {
		if !isPostgres(c.DB) {
			return fmt.Errorf("--db %q: give a PostgreSQL address, postgres://user@host:port/database", c.DB)
		}
		// PostgreSQL lets the servers run on while one snapshot is verified.
		pg, err := postgres.Open(ctx, c.DB, postgres.Options{Existing: true})
		if err != nil {
			return err
		}
		defer pg.Close()
		j, path = pg, "the database"
	} else {
		st, err := openStopped(path, true, "ask the server instead: GET /api/v1/ledger/verify as an administrator")
		if err != nil {
			return err
		}
		defer st.Close()
		j = st
	}
	rep, err := j.Verify(ctx)
	if err != nil {
		return err
	}
	if !rep.OK {
		fmt.Fprintf(stdout, "FAILED at seq %d: %s\n", rep.FirstBadSeq, rep.Problem)
		return fmt.Errorf("%s does not verify", path)
	}
	fmt.Fprintf(stdout, "ok: %d entries, %d accounts, head seq %d hash %s (%v)\n",
		rep.Entries, rep.Accounts, rep.HeadSeq, rep.HeadHash, rep.Elapsed.Round(time.Millisecond))
	return nil
}

func backup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c options
	fs := newFlags("backup", getenv, stderr, &c)
	out := fs.String("o", "", "file to write (default aixin-backup-YYYYMMDD-HHMMSS.db in the current folder)")
	if err := parseArgs(fs, args, stderr, 0); err != nil {
		return err
	}
	if *out == "" {
		*out = "aixin-backup-" + time.Now().Format("20060102-150405") + ".db"
	}
	st, err := openStopped(c.dbPath(), true, "download a hot copy instead: GET /api/v1/admin/backup as an administrator")
	if err != nil {
		return err
	}
	defer st.Close()
	tmp := *out + ".partial"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	n, err := st.Backup(ctx, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, *out)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	fmt.Fprintf(stdout, "wrote %d bytes to %s\n", n, *out)
	cp, err := bolt.Open(*out, bolt.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("the copy does not open: %w", err)
	}
	defer cp.Close()
	rep, err := cp.Verify(ctx)
	if err != nil || !rep.OK {
		return fmt.Errorf("the copy does not verify: %s %v", rep.Problem, err)
	}
	fmt.Fprintf(stdout, "the copy verifies: %d entries, head %s\n", rep.Entries, rep.HeadHash)
	return nil
}

func user(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 0:
		return usageError(stderr, "user", "say what to do: add or passwd")
	case args[0] != "add" && args[0] != "passwd":
		return usageError(stderr, "user", "no such action %q: give add or passwd", args[0])
	}
	sub := args[0]
	var c options
	fs := newFlags("user "+sub, getenv, stderr, &c)
	login := fs.String("login", "", "login name")
	role := fs.String("role", "", "admin, organizer, grid_worker or clerk (add)")
	name := fs.String("name", "", "display name (add)")
	shop := fs.String("shop", "", "the shop id a clerk works at (add, role clerk)")
	unit := fs.String("unit", "", "the unit id an organiser looks after, or the grid of a grid worker (add)")
	if err := parseArgs(fs, args[1:], stderr, 0); err != nil {
		return err
	}
	switch {
	case *login == "":
		return usageError(stderr, "user "+sub, "--login is required")
	case sub == "add" && *role == "":
		return usageError(stderr, "user add", "--role is required: admin, organizer, grid_worker or clerk")
	case sub == "passwd" && (*role != "" || *name != "" || *shop != "" || *unit != ""):
		return usageError(stderr, "user passwd", "sets a password only: --role, --name, --shop and --unit belong to user add")
	}
	pass, err := readPassword(stdin)
	if err != nil {
		return err
	}
	hash, err := handlers.HashPassword(pass)
	if err != nil {
		return err
	}
	st, err := openStopped(c.dbPath(), false, "stop it first (accounts are also managed in the web pages)")
	if err != nil {
		return err
	}
	defer st.Close()
	if sub == "passwd" {
		u, err := st.UserByLogin(ctx, *login)
		if err != nil {
			return fmt.Errorf("no user %q", *login)
		}
		if err := st.SetPassword(ctx, u.ID, hash); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s set; their sessions are ended\n", u.Login)
		return nil
	}
	r := ledger.Role(*role)
	if r == ledger.RoleVolunteer || !r.Valid() {
		return fmt.Errorf("--role %q: want admin, organizer, grid_worker or clerk (volunteers are added as members)", *role)
	}
	nu := ledger.User{Login: *login, Name: *name, Role: r, PasswordHash: hash}
	if r == ledger.RoleOrganizer || r == ledger.RoleGridWorker {
		id, err := uuid.Parse(*unit)
		if err != nil {
			return fmt.Errorf("an %s looks after one unit: give --unit with its id (or add them on the Staff page)", r)
		}
		u, err := st.Unit(ctx, id)
		if err != nil {
			return fmt.Errorf("no unit %s", *unit)
		}
		if r == ledger.RoleGridWorker && u.Kind != ledger.UnitGrid {
			return fmt.Errorf("unit %s is a %s: a grid worker is bound to a grid", u.Name, u.Kind)
		}
		nu.UnitID = id
	}
	if r == ledger.RoleClerk {
		id, err := uuid.Parse(*shop)
		if err != nil {
			return errors.New("a clerk works at one shop: give --shop with its id (organisers add clerks on the Staff page)")
		}
		if _, err := st.Shop(ctx, id); err != nil {
			return fmt.Errorf("no shop %s", *shop)
		}
		nu.ShopID = id
	}
	u, err := st.CreateUser(ctx, nu)
	if err != nil {
		if le, ok := ledger.AsError(err); ok && le.Code == ledger.ECONFLICT {
			return fmt.Errorf("login %q is taken", *login)
		}
		return err
	}
	fmt.Fprintf(stdout, "user %s (%s) added, id %s\n", u.Login, u.Role, u.ID)
	return nil
}

// readPassword reads the first line of stdin as a password.
func readPassword(stdin io.Reader) (string, error) {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if utf8.RuneCountInString(pw) < 8 {
		return "", errors.New("give a password of at least 8 characters on standard input, e.g. echo 'secret-pass' | aixin user add ...")
	}
	return pw, nil
}
