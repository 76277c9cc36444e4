#!/usr/bin/env bash
# The project's test command (make test; CI runs it through .ci/run).
#
# Starts a throwaway PostgreSQL and Redis unless DIEUPHOI_TEST_DATABASE_URL /
# DIEUPHOI_TEST_REDIS_URL are already set, exports their URLs and
# DIEUPHOI_REQUIRE_SERVICES=1 (tests then fail instead of skipping when a
# service is missing), and runs, in order:
#
#   vet    go vet ./...
#   test   go test -race -count=1 -timeout 20m ./...
#   fuzz   every Fuzz target for FUZZTIME (default 20000x: 20,000 runs) each
#
# Usage: scripts/test.sh [vet] [test] [fuzz]   (no arguments: all three)
#
# Every step runs even when an earlier one failed; the exit status is
# non-zero when any failed. Works from any directory, as root (the database
# server then runs as the "postgres" OS user) or as a normal user, without
# sudo. Needs: go, PostgreSQL server binaries (initdb, pg_ctl), redis-server.
# Environment knobs: PG_BIN (directory of initdb/pg_ctl), FUZZTIME,
# GO_TEST_FLAGS (extra flags for the test step), DIEUPHOI_CHROMIUM.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

FUZZTIME=${FUZZTIME:-20000x}
STEPS=("$@")
if [ ${#STEPS[@]} -eq 0 ]; then
	STEPS=(vet test fuzz)
fi
for s in "${STEPS[@]}"; do
	case $s in
	vet | test | fuzz) ;;
	*)
		echo "usage: $0 [vet] [test] [fuzz]" >&2
		exit 2
		;;
	esac
done
want() {
	local s
	for s in "${STEPS[@]}"; do [ "$s" = "$1" ] && return 0; done
	return 1
}

header() { printf '\n==== %s ====\n' "$*"; }
note() { printf '  %s\n' "$*"; }

# ---------------------------------------------------------------- cleanup

PG_DIR="" PG_BIN_DIR="" REDIS_DIR="" REDIS_PID=""

as_pg() {
	# Run a PostgreSQL server command as the postgres OS user when root:
	# initdb and postgres refuse to run as root.
	if [ "$(id -u)" -eq 0 ]; then
		if command -v runuser >/dev/null 2>&1; then
			(cd / && runuser -u postgres -- "$@")
		else
			(cd / && su -s /bin/sh postgres -c "$(printf '%q ' "$@")")
		fi
	else
		"$@"
	fi
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
		as_pg "$PG_BIN_DIR/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
	fi
	if [ -n "$REDIS_PID" ]; then
		kill "$REDIS_PID" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$REDIS_PID" 2>/dev/null || break
			sleep 0.1
		done
	fi
	[ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
	[ -n "$REDIS_DIR" ] && rm -rf "$REDIS_DIR"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- helpers

port_in_use() {
	if command -v ss >/dev/null 2>&1; then
		[ -n "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ] && return 0
	fi
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 12000)) # below the usual ephemeral range
		if ! port_in_use "$p"; then
			echo "$p"
			return 0
		fi
	done
	echo "no free TCP port found" >&2
	return 1
}

find_pg_bin() {
	if [ -n "${PG_BIN:-}" ]; then
		echo "$PG_BIN"
		return 0
	fi
	local d
	# Newest version first.
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4,4 -rn); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return 0
		fi
	done
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(readlink -f "$(command -v pg_ctl)")"
		return 0
	fi
	return 1
}

start_postgres() {
	PG_BIN_DIR=$(find_pg_bin) || {
		echo "PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql or set PG_BIN or $1" >&2
		return 1
	}
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dieuphoi-pg.XXXXXX")
	chmod 755 "$PG_DIR"
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 || {
			echo "running as root but there is no 'postgres' OS user to run PostgreSQL" >&2
			return 1
		}
		chown postgres: "$PG_DIR"
	fi
	local locale=C.UTF-8
	if ! as_pg "$PG_BIN_DIR/initdb" -D "$PG_DIR/data" -A trust -U postgres --encoding=UTF8 \
		--locale="$locale" --no-sync >"$PG_DIR/initdb.log" 2>&1; then
		locale=C
		as_pg rm -rf "$PG_DIR/data"
		as_pg "$PG_BIN_DIR/initdb" -D "$PG_DIR/data" -A trust -U postgres --encoding=UTF8 \
			--locale="$locale" --no-sync >"$PG_DIR/initdb.log" 2>&1 || {
			cat "$PG_DIR/initdb.log" >&2
			return 1
		}
	fi
	# Tests run without syncs (nothing they prove needs the disk); the
	# benchmark (PG_DURABLE=1, scripts/bench.sh) keeps PostgreSQL's defaults,
	# so that it pays for the durability the inbox promises.
	local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	[ "${PG_DURABLE:-}" = 1 ] && durability=""
	local attempt port
	for attempt in 1 2 3; do
		port=$(free_port)
		if as_pg "$PG_BIN_DIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
			-o "-k $PG_DIR -p $port -c listen_addresses=127.0.0.1 $durability -c max_connections=300" \
			start >/dev/null; then
			local isready="$PG_BIN_DIR/pg_isready"
			[ -x "$isready" ] || isready=pg_isready
			for _ in $(seq 1 100); do
				if "$isready" -q -h 127.0.0.1 -p "$port" -U postgres; then
					PG_PORT=$port
					note "PostgreSQL $("$PG_BIN_DIR/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data $PG_DIR/data, locale $locale)"
					return 0
				fi
				sleep 0.1
			done
			as_pg "$PG_BIN_DIR/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
		fi
		note "PostgreSQL did not start on port $port (attempt $attempt); log:"
		tail -n 20 "$PG_DIR/postgres.log" >&2 || true
	done
	return 1
}

