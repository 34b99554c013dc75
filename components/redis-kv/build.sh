#!/usr/bin/env bash
# Builds the redis-kv box into DIR/redis-kv.wasm: redis.c as a reactor with a
# hand-written canonical ABI, its world (wit/world.wit) embedded with the
# interfaces it uses, then `jco new`. components/build.sh calls it and caches
# the result (this script is part of the cache key).
#
#   components/redis-kv/build.sh DIR
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
jco=$root/node_modules/.bin/jco
dir=$1 src=$root/components/redis-kv w=$1/wit

mkdir -p "$w/deps/tcp" "$w/deps/keyvalue" "$w/deps/clocks"
cp "$src/wit/world.wit" "$w/"
cp "$root/wit/wbox-tcp.wit" "$w/deps/tcp/"
cp "$root"/wit/deps/wasi-keyvalue/*.wit "$w/deps/keyvalue/"
cp "$src/wit/wall-clock.wit" "$w/deps/clocks/"

clang --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -O2 -s -Wall -Wextra -Werror \
  -o "$dir/core.wasm" "$src/redis.c"
"$jco" embed --wit "$w" -n redis-kv "$dir/core.wasm" -o "$dir/core.embed.wasm"
"$jco" new "$dir/core.embed.wasm" -o "$dir/redis-kv.wasm"
