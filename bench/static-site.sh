#!/usr/bin/env bash
# bench/static-site.sh: the static-site box (behind wbox's http ingress and a
# blob driver) against nginx serving the same files, in the same run,
# interleaved (rounds alternate which server goes first), for a small file
# and a 1 MiB file. Prints requests/s per round, the medians and the ratio.
#
#   bench/static-site.sh [ROUNDS] [SECONDS]     # default 5 rounds of 3 s
#
# Needs nginx (Debian nginx-light; a local tool, not installed by .ci/run),
# wrk (Debian) and build/components/static-site.wasm (components/build.sh).
# Both servers get one worker: nginx worker_processes 1, the box 1 instance
# (its default); wrk runs 2 threads, 16 connections, keep-alive.
set -euo pipefail

rounds=${1:-5}
secs=${2:-3}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
comp=$root/build/components/static-site.wasm
for tool in nginx wrk curl python3 go; do
  command -v $tool >/dev/null || { echo "static-site.sh: $tool missing (apt-get install nginx-light wrk curl)" >&2; exit 1; }
done
[[ -f $comp ]] || { echo "static-site.sh: $comp missing: run components/build.sh" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The files: a small HTML page and 1 MiB of random bytes.
site=$work/site
mkdir -p "$site"
python3 -c 'print("<!doctype html><title>bench</title>" + "<p>static-site vs nginx</p>" * 40)' >"$site/index.html"
head -c 1048576 /dev/urandom >"$site/big.bin"

# wbox: the example topology with absolute paths and a free port.
wport=$(free_port)
(cd "$root" && go build -o "$work/wbox" ./cmd/wbox)
sed -e "s|../../build/components/static-site.wasm|$comp|" -e "s|dir: site|dir: $site|" \
  -e "s|127.0.0.1:8080|127.0.0.1:$wport|" "$root/examples/static-site/topology.yaml" >"$work/topology.yaml"
"$work/wbox" up --data "$work/data" "$work/topology.yaml" >"$work/wbox.log" 2>&1 &
pids+=($!)

# nginx: one worker, sendfile, no access log.
nport=$(free_port)
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
user $(id -un);
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  include /etc/nginx/mime.types;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$nport;
    root $site;
    add_header Cache-Control "public, max-age=60";
  }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids+=($!)

wait_up() { # URL
  for _ in $(seq 300); do
    curl -sf -o /dev/null "$1" && return
    sleep 0.1
  done
  echo "static-site.sh: $1 did not answer" >&2
  cat "$work/wbox.log" "$work/nginx/logs/error.log" >&2 || true
  exit 1
}
wait_up "http://127.0.0.1:$wport/index.html"
wait_up "http://127.0.0.1:$nport/index.html"
# Same bytes from both.
for f in index.html big.bin; do
  cmp -s <(curl -s "http://127.0.0.1:$wport/$f") <(curl -s "http://127.0.0.1:$nport/$f") ||
    { echo "static-site.sh: $f differs between the servers" >&2; exit 1; }
done

rps() { # URL -> requests/s
  wrk -t2 -c16 -d"${secs}s" --latency "$1" | awk '/^Requests\/sec:/ {print $2}'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "static-site (wbox, port $wport) vs nginx (port $nport): $rounds rounds x ${secs}s, wrk -t2 -c16"
for f in index.html big.bin; do
  size=$(stat -c %s "$site/$f")
  : >"$work/w.$f" ; : >"$work/n.$f"
  # Warm up both (compilation caches, connections).
  wrk -t1 -c4 -d1s "http://127.0.0.1:$wport/$f" >/dev/null
  wrk -t1 -c4 -d1s "http://127.0.0.1:$nport/$f" >/dev/null
  for r in $(seq "$rounds"); do
    if ((r % 2)); then
      w=$(rps "http://127.0.0.1:$wport/$f"); n=$(rps "http://127.0.0.1:$nport/$f")
    else
      n=$(rps "http://127.0.0.1:$nport/$f"); w=$(rps "http://127.0.0.1:$wport/$f")
    fi
    echo "$w" >>"$work/w.$f"; echo "$n" >>"$work/n.$f"
    printf '  %-10s round %d: static-site %10.1f req/s   nginx %10.1f req/s\n' "$f" "$r" "$w" "$n"
  done
  wm=$(median <"$work/w.$f"); nm=$(median <"$work/n.$f")
  printf '%-10s (%7d B) median: static-site %10.1f req/s (%7.1f MiB/s)  nginx %10.1f req/s (%7.1f MiB/s)  nginx/static-site = %.2fx\n' \
    "$f" "$size" "$wm" "$(echo "$wm * $size / 1048576" | bc -l)" "$nm" "$(echo "$nm * $size / 1048576" | bc -l)" "$(echo "$nm / $wm" | bc -l)"
done
