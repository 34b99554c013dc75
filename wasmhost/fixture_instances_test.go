package wasmhost_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
	"github.com/wbox-dev/wbox/wasmhost/wasi"
)

// TestFixtureInstancesIndependent: two instances of one component share
// compiled code but not state.
func TestFixtureInstancesIndependent(t *testing.T) {
	a := newFx(t, "numbers", numbersImports(t, newHostCalls(t)))
	b := newFx(t, "numbers", numbersImports(t, newHostCalls(t)))
	a.check("test:numbers/test#set-scalar", []any{uint32(11)})
	b.check("test:numbers/test#set-scalar", []any{uint32(22)})
	a.check("test:numbers/test#get-scalar", nil, uint32(11))
	b.check("test:numbers/test#get-scalar", nil, uint32(22))
	// A trap in one leaves the other alone.
	la := newFx(t, "lists", listsImports(newHostCalls(t)))
	lb := newFx(t, "lists", listsImports(newHostCalls(t)))
	if _, err := la.tryCall("test:lists/test#list-minmax16", []any{uint16(0)}, []any{int16(0)}); err == nil {
		t.Fatalf("list-minmax16 (assert(0)) did not trap")
	}
	lb.check("test:lists/test#list-result2", nil, "hello!")
}

// TestFixtureReentrance: an import that calls back into the instance it
// was called from gets an error (a component instance may not be
// re-entered), and the outer call still completes.
func TestFixtureReentrance(t *testing.T) {
	im := wasmhost.NewImports()
	var f *fx
	var inner error
	calls := 0
	im.Instance("test:smoke/imports").Func("thunk", func(ctx context.Context, args []any) ([]any, error) {
		calls++
		if calls == 1 {
			_, inner = callNoPanic(ctx, f.fn("thunk"), nil)
		}
		return nil, nil
	})
	f = newFx(t, "smoke", im)
	_, err := f.tryCall("thunk")
	if inner == nil {
		t.Errorf("re-entrant call of thunk from inside its own import succeeded (calls: %d)", calls)
	} else if strings.Contains(inner.Error(), "panicked") {
		t.Errorf("re-entrant call panicked: %v", inner)
	}
	if err != nil {
		t.Errorf("outer thunk failed after a refused re-entrant call: %v", err)
	}
	if err == nil {
		f.check("thunk", nil)
	}
}

