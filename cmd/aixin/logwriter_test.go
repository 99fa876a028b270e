package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLogWriterKeepsEveryLineInOrder: lines from many goroutines all come
// out, whole, each goroutine's in the order it wrote them; a lone line
// comes out without Close; Close writes what is left; a line after Close
// comes out too; and lines over the bound are written by the writer itself.
func TestLogWriterKeepsEveryLineInOrder(t *testing.T) {
	var out syncBuffer
	l := newLogWriter(&out)
	l.Write([]byte("alone\n"))
	for deadline := time.Now().Add(10 * time.Second); out.String() != "alone\n"; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("a lone line did not come out: %q", out.String())
		}
	}
	const writers, lines = 8, 2000
	long := strings.Repeat("x", 1000) // so that the buffer passes its bound
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(l, "w%d %d %s\n", w, i, long[:i%1000])
			}
		})
	}
	wg.Wait()
	l.Close()
	l.Write([]byte("after close\n"))
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != 2+writers*lines || got[0] != "alone" || got[len(got)-1] != "after close" {
		t.Fatalf("%d lines, first %q, last %q", len(got), got[0], got[len(got)-1])
	}
	next := make([]int, writers)
	for _, line := range got[1 : len(got)-1] {
		var w, i int
		var rest string
		if _, err := fmt.Sscanf(line, "w%d %d %s", &w, &i, &rest); err != nil && i%1000 != 0 {
			t.Fatalf("line %q: %v", line, err)
		}
		if i != next[w] || len(line) != len(fmt.Sprintf("w%d %d %s", w, i, long[:i%1000])) {
			t.Fatalf("line %q: want line %d of writer %d, whole", line, next[w], w)
		}
		next[w]++
	}
}
