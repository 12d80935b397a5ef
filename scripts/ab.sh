#!/usr/bin/env bash
# A/B of livemod binaries in one sitting: each round runs every binary in
# turn, in the bench configurations of scripts/perf.sh, then the REST
# measure (scripts/restbench: 16 clients claiming tickets and hiding
# messages). The machine is noisy: compare only figures from one run of
# this script.
#
#   scripts/ab.sh /tmp/livemod-old /tmp/livemod-new [more binaries…]
#   ROUNDS=3 DURATION=8s scripts/ab.sh …
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8s}
ADDR=127.0.0.1:18123
TOKEN=ab-admin-token
bench=$(mktemp -d)/livemod
go build -o "$bench" ./cmd/livemod
rest=$(mktemp -d)/restbench
go build -o "$rest" ./scripts/restbench
conf=$(mktemp --suffix=.yaml)
printf 'fanout:\n  max_queue_bytes: 67108864\n' >"$conf"
start() { # bin data
  "$1" serve --config "$conf" --listen $ADDR --data "$2" --token admin=$TOKEN 2>/dev/null &
  pid=$!
  for _ in $(seq 100); do curl -sf http://$ADDR/healthz >/dev/null && break; sleep 0.05; done
}
stop() { kill $pid; wait $pid 2>/dev/null || true; }
for round in $(seq "$ROUNDS"); do
  for flags in "--rate 0" "--rate 0 --batch 64" "--rate 20000"; do
    for bin in "$@"; do
      data=$(mktemp -d); start "$bin" "$data"
      # shellcheck disable=SC2086
      out=$("$bench" bench --url ws://$ADDR --token $TOKEN --duration "$DURATION" --json --conns 16 $flags 2>/dev/null)
      commits=$(curl -s -H "Authorization: Bearer $TOKEN" http://$ADDR/metrics | awk '/^livemod_store_commit_seconds_(sum|count)/ {printf "%s=%s ", $1, $2}')
      stop; rm -rf "$data"
      echo "round=$round bin=$bin flags=\"$flags\" $out $commits"
    done
  done
  for bin in "$@"; do
    data=$(mktemp -d); start "$bin" "$data"
    "$rest" -base http://$ADDR -token $TOKEN -n 2000 -c 16 | sed "s|^|round=$round bin=$bin |"
    stop; rm -rf "$data"
  done
done
