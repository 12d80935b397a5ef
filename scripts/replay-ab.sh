#!/usr/bin/env bash
# Replays every recorded input of the repository with two livemod
# binaries and compares the output byte for byte: what a restructuring
# must leave unchanged (docs/PERFORMANCE.md, "The redesign").
#
#   scripts/replay-ab.sh /tmp/livemod-before /tmp/livemod-after
set -u
cd "$(dirname "$0")/.."
A=$1 B=$2 fail=0
out=$(mktemp -d)
for spec in "testdata/show/show.ndjson --config testdata/show/livemod.yaml" \
  "testdata/show/show.ndjson" "testdata/benign/chat.ndjson" \
  "classify/testdata/shopping_chat.ndjson" "classify/testdata/golden/chat.ndjson"; do
  set -- $spec
  in=$1
  shift
  "$A" replay "$@" <"$in" >"$out/a" 2>/dev/null
  "$B" replay "$@" <"$in" >"$out/b" 2>/dev/null
  if cmp -s "$out/a" "$out/b"; then
    echo "identical  $(wc -l <"$out/a") lines  sha256 $(sha256sum <"$out/a" | cut -c1-16)  replay $* < $in"
  else
    echo "DIFFERENT  replay $* < $in"
    fail=1
  fi
done
rm -rf "$out"
exit $fail
