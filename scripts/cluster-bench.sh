#!/usr/bin/env bash
# Two livemod nodes over one Redis on this machine (docs/SCALING.md): load
# goes to node A, decisions are watched on node B. Each cluster run is
# paired, in the same sitting, with the same run against one node alone,
# so that the figures compare. Prints throughput, latency and each
# process's CPU (cores). Needs redis-server on PATH. Everything (bench,
# nodes, Redis) shares this machine's cores.
#
#   scripts/cluster-bench.sh              # the three runs of issue 16, 10 s each
#   DURATION=20s ROUNDS=2 scripts/cluster-bench.sh
#   MIX=realistic scripts/cluster-bench.sh   # the audience (livemod bench --mix; default hard)
#   BIN=/tmp/base/livemod scripts/cluster-bench.sh   # another build (A/B); default: this tree's
#   RUNS="64 20k" ONE=0 scripts/cluster-bench.sh     # only these loads (64, 1, 20k), no one-node runs
#   PPROF=/tmp/prof scripts/cluster-bench.sh  # CPU profiles of A and B during each cluster run
#
# Besides cores, each run prints the CPU each process spent per decided
# message (µs/msg: A · B · Redis), which other work on the machine
# disturbs less than throughput does.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-1}
MIX=${MIX:-hard}
RUNS=${RUNS:-64 1 20k}
ONE=${ONE:-1}
PPROF=${PPROF:-}
TOKEN=cluster-bench-token-$$
work=$(mktemp -d)
bin=${BIN:-$work/livemod}
[ -n "${BIN:-}" ] || go build -o "$bin" ./cmd/livemod
[ -z "$PPROF" ] || mkdir -p "$PPROF"
conf=$work/livemod.yaml
# The bench's subscriber takes every decision: let it fall behind by half
# a second on a busy two-core machine (as scripts/perf.sh does).
printf 'fanout:\n  max_queue_bytes: 67108864\n' >"$conf"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

cputime() { awk '{print $14+$15}' "/proc/$1/stat"; }
waitup() { for _ in $(seq 100); do curl -sf "http://$1/healthz" >/dev/null && return; sleep 0.1; done; echo "no answer on $1" >&2; exit 1; }

