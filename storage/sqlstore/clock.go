package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// ClockSeen returns the latest moment recorded for the clock name; ok is
// false when none was.
func (q *Queries) ClockSeen(ctx context.Context, name string) (time.Time, bool, error) {
	var ms int64
	err := q.DB.QueryRow(ctx, `SELECT seen_at FROM bot_clock WHERE name = $1`, name).Scan(&ms)
	if errors.Is(err, ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("clock %s: %w", name, err)
	}
	return time.UnixMilli(ms), true, nil
}

// SetClockSeen records at for the clock name unless a later moment is
// recorded already: the row only moves forward.
func (q *Queries) SetClockSeen(ctx context.Context, name string, at time.Time) error {
	_, err := q.DB.Exec(ctx, `INSERT INTO bot_clock (name, seen_at) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET seen_at = CASE WHEN excluded.seen_at > bot_clock.seen_at
			THEN excluded.seen_at ELSE bot_clock.seen_at END`, name, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("record clock %s: %w", name, err)
	}
	return nil
}

// Secret returns the server key name, making a random 32-byte one the first
// time; concurrent first calls from several processes agree on one.
func (q *Queries) Secret(ctx context.Context, name string) ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	if _, err := q.DB.Exec(ctx, `INSERT INTO bot_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
		name, hex.EncodeToString(b)); err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	var v string
	if err := q.DB.QueryRow(ctx, `SELECT value FROM bot_secrets WHERE name = $1`, name).Scan(&v); err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	key, err := hex.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return key, nil
}
