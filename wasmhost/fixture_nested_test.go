package wasmhost_test

import (
	"strings"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost"
)

// simple-nested (Rust, cargo-component): a component whose core module is
// wrapped by several levels of nested components. The exported
// hello-world calls the imported one through every level and returns its
// string, as jco's async test (test/async.js) relies on.
func TestFixtureSimpleNested(t *testing.T) {
	hc := newHostCalls(t)
	im := wasmhost.NewImports()
	var msg string
	im.Instance("calvinrp:test-async-funcs/hello@0.1.0").Func("hello-world", hc.fn("hello-world", func(args []any) ([]any, error) {
		return []any{msg}, nil
	}))
	f := newFx(t, "simple-nested", im)
	const fn = "calvinrp:test-async-funcs/hello@0.1.0#hello-world"
	for _, m := range []string{"Hello from Async Function!", "", "ünïcödé 🎉", strings.Repeat("long ", 20000)} {
		msg = m
		f.check(fn, nil, m)
	}
	if n := hc.counts["hello-world"]; n != 4 {
		t.Errorf("import hello-world called %d times for 4 calls of the export", n)
	}
}