# run NAME LOADADDR SUBADDR PIDS… -- BENCHFLAGS…
run() {
  local name=$1 load=$2 sub=$3; shift 3
  local ps=()
  while [ "$1" != "--" ]; do ps+=("$1"); shift; done
  shift
  local t0=() s0 s1
  for p in "${ps[@]}"; do t0+=("$(cputime "$p")"); done
  s0=$(date +%s.%N)
  local out profs=()
  if [ -n "$PPROF" ] && [ ${#ps[@]} -gt 1 ]; then
    local secs=${DURATION%s} tag
    tag=$(echo "$name" | tr -c 'a-zA-Z0-9\n' _)
    curl -sf -H "Authorization: Bearer $TOKEN" -o "$PPROF/$tag.a.pprof" "http://$load/debug/pprof/profile?seconds=$((secs - 2))" & profs+=($!)
    curl -sf -H "Authorization: Bearer $TOKEN" -o "$PPROF/$tag.b.pprof" "http://$sub/debug/pprof/profile?seconds=$((secs - 2))" & profs+=($!)
  fi
  out=$("$bin" bench --url "ws://$load" --sub-url "ws://$sub" --token "$TOKEN" --duration "$DURATION" --mix "$MIX" --quiet "$@" 2>&1)
  s1=$(date +%s.%N)
  local decided
  decided=$(echo "$out" | awk '/^  decided/ {print $2}')
  local cpu="" per="" i=0
  for p in "${ps[@]}"; do
    local t1
    t1=$(cputime "$p")
    cpu+=$(awk -v a="${t0[$i]}" -v b="$t1" -v x="$s0" -v y="$s1" 'BEGIN {printf " %.2f", (b-a)/100/(y-x)}')
    per+=$(awk -v a="${t0[$i]}" -v b="$t1" -v d="$decided" 'BEGIN {printf " %.2f", (d > 0 ? (b-a)*1e4/d : 0)}')
    i=$((i+1))
  done
  for p in "${profs[@]}"; do wait "$p" || true; done
  local per_pub=""
  if [ ${#ps[@]} -gt 1 ]; then # lines per PUBLISH from A to B, over A's life so far
    per_pub=$(curl -sf -H "Authorization: Bearer $TOKEN" "http://$load/metrics" |
      awk '/^livemod_broker_redis_sent_lines_total/ {l=$2} /^livemod_broker_redis_publishes_total/ {p=$2} END {if (p > 0) printf "  lines/PUBLISH %.1f", l/p}')
  fi
  local tput p50 p99 lost
  tput=$(echo "$out" | awk '/throughput/ {print $2}')
  p50=$(echo "$out" | awk '/latency p50/ {print $3}')
  p99=$(echo "$out" | awk '$1=="p99" {print $2}')
  lost=$(echo "$out" | awk '/^  sent/ {s=$2} /^  decided/ {d=$2} END {print s-d}')
  printf '%-34s %9s msgs/s  p50 %8s ms  p99 %8s ms  lost %s  cores:%s  µs/msg:%s%s\n' "$name" "$tput" "$p50" "$p99" "$lost" "$cpu" "$per" "$per_pub"
}

rport=$(port)
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly yes --appendfsync everysec \
  --dir "$work" --logfile "$work/redis.log" --daemonize no &
pids+=($!); rpid=$!
for _ in $(seq 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done

start() { # name addr [redis flags…]
  local name=$1 addr=$2; shift 2
  mkdir -p "$work/$name"
  local pp=()
  [ -z "$PPROF" ] || pp=(--pprof)
  "$bin" serve "${pp[@]}" --config "$conf" --listen "$addr" --data "$work/$name" --token "admin=$TOKEN" "$@" 2>>"$work/$name.log" &
  pids+=($!)
  waitup "$addr"
}
fresh() { # stop and start the three servers, empty
  for p in "${pids[@]:1}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pids=("$rpid")
  rm -rf "$work"/a "$work"/b "$work"/one
  redis-cli -p "$rport" flushall >/dev/null
  A=127.0.0.1:$(port); B=127.0.0.1:$(port); ONEADDR=127.0.0.1:$(port)
  start a "$A" --redis "redis://127.0.0.1:$rport/0" --node-id a; apid=${pids[-1]}
  start b "$B" --redis "redis://127.0.0.1:$rport/0" --node-id b; bpid=${pids[-1]}
  [ "$ONE" = 0 ] || { start one "$ONEADDR"; opid=${pids[-1]}; }
}
want() { [[ " $RUNS " == *" $1 "* ]]; }

echo "uptime: $(uptime)"
echo "mix: $MIX"
echo "cores listed: load A · watch B · Redis (cluster), or the one node"
for r in $(seq "$ROUNDS"); do
  if want 64; then
    fresh
    [ "$ONE" = 0 ] || run "one node, 64/frame"     "$ONEADDR" "$ONEADDR" "$opid" -- --conns 16 --batch 64
    run "A→B over Redis, 64/frame"                 "$A" "$B" "$apid" "$bpid" "$rpid" -- --conns 16 --batch 64
  fi
  if want 1; then
    fresh
    [ "$ONE" = 0 ] || run "one node, 1/frame"      "$ONEADDR" "$ONEADDR" "$opid" -- --conns 16
    run "A→B over Redis, 1/frame"                  "$A" "$B" "$apid" "$bpid" "$rpid" -- --conns 16
  fi
  if want 20k; then
    fresh
    [ "$ONE" = 0 ] || run "one node, 20k/s"        "$ONEADDR" "$ONEADDR" "$opid" -- --conns 16 --rate 20000
    run "A→B over Redis, 20k/s"                    "$A" "$B" "$apid" "$bpid" "$rpid" -- --conns 16 --rate 20000
  fi
done
echo "uptime: $(uptime)"
