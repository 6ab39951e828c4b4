#!/usr/bin/env bash
# The HTTP benchmark (README, "Benchmark"): the gateway against a hand-written baseline, under the
# same load, on throwaway PostgreSQL databases seeded with `crm-gateway seed`.
#
#   benches/run.sh                      # small: 1 000 customers × 10 interactions
#   BENCH_SCALE=full benches/run.sh     # 10 k, 200 k (20 000 × 10) and 1 M (100 000 × 10)
#
# Settings (environment): BENCH_SCALE=small|full, BENCH_DURATION (8s), BENCH_ROUNDS (3),
# BENCH_CONCURRENCY (16), BENCH_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres: the
# server the throwaway databases are created on), DATABASE_URL (benchmark this database instead,
# as it is: nothing is seeded or dropped), BENCH_OUT (target/bench/results.json),
# BENCH_GATEWAY_PORT (18080), BENCH_BASELINE_PORT (18090).
#
# Needs: cargo, psql, curl; `hey` is installed with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=${BENCH_SCALE:-small}
DURATION=${BENCH_DURATION:-8s}
ROUNDS=${BENCH_ROUNDS:-3}
CONCURRENCY=${BENCH_CONCURRENCY:-16}
ADMIN_URL=${BENCH_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
OUT=${BENCH_OUT:-target/bench/results.json}
GW_PORT=${BENCH_GATEWAY_PORT:-18080}
BASE_PORT=${BENCH_BASELINE_PORT:-18090}
GIVEN_URL=${DATABASE_URL:-}
WORK=target/bench/run.$$
BIN=${CARGO_TARGET_DIR:-target}/release/crm-gateway
BASELINE=${CARGO_TARGET_DIR:-target}/release/examples/baseline
SETTLE=11
export JWT_SECRET="bench-secret-$$-that-is-long-enough-for-hs256"
export RATE_LIMIT_ANONYMOUS=off RATE_LIMIT_CLIENT=off RATE_LIMIT_EMPLOYEE=off RATE_LIMIT_MANAGER=off
export SEED_DEMO=false RUST_LOG=${RUST_LOG:-warn}
unset DATABASE_URL

# Datasets as "label customers interactions-per".
case "$SCALE" in
  small) DATASETS=("10k 1000 10") ;;
  full) DATASETS=("10k 1000 10" "200k 20000 10" "1m 100000 10") ;;
  *) echo "BENCH_SCALE must be small or full" >&2; exit 2 ;;
esac
[ -n "$GIVEN_URL" ] && DATASETS=("given 0 0")

PIDS=()
DBS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for db in "${DBS[@]}"; do psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

log() { printf '%s\n' "$*" >&2; }

need_hey() {
  command -v hey >/dev/null && return
  log "installing hey (apt-get)…"
  apt-get update -qq && apt-get install -y -qq hey >/dev/null
}

# A database URL on the admin server with another database name.
url_for() { printf '%s/%s' "${ADMIN_URL%/*}" "$1"; }

# Runs one SQL query on `$1` and prints the bare result.
sql() { psql -qAtX "$1" -c "$2"; }

# Transactions committed or rolled back in database `$1` so far. An autocommit statement is one
# transaction, so for reads this counts SQL statements; a write's transaction counts once.
xacts() { sql "$ADMIN_URL" "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$1'"; }

wait_ready() {
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  log "not ready: $1"; return 1
}

# Writes the request body of operation `$1` with its placeholders filled in.
body() {
  sed -e "s/__CUSTOMER__/$2/" -e "s/__DEPARTMENT__/${3:-0}/" "benches/requests/$1.json" > "$WORK/$1.json"
  printf '%s' "$WORK/$1.json"
}

