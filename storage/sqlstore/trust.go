package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage"
)

// Enrolment links and secret rotation (migration 0007, SECURITY.md). The
// enrolment secret arrives here already hashed.

// Enrolment refusals, told apart so the chat can say what happened.
var (
	ErrEnrolmentUsed    = storage.ErrEnrolmentUsed
	ErrEnrolmentExpired = storage.ErrEnrolmentExpired
)

// CreateEnrolment records a single-use enrolment link for personID, issued
// by by (a staff member's id, or "cli"), and audits it.
func (q *Queries) CreateEnrolment(ctx context.Context, tokenHash, personID, by string, from domain.Channel, now, expires time.Time) error {
	return q.Tx(ctx, func(db DB) error {
		if _, err := db.Exec(ctx, `INSERT INTO enrolments (token_hash, person_id, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			tokenHash, personID, by, consoleMS(now), consoleMS(expires)); err != nil {
			return fmt.Errorf("create enrolment: %w", err)
		}
		return insertAudit(ctx, db, now, by, "enrol.issue", personID, from)
	})
}

// Enrolment returns whom a still-valid enrolment link is for; ErrNoRows,
// ErrEnrolmentUsed or ErrEnrolmentExpired otherwise. It does not use it up:
// linking does (LinkIdentity.Enrolment).
func (q *Queries) Enrolment(ctx context.Context, tokenHash string, now time.Time) (string, error) {
	var person string
	var expires int64
	var used *int64
	err := q.DB.QueryRow(ctx, `SELECT person_id, expires_at, used_at FROM enrolments WHERE token_hash = $1`, tokenHash).Scan(&person, &expires, &used)
	if err != nil {
		return "", fmt.Errorf("enrolment: %w", err)
	}
	switch {
	case used != nil:
		return "", ErrEnrolmentUsed
	case consoleMS(now) >= expires:
		return "", ErrEnrolmentExpired
	}
	return person, nil
}

// RotateSecrets gives a person a new invite token, invite code and check-in
// token (the old ones stop working at once) and audits it. The caller
// reloads the directory.
func (q *Queries) RotateSecrets(ctx context.Context, personID, by string, from domain.Channel, now time.Time) error {
	return q.Tx(ctx, func(db DB) error {
		n, err := db.Exec(ctx, `UPDATE people SET invite_token = $1, invite_code = $2, checkin_token = $3 WHERE id = $4`,
			domain.NewInviteToken(), domain.NewInviteCode(), domain.NewInviteToken(), personID)
		if err != nil {
			return fmt.Errorf("rotate secrets: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("rotate secrets: %w", ErrNoRows)
		}
		return insertAudit(ctx, db, now, by, "secrets.rotate", personID, from)
	})
}
