#!/usr/bin/env bash
# A long show (docs/PERFORMANCE.md, "A long show"): a fresh livemod serve,
# 10 minutes at 20,000 msgs/s over 16 connections with one moderator
# subscriber, printing every 10 s window (sent, decided, p50/p99/max) with
# the server's RSS, then the server's CPU. Exits 1 when a goal fails:
# p99 ≤ 5 ms in every window, RSS ≤ 300 MB at every sample and within 10%
# over the second half, ≤ 0.8 core, nothing lost.
#
#   scripts/soak.sh                              # --mix hard, 10 minutes
#   scripts/soak.sh --mix realistic
#   scripts/soak.sh --mix hard --users 1000000
#   scripts/soak.sh --preload 30s                # after 30 s of --batch 64 at full speed
#   scripts/soak.sh --duration 2m --help
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/livemod
go build -o "$bin" ./cmd/livemod
exec go run ./scripts/soak --binary "$bin" "$@"
