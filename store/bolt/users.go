package bolt

import (
	"context"
	"encoding/json"
	"fmt"
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
	return s.setPassword(ctx, id, hash, false)
}

// SetOwnPassword implements ledger.Users.
func (s *Store) SetOwnPassword(ctx context.Context, id uuid.UUID, hash string) error {
	return s.setPassword(ctx, id, hash, true)
}

func (s *Store) setPassword(ctx context.Context, id uuid.UUID, hash string, own bool) error {
	return s.update(ctx, func(w *writeTx) error {
		u, err := getUser(w.tx, id[:])
		if err != nil {
			return err
		}
		u.PasswordHash, u.OwnPassword = hash, own
		val, err := json.Marshal(storedUser{u, hash})
		if err != nil {
			return err
		}
		if err := w.tx.Bucket(bucketUsers).Put(id[:], val); err != nil {
			return err
		}
		return deleteSessionsOf(w.tx, id, ledger.Hash{})
	})
}

// ChangeStaff implements ledger.Users: it reads both accounts and the
// target's unit, lets ledger.ChangeStaff decide, and writes what it decided.
func (s *Store) ChangeStaff(ctx context.Context, actorID, targetID uuid.UUID, ch ledger.StaffChange, current ledger.Hash) (ledger.StaffUpdate, error) {
	var up ledger.StaffUpdate
	err := s.update(ctx, func(w *writeTx) error {
		actor, err := getUser(w.tx, actorID[:])
		if ledger.ErrorCode(err) == ledger.ENOTFOUND {
			return ledger.Errorf(ledger.EUNAUTHORIZED, "auth.login_required")
		} else if err != nil {
			return err
		}
		target, err := getUser(w.tx, targetID[:])
		if err != nil {
			return err
		}
		facts, err := staffFacts(w.tx, target, ch)
		if err != nil {
			return err
		}
		if up, err = ledger.ChangeStaff(actor, target, facts, ch, s.now()); err != nil || len(up.Changed) == 0 {
			return err
		}
		val, err := json.Marshal(storedUser{up.User, up.User.PasswordHash})
		if err != nil {
			return err
		}
		if err := w.tx.Bucket(bucketUsers).Put(targetID[:], val); err != nil {
			return err
		}
		if !up.EndSessions {
			return nil
		}
		keep := ledger.Hash{}
		if actorID == targetID {
			keep = current
		}
		return deleteSessionsOf(w.tx, targetID, keep)
	})
	if err != nil {
		return ledger.StaffUpdate{}, err
	}
	return up, nil
}

// staffFacts reads what ledger.ChangeStaff needs to know of target: the
// unit of an organiser, or of a clerk's shop; and, when the change disables
// an administrator, how many are active.
func staffFacts(tx *bolt.Tx, target ledger.User, ch ledger.StaffChange) (ledger.StaffFacts, error) {
	var f ledger.StaffFacts
	unitID := target.UnitID
	if target.Role == ledger.RoleClerk {
		sh, err := getJSON[ledger.Shop](tx.Bucket(bucketShops), target.ShopID, "shop.not_found")
		if err != nil && ledger.ErrorCode(err) != ledger.ENOTFOUND {
			return f, err
		}
		unitID = sh.UnitID
	}
	if target.Role != ledger.RoleAdmin && unitID != uuid.Nil {
		u, err := getJSON[ledger.Unit](tx.Bucket(bucketUnits), unitID, "unit.not_found")
		switch ledger.ErrorCode(err) {
		case "":
			f.TargetUnit = &u
		case ledger.ENOTFOUND:
		default:
			return f, err
		}
	}
	if target.Role == ledger.RoleAdmin && ch.Disabled != nil && *ch.Disabled {
		err := tx.Bucket(bucketUsers).ForEach(func(k, _ []byte) error {
			u, err := getUser(tx, k)
			if err == nil && u.Role == ledger.RoleAdmin && !u.Disabled {
				f.ActiveAdmins++
			}
			return err
		})
		if err != nil {
			return f, err
		}
	}
	return f, nil
}

