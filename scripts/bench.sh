#!/usr/bin/env bash
# The benchmark (make bench): starts a throwaway PostgreSQL and Redis the way
# scripts/test.sh does (PostgreSQL as the "postgres" OS user when run as
# root), runs cmd/dieuphoi-bench against them, and stops them.
#
# Usage: scripts/bench.sh [bench flags...]     e.g. scripts/bench.sh -quick
#
# With BENCH_DATABASE_URL and BENCH_REDIS_URL already set, those servers are
# used instead (they must be on loopback). The results table is printed and
# written to bench-results.md (left untracked). Needs: go, PostgreSQL server
# binaries (initdb, pg_ctl), redis-server.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Reuse the service helpers of scripts/test.sh without running its steps:
# take everything up to its "services" section.
note() { printf '  %s\n' "$*"; }
helpers=$(sed -n '/^# -\{10,\} cleanup/,/^# -\{10,\} services/p' scripts/test.sh)
eval "$helpers"

note "$(go version); nproc $(nproc)"
if [ -z "${BENCH_DATABASE_URL:-}" ]; then
	# PostgreSQL's defaults (fsync, synchronous commit): an acknowledged
	# update is on disk, as in production. BENCH_PG_FAST=1 runs it without
	# syncs, as the tests do (figures not durable; for comparison only).
	PG_DURABLE=1
	[ "${BENCH_PG_FAST:-}" = 1 ] && PG_DURABLE=0
	start_postgres BENCH_DATABASE_URL
	export BENCH_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
fi
if [ -z "${BENCH_REDIS_URL:-}" ]; then
	start_redis BENCH_REDIS_URL
	export BENCH_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
fi

go run ./cmd/dieuphoi-bench -db "$BENCH_DATABASE_URL" -redis "$BENCH_REDIS_URL" "$@"
