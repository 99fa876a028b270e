package handlers

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/storetest"
)

func TestHashPassword(t *testing.T) {
	h := testHash()
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(h) {
		t.Fatalf("hash %q is not the PHC form", h)
	}
	h2, err := HashPassword(testPassword)
	if err != nil || h2 == h {
		t.Errorf("second hash %q, %v: salts must differ", h2, err)
	}
	tests := []struct {
		name, hash, pw string
		want           bool
	}{
		{"Right", h, testPassword, true},
		{"OtherSalt", h2, testPassword, true},
		{"Wrong", h, testPassword + " ", false},
		{"Empty", h, "", false},
		{"EmptyHash", "", testPassword, false},
		{"Bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", testPassword, false},
		{"Argon2i", strings.Replace(h, "argon2id", "argon2i", 1), testPassword, false},
		{"OtherVersion", strings.Replace(h, "v=19", "v=16", 1), testPassword, false},
		{"HugeMemory", strings.Replace(h, "m=19456", "m=4194304", 1), testPassword, false},
		{"HugeTime", strings.Replace(h, "t=2", "t=1000", 1), testPassword, false},
		{"ZeroThreads", strings.Replace(h, "p=1", "p=0", 1), testPassword, false},
		{"BadSalt", strings.Replace(h, "$argon2id$v=19$m=19456,t=2,p=1$", "$argon2id$v=19$m=19456,t=2,p=1$!!", 1), testPassword, false},
		{"ShortKey", h[:len(h)-30], testPassword, false},
		{"ExtraField", h + "$x", testPassword, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckPassword(tt.hash, tt.pw); got != tt.want {
				t.Errorf("CheckPassword = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLimiter(t *testing.T) {
	storetest.RunLimits(t, func(t *testing.T) ledger.Limits { return newMemoryLimits() })

	t.Run("Sweep", func(t *testing.T) {
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		m := newMemoryLimits()
		short := ledger.Limit{Name: "short", Max: 3, Period: time.Minute}
		long := ledger.Limit{Name: "long", Max: 3, Period: 15 * time.Minute}
		for i := range 100 {
			m.HitLimit(ctx, short, strings.Repeat("k", i), t0)
		}
		m.HitLimit(ctx, long, "k", t0)
		m.HitLimit(ctx, short, "late", t0.Add(2*time.Minute))
		if len(m.windows) != 2 {
			t.Errorf("%d windows after sweep, want 2 (the long one and the late one)", len(m.windows))
		}
	})
	t.Run("RetrySeconds", func(t *testing.T) {
		for d, want := range map[time.Duration]int{0: 1, time.Millisecond: 1, time.Second: 1, 1001 * time.Millisecond: 2, 15 * time.Minute: 900} {
			if got := retrySeconds(d); got != want {
				t.Errorf("retrySeconds(%v) = %d, want %d", d, got, want)
			}
		}
	})
}
