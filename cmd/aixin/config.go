package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"time"

	"aixin/store"
)

// config is what the commands are told by flags and AIXIN_* variables.
type config struct {
	DataDir      string
	Addr         string
	TimeZone     string
	CookieSecure bool
	LogFormat    string
	MinFreeMB    uint64
	AdminLogin   string
	AdminPass    string
	Location     *time.Location
	tzGiven      bool // --tz or AIXIN_TZ was set
}

// dbPath is the store file inside the data folder.
func (c config) dbPath() string { return filepath.Join(c.DataDir, "aixin.db") }

// newFlags returns a flag set whose flags default to their AIXIN_* variables.
func newFlags(name string, getenv func(string) string, stderr io.Writer, c *config) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.DataDir, "data", env("AIXIN_DATA", "./aixin-data"), "data folder (AIXIN_DATA)")
	fs.StringVar(&c.TimeZone, "tz", env("AIXIN_TZ", store.DefaultTimeZone), "time zone months are counted in (AIXIN_TZ)")
	c.AdminLogin = env("AIXIN_ADMIN_LOGIN", "admin")
	c.AdminPass = getenv("AIXIN_ADMIN_PASSWORD")
	c.tzGiven = getenv("AIXIN_TZ") != ""
	return fs
}

// parse parses args and checks the values that every command shares.
func (c *config) parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return errUsage
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

func envBool(getenv func(string) string, key string) bool {
	b, _ := strconv.ParseBool(getenv(key))
	return b
}

// numericEnv are the AIXIN_* settings read as numbers, durations or
// switches, each with what a valid value looks like.
var numericEnv = []struct {
	key, want string
	ok        func(string) bool
}{
	{"AIXIN_MIN_FREE_MB", "a whole number of MB, e.g. 64", isUint},
	{"AIXIN_LOGIN_LIMIT", "a whole number, e.g. 20", isUint},
	{"AIXIN_USER_LIMIT", "a whole number, e.g. 30", isUint},
	{"AIXIN_BACKUP_MBPS", "a whole number of MB a second, e.g. 128, or 0 for no cap", isUint},
	{"AIXIN_CHECKIN_REPEAT", "a duration, e.g. 2m or 90s", func(v string) bool { _, err := time.ParseDuration(v); return err == nil }},
	{"AIXIN_COOKIE_SECURE", "true or false", func(v string) bool { _, err := strconv.ParseBool(v); return err == nil }},
	{"AIXIN_DEMO", "true or false", func(v string) bool { _, err := strconv.ParseBool(v); return err == nil }},
}

func isUint(v string) bool { _, err := strconv.ParseUint(v, 10, 64); return err == nil }

// checkEnv refuses a setting that is set but cannot be read: a typo in a
// systemd unit must stop the start, not quietly leave the default.
func checkEnv(getenv func(string) string) error {
	for _, s := range numericEnv {
		if v := getenv(s.key); v != "" && !s.ok(v) {
			return fmt.Errorf("%s=%q: give %s", s.key, v, s.want)
		}
	}
	return nil
}
