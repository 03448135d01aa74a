#!/usr/bin/env bash
# The sign-in workloads beside their bounds, in one sitting on this machine.
#
# In order: the bounds (`cognate-bench bounds`: Argon2id verification, the server's SRP
# big-number work, two RS256 signatures, each on one thread per core) and the no-work ceiling
# (`cognate-bench ceiling`); then a release `cognate serve` on a fresh SQLite --data-dir on a
# free loopback port, and `cognate-bench run --workloads
# signin-password,signin-srp,refresh,get-user` against it (confirmed users seeded with the
# build's own `cognate seed-users`, SRP users signed up through the API, tokens from untimed
# sign-ins); the server is stopped; then the ceiling and the bounds again. Each bound in the
# table is the mean of its two runs, since the rate of the same work alone moves on a shared
# VM. Prints a Markdown table (and writes it to --out): per workload the rate, p50/p99, the
# server's and the load generator's CPU per request, the bound, the % of it and the target.
#
# Everything is bounded: loopback only, fixed durations, a hard `timeout` around every
# cognate-bench call, the server killed on exit (TERM, then KILL after 10 s).
#
# Usage: crates/cognate-bench/signin.sh [--cognate-bin PATH] [--bench-bin PATH] [--duration S]
#                        [--connections N] [--out FILE] [--workdir DIR]
#   --cognate-bin (target/release/cognate)  --bench-bin (target/release/cognate-bench)
#   --duration S (10)  --connections N (64)
#   --workdir DIR: results.jsonl and the server's log (default: a new /tmp/cognate-signin.*)
set -euo pipefail

COGNATE=target/release/cognate
BENCH=target/release/cognate-bench
DURATION=10
CONNECTIONS=64
OUT=""
WORKDIR=""
WORKLOADS=signin-password,signin-srp,refresh,get-user

while [ $# -gt 0 ]; do
  case "$1" in
    --cognate-bin) COGNATE="$2"; shift 2 ;;
    --bench-bin) BENCH="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --workdir) WORKDIR="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

die() { echo "signin.sh: $*" >&2; exit 2; }
[ -x "$COGNATE" ] || die "$COGNATE is missing or not executable"
[ -x "$BENCH" ] || die "$BENCH is missing or not executable"
[[ "$DURATION" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--duration must be a number of seconds"
command -v python3 >/dev/null || die "python3 is needed to find a free port"

if [ -z "$WORKDIR" ]; then WORKDIR="$(mktemp -d /tmp/cognate-signin.XXXXXX)"; fi
mkdir -p "$WORKDIR"
WORKDIR="$(cd "$WORKDIR" && pwd)"
RESULTS="$WORKDIR/results.jsonl"
: > "$RESULTS"
SECS=$(python3 -c "import math,sys; print(math.ceil(float(sys.argv[1])))" "$DURATION")
BOUNDS_LIMIT=$(( 3 * SECS + 120 ))
CEILING_LIMIT=$(( SECS + 60 ))
# Four timed runs plus preparation: seeding, SRP sign-ups (Argon2id each), sign-ins.
RUN_LIMIT=$(( 4 * SECS + 600 ))

SERVER_PID=""
DATA_DIR=""
BENCH_PID=""
cleanup() {
  if [ -n "$BENCH_PID" ]; then
    kill -TERM -- "-$BENCH_PID" 2>/dev/null || true
    wait "$BENCH_PID" 2>/dev/null || true
  fi
  if [ -n "$SERVER_PID" ]; then stop "$SERVER_PID"; fi
  if [ -n "$DATA_DIR" ]; then rm -rf "$DATA_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stop() { # TERM, then KILL if still there after 10 s
  kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return 0; }
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.2
  done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

bounded() { # bounded LIMIT CMD...: CMD under `timeout`, its stdout to stderr
  local limit="$1" rc=0; shift
  timeout --kill-after=10 "$limit" "$@" >&2 &
  BENCH_PID=$!
  wait "$BENCH_PID" || rc=$?
  BENCH_PID=""
  return "$rc"
}

LOADS=""
note_load() { LOADS="${LOADS}${LOADS:+; }$1 $(cut -d' ' -f1-3 /proc/loadavg)"; }
log() { echo "== $*" >&2; }
COMMON=(--duration "$DURATION" --json "$RESULTS")
START=$(date +%s)

note_load "bounds (before)"
log "bounds (before)"
bounded "$BOUNDS_LIMIT" "$BENCH" bounds "${COMMON[@]}"
note_load "ceiling (before)"
log "ceiling (before)"
bounded "$CEILING_LIMIT" "$BENCH" ceiling --connections "$CONNECTIONS" "${COMMON[@]}"

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
DATA_DIR="$(mktemp -d "$WORKDIR/data.XXXXXX")"
SERVE_FLAGS=(--resend-per-hour 1000000000 --confirm-attempts-per-hour 1000000000)
log "$COGNATE serve --listen 127.0.0.1:$PORT --data-dir $DATA_DIR ${SERVE_FLAGS[*]}"
COGNATE_LOG=warn "$COGNATE" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA_DIR" "${SERVE_FLAGS[@]}" \
  > "$WORKDIR/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
  kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited; see $WORKDIR/server.log"
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  sleep 0.2
done
note_load "cognate"
log "sign-in workloads"
RC=0
bounded "$RUN_LIMIT" "$BENCH" run --endpoint "http://127.0.0.1:$PORT" --name cognate \
  --seed-bin "$COGNATE" --seed-data-dir "$DATA_DIR" --pid "$SERVER_PID" \
  --note "SQLite (WAL, synchronous=NORMAL), cognate serve ${SERVE_FLAGS[*]}" \
  --workloads "$WORKLOADS" --connections "$CONNECTIONS" "${COMMON[@]}" || RC=$?
stop "$SERVER_PID"; SERVER_PID=""
rm -rf "$DATA_DIR"; DATA_DIR=""
[ "$RC" = 0 ] || log "the sign-in run failed (exit $RC); server log: $WORKDIR/server.log"

note_load "ceiling (after)"
log "ceiling (after)"
bounded "$CEILING_LIMIT" "$BENCH" ceiling --connections "$CONNECTIONS" "${COMMON[@]}"
note_load "bounds (after)"
log "bounds (after)"
bounded "$BOUNDS_LIMIT" "$BENCH" bounds "${COMMON[@]}"
ELAPSED=$(( $(date +%s) - START ))

short_sum() { sha256sum "$1" | cut -c1-12; }
{
  echo "## Sign-in workloads and their bounds ($(date -u +%Y-%m-%d), ${DURATION} s per run, ${CONNECTIONS} connections, ${ELAPSED} s in all)"
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB; $(uname -sr)."
  echo "Server: \`$COGNATE\` (sha256 $(short_sum "$COGNATE")) on a fresh SQLite --data-dir; load generator \`$BENCH\` (sha256 $(short_sum "$BENCH"))."
  echo "Load average (1/5/15 min) before each part: $LOADS."
  echo
  "$BENCH" table --signin --input "$RESULTS"
} > "$WORKDIR/signin.md"
if [ -n "$OUT" ]; then cp "$WORKDIR/signin.md" "$OUT"; fi
cat "$WORKDIR/signin.md"
log "results: $RESULTS; table: $WORKDIR/signin.md${OUT:+ and $OUT}; ${ELAPSED} s"
[ "$RC" = 0 ]
