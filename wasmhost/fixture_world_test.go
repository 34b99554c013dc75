package wasmhost_test

import (
	"strings"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost"
)

// TestFixtureWorlds checks the world Load works out for each fixture
// against `jco wit` (non-WASI imports and all exports, in order) and a few
// function types against the fixtures' WIT.
func TestFixtureWorlds(t *testing.T) {
	for _, tc := range []struct {
		name             string
		imports, exports string
		types            map[string]string // "iface#func" or "func" -> type
	}{
		{"adder", "", "docs:adder/add@0.1.0", map[string]string{"docs:adder/add@0.1.0#add": "func(x: u32, y: u32) -> u32"}},
		{"flavorful", "test:flavorful/test", "test-imports test:flavorful/test", map[string]string{
			"test:flavorful/test#f-list-in-variant1": "func(a: list-in-variant1-v1, b: list-in-variant1-v2)",
			"test:flavorful/test#errno-result":       "func() -> result<_, my-errno>",
		}},
		{"lists", "test:lists/test", "test-imports allocated-bytes test:lists/test", map[string]string{
			"allocated-bytes":                   "func() -> u32",
			"test:lists/test#list-param5":       "func(a: list<tuple<u8, u32, u8>>)",
			"test:lists/test#list-minmax-float": "func(a: list<f32>, b: list<f64>) -> tuple<list<f32>, list<f64>>",
		}},
		{"many-arguments", "imports", "many-arguments", nil},
		{"numbers", "test:numbers/test", "test-imports test:numbers/test", map[string]string{"test:numbers/test#roundtrip-char": "func(a: char) -> char"}},
		{"records", "test:records/test", "test-imports test:records/test", map[string]string{
			"test:records/test#roundtrip-flags3": "func(a: flag8, b: flag16, c: flag32) -> tuple<flag8, flag16, flag32>",
		}},
		{"resource-borrow-simple", "r test [constructor]r", "test-imports", nil},
		{"resource-import-and-export", "test:resource-import-and-export/test thing toplevel-import", "toplevel-export test:resource-import-and-export/test", map[string]string{
			"toplevel-export": "func(a: thing) -> thing",
			"test:resource-import-and-export/test#[static]thing.baz": "func(a: thing, b: thing) -> thing",
		}},
		{"resources", "imports", "exports", map[string]string{
			"exports#add":             "func(a: borrow<z>, b: borrow<z>) -> z",
			"exports#test-imports":    "func() -> result<_, string>",
			"exports#[method]x.get-a": "func(self: borrow<x>) -> s32",
		}},
		{"simple-nested", "calvinrp:test-async-funcs/hello@0.1.0", "calvinrp:test-async-funcs/hello@0.1.0", map[string]string{
			"calvinrp:test-async-funcs/hello@0.1.0#hello-world": "func() -> string",
		}},
		{"smoke", "test:smoke/imports", "thunk", map[string]string{"thunk": "func()"}},
		{"strings", "test:strings/imports", "test-imports return-empty roundtrip", map[string]string{"roundtrip": "func(s: string) -> string"}},
		{"variants", "test:variants/test", "test-imports test:variants/test", map[string]string{
			"test:variants/test#roundtrip-result": "func(a: result<u32, f32>) -> result<f64, u8>",
			"test:variants/test#variant-casts":    "func(a: casts) -> casts",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := loadFixture(t, tc.name).World()
			var im, ex []string
			for _, e := range w.Imports {
				if !strings.HasPrefix(e.Name, "wasi:") {
					im = append(im, e.Name)
				}
			}
			for _, e := range w.Exports {
				ex = append(ex, e.Name)
			}
			if got := strings.Join(im, " "); got != tc.imports {
				t.Errorf("imports %q, want %q", got, tc.imports)
			}
			if got := strings.Join(ex, " "); got != tc.exports {
				t.Errorf("exports %q, want %q", got, tc.exports)
			}
			for fn, want := range tc.types {
				var got string
				if iface, name, ok := strings.Cut(fn, "#"); ok {
					if e := w.Export(iface); e != nil && e.Kind == wasmhost.ExternInstance {
						if ft := e.Instance.Func(name); ft != nil {
							got = ft.String()
						}
					}
				} else if e := w.Export(fn); e != nil && e.Kind == wasmhost.ExternFunc {
					got = e.Func.String()
				}
				if got != want {
					t.Errorf("type of %s = %q, want %q", fn, got, want)
				}
			}
			// WIT() is WIT syntax: resource functions are written inside
			// their resource, never with their [constructor]/[method]/
			// [static] export names.
			wit := w.WIT()
			for _, bad := range []string{"[constructor]", "[method]", "[static]"} {
				if strings.Contains(wit, bad) {
					t.Errorf("WIT() contains %q", bad)
				}
			}
			if t.Failed() {
				t.Logf("world:\n%s", wit)
			}
		})
	}
}
