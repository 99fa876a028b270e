package bolt

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// Secret returns the named server secret (e.g. the key that signs member
// cards), made at random on first use and kept in the file.
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	key := []byte("secret:" + name)
	var out []byte
	_ = s.db.View(func(tx *bolt.Tx) error {
		out = slices.Clone(tx.Bucket(bucketMeta).Get(key))
		return nil
	})
	if out != nil {
		return out, nil
	}
	err := s.update(ctx, func(w *writeTx) error {
		meta := w.tx.Bucket(bucketMeta)
		if v := meta.Get(key); v != nil {
			out = slices.Clone(v)
			return nil
		}
		out = make([]byte, 32)
		rand.Read(out)
		return meta.Put(key, out)
	})
	return out, err
}

func getJSON[T any](b *bolt.Bucket, id uuid.UUID, notFound string) (T, error) {
	var v T
	raw := b.Get(id[:])
	if raw == nil {
		return v, ledger.Errorf(ledger.ENOTFOUND, notFound)
	}
	return v, json.Unmarshal(raw, &v)
}

func putJSON(b *bolt.Bucket, id uuid.UUID, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(id[:], raw)
}

// viewJSON reads one JSON value by id in a read transaction of its own;
// notFound is the refusal for an id the bucket does not hold.
func viewJSON[T any](s *Store, bucket []byte, id uuid.UUID, notFound string) (T, error) {
	var v T
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		v, err = getJSON[T](tx.Bucket(bucket), id, notFound)
		return err
	})
	return v, err
}

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// CreateUnit implements ledger.Directory.
func (s *Store) CreateUnit(ctx context.Context, name string, kind ledger.UnitKind, parentID uuid.UUID, posts []string) (ledger.Unit, error) {
	posts, err := ledger.CleanPosts(posts)
	if err != nil {
		return ledger.Unit{}, err
	}
	var u ledger.Unit
	err = s.update(ctx, func(w *writeTx) error {
		b := w.tx.Bucket(bucketUnits)
		var parent *ledger.Unit
		if parentID != uuid.Nil {
			p, err := getJSON[ledger.Unit](b, parentID, "unit.not_found")
			if err != nil {
				return err
			}
			parent = &p
		}
		var err error
		if u, err = ledger.NewUnit(newID(), name, kind, parent, s.now()); err != nil {
			return err
		}
		u.Posts = posts
		return putJSON(b, u.ID, u)
	})
	return u, err
}

// SetPublicNotice implements ledger.Directory.
func (s *Store) SetPublicNotice(ctx context.Context, id uuid.UUID, p ledger.NoticePatch) (ledger.Unit, error) {
	var u ledger.Unit
	err := s.update(ctx, func(w *writeTx) error {
		current, err := getJSON[ledger.Unit](w.tx.Bucket(bucketUnits), id, "unit.not_found")
		if err != nil {
			return err
		}
		if u, err = current.PatchNotice(p); err != nil {
			return err
		}
		return putJSON(w.tx.Bucket(bucketUnits), u.ID, u)
	})
	return u, err
}

// UpdateUnit implements ledger.Directory.
func (s *Store) UpdateUnit(ctx context.Context, id uuid.UUID, name string, posts []string) (ledger.Unit, error) {
	var u ledger.Unit
	err := s.update(ctx, func(w *writeTx) error {
		b := w.tx.Bucket(bucketUnits)
		var err error
		if u, err = getJSON[ledger.Unit](b, id, "unit.not_found"); err != nil {
			return err
		}
		if name != "" {
			var parent *ledger.Unit
			if u.ParentID != uuid.Nil {
				p, err := getJSON[ledger.Unit](b, u.ParentID, "unit.not_found")
				if err != nil {
					return err
				}
				parent = &p
			}
			renamed, err := ledger.NewUnit(u.ID, name, u.Kind, parent, u.CreatedAt)
			if err != nil {
				return err
			}
			u.Name = renamed.Name
		}
		if posts != nil {
			if u.Posts, err = ledger.CleanPosts(posts); err != nil {
				return err
			}
		}
		return putJSON(b, u.ID, u)
	})
	return u, err
}

// Unit implements ledger.Directory.
func (s *Store) Unit(ctx context.Context, id uuid.UUID) (ledger.Unit, error) {
	return viewJSON[ledger.Unit](s, bucketUnits, id, "unit.not_found")
}

// Units implements ledger.Directory: parents come before children because
// ids are time-ordered and a parent is always made first.
func (s *Store) Units(ctx context.Context) ([]ledger.Unit, error) {
	return listJSON[ledger.Unit](s, bucketUnits)
}

