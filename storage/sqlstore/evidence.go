package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// SaveEvidenceText implements storage.EvidenceTextStore. The same file read
// again replaces what was stored.
func (q *Queries) SaveEvidenceText(ctx context.Context, t domain.EvidenceText) error {
	if _, err := q.DB.Exec(ctx, `INSERT INTO evidence_text (sha256, status, ocr, pages, body, search, read_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (sha256) DO UPDATE SET status = excluded.status, ocr = excluded.ocr, pages = excluded.pages,
			body = excluded.body, search = excluded.search, read_at = excluded.read_at`,
		t.SHA256, t.Status, t.OCR, t.Pages, t.Text, strings.ToLower(t.Text), t.ReadAt.UTC()); err != nil {
		return fmt.Errorf("save evidence text: %w", err)
	}
	return nil
}

// EvidenceTexts implements storage.EvidenceTextStore.
func (q *Queries) EvidenceTexts(ctx context.Context, shas []string) (map[string]domain.EvidenceText, error) {
	out := map[string]domain.EvidenceText{}
	err := q.bySHA(ctx, `SELECT sha256, status, ocr, pages, body, read_at FROM evidence_text`, shas, func(rows Rows) error {
		var t domain.EvidenceText
		var at time.Time
		if err := rows.Scan(&t.SHA256, &t.Status, &t.OCR, &t.Pages, &t.Text, &at); err != nil {
			return err
		}
		t.ReadAt = at.UTC()
		out[t.SHA256] = t
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("evidence texts: %w", err)
	}
	return out, nil
}

// EvidenceTextStamps returns when each of shas was read (absent ones are
// missing): what the console checks before reusing flags it computed,
// without loading the texts themselves.
func (q *Queries) EvidenceTextStamps(ctx context.Context, shas []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := q.bySHA(ctx, `SELECT sha256, read_at FROM evidence_text`, shas, func(rows Rows) error {
		var sha string
		var at time.Time
		if err := rows.Scan(&sha, &at); err != nil {
			return err
		}
		out[sha] = at.UTC()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("evidence text stamps: %w", err)
	}
	return out, nil
}

// bySHA runs query with "WHERE sha256 IN (…)" for shas, 200 at a time (a
// statement's placeholders are bounded), calling row for each row.
func (q *Queries) bySHA(ctx context.Context, query string, shas []string, row func(Rows) error) error {
	for len(shas) > 0 {
		batch := shas[:min(len(shas), 200)]
		shas = shas[len(batch):]
		marks := make([]string, len(batch))
		args := make([]any, len(batch))
		for i, s := range batch {
			marks[i], args[i] = fmt.Sprintf("$%d", i+1), s
		}
		rows, err := q.DB.Query(ctx, query+` WHERE sha256 IN (`+strings.Join(marks, ", ")+`)`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := row(rows); err != nil {
				rows.Close()
				return fmt.Errorf("scan: %w", err)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// SearchEvidenceText implements storage.EvidenceTextStore.
func (q *Queries) SearchEvidenceText(ctx context.Context, query string, limit int) ([]string, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, nil
	}
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(query))
	rows, err := q.DB.Query(ctx, `SELECT sha256 FROM evidence_text WHERE search LIKE $1 ESCAPE '\' ORDER BY sha256 LIMIT $2`,
		"%"+esc+"%", limit)
	if err != nil {
		return nil, fmt.Errorf("search evidence text: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("scan evidence search: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
