#!/usr/bin/env bash
# Builds one box of the hello example (examples/hello) into DIR/OUT.wasm:
#
#   components/hello/build.sh DIR NAME OUT [CFLAGS...]
#
# NAME is greeter, counter or front: NAME.c is compiled as a reactor with a
# hand-written canonical ABI, NAME.wit (its world) is embedded with the
# interfaces it uses (wit/hello.wit and the repository's wit/wbox-kv.wit as
# deps), and `jco new` makes the component. components/build.sh calls it and
# caches the result (this script is part of the cache key).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
jco=$root/node_modules/.bin/jco
dir=$1 name=$2 out=$3
shift 3
src=$root/components/hello

mkdir -p "$dir/wit-$out/deps/hello" "$dir/wit-$out/deps/kv"
cp "$src/$name.wit" "$dir/wit-$out/"
cp "$src/wit/hello.wit" "$dir/wit-$out/deps/hello/"
cp "$root/wit/wbox-kv.wit" "$dir/wit-$out/deps/kv/"

clang --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -Oz -s -Wall -Wextra -Werror "$@" \
  -o "$dir/$out.core.wasm" "$src/$name.c"
"$jco" embed --wit "$dir/wit-$out" "$dir/$out.core.wasm" -o "$dir/$out.embed.wasm"
"$jco" new "$dir/$out.embed.wasm" -o "$dir/$out.wasm"