func listJSON[T any](s *Store, bucket []byte) ([]T, error) {
	var out []T
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(_, v []byte) error {
			var x T
			if err := json.Unmarshal(v, &x); err != nil {
				return err
			}
			out = append(out, x)
			return nil
		})
	})
	return out, err
}

// CreateTeam implements ledger.Directory.
func (s *Store) CreateTeam(ctx context.Context, t ledger.Team) (ledger.Team, error) {
	if err := t.Check(); err != nil {
		return ledger.Team{}, err
	}
	t.ID, t.CreatedAt = newID(), s.now().UTC()
	err := s.update(ctx, func(w *writeTx) error {
		if w.tx.Bucket(bucketUnits).Get(t.UnitID[:]) == nil {
			return ledger.Errorf(ledger.ENOTFOUND, "unit.not_found")
		}
		b := w.tx.Bucket(bucketTeams)
		taken := false
		_ = b.ForEach(func(_, v []byte) error {
			var o ledger.Team
			if json.Unmarshal(v, &o) == nil && o.UnitID == t.UnitID && o.Name == t.Name {
				taken = true
			}
			return nil
		})
		if taken {
			return ledger.Errorf(ledger.ECONFLICT, "team.name_taken", t.Name)
		}
		return putJSON(b, t.ID, t)
	})
	return t, err
}

// Team implements ledger.Directory.
func (s *Store) Team(ctx context.Context, id uuid.UUID) (ledger.Team, error) {
	return viewJSON[ledger.Team](s, bucketTeams, id, "team.not_found")
}

// Teams implements ledger.Directory.
func (s *Store) Teams(ctx context.Context) ([]ledger.Team, error) {
	return listJSON[ledger.Team](s, bucketTeams)
}

// checkMember checks m against the directory inside tx
// (ledger.CheckMemberPlace): it reads m's unit, the units of its path and
// m's teams. It normalises m and returns its unit.
func checkMember(tx *bolt.Tx, m *ledger.Member) (ledger.Unit, error) {
	units, teams := map[uuid.UUID]ledger.Unit{}, map[uuid.UUID]ledger.Team{}
	if unit, err := getJSON[ledger.Unit](tx.Bucket(bucketUnits), m.UnitID, "unit.not_found"); err == nil {
		units[unit.ID] = unit
		for _, id := range unit.Path {
			if u, err := getJSON[ledger.Unit](tx.Bucket(bucketUnits), id, "unit.not_found"); err == nil {
				units[id] = u
			}
		}
	} else if ledger.ErrorCode(err) != ledger.ENOTFOUND {
		return unit, err
	}
	for _, id := range m.TeamIDs {
		t, err := getJSON[ledger.Team](tx.Bucket(bucketTeams), id, "team.not_found")
		switch {
		case err == nil:
			teams[id] = t
		case ledger.ErrorCode(err) != ledger.ENOTFOUND:
			return ledger.Unit{}, err
		}
	}
	return ledger.CheckMemberPlace(m, units, teams)
}

// CreateMember implements ledger.Directory.
func (s *Store) CreateMember(ctx context.Context, m ledger.Member, passwordHash string) (ledger.Member, error) {
	now := s.now().UTC()
	m.ID, m.CreatedAt, m.UpdatedAt = newID(), now, now
	err := s.update(ctx, func(w *writeTx) error {
		if _, err := checkMember(w.tx, &m); err != nil {
			return err
		}
		if err := phoneFree(w.tx, m.Phone, uuid.Nil); err != nil {
			return err
		}
		return putMember(w.tx, m, nil, passwordHash, now)
	})
	return m, err
}

// phoneFree checks that no member but self has the phone and no staff
// account uses it as its login.
func phoneFree(tx *bolt.Tx, phone string, self uuid.UUID) error {
	if id := tx.Bucket(bucketPhones).Get([]byte(phone)); id != nil && uuid.UUID(id) != self {
		return ledger.Errorf(ledger.ECONFLICT, "member.phone_taken", ledger.MaskPhone(phone))
	}
	if uid := tx.Bucket(bucketLogins).Get([]byte(phone)); uid != nil {
		u, err := getUser(tx, uid)
		if err != nil || u.MemberID != self || self == uuid.Nil {
			return ledger.Errorf(ledger.ECONFLICT, "member.phone_taken", ledger.MaskPhone(phone))
		}
	}
	return nil
}

