package wasi

import (
	"slices"
	"strings"
	"testing"
)

// wit02 lists every function of the interfaces in WASI 0.2.0 to 0.2.12
// (signatures never changed; exit-with-code and clocks/timezone came later,
// as unstable features).
var wit02 = map[string][]string{
	"wasi:cli/environment":     {"get-environment", "get-arguments", "initial-cwd"},
	"wasi:cli/exit":            {"exit", "exit-with-code"},
	"wasi:cli/stdin":           {"get-stdin"},
	"wasi:cli/stdout":          {"get-stdout"},
	"wasi:cli/stderr":          {"get-stderr"},
	"wasi:cli/terminal-input":  {},
	"wasi:cli/terminal-output": {},
	"wasi:cli/terminal-stdin":  {"get-terminal-stdin"},
	"wasi:cli/terminal-stdout": {"get-terminal-stdout"},
	"wasi:cli/terminal-stderr": {"get-terminal-stderr"},
	"wasi:io/error":            {"[method]error.to-debug-string"},
	"wasi:io/poll":             {"[method]pollable.ready", "[method]pollable.block", "poll"},
	"wasi:io/streams": {
		"[method]input-stream.read", "[method]input-stream.blocking-read",
		"[method]input-stream.skip", "[method]input-stream.blocking-skip",
		"[method]input-stream.subscribe",
		"[method]output-stream.check-write", "[method]output-stream.write",
		"[method]output-stream.blocking-write-and-flush", "[method]output-stream.flush",
		"[method]output-stream.blocking-flush", "[method]output-stream.subscribe",
		"[method]output-stream.write-zeroes", "[method]output-stream.blocking-write-zeroes-and-flush",
		"[method]output-stream.splice", "[method]output-stream.blocking-splice",
	},
	"wasi:clocks/wall-clock":      {"now", "resolution"},
	"wasi:clocks/monotonic-clock": {"now", "resolution", "subscribe-instant", "subscribe-duration"},
	"wasi:clocks/timezone":        {"display", "utc-offset"},
	"wasi:random/random":          {"get-random-bytes", "get-random-u64"},
	"wasi:random/insecure":        {"get-insecure-random-bytes", "get-insecure-random-u64"},
	"wasi:random/insecure-seed":   {"insecure-seed"},
	"wasi:filesystem/types": {
		"[method]descriptor.read-via-stream", "[method]descriptor.write-via-stream",
		"[method]descriptor.append-via-stream", "[method]descriptor.advise",
		"[method]descriptor.sync-data", "[method]descriptor.get-flags",
		"[method]descriptor.get-type", "[method]descriptor.set-size",
		"[method]descriptor.set-times", "[method]descriptor.read",
		"[method]descriptor.write", "[method]descriptor.read-directory",
		"[method]descriptor.sync", "[method]descriptor.create-directory-at",
		"[method]descriptor.stat", "[method]descriptor.stat-at",
		"[method]descriptor.set-times-at", "[method]descriptor.link-at",
		"[method]descriptor.open-at", "[method]descriptor.readlink-at",
		"[method]descriptor.remove-directory-at", "[method]descriptor.rename-at",
		"[method]descriptor.symlink-at", "[method]descriptor.unlink-file-at",
		"[method]descriptor.is-same-object", "[method]descriptor.metadata-hash",
		"[method]descriptor.metadata-hash-at",
		"[method]directory-entry-stream.read-directory-entry",
		"filesystem-error-code",
	},
	"wasi:filesystem/preopens": {"get-directories"},
}

func TestEveryFunctionRegistered(t *testing.T) {
	h := New(Config{})
	defer h.Close()
	im := h.Imports()

	var want []string
	for iface, fns := range wit02 {
		for _, f := range fns {
			want = append(want, iface+"#"+f)
		}
	}
	var got []string
	for name := range h.funcs {
		got = append(got, name)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("registered functions differ from WASI 0.2:\n got %s\nwant %s", strings.Join(got, "\n    "), strings.Join(want, "\n    "))
	}

	var ifaces []string
	for iface := range wit02 {
		ifaces = append(ifaces, iface+"@"+Version)
	}
	slices.Sort(ifaces)
	if names := im.Names(); !slices.Equal(names, ifaces) {
		t.Errorf("Imports().Names() = %v\nwant %v", names, ifaces)
	}
}

// Shared resource types must be one *value.ResourceType, aliased into the
// interfaces that use them: the results of stdout and of open streams have
// the same type.
func TestSharedResourceTypes(t *testing.T) {
	x := newTester(t, Config{})
	out := handle(x.call("wasi:cli/stdout#get-stdout"))
	errOut := handle(x.call("wasi:cli/stderr#get-stderr"))
	in := handle(x.call("wasi:cli/stdin#get-stdin"))
	if out.Type != errOut.Type || out.Type.Name != "output-stream" || out.Type.Interface != "wasi:io/streams@0.2.0" {
		t.Errorf("stdout %v, stderr %v", out.Type, errOut.Type)
	}
	p1 := handle(x.call("wasi:io/streams#[method]input-stream.subscribe", in))
	p2 := handle(x.call("wasi:clocks/monotonic-clock#subscribe-duration", uint64(0)))
	if p1.Type != p2.Type || p1.Type.Interface != "wasi:io/poll@0.2.0" {
		t.Errorf("pollables %v and %v", p1.Type, p2.Type)
	}
}
