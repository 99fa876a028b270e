package store

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
	_, err = s.SessionUser(ctx, ledger.Hash{2}, clock.Now())
	wantCode(t, err, ledger.EUNAUTHORIZED, "session.invalid")
	_, err = s.SessionUser(ctx, sess.TokenHash, sess.ExpiresAt)
	wantCode(t, err, ledger.EUNAUTHORIZED, "session.expired")
	checkConsistent(t, s)
}
