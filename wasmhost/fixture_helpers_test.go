package wasmhost_test

// Helpers for the conformance tests over the third-party components in
// shared/fixtures/components (see fixture_*_test.go). Each fixture comes from
// wit-bindgen's runtime tests (tests/runtime/<name>/wasm.c and <name>.rs at
// v0.40.0 for the C/C++ guests, built with wit-bindgen-c 0.39; only lists
// differs between the two, by list-param-large): the guest's test-imports export calls our Go imports and asserts
// what they return, so a wrong host answer traps the guest; the tests then
// call the exports the way wit-bindgen's wasmtime host (tests/runtime/<name>.rs)
// does and check the results.

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// fixtureRT is shared by every fixture test: compiling the fixtures
// once (the on-disk cache makes later runs fast) keeps the suite quick.
var (
	fixtureRTOnce sync.Once
	fixtureRT     *wasmhost.Runtime
	fixtureRTErr  error
	fixtureComps  sync.Map // name -> *wasmhost.Component
)

// closeFixtureRuntime is called by TestMain after all tests.
func closeFixtureRuntime() {
	if fixtureRT != nil {
		fixtureRT.Close(context.Background())
	}
}

// loadFixture loads shared/fixtures/components/<name>.component.wasm.
func loadFixture(t testing.TB, name string) *wasmhost.Component {
	t.Helper()
	path := testcomponents.Fixture(t, name)
	if c, ok := fixtureComps.Load(name); ok {
		return c.(*wasmhost.Component)
	}
	ctx := context.Background()
	fixtureRTOnce.Do(func() {
		fixtureRT, fixtureRTErr = wasmhost.NewRuntime(ctx, wasmhost.Config{CacheDir: testCacheDir(t)})
	})
	if fixtureRTErr != nil {
		t.Fatalf("NewRuntime: %v", fixtureRTErr)
	}
	wasm, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := fixtureRT.Load(ctx, wasm)
	if err != nil {
		t.Fatalf("Load %s: %v", name, err)
	}
	fixtureComps.Store(name, c)
	return c
}

// fx is one instance of a fixture under test.
type fx struct {
	t      *testing.T
	ctx    context.Context
	name   string
	comp   *wasmhost.Component
	inst   *wasmhost.Instance
	stdout bytes.Buffer
	stderr bytes.Buffer
}

// newFx loads fixture name and instantiates it with im, plus WASI for
// whatever wasi:* interfaces the fixture imports. The instance is closed
// when the test ends.
func newFx(t *testing.T, name string, im *wasmhost.Imports) *fx {
	t.Helper()
	return instantiateFx(t, name, loadFixture(t, name), im)
}

// newFxWith is newFx on a runtime of its own, configured by cfg.
func newFxWith(t *testing.T, name string, im *wasmhost.Imports, cfg wasmhost.Config) *fx {
	t.Helper()
	ctx := context.Background()
	if cfg.CacheDir == "" {
		cfg.CacheDir = testCacheDir(t)
	}
	rt, err := wasmhost.NewRuntime(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(ctx) })
	wasm, err := os.ReadFile(testcomponents.Fixture(t, name))
	if err != nil {
		t.Fatal(err)
	}
	c, err := rt.Load(ctx, wasm)
	if err != nil {
		t.Fatalf("Load %s: %v", name, err)
	}
	return instantiateFx(t, name, c, im)
}

func instantiateFx(t *testing.T, name string, c *wasmhost.Component, im *wasmhost.Imports) *fx {
	t.Helper()
	f := &fx{t: t, ctx: context.Background(), name: name, comp: c}
	all := wasmhost.NewImports()
	if importsWASI(f.comp) {
		all.Merge(fixtureWASI(t, &f.stdout, &f.stderr))
	}
	all.Merge(im)
	inst, err := f.comp.Instantiate(f.ctx, all)
	if err != nil {
		t.Fatalf("instantiate %s: %v", name, err)
	}
	f.inst = inst
	t.Cleanup(func() {
		if err := inst.Close(f.ctx); err != nil {
			t.Errorf("close %s: %v", name, err)
		}
	})
	return f
}

func importsWASI(c *wasmhost.Component) bool {
	for _, e := range c.World().Imports {
		if strings.HasPrefix(e.Name, "wasi:") {
			return true
		}
	}
	return false
}

// fn looks an export up, failing the test if it is missing.
func (f *fx) fn(name string) *wasmhost.Func {
	f.t.Helper()
	fn, err := f.inst.Func(name)
	if err != nil {
		f.t.Fatalf("%s: Func(%q): %v", f.name, name, err)
	}
	return fn
}