start_redis() {
	command -v redis-server >/dev/null 2>&1 || {
		echo "redis-server not found; install redis-server or set $1" >&2
		return 1
	}
	REDIS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dieuphoi-redis.XXXXXX")
	local attempt port
	for attempt in 1 2 3; do
		port=$(free_port)
		rm -f "$REDIS_DIR/redis.pid"
		redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
			--dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
			--daemonize yes >/dev/null
		for _ in $(seq 1 100); do
			if [ -s "$REDIS_DIR/redis.pid" ] &&
				[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; then
				REDIS_PID=$(cat "$REDIS_DIR/redis.pid")
				REDIS_PORT=$port
				note "Redis $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on 127.0.0.1:$port (pid $REDIS_PID)"
				return 0
			fi
			sleep 0.1
		done
		[ -s "$REDIS_DIR/redis.pid" ] && kill "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null || true
		note "Redis did not start on port $port (attempt $attempt); log:"
		tail -n 20 "$REDIS_DIR/redis.log" >&2 || true
	done
	return 1
}

# ---------------------------------------------------------------- services

FAILED=()
step() {
	# step NAME CMD...: run, time, and record a failure without stopping.
	local name=$1 start rc
	shift
	header "$name"
	note "\$ $*"
	start=$SECONDS
	set +e
	"$@"
	rc=$?
	set -e
	if [ $rc -eq 0 ]; then
		note "ok: $name ($((SECONDS - start))s)"
	else
		note "FAILED: $name (exit $rc, $((SECONDS - start))s)"
		FAILED+=("$name")
	fi
	return 0
}

header "environment"
note "repo: $ROOT"
note "$(go version)"
note "user: $(id -un) (uid $(id -u)); CI=${CI:-}"

if want test || want fuzz; then
	header "services"
	if [ -z "${DIEUPHOI_TEST_DATABASE_URL:-}" ]; then
		start_postgres DIEUPHOI_TEST_DATABASE_URL
		export DIEUPHOI_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
	else
		note "PostgreSQL: using the given DIEUPHOI_TEST_DATABASE_URL"
	fi
	if [ -z "${DIEUPHOI_TEST_REDIS_URL:-}" ]; then
		start_redis DIEUPHOI_TEST_REDIS_URL
		export DIEUPHOI_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
	else
		note "Redis: using the given DIEUPHOI_TEST_REDIS_URL"
	fi
	export DIEUPHOI_REQUIRE_SERVICES=${DIEUPHOI_REQUIRE_SERVICES:-1}
	chromium=""
	for c in "${DIEUPHOI_CHROMIUM:-}" chromium chromium-browser google-chrome; do
		[ -n "$c" ] && chromium=$(command -v "$c" 2>/dev/null) && break
	done
	if [ -n "$chromium" ]; then
		note "Chromium: $chromium"
	else
		note "WARNING: no Chromium found; browser tests will fail (DIEUPHOI_REQUIRE_SERVICES=$DIEUPHOI_REQUIRE_SERVICES)"
	fi
	# Show the URLs with any password hidden.
	note "DIEUPHOI_TEST_DATABASE_URL=$(sed -E 's#(://[^:/@]*:)[^@]*@#\1xxxxx@#' <<<"$DIEUPHOI_TEST_DATABASE_URL")"
	note "DIEUPHOI_TEST_REDIS_URL=$(sed -E 's#(://[^:/@]*:)[^@]*@#\1xxxxx@#' <<<"$DIEUPHOI_TEST_REDIS_URL")"
	note "DIEUPHOI_REQUIRE_SERVICES=$DIEUPHOI_REQUIRE_SERVICES"
fi

# ---------------------------------------------------------------- steps

if want vet; then
	step "go vet" go vet ./...
fi

if want test; then
	race=-race
	if [ "$(go env CGO_ENABLED)" != 1 ] || ! command -v "$(go env CC)" >/dev/null 2>&1; then
		note "WARNING: no C compiler / cgo disabled: running tests WITHOUT -race"
		race=""
	fi
	# shellcheck disable=SC2086 # GO_TEST_FLAGS is a list of flags
	step "go test" go test $race -count=1 -timeout 20m ${GO_TEST_FLAGS:-} ./...
fi

fuzz_targets() {
	# Prints "package FuzzName" for every fuzz target. go test -list prints
	# the matching names of a package, then "ok <package>".
	go test -list '^Fuzz' ./... 2>&1 | awk '
		/^Fuzz[A-Za-z0-9_]*$/ { names[n++] = $1; next }
		/^ok[ \t]/ { for (i = 0; i < n; i++) print $2, names[i]; n = 0; next }
		/^(FAIL|\?)[ \t]/ { n = 0 }
	' || true # a package that does not build is reported by the test step

}

if want fuzz; then
	header "fuzz targets (seed run, $FUZZTIME each)"
	mapfile -t targets < <(fuzz_targets)
	if [ ${#targets[@]} -eq 0 ]; then
		note "no fuzz targets found"
	else
		for t in "${targets[@]}"; do
			pkg=${t% *} name=${t#* }
			step "fuzz $name ($pkg)" go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg"
		done
	fi
fi

header "summary"
if [ ${#FAILED[@]} -ne 0 ]; then
	for f in "${FAILED[@]}"; do note "FAILED: $f"; done
	exit 1
fi
note "all steps passed"
