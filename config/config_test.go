package config

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

// TestDefaultsAreSound: the defaults pass Check, and are what a deployment
// that says nothing gets from the flags.
func TestDefaultsAreSound(t *testing.T) {
	d := Default()
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	c := Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	env := &Env{Getenv: func(string) string { return "" }}
	c.Common(fs, env)
	c.Serve(fs, env)
	if err := fs.Parse(nil); err != nil || env.Err != nil {
		t.Fatal(err, env.Err)
	}
	c.Parsed(fs)
	if c.LoginsPerMinute != d.LoginsPerMinute || c.ActionsPerMinute != d.ActionsPerMinute || c.PublicPerMinute != d.PublicPerMinute ||
		c.BackupMBPerSecond != d.BackupMBPerSecond || c.AwardApprovalPoints != d.AwardApprovalPoints || c.WishClaimDays != d.WishClaimDays ||
		c.CheckinRepeat != d.CheckinRepeat || c.Addr != d.Addr || c.DataDir != d.DataDir || c.TimeZone != d.TimeZone || c.TimeZoneGiven {
		t.Fatalf("flags without values gave %+v, defaults are %+v", c, d)
	}
}

// TestFlagsAndVariables: a variable sets a default, a flag beats it, and a
// variable that cannot be read is an error that names it.
func TestFlagsAndVariables(t *testing.T) {
	vars := map[string]string{"AIXIN_USER_LIMIT": "7", "AIXIN_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.0/8", "AIXIN_AWARD_APPROVAL_POINTS": "0",
		"AIXIN_CHECKIN_REPEAT": "30s", "AIXIN_BACKUP_MBPS": "0"}
	c := Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	env := &Env{Getenv: func(k string) string { return vars[k] }}
	c.Common(fs, env)
	c.Serve(fs, env)
	if err := fs.Parse([]string{"--login-limit", "3", "--tz", "UTC"}); err != nil || env.Err != nil {
		t.Fatal(err, env.Err)
	}
	c.Parsed(fs)
	if c.ActionsPerMinute != 7 || c.LoginsPerMinute != 3 || c.AwardApprovalPoints != 0 || c.BackupMBPerSecond != 0 ||
		c.CheckinRepeat != 30*time.Second || strings.Join(c.TrustedProxies, "|") != "10.0.0.1|10.0.0.0/8" || !c.TimeZoneGiven {
		t.Fatalf("%+v", c)
	}
	if err := c.Check(); err != nil {
		t.Fatal(err)
	}

	vars["AIXIN_WISH_CLAIM_DAYS"] = "a week"
	env = &Env{Getenv: func(k string) string { return vars[k] }}
	fs = flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.Serve(fs, env)
	if env.Err == nil || !strings.Contains(env.Err.Error(), "AIXIN_WISH_CLAIM_DAYS") {
		t.Fatalf("a bad variable: %v", env.Err)
	}
}

// TestCheckRefuses: settings no deployment can mean are refused.
func TestCheckRefuses(t *testing.T) {
	for name, change := range map[string]func(*Config){
		"no logins":      func(c *Config) { c.LoginsPerMinute = 0 },
		"no check-ins":   func(c *Config) { c.ActionsPerMinute = 0 },
		"log":            func(c *Config) { c.LogFormat = "xml" },
		"wish days":      func(c *Config) { c.WishClaimDays = 0 },
		"household":      func(c *Config) { c.HouseholdOpeningPoints = 1 << 40 },
		"approval":       func(c *Config) { c.AwardApprovalPoints = -1 },
		"backup":         func(c *Config) { c.BackupMBPerSecond = -1 },
		"checkin repeat": func(c *Config) { c.CheckinRepeat = -time.Second },
	} {
		c := Default()
		change(&c)
		if c.Check() == nil {
			t.Errorf("%s: accepted %+v", name, c)
		}
	}
}
