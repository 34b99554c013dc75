#!/usr/bin/env bash
# Builds every guest component wbox ships or tests with into build/components/.
#
#   components/build.sh            # needs: npm ci (jco), clang+lld+wasi-libc, go
#
# Builds are cached by content: each component's key is a sha256 over its
# sources, the WIT, this script and the toolchain versions; outputs live in
# ${WBOX_BUILD_CACHE:-$HOME/.cache/wbox/components}/<key>.wasm and a hit is a
# copy. Every fresh build is validated (jco transpile validates the whole
# component; jco wit must show the exported interface) before it is cached.
# Tool output is kept quiet unless a step fails; any failure exits non-zero.
set -euo pipefail
shopt -s inherit_errexit # errors inside $(...) abort too (cache keys)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/build/components
cache=${WBOX_BUILD_CACHE:-$HOME/.cache/wbox/components}
jco=$root/node_modules/.bin/jco
wit=$root/components/echo/wit
mkdir -p "$out" "$cache"

# Fresh CI machines may not have Go on PATH.
command -v go >/dev/null || export PATH=$PATH:/usr/local/go/bin

[[ -x $jco ]] || { echo "build.sh: $jco missing: run 'npm ci' first" >&2; exit 1; }
# jco 1.35.0 cannot read any --wit path without this (see the file).
export NODE_OPTIONS="--import=$root/components/internal/jco-preopens.mjs${NODE_OPTIONS:+ $NODE_OPTIONS}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# tool NAME: the toolchain identity that goes into cache keys.
tool() {
  case $1 in
    clang) clang --version | head -1; wasm-ld --version
      dpkg-query -W wasi-libc libclang-rt-14-dev-wasm32 2>/dev/null || true ;;
    go) go version ;;
    # package-lock pins jco and componentize-js (and everything they bundle).
    jco) node --version; sha256sum <"$root/package-lock.json" ;;
  esac
}

# key NAME TOOLS... -- FILES...: sha256 over the build function of NAME and
# validate (not the whole script, so adding a component rebuilds nothing
# else), tool versions, then each file's repo-relative name and content
# (names too, so a rename is a change).
key() {
  local name=$1
  shift
  {
    declare -f "build_${name//-/_}" validate
    while [[ $1 != -- ]]; do printf 'tool %s\n' "$1"; tool "$1"; shift; done
    shift
    for f in "$@"; do printf '\nfile %s %s\n' "${f#"$root"/}" "$(wc -c <"$f")"; cat "$f"; done
  } | sha256sum | cut -d' ' -f1
}

# build NAME HINT KEY: ensures $out/NAME.wasm, running build_NAME into
# $work/NAME/NAME.wasm on a cache miss.
build() {
  local name=$1 hint=$2 k=$3
  local cached=$cache/$k.wasm dir=$work/$name
  if [[ -f $cached ]]; then
    cp "$cached" "$out/$name.wasm"
    echo "cached $name"
    return
  fi
  printf 'building %s (%s)... ' "$name" "$hint"
  mkdir -p "$dir"
  local start=$SECONDS
  # Not `if ! (...)`: bash ignores errexit for everything inside a condition,
  # so a failing step would not stop the ones after it.
  local rc=0
  set +e
  (set -e; "build_${name//-/_}" "$dir"; validate "$dir/$name.wasm" "${expect:-wbox:echo/echo@0.1.0}") >"$dir/log" 2>&1
  rc=$?
  set -e
  if ((rc != 0)); then
    echo FAILED
    cat "$dir/log" >&2
    echo "build.sh: building $name failed" >&2
    exit 1
  fi
  # Write-then-rename so concurrent builds never see a partial cache entry.
  cp "$dir/$name.wasm" "$cached.tmp.$$" && mv "$cached.tmp.$$" "$cached"
  cp "$cached" "$out/$name.wasm"
  echo "ok ($((SECONDS - start))s, $(wc -c <"$cached") bytes)"
}

