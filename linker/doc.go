// Package linker turns a topology file into a kernel.Spec, and a Spec and
// what a kernel runs into a kernel.Plan.
//
// Data flows one way: topology.yaml → linker (Parse, Link, Diff) → Plan →
// kernel. The linker imports kernel and wasmhost; neither imports it.
//
// # The topology format
//
// A topology is one YAML document with three top-level keys, all optional:
//
//	boxes:                       # component boxes, by name
//	  front:
//	    component: ../../build/components/hello-front.wasm  # path relative to this file,
//	                             # or sha256:<64 hex> from the node's component store
//	    digest: sha256:<64 hex>  # optional: refuse a component file with other content
//	    config: {greeting: hi}   # string values, served to the box by wasi:config
//	    instances: 2             # pool size (1..1024, default 1): calls run in parallel
//	    limits:
//	      memory: 64MiB          # linear memory per instance (64KiB..4GiB; B, KiB, MiB, GiB, KB, MB, GB)
//	      call-timeout: 2s       # a call running longer is interrupted (Go duration)
//	      max-in-flight: 64      # more queued or running calls fail at once
//	    restart:
//	      policy: always         # always | on-failure | never
//	      backoff: 100ms         # first restart delay, doubled up to max-backoff
//	      max-backoff: 30s
//	    wasi:                    # nothing is granted unless listed
//	      stdout: true           # box stdout/stderr go to the node's event log
//	      stderr: true
//	      env: {TZ: UTC}
//	      args: [front, -v]
//	      dirs:                  # preopened directories; host is relative to this file
//	        - {host: ./data, guest: /data, readonly: true}
//	    http:                    # wasi:http outgoing requests (none unless listed)
//	      allow: [api.example.com, "*.example.org", "localhost:8080"]
//	    fresh: true              # a new instance per call (default: detected,
//	                             # true for StarlingMonkey fetch handlers)
//
//	drivers:                     # native tasks built into wbox, by name
//	  kv:
//	    kind: kv                 # the driver kind; the other keys are its settings
//	    file: kv.db
//
//	arrows:                      # every binding of an import to an export
//	  - from: front.wbox:hello/greet@0.1.0       # BOX.IMPORTED-INTERFACE
//	    to: greeter.wbox:hello/greet@0.1.0       # TASK.EXPORTED-INTERFACE
//	  - from: counter.wbox:kv/store@0.1.0
//	    to: kv                   # TASK alone: its one compatible export
//
// Box and driver names share one namespace and are lowercase words joined
// by dashes (web, kv-store). Unknown keys are errors, as are duplicate keys,
// values of the wrong kind and YAML aliases; every error names the file,
// line and column (malformed YAML: the line), e.g.
//
//	topology.yaml:4:5: unknown key "comonent" in box "web" (did you mean "component"?) (allowed: component, digest, ...)
//
// # Checks
//
// Parse checks the syntax. Link loads every component (wasmhost errors name
// the byte offset in the binary), checks pinned digests and type-checks
// every arrow before anything starts:
//
//   - both ends exist (unknown names get a "did you mean"), the from end is
//     a box that imports the interface, and each import is bound once;
//   - the target exports the same interface at a semver-compatible version
//     (internal/semver: 1.x.y with 1.z.w, 0.x.y with 0.x.z, 0.0.x only
//     itself, pre-releases only themselves — the rules wasmhost matches
//     host imports with);
//   - the importer's instance type is structurally compatible with the
//     exporter's: every function it imports exists with an equal type,
//     every type it names has an equal structure, every resource it names
//     exists (CheckInstance; resources of two components are matched by
//     name and interface, since their pointers never are);
//   - every import of every box is bound by an arrow, unless the node
//     serves it itself (HostProvided: WASI 0.2 cli, io, clocks, random,
//     filesystem, wasi:http 0.2 types and outgoing-handler, and
//     wasi:config);
//   - every box a driver calls exists and exports what the driver calls.
//
// # Drivers that call boxes
//
// A driver whose settings name boxes it calls (the http ingress's routes,
// the tcp driver's handlers) implements kernel.BoxCaller: its Targets
// lists each box with the interface it must export and the setting path
// that names it ("routes[2].box"). The parser keeps the position of every
// part of every driver setting (Driver.SettingPos, by the same paths), so
// Link reports a missing box, a driver named instead of a box, or a box
// without a semver-compatible export at that setting's file:line:col. A
// new driver kind gets the check by implementing Targets; the linker knows
// no kind.
//
// Native drivers describe their exports with kernel.Native.Exports(); the
// linker obtains them by calling the driver's factory with a zero
// DriverEnv, so factories must not acquire anything before Run.
//
// # Plans
//
// Diff compares a desired Spec with a kernel.Snapshot: boxes not running
// start, boxes whose fingerprint changed (component, config, limits,
// instances, restart policy, WASI) restart, boxes whose arrows alone
// changed are rewired in place, the rest keep running untouched, and boxes
// not in the Spec stop. FormatPlan renders a Plan for `wbox plan`.
package linker