// tryCall calls an export and returns its error, adding what the guest
// printed to stdout/stderr (an assert() failure in the C guest prints there
// before it traps).
func (f *fx) tryCall(name string, args ...any) ([]any, error) {
	f.t.Helper()
	fn := f.fn(name)
	f.stdout.Reset()
	f.stderr.Reset()
	res, err := callNoPanic(f.ctx, fn, args)
	if err != nil {
		if out := strings.TrimSpace(f.stdout.String() + f.stderr.String()); out != "" {
			err = fmt.Errorf("%w\n\tguest output: %s", err, out)
		}
	}
	return res, err
}

// callNoPanic turns a panic in Call into an error, so one host bug fails one
// check instead of the whole test binary.
func callNoPanic(ctx context.Context, fn *wasmhost.Func, args []any) (res []any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("Call panicked: %v", r)
		}
	}()
	return fn.Call(ctx, args...)
}

// call calls an export and fails the test (fatally: a trap poisons the
// instance) on error.
func (f *fx) call(name string, args ...any) []any {
	f.t.Helper()
	res, err := f.tryCall(name, args...)
	if err != nil {
		f.t.Fatalf("%s: %s(%s): %v", f.name, name, fmtArgs(args), err)
	}
	return res
}

// check calls an export and compares its results with want (deeply, with
// NaN equal to NaN).
func (f *fx) check(name string, args []any, want ...any) {
	f.t.Helper()
	got := f.call(name, args...)
	if want == nil {
		want = []any{}
	}
	if got == nil {
		got = []any{}
	}
	if !valuesEqual(got, want) {
		f.t.Errorf("%s: %s(%s)\n\tgot  %s\n\twant %s", f.name, name, fmtArgs(args), fmtVal(got), fmtVal(want))
	}
}

// valuesEqual is reflect.DeepEqual, except that NaN equals NaN and a nil
// and an empty []any or []byte are equal.
func valuesEqual(a, b any) bool {
	switch a := a.(type) {
	case float32:
		b, ok := b.(float32)
		return ok && (a == b && math.Signbit(float64(a)) == math.Signbit(float64(b)) || a != a && b != b)
	case float64:
		b, ok := b.(float64)
		return ok && (a == b && math.Signbit(a) == math.Signbit(b) || a != a && b != b)
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !valuesEqual(a[i], b[i]) {
				return false
			}
		}
		return true
	case []byte:
		b, ok := b.([]byte)
		return ok && bytes.Equal(a, b)
	case value.Variant:
		b, ok := b.(value.Variant)
		return ok && a.Case == b.Case && valuesEqual(a.Value, b.Value)
	}
	return reflect.DeepEqual(a, b)
}

// fmtVal prints a value with its Go types, truncating long data.
func fmtVal(v any) string {
	s := fmt.Sprintf("%#v", v)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func fmtArgs(args []any) string {
	var parts []string
	for _, a := range args {
		parts = append(parts, fmtVal(a))
	}
	return strings.Join(parts, ", ")
}

// hostCalls records which imports the guest called, so a test can prove the
// guest's test-imports really exercised each one.
type hostCalls struct {
	t      *testing.T
	counts map[string]int
}

func newHostCalls(t *testing.T) *hostCalls { return &hostCalls{t: t, counts: map[string]int{}} }

// fn wraps a host function: it counts calls, and turns a panic (a failed
// type assertion on a badly lifted argument) into an error that traps the
// guest and a test failure naming the function and its arguments.
func (h *hostCalls) fn(name string, fn func(args []any) ([]any, error)) wasmhost.HostFunc {
	return func(ctx context.Context, args []any) (res []any, err error) {
		h.counts[name]++
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("host %s(%s) panicked: %v", name, fmtArgs(args), r)
			}
			if err != nil && h.t != nil {
				h.t.Errorf("import %v", err)
			}
		}()
		return fn(args)
	}
}

// expect asserts that the guest called each named import at least once.
func (h *hostCalls) expect(names ...string) {
	h.t.Helper()
	for _, n := range names {
		if h.counts[n] == 0 {
			h.t.Errorf("the guest never called import %s", n)
		}
	}
}

// want returns an error (trapping the guest) when got differs from want,
// the way the Rust host's assert_eq! panics.
func want(what string, got, want any) error {
	if !valuesEqual(got, want) {
		return fmt.Errorf("%s: host got %s, want %s", what, fmtVal(got), fmtVal(want))
	}
	return nil
}
