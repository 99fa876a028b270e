package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestServerClock(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "AIXIN_TEST_CLOCK" {
				return v
			}
			return ""
		}
	}
	if _, err := serverClock(env("2032-13-01"), logger); err == nil || !strings.Contains(err.Error(), "AIXIN_TEST_CLOCK") {
		t.Fatalf("a bad time: %v", err)
	}
	start := time.Date(2032, 12, 10, 1, 0, 0, 0, time.UTC)
	now, err := serverClock(env("2032-12-10T09:00:00+08:00"), logger)
	if err != nil {
		t.Fatal(err)
	}
	// It starts there and runs on: never before the start, nowhere near today.
	if got := now(); got.Before(start) || got.After(start.Add(24*time.Hour)) {
		t.Fatalf("the clock says %v", got)
	}
	if _, err := serverClock(env(""), logger); err != nil {
		t.Fatal(err)
	}
}
