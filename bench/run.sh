#!/usr/bin/env bash
# The benchmark: builds the server in release mode, runs it on a fresh
# database, seeds 100,000 users, drives it with wrk and writes BENCHMARKS.md.
#
#   bench/run.sh                 SQLite (a fresh file in a temporary folder)
#   bench/run.sh --postgres      PostgreSQL (creates and drops authtoken_bench)
#   bench/run.sh --all           both, one after the other (about 5 minutes)
#   bench/run.sh --import [...]  only the import-django stage (bench/import.sh)
#   bench/run.sh --cluster       PostgreSQL, me/ from one process, then from
#                                three behind HAProxy (deploy/haproxy.cfg)
#   bench/run.sh --search [--all|--postgres]
#                                only the admin search at 100,000 users: the
#                                mixed queries, then each on its own
#
# Options: --no-build (use target/release/authtoken as it is), --bin PATH
#          (measure another build of the server, e.g. to compare two),
#          --duration N (seconds per measured stage, default 12),
#          --no-wait (measure at once instead of waiting for an idle machine;
#          busy stages are still named in the report),
#          --profile (perf-record the server during an extra me/ stage and
#          count its instructions per request under callgrind; both go into
#          the report; needs linux-perf and valgrind).
# Environment: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432),
#   BENCH_PORT (default 18765); the server's own settings
#   (PASSWORD_HASH_CONCURRENCY, DATABASE_POOL_SIZE, WORKERS, …) pass through.
#
# Each database's results replace its own block in BENCHMARKS.md (between
# <!-- bench:NAME --> markers); the rest of the file is kept.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
REPORT="$ROOT/BENCHMARKS.md"
BIN="$ROOT/target/release/authtoken"

DURATION=12
SEARCH_ONLY=0
BUILD=1
PROFILE=0
NO_WAIT=0
DATABASES=(sqlite)
while [ $# -gt 0 ]; do
  case "$1" in
    --postgres | --pg) DATABASES=(postgres) ;;
    --sqlite) DATABASES=(sqlite) ;;
    --all) DATABASES=(sqlite postgres) ;;
    --import) shift; exec "$BENCH/import.sh" "$@" ;;
    --cluster) DATABASES=(cluster) ;;
    --search) SEARCH_ONLY=1 ;;
    --no-build) BUILD=0 ;;
    --bin) BIN="$(realpath "$2")"; BUILD=0; shift ;;
    --profile) PROFILE=1 ;;
    --no-wait) NO_WAIT=1 ;;
    --duration) DURATION="$2"; shift ;;
    -h | --help) sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
PG_DB=authtoken_bench
PORT="${BENCH_PORT:-18765}"
BASE="http://127.0.0.1:$PORT"
CONNECTIONS=32        # the GET stages
SIGNIN_CLIENTS=16     # the sign-in storm, and sign-ins alone
ADMIN_CONNECTIONS=4   # a few staff members at once
SEED_USERS=100000
TOKEN_USERS=32        # user000001 … user000032 get real keys for me/
PASSWORD=bench-password-2026
SECRET=bench-secret-key-0123456789abcdef0123456789abcdef
CORES=$(nproc)
USER_POOL_SIZE="${DATABASE_POOL_SIZE:-}"
POOL_NOTE=""

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { log "error: $*"; exit 1; }

# --- tools -----------------------------------------------------------------
need_pkgs=()
command -v wrk >/dev/null || need_pkgs+=(wrk)
command -v curl >/dev/null || need_pkgs+=(curl)
command -v sqlite3 >/dev/null || need_pkgs+=(sqlite3)
if [[ " ${DATABASES[*]} " == *" postgres "* || " ${DATABASES[*]} " == *" cluster "* ]]; then
  command -v psql >/dev/null || need_pkgs+=(postgresql-client)
fi
if [[ " ${DATABASES[*]} " == *" cluster "* ]]; then
  command -v haproxy >/dev/null || need_pkgs+=(haproxy)
fi
if [ "$PROFILE" = 1 ]; then
  command -v perf >/dev/null || need_pkgs+=(linux-perf)
  command -v valgrind >/dev/null || need_pkgs+=(valgrind)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if [ "$BUILD" = 1 ]; then
  log "cargo build --release"
  (cd "$ROOT" && cargo build --release --quiet)
fi
[ -x "$BIN" ] || die "$BIN is missing (run without --no-build)"

