//go:build !pprof

package main

import "io"

// startPprof does nothing in a normal build: the profiler is only in a
// binary built with `-tags pprof` (pprof_on.go).
func startPprof(getenv func(string) string, stderr io.Writer) {}
