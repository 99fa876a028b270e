package storetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// UsersStore is what the users suite needs of an engine: accounts and
// sessions, and units to bind organisers to.
type UsersStore interface {
	ledger.Users
	CreateUnit(ctx context.Context, name string, kind ledger.UnitKind, parent uuid.UUID, posts []string) (ledger.Unit, error)
	Units(ctx context.Context) ([]ledger.Unit, error)
}

// OpenUsers opens a fresh, empty store whose clock is clock.
type OpenUsers func(t *testing.T, clock func() time.Time) UsersStore

// RunUsers runs the conformance tests of user accounts and sessions (ledger.Users).
func RunUsers(t *testing.T, open OpenUsers) {
	tests := []struct {
		name string
		fn   func(*testing.T, OpenUsers)
	}{
		{"Logins", testLogins},
		{"LoginRace", testLoginRace},
		{"Sessions", testSessions},
		{"PasswordEndsSessions", testPasswordEndsSessions},
		{"StaleLogin", testStaleLogin},
		{"ChangeStaff", testChangeStaff},
		{"LastAdminRace", testLastAdminRace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

func newUser(login string, role ledger.Role) ledger.User {
	return ledger.User{Login: login, Name: login, Role: role, PasswordHash: "hash-of-" + login}
}

func testLogins(t *testing.T, open OpenUsers) {
	s := open(t, time.Now)
	u, err := s.CreateUser(ctx, newUser("Admin", ledger.RoleAdmin))
	must(t, err)
	if u.ID == uuid.Nil || u.CreatedAt.IsZero() {
		t.Fatalf("created %+v", u)
	}
	_, err = s.CreateUser(ctx, newUser("ADMIN", ledger.RoleOrganizer))
	refused(t, err, ledger.ECONFLICT, "user.login_taken")
	_, err = s.CreateUser(ctx, ledger.User{Login: "nopass", Role: ledger.RoleClerk})
	refused(t, err, ledger.EINVALID, "user.password_missing")
	_, err = s.CreateUser(ctx, ledger.User{Login: "a b", Role: ledger.RoleClerk, PasswordHash: "x"})
	if ledger.ErrorCode(err) != ledger.EINVALID {
		t.Fatalf("a login with a space: %v", err)
	}
	got, err := s.UserByLogin(ctx, " admin ")
	must(t, err)
	if got.ID != u.ID || got.PasswordHash != "hash-of-Admin" || got.Role != ledger.RoleAdmin {
		t.Fatalf("by login %+v", got)
	}
	if got, err := s.UserByID(ctx, u.ID); err != nil || got.Login != "Admin" {
		t.Fatalf("by id %+v %v", got, err)
	}
	_, err = s.UserByLogin(ctx, "nobody")
	refused(t, err, ledger.ENOTFOUND, "user.not_found")
	_, err = s.UserByID(ctx, uuid.New())
	refused(t, err, ledger.ENOTFOUND, "user.not_found")
	_, err = s.CreateUser(ctx, newUser("13900000001", ledger.RoleVolunteer))
	must(t, err)
	staff, err := s.Staff(ctx)
	must(t, err)
	if len(staff) != 1 || staff[0].ID != u.ID {
		t.Fatalf("staff %+v: want the administrator only", staff)
	}
	if n, err := s.CountUsers(ctx); err != nil || n != 2 {
		t.Fatalf("count %d %v", n, err)
	}
}

func testLoginRace(t *testing.T, open OpenUsers) {
	s := open(t, time.Now)
	const n = 16
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			login := "clerk"
			if i%2 == 1 {
				login = "CLERK"
			}
			_, err := s.CreateUser(ctx, newUser(login, ledger.RoleClerk))
			switch ledger.ErrorCode(err) {
			case "":
				ok.Add(1)
			case ledger.ECONFLICT:
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if c, _ := s.CountUsers(ctx); ok.Load() != 1 || c != 1 {
		t.Fatalf("%d of %d racing creations of one login succeeded, %d users", ok.Load(), n, c)
	}
}

func token(s string) ledger.Hash { return sha256.Sum256([]byte(s)) }

func testSessions(t *testing.T, open OpenUsers) {
	clock := NewClock(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
	s := open(t, clock.Now)
	u, err := s.CreateUser(ctx, newUser("org", ledger.RoleOrganizer))
	must(t, err)
	now := clock.Now()
	for i, life := range []time.Duration{time.Hour, 2 * time.Hour, 3 * time.Hour} {
		must(t, s.CreateSession(ctx, ledger.Session{TokenHash: token(fmt.Sprint(i)), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(life)}))
	}
	refused(t, s.CreateSession(ctx, ledger.Session{TokenHash: token("x"), UserID: uuid.New(), ExpiresAt: now.Add(time.Hour)}),
		ledger.ENOTFOUND, "user.not_found")
	sess, err := s.Session(ctx, token("1"), now.Add(time.Minute))
	must(t, err)
	if sess.UserID != u.ID || sess.TokenHash != token("1") || !sess.ExpiresAt.Equal(now.Add(2*time.Hour)) {
		t.Fatalf("session %+v", sess)
	}
	_, err = s.Session(ctx, token("0"), now.Add(time.Hour))
	refused(t, err, ledger.EUNAUTHORIZED, "session.expired")
	if su, err := s.SessionUser(ctx, token("1"), now.Add(time.Minute)); err != nil || su.ID != u.ID || su.PasswordHash != u.PasswordHash {
		t.Fatalf("the session's user %+v %v", su, err)
	}
	_, err = s.SessionUser(ctx, token("0"), now.Add(time.Hour))
	refused(t, err, ledger.EUNAUTHORIZED, "session.expired")
	_, err = s.SessionUser(ctx, token("nope"), now)
	refused(t, err, ledger.EUNAUTHORIZED, "session.invalid")
	_, err = s.Session(ctx, token("nope"), now)
	refused(t, err, ledger.EUNAUTHORIZED, "session.invalid")
	must(t, s.DeleteSession(ctx, token("1")))
	must(t, s.DeleteSession(ctx, token("never was")))
	_, err = s.Session(ctx, token("1"), now)
	refused(t, err, ledger.EUNAUTHORIZED, "session.invalid")
	n, err := s.DeleteExpiredSessions(ctx, now.Add(90*time.Minute))
	must(t, err)
	if n != 1 {
		t.Fatalf("deleted %d expired sessions, want 1", n)
	}
	if _, err := s.Session(ctx, token("2"), now.Add(90*time.Minute)); err != nil {
		t.Fatalf("the session still valid is gone: %v", err)
	}
}

func testPasswordEndsSessions(t *testing.T, open OpenUsers) {
	s := open(t, time.Now)
	u, err := s.CreateUser(ctx, newUser("org", ledger.RoleOrganizer))
	must(t, err)
	other, err := s.CreateUser(ctx, newUser("org2", ledger.RoleOrganizer))
	must(t, err)
	now := time.Now()
	for _, id := range []uuid.UUID{u.ID, other.ID} {
		must(t, s.CreateSession(ctx, ledger.Session{TokenHash: token(id.String()), UserID: id, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	}
	must(t, s.SetOwnPassword(ctx, u.ID, "new-hash"))
	got, err := s.UserByID(ctx, u.ID)
	must(t, err)
	if got.PasswordHash != "new-hash" || !got.OwnPassword {
		t.Fatalf("after SetOwnPassword %+v", got)
	}
	_, err = s.Session(ctx, token(u.ID.String()), now)
	refused(t, err, ledger.EUNAUTHORIZED, "session.invalid")
	if _, err := s.Session(ctx, token(other.ID.String()), now); err != nil {
		t.Fatalf("another user's session ended: %v", err)
	}
	must(t, s.SetPassword(ctx, u.ID, "staff-set"))
	if got, _ := s.UserByID(ctx, u.ID); got.OwnPassword || got.PasswordHash != "staff-set" {
		t.Fatalf("after SetPassword %+v", got)
	}
	refused(t, s.SetPassword(ctx, uuid.New(), "x"), ledger.ENOTFOUND, "user.not_found")
}

// testStaleLogin: a login that checked a password a reset has since
// replaced makes no session.
func testStaleLogin(t *testing.T, open OpenUsers) {
	s := open(t, time.Now)
	u, err := s.CreateUser(ctx, newUser("org", ledger.RoleOrganizer))
	must(t, err)
	now := time.Now()
	checked := u.PasswordHash
	must(t, s.SetPassword(ctx, u.ID, "reset"))
	refused(t, s.CreateSession(ctx, ledger.Session{TokenHash: token("late"), UserID: u.ID, ExpiresAt: now.Add(time.Hour), Verified: checked}),
		ledger.EUNAUTHORIZED, "auth.bad_credentials")
	must(t, s.CreateSession(ctx, ledger.Session{TokenHash: token("fresh"), UserID: u.ID, ExpiresAt: now.Add(time.Hour), Verified: "reset"}))
}

func testChangeStaff(t *testing.T, open OpenUsers) {
	s := open(t, time.Now)
	street, err := s.CreateUnit(ctx, "蓉城街道", ledger.UnitStreet, uuid.Nil, nil)
	must(t, err)
	community, err := s.CreateUnit(ctx, "东河园社区", ledger.UnitCommunity, street.ID, nil)
	must(t, err)
	if us, err := s.Units(ctx); err != nil || len(us) != 2 || us[0].ID != street.ID {
		t.Fatalf("units %+v %v", us, err)
	}
	admin, err := s.CreateUser(ctx, newUser("admin", ledger.RoleAdmin))
	must(t, err)
	upper := newUser("rongcheng", ledger.RoleOrganizer)
	upper.UnitID = street.ID
	upper, err = s.CreateUser(ctx, upper)
	must(t, err)
	org := newUser("donghe", ledger.RoleOrganizer)
	org.UnitID = community.ID
	org, err = s.CreateUser(ctx, org)
	must(t, err)
	peer := newUser("donghe2", ledger.RoleOrganizer)
	peer.UnitID = community.ID
	peer, err = s.CreateUser(ctx, peer)
	must(t, err)
	now := time.Now()
	for _, u := range []ledger.User{org, peer} {
		must(t, s.CreateSession(ctx, ledger.Session{TokenHash: token(u.Login), UserID: u.ID, ExpiresAt: now.Add(time.Hour)}))
	}

	name := "东河园 王老师"
	up, err := s.ChangeStaff(ctx, upper.ID, org.ID, ledger.StaffChange{Name: &name}, ledger.Hash{})
	must(t, err)
	if got, _ := s.UserByID(ctx, org.ID); got.Name != name || len(up.Changed) != 1 {
		t.Fatalf("renamed %+v", got)
	}
	if _, err := s.Session(ctx, token(org.Login), now); ledger.ErrorCode(err) != ledger.EUNAUTHORIZED {
		t.Fatalf("a renamed account kept its session: %v", err)
	}
	// A colleague of the same unit may not take the account over.
	_, err = s.ChangeStaff(ctx, peer.ID, org.ID, ledger.StaffChange{PasswordHash: "mine"}, ledger.Hash{})
	refused(t, err, ledger.EFORBIDDEN, "user.peer_organizer")
	// Renaming oneself keeps the session one renames with.
	mine := "王二"
	_, err = s.ChangeStaff(ctx, peer.ID, peer.ID, ledger.StaffChange{Name: &mine}, token(peer.Login))
	must(t, err)
	if _, err := s.Session(ctx, token(peer.Login), now); err != nil {
		t.Fatalf("renaming oneself ended one's own session: %v", err)
	}
	_, err = s.ChangeStaff(ctx, org.ID, admin.ID, ledger.StaffChange{Name: &mine}, ledger.Hash{})
	refused(t, err, ledger.ENOTFOUND, "user.not_found")
	_, err = s.ChangeStaff(ctx, uuid.New(), org.ID, ledger.StaffChange{Name: &mine}, ledger.Hash{})
	refused(t, err, ledger.EUNAUTHORIZED, "auth.login_required")
	yes := true
	_, err = s.ChangeStaff(ctx, admin.ID, admin.ID, ledger.StaffChange{Disabled: &yes}, ledger.Hash{})
	refused(t, err, ledger.EINVALID, "user.disable_self")
}

// testLastAdminRace: two administrators disable each other at once; one
// administrator stays active.
func testLastAdminRace(t *testing.T, open OpenUsers) {
	s := open(t, time.Now)
	for round := range 4 {
		a, err := s.CreateUser(ctx, newUser(fmt.Sprintf("a%d", round), ledger.RoleAdmin))
		must(t, err)
		b, err := s.CreateUser(ctx, newUser(fmt.Sprintf("b%d", round), ledger.RoleAdmin))
		must(t, err)
		yes := true
		var wg sync.WaitGroup
		wg.Go(func() { s.ChangeStaff(ctx, a.ID, b.ID, ledger.StaffChange{Disabled: &yes}, ledger.Hash{}) })
		wg.Go(func() { s.ChangeStaff(ctx, b.ID, a.ID, ledger.StaffChange{Disabled: &yes}, ledger.Hash{}) })
		wg.Wait()
		staff, err := s.Staff(ctx)
		must(t, err)
		active := 0
		for _, u := range staff {
			if u.Role == ledger.RoleAdmin && !u.Disabled {
				active++
			}
		}
		if active == 0 {
			t.Fatalf("round %d: two administrators disabled each other, none is left", round)
		}
	}
}