WORK=$(mktemp -d /tmp/authtoken-bench.XXXXXX)
SERVER_PID=""
STORM_PID=""
cleanup() {
  if [ -n "$STORM_PID" ]; then kill "$STORM_PID" 2>/dev/null || true; fi
  stop_server
  stop_cluster
  if [[ " ${DATABASES[*]} " == *" postgres "* || " ${DATABASES[*]} " == *" cluster "* ]]; then
    psql "$PG_URL/postgres" -qAtc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- helpers ---------------------------------------------------------------
# wrk_run NAME SCRIPT CONNECTIONS THREADS SECONDS: runs wrk, keeps its output
# in $WORK/NAME.out and prints the fields of the script's BENCH line:
# 1 requests, 2 duration_us, 3 req/s, 4 p50 ms, 5 p99 ms, 6 non-2xx,
# 7 socket errors.
wrk_run() {
  local name=$1 script=$2 conns=$3 threads=$4 secs=$5
  wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 30s -s "$BENCH/$script" "$BASE" \
    >"$WORK/$name.out" 2>&1 || true
  local line
  line=$(grep '^BENCH ' "$WORK/$name.out" | tail -1 || true)
  [ -n "$line" ] || { cat "$WORK/$name.out" >&2; die "wrk gave no result for $name"; }
  echo "${line#BENCH }"
}
me_run() { BENCH_TOKENS="$WORK/tokens" BENCH_PATHS=/api/auth/me/ wrk_run "$1" get.lua $CONNECTIONS 2 "$2"; }
verify_run() { BENCH_TOKENS="$WORK/tokens" BENCH_PATHS=/api/auth/verify/ wrk_run "$1" get.lua $CONNECTIONS 2 "$2"; }
signin_run() { BENCH_PASSWORD="$PASSWORD" BENCH_USERS=$SIGNIN_CLIENTS wrk_run "$1" signin.lua $SIGNIN_CLIENTS 1 "$2"; }

field() { echo "$1" | awk -v n="$2" '{print $n}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }
kib() { awk '/^'"$1"':/ {print $2}' "/proc/$SERVER_PID/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
fmt_rps() { awk -v r="$1" 'BEGIN { if (r < 100) printf "%.1f", r; else printf "%.0f", r }'; }
verdict() { if "$@"; then echo "met"; else echo "**not met**"; fi; }
# a progress line's figures
show() {
  printf '%8.1f req/s  p50 %7.2f ms  p99 %8.2f ms  non-2xx %s  RSS %s MiB' \
    "$(field "$1" 3)" "$(field "$1" 4)" "$(field "$1" 5)" "$(field "$1" 6)" "$(mib "$(kib VmRSS)")"
}
# BENCH lines of the same stage as one: summed requests and errors, the
# mean rate, the mean of the percentiles
merge() {
  printf '%s\n' "$@" | awk '{ n++; r += $1; d += $2; rps += $3; p50 += $4; p99 += $5; s += $6; e += $7 }
    END { printf "%d %d %.1f %.3f %.3f %d %d\n", r, d, rps / n, p50 / n, p99 / n, s, e }'
}

# Percent of all CPU time that was busy over one second.
cpu_busy() {
  local _ a b c d e f g h t1 i1 t2 i2
  read -r _ a b c d e f g h _ </proc/stat; t1=$((a + b + c + d + e + f + g + h)); i1=$((d + e))
  sleep 1
  read -r _ a b c d e f g h _ </proc/stat; t2=$((a + b + c + d + e + f + g + h)); i2=$((d + e))
  echo $(( (100 * ((t2 - t1) - (i2 - i1))) / (t2 - t1 > 0 ? t2 - t1 : 1) ))
}

# Waits (up to a minute) until the machine is quiet: other work on these few
# cores would be measured as the server's slowness. Stale work in the server
# (sign-ins whose clients have gone) also finishes first.
NOISY=""
wait_idle() {
  local busy waited=0
  if [ "$NO_WAIT" = 1 ]; then
    busy=$(cpu_busy)
    [ "$busy" -gt 12 ] && NOISY="${NOISY:+$NOISY, }$1"
    return 0
  fi
  while busy=$(cpu_busy); [ "$busy" -gt 12 ]; do
    [ "$waited" = 0 ] && log "waiting for the machine to be idle (${busy}% busy)"
    waited=$((waited + 1))
    if [ "$waited" -ge 60 ]; then
      log "warning: the machine stayed busy (${busy}%); measuring anyway"
      NOISY="${NOISY:+$NOISY, }$1"
      return 0
    fi
  done
}

start_server() {
  "$BIN" serve >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 200); do
    if curl -fsS -o /dev/null "$BASE/readyz" 2>/dev/null; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "the server exited"; }
    sleep 0.1
  done
  die "the server did not become ready"
}

stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

setting() { # NAME DEFAULT-DESCRIPTION
  local v="${!1:-}"
  if [ -n "$v" ]; then echo "\`$1=$v\`"; else echo "\`$1\` default ($2)"; fi
}

# --- seeding ---------------------------------------------------------------
# benchadmin (staff) is created by the binary, with a bcrypt hash at cost 12
# computed once; every seeded user shares that hash (and so the password)
# and has a token whose digest matches no key: the index holds 100,000
# digests, and a seeded user's first sign-in finds a key it cannot unseal and
# replaces it (as after a SECRET_KEY change). user000001 … user000032 then
# get real keys from `drf_create_token -r`.
seed() {
  local db=$1 url=$2
  "$BIN" migrate >/dev/null
  AUTHTOKEN_PASSWORD="$PASSWORD" "$BIN" createsuperuser --username benchadmin --email admin@example.com >/dev/null
  if [ "$db" = sqlite ]; then
    sqlite3 -bail "$url" <<SQL
BEGIN;
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $SEED_USERS)
INSERT INTO users (username, email, password_hash, is_active, is_staff, is_superuser, date_joined)
SELECT printf('user%06d', n), printf('user%06d@example.com', n),
       (SELECT password_hash FROM users WHERE username = 'benchadmin'), 1, 0, 0,
       strftime('%Y-%m-%d %H:%M:%f', 'now')
FROM seq;
INSERT INTO tokens (user_id, is_primary, digest, sealed, prefix, created)
SELECT id, 1, d, 'unsealable', substr(d, 1, 8), date_joined
FROM (SELECT id, date_joined, lower(hex(randomblob(32))) AS d FROM users WHERE username LIKE 'user%');
-- The server keeps the search's FTS5 table in step itself; rows inserted
-- behind its back are indexed here.
INSERT INTO users_search (users_search) VALUES ('rebuild');
COMMIT;
SQL
  else
    psql "$url" -qAt -v ON_ERROR_STOP=1 <<SQL
BEGIN;
INSERT INTO users (username, email, password_hash, is_active, is_staff, is_superuser, date_joined)
SELECT format('user%s', lpad(n::text, 6, '0')), format('user%s@example.com', lpad(n::text, 6, '0')),
       (SELECT password_hash FROM users WHERE username = 'benchadmin'), true, false, false,
       now() AT TIME ZONE 'UTC'
FROM generate_series(1, $SEED_USERS) AS n;
INSERT INTO tokens (user_id, is_primary, digest, sealed, prefix, created)
SELECT id, true, d, 'unsealable', substr(d, 1, 8), date_joined
FROM (SELECT id, date_joined, encode(sha256(random()::text::bytea), 'hex') AS d
      FROM users WHERE username LIKE 'user%') AS s;
COMMIT;
-- What autovacuum does after a bulk insert (PostgreSQL 13+ vacuums after
-- inserts too): the statistics, and the GIN indexes' pending list merged
-- into the index (the search would otherwise read it linearly each time).
VACUUM ANALYZE;
SQL
  fi
  : >"$WORK/tokens"
  local n
  for n in $(seq 1 $TOKEN_USERS); do
    "$BIN" drf_create_token -r "$(printf 'user%06d' "$n")" | awk '{print $3}' >>"$WORK/tokens"
  done
  [ "$(grep -c . "$WORK/tokens")" = "$TOKEN_USERS" ] || die "could not create the bench tokens"
}

