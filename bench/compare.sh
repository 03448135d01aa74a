#!/usr/bin/env bash
# Side-by-side benchmark of Cognate and other Cognito user-pools emulators on this machine.
#
# Installs moto (moto[server], PyPI, in a venv) and cognito-local (npm) — and, with
# --fakecloud, fakecloud (cargo install; compiles for a long while) — into a temporary
# prefix, starts each on a loopback port, runs the same cognate-bench workloads against each
# and against Cognate (release build, SQLite, durable), plus the no-work ceiling and the
# Argon2id rate, and writes a Markdown table with ratios to stdout and to --out.
#
# Everything is bounded: loopback only, fixed duration per run (--duration, default 10 s;
# each peer runs sign-up, resend, confirm-wrong and confirm-correct, the last three twice
# with --half-rate), bounded preparation (--prep-seconds).
#
# Usage: bench/compare.sh [--duration S] [--connections N] [--prefix DIR] [--out FILE]
#                         [--peers moto,cognito-local] [--fakecloud] [--no-half-rate]
#                         [--skip-build] [--keep] [--prep-seconds S]
# Environment: COGNATE_BIN, BENCH_BIN (binaries to use instead of target/release/…).
set -euo pipefail

DURATION=10
CONNECTIONS=64
PREFIX=""
OUT=""
PEERS="moto,cognito-local"
FAKECLOUD=0
HALF_RATE="--half-rate"
SKIP_BUILD=0
KEEP=0
PREP_SECONDS=120
RAISED_LIMIT=1000000000
CL_CODE=123456

while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --prefix) PREFIX="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --peers) PEERS="$2"; shift 2 ;;
    --fakecloud) FAKECLOUD=1; shift ;;
    --no-half-rate) HALF_RATE=""; shift ;;
    --skip-build) SKIP_BUILD=1; shift ;;
    --keep) KEEP=1; shift ;;
    --prep-seconds) PREP_SECONDS="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
if [ -z "$PREFIX" ]; then
  PREFIX="$(mktemp -d /tmp/cognate-compare.XXXXXX)"
fi
mkdir -p "$PREFIX"
RESULTS="$PREFIX/results.jsonl"
: > "$RESULTS"
[ -n "$OUT" ] || OUT="$PREFIX/compare.md"
# COGNATE_BIN / BENCH_BIN override the binaries (e.g. copies that a concurrent build won't replace).
BENCH="${BENCH_BIN:-$ROOT/target/release/cognate-bench}"
COGNATE="${COGNATE_BIN:-$ROOT/target/release/cognate}"

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "$KEEP" = 0 ]; then rm -rf "$PREFIX/cognate-data" "$PREFIX/cognito-local-data"; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_port() { # wait_port PORT NAME
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "$2 did not start on port $1" >&2
  return 1
}

