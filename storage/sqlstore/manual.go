package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// ManualSend is a staff confirmation of a manual send, by its id (one per
// preview).
type ManualSend struct {
	ID       string
	Kind     string // "remind", "broadcast"
	PersonID string
	Done     bool // the messages were enqueued
	Sent     int  // how many
	At       time.Time
}

// BeginManualSend records the confirmation id (once) and returns it as
// stored: Done when an earlier confirmation with this id already enqueued
// its messages, so this one must send nothing.
func (q *Queries) BeginManualSend(ctx context.Context, id, kind, personID string, now time.Time) (ManualSend, error) {
	if _, err := q.DB.Exec(ctx, `INSERT INTO manual_sends (id, kind, person_id, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO NOTHING`, id, kind, personID, ms(now)); err != nil {
		return ManualSend{}, fmt.Errorf("record confirmation: %w", err)
	}
	m := ManualSend{ID: id}
	var at int64
	if err := q.DB.QueryRow(ctx, `SELECT kind, person_id, done, sent, created_at FROM manual_sends WHERE id = $1`, id).
		Scan(&m.Kind, &m.PersonID, &m.Done, &m.Sent, &at); err != nil {
		return ManualSend{}, fmt.Errorf("read confirmation: %w", err)
	}
	m.At = time.UnixMilli(at).UTC()
	return m, nil
}

// FinishManualSend marks the confirmation id done, with how many messages
// it enqueued.
func (q *Queries) FinishManualSend(ctx context.Context, id string, sent int) error {
	if _, err := q.DB.Exec(ctx, `UPDATE manual_sends SET done = TRUE, sent = $2 WHERE id = $1`, id, sent); err != nil {
		return fmt.Errorf("finish confirmation: %w", err)
	}
	return nil
}