// TestFixtureCancelledContext: on an Interruptible runtime, a call with a
// cancelled context returns an error instead of running or hanging.
func TestFixtureCancelledContext(t *testing.T) {
	f := newFxWith(t, "adder", wasmhost.NewImports(), wasmhost.Config{Interruptible: true})
	// Ordinary calls work (and, TestMain's goleak checks, leave no context
	// watcher goroutines behind).
	live, stop := context.WithCancel(context.Background())
	defer stop()
	for i := uint32(0); i < 20; i++ {
		if res, err := f.fn("docs:adder/add@0.1.0#add").Call(live, i, i); err != nil || res[0] != 2*i {
			t.Fatalf("add(%d, %d) on an Interruptible runtime = %v, %v", i, i, res, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := callNoPanic(ctx, f.fn("docs:adder/add@0.1.0#add"), []any{uint32(1), uint32(2)})
	if err == nil {
		t.Errorf("call with a cancelled context succeeded")
	} else if strings.Contains(err.Error(), "panicked") {
		t.Errorf("call with a cancelled context: %v", err)
	}
}

// TestFixtureConcurrentInstances: the runtime is safe for concurrent use,
// so goroutines may each instantiate and call their own instance (run with
// -race).
func TestFixtureConcurrentInstances(t *testing.T) {
	ctx := context.Background()
	names := []string{"numbers", "strings", "records", "resources", "lists", "adder"}
	comps := map[string]*wasmhost.Component{}
	for _, n := range names {
		comps[n] = loadFixture(t, n)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 12; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			name := names[g%len(names)]
			c := comps[name]
			for i := 0; i < 5; i++ {
				if err := concurrentRound(ctx, c, name, g*100+i); err != nil {
					errs <- fmt.Errorf("goroutine %d (%s) round %d: %w", g, name, i, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// concurrentRound instantiates c and calls one export, with no *testing.T.
func concurrentRound(ctx context.Context, c *wasmhost.Component, name string, n int) error {
	im := wasmhost.NewImports()
	if importsWASI(c) {
		h := wasi.New(wasi.Config{})
		defer h.Close()
		im.Merge(h.Imports())
	}
	var fn string
	var args, want []any
	switch name {
	case "numbers":
		im.Merge(numbersImportsWith(func(_ string, args []any) ([]any, error) { return args, nil }))
		fn, args, want = "test:numbers/test#roundtrip-u64", []any{uint64(n)}, []any{uint64(n)}
	case "strings":
		im.Merge(stringsImportsStub())
		s := fmt.Sprintf("goroutine %d 🚀", n)
		fn, args, want = "roundtrip", []any{s}, []any{s}
	case "records":
		im.Merge(recordsImportsStub())
		fn, args, want = "test:records/test#swap-tuple", []any{[]any{uint8(n), uint32(n)}}, []any{[]any{uint32(n), uint8(n)}}
	case "resources":
		hi := im.Instance("imports")
		hi.Resource("y", nil)
		for _, f := range []string{"[constructor]y", "[method]y.get-a", "[method]y.set-a", "[static]y.add"} {
			hi.Func(f, failing)
		}
		fn, args = "exports#[constructor]z", []any{int32(n)}
	case "lists":
		im.Merge(listsImports(&hostCalls{counts: map[string]int{}}))
		fn, args, want = "test:lists/test#list-result3", nil, []any{[]any{"hello,", "world!"}}
	case "adder":
		fn, args, want = "docs:adder/add@0.1.0#add", []any{uint32(n), uint32(1)}, []any{uint32(n + 1)}
	}
	inst, err := c.Instantiate(ctx, im)
	if err != nil {
		return err
	}
	defer inst.Close(ctx)
	f, err := inst.Func(fn)
	if err != nil {
		return err
	}
	got, err := f.Call(ctx, args...)
	if err != nil {
		return err
	}
	if want != nil && !valuesEqual(got, want) {
		return fmt.Errorf("%s(%s) = %s, want %s", fn, fmtArgs(args), fmtVal(got), fmtVal(want))
	}
	return nil
}

// TestFixtureReentrantDrop: dropping a guest resource from inside an
// import runs the guest's destructor while the guest is mid-call, which
// re-enters the instance; it must be refused like any re-entrant call.
func TestFixtureReentrantDrop(t *testing.T) {
	im := wasmhost.NewImports()
	hi := im.Instance("imports")
	y := newHostResource(t, hi, "y")
	var f *fx
	var z value.Handle
	var dropErr error
	tried := false
	hi.Func("[constructor]y", func(ctx context.Context, args []any) ([]any, error) {
		if !tried {
			tried = true
			dropErr = f.inst.Drop(ctx, z)
		}
		return []any{y.new(uint32(args[0].(int32)))}, nil
	})
	hi.Func("[method]y.get-a", func(_ context.Context, args []any) ([]any, error) {
		_, v, err := y.get(args[0])
		return []any{int32(v)}, err
	})
	hi.Func("[method]y.set-a", func(_ context.Context, args []any) ([]any, error) {
		rep, _, err := y.get(args[0])
		y.vals[rep] = uint32(args[1].(int32))
		return nil, err
	})
	hi.Func("[static]y.add", func(_ context.Context, args []any) ([]any, error) {
		_, v, err := y.get(args[0])
		return []any{y.new(v + uint32(args[1].(int32)))}, err
	})
	f = newFx(t, "resources", im)
	z = f.handle("exports#[constructor]z", int32(1))
	start := f.call("exports#[static]z.num-dropped")[0].(uint32)
	res, err := f.tryCall("exports#test-imports")
	if !tried {
		t.Fatalf("test-imports never called [constructor]y: %v %v", res, err)
	}
	if dropErr == nil {
		t.Errorf("Drop of a guest resource from inside the guest's own call succeeded: the destructor re-entered the instance")
	}
	if err != nil {
		t.Fatalf("test-imports: %v", err)
	}
	if got := f.call("exports#[static]z.num-dropped")[0].(uint32); dropErr != nil && got != start {
		t.Errorf("refused Drop still ran the destructor (%d → %d)", start, got)
	}
}
