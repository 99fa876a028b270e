package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"time"

	"aixin/store/bolt"
)

// config is what the commands are told by flags and AIXIN_* variables.
type config struct {
	DataDir      string
	DB           string // a PostgreSQL database (postgres://…), instead of the data folder's file
	Addr         string
	TimeZone     string
	CookieSecure bool
	LogFormat    string
	MinFreeMB    uint64
	AdminLogin   string
	AdminPass    string
	Location     *time.Location
	tzGiven      bool      // --tz or AIXIN_TZ was set
	stderr       io.Writer // where the flags' errors go
}

// dbPath is the store file inside the data folder.
func (c config) dbPath() string { return filepath.Join(c.DataDir, "aixin.db") }

// newFlags returns a flag set whose flags default to their AIXIN_* variables.
func newFlags(name string, getenv func(string) string, stderr io.Writer, c *config) *flag.FlagSet {
	fs := newFlagSet(name, stderr)
	c.stderr = stderr
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.DataDir, "data", env("AIXIN_DATA", "./aixin-data"), "data folder (AIXIN_DATA)")
	fs.StringVar(&c.DB, "db", env("AIXIN_DB", ""), "a PostgreSQL database to keep the data in instead of the data folder's file, postgres://user@host:port/database (AIXIN_DB)")
	fs.StringVar(&c.TimeZone, "tz", env("AIXIN_TZ", bolt.DefaultTimeZone), "time zone months are counted in (AIXIN_TZ)")
	c.AdminLogin = env("AIXIN_ADMIN_LOGIN", "admin")
	c.AdminPass = getenv("AIXIN_ADMIN_PASSWORD")
	c.tzGiven = getenv("AIXIN_TZ") != ""
	return fs
}

// parse parses args, which hold flags only, and checks the values that
// every command shares.
func (c *config) parse(fs *flag.FlagSet, args []string) error {
	if err := parseArgs(fs, args, c.stderr, 0); err != nil {
		return err
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return fmt.Errorf("--tz %q: %w", c.TimeZone, err)
	}
	c.Location = loc
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "tz" {
			c.tzGiven = true
		}
	})
	return nil
}

// settings reads AIXIN_* variables as the defaults of flags, and remembers
// the first one that is set but cannot be read: a typo in a systemd unit
// must stop the start, not quietly leave the default.
type settings struct {
	getenv func(string) string
	err    error
}

// bad notes a variable that cannot be read, saying what it should look like.
func (s *settings) bad(key, v, want string) {
	if s.err == nil {
		s.err = fmt.Errorf("%s=%q: give %s", key, v, want)
	}
}

func (s *settings) uint(key string, def uint64) uint64 {
	v := s.getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		s.bad(key, v, fmt.Sprintf("a whole number, e.g. %d", def))
		return def
	}
	return n
}

func (s *settings) duration(key string, def time.Duration) time.Duration {
	v := s.getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		s.bad(key, v, fmt.Sprintf("a duration, e.g. %v", def))
		return def
	}
	return d
}

func (s *settings) bool(key string) bool {
	v := s.getenv(key)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		s.bad(key, v, "true or false")
	}
	return b
}
