#!/usr/bin/env bash
# bench/http-wrk.sh: req/s of wbox's HTTP boxes behind the http driver
# (`wbox up examples/http/topology.yaml`: the kernel path) against a plain Go
# net/http server answering the same bytes (bench/httpbaseline), measured
# with wrk in interleaved rounds so both see the same machine noise.
#
#   bench/http-wrk.sh [ROUNDS] [SECONDS] [CONNECTIONS]   # default 3 rounds of 5s, 8 connections
#
# Needs wrk (Debian: apt-get install wrk) and built components
# (components/build.sh). Prints each round and, per box, the summed req/s
# and the ratio wbox/baseline (issue 4's goal: >= 0.7).
set -euo pipefail
rounds=${1:-3} secs=${2:-5} conns=${3:-8}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v wrk >/dev/null || { echo "http-wrk.sh: wrk is missing (apt-get install wrk)" >&2; exit 1; }
for c in http-go http-hello; do
  [[ -f $root/build/components/$c.wasm ]] || { echo "http-wrk.sh: build/components/$c.wasm missing: run components/build.sh" >&2; exit 1; }
done
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
(cd "$root" && go build -o "$work/wbox" ./cmd/wbox && go build -o "$work/baseline" ./bench/httpbaseline)
bport=$(free_port) wport=$(free_port)
"$work/baseline" "127.0.0.1:$bport" & pids+=($!)
sed -e "s|../../build/components/|$root/build/components/|" -e "s|listen: 127.0.0.1:8080|listen: 127.0.0.1:$wport|" \
  -e 's|max-in-flight: 32|max-in-flight: 1024|' -e 's|max-in-flight: 16|max-in-flight: 1024|' \
  -e 's|instances: 2|instances: 4|' "$root/examples/http/topology.yaml" >"$work/topology.yaml"
"$work/wbox" up --data "$work/data" "$work/topology.yaml" >"$work/up.log" 2>&1 & pids+=($!)
for _ in $(seq 300); do grep -q "wbox is up" "$work/up.log" && break; sleep 0.2; done
grep -q "wbox is up" "$work/up.log" || { cat "$work/up.log" >&2; exit 1; }

rps() { wrk -t2 -c"$conns" -d"${secs}s" "$1" | awk '/^Requests\/sec/ {print $2}'; }
# Warm up every target once.
for u in "http://127.0.0.1:$bport/go/hello" "http://127.0.0.1:$wport/go/hello" "http://127.0.0.1:$wport/hello"; do
  wrk -t1 -c2 -d1s "$u" >/dev/null
done
declare -A sum
for r in $(seq "$rounds"); do
  for t in base-go:"http://127.0.0.1:$bport/go/hello" wbox-go:"http://127.0.0.1:$wport/go/hello" \
           base-js:"http://127.0.0.1:$bport/hello" wbox-js:"http://127.0.0.1:$wport/hello"; do
    name=${t%%:*} url=${t#*:}
    v=$(rps "$url")
    sum[$name]=$(python3 -c "print(${sum[$name]:-0} + $v)")
    printf 'round %d %-8s %10.0f req/s\n' "$r" "$name" "$v"
  done
done
for b in go js; do
  python3 -c "b=${sum[base-$b]}/$rounds; w=${sum[wbox-$b]}/$rounds; print(f'$b box: wbox {w:.0f} req/s, plain net/http {b:.0f} req/s, ratio {w/b:.3f}')"
done
