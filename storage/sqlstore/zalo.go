package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ZaloTokens is a Zalo Official Account's OAuth token pair. Version counts
// the refreshes: a compare-and-swap on it keeps two processes from both
// spending the single-use refresh token. String and LogValue hide the
// tokens, so a ZaloTokens printed or logged by mistake shows no secret.
type ZaloTokens struct {
	AccessToken  string
	RefreshToken string
	ExpiresAt    time.Time
	Version      int64
}

func (t ZaloTokens) String() string {
	return fmt.Sprintf("zalo tokens v%d (expires %s)", t.Version, t.ExpiresAt.UTC().Format(time.RFC3339))
}

// LogValue implements slog.LogValuer: the version and expiry only.
func (t ZaloTokens) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("version", t.Version), slog.Time("expires_at", t.ExpiresAt.UTC()))
}

// ZaloStore keeps one OA's tokens and its users' last interaction times in
// the tables of migration 0004. It implements zalo.TokenStore and
// zalo.InteractionStore on PostgreSQL and SQLite alike: the refresh lease is
// a pair of columns updated with a conditional UPDATE, so no transaction (and
// no SQLite connection, of which the embedded store has one) is held across
// the HTTP call to Zalo.
type ZaloStore struct {
	db   DB
	oaID string
}

// Zalo returns the Zalo store of the OA oaID.
func (q *Queries) Zalo(oaID string) *ZaloStore { return &ZaloStore{db: q.DB, oaID: oaID} }

// Get returns the stored tokens, ErrNoRows (storage.ErrNotFound) when none
// were stored yet.
func (s *ZaloStore) Get(ctx context.Context) (ZaloTokens, error) {
	var t ZaloTokens
	err := s.db.QueryRow(ctx, `SELECT access_token, refresh_token, expires_at, version FROM zalo_tokens WHERE oa_id = $1`, s.oaID).
		Scan(&t.AccessToken, &t.RefreshToken, &t.ExpiresAt, &t.Version)
	if err != nil {
		return ZaloTokens{}, fmt.Errorf("zalo tokens: %w", err)
	}
	t.ExpiresAt = t.ExpiresAt.UTC()
	return t, nil
}

// CAS replaces the tokens with next when the stored version is still
// old.Version, storing next with version old.Version+1 and releasing the
// refresh lease. With old.Version 0 it stores the first tokens (version 1)
// when there are none yet. It reports whether it wrote.
func (s *ZaloStore) CAS(ctx context.Context, old, next ZaloTokens) (bool, error) {
	now := time.Now().UTC()
	if old.Version == 0 {
		n, err := s.db.Exec(ctx, `INSERT INTO zalo_tokens (oa_id, access_token, refresh_token, expires_at, version, lease_owner, lease_until, updated_at)
			VALUES ($1, $2, $3, $4, 1, '', 0, $5) ON CONFLICT (oa_id) DO NOTHING`,
			s.oaID, next.AccessToken, next.RefreshToken, next.ExpiresAt.UTC(), now)
		if err != nil {
			return false, fmt.Errorf("zalo tokens: seed: %w", err)
		}
		return n == 1, nil
	}
	n, err := s.db.Exec(ctx, `UPDATE zalo_tokens SET access_token = $1, refresh_token = $2, expires_at = $3,
			version = version + 1, lease_owner = '', lease_until = 0, updated_at = $4
		WHERE oa_id = $5 AND version = $6`,
		next.AccessToken, next.RefreshToken, next.ExpiresAt.UTC(), now, s.oaID, old.Version)
	if err != nil {
		return false, fmt.Errorf("zalo tokens: swap: %w", err)
	}
	return n == 1, nil
}

// Lease takes the refresh lease for owner until until, when the stored
// version is still version and no other owner holds an unexpired lease at
// now. It reports whether owner holds the lease.
func (s *ZaloStore) Lease(ctx context.Context, version int64, owner string, now, until time.Time) (bool, error) {
	if owner == "" {
		return false, errors.New("zalo tokens: lease: empty owner")
	}
	n, err := s.db.Exec(ctx, `UPDATE zalo_tokens SET lease_owner = $1, lease_until = $2
		WHERE oa_id = $3 AND version = $4 AND (lease_owner = '' OR lease_owner = $1 OR lease_until < $5)`,
		owner, until.UnixMilli(), s.oaID, version, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("zalo tokens: lease: %w", err)
	}
	return n == 1, nil
}

// Release gives up owner's refresh lease, if it still holds it.
func (s *ZaloStore) Release(ctx context.Context, owner string) error {
	if _, err := s.db.Exec(ctx, `UPDATE zalo_tokens SET lease_owner = '', lease_until = 0 WHERE oa_id = $1 AND lease_owner = $2`,
		s.oaID, owner); err != nil {
		return fmt.Errorf("zalo tokens: release lease: %w", err)
	}
	return nil
}

// Touch records that userID interacted with the OA at at.
func (s *ZaloStore) Touch(ctx context.Context, userID string, at time.Time) error {
	if _, err := s.db.Exec(ctx, `INSERT INTO zalo_interactions (user_id, last_at) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET last_at = excluded.last_at`, userID, at.UTC()); err != nil {
		return fmt.Errorf("zalo interaction: %w", err)
	}
	return nil
}

// LastInteraction returns when userID last interacted with the OA,
// ErrNoRows (storage.ErrNotFound) when never.
func (s *ZaloStore) LastInteraction(ctx context.Context, userID string) (time.Time, error) {
	var at time.Time
	if err := s.db.QueryRow(ctx, `SELECT last_at FROM zalo_interactions WHERE user_id = $1`, userID).Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("zalo interaction: %w", err)
	}
	return at.UTC(), nil
}
