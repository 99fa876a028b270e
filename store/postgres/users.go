package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// storedUser keeps the password hash, which ledger.User leaves out of JSON
// (the bbolt engine's document).
type storedUser struct {
	ledger.User
	Hash string `json:"password_hash"`
}

func userDoc(u ledger.User) (string, error) {
	b, err := json.Marshal(storedUser{u, u.PasswordHash})
	return string(b), err
}

func decodeUser(doc string) (ledger.User, error) {
	var su storedUser
	if err := json.Unmarshal([]byte(doc), &su); err != nil {
		return ledger.User{}, err
	}
	su.User.PasswordHash = su.Hash
	return su.User, nil
}

// CreateUser implements ledger.Users.
func (s *Store) CreateUser(ctx context.Context, u ledger.User) (ledger.User, error) {
	if err := u.Check(); err != nil {
		return ledger.User{}, err
	}
	if u.PasswordHash == "" {
		return ledger.User{}, ledger.Errorf(ledger.EINVALID, "user.password_missing")
	}
	if u.ID == uuid.Nil {
		u.ID = uuid.Must(uuid.NewV7())
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.now().UTC()
	}
	doc, err := userDoc(u)
	if err != nil {
		return ledger.User{}, err
	}
	login := strings.ToLower(u.Login)
	err = s.update(ctx, func(w *wtx) error {
		var one int
		if found, err := w.QueryRow(`SELECT 1 FROM users WHERE login = $1`, []any{login}, &one); err != nil || found {
			if err == nil {
				err = ledger.Errorf(ledger.ECONFLICT, "user.login_taken", u.Login)
			}
			return err
		}
		w.Exec(`INSERT INTO users (id, login, role, doc) VALUES ($1, $2, $3, $4)`, u.ID, login, string(u.Role), doc)
		return nil
	})
	if err != nil {
		return ledger.User{}, err
	}
	return u, nil
}

// readUser reads a user in a request of the commit queue, locking its row.
func (w *wtx) readUser(id uuid.UUID) (ledger.User, error) {
	var doc string
	found, err := w.QueryRow(`SELECT doc FROM users WHERE id = $1 FOR UPDATE`, []any{id}, &doc)
	if err != nil {
		return ledger.User{}, err
	}
	if !found {
		return ledger.User{}, ledger.Errorf(ledger.ENOTFOUND, "user.not_found")
	}
	return decodeUser(doc)
}

func (w *wtx) putUser(u ledger.User) error {
	doc, err := userDoc(u)
	if err != nil {
		return err
	}
	w.Exec(`UPDATE users SET doc = $2, role = $3 WHERE id = $1`, u.ID, doc, string(u.Role))
	return nil
}

// endSessions ends the sessions of user id but keep's.
func (w *wtx) endSessions(id uuid.UUID, keep ledger.Hash) {
	w.Exec(`DELETE FROM sessions WHERE user_id = $1 AND token <> $2`, id, keep[:])
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
	return s.update(ctx, func(w *wtx) error {
		u, err := w.readUser(id)
		if err != nil {
			return err
		}
		u.PasswordHash, u.OwnPassword = hash, own
		if err := w.putUser(u); err != nil {
			return err
		}
		w.endSessions(id, ledger.Hash{})
		return nil
	})
}

