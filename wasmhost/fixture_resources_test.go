package wasmhost_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// hostResource is a host-implemented resource for the fixtures: a table of
// values by rep, and a log of destructor calls.
type hostResource struct {
	t       *testing.T
	rt      *value.ResourceType
	vals    map[uint32]uint32 // rep -> value (s32 stored as bits)
	next    uint32
	dropped []uint32
}

func newHostResource(t *testing.T, hi *wasmhost.HostInstance, name string) *hostResource {
	r := &hostResource{t: t, vals: map[uint32]uint32{}, next: 100}
	r.rt = hi.Resource(name, func(ctx context.Context, rep uint32) {
		if _, ok := r.vals[rep]; !ok {
			t.Errorf("destructor of %s called for rep %d, which is not live (dropped so far: %v)", name, rep, r.dropped)
		}
		r.dropped = append(r.dropped, rep)
		delete(r.vals, rep)
	})
	return r
}

func (r *hostResource) new(v uint32) value.Handle {
	rep := r.next
	r.next++
	r.vals[rep] = v
	return value.Handle{Type: r.rt, Rep: rep}
}

// get returns the value of a handle the guest passed, checking its type.
func (r *hostResource) get(arg any) (uint32, uint32, error) {
	h, ok := arg.(value.Handle)
	if !ok {
		return 0, 0, fmt.Errorf("argument is %T, want value.Handle", arg)
	}
	if h.Type != r.rt {
		return 0, 0, fmt.Errorf("handle %v is not a %s", h, r.rt)
	}
	v, ok := r.vals[h.Rep]
	if !ok {
		return 0, 0, fmt.Errorf("handle %v: rep %d is not live", h, h.Rep)
	}
	return h.Rep, v, nil
}

