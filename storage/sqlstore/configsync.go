package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ConfigHash returns the hash of the config part name as last synced, ""
// when never.
func (q *Queries) ConfigHash(ctx context.Context, name string) (string, error) {
	var h string
	err := q.DB.QueryRow(ctx, `SELECT hash FROM config_sync WHERE name = $1`, name).Scan(&h)
	if errors.Is(err, ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("config hash: %w", err)
	}
	return h, nil
}

// SetConfigHash records that the config part name with hash was synced.
func (q *Queries) SetConfigHash(ctx context.Context, name, hash string, at time.Time) error {
	_, err := q.DB.Exec(ctx, `INSERT INTO config_sync (name, hash, synced_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET hash = excluded.hash, synced_at = excluded.synced_at`, name, hash, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("set config hash: %w", err)
	}
	return nil
}
