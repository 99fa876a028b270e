package postgres

import (
	"context"
	"crypto/rand"
	"errors"

	"github.com/jackc/pgx/v5"
)

// Secret returns the named server secret, made at random on first use.
// App servers asking at once for a new one all get the one made first:
// the write runs in the commit queue, whose batches take turns.
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, unavailable(err)
	}
	err = s.update(ctx, func(w *wtx) error {
		found, err := w.QueryRow(`SELECT value FROM secrets WHERE name = $1`, []any{name}, &v)
		if err != nil || found {
			return err
		}
		v = make([]byte, 32)
		rand.Read(v)
		w.Exec(`INSERT INTO secrets (name, value) VALUES ($1, $2)`, name, v)
		return nil
	})
	return v, err
}
