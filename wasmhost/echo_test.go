package wasmhost_test

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// echoRoutes are the four toolchains that build our echo component from
// source (components/echo); each must behave the same.
var echoRoutes = []string{"echo-c", "echo-wat", "echo-js", "echo-go"}

// echoImports provides wbox:echo/log, recording what the guest logs.
func echoImports(logged *[]string) *wasmhost.Imports {
	im := wasmhost.NewImports()
	im.Instance("wbox:echo/log@0.1.0").TypedFunc("log",
		&value.FuncType{Params: []value.Param{{Name: "msg", Type: value.String}}},
		func(ctx context.Context, args []any) ([]any, error) {
			*logged = append(*logged, args[0].(string))
			return nil, nil
		})
	return im
}

func TestEchoRoutes(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	for _, route := range echoRoutes {
		t.Run(route, func(t *testing.T) {
			wasm, err := os.ReadFile(testcomponents.Path(t, route))
			if err != nil {
				t.Fatal(err)
			}
			c, err := rt.Load(ctx, wasm)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ctx)
			if e := c.World().Export("wbox:echo/echo@0.1.0"); e == nil || e.Instance.Func("echo") == nil {
				t.Fatalf("world lacks wbox:echo/echo@0.1.0#echo:\n%s", c.World().WIT())
			}
			var logged []string
			im := echoImports(&logged)
			if route == "echo-go" {
				im.Merge(wasiImports(t))
			}
			inst, err := c.Instantiate(ctx, im)
			if err != nil {
				t.Fatal(err)
			}
			defer inst.Close(ctx)
			echo, err := inst.Func("wbox:echo/echo@0.1.0#echo")
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				text string
				tags []any
				want value.Variant
			}{
				{"hi", []any{"a", "b"}, value.Ok([]any{"hi", []any{"b", "a"}})},
				{"héllo, 世界 🎉", []any{}, value.Ok([]any{"héllo, 世界 🎉", []any{}})},
				{"x", []any{"1", "", "three", strings.Repeat("long", 1000)}, value.Ok([]any{"x", []any{strings.Repeat("long", 1000), "three", "", "1"}})},
				{"", []any{"a"}, value.Err("empty text")},
			} {
				logged = logged[:0]
				res, err := echo.Call(ctx, []any{tc.text, tc.tags})
				if err != nil {
					t.Fatalf("echo(%q): %v", tc.text, err)
				}
				if !reflect.DeepEqual(res, []any{tc.want}) {
					t.Errorf("echo(%q, %v) = %#v, want %#v", tc.text, tc.tags, res, tc.want)
				}
				if len(logged) != 1 || logged[0] != tc.text {
					t.Errorf("echo(%q) logged %q, want exactly [%q]", tc.text, logged, tc.text)
				}
			}
			logged = logged[:0]
			rtrip, err := inst.Func("wbox:echo/echo@0.1.0#roundtrip")
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{"", "a", strings.Repeat("x", 64), "ünïcödé ✓", strings.Repeat("🎉", 10000)} {
				res, err := rtrip.Call(ctx, s)
				if err != nil {
					t.Fatalf("roundtrip: %v", err)
				}
				if res[0] != s {
					t.Errorf("roundtrip(%.20q) = %.20q", s, res[0])
				}
			}
			if len(logged) != 0 {
				t.Errorf("roundtrip logged %q", logged)
			}
		})
	}
}

func newRuntime(t testing.TB) *wasmhost.Runtime {
	t.Helper()
	ctx := context.Background()
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{CacheDir: testCacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(ctx) })
	return rt
}

// testCacheDir shares compiled code between test runs, as users do.
func testCacheDir(t testing.TB) string {
	d, err := os.UserCacheDir()
	if err != nil {
		return t.TempDir()
	}
	return d + "/wbox/test-compiled"
}

// An interface imported only for its types needs no host: the resources
// fixture imports wasi:clocks/wall-clock for its datetime record alone.
func TestTypesOnlyImport(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	wasm, err := os.ReadFile(testcomponents.Fixture(t, "resources"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := rt.Load(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	clock := c.World().Import("wasi:clocks/wall-clock@0.2.0")
	if clock == nil || !clock.Instance.TypesOnly() {
		t.Fatalf("wall-clock import = %+v, want an interface of types only", clock)
	}
	if imp := c.World().Import("wasi:io/streams@0.2.0"); imp == nil || imp.Instance.TypesOnly() {
		t.Fatalf("wasi:io/streams is not types-only")
	}
	// Stub every import but the types-only one: instantiation must not ask
	// the host for wall-clock.
	im := wasmhost.NewImports()
	for _, e := range c.World().Imports {
		if e.Kind == wasmhost.ExternInstance && !e.Instance.TypesOnly() {
			hi := im.Instance(e.Name)
			for _, x := range e.Instance.Exports {
				switch {
				case x.Kind == wasmhost.ExternFunc:
					hi.Func(x.Name, func(context.Context, []any) ([]any, error) { return nil, nil })
				case x.Resource != nil:
					hi.Resource(x.Name, nil)
				}
			}
		}
	}
	inst, err := c.Instantiate(ctx, im)
	if err != nil {
		t.Fatalf("instantiate without the types-only interface: %v", err)
	}
	inst.Close(ctx)
}
