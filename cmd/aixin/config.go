package main

import (
	"flag"
	"io"
	"path/filepath"
	"time"

	"aixin/config"
)

// options are a command's settings (package config) and what they open.
type options struct {
	config.Config
	// Location is the loaded TimeZone.
	Location *time.Location
	stderr   io.Writer // where the flags' errors go
}

// dbPath is the store file inside the data folder.
func (c options) dbPath() string { return filepath.Join(c.DataDir, "aixin.db") }

// newFlags returns a flag set with the flags every command over a store
// takes, defaulting to their AIXIN_* variables.
func newFlags(name string, getenv func(string) string, stderr io.Writer, c *options) *flag.FlagSet {
	fs := newFlagSet(name, stderr)
	c.Config = config.Default()
	c.stderr = stderr
	c.Common(fs, &config.Env{Getenv: getenv})
	return fs
}

// parse parses args, which hold flags only, and checks the values that
// every command shares.
func (c *options) parse(fs *flag.FlagSet, args []string) error {
	if err := parseArgs(fs, args, c.stderr, 0); err != nil {
		return err
	}
	c.Parsed(fs)
	loc, err := c.Config.Location()
	if err != nil {
		return err
	}
	c.Location = loc
	return nil
}
