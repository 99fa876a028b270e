package bolt

import (
	"testing"
	"time"

	"aixin/ledger"
)

// TestSessionUser: a session's user in one read, refused as Session refuses.
func TestSessionUser(t *testing.T) {
	clock := newTestClock(time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC))
	s := openTest(t, Options{Now: clock.Now})
	u, err := s.CreateUser(ctx, ledger.User{Login: "org", Name: "组织者", Role: ledger.RoleAdmin, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	sess := ledger.Session{TokenHash: ledger.Hash{1}, UserID: u.ID, CreatedAt: clock.Now(), ExpiresAt: clock.Now().Add(time.Hour)}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SessionUser(ctx, sess.TokenHash, clock.Now()); err != nil || got.ID != u.ID || got.Login != "org" {
		t.Fatalf("a valid session: %+v %v", got, err)
	}
	// The session and the user are kept decoded after that read: a change
	// of either is seen by the next one.
	name := "组织者甲"
	if _, err := s.ChangeStaff(ctx, u.ID, u.ID, ledger.StaffChange{Name: &name}, sess.TokenHash); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SessionUser(ctx, sess.TokenHash, clock.Now()); err != nil || got.Name != name {
		t.Fatalf("after a change of name: %+v %v", got, err)
	}
	if err := s.DeleteSession(ctx, sess.TokenHash); err != nil {
		t.Fatal(err)
	}
	_, err = s.SessionUser(ctx, sess.TokenHash, clock.Now())
	wantCode(t, err, ledger.EUNAUTHORIZED, "session.invalid")
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	_, err = s.SessionUser(ctx, ledger.Hash{2}, clock.Now())
	wantCode(t, err, ledger.EUNAUTHORIZED, "session.invalid")
	_, err = s.SessionUser(ctx, sess.TokenHash, sess.ExpiresAt)
	wantCode(t, err, ledger.EUNAUTHORIZED, "session.expired")
	checkConsistent(t, s)
}

// TestDecodingsKeepOnlyWhatTheBytesSay: a kept decoding is used only for
// the very bytes it came from, and no more than maxDecodings are kept.
func TestDecodingsKeepOnlyWhatTheBytesSay(t *testing.T) {
	var d decodings[int, string]
	raw := []byte(`{"name":"a"}`)
	d.put(1, raw, "a")
	raw[9] = 'b' // bbolt's bytes are reused once their transaction ends
	for _, tc := range []struct {
		name string
		key  int
		raw  []byte
		ok   bool
	}{
		{"SameBytes", 1, []byte(`{"name":"a"}`), true},
		{"OtherBytes", 1, []byte(`{"name":"b"}`), false},
		{"Gone", 1, nil, false},
		{"OtherKey", 2, []byte(`{"name":"a"}`), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if v, ok := d.get(tc.key, tc.raw); ok != tc.ok || (ok && v != "a") {
				t.Fatalf("get: %q %v, want ok %v", v, ok, tc.ok)
			}
		})
	}
	for i := range maxDecodings + 1 {
		d.put(i+2, []byte{1}, "x")
	}
	n := 0
	d.m.Range(func(any, any) bool { n++; return true })
	if n > maxDecodings {
		t.Fatalf("%d kept, want at most %d", n, maxDecodings)
	}
}
