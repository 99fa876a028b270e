//go:build pprof

package main

import (
	"io"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
)

// startPprof serves Go's profiler on AIXIN_PPROF_ADDR (e.g.
// 127.0.0.1:6060) in a binary built with `-tags pprof`, to profile the
// server under `aixin bench checkin`. It is a separate listener, never the
// public one, and it is not in a normal build (pprof_off.go).
func startPprof(getenv func(string) string, stderr io.Writer) {
	addr := getenv("AIXIN_PPROF_ADDR")
	if addr == "" {
		return
	}
	go func() {
		if err := http.ListenAndServe(addr, nil); err != nil {
			io.WriteString(stderr, "pprof: "+err.Error()+"\n")
		}
	}()
}
