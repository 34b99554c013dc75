// Package sdk is wbox's kit for writing boxes: `wbox new` writes a box
// project, `wbox build` turns it into a component, `wbox test` checks the
// component against the calls listed in its box.yaml.
//
// # Projects
//
// A box project is a directory with a box.yaml (name, lang, wit, world,
// tests), the box's WIT in wit/, its source, a test in the language
// (`go test`, `node --test`) and a topology.yaml that runs it with
// `wbox up`. Languages: Go (mainline Go, GOOS=wasip1), C (Debian clang and
// wasi-libc), JavaScript (componentize-js with the QuickJS engine, or
// StarlingMonkey for HTTP boxes) and AssemblyScript (asc). Worlds (--world):
// plain (an exported greet function), kv (a counter in the node's
// key-value store, through an arrow to the kv driver) and http
// (wasi:http/incoming-handler, served by the node's http driver), each in
// every language.
//
// # Builds
//
//	go   gen/ from WIT (package bindgen, in Go) -> go build -buildmode=c-shared
//	     GOOS=wasip1 -> embed + new with the preview1 reactor adapter
//	c    gen/bindings.{h,c} from WIT (package bindgen, in Go) -> clang
//	     --target=wasm32-wasi -mexec-model=reactor -Oz -> embed + new
//	js   jco componentize --backend quickjs (sync ABI, WASI stubbed)
//	as   gen/{bindings,world}.ts from WIT (package bindgen, in Go) -> asc
//	     --runtime incremental gen/world.ts -> exports renamed (in Go)
//	     -> embed + new
//
// What is done in Go: reading the WIT (go.bytecodealliance.org/wit, which
// runs a bundled wasm-tools on wazero), the Go, C and AssemblyScript
// bindings, scanning a core
// module's imports (to add the WASI adapter only when needed), renaming
// AssemblyScript's exports, the build cache, and the tests (wasmhost).
// What is driven in node: embedding the WIT world into the core module and
// wrapping it into a component (jco's componentEmbed and componentNew, in
// one node process: node/driver.mjs), and componentize-js. Both need a
// component-type encoder and wit-component's adapter handling, which have
// no Go implementation; writing one is not cheap.
//
// Known toolchain problems hidden here: jco 1.35.0 cannot read any WIT path
// (its wasm-tools runs without filesystem preopens; the driver preopens
// "/" in every copy of preview2-shim), the preview1 adapter allocating
// through Go's cabi_realloc before the Go heap exists (the Go runtime
// exports cabi_realloc_adapter from a static arena), AssemblyScript's
// export names, and componentize-js needing absolute paths.
//
// The npm toolchain (jco, componentize-js, assemblyscript, pinned in wbox's
// package.json) is found in $WBOX_NODE_MODULES, or in a node_modules
// directory in or above the project, the wbox executable or the working
// directory; a missing toolchain is a *ToolError naming what to install.
//
// Finished components are cached by a key over the sources, the WIT, the
// toolchain versions and this package's recipe, in $WBOX_BUILD_CACHE or
// the user cache directory (wbox/components).
package sdk