// deleteSessionsOf ends the sessions of user id but the one with token
// hash keep, through the user's index: it costs O(their sessions).
func deleteSessionsOf(tx *bolt.Tx, id uuid.UUID, keep ledger.Hash) error {
	index, sessions := tx.Bucket(bucketUserSessions), tx.Bucket(bucketSessions)
	var keys [][]byte
	c := index.Cursor()
	for k, _ := c.Seek(id[:]); k != nil && len(k) == userSessionKeySize && [16]byte(k[:16]) == id; k, _ = c.Next() {
		if ledger.Hash(k[16:]) != keep {
			keys = append(keys, append([]byte(nil), k...))
		}
	}
	for _, k := range keys {
		if err := sessions.Delete(k[16:]); err != nil {
			return err
		}
		if err := index.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// userSessionKeySize is the size of a usersessions key: user id | token hash.
const userSessionKeySize = 16 + len(ledger.Hash{})

func userSessionKey(user uuid.UUID, token ledger.Hash) []byte {
	return append(append(make([]byte, 0, userSessionKeySize), user[:]...), token[:]...)
}

// deleteSessionsWhere deletes the sessions doomed says should go (and any
// that cannot be decoded), with their index keys, and says how many it
// deleted.
func deleteSessionsWhere(tx *bolt.Tx, doomed func(ledger.Session) bool) (int, error) {
	type gone struct {
		token []byte
		user  uuid.UUID
		known bool
	}
	var keys []gone
	b := tx.Bucket(bucketSessions)
	err := b.ForEach(func(k, v []byte) error {
		var sess ledger.Session
		if err := json.Unmarshal(v, &sess); err != nil {
			keys = append(keys, gone{token: append([]byte(nil), k...)})
		} else if doomed(sess) {
			keys = append(keys, gone{append([]byte(nil), k...), sess.UserID, true})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	index := tx.Bucket(bucketUserSessions)
	for _, g := range keys {
		if err := b.Delete(g.token); err != nil {
			return 0, err
		}
		if g.known && len(g.token) == len(ledger.Hash{}) {
			if err := index.Delete(userSessionKey(g.user, ledger.Hash(g.token))); err != nil {
				return 0, err
			}
		}
	}
	return len(keys), nil
}

// rebuildUserSessions makes the usersessions index from the sessions, whatever
// it held (migration 10).
func rebuildUserSessions(tx *bolt.Tx) error {
	if tx.Bucket(bucketUserSessions) != nil {
		if err := tx.DeleteBucket(bucketUserSessions); err != nil {
			return err
		}
	}
	index, err := tx.CreateBucket(bucketUserSessions)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
		var sess ledger.Session
		if json.Unmarshal(v, &sess) != nil || len(k) != len(ledger.Hash{}) {
			return nil // a session that cannot be read ends at the next sweep
		}
		return index.Put(userSessionKey(sess.UserID, ledger.Hash(k)), nil)
	})
}

// checkUserSessions reports how the usersessions index differs from the
// sessions, or "" when each session has its key and each key its session.
// A session that cannot be decoded is the sweep's to delete, and is left out.
func checkUserSessions(tx *bolt.Tx) string {
	sessions, index := tx.Bucket(bucketSessions), tx.Bucket(bucketUserSessions)
	problem := ""
	_ = index.ForEach(func(k, _ []byte) error {
		var sess ledger.Session
		switch {
		case len(k) != userSessionKeySize:
			problem = fmt.Sprintf("the session index holds a key %x of the wrong size", k)
		case sessions.Get(k[16:]) == nil:
			problem = fmt.Sprintf("the session index names a session %x that does not exist", k[16:])
		case json.Unmarshal(sessions.Get(k[16:]), &sess) != nil:
			return nil
		case [16]byte(k[:16]) != sess.UserID:
			problem = fmt.Sprintf("the session index files session %x under user %x, not %s", k[16:], k[:16], sess.UserID)
		default:
			return nil
		}
		return errStop
	})
	if problem != "" {
		return problem
	}
	_ = sessions.ForEach(func(k, v []byte) error {
		var sess ledger.Session
		if json.Unmarshal(v, &sess) != nil || len(k) != len(ledger.Hash{}) {
			return nil
		}
		if index.Get(userSessionKey(sess.UserID, ledger.Hash(k))) == nil {
			problem = fmt.Sprintf("session %x of user %s is missing from the session index", k, sess.UserID)
			return errStop
		}
		return nil
	})
	return problem
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
		if sess.Verified != "" {
			// The password checked must still be the user's: a reset in between ended the sessions it knew of.
			u, err := getUser(w.tx, sess.UserID[:])
			if err != nil {
				return err
			}
			if u.PasswordHash != sess.Verified || u.Disabled {
				return ledger.Errorf(ledger.EUNAUTHORIZED, "auth.bad_credentials")
			}
		}
		if err := w.tx.Bucket(bucketSessions).Put(sess.TokenHash[:], val); err != nil {
			return err
		}
		return w.tx.Bucket(bucketUserSessions).Put(userSessionKey(sess.UserID, sess.TokenHash), nil)
	})
}

// Session implements ledger.Users.
func (s *Store) Session(ctx context.Context, tokenHash ledger.Hash, now time.Time) (ledger.Session, error) {
	var sess ledger.Session
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		if sess, err = getSession(tx, tokenHash); err != nil {
			return err
		}
		return sessionLive(sess, now)
	})
	return sess, err
}