// ChangeStaff implements ledger.Users: it reads both accounts and what
// ledger.ChangeStaff needs to know of the target, lets it decide, and
// writes what it decided.
func (s *Store) ChangeStaff(ctx context.Context, actorID, targetID uuid.UUID, ch ledger.StaffChange, current ledger.Hash) (ledger.StaffUpdate, error) {
	var up ledger.StaffUpdate
	err := s.update(ctx, func(w *wtx) error {
		actor, err := w.readUser(actorID)
		if ledger.ErrorCode(err) == ledger.ENOTFOUND {
			return ledger.Errorf(ledger.EUNAUTHORIZED, "auth.login_required")
		} else if err != nil {
			return err
		}
		target, err := w.readUser(targetID)
		if err != nil {
			return err
		}
		facts, err := w.staffFacts(target, ch)
		if err != nil {
			return err
		}
		if up, err = ledger.ChangeStaff(actor, target, facts, ch, s.now()); err != nil || len(up.Changed) == 0 {
			return err
		}
		if err := w.putUser(up.User); err != nil {
			return err
		}
		if up.EndSessions {
			keep := ledger.Hash{}
			if actorID == targetID {
				keep = current
			}
			w.endSessions(targetID, keep)
		}
		return nil
	})
	if err != nil {
		return ledger.StaffUpdate{}, err
	}
	return up, nil
}

// staffFacts reads what ledger.ChangeStaff needs to know of target: the
// unit of an organiser, or of a clerk's shop; and, when the change disables
// an administrator, how many are active (their rows locked, so that two
// administrators disabling each other at once cannot both succeed).
func (w *wtx) staffFacts(target ledger.User, ch ledger.StaffChange) (ledger.StaffFacts, error) {
	var f ledger.StaffFacts
	unitID := target.UnitID
	if target.Role == ledger.RoleClerk {
		var shopUnit uuid.UUID
		if _, err := w.QueryRow(`SELECT unit FROM shops WHERE id = $1`, []any{target.ShopID}, &shopUnit); err != nil {
			return f, err
		}
		unitID = shopUnit
	}
	if target.Role != ledger.RoleAdmin && unitID != uuid.Nil {
		var doc string
		found, err := w.QueryRow(`SELECT doc FROM units WHERE id = $1`, []any{unitID}, &doc)
		if err != nil {
			return f, err
		}
		if found {
			var u ledger.Unit
			if err := json.Unmarshal([]byte(doc), &u); err != nil {
				return f, err
			}
			f.TargetUnit = &u
		}
	}
	if target.Role == ledger.RoleAdmin && ch.Disabled != nil && *ch.Disabled {
		err := w.Query(func(rows pgx.Rows) error {
			var doc string
			if err := rows.Scan(&doc); err != nil {
				return err
			}
			u, err := decodeUser(doc)
			if err == nil && !u.Disabled {
				f.ActiveAdmins++
			}
			return err
		}, `SELECT doc FROM users WHERE role = $1 ORDER BY id FOR UPDATE`, string(ledger.RoleAdmin))
		if err != nil {
			return f, err
		}
	}
	return f, nil
}

func (s *Store) userWhere(ctx context.Context, where string, arg any) (ledger.User, error) {
	var doc string
	err := s.pool.QueryRow(ctx, `SELECT doc FROM users WHERE `+where, arg).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return ledger.User{}, ledger.Errorf(ledger.ENOTFOUND, "user.not_found")
	}
	if err != nil {
		return ledger.User{}, unavailable(err)
	}
	return decodeUser(doc)
}

// UserByLogin implements ledger.Users.
func (s *Store) UserByLogin(ctx context.Context, login string) (ledger.User, error) {
	return s.userWhere(ctx, `login = $1`, strings.ToLower(strings.TrimSpace(login)))
}

// UserByID implements ledger.Users.
func (s *Store) UserByID(ctx context.Context, id uuid.UUID) (ledger.User, error) {
	return s.userWhere(ctx, `id = $1`, id)
}