// resources (tests/runtime/resources): a host resource y used by the
// guest's test-imports, and guest resources x, z, kebab-case used by the
// host through the exports interface.
func TestFixtureResources(t *testing.T) {
	hc := newHostCalls(t)
	im := wasmhost.NewImports()
	hi := im.Instance("imports")
	y := newHostResource(t, hi, "y")
	var consumed []uint32
	hi.Func("[constructor]y", hc.fn("[constructor]y", func(args []any) ([]any, error) {
		return []any{y.new(uint32(args[0].(int32)))}, nil
	}))
	hi.Func("[method]y.get-a", hc.fn("[method]y.get-a", func(args []any) ([]any, error) {
		_, v, err := y.get(args[0])
		return []any{int32(v)}, err
	}))
	hi.Func("[method]y.set-a", hc.fn("[method]y.set-a", func(args []any) ([]any, error) {
		rep, _, err := y.get(args[0])
		y.vals[rep] = uint32(args[1].(int32))
		return nil, err
	}))
	hi.Func("[static]y.add", hc.fn("[static]y.add", func(args []any) ([]any, error) {
		// The guest gives up its own<y>: the host now owns it and, having
		// no further use for it, forgets it (no destructor: that runs only
		// for the guest's drops).
		rep, v, err := y.get(args[0])
		if err != nil {
			return nil, err
		}
		consumed = append(consumed, rep)
		return []any{y.new(v + uint32(args[1].(int32)))}, nil
	}))
	f := newFx(t, "resources", im)

	const p = "exports#"
	f.check(p+"test-imports", nil, value.Ok(nil))
	hc.expect("[constructor]y", "[method]y.get-a", "[method]y.set-a", "[static]y.add")
	// wasm.c: y(10)=100; add(y, 10)=101 (y moved); drop(y) — whose handle
	// index the guest's table reused for 101 — drops 101; y1(1)=102,
	// y2(2)=103; add(y1, 20)=104, add(y2, 30)=105 (both moved), and the
	// drops of y1 and y2 drop 104 and 105.
	if fmt.Sprint(consumed) != "[100 102 103]" {
		t.Errorf("[static]y.add consumed reps %v, want [100 102 103]", consumed)
	}
	if fmt.Sprint(y.dropped) != "[101 104 105]" {
		t.Errorf("y destructor ran for reps %v, want [101 104 105] (one per resource.drop of an own handle)", y.dropped)
	}

	// The wasmtime host's sequence (tests/runtime/resources.rs).
	x := f.handle(p+"[constructor]x", int32(5))
	f.check(p+"[method]x.get-a", []any{x}, int32(5))
	f.check(p+"[method]x.set-a", []any{x, int32(10)})
	f.check(p+"[method]x.get-a", []any{x}, int32(10))
	z1 := f.handle(p+"[constructor]z", int32(10))
	f.check(p+"[method]z.get-a", []any{z1}, int32(10))
	z2 := f.handle(p+"[constructor]z", int32(20))
	f.check(p+"[method]z.get-a", []any{z2}, int32(20))
	if z1.Type != z2.Type || z1.Rep == z2.Rep || z1.Type == x.Type {
		t.Errorf("handles x=%v z1=%v z2=%v: want z1, z2 of one type with distinct reps, x of another", x, z1, z2)
	}
	// The instance's function types name the same resource types as the
	// handles it returns, so a host can check or build handles from them.
	if ft := f.fn(p + "[method]x.get-a").Type(); len(ft.Params) != 1 || ft.Params[0].Type.Kind != value.KindBorrow || ft.Params[0].Type.Resource != x.Type {
		t.Errorf("[method]x.get-a type %s: self is not borrow of the type of handle %v", ft, x)
	}
	if ft := f.fn(p + "[constructor]z").Type(); len(ft.Results) != 1 || ft.Results[0].Type.Kind != value.KindOwn || ft.Results[0].Type.Resource != z1.Type {
		t.Errorf("[constructor]z type %s: result is not own of the type of handle %v", ft, z1)
	}
	xAdd := f.handle(p+"[static]x.add", x, int32(5)) // x moves into the guest
	f.check(p+"[method]x.get-a", []any{xAdd}, int32(15))
	zAdd := f.handle(p+"add", z1, z2) // borrows
	f.check(p+"[method]z.get-a", []any{zAdd}, int32(30))
	f.check(p+"[method]z.get-a", []any{z1}, int32(10)) // still owned after the borrow

	start := f.call(p + "[static]z.num-dropped")[0].(uint32) // wasm.c returns drops+1
	f.drop(z1)
	f.drop(z2)
	f.check(p+"[static]z.num-dropped", nil, start+2)
	f.check(p+"consume", []any{xAdd})
	f.drop(zAdd)
	f.check(p+"[static]z.num-dropped", nil, start+3)

	k := f.handle(p+"[constructor]kebab-case", uint32(42))
	f.check(p+"[method]kebab-case.get-a", []any{k}, uint32(42))
	f.check(p+"[static]kebab-case.take-owned", []any{k}, uint32(42))

	// Many live guest resources at once, then dropped in another order.
	var zs []value.Handle
	for i := 0; i < 50; i++ {
		zs = append(zs, f.handle(p+"[constructor]z", int32(i)))
	}
	for i := 49; i >= 0; i -= 2 {
		f.check(p+"[method]z.get-a", []any{zs[i]}, int32(i))
		f.drop(zs[i])
	}
	for i := 0; i < 50; i += 2 {
		f.check(p+"[method]z.get-a", []any{zs[i]}, int32(i))
		f.drop(zs[i])
	}
	f.check(p+"[static]z.num-dropped", nil, start+53)
}

// handle calls an export returning one own handle.
func (f *fx) handle(name string, args ...any) value.Handle {
	f.t.Helper()
	res := f.call(name, args...)
	h, ok := res[0].(value.Handle)
	if len(res) != 1 || !ok {
		f.t.Fatalf("%s returned %s, want one value.Handle", name, fmtVal(res))
	}
	return h
}

// drop drops a guest resource the host owns, running its destructor.
func (f *fx) drop(h value.Handle) {
	f.t.Helper()
	if err := f.inst.Drop(f.ctx, h); err != nil {
		f.t.Fatalf("Drop(%v): %v", h, err)
	}
}

