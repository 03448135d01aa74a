#!/usr/bin/env bash
# Same-sitting before/after benchmark of two Cognate builds on this machine.
#
# Each of --before DIR and --after DIR holds a `cognate` binary. For every round the script
# measures the no-work ceiling (`cognate-bench ceiling`), then starts each server in turn —
# before then after in odd rounds, after then before in even rounds, so neither build always
# runs first — on a free loopback port with a fresh temporary --data-dir and the raised
# per-user limits compare.sh gives Cognate, runs the resend, confirm-wrong and
# confirm-correct workloads against it (`cognate-bench run`, prepared users bulk-loaded with
# that build's own `cognate seed-users`) and stops it. At the end it prints a Markdown table:
# per workload the mean before and after rates, each as a % of the sitting's mean ceiling,
# after ÷ before, and the server's CPU time per request (the steadier figure); then the
# rounds one by one. The table goes to stdout (and --out), cognate-bench's lines to stderr.
# Rates on this shared VM move by up to ±30% between identical runs: read the ratios and the
# CPU per request rather than the absolute rates, and run once with --before and --after the
# same DIR to see the noise of an A/A comparison.
#
# The load generator is the before DIR's `cognate-bench` for every run (BENCH_BIN overrides),
# so both servers see the same client.
#
# Everything is bounded: loopback only, fixed duration per run, bounded preparation
# (--prep-seconds), a hard `timeout` around every cognate-bench call, servers started with a
# 60 s limit on coming up and killed on exit (TERM, then KILL after 10 s).
#
# Usage: bench/ab.sh --before DIR --after DIR [--duration S] [--rounds N] [--out FILE]
#                    [--connections N] [--prep-seconds S] [--workdir DIR]
#   --duration S (10)  --rounds N (1)  --connections N (64)  --prep-seconds S (120)
#   --out FILE: also write the Markdown there; --workdir DIR: where results.jsonl, the
#   servers' logs and the temporary data directories go (default: a new /tmp/cognate-ab.*).
# Environment: BENCH_BIN (the cognate-bench binary to use instead of BEFORE/cognate-bench).
set -euo pipefail

BEFORE=""
AFTER=""
DURATION=10
ROUNDS=1
OUT=""
CONNECTIONS=64
PREP_SECONDS=120
WORKDIR=""
RAISED_LIMIT=1000000000
WORKLOADS=resend,confirm-wrong,confirm-correct

while [ $# -gt 0 ]; do
  case "$1" in
    --before) BEFORE="$2"; shift 2 ;;
    --after) AFTER="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --prep-seconds) PREP_SECONDS="$2"; shift 2 ;;
    --workdir) WORKDIR="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^# Environment/p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

