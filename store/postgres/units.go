package postgres

import (
	"context"
	"encoding/json"

	"aixin/ledger"

	"github.com/google/uuid"
)

func (w *wtx) readUnit(id uuid.UUID, lock bool) (ledger.Unit, error) {
	return readDoc[ledger.Unit](w, "units", id, lock, "unit.not_found")
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
	return viewDoc[ledger.Unit](ctx, s, "units", id, "unit.not_found")
}

// Units implements ledger.Directory: parents come before children because
// ids are time-ordered and a parent is always made first.
func (s *Store) Units(ctx context.Context) ([]ledger.Unit, error) {
	return listDocs[ledger.Unit](ctx, s, "units")
}
