package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// OutboxGroup is a count of outbox rows of one job and moment with one
// status and reason.
type OutboxGroup struct {
	Job    string
	DueAt  time.Time
	Status string
	Reason string // last_error: why it was skipped or failed
	Count  int
}

// OutboxHistory lists what the outbox sent, skipped or failed, latest
// moments first, at most limit groups (a group per job, moment, status and
// reason).
func (q *Queries) OutboxHistory(ctx context.Context, limit int) ([]OutboxGroup, error) {
	rows, err := q.DB.Query(ctx, `SELECT job, due_at, status, last_error, COUNT(*) FROM outbox
		GROUP BY job, due_at, status, last_error ORDER BY due_at DESC, job, status LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox history: %w", err)
	}
	defer rows.Close()
	var out []OutboxGroup
	for rows.Next() {
		var g OutboxGroup
		var due int64
		if err := rows.Scan(&g.Job, &due, &g.Status, &g.Reason, &g.Count); err != nil {
			return nil, fmt.Errorf("outbox history: %w", err)
		}
		g.DueAt = time.UnixMilli(due)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox history: %w", err)
	}
	return out, nil
}