# --- the admin search --------------------------------------------------------
# Signs in as staff through the form, then searches at $ADMIN_CONNECTIONS
# connections with queries matching 1, 10, 100, 1,000 and all 100,000 users.
# Sets ADMIN_RESULT (the BENCH fields) or ADMIN_NOTE (why not), and
# ADMIN_COOKIE.
SEARCH_PATHS="/admin/users/?q=user042137 /admin/users/?q=user00421 /admin/users/?q=user0421 /admin/users/?q=user042 /admin/users/?q=example.com /admin/users/?q=user0777 /admin/users/?q=user0999&page=2"
admin_stage() {
  local label=$1 code csrf cookie
  ADMIN_RESULT="" ADMIN_NOTE="" ADMIN_COOKIE=""
  code=$(curl -s -o "$WORK/login.html" -w '%{http_code}' -c "$WORK/jar" "$BASE/admin/login/" || true)
  csrf=$(grep -o 'name="csrf_token"[^>]*' "$WORK/login.html" 2>/dev/null | grep -o 'value="[^"]*"' | head -1 | cut -d'"' -f2 || true)
  if [ "$code" = 200 ] && [ -n "$csrf" ]; then
    curl -s -o /dev/null -b "$WORK/jar" -c "$WORK/jar" \
      --data-urlencode "csrf_token=$csrf" --data-urlencode username=benchadmin \
      --data-urlencode "password=$PASSWORD" --data-urlencode next=/admin/users/ \
      "$BASE/admin/login/" || true
    cookie=$(awk -F'\t' 'NF >= 7 && ($1 !~ /^#/ || $1 ~ /^#HttpOnly_/) {printf "%s%s=%s", sep, $6, $7; sep="; "}' "$WORK/jar")
    code=$(curl -s -o "$WORK/users.html" -w '%{http_code}' -H "Cookie: $cookie" "$BASE/admin/users/?q=user0421" || true)
    if [ "$code" = 200 ] && grep -q 'user042100' "$WORK/users.html"; then
      wait_idle admin
      ADMIN_RESULT=$(BENCH_COOKIE="$cookie" BENCH_PATHS="$SEARCH_PATHS" \
        wrk_run admin get.lua $ADMIN_CONNECTIONS 1 "$DURATION")
      ADMIN_COOKIE=$cookie
      log "$label: GET /admin/users/?q=   $(show "$ADMIN_RESULT")"
    else
      ADMIN_NOTE="the staff session did not reach /admin/users/ (HTTP $code)"
    fi
  else
    ADMIN_NOTE="/admin/login/ answered HTTP $code without a CSRF token"
  fi
  [ -z "$ADMIN_NOTE" ] || log "$label: admin stage not available: $ADMIN_NOTE"
}