# validate COMPONENT EXPORT: must be a valid component exporting the
# interface EXPORT (a prefix, e.g. wasi:cli/run@0.2). `jco parse`/`wit`/`print`
# do not validate; `jco transpile` does.
validate() {
  "$jco" transpile -q --no-typescript "$1" -o "$1.transpiled"
  "$jco" wit "$1" | tee "$1.wit"
  grep -q "export $2" "$1.wit" || { echo "$1: $2 not exported" >&2; return 1; }
}

# Core module + WIT -> component (no WASI imports expected).
componentize_core() { # core.wasm out.wasm [jco new flags]
  "$jco" embed --wit "$wit" -n echo-box "$1" -o "$1.embed"
  "$jco" new "$1.embed" -o "$2" "${@:3}"
}

build_echo_c() {
  # Reactor: no main, _initialize runs constructors; -Oz -s keeps it ~16 KB.
  clang --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -Oz -s -Wall -Wextra -Werror \
    -o "$1/core.wasm" "$root/components/echo/c/echo.c"
  componentize_core "$1/core.wasm" "$1/echo-c.wasm"
}

build_echo_wat() {
  "$jco" parse "$root/components/echo/wat/echo.wat" -o "$1/echo-wat.wasm"
}

build_echo_go() {
  # GOWORK=off: the component is its own module, never part of a workspace.
  (cd "$root/components/echo/go" &&
    GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 GOWORK=off GOFLAGS=-trimpath \
      go build -buildmode=c-shared -ldflags='-s -w' -o "$1/core.wasm" .)
  # Go's runtime imports wasi_snapshot_preview1; the reactor adapter maps it
  # to WASI 0.2 (Go exports cabi_realloc_adapter for the adapter's state).
  componentize_core "$1/core.wasm" "$1/echo-go.wasm" --wasi-reactor
}

build_echo_js() {
  # QuickJS backend, sync ABI, WASI stubbed: no WASI imports at all.
  # componentize needs absolute paths.
  "$jco" componentize "$root/components/echo/js/echo.js" --wit "$wit" -n echo-box \
    --backend quickjs --backend-qjs-disable-async --backend-qjs-stub-wasi \
    -o "$1/echo-js.wasm"
}

