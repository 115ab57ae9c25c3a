#!/usr/bin/env bash
# The import stage of the benchmark (`bench/run.sh --import` runs it):
# builds a Django-shaped SQLite database with 100,000 users who all have a
# DRF token (the fixture's schema, rows made by SQL, every hash copied from
# one fixture user: nothing is hashed at import), times
# `authtoken import-django` into a fresh SQLite database and a fresh
# PostgreSQL one, and writes the figures into BENCHMARKS.md (between
# <!-- bench:import --> markers).
#
# Options: --no-build (use target/release/authtoken as it is), --bin PATH,
#          --users N (default 100000), --sqlite-only.
# Environment: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPORT="$ROOT/BENCHMARKS.md"
BIN="$ROOT/target/release/authtoken"
FIXTURE="$ROOT/tests/fixtures/django/django.sqlite3"
BUILD=1
USERS=100000
TARGETS=(sqlite postgres)
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0 ;;
    --bin) BIN="$(realpath "$2")"; BUILD=0; shift ;;
    --users) USERS="$2"; shift ;;
    --sqlite-only) TARGETS=(sqlite) ;;
    -h | --help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
export PGOPTIONS="--client-min-messages=warning"
PG_DB=authtoken_bench_import
SECRET=bench-secret-key-0123456789abcdef0123456789abcdef

log() { printf '[bench-import %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
command -v sqlite3 >/dev/null || { log "needs sqlite3"; exit 1; }
if [ "$BUILD" = 1 ]; then
  log "cargo build --release"
  (cd "$ROOT" && cargo build --release --quiet)
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
SOURCE="$WORK/django.sqlite3"

log "building a Django database with $USERS users, each with a token"
cp "$FIXTURE" "$SOURCE"
sqlite3 "$SOURCE" <<SQL
PRAGMA foreign_keys = OFF;
DELETE FROM authtoken_token;
DELETE FROM auth_user;
SQL
sqlite3 "$SOURCE" <<SQL
PRAGMA foreign_keys = OFF;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $USERS)
INSERT INTO auth_user (id, password, last_login, is_superuser, username, first_name,
                       last_name, email, is_staff, is_active, date_joined)
SELECT i, '$(sqlite3 "$FIXTURE" "SELECT password FROM auth_user WHERE username = 'u_pbkdf2_sha256'")',
       NULL, 0, printf('user%06d', i), 'First', 'Last', printf('user%06d@example.com', i),
       0, 1, '2024-01-01 00:00:00.000001'
FROM n;
INSERT INTO authtoken_token (key, created, user_id)
SELECT printf('%040x', id * 2654435761), '2025-01-01 00:00:00.000001', id FROM auth_user;
COMMIT;
SQL
log "source: $(sqlite3 "$SOURCE" 'SELECT count(*) FROM auth_user') users, $(sqlite3 "$SOURCE" 'SELECT count(*) FROM authtoken_token') tokens"

declare -A FIGURE
for target in "${TARGETS[@]}"; do
  if [ "$target" = sqlite ]; then
    url="$WORK/target.sqlite3"
  else
    psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB" -c "CREATE DATABASE $PG_DB" >/dev/null
    url="$PG_URL/$PG_DB"
  fi
  # Migrated first, so the figure is the import's alone.
  DATABASE_URL="$url" SECRET_KEY="$SECRET" "$BIN" migrate >/dev/null
  log "import-django into a fresh $target database"
  start=$(date +%s.%N)
  summary=$(DATABASE_URL="$url" SECRET_KEY="$SECRET" "$BIN" import-django "$SOURCE" | tail -1)
  end=$(date +%s.%N)
  FIGURE[$target]="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f s", b - a }')"
  log "$target: ${FIGURE[$target]} ($summary)"
  again_start=$(date +%s.%N)
  again=$(DATABASE_URL="$url" SECRET_KEY="$SECRET" "$BIN" import-django "$SOURCE" | tail -1)
  again_end=$(date +%s.%N)
  FIGURE[$target-again]="$(awk -v a="$again_start" -v b="$again_end" 'BEGIN { printf "%.1f s", b - a }')"
  log "$target, again: ${FIGURE[$target-again]} ($again)"
  [ "$target" = postgres ] && psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null
done

block="$WORK/block.md"
{
  echo "<!-- bench:import -->"
  echo "## import-django, $USERS users with tokens ($(date -u +%Y-%m-%d), $(nproc) cores)"
  echo
  echo "Written by \`bench/run.sh --import\`. A SQLite Django source made by SQL from the"
  echo "fixture's schema, every user with the same PBKDF2 hash (never re-hashed at"
  echo "import) and a DRF key; the time of the whole command, source read included."
  echo
  echo "| target | first import | again (all unchanged) |"
  echo "|---|---|---|"
  for target in "${TARGETS[@]}"; do
    echo "| $target | ${FIGURE[$target]} | ${FIGURE[$target-again]} |"
  done
  echo "<!-- /bench:import -->"
} >"$block"
tmp="$WORK/report.tmp"
if grep -q "^<!-- bench:import -->" "$REPORT"; then
  awk -v file="$block" '
    $0 == "<!-- bench:import -->" { while ((getline line < file) > 0) print line; skip = 1; next }
    $0 == "<!-- /bench:import -->" { skip = 0; next }
    !skip { print }' "$REPORT" >"$tmp"
else
  awk -v file="$block" '
    !done && /^<!-- analysis -->/ { while ((getline line < file) > 0) print line; print ""; done = 1 }
    { print }
    END { if (!done) { print ""; while ((getline line < file) > 0) print line } }' "$REPORT" >"$tmp"
fi
cat "$tmp" >"$REPORT"
sed -e '/^<!--/d' "$block"
