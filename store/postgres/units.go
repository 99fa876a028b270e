package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

func (w *wtx) readUnit(id uuid.UUID, lock bool) (ledger.Unit, error) {
	q := `SELECT doc FROM units WHERE id = $1`
	if lock {
		q += ` FOR UPDATE`
	}
	var doc string
	found, err := w.QueryRow(q, []any{id}, &doc)
	if err != nil {
		return ledger.Unit{}, err
	}
	if !found {
		return ledger.Unit{}, ledger.Errorf(ledger.ENOTFOUND, "unit.not_found")
	}
	var u ledger.Unit
	return u, json.Unmarshal([]byte(doc), &u)
}

func (w *wtx) putUnit(u ledger.Unit) error {
	doc, err := json.Marshal(u)
	if err != nil {
		return err
	}
	var parent *uuid.UUID
	if u.ParentID != uuid.Nil {
		parent = &u.ParentID
	}
	w.Exec(`INSERT INTO units (id, parent, doc) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc`,
		u.ID, parent, string(doc))
	return nil
}

// CreateUnit implements ledger.Directory.
func (s *Store) CreateUnit(ctx context.Context, name string, kind ledger.UnitKind, parentID uuid.UUID, posts []string) (ledger.Unit, error) {
	posts, err := ledger.CleanPosts(posts)
	if err != nil {
		return ledger.Unit{}, err
	}
	var u ledger.Unit
	err = s.update(ctx, func(w *wtx) error {
		var parent *ledger.Unit
		if parentID != uuid.Nil {
			p, err := w.readUnit(parentID, false)
			if err != nil {
				return err
			}
			parent = &p
		}
		var err error
		if u, err = ledger.NewUnit(uuid.Must(uuid.NewV7()), name, kind, parent, s.now()); err != nil {
			return err
		}
		u.Posts = posts
		return w.putUnit(u)
	})
	return u, err
}

// SetPublicNotice implements ledger.Directory.
func (s *Store) SetPublicNotice(ctx context.Context, id uuid.UUID, p ledger.NoticePatch) (ledger.Unit, error) {
	var u ledger.Unit
	err := s.update(ctx, func(w *wtx) error {
		current, err := w.readUnit(id, true)
		if err != nil {
			return err
		}
		if u, err = current.PatchNotice(p); err != nil {
			return err
		}
		return w.putUnit(u)
	})
	return u, err
}

// UpdateUnit implements ledger.Directory.
func (s *Store) UpdateUnit(ctx context.Context, id uuid.UUID, name string, posts []string) (ledger.Unit, error) {
	var u ledger.Unit
	err := s.update(ctx, func(w *wtx) error {
		var err error
		if u, err = w.readUnit(id, true); err != nil {
			return err
		}
		if name != "" {
			var parent *ledger.Unit
			if u.ParentID != uuid.Nil {
				p, err := w.readUnit(u.ParentID, false)
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
		return w.putUnit(u)
	})
	return u, err
}

// Unit implements ledger.Directory.
func (s *Store) Unit(ctx context.Context, id uuid.UUID) (ledger.Unit, error) {
	var doc string
	err := s.pool.QueryRow(ctx, `SELECT doc FROM units WHERE id = $1`, id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return ledger.Unit{}, ledger.Errorf(ledger.ENOTFOUND, "unit.not_found")
	}
	if err != nil {
		return ledger.Unit{}, unavailable(err)
	}
	var u ledger.Unit
	return u, json.Unmarshal([]byte(doc), &u)
}

// Units implements ledger.Directory: parents come before children because
// ids are time-ordered and a parent is always made first.
func (s *Store) Units(ctx context.Context) ([]ledger.Unit, error) {
	rows, err := s.pool.Query(ctx, `SELECT doc FROM units ORDER BY id`)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	var out []ledger.Unit
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, unavailable(err)
		}
		var u ledger.Unit
		if err := json.Unmarshal([]byte(doc), &u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, unavailable2(rows.Err())
}