// TestFixtureResourcesMisuse: the host misusing handles of guest resources
// must get errors, not run a destructor twice or hand the guest a dangling
// pointer (the C guest's destructor frees its rep; a second free corrupts
// its heap).
func TestFixtureResourcesMisuse(t *testing.T) {
	im := wasmhost.NewImports()
	hi := im.Instance("imports")
	newHostResource(t, hi, "y")
	for _, fn := range []string{"[constructor]y", "[method]y.get-a", "[method]y.set-a", "[static]y.add"} {
		hi.Func(fn, func(context.Context, []any) ([]any, error) { return nil, fmt.Errorf("unused") })
	}
	f := newFx(t, "resources", im)
	const p = "exports#"
	z := f.handle(p+"[constructor]z", int32(1))
	x := f.handle(p+"[constructor]x", int32(1))

	t.Run("wrong resource type", func(t *testing.T) {
		if _, err := f.tryCall(p+"[method]x.get-a", z); err == nil {
			t.Errorf("[method]x.get-a accepted a z handle %v", z)
		}
	})
	t.Run("double drop", func(t *testing.T) {
		z2 := f.handle(p+"[constructor]z", int32(2))
		start := f.call(p + "[static]z.num-dropped")[0].(uint32)
		f.drop(z2)
		if err := f.inst.Drop(f.ctx, z2); err == nil {
			t.Errorf("second Drop(%v) succeeded", z2)
		}
		if got := f.call(p + "[static]z.num-dropped")[0].(uint32); got != start+1 {
			t.Errorf("z destructor ran %d times for one resource", got-start)
		}
	})
	t.Run("use after drop", func(t *testing.T) {
		z3 := f.handle(p+"[constructor]z", int32(3))
		f.drop(z3)
		if _, err := f.tryCall(p+"[method]z.get-a", z3); err == nil {
			t.Errorf("[method]z.get-a on dropped handle %v succeeded", z3)
		}
	})
	t.Run("use after move", func(t *testing.T) {
		x2 := f.handle(p+"[constructor]x", int32(2))
		f.call(p+"consume", x2) // own<x> moves to the guest, which drops it
		if _, err := f.tryCall(p+"[method]x.get-a", x2); err == nil {
			t.Errorf("[method]x.get-a on moved handle %v succeeded", x2)
		}
	})
	t.Run("forged rep", func(t *testing.T) {
		forged := value.Handle{Type: x.Type, Rep: x.Rep + 4096}
		if _, err := f.tryCall(p+"[method]x.get-a", forged); err == nil {
			t.Errorf("[method]x.get-a on never-created handle %v succeeded", forged)
		}
	})
	t.Run("nil type", func(t *testing.T) {
		if _, err := f.tryCall(p+"[method]x.get-a", value.Handle{Rep: x.Rep}); err == nil {
			t.Errorf("[method]x.get-a on a handle without a type succeeded")
		}
	})
	if t.Failed() {
		return
	}
	// After refused misuse the instance still works.
	f.check(p+"[method]x.get-a", []any{x}, int32(1))
}

// resource-borrow-simple: a world-level host resource r; the guest
// constructs one, lends it to the import test, and drops it.
func TestFixtureResourceBorrowSimple(t *testing.T) {
	hc := newHostCalls(t)
	im := wasmhost.NewImports()
	// A world-level resource: the only way to make a ResourceType with no
	// interface is an Instance named "".
	r := newHostResource(t, im.Instance(""), "r")
	im.Func("[constructor]r", hc.fn("[constructor]r", func(args []any) ([]any, error) {
		return []any{r.new(7)}, nil
	}))
	var lent []any
	im.Func("test", hc.fn("test", func(args []any) ([]any, error) {
		lent = append(lent, args...)
		_, _, err := r.get(args[0])
		return nil, err
	}))
	f := newFx(t, "resource-borrow-simple", im)
	for i := 0; i < 3; i++ {
		f.check("test-imports", nil)
	}
	hc.expect("[constructor]r", "test")
	want := []any{value.Handle{Type: r.rt, Rep: 100}, value.Handle{Type: r.rt, Rep: 101}, value.Handle{Type: r.rt, Rep: 102}}
	if !valuesEqual(lent, want) {
		t.Errorf("test(borrow<r>) got %s, want %s", fmtVal(lent), fmtVal(want))
	}
	if fmt.Sprint(r.dropped) != "[100 101 102]" {
		t.Errorf("r destructor ran for %v, want [100 101 102]", r.dropped)
	}
}

