package wasi

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// tester calls the functions a Host registered directly, checking every
// argument and result against the function's WIT type.
type tester struct {
	t *testing.T
	h *Host
}

func newTester(t *testing.T, cfg Config) *tester {
	t.Helper()
	h := New(cfg)
	h.Imports()
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &tester{t: t, h: h}
}

// try calls iface#fn ("wasi:io/streams#[method]output-stream.write").
func (x *tester) try(ctx context.Context, name string, args ...any) ([]any, error) {
	x.t.Helper()
	f, ok := x.h.funcs[name]
	if !ok {
		x.t.Fatalf("no function %s", name)
	}
	if len(args) != len(f.typ.Params) {
		x.t.Fatalf("%s: %d arguments for %s", name, len(args), f.typ)
	}
	for i, p := range f.typ.Params {
		if err := value.Check(p.Type, args[i]); err != nil {
			x.t.Fatalf("%s: argument %s: %v", name, p.Name, err)
		}
	}
	res, err := f.fn(ctx, args)
	if err != nil {
		return nil, err
	}
	if len(res) != len(f.typ.Results) {
		x.t.Fatalf("%s returned %d results for %s", name, len(res), f.typ)
	}
	for i, p := range f.typ.Results {
		if err := value.Check(p.Type, res[i]); err != nil {
			x.t.Fatalf("%s returned a bad %s: %v", name, p.Type, err)
		}
	}
	return res, nil
}

// call calls and fails the test on an error; it returns the single result
// (nil when there is none).
func (x *tester) call(name string, args ...any) any {
	x.t.Helper()
	res, err := x.try(context.Background(), name, args...)
	if err != nil {
		x.t.Fatalf("%s: %v", name, err)
	}
	if len(res) == 0 {
		return nil
	}
	return res[0]
}

// ok calls a function returning a result and returns the ok payload.
func (x *tester) ok(name string, args ...any) any {
	x.t.Helper()
	v := x.call(name, args...).(value.Variant)
	if v.Case != 0 {
		x.t.Fatalf("%s returned err(%v)", name, x.describeErr(v.Value))
	}
	return v.Value
}

// fsErr calls a function returning result<_, error-code> and returns the
// error code, failing the test on ok.
func (x *tester) fsErr(name string, args ...any) errorCode {
	x.t.Helper()
	v := x.call(name, args...).(value.Variant)
	if v.Case != 1 {
		x.t.Fatalf("%s returned ok(%v), want an error", name, v.Value)
	}
	return errorCode(v.Value.(value.Variant).Case)
}

func (x *tester) wantFsErr(want errorCode, name string, args ...any) {
	x.t.Helper()
	if got := x.fsErr(name, args...); got != want {
		x.t.Errorf("%s(%v) = %s, want %s", name, args[1:], got, want)
	}
}

func (x *tester) describeErr(v any) any {
	if vv, ok := v.(value.Variant); ok {
		if h, ok := vv.Value.(value.Handle); ok {
			return x.call("wasi:io/error#[method]error.to-debug-string", h)
		}
		return errorCode(vv.Case).String()
	}
	return v
}

// drop runs the destructor of a resource handle, as the guest dropping it.
func (x *tester) drop(hd value.Handle) {
	x.t.Helper()
	d, ok := x.h.dtors[hd.Type.Name]
	if !ok {
		x.t.Fatalf("no resource %s", hd.Type.Name)
	}
	if d != nil {
		d(context.Background(), hd.Rep)
	}
}

func handle(v any) value.Handle { return v.(value.Handle) }
