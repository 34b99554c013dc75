#!/usr/bin/env bash
# Runs BenchmarkRedis (bench/redis_test.go): redis-benchmark GET and SET
# against wbox's redis example (tcp driver + redis-kv box + kv driver), a
# native Go RESP server on the same kv driver, and redis-server (in memory,
# and with appendfsync always), interleaved in one run, with the ratios.
#
#   bench/redis.sh                       # needs redis-tools; redis-server optional
#   REDIS_BENCH_N=50000 REDIS_BENCH_ROUNDS=5 REDIS_BENCH_PIPELINE=16 bench/redis.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
command -v go >/dev/null || export PATH=$PATH:/usr/local/go/bin
command -v redis-benchmark >/dev/null || { echo "redis.sh: redis-benchmark missing: apt-get install redis-tools (and redis-server)" >&2; exit 1; }
components/build.sh >/dev/null
go test -run '^$' -bench '^BenchmarkRedis$' -benchtime 1x -timeout 60m -count 1 ./bench/ | grep -v '^\(goos\|goarch\|pkg\|cpu\|PASS\|ok \)'
