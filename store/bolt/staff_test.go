package bolt

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// addSessions makes n sessions of user u and returns their token hashes.
func addSessions(tb testing.TB, s *Store, u uuid.UUID, n int, now time.Time) []ledger.Hash {
	tb.Helper()
	var out []ledger.Hash
	for range n {
		var h ledger.Hash
		copy(h[:], uuid.New().String())
		if err := s.CreateSession(ctx, ledger.Session{TokenHash: h, UserID: u, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			tb.Fatal(err)
		}
		out = append(out, h)
	}
	return out
}

// live counts which of the sessions are still there.
func live(tb testing.TB, s *Store, hs []ledger.Hash, now time.Time) int {
	tb.Helper()
	n := 0
	for _, h := range hs {
		if _, err := s.Session(ctx, h, now); err == nil {
			n++
		}
	}
	return n
}

func TestSessionIndex(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := openTest(t, Options{Now: func() time.Time { return now }})
	a, err := s.CreateUser(ctx, ledger.User{Login: "a", Role: ledger.RoleAdmin, PasswordHash: "h"})
	must(t, err)
	b, err := s.CreateUser(ctx, ledger.User{Login: "b", Role: ledger.RoleAdmin, PasswordHash: "h"})
	must(t, err)
	as, bs := addSessions(t, s, a.ID, 3, now), addSessions(t, s, b.ID, 2, now)

	// Setting a password ends that user's sessions only.
	must(t, s.SetPassword(ctx, a.ID, "h2"))
	if n, m := live(t, s, as, now), live(t, s, bs, now); n != 0 || m != 2 {
		t.Fatalf("after a's password: %d of a's and %d of b's sessions live", n, m)
	}
	// A change by a of b's account ends b's sessions; a's own change
	// keeps the session it is made with.
	as = addSessions(t, s, a.ID, 3, now)
	name := "新名字"
	up, err := s.ChangeStaff(ctx, a.ID, a.ID, ledger.StaffChange{Name: &name}, as[1])
	must(t, err)
	if up.User.Name != name || up.User.UpdatedBy != a.ID || !up.User.UpdatedAt.Equal(now) {
		t.Errorf("updated %+v", up.User)
	}
	if live(t, s, as[:1], now) != 0 || live(t, s, as[1:2], now) != 1 || live(t, s, as[2:], now) != 0 {
		t.Error("a's own change did not keep exactly its own session")
	}
	yes := true
	_, err = s.ChangeStaff(ctx, a.ID, b.ID, ledger.StaffChange{Disabled: &yes}, as[1])
	must(t, err)
	if live(t, s, bs, now) != 0 || live(t, s, as[1:2], now) != 1 {
		t.Error("disabling b did not end b's sessions alone")
	}
	got, err := s.UserByID(ctx, b.ID)
	must(t, err)
	if !got.Disabled || !got.DisabledAt.Equal(now) || got.UpdatedBy != a.ID {
		t.Errorf("b as stored: %+v", got)
	}
	// Logging out and the expiry sweep take the index keys with them.
	must(t, s.DeleteSession(ctx, as[1]))
	addSessions(t, s, a.ID, 2, now.Add(-2*time.Hour))
	if n, err := s.DeleteExpiredSessions(ctx, now); err != nil || n != 2 {
		t.Fatalf("expired: %d %v", n, err)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket(bucketUserSessions).Stats().KeyN; n != 0 {
			t.Errorf("%d index keys left without sessions", n)
		}
		return nil
	})
	must(t, err)
	// checkConsistent (at cleanup) runs Verify, which compares index and sessions.
}

