#!/usr/bin/env bash
# What the server spends per message, measured from outside (issue 17):
# a fresh livemod serve, one livemod bench run against it, then the
# server's CPU time, read(2)/write(2) calls (/proc/PID/io) and allocations
# (go_memstats_*) divided by the messages sent, and the store's commits
# (livemod_store_commit_seconds_count, by writer) and bytes written
# (/proc/PID/io write_bytes) per second. Counts of system calls and
# allocations do not depend on how busy the shared machine is; CPU time
# does, so compare binaries in alternating runs.
#
#   scripts/permsg.sh --mix neutral --batch 1 --conns 50 --rate 20000 --subs 1
#   BIN=/tmp/old/livemod PROFILE=cpu.pprof DURATION=20s scripts/permsg.sh --mix neutral ...
#
# PROFILE: also take a 10 s CPU profile of the server, from the 5th second.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15s}
ADDR=127.0.0.1:18417
TOKEN=permsg-admin-token-$$
bin=${BIN:-}
if [ -z "$bin" ]; then
  bin=$(mktemp -d)/livemod
  go build -o "$bin" ./cmd/livemod
fi
data=$(mktemp -d)
conf=$(mktemp --suffix=.yaml)
out=$(mktemp)
# The bench's subscribers take every decision; give them half a second of
# queue (as scripts/perf.sh does).
printf 'fanout:\n  max_queue_bytes: 67108864\n' >"$conf"
"$bin" serve --config "$conf" --listen $ADDR --data "$data" --token admin=$TOKEN --pprof 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$data" "$conf" "$out"' EXIT
for _ in $(seq 50); do curl -sf http://$ADDR/healthz >/dev/null && break; sleep 0.1; done
mem() { curl -s -H "Authorization: Bearer $TOKEN" http://$ADDR/metrics | awk '/^go_memstats_(mallocs|alloc_bytes)_total/ {printf "%s ", $2}'; }
io() { awk '/^syscr|^syscw/ {printf "%s ", $2}' /proc/$pid/io; }
cpu() { awk '{print $14+$15}' /proc/$pid/stat; }
commits() { curl -s -H "Authorization: Bearer $TOKEN" http://$ADDR/metrics | awk '/^livemod_store_commit_seconds_count/ {sub(/.*writer="/, "", $1); sub(/".*/, "", $1); printf "%s=%s ", $1, $2}'; }
wbytes() { awk '/^write_bytes/ {print $2}' /proc/$pid/io; }
m0=$(mem); i0=$(io); c0=$(cpu); k0=$(commits); b0=$(wbytes); s0=$(date +%s.%N)
"$bin" bench --url ws://$ADDR --token $TOKEN --duration "$DURATION" --json --quiet "$@" >"$out" 2>/dev/null &
bp=$!
if [ -n "${PROFILE:-}" ]; then
  sleep 5
  curl -s -H "Authorization: Bearer $TOKEN" "http://$ADDR/debug/pprof/profile?seconds=10" -o "$PROFILE"
fi
wait $bp
m1=$(mem); i1=$(io); c1=$(cpu); k1=$(commits); b1=$(wbytes); s1=$(date +%s.%N)
sent=$(grep -o '"sent":[0-9]*' "$out" | head -1 | cut -d: -f2)
# fields: bytes, mallocs (before, after), reads, writes (before, after),
# CPU ticks (before, after), seconds (before, after), messages sent
echo "$m0 $m1 $i0 $i1 $c0 $c1 $s0 $s1 $sent" | awk '{
  n=$13; printf "server: %.2f cores, %.1f µs CPU/msg, %.2f reads/msg, %.3f writes/msg, %.2f allocs/msg, %.0f B/msg\n",
    ($10-$9)/100/($12-$11), ($10-$9)*10000/n, ($7-$5)/n, ($8-$6)/n, ($4-$2)/n, ($3-$1)/n }'
echo "$k0|$k1|$b0 $b1 $s0 $s1" | awk -F'|' '{
  split($3, t, " "); secs = t[4] - t[3]; n = split($2, after, " ")
  for (i = 1; i <= n; i++) { split(after[i], kv, "="); before = 0
    if (match($1, kv[1] "=[0-9.e+]*")) { before = substr($1, RSTART + length(kv[1]) + 1, RLENGTH - length(kv[1]) - 1) }
    printf "store commits/s %s %.0f, ", kv[1], (kv[2] - before) / secs }
  printf "MB written/s %.1f\n", (t[2] - t[1]) / 1e6 / secs }'
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$out"