// Staff implements ledger.Users: every user but volunteers, by id.
func (s *Store) Staff(ctx context.Context) ([]ledger.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT doc FROM users WHERE role <> $1 ORDER BY id`, string(ledger.RoleVolunteer))
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	var out []ledger.User
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, unavailable(err)
		}
		u, err := decodeUser(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, unavailable2(rows.Err())
}

// unavailable2 is unavailable for an error that may be nil.
func unavailable2(err error) error {
	if err == nil {
		return nil
	}
	return unavailable(err)
}

// CountUsers implements ledger.Users.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, unavailable(err)
	}
	return n, nil
}

// CreateSession implements ledger.Users.
func (s *Store) CreateSession(ctx context.Context, sess ledger.Session) error {
	doc, err := json.Marshal(sess)
	if err != nil {
		return err
	}
	return s.update(ctx, func(w *wtx) error {
		u, err := w.readUser(sess.UserID)
		if err != nil {
			return err
		}
		// The password checked must still be the user's: a reset in between
		// ended the sessions it knew of.
		if sess.Verified != "" && (u.PasswordHash != sess.Verified || u.Disabled) {
			return ledger.Errorf(ledger.EUNAUTHORIZED, "auth.bad_credentials")
		}
		w.Exec(`INSERT INTO sessions (token, user_id, expires_at, doc) VALUES ($1, $2, $3, $4)
			ON CONFLICT (token) DO UPDATE SET user_id = EXCLUDED.user_id, expires_at = EXCLUDED.expires_at, doc = EXCLUDED.doc`,
			sess.TokenHash[:], sess.UserID, sess.ExpiresAt.UnixNano(), string(doc))
		return nil
	})
}

// Session implements ledger.Users.
func (s *Store) Session(ctx context.Context, tokenHash ledger.Hash, now time.Time) (ledger.Session, error) {
	var doc string
	err := s.pool.QueryRow(ctx, `SELECT doc FROM sessions WHERE token = $1`, tokenHash[:]).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return ledger.Session{}, ledger.Errorf(ledger.EUNAUTHORIZED, "session.invalid")
	}
	if err != nil {
		return ledger.Session{}, unavailable(err)
	}
	var sess ledger.Session
	if err := json.Unmarshal([]byte(doc), &sess); err != nil {
		return ledger.Session{}, err
	}
	sess.TokenHash = tokenHash
	if !now.Before(sess.ExpiresAt) {
		return sess, ledger.Errorf(ledger.EUNAUTHORIZED, "session.expired")
	}
	return sess, nil
}

// SessionUser implements ledger.Users: the session and its user in one query.
func (s *Store) SessionUser(ctx context.Context, tokenHash ledger.Hash, now time.Time) (ledger.User, error) {
	var sdoc string
	var udoc *string
	err := s.pool.QueryRow(ctx, `SELECT s.doc, u.doc FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.token = $1`,
		tokenHash[:]).Scan(&sdoc, &udoc)
	if errors.Is(err, pgx.ErrNoRows) {
		return ledger.User{}, ledger.Errorf(ledger.EUNAUTHORIZED, "session.invalid")
	}
	if err != nil {
		return ledger.User{}, unavailable(err)
	}
	var sess ledger.Session
	if err := json.Unmarshal([]byte(sdoc), &sess); err != nil {
		return ledger.User{}, err
	}
	if !now.Before(sess.ExpiresAt) {
		return ledger.User{}, ledger.Errorf(ledger.EUNAUTHORIZED, "session.expired")
	}
	if udoc == nil {
		return ledger.User{}, ledger.Errorf(ledger.ENOTFOUND, "user.not_found")
	}
	return decodeUser(*udoc)
}

// DeleteSession implements ledger.Users.
func (s *Store) DeleteSession(ctx context.Context, tokenHash ledger.Hash) error {
	return s.update(ctx, func(w *wtx) error {
		w.Exec(`DELETE FROM sessions WHERE token = $1`, tokenHash[:])
		return nil
	})
}

// DeleteExpiredSessions implements ledger.Users. One app server at a time
// sweeps (sweeplock.go); another that tries meanwhile deletes nothing and
// says 0.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := s.alone(ctx, lockSessions, func(ctx context.Context) (ledger.SweepResult, error) {
		tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, now.UnixNano())
		if err != nil {
			return ledger.SweepResult{}, unavailable(err)
		}
		return ledger.SweepResult{Done: int(tag.RowsAffected())}, nil
	})
	return res.Done, err
}