// putMember writes a new or changed member with its phone index and
// volunteer login; for a new member (old nil) it also opens the points
// account. Everything has been checked before.
func putMember(tx *bolt.Tx, m ledger.Member, old *ledger.Member, passwordHash string, now time.Time) error {
	phones, logins, users := tx.Bucket(bucketPhones), tx.Bucket(bucketLogins), tx.Bucket(bucketUsers)
	// Read what the writes need first: a refusal must come before any write.
	var login *ledger.User
	if old != nil {
		if uid := logins.Get([]byte(old.Phone)); uid != nil {
			u, err := getUser(tx, uid)
			if err != nil {
				return fmt.Errorf("the login of member %s: %v", m.ID, err) // damage, not a refusal
			}
			login = &u
		}
	}
	if err := putJSON(tx.Bucket(bucketMembers), m.ID, m); err != nil {
		return err
	}
	if old == nil {
		k := ledger.MemberAccount(m.ID).Key()
		if err := tx.Bucket(bucketAccounts).Put(k[:], make([]byte, accountRowSize)); err != nil {
			return err
		}
		u := ledger.User{ID: newID(), Login: m.Phone, Name: m.Name, Role: ledger.RoleVolunteer, MemberID: m.ID, UnitID: m.UnitID, CreatedAt: now, PasswordHash: passwordHash}
		if err := putJSON(users, u.ID, storedUser{u, passwordHash}); err != nil {
			return err
		}
		if err := logins.Put([]byte(m.Phone), u.ID[:]); err != nil {
			return err
		}
		return phones.Put([]byte(m.Phone), m.ID[:])
	}
	if old.Phone != m.Phone {
		if err := phones.Delete([]byte(old.Phone)); err != nil {
			return err
		}
		if err := phones.Put([]byte(m.Phone), m.ID[:]); err != nil {
			return err
		}
	}
	if login == nil {
		return nil
	}
	u := *login
	u.Name, u.UnitID = m.Name, m.UnitID
	u.Disabled = m.Status != ledger.MemberActive
	if old.Phone != m.Phone {
		if err := logins.Delete([]byte(old.Phone)); err != nil {
			return err
		}
		if err := logins.Put([]byte(m.Phone), u.ID[:]); err != nil {
			return err
		}
		u.Login = m.Phone
	}
	return putJSON(users, u.ID, storedUser{u, u.PasswordHash})
}

// UpdateMember implements ledger.Directory.
func (s *Store) UpdateMember(ctx context.Context, m ledger.Member) (ledger.Member, error) {
	err := s.update(ctx, func(w *writeTx) error {
		old, err := getJSON[ledger.Member](w.tx.Bucket(bucketMembers), m.ID, "member.not_found")
		if err != nil {
			return err
		}
		m.CreatedAt, m.UpdatedAt = old.CreatedAt, s.now().UTC()
		if _, err := checkMember(w.tx, &m); err != nil {
			return err
		}
		if err := phoneFree(w.tx, m.Phone, m.ID); err != nil {
			return err
		}
		return putMember(w.tx, m, &old, "", m.UpdatedAt)
	})
	return m, err
}

// Member implements ledger.Directory.
func (s *Store) Member(ctx context.Context, id uuid.UUID) (ledger.Member, error) {
	return viewJSON[ledger.Member](s, bucketMembers, id, "member.not_found")
}

// Members implements ledger.Directory. It reads the members in id order
// from f.After and keeps those the filter selects.
func (s *Store) Members(ctx context.Context, f ledger.MemberFilter) ([]ledger.Member, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	var out []ledger.Member
	err := s.db.View(func(tx *bolt.Tx) error {
		units := map[uuid.UUID]ledger.Unit{}
		_ = tx.Bucket(bucketUnits).ForEach(func(_, v []byte) error {
			var u ledger.Unit
			if json.Unmarshal(v, &u) == nil {
				units[u.ID] = u
			}
			return nil
		})
		c := tx.Bucket(bucketMembers).Cursor()
		k, v := c.First()
		if f.After != uuid.Nil {
			k, v = c.Seek(f.After[:])
			if k != nil && uuid.UUID(k) == f.After {
				k, v = c.Next()
			}
		}
		q := strings.TrimSpace(f.Query)
		for ; k != nil && len(out) < f.Limit; k, v = c.Next() {
			var m ledger.Member
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			u := units[m.UnitID]
			switch {
			case !f.Scope.Covers(u),
				f.UnitID != uuid.Nil && !u.Within(f.UnitID),
				f.TeamID != uuid.Nil && !slices.Contains(m.TeamIDs, f.TeamID),
				f.PartyMember != nil && m.PartyMember != *f.PartyMember,
				f.OnDuty != nil && (m.OnDuty != nil) != *f.OnDuty,
				f.Status != "" && m.Status != f.Status,
				q != "" && !strings.Contains(m.Name, q) && !(isDigits(q) && strings.HasSuffix(m.Phone, q)):
				continue
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