// SessionUser implements ledger.Users: the session and its user in one read
// transaction, the two reads of every request that carries a session, each
// decoded once while it is unchanged (see decodings).
func (s *Store) SessionUser(ctx context.Context, tokenHash ledger.Hash, now time.Time) (ledger.User, error) {
	var u ledger.User
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketSessions).Get(tokenHash[:])
		sess, ok := s.decoded.sessions.get(tokenHash, raw)
		if !ok {
			var err error
			if sess, err = getSession(tx, tokenHash); err != nil {
				return err
			}
			s.decoded.sessions.put(tokenHash, raw, sess)
		}
		if err := sessionLive(sess, now); err != nil {
			return err
		}
		raw = tx.Bucket(bucketUsers).Get(sess.UserID[:])
		if u, ok = s.decoded.users.get(sess.UserID, raw); ok {
			return nil
		}
		var err error
		if u, err = getUser(tx, sess.UserID[:]); err == nil {
			s.decoded.users.put(sess.UserID, raw, u)
		}
		return err
	})
	return u, err
}

// getSession reads the session with the token hash.
func getSession(tx *bolt.Tx, tokenHash ledger.Hash) (ledger.Session, error) {
	var sess ledger.Session
	v := tx.Bucket(bucketSessions).Get(tokenHash[:])
	if v == nil {
		return sess, ledger.Errorf(ledger.EUNAUTHORIZED, "session.invalid")
	}
	if err := json.Unmarshal(v, &sess); err != nil {
		return sess, err
	}
	sess.TokenHash = tokenHash
	return sess, nil
}

// sessionLive refuses a session that has expired at now.
func sessionLive(sess ledger.Session, now time.Time) error {
	if !now.Before(sess.ExpiresAt) {
		return ledger.Errorf(ledger.EUNAUTHORIZED, "session.expired")
	}
	return nil
}

// DeleteSession implements ledger.Users.
func (s *Store) DeleteSession(ctx context.Context, tokenHash ledger.Hash) error {
	return s.update(ctx, func(w *writeTx) error {
		sessions := w.tx.Bucket(bucketSessions)
		var sess ledger.Session
		if v := sessions.Get(tokenHash[:]); v != nil && json.Unmarshal(v, &sess) == nil {
			if err := w.tx.Bucket(bucketUserSessions).Delete(userSessionKey(sess.UserID, tokenHash)); err != nil {
				return err
			}
		}
		return sessions.Delete(tokenHash[:])
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