func TestChangeStaffStore(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := openTest(t, Options{Now: func() time.Time { return now }})
	street, err := s.CreateUnit(ctx, "阳光街道", ledger.UnitStreet, uuid.Nil, nil)
	must(t, err)
	happy, err := s.CreateUnit(ctx, "幸福社区", ledger.UnitCommunity, street.ID, nil)
	must(t, err)
	other, err := s.CreateUnit(ctx, "和谐社区", ledger.UnitCommunity, street.ID, nil)
	must(t, err)
	shop, err := s.CreateShop(ctx, ledger.Shop{Name: "爱心超市", Kind: ledger.ShopLoveSupermarket, UnitID: happy.ID})
	must(t, err)
	otherShop, err := s.CreateShop(ctx, ledger.Shop{Name: "和谐超市", Kind: ledger.ShopLoveSupermarket, UnitID: other.ID})
	must(t, err)
	add := func(login string, role ledger.Role, unit, shop uuid.UUID) ledger.User {
		u, err := s.CreateUser(ctx, ledger.User{Login: login, Role: role, UnitID: unit, ShopID: shop, PasswordHash: "h"})
		must(t, err)
		return u
	}
	org := add("org", ledger.RoleOrganizer, happy.ID, uuid.Nil)
	clerk := add("clerk", ledger.RoleClerk, uuid.Nil, shop.ID)
	otherClerk := add("clerk2", ledger.RoleClerk, uuid.Nil, otherShop.ID)
	yes := true

	t.Run("ScopeReadInTheTransaction", func(t *testing.T) {
		_, err := s.ChangeStaff(ctx, org.ID, clerk.ID, ledger.StaffChange{PasswordHash: "new"}, ledger.Hash{})
		must(t, err)
		_, err = s.ChangeStaff(ctx, org.ID, otherClerk.ID, ledger.StaffChange{PasswordHash: "new"}, ledger.Hash{})
		wantCode(t, err, ledger.ENOTFOUND, "user.not_found")
		u, err := s.UserByID(ctx, otherClerk.ID)
		must(t, err)
		if u.PasswordHash != "h" {
			t.Error("the refused change was written")
		}
	})
	t.Run("UnknownTarget", func(t *testing.T) {
		_, err := s.ChangeStaff(ctx, org.ID, uuid.New(), ledger.StaffChange{Disabled: &yes}, ledger.Hash{})
		wantCode(t, err, ledger.ENOTFOUND, "user.not_found")
	})
	t.Run("UnknownActor", func(t *testing.T) {
		_, err := s.ChangeStaff(ctx, uuid.New(), clerk.ID, ledger.StaffChange{Disabled: &yes}, ledger.Hash{})
		wantCode(t, err, ledger.EUNAUTHORIZED, "")
	})
	t.Run("TwoAdminsDisableEachOther", func(t *testing.T) {
		// Both see two active administrators when they ask; one transaction
		// after the other, the second is refused, and one stays.
		for round := range 10 {
			a := add(fmt.Sprintf("a%d", round), ledger.RoleAdmin, uuid.Nil, uuid.Nil)
			b := add(fmt.Sprintf("b%d", round), ledger.RoleAdmin, uuid.Nil, uuid.Nil)
			// Only a and b are active administrators.
			staff, err := s.Staff(ctx)
			must(t, err)
			for _, u := range staff {
				if u.Role == ledger.RoleAdmin && !u.Disabled && u.ID != a.ID && u.ID != b.ID {
					_, err := s.ChangeStaff(ctx, a.ID, u.ID, ledger.StaffChange{Disabled: &yes}, ledger.Hash{})
					must(t, err)
				}
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			wg.Go(func() { _, errs[0] = s.ChangeStaff(ctx, a.ID, b.ID, ledger.StaffChange{Disabled: &yes}, ledger.Hash{}) })
			wg.Go(func() { _, errs[1] = s.ChangeStaff(ctx, b.ID, a.ID, ledger.StaffChange{Disabled: &yes}, ledger.Hash{}) })
			wg.Wait()
			ok := 0
			for _, err := range errs {
				if err == nil {
					ok++
				} else if c := ledger.ErrorCode(err); c != ledger.EUNAUTHORIZED && c != ledger.ECONFLICT {
					t.Fatalf("error %v", err)
				}
			}
			ua, _ := s.UserByID(ctx, a.ID)
			ub, _ := s.UserByID(ctx, b.ID)
			if ok != 1 || ua.Disabled == ub.Disabled {
				t.Fatalf("round %d: %d succeeded (%v); a disabled %v, b disabled %v", round, ok, errs, ua.Disabled, ub.Disabled)
			}
		}
	})
}

func TestSessionIndexMigration(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "aixin.db")
	s, err := Open(path, Options{Now: func() time.Time { return now }})
	must(t, err)
	a, err := s.CreateUser(ctx, ledger.User{Login: "a", Role: ledger.RoleAdmin, PasswordHash: "h"})
	must(t, err)
	b, err := s.CreateUser(ctx, ledger.User{Login: "b", Role: ledger.RoleClerk, PasswordHash: "h"})
	must(t, err)
	as, bs := addSessions(t, s, a.ID, 4, now), addSessions(t, s, b.ID, 3, now)
	must(t, s.Close())

	// Make it the file of the schema before, which had no index.
	db, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	must(t, db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketUserSessions); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, 9)) // before migration 10
	}))
	must(t, db.Close())
	if _, err := Open(path, Options{ReadOnly: true}); err == nil {
		t.Fatal("a read-only open of the schema before did not ask for the migration")
	}

	s, err = Open(path, Options{Now: func() time.Time { return now }})
	must(t, err)
	defer s.Close()
	checkConsistent(t, s)
	must(t, s.db.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket(bucketUserSessions).Stats().KeyN; n != 7 {
			t.Errorf("%d index keys after the migration, want 7", n)
		}
		if v := tx.Bucket(bucketMeta).Get(keySchema); binary.BigEndian.Uint32(v) != uint32(SchemaVersion) {
			t.Errorf("schema %d", binary.BigEndian.Uint32(v))
		}
		return nil
	}))
	must(t, s.SetPassword(ctx, b.ID, "h2"))
	if live(t, s, bs, now) != 0 || live(t, s, as, now) != 4 {
		t.Error("the migrated index does not end the right sessions")
	}
}

