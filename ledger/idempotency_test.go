package ledger

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestClientKey(t *testing.T) {
	user := uuid.MustParse("0190a000-0000-7000-8000-000000000001")
	tests := []struct {
		name, key, want string
		ok              bool
	}{
		{"Empty", "", "", true},
		{"UUID", "0190a000-0000-7000-8000-0000000000ff", "client:" + user.String() + ":0190a000-0000-7000-8000-0000000000ff", true},
		{"ServerLookalike", "aixin:voucher:x:release", "client:" + user.String() + ":aixin:voucher:x:release", true},
		{"Longest", strings.Repeat("k", MaxClientKeyLen), "client:" + user.String() + ":" + strings.Repeat("k", MaxClientKeyLen), true},
		{"TooLong", strings.Repeat("k", MaxClientKeyLen+1), "", false},
		{"Space", "a b", "", false},
		{"NotASCII", "钥匙", "", false},
		{"Control", "a\x00", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ClientKey(user, tt.key)
			if tt.ok != (err == nil) || got != tt.want {
				t.Fatalf("ClientKey(%q) = %q, %v", tt.key, got, err)
			}
			if err != nil {
				if e, _ := AsError(err); e.Code != EINVALID || e.Key != "idempotency.key_invalid" {
					t.Fatalf("error %v", err)
				}
			}
		})
	}
}

// FuzzClientKey: whatever a client sends, its stored key is in its own
// namespace, splits back into the user and the key, and is never a key the
// server makes.
func FuzzClientKey(f *testing.F) {
	for _, s := range []string{"", "k", "aixin:voucher:1:release", "client:0190a000-0000-7000-8000-000000000001:x", "voucher:1:release"} {
		f.Add(s)
	}
	user := uuid.MustParse("0190a000-0000-7000-8000-000000000002")
	f.Fuzz(func(t *testing.T, key string) {
		stored, err := ClientKey(user, key)
		if err != nil || key == "" {
			return
		}
		if strings.HasPrefix(stored, serverKeyPrefix) || len(stored) > MaxKeyLen {
			t.Fatalf("stored key %q", stored)
		}
		u, k, ok := ParseClientKey(stored)
		if !ok || u != user || k != key {
			t.Fatalf("ParseClientKey(%q) = %v %q %v", stored, u, k, ok)
		}
	})
}
