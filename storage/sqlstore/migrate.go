package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"
)

// Migrate applies the *.sql files of fsys not applied yet, in name order,
// each in its own transaction. lock, when not empty, is a statement run
// first in each transaction to keep concurrent starts from racing
// (PostgreSQL: an advisory transaction lock).
func Migrate(ctx context.Context, tx Tx, fsys fs.FS, lock string) error {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("read migration %s: %w", name, err)
		}
		version := strings.TrimSuffix(name, ".sql")
		err = tx(ctx, func(db DB) error {
			if lock != "" {
				if _, err := db.Exec(ctx, lock); err != nil {
					return fmt.Errorf("lock: %w", err)
				}
			}
			if _, err := db.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`); err != nil {
				return fmt.Errorf("create schema_migrations: %w", err)
			}
			var v string
			err := db.QueryRow(ctx, `SELECT version FROM schema_migrations WHERE version = $1`, version).Scan(&v)
			if err == nil {
				return nil
			}
			if !errors.Is(err, ErrNoRows) {
				return fmt.Errorf("check version: %w", err)
			}
			if _, err := db.Exec(ctx, string(body)); err != nil {
				return fmt.Errorf("apply: %w", err)
			}
			_, err = db.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, version, time.Now().UTC())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}