die() { echo "ab.sh: $*" >&2; exit 2; }
[ -n "$BEFORE" ] && [ -n "$AFTER" ] || die "--before DIR and --after DIR are required (see --help)"
[ -d "$BEFORE" ] || die "no directory $BEFORE"
[ -d "$AFTER" ] || die "no directory $AFTER"
BEFORE="$(cd "$BEFORE" && pwd)"
AFTER="$(cd "$AFTER" && pwd)"
[ -x "$BEFORE/cognate" ] || die "$BEFORE/cognate is missing or not executable"
[ -x "$AFTER/cognate" ] || die "$AFTER/cognate is missing or not executable"
BENCH="${BENCH_BIN:-$BEFORE/cognate-bench}"
[ -x "$BENCH" ] || die "$BENCH is missing or not executable (set BENCH_BIN)"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer"
[[ "$DURATION" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--duration must be a number of seconds"
[[ "$PREP_SECONDS" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--prep-seconds must be a number of seconds"
command -v python3 >/dev/null || die "python3 is needed for the table"

if [ -z "$WORKDIR" ]; then
  WORKDIR="$(mktemp -d /tmp/cognate-ab.XXXXXX)"
fi
mkdir -p "$WORKDIR"
WORKDIR="$(cd "$WORKDIR" && pwd)"
RESULTS="$WORKDIR/results.jsonl"  # every line, tagged with "round" and "side"
: > "$RESULTS"

# Hard bounds (seconds) on one cognate-bench call: the ceiling is one timed run; a flow run
# is three timed runs plus at most four bounded preparation steps per set of users (two sets).
secs() { python3 -c "import math,sys; print(math.ceil(float(sys.argv[1])))" "$1"; }
CEILING_LIMIT=$(( $(secs "$DURATION") + 60 ))
RUN_LIMIT=$(( 3 * $(secs "$DURATION") + 8 * $(secs "$PREP_SECONDS") + 120 ))

SERVER_PID=""   # the one server running, if any
DATA_DIR=""     # its temporary data directory
BENCH_PID=""    # the running `timeout … cognate-bench` (leader of its own process group)
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

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_port() { # wait_port PORT PID NAME
  for _ in $(seq 1 300); do
    kill -0 "$2" 2>/dev/null || { echo "$3 exited before listening on port $1" >&2; return 1; }
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "$3 did not start on port $1 within 60 s" >&2
  return 1
}

stop() { # stop PID: TERM, then KILL if it is still there after 10 s
  kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return 0; }
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.2
  done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

log() { echo "== $*" >&2; }

# bounded LIMIT CMD...: CMD under `timeout` (its own process group, so whatever it starts is
# killed with it), its stdout to stderr. Run in the background and waited for, so that an
# interrupt reaches the trap at once instead of after CMD ends.
bounded() {
  local limit="$1" rc=0; shift
  timeout --kill-after=10 "$limit" "$@" >&2 &
  BENCH_PID=$!
  wait "$BENCH_PID" || rc=$?
  BENCH_PID=""
  return "$rc"
}

# Other processes on the machine skew the figures: record the load average before each part.
LOADS=""
note_load() { LOADS="${LOADS}${LOADS:+; }$1 $(cut -d' ' -f1-3 /proc/loadavg)"; }

# tag ROUND SIDE FILE: append FILE's JSON lines to the results with the round and side.
tag() {
  python3 - "$1" "$2" "$3" "$RESULTS" <<'PY'
import json, sys
rnd, side, src, dst = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
with open(src) as f, open(dst, "a") as out:
    for line in f:
        if line.strip():
            v = json.loads(line)
            v["round"], v["side"] = rnd, side
            out.write(json.dumps(v) + "\n")
PY
}

COMMON=(--duration "$DURATION" --connections "$CONNECTIONS")
SERVE_FLAGS=(--resend-per-hour "$RAISED_LIMIT" --confirm-attempts-per-hour "$RAISED_LIMIT")
FAILED=()

# run_side ROUND SIDE DIR: one server, one cognate-bench run, server stopped.
run_side() {
  local round="$1" side="$2" dir="$3"
  local cognate="$dir/cognate"
  local port data raw slog cpid rc=0
  port="$(free_port)"
  data="$(mktemp -d "$WORKDIR/data-$side-$round.XXXXXX")"
  DATA_DIR="$data"
  raw="$WORKDIR/round$round-$side.jsonl"
  slog="$WORKDIR/round$round-$side.server.log"
  : > "$raw"
  note_load "r$round $side"
  log "round $round $side: $cognate serve --listen 127.0.0.1:$port --data-dir $data ${SERVE_FLAGS[*]}"
  COGNATE_LOG=warn "$cognate" serve --listen "127.0.0.1:$port" --data-dir "$data" "${SERVE_FLAGS[@]}" > "$slog" 2>&1 &
  cpid=$!; SERVER_PID="$cpid"
  if wait_port "$port" "$cpid" "cognate ($side)"; then
    bounded "$RUN_LIMIT" "$BENCH" run --name "$side" --endpoint "http://127.0.0.1:$port" \
      --code-source outbox --seed-bin "$cognate" --seed-data-dir "$data" --pid "$cpid" \
      --note "SQLite (WAL, synchronous=NORMAL), cognate serve ${SERVE_FLAGS[*]}" \
      --workloads "$WORKLOADS" --prep-seconds "$PREP_SECONDS" \
      "${COMMON[@]}" --json "$raw" || rc=$?
  else
    rc=1
  fi
  stop "$cpid"; SERVER_PID=""
  rm -rf "$data"; DATA_DIR=""
  if [ "$rc" != 0 ]; then
    log "round $round $side: failed (exit $rc); server log: $slog"
    FAILED+=("round $round $side (exit $rc)")
  fi
  tag "$round" "$side" "$raw"
}

log "before: $BEFORE/cognate; after: $AFTER/cognate; load generator: $BENCH"
log "results in $WORKDIR"
START=$(date +%s)
for round in $(seq 1 "$ROUNDS"); do
  note_load "r$round ceiling"
  log "round $round/$ROUNDS: ceiling (trivial axum endpoint)"
  raw="$WORKDIR/round$round-ceiling.jsonl"
  : > "$raw"
  bounded "$CEILING_LIMIT" "$BENCH" ceiling "${COMMON[@]}" --json "$raw" \
    || { log "round $round: ceiling failed"; FAILED+=("round $round ceiling"); }
  tag "$round" ceiling "$raw"
  if [ $((round % 2)) = 1 ]; then order=(before after); else order=(after before); fi
  for side in "${order[@]}"; do
    if [ "$side" = before ]; then run_side "$round" before "$BEFORE"; else run_side "$round" after "$AFTER"; fi
  done
done
ELAPSED=$(( $(date +%s) - START ))

# ---------------------------------------------------------------- the table
# (`cognate-bench table` shows one result per target and workload and one ceiling; the
# means over rounds and the % of the mean ceiling are computed here.)
short_sum() { sha256sum "$1" | cut -c1-12; }
{
  echo "## Before/after ($(date -u +%Y-%m-%d), $ROUNDS round(s), ${DURATION} s per run, ${CONNECTIONS} connections, ${ELAPSED} s in all)"
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB; $(uname -sr)."
  echo "Before: \`$BEFORE/cognate\` (sha256 $(short_sum "$BEFORE/cognate")); after: \`$AFTER/cognate\` (sha256 $(short_sum "$AFTER/cognate")); load generator \`$BENCH\` (sha256 $(short_sum "$BENCH"))."
  echo "Servers: \`cognate serve ${SERVE_FLAGS[*]}\` on a fresh SQLite --data-dir each run; order before, after in odd rounds and after, before in even ones."
  echo "Load average (1/5/15 min) before each part: $LOADS."
  echo
  python3 - "$RESULTS" "$WORKLOADS" <<'PY'
import json, sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
workloads = sys.argv[2].split(",")

def rate(o):
    s = o.get("seconds") or 0.0
    return o.get("expected", 0) / s if s > 0 else 0.0

def mean(xs):
    xs = list(xs)
    return sum(xs) / len(xs) if xs else None

def fmt(x):
    return "-" if x is None else f"{x:,.0f}"

def pct(x, c):
    return "-" if x is None or not c else f"{100 * x / c:.1f}%"

def ratio(a, b):
    return "-" if a is None or not b else f"{a / b:.3f}×"

ceilings = [rate(o) for o in rows if o.get("target") == "machine" and o.get("workload") == "ceiling"]
ceiling = mean(ceilings)
rounds = sorted({o["round"] for o in rows})

def runs(side, w):
    # Peak (closed-loop) runs only; keyed by round.
    return {o["round"]: o for o in rows
            if o.get("side") == side and o.get("workload") == w and o.get("mode") == "peak"}

print(f"Ceiling (trivial axum endpoint, same client): mean {fmt(ceiling)}/s over {len(ceilings)} run(s)"
      + (f" ({', '.join(fmt(c) + '/s' for c in ceilings)})" if len(ceilings) > 1 else "") + ".")
print()
def cpu_ms(o):
    cpu = o.get("server_cpu_s")
    return 1000 * cpu / o["requests"] if cpu is not None and o.get("requests") else None

def cpu_fmt(x):
    return "-" if x is None else f"{x:.3f}"

print("| Workload | before ok/s | before % of ceiling | after ok/s | after % of ceiling | after ÷ before | server CPU ms/req, before → after |")
print("|---|---|---|---|---|---|---|")
notes = []
for w in workloads:
    b, a = runs("before", w), runs("after", w)
    rb, ra = mean(rate(o) for o in b.values()), mean(rate(o) for o in a.values())
    cb = mean(x for x in map(cpu_ms, b.values()) if x is not None)
    ca = mean(x for x in map(cpu_ms, a.values()) if x is not None)
    print(f"| {w} | {fmt(rb)} | {pct(rb, ceiling)} | {fmt(ra)} | {pct(ra, ceiling)} | {ratio(ra, rb)} | {cpu_fmt(cb)} → {cpu_fmt(ca)} |")
    for side, rs in (("before", b), ("after", a)):
        for r, o in sorted(rs.items()):
            if o.get("unexpected", 0):
                kinds = "; ".join(f"{n}× {k}" for k, n in sorted(o.get("unexpected_kinds", {}).items(), key=lambda kv: -kv[1])[:3])
                notes.append(f"- round {r} {side} {w}: **{o['unexpected']} unexpected** ({kinds})")
        missing = [r for r in rounds if r not in rs]
        if missing:
            notes.append(f"- {side} {w}: no result in round(s) {', '.join(map(str, missing))}")

# The rounds one by one.
print()
print("| Round | ceiling ok/s | Workload | before ok/s · p50 / p99 ms · server CPU ms/req | after ok/s · p50 / p99 ms · server CPU ms/req | after ÷ before |")
print("|---|---|---|---|---|---|")
def cell(o):
    if o is None:
        return "-"
    p = lambda k: "-" if o.get(k) is None else f"{o[k]:.2f}"
    return f"{fmt(rate(o))} · {p('p50_ms')} / {p('p99_ms')} · {cpu_fmt(cpu_ms(o))}"
for r in rounds:
    c = mean(rate(o) for o in rows if o["round"] == r and o.get("workload") == "ceiling")
    for w in workloads:
        b, a = runs("before", w).get(r), runs("after", w).get(r)
        print(f"| {r} | {fmt(c)} | {w} | {cell(b)} | {cell(a)} | {ratio(a and rate(a), b and rate(b))} |")
if notes:
    print()
    print("Notes:")
    print("\n".join(notes))
PY
  if [ ${#FAILED[@]} -gt 0 ]; then
    echo
    echo "Failed parts: ${FAILED[*]} (see the logs in $WORKDIR)."
  fi
} > "$WORKDIR/ab.md"
if [ -n "$OUT" ]; then cp "$WORKDIR/ab.md" "$OUT"; fi
cat "$WORKDIR/ab.md"
log "results: $RESULTS; table: $WORKDIR/ab.md${OUT:+ and $OUT}; ${ELAPSED} s"
[ ${#FAILED[@]} = 0 ]