func TestVerifyChecksSessionIndex(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		damage func(tx *bolt.Tx, u uuid.UUID, hs []ledger.Hash) error
	}{
		{"KeyMissing", func(tx *bolt.Tx, u uuid.UUID, hs []ledger.Hash) error {
			return tx.Bucket(bucketUserSessions).Delete(userSessionKey(u, hs[0]))
		}},
		{"KeyWithoutSession", func(tx *bolt.Tx, u uuid.UUID, hs []ledger.Hash) error {
			return tx.Bucket(bucketUserSessions).Put(userSessionKey(u, ledger.Hash{9}), nil)
		}},
		{"KeyOfAnotherUser", func(tx *bolt.Tx, u uuid.UUID, hs []ledger.Hash) error {
			b := tx.Bucket(bucketUserSessions)
			if err := b.Delete(userSessionKey(u, hs[0])); err != nil {
				return err
			}
			return b.Put(userSessionKey(uuid.New(), hs[0]), nil)
		}},
		{"KeyOfWrongSize", func(tx *bolt.Tx, u uuid.UUID, hs []ledger.Hash) error {
			return tx.Bucket(bucketUserSessions).Put(u[:], nil)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(filepath.Join(t.TempDir(), "aixin.db"), Options{Now: func() time.Time { return now }})
			must(t, err)
			defer s.Close()
			u, err := s.CreateUser(ctx, ledger.User{Login: "a", Role: ledger.RoleAdmin, PasswordHash: "h"})
			must(t, err)
			hs := addSessions(t, s, u.ID, 2, now)
			if rep, err := s.Verify(ctx); err != nil || !rep.OK {
				t.Fatalf("before: %+v %v", rep, err)
			}
			must(t, s.db.Update(func(tx *bolt.Tx) error { return tt.damage(tx, u.ID, hs) }))
			rep, err := s.Verify(ctx)
			if err != nil || rep.OK {
				t.Fatalf("the damage went unseen: %+v %v", rep, err)
			}
			t.Log(rep.Problem)
		})
	}
}

// BenchmarkEndSessions ends the 3 sessions of one user among those of
// 20,000 others (a password set, as a reset does).
func BenchmarkEndSessions(b *testing.B) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := openTest(b, Options{Now: func() time.Time { return now }})
	u, err := s.CreateUser(ctx, ledger.User{Login: "u", Role: ledger.RoleClerk, PasswordHash: "h"})
	must(b, err)
	others, err := s.CreateUser(ctx, ledger.User{Login: "others", Role: ledger.RoleClerk, PasswordHash: "h"})
	must(b, err)
	must(b, s.db.Update(func(tx *bolt.Tx) error {
		for i := range 20000 {
			var h ledger.Hash
			binary.BigEndian.PutUint64(h[:], uint64(i)+1)
			sess := ledger.Session{TokenHash: h, UserID: others.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			val, err := json.Marshal(sess)
			if err != nil {
				return err
			}
			if err := tx.Bucket(bucketSessions).Put(h[:], val); err != nil {
				return err
			}
			if err := tx.Bucket(bucketUserSessions).Put(userSessionKey(others.ID, h), nil); err != nil {
				return err
			}
		}
		return nil
	}))
	for b.Loop() {
		b.StopTimer()
		addSessions(b, s, u.ID, 3, now)
		b.StartTimer()
		must(b, s.SetPassword(ctx, u.ID, "h"))
	}
}

// must fails the test on err.
func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
