// Package testenv gives tests the real services they need: a fresh
// PostgreSQL database each, the Redis server, headless Chromium. The README's
// test command starts local PostgreSQL and Redis and exports their addresses;
// run alone, tests that need a missing service skip, unless
// DIEUPHOI_REQUIRE_SERVICES=1 (set by the test command and CI), when they fail.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env var names the test command sets.
const (
	EnvPostgres = "DIEUPHOI_TEST_DATABASE_URL" // an admin URL; tests create databases under it
	EnvRedis    = "DIEUPHOI_TEST_REDIS_URL"
	EnvRequire  = "DIEUPHOI_REQUIRE_SERVICES"
)

func missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s is required (%s=1) but not available", what, EnvRequire)
	}
	t.Skipf("%s not available; run the README's test command to start it", what)
}

// PostgresURL creates a new, empty database for this test and drops it when
// the test ends. It returns the database's URL.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvPostgres)
	if admin == "" {
		missing(t, "PostgreSQL ("+EnvPostgres+")")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to test PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	name := "t_" + strings.ToLower(sanitize(t.Name())) + "_" + RandomHex(4)
	if len(name) > 60 {
		name = name[:50] + "_" + RandomHex(4)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("drop test database: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database: %v", err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	u.Path = "/" + name
	return u.String()
}

// RedisURL returns the test Redis server's URL. Tests share the server and
// keep apart by key prefix: see Prefix.
func RedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvRedis)
	if u == "" {
		missing(t, "Redis ("+EnvRedis+")")
	}
	return u
}

// Prefix returns a key prefix unique to this test run.
func Prefix(t testing.TB) string {
	return "test:" + sanitize(t.Name()) + ":" + RandomHex(4) + ":"
}

// Chromium returns the path of a headless-capable Chromium.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{os.Getenv("DIEUPHOI_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, "Chromium")
	return ""
}

// RandomHex returns n random bytes as hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("random: %v", err))
	}
	return hex.EncodeToString(b)
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteRune('_')
		}
	}
	return b.String()
}