# Keys are computed in assignments so that a failing toolchain probe aborts.
c=$root/components/echo
k=$(key echo-c clang jco -- "$c/c/echo.c" "$wit/echo.wit")
build echo-c "clang, ~4s" "$k"
k=$(key echo-wat jco -- "$c/wat/echo.wat")
build echo-wat "jco parse, ~3s" "$k"
k=$(key echo-go go jco -- "$c/go/go.mod" "$c"/go/*.go "$wit/echo.wit")
build echo-go "go, ~10s cold" "$k"
k=$(key echo-js jco -- "$c/js/echo.js" "$wit/echo.wit")
build echo-js "componentize-js quickjs, ~5s" "$k"

build_hello_cmd() {
  # A command (main, not a reactor), wrapped with the preview1 command adapter.
  clang --target=wasm32-wasi --sysroot=/usr -Oz -s -Wall -Werror \
    -o "$1/core.wasm" "$root/components/hello-cmd/hello.c"
  "$jco" new "$1/core.wasm" --wasi-command -o "$1/hello-cmd.wasm"
}

build_echo_js_sm() {
  # The default StarlingMonkey engine: a ~12 MB component, the large-load
  # benchmark's subject (compiled once, then served from the cache).
  "$jco" componentize "$root/components/echo/js/echo.js" --wit "$wit" -n echo-box \
    --disable all -o "$1/echo-js-sm.wasm"
}

k=$(key hello-cmd clang jco -- "$root/components/hello-cmd/hello.c")
expect='wasi:cli/run@0.2' build hello-cmd "clang, ~4s" "$k"
k=$(key echo-js-sm jco -- "$c/js/echo.js" "$wit/echo.wit")
build echo-js-sm "componentize-js StarlingMonkey, ~40s" "$k"

# The wasi:http box (components/http-hello): a JS fetch event handler on the
# default StarlingMonkey engine, http enabled. Its world's wasi:http, io and
# clocks WIT come from jco's bundled WASI 0.2.12 snapshot, renamed to 0.2.10
# (the version StarlingMonkey implements; these interfaces are unchanged) and
# without their worlds (which would pull in a wasi:sockets unlike the
# engine's).
build_http_hello() {
  local w=$1/wit wasi=$root/node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12 p
  mkdir -p "$w"
  cp "$root/components/http-hello/wit/world.wit" "$w/"
  for p in clocks http io; do
    mkdir -p "$w/deps/wasi-$p"
    sed 's/@0\.2\.12/@0.2.10/g' "$wasi/wasi-$p/package.wit" |
      awk '/^world /{skip=1} !skip{print} skip&&/^}/{skip=0}' >"$w/deps/wasi-$p/package.wit"
  done
  "$jco" componentize "$root/components/http-hello/hello.js" --wit "$w" -n hello -o "$1/http-hello.wasm"
}
k=$(key http-hello jco -- "$root/components/http-hello/hello.js" "$root/components/http-hello/wit/world.wit")
expect='wasi:http/incoming-handler@0.2' build http-hello "componentize-js StarlingMonkey, ~40s" "$k"

# The hello example's boxes (examples/hello), built by components/hello/build.sh.
hello=$root/components/hello
build_hello_greeter() { "$hello/build.sh" "$1" greeter hello-greeter; }
build_hello_greeter_howdy() { "$hello/build.sh" "$1" greeter hello-greeter-howdy -DGREETING='"Howdy"'; }
build_hello_counter() { "$hello/build.sh" "$1" counter hello-counter; }
build_hello_front() { "$hello/build.sh" "$1" front hello-front; }
for n in greeter:greet greeter-howdy:greet counter:counter front:app; do
  box=${n%%:*} src=${n%%[-:]*}
  k=$(key "hello-$box" clang jco -- "$hello/$src.c" "$hello/$src.wit" "$hello/build.sh" "$hello/abi.h" \
    "$hello/wit/hello.wit" "$root/wit/wbox-kv.wit")
  expect="wbox:hello/${n#*:}@0.1.0;" build "hello-$box" "clang, ~4s" "$k"
done

# The kernel's test boxes (components/testboxes/<name>/<name>.wat); the first
# line of each names the interface it exports (";; export: IFACE").
for f in "$root"/components/testboxes/*/*.wat; do
  n=$(basename "$f" .wat)
  eval "build_${n//-/_}() { \"\$jco\" parse \"\$root/components/testboxes/$n/$n.wat\" -o \"\$1/$n.wasm\"; }"
  k=$(key "$n" jco -- "$f")
  expect="$(sed -n '1s/^;; export: //p' "$f");" build "$n" "jco parse, ~2s" "$k"
done

# The TCP driver's test box (components/tcp-lines, a line protocol in C) and
# the redis-kv box (components/redis-kv), both exporting wbox:tcp/handler.
build_tcp_lines() {
  mkdir -p "$1/wit"
  cp "$root/wit/wbox-tcp.wit" "$1/wit/"
  clang --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -O2 -s -Wall -Wextra -Werror \
    -o "$1/core.wasm" "$root/components/tcp-lines/lines.c"
  "$jco" embed --wit "$1/wit" -n tcp-box "$1/core.wasm" -o "$1/core.embed.wasm"
  "$jco" new "$1/core.embed.wasm" -o "$1/tcp-lines.wasm"
}
k=$(key tcp-lines clang jco -- "$root/components/tcp-lines/lines.c" "$root/wit/wbox-tcp.wit")
expect='wbox:tcp/handler@0.1.0;' build tcp-lines "clang, ~4s" "$k"

# SDK box projects (components/<name>, a box.yaml each), built with `wbox
# build` from this checkout: the kv driver's test box (kv-probe) and the
# shipped kv-counter box. The project is copied so builds never write into
# the source tree.
build_sdk_project() { # dir name
  cp -r "$root/components/$2" "$1/src"
  rm -f "$1/src/$2.wasm"
  (cd "$root" && go build -o "$1/wbox" ./cmd/wbox)
  (cd "$1/src" && WBOX_NODE_MODULES=$root/node_modules "$1/wbox" build)
  cp "$1/src/$2.wasm" "$1/$2.wasm"
}
build_kv_probe() { build_sdk_project "$1" kv-probe; }
k=$(key kv-probe go jco -- $(cd "$root" && find components/kv-probe -type f ! -name '*.wasm' | sort | sed "s|^|$root/|"))
expect='wbox:kv-probe/probe@0.1.0;' build kv-probe "wbox build (go), ~20s" "$k"
build_http_go() { build_sdk_project "$1" http-go; }
k=$(key http-go go jco -- $(cd "$root" && find components/http-go -type f ! -name '*.wasm' | sort | sed "s|^|$root/|"))
expect='wasi:http/incoming-handler@0.2' build http-go "wbox build (go), ~20s" "$k"
build_hello_web() { build_sdk_project "$1" hello-web; }
k=$(key hello-web go jco -- $(cd "$root" && find components/hello-web -type f ! -name '*.wasm' | sort | sed "s|^|$root/|"))
expect='wasi:http/incoming-handler@0.2' build hello-web "wbox build (go), ~30s" "$k"
build_kv_counter() { build_sdk_project "$1" kv-counter; }
k=$(key kv-counter go jco -- $(cd "$root" && find components/kv-counter -type f ! -name '*.wasm' | sort | sed "s|^|$root/|"))
expect='wasi:http/incoming-handler@0.2' build kv-counter "wbox build (go), ~20s" "$k"
build_redis_kv() { "$root/components/redis-kv/build.sh" "$1"; }
k=$(key redis-kv clang jco -- "$root/components/redis-kv/redis.c" "$root/components/redis-kv/build.sh" \
  "$root/components/redis-kv/wit/world.wit" "$root/components/redis-kv/wit/wall-clock.wit" \
  "$root/wit/wbox-tcp.wit" "$root"/wit/deps/wasi-keyvalue/*.wit)
expect='wbox:tcp/handler@0.1.0;' build redis-kv "clang, ~5s" "$k"

# The static-site box (components/static-site): a Go box built by wbox's own
# SDK (`wbox build`), from a copy so the checkout is not written to.
build_static_site() {
  (cd "$root" && go build -o "$1/wbox" ./cmd/wbox)
  cp -r "$root/components/static-site" "$1/src"
  rm -f "$1/src/static-site.wasm"
  WBOX_NODE_MODULES=$root/node_modules WBOX_BUILD_CACHE=$1/cache "$1/wbox" build "$1/src"
  cp "$1/src/static-site.wasm" "$1/static-site.wasm"
}
ss=$root/components/static-site
k=$(key static-site go jco -- "$ss/go.mod" "$ss/box.yaml" "$ss"/*.go "$ss"/wit/*.wit "$ss"/wit/deps/*/*.wit)
expect='wasi:http/incoming-handler@0.2' build static-site "wbox build (Go), ~40s" "$k"

# drivers/blob's test box: wbox:blob write and delete, exported as codes.
build_blob_probe() { "$jco" parse "$root/drivers/blob/testdata/blob-probe.wat" -o "$1/blob-probe.wasm"; }
k=$(key blob-probe jco -- "$root/drivers/blob/testdata/blob-probe.wat")
expect='wbox:blob-probe/probe@0.1.0;' build blob-probe "jco parse, ~2s" "$k"