# --search: only the admin search, mixed and then query by query, written
# as its own block (bench:search-DB).
run_search() {
  local db=$1 url label path line rows=""
  NOISY=""
  case "$db" in
    sqlite) url="$WORK/bench.sqlite3"; label=SQLite ;;
    postgres)
      label=PostgreSQL
      psql "$PG_URL/postgres" -qAtc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1
      psql "$PG_URL/postgres" -qAtc "CREATE DATABASE $PG_DB" >/dev/null
      url="$PG_URL/$PG_DB"
      ;;
  esac
  export DATABASE_URL="$url" SECRET_KEY="$SECRET" BCRYPT_COST=12 RUST_LOG=warn BIND="127.0.0.1:$PORT"
  log "$label: migrating and seeding $SEED_USERS users"
  seed "$db" "$url"
  start_server
  admin_stage "$label"
  [ -n "$ADMIN_RESULT" ] || die "$label: $ADMIN_NOTE"
  local each=$(( DURATION / 3 > 3 ? DURATION / 3 : 3 ))
  for path in $SEARCH_PATHS; do
    line=$(BENCH_COOKIE="$ADMIN_COOKIE" BENCH_PATHS="$path" wrk_run one get.lua $ADMIN_CONNECTIONS 1 "$each")
    log "$label: $path  $(show "$line")"
    rows+="| \`${path#/admin/users/}\` | $(fmt_rps "$(field "$line" 3)") | $(field "$line" 4) | $(field "$line" 5) | $(field "$line" 6) |"$'\n'
  done
  stop_server
  if [ "$db" = postgres ]; then psql "$PG_URL/postgres" -qAtc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null; fi
  {
    echo "<!-- bench:search-$db -->"
    echo "## $label: the admin search"
    echo
    echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n), $CORES cores shared with other work; commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet HEAD -- src Cargo.toml Cargo.lock migrations 2>/dev/null || echo ' with uncommitted changes'); \`bench/run.sh --search --duration $DURATION\`."
    echo "$SEED_USERS users; a staff session searching at $ADMIN_CONNECTIONS connections: the queries in turn for ${DURATION} s, then each alone for ${each} s."
    echo
    echo "| query | req/s | p50 ms | p99 ms | non-2xx |"
    echo "|---|---:|---:|---:|---:|"
    echo "| all seven in turn | $(fmt_rps "$(field "$ADMIN_RESULT" 3)") | **$(field "$ADMIN_RESULT" 4)** | $(field "$ADMIN_RESULT" 5) | $(field "$ADMIN_RESULT" 6) |"
    printf '%s' "$rows"
    echo
    echo "Target: median under 20 ms: $(verdict lt "$(field "$ADMIN_RESULT" 4)" 20)."
    if [ -n "$NOISY" ]; then
      echo
      echo "Other work kept the machine busy before these stages, so their figures are less reliable: $NOISY."
    fi
    echo "<!-- /bench:search-$db -->"
  } >"$WORK/block-search-$db.md"
}

# --- one database ----------------------------------------------------------
run_database() {
  local db=$1 url label
  NOISY=""
  case "$db" in
    sqlite)
      url="$WORK/bench.sqlite3"; label=SQLite
      ;;
    postgres)
      label=PostgreSQL
      psql "$PG_URL/postgres" -qAtc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1
      psql "$PG_URL/postgres" -qAtc "CREATE DATABASE $PG_DB" >/dev/null
      url="$PG_URL/$PG_DB"
      ;;
  esac
  export DATABASE_URL="$url" SECRET_KEY="$SECRET" BCRYPT_COST=12 RUST_LOG=warn BIND="127.0.0.1:$PORT"
  # PostgreSQL runs on these same cores: its backends, the server and wrk
  # share them, and the default pool (4 connections a core, sized for a
  # database on its own machine) gives it more backends than cores. The
  # main run uses 2 a core; the default is measured too (PG_DEFAULT below).
  POOL_NOTE=""
  if [ "$db" = postgres ] && [ -z "$USER_POOL_SIZE" ]; then
    export DATABASE_POOL_SIZE=$(( CORES * 2 > 4 ? CORES * 2 : 4 ))
    POOL_NOTE="\`DATABASE_POOL_SIZE=$DATABASE_POOL_SIZE\` (2 a core: PostgreSQL's backends share these cores; the default, $(( CORES * 4 > 8 ? CORES * 4 : 8 )), is measured too, last row)"
  elif [ -n "$USER_POOL_SIZE" ]; then
    export DATABASE_POOL_SIZE="$USER_POOL_SIZE"
  else
    unset DATABASE_POOL_SIZE
  fi

  log "$label: migrating and seeding $SEED_USERS users"
  local t0=$SECONDS
  seed "$db" "$url"
  log "$label: seeded in $((SECONDS - t0)) s"

  start_server
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Token $(head -1 "$WORK/tokens")" "$BASE/api/auth/me/")
  [ "$code" = 200 ] || die "GET /api/auth/me/ with a seeded key answered $code"

  local r_health r_me r_verify r_storm_me r_storm_si r_signin r_admin="" admin_note="" r_pgdef=""
  local rounds_h=() rounds_m=() half=$(( DURATION / 2 > 3 ? DURATION / 2 : 3 )) i line
  log "$label: warm-up"
  wrk_run warm get.lua $CONNECTIONS 2 3 >/dev/null
  me_run warm2 3 >/dev/null

  # healthz and me/ alternate in short rounds, two pairs before the storm
  # and two after, so that the ratios compare stages measured close
  # together in time: the speed of a shared virtual machine drifts by tens
  # of per cent over a minute.
  hm_rounds() {
    for i in 1 2; do
      wait_idle healthz
      line=$(BENCH_PATHS=/healthz wrk_run "healthz$1$i" get.lua $CONNECTIONS 2 "$half")
      rounds_h+=("$line")
      log "$label: GET /healthz           $(show "$line")"
      wait_idle me/
      line=$(me_run "me$1$i" "$half")
      rounds_m+=("$line")
      log "$label: GET /api/auth/me/      $(show "$line")"
    done
  }
  hm_rounds a

  # Forward auth: the same lookup as me/, answered in headers.
  wait_idle verify/
  r_verify=$(verify_run verify "$half")
  log "$label: GET /api/auth/verify/  $(show "$r_verify")"

  # The storm: 16 clients sign in without pause; after 3 s (the hash queue
  # is full by then) me/ is measured beside them.
  wait_idle storm
  signin_run storm $((DURATION + 5)) >"$WORK/storm.line" &
  STORM_PID=$!
  sleep 3
  r_storm_me=$(me_run storm_me "$DURATION")
  wait "$STORM_PID" || true
  STORM_PID=""
  r_storm_si=$(cat "$WORK/storm.line")
  log "$label: me/ in the storm       $(show "$r_storm_me")"
  log "$label:   the storm's sign-ins $(show "$r_storm_si")"

  hm_rounds b
  r_health=$(merge "${rounds_h[@]}")
  r_me=$(merge "${rounds_m[@]}")

  wait_idle sign-in
  r_signin=$(signin_run signin "$DURATION")
  log "$label: POST /api-token-auth/  $(show "$r_signin")"

  admin_stage "$label"
  r_admin=$ADMIN_RESULT admin_note=$ADMIN_NOTE

  local hwm
  hwm=$(kib VmHWM)
  log "$label: peak resident memory (VmHWM) $(mib "$hwm") MiB"

  if [ "$PROFILE" = 1 ]; then profile_me "$label" "$db"; fi
  stop_server
  if [ "$PROFILE" = 1 ]; then count_instructions "$db"; fi

  if [ "$db" = postgres ] && [ -z "$USER_POOL_SIZE" ]; then
    unset DATABASE_POOL_SIZE
    start_server
    wait_idle me/
    r_pgdef=$(me_run me_default_pool "$DURATION")
    log "$label: me/, default pool ($(( CORES * 4 > 8 ? CORES * 4 : 8 ))) $(show "$r_pgdef")"
    stop_server
  fi
  if [ "$db" = postgres ]; then psql "$PG_URL/postgres" -qAtc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null; fi

  write_block "$db" "$label" "$r_health" "$r_me" "$r_storm_me" "$r_storm_si" "$r_signin" "$r_admin" "$admin_note" "$hwm" "$r_pgdef" "$r_verify"
}

profile_me() {
  local out="$WORK/profile-$2.txt"
  log "$1: profiling me/ (perf record -g, 10 s)"
  perf record -F 999 -g -p "$SERVER_PID" -o "$WORK/perf.data" -- sleep 10 >"$WORK/perf.log" 2>&1 &
  local perf_pid=$!
  me_run profile 10 >/dev/null
  if ! wait "$perf_pid"; then log "perf record failed: $(tail -1 "$WORK/perf.log")"; return 0; fi
  local tidy='s/[[:space:]]*-[[:space:]]*-[[:space:]]*$//; s/[[:space:]]*$//'
  {
    echo "share of the server's CPU time by binary:"
    perf report -i "$WORK/perf.data" --no-children --stdio --sort dso -g none 2>/dev/null \
      | grep '%' | sed "$tidy" | head -6
    echo "system calls, with what they cost in the kernel (children included):"
    perf report -i "$WORK/perf.data" --children --stdio --sort symbol -g none 2>/dev/null \
      | grep -E '\[k\] __x64_sys_' | sed "$tidy" | head -8
    echo "top symbols (self time):"
    perf report -i "$WORK/perf.data" --no-children --stdio --sort dso,symbol -g none --percent-limit 1 2>/dev/null \
      | grep '%' | sed "$tidy" | cut -c1-140 | head -15
  } | tee "$out"
}

# Instructions the server executes per request (all its threads, user
# space), counted by callgrind: unlike requests/s, the same for the same
# build and data whatever else the machine is doing. 500 requests on one
# keep-alive connection each for /healthz, me/ and verify/.
count_instructions() {
  local db=$1 out="$WORK/instructions-$1.txt"
  command -v valgrind >/dev/null || { log "valgrind is missing: no instruction counts"; return 0; }
  log "$db: instructions per request (callgrind)"
  (cd "$WORK" && WORKERS=1 valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" "$BIN" serve \
    >"$WORK/cg.log" 2>&1) &
  local vg=$!
  for _ in $(seq 1 600); do curl -fs -o /dev/null "$BASE/readyz" && break; sleep 0.2; done
  local key pid
  key=$(head -1 "$WORK/tokens")
  pid=$(pgrep -f -n "callgrind-out-file=$WORK/cg.out" || true)
  [ -n "$pid" ] || { log "callgrind did not start"; return 0; }
  requests() { python3 - "$BASE" "$1" "$2" "$key" <<'PY'
import http.client, sys, urllib.parse
base, path, n, key = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
u = urllib.parse.urlsplit(base)
c = http.client.HTTPConnection(u.hostname, u.port)
for _ in range(n):
    c.request("GET", path, headers={"Authorization": "Token " + key})
    r = c.getresponse(); r.read()
    assert r.status == 200, (path, r.status)
PY
  }
  local path dumped total
  : >"$out"
  for path in /healthz /api/auth/me/ /api/auth/verify/; do
    requests "$path" 100
    callgrind_control -z "$pid" >/dev/null
    requests "$path" 500
    callgrind_control -d "$pid" >/dev/null
    sleep 1
    dumped=$(ls -t "$WORK"/cg.out.* 2>/dev/null | head -1)
    total=$(awk '/^(summary|totals):/ {print $2; exit}' "$dumped")
    echo "$path $((total / 500))" >>"$out"
    rm -f "$WORK"/cg.out.*
  done
  kill "$pid" 2>/dev/null || true
  wait "$vg" 2>/dev/null || true
  cat "$out"
}

write_block() {
  local db=$1 label=$2 h=$3 m=$4 sm=$5 ss=$6 si=$7 a=$8 anote=$9 hwm=${10} pgdef=${11} v=${12}
  local block="$WORK/block-$db.md"
  local me_ratio storm_ratio pool_default
  me_ratio=$(ratio "$(field "$m" 3)" "$(field "$h" 3)")
  storm_ratio=$(ratio "$(field "$sm" 3)" "$(field "$m" 3)")
  pool_default=$(( CORES * 4 > 8 ? CORES * 4 : 8 ))
  row() {
    printf '| %s | %s | %s | %s | %s |\n' "$1" "$(fmt_rps "$(field "$2" 3)")" "$(field "$2" 4)" "$(field "$2" 5)" "$(field "$2" 6)"
  }
  {
    echo "<!-- bench:$db -->"
    echo "## $label"
    echo
    echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $CORES cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr); $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}') on the same machine$( [ "$db" = postgres ] && echo ", and PostgreSQL $(psql "$PG_URL/postgres" -qAtc 'SHOW server_version' 2>/dev/null | awk '{print $1}') too")."
    echo "Commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || echo ' with uncommitted changes to the source'); \`bench/run.sh --duration $DURATION\`."
    echo
    echo "Settings: \`BCRYPT_COST=12\`, \`RUST_LOG=warn\`, $(setting WORKERS "$CORES"), $(setting PASSWORD_HASH_CONCURRENCY "$(( CORES > 1 ? CORES - 1 : 1 ))"), $(setting PASSWORD_HASH_QUEUE 64), ${POOL_NOTE:-$(setting DATABASE_POOL_SIZE "$pool_default")}."
    echo "$SEED_USERS users, each with a token. GET stages at $CONNECTIONS connections (\`wrk -t2\`), me/ rotating over $TOKEN_USERS keys;"
    echo "healthz and me/ in alternating rounds of $(( DURATION / 2 > 3 ? DURATION / 2 : 3 )) s, two pairs before the storm and two after (the table gives their mean); the storm's me/ for ${DURATION} s."
    echo "Sign-ins from $SIGNIN_CLIENTS clients without pause, as $SIGNIN_CLIENTS users in turn."
    echo "The admin searches at $ADMIN_CONNECTIONS connections, matching 1 to 100,000 users."
    echo
    echo "| stage | req/s | p50 ms | p99 ms | non-2xx |"
    echo "|---|---:|---:|---:|---:|"
    row 'GET /healthz (no database: the ceiling)' "$h"
    row 'GET /api/auth/me/' "$m"
    row 'GET /api/auth/verify/ (forward auth)' "$v"
    row "GET /api/auth/me/ while $SIGNIN_CLIENTS clients sign in" "$sm"
    row '… those sign-ins (POST /api-token-auth/)' "$ss"
    row "POST /api-token-auth/ alone, $SIGNIN_CLIENTS clients" "$si"
    if [ -n "$a" ]; then row 'GET /admin/users/?q=… (staff session)' "$a"
    else echo "| GET /admin/users/?q=… | not available: $anote | | | |"; fi
    if [ -n "$pgdef" ]; then row "GET /api/auth/me/ with the default pool ($pool_default connections)" "$pgdef"; fi
    echo
    echo "Peak resident memory of the server (VmHWM, after every stage above): **$(mib "$hwm") MiB**."
    echo
    echo "| target | measured | |"
    echo "|---|---:|---|"
    # The targets of issue 14 (the token check close to the machine's limit).
    if [ "$db" = sqlite ]; then
      echo "| me/ ≥ 0.5 × /healthz | $me_ratio | $(verdict ge "$me_ratio" 0.5) |"
      echo "| me/ during the storm ≥ 0.8 × me/ | $storm_ratio | $(verdict ge "$storm_ratio" 0.8) |"
    else
      echo "| me/ ≥ 0.2 × /healthz | $me_ratio | $(verdict ge "$me_ratio" 0.2) |"
      echo "| me/ during the storm, ÷ me/ | $storm_ratio | |"
    fi
    echo "| verify/ ÷ me/ | $(ratio "$(field "$v" 3)" "$(field "$m" 3)") | |"
    echo "| me/ p99 < 5 ms | $(field "$m" 5) ms | $(verdict lt "$(field "$m" 5)" 5) |"
    echo "| peak memory < 50 MB | $(awk -v k="$hwm" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }') MB | $(verdict lt "$((hwm * 1024))" 50000000) |"
    if [ -s "$WORK/instructions-$db.txt" ]; then
      local ih im iv
      ih=$(awk '$1 == "/healthz" {print $2}' "$WORK/instructions-$db.txt")
      im=$(awk '$1 == "/api/auth/me/" {print $2}' "$WORK/instructions-$db.txt")
      iv=$(awk '$1 == "/api/auth/verify/" {print $2}' "$WORK/instructions-$db.txt")
      echo
      echo "Instructions the server runs per request (callgrind, user space, every thread; steady whatever the machine does): /healthz $ih, me/ $im ($(ratio "$im" "$ih") × /healthz), verify/ $iv."
    fi
    if [ -s "$WORK/profile-$db.txt" ]; then
      echo
      echo "Where me/'s time goes (\`perf record\` during an extra me/ stage):"
      echo
      echo '```'
      cat "$WORK/profile-$db.txt"
      echo '```'
    fi
    if [ -n "$NOISY" ]; then
      echo
      echo "Other work kept the machine busy before these stages, so their figures are less reliable: $NOISY."
    fi
    echo "<!-- /bench:$db -->"
  } >"$block"
}