// resource-import-and-export: the guest's exported thing wraps the host's
// imported thing; world-level toplevel-import/-export pass an own<thing>
// of the imported (host) resource through the guest.
func TestFixtureResourceImportAndExport(t *testing.T) {
	hc := newHostCalls(t)
	im := wasmhost.NewImports()
	hi := im.Instance("test:resource-import-and-export/test")
	th := newHostResource(t, hi, "thing")
	hi.Func("[constructor]thing", hc.fn("[constructor]thing", func(args []any) ([]any, error) {
		return []any{th.new(args[0].(uint32) + 1)}, nil
	}))
	foo := func(a any) (uint32, error) {
		_, v, err := th.get(a)
		return v + 2, err
	}
	hi.Func("[method]thing.foo", hc.fn("[method]thing.foo", func(args []any) ([]any, error) {
		v, err := foo(args[0])
		return []any{v}, err
	}))
	hi.Func("[method]thing.bar", hc.fn("[method]thing.bar", func(args []any) ([]any, error) {
		rep, _, err := th.get(args[0])
		th.vals[rep] = args[1].(uint32) + 3
		return nil, err
	}))
	hi.Func("[static]thing.baz", hc.fn("[static]thing.baz", func(args []any) ([]any, error) {
		a, err := foo(args[0])
		if err != nil {
			return nil, err
		}
		b, err := foo(args[1])
		if err != nil {
			return nil, err
		}
		return []any{th.new(a + b + 4 + 1)}, nil
	}))
	var passed []any
	im.Func("toplevel-import", hc.fn("toplevel-import", func(args []any) ([]any, error) {
		passed = append(passed, args[0])
		_, _, err := th.get(args[0])
		return []any{args[0]}, err
	}))
	f := newFx(t, "resource-import-and-export", im)

	const p = "test:resource-import-and-export/test#"
	thing1 := f.handle(p+"[constructor]thing", uint32(42))
	if thing1.Type == th.rt {
		t.Errorf("the exported thing has the imported thing's type %v", th.rt)
	}
	f.check(p+"[method]thing.foo", []any{thing1}, uint32(48))
	f.check(p+"[method]thing.bar", []any{thing1, uint32(33)})
	f.check(p+"[method]thing.foo", []any{thing1}, uint32(43))
	thing2 := f.handle(p+"[constructor]thing", uint32(81))
	thing3 := f.handle(p+"[static]thing.baz", thing1, thing2)
	f.check(p+"[method]thing.foo", []any{thing3}, uint32(33+3+3+81+1+1+2+2+4+1+2+4+1+1+2+2))
	hc.expect("[constructor]thing", "[method]thing.foo", "[method]thing.bar", "[static]thing.baz")
	// baz's temporary host thing is dropped by the guest: one destructor.
	if len(th.dropped) != 1 {
		t.Errorf("host thing destructor ran for %v, want once (baz's temporary)", th.dropped)
	}
	f.drop(thing3)

	// toplevel-export(own<host thing>) -> toplevel-import -> back to us.
	h := th.new(5)
	res := f.call("toplevel-export", h)
	if !valuesEqual(res, []any{h}) {
		t.Errorf("toplevel-export(%v) = %s, want the same handle back", h, fmtVal(res))
	}
	if !valuesEqual(passed, []any{h}) {
		t.Errorf("toplevel-import got %s, want [%v]", fmtVal(passed), h)
	}
	if len(th.dropped) != 1 {
		t.Errorf("passing a host thing through the guest ran its destructor: %v", th.dropped)
	}
}

