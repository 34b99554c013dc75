package wasihttp

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
	"github.com/wbox-dev/wbox/wasmhost/wasi"
)

func TestMain(m *testing.M) {
	code := m.Run()
	closeShared()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// tester calls the functions a Host registered directly, as a guest
// would, checking every argument and result against the function's WIT
// type.
type tester struct {
	t  *testing.T
	h  *Host
	io *wasi.Host
}

func newTester(t *testing.T, cfg Config) *tester {
	t.Helper()
	io := wasi.New(wasi.Config{})
	h := New(io, cfg)
	h.Imports()
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		io.Close()
	})
	return &tester{t: t, h: h, io: io}
}

// try calls iface#fn ("types#[method]fields.get").
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
			x.t.Fatalf("%s returned a bad %s: %v (%#v)", name, p.Type, err, res[i])
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
		x.t.Fatalf("%s returned err(%v)", name, v.Value)
	}
	return v.Value
}

// err calls a function returning a result and returns the err payload.
func (x *tester) err(name string, args ...any) any {
	x.t.Helper()
	v := x.call(name, args...).(value.Variant)
	if v.Case != 1 {
		x.t.Fatalf("%s returned ok(%v), want an error", name, v.Value)
	}
	return v.Value
}

// drop runs the destructor of a resource handle, as the guest dropping it.
func (x *tester) drop(hd value.Handle) {
	x.t.Helper()
	d, ok := x.h.dtors[hd.Type.Name]
	if !ok {
		x.t.Fatalf("no resource %s", hd.Type.Name)
	}
	d(context.Background(), hd.Rep)
}

func handle(v any) value.Handle { return v.(value.Handle) }

const (
	fNew      = "types#[constructor]fields"
	fFromList = "types#[static]fields.from-list"
	fGet      = "types#[method]fields.get"
	fHas      = "types#[method]fields.has"
	fSet      = "types#[method]fields.set"
	fDelete   = "types#[method]fields.delete"
	fAppend   = "types#[method]fields.append"
	fEntries  = "types#[method]fields.entries"
	fClone    = "types#[method]fields.clone"
)

// The http-hello component (components/http-hello), shared by the tests
// that run it.
var shared struct {
	once sync.Once
	rt   *wasmhost.Runtime
	c    *wasmhost.Component
	err  error
}

func closeShared() {
	if shared.rt != nil {
		shared.rt.Close(context.Background())
	}
}

// helloComponent loads http-hello once per test binary (compiling the
// ~14 MB component takes seconds; the cache makes later runs faster).
func helloComponent(t testing.TB) *wasmhost.Component {
	t.Helper()
	path := testcomponents.Path(t, "http-hello")
	shared.once.Do(func() {
		ctx := context.Background()
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{CacheDir: filepath.Join(dir, "wbox", "test-compiled")})
		if err != nil {
			shared.err = err
			return
		}
		shared.rt = rt
		b, err := os.ReadFile(path)
		if err != nil {
			shared.err = err
			return
		}
		shared.c, shared.err = rt.Load(ctx, b)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.c
}

// repObj returns the object of rep in t, or the zero value.
func repObj[T any](t *table[T], rep uint32) T {
	v, _ := t.Get(rep)
	return v
}