update_report() {
  [ -f "$REPORT" ] || printf '# Benchmarks\n\nWritten by `bench/run.sh` (see README, "Benchmark").\n' >"$REPORT"
  local db block tmp="$WORK/report.tmp"
  for db in "${BLOCKS[@]}"; do
    block="$WORK/block-$db.md"
    if grep -q "^<!-- bench:$db -->" "$REPORT"; then
      awk -v db="$db" -v file="$block" '
        $0 == "<!-- bench:" db " -->" { while ((getline line < file) > 0) print line; skip = 1; next }
        $0 == "<!-- /bench:" db " -->" { skip = 0; next }
        !skip { print }' "$REPORT" >"$tmp"
    else
      # a new block goes before the hand-written analysis, if there is one
      awk -v file="$block" '
        !done && /^<!-- analysis -->/ { while ((getline line < file) > 0) print line; print ""; done = 1 }
        { print }
        END { if (!done) { print ""; while ((getline line < file) > 0) print line } }' "$REPORT" >"$tmp"
    fi
    cat "$tmp" >"$REPORT"
  done
}

# --- several processes behind HAProxy (--cluster) ---------------------------
# me/ from one process on its own, from the same process behind HAProxy, and
# from three behind HAProxy (round robin), on one PostgreSQL database. All of
# it shares the machine's cores: the database, HAProxy, wrk and the servers,
# so three processes cannot be three times one; on a machine of its own per
# process they would be measured differently.
CLUSTER_PIDS=()
HAPROXY_PID=""
stop_cluster() {
  local pid
  for pid in "${CLUSTER_PIDS[@]}" $HAPROXY_PID; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  CLUSTER_PIDS=()
  HAPROXY_PID=""
}