# Fails when an answer carries GraphQL errors or no data.
check_answer() {
  local answer
  answer=$(curl -sS -X POST -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" --data-binary "@$2" "$3")
  if [[ "$answer" != *'"data"'* || "$answer" == *'"errors"'* ]]; then
    log "$1 answered with an error: ${answer:0:400}"; return 1
  fi
}

# CPU time (utime + stime, clock ticks) of processes `$@`, summed, from /proc/<pid>/stat. The
# command name (field 2) may hold spaces, so fields are counted after its closing parenthesis.
cpu_ticks() {
  local pid total=0 line
  local -a f
  for pid in "$@"; do
    line=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
    read -ra f <<<"$line"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}

# The postmaster of the cluster at $ADMIN_URL: the parent of its checkpointer (a session's own
# backend would be gone by the time /proc is read).
postmaster_pid() {
  local child
  child=$(sql "$ADMIN_URL" "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")
  awk '/^PPid:/ { print $2 }' "/proc/$child/status" 2>/dev/null || true
}

# The postmaster's children that work for database `$1`: its background processes and the
# backends connected to `$1`, not backends of other databases on the same (shared) cluster. A
# backend's title is "postgres: <cluster>: <user> <database> <host> <state>".
pg_pids() {
  local db=$1 pid title
  for pid in $(awk -v pm="$POSTMASTER" '$4 == pm { print $1 }' /proc/[0-9]*/stat 2>/dev/null); do
    title=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
    set -- $title
    if [ $# -ge 5 ] && [[ "$5" == *'('* || "$5" == '[local]' ]] && [ "$4" != "$db" ]; then continue; fi
    echo "$pid"
  done
}

# One load phase: prints "rps p50_ms p99_ms requests sql_per_request server_cpu_ms pg_cpu_ms" (CPU
# per request, of the server process `$5` and of the cluster's processes for `$3`). With `$4`
# (seconds) it waits that long afterwards so the statement count is complete; without, it
# reports no count.
phase() {
  local file=$1 url=$2 db=$3 settle=${4:-0} server=$5 before after out srv0 srv1 pg0 pg1
  before=$(xacts "$db")
  srv0=$(cpu_ticks "$server"); pg0=$(cpu_ticks $(pg_pids "$db"))
  out=$(hey -z "$DURATION" -c "$CONCURRENCY" -m POST -T application/json \
    -H "Authorization: Bearer $TOKEN" -D "$file" "$url")
  # Backends that start during the phase count whole (they were absent before); the pool keeps
  # them, so none ends before the second reading.
  srv1=$(cpu_ticks "$server"); pg1=$(cpu_ticks $(pg_pids "$db"))
  sleep "$settle"
  after=$(xacts "$db")
  [ "$settle" -gt 0 ] || after=-1
  printf '%s\n' "$out" | awk -v d=$((after - before)) -v counted="$settle" \
    -v srv=$((srv1 - srv0)) -v pg=$((pg1 - pg0)) -v hz="$CLK_TCK" '
    BEGIN { p99 = "null" } # hey leaves out a percentile it has too few requests for
    /Requests\/sec:/ { rps = $2 }
    /50% in/ { p50 = $3 * 1000 }
    /99% in/ { p99 = $3 * 1000 }
    /^ *\[[0-9]+\]/ { n += $2; if ($1 != "[200]") bad += $2 }
    END { if (bad > 0) { print "non-200 answers: " bad > "/dev/stderr" }
          spr = (counted > 0 && n ? sprintf("%.2f", d / n) : "null")
          if (p99 != "null") p99 = sprintf("%.2f", p99)
          ms = 1000 / hz
          printf "%.1f %.2f %s %d %s %.3f %.3f\n", rps, p50, p99, n, spr, \
            (n ? srv * ms / n : 0), (n ? pg * ms / n : 0) }'
}

# Median of the numbers on stdin ("null" when there are none).
median() {
  grep -v null | sort -g | awk '{ v[NR] = $1 }
    END { print (NR == 0 ? "null" : NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# Benchmarks one dataset; appends its JSON object to $WORK/results and its table to $WORK/table.
bench_dataset() {
  local label=$1 customers=$2 per=$3 db url seed_secs
  if [ -n "$GIVEN_URL" ]; then
    url=$GIVEN_URL; db=${url##*/}; db=${db%%\?*}; seed_secs=0
  else
    db="crm_bench_$$_$label"; url=$(url_for "$db")
    sql "$ADMIN_URL" "CREATE DATABASE $db" >/dev/null
    DBS+=("$db")
    log "[$label] seeding $customers customers × $per interactions…"
    local started=$SECONDS
    "$BIN" --database-url "$url" seed --customers "$customers" --interactions-per "$per" >&2
    seed_secs=$((SECONDS - started))
  fi
  local interactions employee last dept
  interactions=$(sql "$url" "SELECT count(*) FROM interaction")
  employee=$(sql "$url" "SELECT id FROM customer WHERE email = 'noah.berg@northwind.example'")
  last=$(sql "$url" "SELECT max(id) FROM customer WHERE kind = 'EXTERNAL'")
  dept=$(sql "$url" "SELECT id FROM department WHERE name = 'Customer Care'")
  TOKEN=$("$BIN" --database-url "$url" token --role employee --sub "$employee" --ttl 2h)

  DATABASE_URL=$url LISTEN_ADDR=127.0.0.1:$GW_PORT "$BIN" >"$WORK/gateway.$label.log" 2>&1 &
  local gw=$!; PIDS+=("$gw")
  DATABASE_URL=$url "$BASELINE" --port "$BASE_PORT" >"$WORK/baseline.$label.log" 2>&1 &
  local base=$!; PIDS+=("$base")
  wait_ready "http://127.0.0.1:$GW_PORT/ready"
  local gql="http://127.0.0.1:$GW_PORT/graphql" floor="http://127.0.0.1:$BASE_PORT/graphql"
  until curl -s -o /dev/null -X POST "$floor"; do sleep 0.2; done

  # Operation name, request body, endpoint; the timeline reads the last customer, the writes go
  # to the one before it, so no write shows up in a read.
  local -a ops=(
    "nested_gateway $(body nested 0) $gql $gw"
    "nested_baseline $WORK/nested.json $floor $base"
    "search $(body search 0) $gql $gw"
    "search_page $(body search_page 0) $gql $gw"
    "timeline $(body timeline "$last") $gql $gw"
    "log_interaction $(body log $((last - 1)) "$dept") $gql $gw"
  )
  for op in "${ops[@]}"; do
    set -- $op
    [ "$1" = nested_baseline ] || check_answer "$1" "$2" "$3"
  done
  log "[$label] CPU read from /proc: gateway pid $gw ($(tr '\0' ' ' <"/proc/$gw/cmdline" | cut -c1-60)), baseline pid $base, postmaster pid $POSTMASTER; PostgreSQL pids for $db now: $(pg_pids "$db" | paste -sd' ')"
  # PostgreSQL publishes a busy session's statistics up to 10 s after it goes idle, so the
  # first round waits that out around each phase and is the one that counts statements.
  sleep "$SETTLE"
  for round in $(seq 1 "$ROUNDS"); do
    local settle=0
    [ "$round" = 1 ] && settle=$SETTLE
    for op in "${ops[@]}"; do
      set -- $op
      log "[$label] round $round/$ROUNDS: $1"
      echo "$1 $(phase "$2" "$3" "$db" "$settle" "$4")" >>"$WORK/raw.$label"
    done
  done
  local hwm
  hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$gw/status")
  kill "$gw" "$base"; wait "$gw" "$base" 2>/dev/null || true
  summarise "$label" "$interactions" "$seed_secs" "$hwm"
}

# Medians over the rounds: a table block and a JSON object per dataset.
summarise() {
  local label=$1 interactions=$2 seed_secs=$3 hwm=$4 raw="$WORK/raw.$1" first=1 op
  local gw_p50 base_p50 gw_rps base_rps
  gw_p50=$(awk '$1 == "nested_gateway" { print $3 }' "$raw" | median)
  base_p50=$(awk '$1 == "nested_baseline" { print $3 }' "$raw" | median)
  gw_rps=$(awk '$1 == "nested_gateway" { print $2 }' "$raw" | median)
  base_rps=$(awk '$1 == "nested_baseline" { print $2 }' "$raw" | median)
  {
    printf '\n%s: %s interactions (seeded in %s s), concurrency %s, %s × %s rounds, medians\n' \
      "$label" "$interactions" "$seed_secs" "$CONCURRENCY" "$DURATION" "$ROUNDS"
    printf '%-18s %10s %9s %9s %8s %11s %10s\n' operation req/s p50_ms p99_ms sql/req srv_cpu_ms pg_cpu_ms
  } >>"$WORK/table"
  local spr_note="sql/req: PostgreSQL transactions per request in round 1 (one per autocommit statement; a write's transaction counts once)
srv_cpu_ms, pg_cpu_ms: CPU (user + system) per request of the server process (the gateway; the baseline for nested_baseline) and of the PostgreSQL processes for this database (its backends and the cluster's background processes), from /proc"
  printf '{"dataset":"%s","interactions":%s,"seed_seconds":%s,"gateway_peak_rss_kb":%s,"operations":{' \
    "$label" "$interactions" "$seed_secs" "${hwm:-0}" >>"$WORK/results"
  for op in nested_gateway nested_baseline search search_page timeline log_interaction; do
    local rps p50 p99 spr rounds srv pg
    rps=$(awk -v o=$op '$1 == o { print $2 }' "$raw" | median)
    p50=$(awk -v o=$op '$1 == o { print $3 }' "$raw" | median)
    p99=$(awk -v o=$op '$1 == o { print $4 }' "$raw" | median)
    spr=$(awk -v o=$op '$1 == o && $6 != "null" { print $6 }' "$raw" | head -n 1)
    spr=${spr:-null}
    srv=$(awk -v o=$op '$1 == o { print $7 }' "$raw" | median)
    pg=$(awk -v o=$op '$1 == o { print $8 }' "$raw" | median)
    rounds=$(awk -v o=$op '$1 == o { printf "%s{\"rps\":%s,\"p50_ms\":%s,\"p99_ms\":%s,\"requests\":%s,\"sql_per_request\":%s,\"server_cpu_ms_per_request\":%s,\"pg_cpu_ms_per_request\":%s}", (n++ ? "," : ""), $2, $3, $4, $5, $6, $7, $8 }' "$raw")
    printf '%-18s %10s %9s %9s %8s %11s %10s\n' "$op" "$rps" "$p50" "$p99" "$spr" "$srv" "$pg" >>"$WORK/table"
    [ $first = 1 ] || printf ',' >>"$WORK/results"; first=0
    printf '"%s":{"rps":%s,"p50_ms":%s,"p99_ms":%s,"sql_per_request":%s,"server_cpu_ms_per_request":%s,"pg_cpu_ms_per_request":%s,"rounds":[%s]}' \
      "$op" "$rps" "$p50" "$p99" "$spr" "$srv" "$pg" "$rounds" >>"$WORK/results"
  done
  local ratio throughput
  ratio=$(awk -v g="$gw_p50" -v b="$base_p50" 'BEGIN { printf "%.2f", (b > 0 ? g / b : 0) }')
  throughput=$(awk -v g="$gw_rps" -v b="$base_rps" 'BEGIN { printf "%.2f", (b > 0 ? g / b : 0) }')
  printf '},"nested_p50_gateway_over_baseline":%s,"nested_rps_gateway_over_baseline":%s}\n' \
    "$ratio" "$throughput" >>"$WORK/results"
  printf '%s\nnested read, gateway ÷ baseline: throughput %s×, p50 %s×; gateway peak RSS (VmHWM): %s MB\n' \
    "$spr_note" "$throughput" "$ratio" "$(( ${hwm:-0} / 1024 ))" >>"$WORK/table"
  echo "$label $interactions $gw_p50" >>"$WORK/scale"
}

main() {
  mkdir -p "$WORK" "$(dirname "$OUT")"
  need_hey
  CLK_TCK=$(getconf CLK_TCK)
  POSTMASTER=$(postmaster_pid)
  [ -n "$POSTMASTER" ] && [ -r "/proc/$POSTMASTER/stat" ] || {
    log "cannot find the postmaster of $ADMIN_URL in /proc (the benchmark reads PostgreSQL's CPU there: run it on the database's machine)"; exit 1; }
  log "building (release)…"
  cargo build --release --bin crm-gateway --example baseline >&2
  # Run copies: the target directory may be shared, and another build can replace the binaries
  # while the benchmark runs.
  cp "$BIN" "$WORK/crm-gateway"; cp "$BASELINE" "$WORK/baseline"
  BIN=$WORK/crm-gateway BASELINE=$WORK/baseline
  for dataset in "${DATASETS[@]}"; do
    bench_dataset $dataset
  done
  local scale=""
  if [ "$(wc -l <"$WORK/scale")" -gt 1 ]; then
    read -r small_label small_n small_p50 < <(head -n 1 "$WORK/scale")
    read -r big_label big_n big_p50 < <(tail -n 1 "$WORK/scale")
    local growth
    growth=$(awk -v a="$small_p50" -v b="$big_p50" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')
    printf '\nnested read p50 (gateway): %s ms at %s interactions, %s ms at %s: ×%s\n' \
      "$small_p50" "$small_n" "$big_p50" "$big_n" "$growth" >>"$WORK/table"
    scale=",\"nested_scale\":{\"small_interactions\":$small_n,\"small_p50_ms\":$small_p50,\"large_interactions\":$big_n,\"large_p50_ms\":$big_p50,\"ratio\":$growth}"
  fi
  {
    printf '{"date":"%s","machine":{"cores":%s,"kernel":"%s"},"scale":"%s","duration":"%s","rounds":%s,"concurrency":%s,"datasets":[' \
      "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$(uname -r)" "$SCALE" "$DURATION" "$ROUNDS" "$CONCURRENCY"
    paste -sd, "$WORK/results"
    printf ']%s}\n' "$scale"
  } >"$OUT"
  cat "$WORK/table"
  printf '\nresults: %s\n' "$OUT"
}

main
