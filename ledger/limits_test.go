package ledger

import (
	"testing"
	"time"
)

func TestLimitWindows(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := Limit{Name: "test", Max: 3, Period: time.Minute}
	tests := []struct {
		name               string
		w                  LimitWindow
		now                time.Time
		current            LimitWindow
		hitWait, blockWait time.Duration
	}{
		{"None", LimitWindow{}, t0, LimitWindow{Start: t0}, 0, 0},
		{"Within", LimitWindow{t0, 2}, t0.Add(10 * time.Second), LimitWindow{t0, 2}, 0, 0},
		{"UsedUp", LimitWindow{t0, 3}, t0.Add(10 * time.Second), LimitWindow{t0, 3}, 0, 50 * time.Second},
		{"Over", LimitWindow{t0, 4}, t0.Add(10 * time.Second), LimitWindow{t0, 4}, 50 * time.Second, 50 * time.Second},
		{"LastInstant", LimitWindow{t0, 4}, t0.Add(time.Minute - 1), LimitWindow{t0, 4}, 1, 1},
		{"Ended", LimitWindow{t0, 9}, t0.Add(time.Minute), LimitWindow{Start: t0.Add(time.Minute)}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := l.Current(tt.w, tt.now); got != tt.current {
				t.Errorf("Current = %+v, want %+v", got, tt.current)
			}
			cur := l.Current(tt.w, tt.now)
			if got := l.HitWait(cur, tt.now); got != tt.hitWait {
				t.Errorf("HitWait = %v, want %v", got, tt.hitWait)
			}
			if got := l.BlockedWait(cur, tt.now); got != tt.blockWait {
				t.Errorf("BlockedWait = %v, want %v", got, tt.blockWait)
			}
		})
	}
}