stop() { # stop PID
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

log() { echo "== $*" >&2; }

# Other processes on the machine skew the figures: record the load average before each part.
LOADS=""
note_load() { LOADS="${LOADS}${LOADS:+; }$1 $(cut -d' ' -f1-3 /proc/loadavg)"; }

has_peer() { [[ ",$PEERS," == *",$1,"* ]]; }

# ---------------------------------------------------------------- build and install
if [ "$SKIP_BUILD" = 0 ]; then
  log "building Cognate and cognate-bench (release)"
  cargo build --release -p cognate -p cognate-bench >&2
fi

if has_peer moto; then
  if [ ! -x "$PREFIX/moto-venv/bin/moto_server" ]; then
    log "installing moto[server] into $PREFIX/moto-venv"
    python3 -m venv "$PREFIX/moto-venv"
    "$PREFIX/moto-venv/bin/pip" install -q 'moto[server]' >&2
  fi
  MOTO_VERSION="$("$PREFIX/moto-venv/bin/python" -c 'import moto; print(moto.__version__)')"
fi
if has_peer cognito-local; then
  if [ ! -x "$PREFIX/npm/node_modules/.bin/cognito-local" ]; then
    log "installing cognito-local into $PREFIX/npm"
    mkdir -p "$PREFIX/npm"
    npm install --silent --prefix "$PREFIX/npm" cognito-local >&2
  fi
  CL_VERSION="$(node -p "require('$PREFIX/npm/node_modules/cognito-local/package.json').version")"
fi
if [ "$FAKECLOUD" = 1 ]; then
  if [ ! -x "$PREFIX/fakecloud/bin/fakecloud" ]; then
    log "installing fakecloud (cargo install; this compiles for a long while)"
    cargo install --locked --root "$PREFIX/fakecloud" fakecloud >&2
  fi
  FAKECLOUD_VERSION="$("$PREFIX/fakecloud/bin/fakecloud" --version 2>/dev/null | sed "s/^fakecloud //" || echo unknown)"
fi

COMMON=(--duration "$DURATION" --connections "$CONNECTIONS" --json "$RESULTS")
FLOW=(--prep-seconds "$PREP_SECONDS" $HALF_RATE)

# ---------------------------------------------------------------- machine references
note_load "ceiling"
log "ceiling: trivial axum endpoint"
"$BENCH" ceiling "${COMMON[@]}"
log "argon2id alone, and Argon2id + SRP verifier (what SignUp computes)"
"$BENCH" argon2 --duration "$DURATION" --json "$RESULTS"

# ---------------------------------------------------------------- Cognate
note_load "cognate"
PORT="$(free_port)"
DATA="$PREFIX/cognate-data"
rm -rf "$DATA"; mkdir -p "$DATA"
SERVE_FLAGS=(--resend-per-hour "$RAISED_LIMIT" --confirm-attempts-per-hour "$RAISED_LIMIT")
log "cognate serve --listen 127.0.0.1:$PORT --data-dir $DATA ${SERVE_FLAGS[*]}"
COGNATE_LOG=warn "$COGNATE" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" "${SERVE_FLAGS[@]}" > "$PREFIX/cognate.log" 2>&1 &
CPID=$!; PIDS+=("$CPID")
wait_port "$PORT" cognate
"$BENCH" ceiling --endpoint "http://127.0.0.1:$PORT" --path /health "${COMMON[@]}"
"$BENCH" run --name cognate --endpoint "http://127.0.0.1:$PORT" --code-source outbox \
  --seed-bin "$COGNATE" --seed-data-dir "$DATA" --pid "$CPID" \
  --note "SQLite (WAL, synchronous=NORMAL), cognate serve ${SERVE_FLAGS[*]}" \
  "${FLOW[@]}" "${COMMON[@]}"
stop "$CPID"
# Argon2id alone moves by ±10% within minutes here; the table compares SignUp with the mean
# of the runs before and after Cognate's.
log "argon2id alone again, after Cognate's runs"
"$BENCH" argon2 --argon2id-only --duration "$DURATION" --json "$RESULTS"

# ---------------------------------------------------------------- moto
if has_peer moto; then
  note_load "moto"
  PORT="$(free_port)"
  log "moto_server $MOTO_VERSION on 127.0.0.1:$PORT"
  "$PREFIX/moto-venv/bin/moto_server" -H 127.0.0.1 -p "$PORT" > "$PREFIX/moto.log" 2>&1 &
  MPID=$!; PIDS+=("$MPID")
  wait_port "$PORT" moto
  "$BENCH" run --name moto --endpoint "http://127.0.0.1:$PORT" --code-source any --pid "$MPID" \
    --note "moto $MOTO_VERSION server mode (in memory; closes the connection after every response)" \
    "${FLOW[@]}" "${COMMON[@]}" || log "moto run failed"
  stop "$MPID"
fi

# ---------------------------------------------------------------- cognito-local
if has_peer cognito-local; then
  note_load "cognito-local"
  PORT="$(free_port)"
  CLDIR="$PREFIX/cognito-local-data"
  rm -rf "$CLDIR"; mkdir -p "$CLDIR"
  log "cognito-local $CL_VERSION on 127.0.0.1:$PORT (CODE=$CL_CODE)"
  (cd "$CLDIR" && exec env PORT="$PORT" HOST=127.0.0.1 CODE="$CL_CODE" "$PREFIX/npm/node_modules/.bin/cognito-local" > "$PREFIX/cognito-local.log" 2>&1) &
  LPID=$!; PIDS+=("$LPID")
  wait_port "$PORT" cognito-local
  "$BENCH" run --name cognito-local --endpoint "http://127.0.0.1:$PORT" --code-source "fixed=$CL_CODE" --pid "$LPID" \
    --note "cognito-local $CL_VERSION (JSON files under .cognito/db)" \
    "${FLOW[@]}" "${COMMON[@]}" || log "cognito-local run failed"
  stop "$LPID"
fi

# ---------------------------------------------------------------- fakecloud (optional)
if [ "$FAKECLOUD" = 1 ]; then
  note_load "fakecloud"
  PORT="$(free_port)"
  log "fakecloud $FAKECLOUD_VERSION on 127.0.0.1:$PORT"
  "$PREFIX/fakecloud/bin/fakecloud" --addr "127.0.0.1:$PORT" > "$PREFIX/fakecloud.log" 2>&1 &
  FPID=$!; PIDS+=("$FPID")
  wait_port "$PORT" fakecloud
  "$BENCH" run --name fakecloud --endpoint "http://127.0.0.1:$PORT" --code-source fakecloud --pid "$FPID" \
    --note "fakecloud $FAKECLOUD_VERSION (in memory)" \
    "${FLOW[@]}" "${COMMON[@]}" || log "fakecloud run failed"
  stop "$FPID"
fi

# ---------------------------------------------------------------- the table
{
  echo "## Side by side ($(date -u +%Y-%m-%d), ${DURATION} s per run, ${CONNECTIONS} connections)"
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB; $(uname -sr)."
  echo "Versions: cognate $(git -C "$ROOT" rev-parse --short HEAD), $(rustc --version)${MOTO_VERSION:+, moto $MOTO_VERSION (Python $(python3 -c 'import platform; print(platform.python_version())'))}${CL_VERSION:+, cognito-local $CL_VERSION (Node $(node --version))}${FAKECLOUD_VERSION:+, fakecloud $FAKECLOUD_VERSION}."
  echo "Load average (1/5/15 min) before each part: $LOADS."
  echo
  "$BENCH" table --input "$RESULTS" --baseline cognate
} > "$OUT"
cat "$OUT"
log "results: $RESULTS; table: $OUT"
