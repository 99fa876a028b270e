// Package config is aixin's settings in one place: the Config the commands
// read, its defaults (Default), and the flags and AIXIN_* variables that
// fill it. A value means the same everywhere it goes: 0 points of approval
// is "no award waits", 0 MB/s of backup is "no cap", and a limit per minute
// is never 0.
package config

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"aixin/ledger"
)

// Config is every setting of aixin.
type Config struct {
	// DataDir is the data folder, whose aixin.db is the bbolt engine's file.
	DataDir string
	// DB is a PostgreSQL database (postgres://…) to keep the data in
	// instead of the data folder's file.
	DB string
	// TimeZone is the IANA zone months are counted in; a store keeps the
	// one it was made with.
	TimeZone string
	// TimeZoneGiven says TimeZone was set (flag or variable), so that an
	// existing store is checked against it.
	TimeZoneGiven bool

	// AdminLogin and AdminPassword make the first administrator of an
	// empty store (a password is generated and shown once when empty).
	AdminLogin, AdminPassword string

	// Addr is where serve listens.
	Addr string
	// CookieSecure marks cookies Secure, behind HTTPS.
	CookieSecure bool
	// LogFormat is "text" or "json".
	LogFormat string
	// MinFreeMB is the free disk below which /readyz fails.
	MinFreeMB uint64
	// Demo fills a store without members with the demo district first.
	Demo bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client.
	TrustedProxies []string
	// PublicURL is the address phones reach aixin at, which QR codes carry;
	// empty: the address the page was opened at.
	PublicURL string
	// BackupMBPerSecond caps how fast a hot backup streams; 0: no cap.
	BackupMBPerSecond int
	// LoginsPerMinute caps login attempts per client address.
	LoginsPerMinute int
	// ActionsPerMinute caps each user's check-ins, and voucher creations.
	ActionsPerMinute int
	// PublicPerMinute caps the public pages per client address.
	PublicPerMinute int
	// CheckinRepeat is how soon a second scan of the same event repeats
	// the first instead of checking out.
	CheckinRepeat time.Duration
	// AwardApprovalPoints is where a behaviour award waits for a second
	// staff member's approval (四眼); 0: none waits.
	AwardApprovalPoints ledger.Points
	// HouseholdOpeningPoints are what a new household starts with; 0: none.
	HouseholdOpeningPoints ledger.Points
	// WishClaimDays is how long a claimed wish waits to be fulfilled.
	WishClaimDays int

	proxies string // --trusted-proxy as given, split by Parsed
}

// Default returns the settings of a deployment that says nothing.
func Default() Config {
	return Config{
		DataDir:             "./aixin-data",
		TimeZone:            ledger.DefaultTimeZone,
		AdminLogin:          "admin",
		Addr:                "127.0.0.1:8080",
		LogFormat:           "text",
		MinFreeMB:           64,
		BackupMBPerSecond:   128,
		LoginsPerMinute:     20,
		ActionsPerMinute:    30,
		PublicPerMinute:     120,
		CheckinRepeat:       ledger.DefaultEventRules.RepeatWindow,
		AwardApprovalPoints: ledger.DefaultAwardRules.ApprovalPoints,
		WishClaimDays:       ledger.DefaultWishClaimDays,
	}
}

// Location loads TimeZone.
func (c Config) Location() (*time.Location, error) {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("--tz %q: %w", c.TimeZone, err)
	}
	return loc, nil
}

// Check refuses settings no deployment can mean, saying which and why.
func (c Config) Check() error {
	switch {
	case c.LogFormat != "text" && c.LogFormat != "json":
		return fmt.Errorf("--log %q: want text or json", c.LogFormat)
	case c.LoginsPerMinute < 1 || c.ActionsPerMinute < 1 || c.PublicPerMinute < 1:
		return fmt.Errorf("--login-limit and --user-limit: give at least 1 a minute")
	case c.BackupMBPerSecond < 0:
		return fmt.Errorf("--backup-rate %d: give 0 (no cap) or more", c.BackupMBPerSecond)
	case c.AwardApprovalPoints < 0:
		return fmt.Errorf("--award-approval-points %d: give 0 or more", c.AwardApprovalPoints)
	case c.HouseholdOpeningPoints < 0 || c.HouseholdOpeningPoints > ledger.MaxHouseholdOpening:
		return fmt.Errorf("--household-opening-points %d: give 0 to %d", c.HouseholdOpeningPoints, ledger.MaxHouseholdOpening)
	case c.WishClaimDays < 1 || c.WishClaimDays > 365:
		return fmt.Errorf("--wish-claim-days %d: give 1 to 365 days", c.WishClaimDays)
	case c.CheckinRepeat < 0:
		return fmt.Errorf("--checkin-repeat %v: give 0 or more", c.CheckinRepeat)
	}
	return nil
}

// Env reads AIXIN_* variables as the defaults of flags, and remembers the
// first one that is set but cannot be read: a typo in a systemd unit must
// stop the start, not quietly leave the default.
type Env struct {
	Getenv func(string) string
	Err    error
}

func (e *Env) bad(key, v, want string) {
	if e.Err == nil {
		e.Err = fmt.Errorf("%s=%q: give %s", key, v, want)
	}
}

// String is key's value, or def.
func (e *Env) String(key, def string) string {
	if v := e.Getenv(key); v != "" {
		return v
	}
	return def
}

// Uint is key's whole number, or def.
func (e *Env) Uint(key string, def uint64) uint64 {
	v := e.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		e.bad(key, v, fmt.Sprintf("a whole number, e.g. %d", def))
		return def
	}
	return n
}

