package main

import (
	"io"
	"sync"
)

// A logWriter writes the server's log lines in groups: a line is copied
// into a buffer and one goroutine writes whatever has come meanwhile in one
// write. Nothing waits on a timer, so a lone line goes out at once; under
// load the lines of many requests share one system call instead of one
// each (the write of every request's line was 2 % of the server's CPU in
// `aixin bench checkin`). Lines keep their order. Close writes what is
// left; a line written just before the process is killed may be lost.
type logWriter struct {
	w   io.Writer
	mu  sync.Mutex
	buf []byte // waiting to be written
	// closed says Close was called: Write then writes at once.
	closed bool
	wake   chan struct{}
	done   chan struct{}
	// writing is held by whoever writes to w, so that a Write over the
	// bound and the goroutine never write at the same time.
	writing sync.Mutex
}

// maxLogBuffer bounds what waits: past it, Write writes itself, so a
// stuck output slows the logger down rather than filling the memory.
const maxLogBuffer = 1 << 20

func newLogWriter(w io.Writer) *logWriter {
	l := &logWriter{w: w, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go l.run()
	return l
}

// Write keeps p for the writing goroutine; it never fails. After Close it
// writes p itself.
func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.buf = append(l.buf, p...)
	if l.closed { // after what waits, in order
		l.mu.Unlock()
		l.flush()
		return len(p), nil
	}
	full := len(l.buf) > maxLogBuffer
	select {
	case l.wake <- struct{}{}: // under mu: Close cannot have closed wake
	default: // already woken: it will take this line too
	}
	l.mu.Unlock()
	if full {
		l.flush()
	}
	return len(p), nil
}

func (l *logWriter) run() {
	defer close(l.done)
	var spare []byte
	for range l.wake {
		spare = l.flushInto(spare)
	}
	l.flushInto(spare)
}

// flush writes what waits.
func (l *logWriter) flush() { l.flushInto(nil) }

// flushInto writes what waits, swapping in spare as the next buffer, and
// returns the buffer it wrote, for the next swap.
func (l *logWriter) flushInto(spare []byte) []byte {
	l.writing.Lock()
	defer l.writing.Unlock()
	l.mu.Lock()
	b := l.buf
	l.buf = spare[:0]
	l.mu.Unlock()
	if len(b) > 0 {
		l.w.Write(b) // as slog would, a failed log write is dropped
	}
	if cap(b) > 64<<10 {
		return nil // do not keep a burst's buffer
	}
	return b
}

// Close writes what is left and stops the goroutine; what is written
// after goes out at once.
func (l *logWriter) Close() {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.wake)
	}
	l.mu.Unlock()
	<-l.done
}