# cluster_haproxy N: HAProxy on $PORT in front of the first N processes.
cluster_haproxy() {
  local n=$1 i
  if [ -n "$HAPROXY_PID" ]; then kill "$HAPROXY_PID"; wait "$HAPROXY_PID" 2>/dev/null || true; fi
  sed -e "s/127.0.0.1:8080/127.0.0.1:$PORT/" "$ROOT/deploy/haproxy.cfg" >"$WORK/haproxy.cfg"
  for i in 1 2 3; do
    if [ "$i" -le "$n" ]; then
      sed -i "s/127.0.0.1:800$i\$/127.0.0.1:$((PORT + i))/" "$WORK/haproxy.cfg"
    else
      sed -i "/127.0.0.1:800$i\$/d" "$WORK/haproxy.cfg"
    fi
  done
  haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
  HAPROXY_PID=$!
  for _ in $(seq 1 100); do
    # Its own answer, not another program's on the same port (BENCH_PORT).
    kill -0 "$HAPROXY_PID" 2>/dev/null || break
    if curl -fsS -o /dev/null "$BASE/readyz" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  cat "$WORK/haproxy.log" >&2
  die "HAProxy did not come up"
}

run_cluster() {
  local label="PostgreSQL, several processes" url i pid line r_one r_one_ha r_three
  NOISY=""
  # A database of its own: another stage's (or another checkout's bench)
  # may be using authtoken_bench.
  PG_DB=authtoken_bench_cluster
  psql "$PG_URL/postgres" -qAtc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1
  psql "$PG_URL/postgres" -qAtc "CREATE DATABASE $PG_DB" >/dev/null
  url="$PG_URL/$PG_DB"
  # The same pool per process as the PostgreSQL stage (2 a core): three
  # processes then hold three times the connections.
  export DATABASE_URL="$url" SECRET_KEY="$SECRET" BCRYPT_COST=12 RUST_LOG=warn
  export DATABASE_POOL_SIZE="${USER_POOL_SIZE:-$(( CORES * 2 > 4 ? CORES * 2 : 4 ))}"
  log "$label: migrating and seeding $SEED_USERS users"
  seed postgres "$url"
  for i in 1 2 3; do
    BIND="127.0.0.1:$((PORT + i))" TRUSTED_PROXIES=127.0.0.1 "$BIN" serve >"$WORK/server$i.log" 2>&1 &
    CLUSTER_PIDS+=($!)
  done
  for i in 1 2 3; do
    for _ in $(seq 1 200); do
      curl -fsS -o /dev/null "http://127.0.0.1:$((PORT + i))/readyz" 2>/dev/null && break
      sleep 0.1
    done
  done
  local warm_base="http://127.0.0.1:$((PORT + 1))"
  BASE="$warm_base" me_run cluster_warm 3 >/dev/null

  wait_idle "one process"
  r_one=$(BASE="$warm_base" me_run cluster_one "$DURATION")
  log "$label: me/, one process          $(show_plain "$r_one")"
  cluster_haproxy 1
  BASE="http://127.0.0.1:$PORT" me_run cluster_warm1 3 >/dev/null
  wait_idle "one behind HAProxy"
  r_one_ha=$(me_run cluster_one_ha "$DURATION")
  log "$label: me/, one behind HAProxy   $(show_plain "$r_one_ha")"
  cluster_haproxy 3
  me_run cluster_warm3 3 >/dev/null
  wait_idle "three behind HAProxy"
  r_three=$(me_run cluster_three "$DURATION")
  log "$label: me/, three behind HAProxy $(show_plain "$r_three")"
  stop_cluster
  psql "$PG_URL/postgres" -qAtc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null

  local block="$WORK/block-cluster.md" row
  row() {
    printf '| %s | %s | %s | %s | %s |\n' "$1" "$(fmt_rps "$(field "$2" 3)")" "$(field "$2" 4)" "$(field "$2" 5)" "$(field "$2" 6)"
  }
  {
    echo "<!-- bench:cluster -->"
    echo "## PostgreSQL, three processes behind HAProxy"
    echo
    echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n): $CORES cores, shared by PostgreSQL $(psql "$PG_URL/postgres" -qAtc 'SHOW server_version' 2>/dev/null | awk '{print $1}'), $(haproxy -v 2>/dev/null | head -1 | awk '{print $1, $3}'), wrk and every server process."
    echo "Commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown); \`bench/run.sh --cluster --duration $DURATION\`."
    echo "Each process: \`DATABASE_POOL_SIZE=$DATABASE_POOL_SIZE\`, $(setting WORKERS "$CORES"); HAProxy runs \`deploy/haproxy.cfg\` (round robin)."
    echo "GET /api/auth/me/ at $CONNECTIONS connections (\`wrk -t2\`) over $TOKEN_USERS keys, $SEED_USERS users, for ${DURATION} s each."
    echo
    echo "| stage | req/s | p50 ms | p99 ms | non-2xx |"
    echo "|---|---:|---:|---:|---:|"
    row "me/, one process, directly" "$r_one"
    row "me/, the same process behind HAProxy" "$r_one_ha"
    row "me/, three processes behind HAProxy" "$r_three"
    echo
    echo "Three processes ÷ one: $(ratio "$(field "$r_three" 3)" "$(field "$r_one" 3)"); one behind HAProxy ÷ one directly: $(ratio "$(field "$r_one_ha" 3)" "$(field "$r_one" 3)")."
    echo "On $CORES cores shared by everything, more processes add no cores: the figures show what HAProxy and the extra processes cost, not how the service scales on machines of its own."
    if [ -n "$NOISY" ]; then
      echo
      echo "Other work kept the machine busy before these stages, so their figures are less reliable: $NOISY."
    fi
    echo "<!-- /bench:cluster -->"
  } >"$block"
}
show_plain() {
  printf '%8.1f req/s  p50 %7.2f ms  p99 %8.2f ms  non-2xx %s' \
    "$(field "$1" 3)" "$(field "$1" 4)" "$(field "$1" 5)" "$(field "$1" 6)"
}

BLOCKS=()
for db in "${DATABASES[@]}"; do
  if [ "$db" = cluster ]; then run_cluster; BLOCKS+=(cluster)
  elif [ "$SEARCH_ONLY" = 1 ]; then run_search "$db"; BLOCKS+=("search-$db")
  else run_database "$db"; BLOCKS+=("$db"); fi
done
update_report
echo
log "summary (also in BENCHMARKS.md)"
for db in "${BLOCKS[@]}"; do echo; sed -e '/^<!--/d' "$WORK/block-$db.md"; done