// TestFixtureBadHandles: handles of the wrong resource type, from the host
// into an export or from an import back to the guest, are errors.
func TestFixtureBadHandles(t *testing.T) {
	t.Run("export argument of the other thing", func(t *testing.T) {
		im := wasmhost.NewImports()
		hi := im.Instance("test:resource-import-and-export/test")
		th := newHostResource(t, hi, "thing")
		hi.Func("[constructor]thing", func(_ context.Context, args []any) ([]any, error) {
			return []any{th.new(args[0].(uint32))}, nil
		})
		for _, fn := range []string{"[method]thing.foo", "[method]thing.bar", "[static]thing.baz"} {
			hi.Func(fn, failing)
		}
		im.Func("toplevel-import", func(_ context.Context, args []any) ([]any, error) { return args, nil })
		f := newFx(t, "resource-import-and-export", im)
		// toplevel-export takes the imported (host) thing; the exported
		// (guest) thing is another type.
		guest := f.handle("test:resource-import-and-export/test#[constructor]thing", uint32(1))
		if _, err := f.tryCall("toplevel-export", guest); err == nil {
			t.Errorf("toplevel-export accepted the exported thing %v for the imported one", guest)
		}
		if _, err := f.tryCall("test:resource-import-and-export/test#[method]thing.foo", th.new(1)); err == nil {
			t.Errorf("[method]thing.foo of the exported thing accepted a host thing")
		}
		if p := f.inst.Poisoned(); p != nil {
			t.Fatalf("bad handle arguments poisoned the instance: %v", p)
		}
		h := th.new(9)
		f.check("toplevel-export", []any{h}, h)
	})
	for _, tc := range []struct {
		name string
		ret  func(y *value.ResourceType) any
	}{
		{"import returns a handle of another type", func(*value.ResourceType) any {
			return value.Handle{Type: &value.ResourceType{Name: "y", Interface: "imports"}, Rep: 1}
		}},
		{"import returns a handle without a type", func(*value.ResourceType) any { return value.Handle{Rep: 1} }},
		{"import returns a rep, not a handle", func(*value.ResourceType) any { return uint32(1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			im := wasmhost.NewImports()
			hi := im.Instance("imports")
			y := hi.Resource("y", nil)
			hi.Func("[constructor]y", func(context.Context, []any) ([]any, error) { return []any{tc.ret(y)}, nil })
			for _, fn := range []string{"[method]y.get-a", "[method]y.set-a", "[static]y.add"} {
				hi.Func(fn, failing)
			}
			f := newFx(t, "resources", im)
			_, err := f.tryCall("exports#test-imports")
			if err == nil {
				t.Fatalf("[constructor]y returning %s: test-imports succeeded", fmtVal(tc.ret(y)))
			}
			if !strings.Contains(err.Error(), "[constructor]y") {
				t.Errorf("error does not name [constructor]y: %v", err)
			}
		})
	}
}

// TestFixtureDropLifecycle: Drop on an instance that trapped or was closed
// fails cleanly instead of running guest code in a dead instance.
func TestFixtureDropLifecycle(t *testing.T) {
	mk := func(t *testing.T) *fx {
		im := wasmhost.NewImports()
		hi := im.Instance("imports")
		newHostResource(t, hi, "y")
		for _, fn := range []string{"[constructor]y", "[method]y.get-a", "[method]y.set-a", "[static]y.add"} {
			hi.Func(fn, failing) // test-imports traps on the first
		}
		return newFx(t, "resources", im)
	}
	t.Run("after a trap", func(t *testing.T) {
		f := mk(t)
		z := f.handle("exports#[constructor]z", int32(1))
		if _, err := f.tryCall("exports#test-imports"); err == nil {
			t.Fatalf("test-imports did not trap")
		}
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v", r)
					t.Errorf("Drop on a poisoned instance panicked: %v", r)
				}
			}()
			err = f.inst.Drop(f.ctx, z)
		}()
		if err == nil {
			t.Errorf("Drop on a poisoned instance succeeded (ran the guest's destructor)")
		}
	})
	t.Run("after Close", func(t *testing.T) {
		f := mk(t)
		z := f.handle("exports#[constructor]z", int32(1))
		f.inst.Close(f.ctx)
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v", r)
					t.Errorf("Drop on a closed instance panicked: %v", r)
				}
			}()
			err = f.inst.Drop(f.ctx, z)
		}()
		if err == nil {
			t.Errorf("Drop on a closed instance succeeded")
		}
	})
}