// Duration is key's duration, or def.
func (e *Env) Duration(key string, def time.Duration) time.Duration {
	v := e.Getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.bad(key, v, fmt.Sprintf("a duration, e.g. %v", def))
		return def
	}
	return d
}

// Bool is key's true or false, or false.
func (e *Env) Bool(key string) bool {
	v := e.Getenv(key)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.bad(key, v, "true or false")
	}
	return b
}

// Common registers the flags every command over a store takes (--data,
// --db, --tz), and reads the administrator's login and password.
func (c *Config) Common(fs *flag.FlagSet, env *Env) {
	d := Default()
	fs.StringVar(&c.DataDir, "data", env.String("AIXIN_DATA", d.DataDir), "data folder (AIXIN_DATA)")
	fs.StringVar(&c.DB, "db", env.String("AIXIN_DB", ""), "a PostgreSQL database to keep the data in instead of the data folder's file, postgres://user@host:port/database (AIXIN_DB)")
	fs.StringVar(&c.TimeZone, "tz", env.String("AIXIN_TZ", d.TimeZone), "time zone months are counted in (AIXIN_TZ)")
	c.AdminLogin = env.String("AIXIN_ADMIN_LOGIN", d.AdminLogin)
	c.AdminPassword = env.Getenv("AIXIN_ADMIN_PASSWORD")
	c.TimeZoneGiven = env.Getenv("AIXIN_TZ") != ""
}

// Serve registers the flags of aixin serve. After parsing, call Parsed.
func (c *Config) Serve(fs *flag.FlagSet, env *Env) {
	d := Default()
	fs.StringVar(&c.Addr, "addr", env.String("AIXIN_ADDR", d.Addr), "listen address (AIXIN_ADDR)")
	fs.BoolVar(&c.CookieSecure, "cookie-secure", env.Bool("AIXIN_COOKIE_SECURE"), "mark cookies Secure, behind HTTPS (AIXIN_COOKIE_SECURE)")
	fs.StringVar(&c.LogFormat, "log", env.String("AIXIN_LOG", d.LogFormat), "log format: text or json (AIXIN_LOG)")
	fs.Uint64Var(&c.MinFreeMB, "min-free-mb", env.Uint("AIXIN_MIN_FREE_MB", d.MinFreeMB), "free disk below which /readyz fails (AIXIN_MIN_FREE_MB)")
	fs.BoolVar(&c.Demo, "demo", env.Bool("AIXIN_DEMO"), "fill a data folder without members with the demo district first (AIXIN_DEMO)")
	fs.IntVar(&c.ActionsPerMinute, "user-limit", int(env.Uint("AIXIN_USER_LIMIT", uint64(d.ActionsPerMinute))), "check-ins, and voucher creations, per user per minute (AIXIN_USER_LIMIT)")
	fs.StringVar(&c.proxies, "trusted-proxy", env.String("AIXIN_TRUSTED_PROXIES", ""),
		"comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For names the client (AIXIN_TRUSTED_PROXIES)")
	fs.StringVar(&c.PublicURL, "public-url", env.String("AIXIN_PUBLIC_URL", ""),
		"the address phones reach aixin at, e.g. https://aixin.example.org or http://192.168.1.20:8080, which check-in and certificate QR codes carry; default: the address the page was opened at (AIXIN_PUBLIC_URL)")
	fs.IntVar(&c.BackupMBPerSecond, "backup-rate", int(env.Uint("AIXIN_BACKUP_MBPS", uint64(d.BackupMBPerSecond))), "MB a second at most that GET /api/v1/admin/backup streams; 0: no cap (AIXIN_BACKUP_MBPS)")
	fs.IntVar(&c.LoginsPerMinute, "login-limit", int(env.Uint("AIXIN_LOGIN_LIMIT", uint64(d.LoginsPerMinute))), "login attempts per client address per minute (AIXIN_LOGIN_LIMIT)")
	c.PublicPerMinute = d.PublicPerMinute
	fs.Int64Var((*int64)(&c.AwardApprovalPoints), "award-approval-points", int64(env.Uint("AIXIN_AWARD_APPROVAL_POINTS", uint64(d.AwardApprovalPoints))),
		"a behaviour award of this many points or more, either way, waits for a second staff member's approval; 0: none does (AIXIN_AWARD_APPROVAL_POINTS)")
	fs.DurationVar(&c.CheckinRepeat, "checkin-repeat", env.Duration("AIXIN_CHECKIN_REPEAT", d.CheckinRepeat),
		"a second scan of the same event this soon after checking in or out repeats it (AIXIN_CHECKIN_REPEAT)")
	fs.Int64Var((*int64)(&c.HouseholdOpeningPoints), "household-opening-points", int64(env.Uint("AIXIN_HOUSEHOLD_OPENING_POINTS", 0)),
		"points a new household (户) starts with, from its community, as 遵义 gives 60; 0: none (AIXIN_HOUSEHOLD_OPENING_POINTS)")
	fs.IntVar(&c.WishClaimDays, "wish-claim-days", int(env.Uint("AIXIN_WISH_CLAIM_DAYS", uint64(d.WishClaimDays))),
		"days a claimed wish (微心愿) waits to be fulfilled before it goes back to the wall (AIXIN_WISH_CLAIM_DAYS)")
}

// Parsed notes what the parsed flags say beyond their values: a --tz given
// on the command line is checked against the store's like AIXIN_TZ.
func (c *Config) Parsed(fs *flag.FlagSet) {
	if c.proxies != "" {
		c.TrustedProxies = splitList(c.proxies)
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "tz" {
			c.TimeZoneGiven = true
		}
	})
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
