package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// --- evidence files: quotas and collection (migration 0008) -------------------

// RecordBlob notes that personID stored the evidence file sum of size bytes
// at at. Storing it again moves its time forward, which keeps a file being
// re-sent from being collected.
func (q *Queries) RecordBlob(ctx context.Context, sum, personID string, size int64, at time.Time) error {
	_, err := q.DB.Exec(ctx, `INSERT INTO blob_uploads (sha256, person_id, size, uploaded_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (sha256, person_id) DO UPDATE SET size = excluded.size, uploaded_at = excluded.uploaded_at`,
		sum, personID, size, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("record evidence file: %w", err)
	}
	return nil
}

// BlobUsage returns the bytes of evidence files personID stored, and of all
// stored files (each file counted once, whoever stored it).
func (q *Queries) BlobUsage(ctx context.Context, personID string) (person, total int64, err error) {
	err = q.DB.QueryRow(ctx, `SELECT
		COALESCE((SELECT SUM(size) FROM blob_uploads WHERE person_id = $1), 0),
		COALESCE((SELECT SUM(size) FROM (SELECT MAX(size) AS size FROM blob_uploads GROUP BY sha256) AS f), 0)`,
		personID).Scan(&person, &total)
	if err != nil {
		return 0, 0, fmt.Errorf("evidence usage: %w", err)
	}
	return person, total, nil
}

// OrphanBlobs returns the evidence files last stored before before that no
// submission and no history row references.
func (q *Queries) OrphanBlobs(ctx context.Context, before time.Time) ([]string, error) {
	rows, err := q.DB.Query(ctx, `SELECT sha256 FROM blob_uploads GROUP BY sha256 HAVING MAX(uploaded_at) < $1`, before.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("old evidence files: %w", err)
	}
	var old []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan evidence file: %w", err)
		}
		old = append(old, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("old evidence files: %w", err)
	}
	if len(old) == 0 {
		return nil, nil
	}
	used, err := q.referencedBlobs(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range old {
		if !used[s] {
			out = append(out, s)
		}
	}
	return out, nil
}

// referencedBlobs reads every evidence list, current and historical. The
// lists are JSON in both databases, so they are read here rather than with
// either's JSON functions; a campaign has a few thousand of them.
func (q *Queries) referencedBlobs(ctx context.Context) (map[string]bool, error) {
	used := map[string]bool{}
	// task_history: files sent when marking a follow-up task done.
	for _, table := range []string{"submissions", "submission_history", "task_history"} {
		rows, err := q.DB.Query(ctx, `SELECT evidence FROM `+table+` WHERE evidence <> '[]'`)
		if err != nil {
			return nil, fmt.Errorf("evidence references: %w", err)
		}
		for rows.Next() {
			var raw string
			if err := rows.Scan(&raw); err != nil {
				rows.Close()
				return nil, fmt.Errorf("scan evidence references: %w", err)
			}
			var list []domain.Evidence
			if err := json.Unmarshal([]byte(raw), &list); err != nil {
				// An unreadable list may still name files: keep everything.
				rows.Close()
				return nil, fmt.Errorf("evidence references: %w", err)
			}
			for _, e := range list {
				used[e.SHA256] = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("evidence references: %w", err)
		}
	}
	// Meeting documents (issue 15) are kept while they are attached.
	rows, err := q.DB.Query(ctx, `SELECT sha256 FROM meeting_documents`)
	if err != nil {
		return nil, fmt.Errorf("meeting document references: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("scan meeting document references: %w", err)
		}
		used[s] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meeting document references: %w", err)
	}
	return used, nil
}

// ForgetBlob drops the upload records of sum when it was still last stored
// before before, and reports whether it did: a file stored again meanwhile
// is kept.
func (q *Queries) ForgetBlob(ctx context.Context, sum string, before time.Time) (bool, error) {
	var newer int
	if err := q.DB.QueryRow(ctx, `SELECT COUNT(*) FROM blob_uploads WHERE sha256 = $1 AND uploaded_at >= $2`, sum, before.UnixMilli()).Scan(&newer); err != nil {
		return false, fmt.Errorf("forget evidence file: %w", err)
	}
	if newer > 0 {
		return false, nil
	}
	n, err := q.DB.Exec(ctx, `DELETE FROM blob_uploads WHERE sha256 = $1 AND uploaded_at < $2`, sum, before.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("forget evidence file: %w", err)
	}
	return n > 0, nil
}

// --- server keys ------------------------------------------------------------------

// ServerKey returns the secret named name, making a random 32-byte one the
// first time. Every process sharing the database gets the same secret.
func (q *Queries) ServerKey(ctx context.Context, name string) ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("server key: %w", err)
	}
	if _, err := q.DB.Exec(ctx, `INSERT INTO server_keys (name, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
		name, hex.EncodeToString(b), time.Now().UnixMilli()); err != nil {
		return nil, fmt.Errorf("server key: %w", err)
	}
	var secret string
	if err := q.DB.QueryRow(ctx, `SELECT secret FROM server_keys WHERE name = $1`, name).Scan(&secret); err != nil {
		return nil, fmt.Errorf("server key: %w", err)
	}
	key, err := hex.DecodeString(secret)
	if err != nil || len(key) < 32 {
		return nil, errors.New("server key: stored secret is damaged")
	}
	return key, nil
}

// --- the web chat's history -----------------------------------------------------

// SaveChatMessage keeps one message of a web chat (its JSON, numbered seq)
// and drops the chat's messages older than the last keep.
func (q *Queries) SaveChatMessage(ctx context.Context, chat string, seq int64, body []byte, at time.Time, keep int) error {
	if _, err := q.DB.Exec(ctx, `INSERT INTO webchat_messages (chat, seq, body, at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (chat, seq) DO UPDATE SET body = excluded.body, at = excluded.at`, chat, seq, string(body), at.UnixMilli()); err != nil {
		return fmt.Errorf("keep web chat message: %w", err)
	}
	if _, err := q.DB.Exec(ctx, `DELETE FROM webchat_messages WHERE chat = $1 AND seq <= $2`, chat, seq-int64(keep)); err != nil {
		return fmt.Errorf("keep web chat message: %w", err)
	}
	return nil
}

// ChatMessages returns the last limit messages of a web chat, oldest first.
func (q *Queries) ChatMessages(ctx context.Context, chat string, limit int) ([][]byte, error) {
	rows, err := q.DB.Query(ctx, `SELECT body FROM (SELECT seq, body FROM webchat_messages WHERE chat = $1 ORDER BY seq DESC LIMIT $2) AS m ORDER BY seq`, chat, limit)
	if err != nil {
		return nil, fmt.Errorf("web chat history: %w", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("web chat history: %w", err)
		}
		out = append(out, []byte(body))
	}
	return out, rows.Err()
}

// DeleteChatMessage drops one message (the echo of a message that could not
// be handled).
func (q *Queries) DeleteChatMessage(ctx context.Context, chat string, seq int64) error {
	if _, err := q.DB.Exec(ctx, `DELETE FROM webchat_messages WHERE chat = $1 AND seq = $2`, chat, seq); err != nil {
		return fmt.Errorf("web chat history: %w", err)
	}
	return nil
}
