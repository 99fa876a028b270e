package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// CreateUser implements ledger.Users.
func (s *Store) CreateUser(ctx context.Context, u ledger.User) (ledger.User, error) {
	if err := u.Check(); err != nil {
		return ledger.User{}, err
	}
	if u.PasswordHash == "" {
		return ledger.User{}, ledger.Errorf(ledger.EINVALID, "user.password_missing")
	}
	if u.ID == uuid.Nil {
		id, err := uuid.NewV7()
		if err != nil {
			return ledger.User{}, err
		}
		u.ID = id
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.now().UTC()
	}
	val, err := json.Marshal(storedUser{u, u.PasswordHash})
	if err != nil {
		return ledger.User{}, err
	}
	login := []byte(strings.ToLower(u.Login))
	err = s.update(ctx, func(w *writeTx) error {
		logins := w.tx.Bucket(bucketLogins)
		if logins.Get(login) != nil {
			return ledger.Errorf(ledger.ECONFLICT, "user.login_taken", u.Login)
		}
		if err := w.tx.Bucket(bucketUsers).Put(u.ID[:], val); err != nil {
			return err
		}
		return logins.Put(login, u.ID[:])
	})
	if err != nil {
		return ledger.User{}, err
	}
	return u, nil
}

// storedUser keeps the password hash, which ledger.User leaves out of JSON.
type storedUser struct {
	ledger.User
	Hash string `json:"password_hash"`
}

func getUser(tx *bolt.Tx, id []byte) (ledger.User, error) {
	v := tx.Bucket(bucketUsers).Get(id)
	if v == nil {
		return ledger.User{}, ledger.Errorf(ledger.ENOTFOUND, "user.not_found")
	}
	var su storedUser
	if err := json.Unmarshal(v, &su); err != nil {
		return ledger.User{}, err
	}
	su.User.PasswordHash = su.Hash
	return su.User, nil
}

// SetPassword implements ledger.Users.
func (s *Store) SetPassword(ctx context.Context, id uuid.UUID, hash string) error {
	return s.update(ctx, func(w *writeTx) error {
		u, err := getUser(w.tx, id[:])
		if err != nil {
			return err
		}
		u.PasswordHash = hash
		val, err := json.Marshal(storedUser{u, hash})
		if err != nil {
			return err
		}
		if err := w.tx.Bucket(bucketUsers).Put(id[:], val); err != nil {
			return err
		}
		return deleteSessionsOf(w.tx, id)
	})
}

func deleteSessionsOf(tx *bolt.Tx, id uuid.UUID) error {
	_, err := deleteSessionsWhere(tx, func(sess ledger.Session) bool { return sess.UserID == id })
	return err
}

// deleteSessionsWhere deletes the sessions doomed says should go (and any
// that cannot be decoded) and says how many it deleted.
func deleteSessionsWhere(tx *bolt.Tx, doomed func(ledger.Session) bool) (int, error) {
	var keys [][]byte
	b := tx.Bucket(bucketSessions)
	err := b.ForEach(func(k, v []byte) error {
		var sess ledger.Session
		if json.Unmarshal(v, &sess) != nil || doomed(sess) {
			keys = append(keys, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// UserByLogin implements ledger.Users.
func (s *Store) UserByLogin(ctx context.Context, login string) (ledger.User, error) {
	var u ledger.User
	err := s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketLogins).Get([]byte(strings.ToLower(strings.TrimSpace(login))))
		if id == nil {
			return ledger.Errorf(ledger.ENOTFOUND, "user.not_found")
		}
		var err error
		u, err = getUser(tx, id)
		return err
	})
	return u, err
}

// UserByID implements ledger.Users.
func (s *Store) UserByID(ctx context.Context, id uuid.UUID) (ledger.User, error) {
	var u ledger.User
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		u, err = getUser(tx, id[:])
		return err
	})
	return u, err
}

// Staff implements ledger.Users.
func (s *Store) Staff(ctx context.Context) ([]ledger.User, error) {
	var out []ledger.User
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(k, _ []byte) error {
			u, err := getUser(tx, k)
			if err == nil && u.Role != ledger.RoleVolunteer {
				out = append(out, u)
			}
			return err
		})
	})
	return out, err
}

// CountUsers implements ledger.Users.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketUsers).Stats().KeyN
		return nil
	})
	return n, err
}

// CreateSession implements ledger.Users.
func (s *Store) CreateSession(ctx context.Context, sess ledger.Session) error {
	val, err := json.Marshal(sess)
	if err != nil {
		return err
	}
	return s.update(ctx, func(w *writeTx) error {
		if w.tx.Bucket(bucketUsers).Get(sess.UserID[:]) == nil {
			return ledger.Errorf(ledger.ENOTFOUND, "user.not_found")
		}
		return w.tx.Bucket(bucketSessions).Put(sess.TokenHash[:], val)
	})
}

// Session implements ledger.Users.
func (s *Store) Session(ctx context.Context, tokenHash ledger.Hash, now time.Time) (ledger.Session, error) {
	var sess ledger.Session
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSessions).Get(tokenHash[:])
		if v == nil {
			return ledger.Errorf(ledger.EUNAUTHORIZED, "session.invalid")
		}
		if err := json.Unmarshal(v, &sess); err != nil {
			return err
		}
		sess.TokenHash = tokenHash
		if !now.Before(sess.ExpiresAt) {
			return ledger.Errorf(ledger.EUNAUTHORIZED, "session.expired")
		}
		return nil
	})
	return sess, err
}

// DeleteSession implements ledger.Users.
func (s *Store) DeleteSession(ctx context.Context, tokenHash ledger.Hash) error {
	return s.update(ctx, func(w *writeTx) error {
		return w.tx.Bucket(bucketSessions).Delete(tokenHash[:])
	})
}

// DeleteExpiredSessions implements ledger.Users.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.update(ctx, func(w *writeTx) error {
		var err error
		n, err = deleteSessionsWhere(w.tx, func(sess ledger.Session) bool { return !now.Before(sess.ExpiresAt) })
		return err
	})
	return n, err
}
