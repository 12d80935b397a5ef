#!/usr/bin/env bash
# Reproduces the figures in docs/PERFORMANCE.md: builds livemod, starts a
# server, and runs livemod bench against it in the configurations the
# performance issue names, printing throughput, latency and the server's
# CPU (cores) for each. Server and bench share this machine's cores.
#
#   scripts/perf.sh            # all runs, 10 s each
#   DURATION=20s scripts/perf.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
ADDR=127.0.0.1:18099
TOKEN=perf-admin-token-$$
bin=$(mktemp -d)/livemod
data=$(mktemp -d)
go build -o "$bin" ./cmd/livemod
# The bench's subscriber takes every decision: ~140 MB/s at 300,000
# msgs/s. The default queue a subscriber may fall behind by (8 MiB, for
# moderator consoles) is under 60 ms of that, and a busy two-core machine
# can starve the bench's reader that long: give it half a second.
conf=$(mktemp --suffix=.yaml)
printf 'fanout:\n  max_queue_bytes: 67108864\n' >"$conf"

run() { # name, bench flags…
  local name=$1; shift
  rm -rf "$data"/*
  "$bin" serve --config "$conf" --listen $ADDR --data "$data" --token admin=$TOKEN 2>/dev/null &
  local pid=$!
  for _ in $(seq 50); do curl -sf http://$ADDR/healthz >/dev/null && break; sleep 0.1; done
  local t0; t0=$(awk '{print $14+$15}' /proc/$pid/stat)
  local s0; s0=$(date +%s.%N)
  local TIMEFORMAT='%U %S' bt
  bt=$( { time "$bin" bench --url ws://$ADDR --token $TOKEN --duration "$DURATION" --json "$@" >"$data.out" 2>/dev/null; } 2>&1 )
  local out; out=$(cat "$data.out"); rm -f "$data.out"
  local t1; t1=$(awk '{print $14+$15}' /proc/$pid/stat)
  local s1; s1=$(date +%s.%N)
  local ingested; ingested=$(curl -s -H "Authorization: Bearer $TOKEN" http://$ADDR/metrics | awk '/^livemod_ingest_messages_total/ {print $2}')
  kill $pid; wait $pid 2>/dev/null || true
  local cpu; cpu=$(awk -v a="$t0" -v b="$t1" -v x="$s0" -v y="$s1" 'BEGIN {printf "%.2f", (b-a)/100/(y-x)}')
  local bcpu; bcpu=$(echo "$bt" | awk -v x="$s0" -v y="$s1" '{printf "%.2f", ($1+$2)/(y-x)}')
  printf '%-28s %s server_cpu_cores=%s bench_cpu_cores=%s server_ingested=%s\n' "$name" "$out" "$cpu" "$bcpu" "$ingested"
}

run "batch1 rate0 conns16"   --conns 16 --rate 0
run "batch64 rate0 conns16"  --conns 16 --rate 0 --batch 64
run "batch1 rate20000"       --conns 16 --rate 20000
echo "classify (one core, then both):"
go test ./classify -run '^$' -bench 'BenchmarkDecide$|BenchmarkDecideParallel' -benchmem -cpu 1,2 | grep Benchmark
go test ./stream -run '^$' -bench 'BenchmarkPipeline' -benchmem | grep Benchmark
echo "the server's whole work on a message but the sockets:"
go test ./cmd/livemod -run '^$' -bench 'BenchmarkServerPipeline' -benchtime 6000x -benchmem | grep Benchmark
