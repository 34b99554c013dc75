package nodes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

const calcIface = "wbox:test/calc@0.1.0"

var calcExports = map[string]*wasmhost.InstanceType{calcIface: {Exports: []wasmhost.Extern{
	{Name: "add", Kind: wasmhost.ExternFunc, Func: &value.FuncType{
		Params:  []value.Param{{Name: "a", Type: value.S32}, {Name: "b", Type: value.S32}},
		Results: []value.Param{{Type: value.S32}}}},
	{Name: "greet", Kind: wasmhost.ExternFunc, Func: &value.FuncType{
		Params:  []value.Param{{Name: "name", Type: value.String}},
		Results: []value.Param{{Type: value.ResultOf(value.String, value.String)}}}},
	{Name: "sleep", Kind: wasmhost.ExternFunc, Func: &value.FuncType{
		Params: []value.Param{{Name: "ms", Type: value.U32}}}},
	{Name: "fail", Kind: wasmhost.ExternFunc, Func: &value.FuncType{
		Params: []value.Param{{Name: "how", Type: value.String}}}},
	{Name: "where", Kind: wasmhost.ExternFunc, Func: &value.FuncType{
		Results: []value.Param{{Type: value.String}}}},
}}}

// calc is a box implemented in Go, standing in for a kernel.
type calc struct {
	node     string
	calls    atomic.Int64
	mu       sync.Mutex
	deadline time.Time // of the last call
}

func (c *calc) call(ctx context.Context, box, fn string, args ...any) ([]any, error) {
	c.calls.Add(1)
	dl, _ := ctx.Deadline()
	c.mu.Lock()
	c.deadline = dl
	c.mu.Unlock()
	switch fn {
	case calcIface + "#add":
		return []any{args[0].(int32) + args[1].(int32)}, nil
	case calcIface + "#greet":
		if args[0] == "" {
			return []any{value.Err("no name")}, nil
		}
		return []any{value.Ok("hello, " + args[0].(string))}, nil
	case calcIface + "#sleep":
		select {
		case <-time.After(time.Duration(args[0].(uint32)) * time.Millisecond):
			return nil, nil
		case <-ctx.Done():
			return nil, &kernel.TaskError{Task: box, Func: fn, Kind: kernel.ErrCancelled, Err: ctx.Err()}
		}
	case calcIface + "#fail":
		switch args[0] {
		case "overloaded":
			return nil, &kernel.TaskError{Task: box, Func: fn, Kind: kernel.ErrOverloaded}
		case "trap":
			return nil, &kernel.TaskError{Task: box, Func: fn, Kind: kernel.ErrTrap, Err: errors.New("unreachable executed")}
		case "badresult":
			return []any{"unexpected"}, nil
		}
		return nil, errors.New("plain failure")
	case calcIface + "#where":
		return []any{c.node}, nil
	}
	return nil, &kernel.TaskError{Task: box, Func: fn, Kind: kernel.ErrNoFunc}
}

func TestRemoteCalls(t *testing.T) {
	ns := startCluster(t, 2, nil)
	a, b := ns[0], ns[1]
	c := &calc{node: b.Name()}
	if err := b.Serve("calc", calcExports, c.call); err != nil {
		t.Fatal(err)
	}
	r, err := a.Remote("calc", calcExports)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	waitServed(t, r, calcIface+"#where", nil)

	call := func(fn string, args ...any) ([]any, error) { return r.Call(ctx, calcIface+"#"+fn, args) }
	if res, err := call("add", int32(40), int32(2)); err != nil || !reflect.DeepEqual(res, []any{int32(42)}) {
		t.Errorf("add: %v %v", res, err)
	}
	if res, err := call("greet", "ada"); err != nil || !reflect.DeepEqual(res, []any{value.Ok("hello, ada")}) {
		t.Errorf("greet: %v %v", res, err)
	}
	if res, err := call("greet", ""); err != nil || !reflect.DeepEqual(res, []any{value.Err("no name")}) {
		t.Errorf("greet err: %v %v", res, err)
	}
	if res, err := call("sleep", uint32(0)); err != nil || len(res) != 0 {
		t.Errorf("sleep: %v %v", res, err)
	}
	// A semver-compatible interface name finds the function.
	if res, err := r.Call(ctx, "wbox:test/calc@0.1.9#add", []any{int32(1), int32(1)}); err != nil || res[0] != int32(2) {
		t.Errorf("add through 0.1.9: %v %v", res, err)
	}
	// The caller's deadline reached the callee.
	dctx, dcancel := context.WithTimeout(ctx, 3*time.Second)
	want, _ := dctx.Deadline()
	r.Call(dctx, calcIface+"#add", []any{int32(0), int32(0)})
	dcancel()
	c.mu.Lock()
	got := c.deadline
	c.mu.Unlock()
	if !got.Equal(want) {
		t.Errorf("callee's deadline %v, want the caller's %v", got, want)
	}

	// The remote kernel's errors come back with their kind.
	_, err = call("fail", "overloaded")
	if !errors.Is(err, kernel.ErrOverloaded) || !errors.Is(err, ErrRemote) || !strings.Contains(err.Error(), "on node n1") {
		t.Errorf("overloaded: %v", err)
	}
	var te *kernel.TaskError
	if !errors.As(err, &te) || te.Task != "calc" || te.Func != calcIface+"#fail" {
		t.Errorf("overloaded: %#v is not a TaskError of calc#fail", err)
	}
	_, err = call("fail", "trap")
	if !errors.Is(err, kernel.ErrTrap) || !strings.Contains(err.Error(), "unreachable executed") || strings.Count(err.Error(), `"calc"`) != 1 {
		t.Errorf("trap: %v", err)
	}
	_, err = call("fail", "plain")
	if !errors.Is(err, ErrRemote) || !errors.Is(err, kernel.ErrArrow) || !strings.Contains(err.Error(), "plain failure") {
		t.Errorf("plain: %v", err)
	}
	_, err = call("fail", "badresult")
	if !errors.Is(err, ErrRemote) || !strings.Contains(err.Error(), "do not match its type") {
		t.Errorf("bad result: %v", err)
	}
	// Bad arguments fail before the network.
	before := c.calls.Load()
	_, err = call("add", "forty", int32(2))
	if !errors.Is(err, ErrWire) || !errors.Is(err, kernel.ErrInvalidCall) || !strings.Contains(err.Error(), "a: string is not a s32") {
		t.Errorf("bad args: %v", err)
	}
	if _, err := call("nope"); !errors.Is(err, kernel.ErrNoFunc) {
		t.Errorf("unknown function: %v", err)
	}
	if c.calls.Load() != before {
		t.Errorf("bad calls reached the callee")
	}
	// Garbage on the wire is refused by the callee.
	resp, err := a.Conn().Request(a.subject("calc", calcIface, "add"), []byte{0xff}, 5*time.Second)
	if err != nil || resp.Header.Get(hdrError) != "invalid-call" {
		t.Errorf("garbage: %v %v", resp, err)
	}
	// A chain that already holds the box is refused.
	m := &nats.Msg{Subject: a.subject("calc", calcIface, "where"), Header: nats.Header{hdrChain: []string{"x,calc"}}}
	resp, err = a.Conn().RequestMsg(m, 5*time.Second)
	if err != nil || resp.Header.Get(hdrError) != "reentrant" || !strings.Contains(string(resp.Data), "x → calc → calc") {
		t.Errorf("re-entrant: %v %v", resp, err)
	}
}

// waitServed calls fn until it answers: interest crosses routes
// asynchronously.
func waitServed(t *testing.T, r *Remote, fn string, args []any) {
	t.Helper()
	waitFor(t, 10*time.Second, "box "+r.Box()+" to be reachable", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := r.Call(ctx, fn, args)
		return !errors.Is(err, ErrUnreachable)
	})
}

func TestRemoteUnreachable(t *testing.T) {
	ns := startCluster(t, 2, nil)
	r, _ := ns[0].Remote("ghost", calcExports)
	start := time.Now()
	_, err := r.Call(context.Background(), calcIface+"#add", []any{int32(1), int32(2)})
	if !errors.Is(err, ErrUnreachable) || !errors.Is(err, kernel.ErrUnavailable) {
		t.Fatalf("error %v: want ErrUnreachable and kernel.ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), `serves box "ghost"`) || !strings.Contains(err.Error(), `cluster "wbox"`) {
		t.Errorf("error %q does not say who is unreachable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("an unreachable box took %s to report", d)
	}

	// A box that stops being served becomes unreachable.
	c := &calc{node: "n1"}
	if err := ns[1].Serve("calc", calcExports, c.call); err != nil {
		t.Fatal(err)
	}
	r, _ = ns[0].Remote("calc", calcExports)
	waitServed(t, r, calcIface+"#where", nil)
	ns[1].Unserve(context.Background(), "calc")
	// (Interest leaves the other servers asynchronously: a call in
	// between times out.)
	waitFor(t, 5*time.Second, "calc to be unreachable", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := r.Call(ctx, calcIface+"#where", nil)
		return errors.Is(err, ErrUnreachable)
	})
}

func TestRemoteTimeout(t *testing.T) {
	ns := startCluster(t, 2, nil)
	c := &calc{node: "n1"}
	if err := ns[1].Serve("calc", calcExports, c.call); err != nil {
		t.Fatal(err)
	}
	r, _ := ns[0].Remote("calc", calcExports)
	waitServed(t, r, calcIface+"#where", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.Call(ctx, calcIface+"#sleep", []any{uint32(10_000)})
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, kernel.ErrCancelled) || !strings.Contains(err.Error(), `no answer from box "calc" within`) {
		t.Fatalf("error %v: want ErrTimeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the timeout took %s", d)
	}
	// A call without a deadline gets Config.CallTimeout.
	ns[0].cfg.CallTimeout = 150 * time.Millisecond
	if _, err := r.Call(context.Background(), calcIface+"#sleep", []any{uint32(10_000)}); !errors.Is(err, ErrTimeout) {
		t.Errorf("no deadline: %v", err)
	}
}

func TestRemoteQueueGroup(t *testing.T) {
	ns := startCluster(t, 3, nil)
	for _, n := range ns[1:] {
		c := &calc{node: n.Name()}
		if err := n.Serve("calc", calcExports, c.call); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := ns[0].Remote("calc", calcExports)
	waitServed(t, r, calcIface+"#where", nil)
	seen := map[string]int{}
	waitFor(t, 10*time.Second, "both servers to answer", func() bool {
		res, err := r.Call(context.Background(), calcIface+"#where", nil)
		if err != nil {
			t.Fatal(err)
		}
		seen[res[0].(string)]++
		return len(seen) == 2
	})
	// One server leaves: the other answers every call.
	ns[1].Unserve(context.Background(), "calc")
	waitFor(t, 5*time.Second, "n2 alone to answer", func() bool {
		for range 20 {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			res, err := r.Call(ctx, calcIface+"#where", nil)
			cancel()
			if err != nil || res[0] != "n2" {
				return false
			}
		}
		return true
	})
	if got := ns[2].Serving(); !reflect.DeepEqual(got, []string{"calc"}) {
		t.Errorf("n2 serves %v", got)
	}
}

func TestRemoteConcurrent(t *testing.T) {
	ns := startCluster(t, 2, nil)
	c := &calc{node: "n1"}
	if err := ns[1].Serve("calc", calcExports, c.call); err != nil {
		t.Fatal(err)
	}
	r, _ := ns[0].Remote("calc", calcExports)
	waitServed(t, r, calcIface+"#where", nil)
	// Slow calls run in parallel on the serving node: 50 calls of 100ms
	// end long before 5s.
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			if _, err := r.Call(context.Background(), calcIface+"#sleep", []any{uint32(100)}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("50 parallel 100ms calls took %s", d)
	}
}

func TestCloseWaitsForServedCalls(t *testing.T) {
	ns := startCluster(t, 2, nil)
	c := &calc{node: "n1"}
	if err := ns[1].Serve("calc", calcExports, c.call); err != nil {
		t.Fatal(err)
	}
	r, _ := ns[0].Remote("calc", calcExports)
	waitServed(t, r, calcIface+"#where", nil)
	done := make(chan error, 1)
	go func() {
		_, err := r.Call(context.Background(), calcIface+"#sleep", []any{uint32(300)})
		done <- err
	}()
	waitFor(t, 5*time.Second, "the call to arrive", func() bool { return c.calls.Load() >= 2 })
	closeNode(t, ns[1])
	if err := <-done; err != nil {
		t.Errorf("a call in progress when its node closed: %v", err)
	}
	// A Close whose context ends cancels what is still running.
	c2 := &calc{node: "n0"}
	ns[0].Serve("calc2", calcExports, c2.call)
	r2, _ := ns[0].Remote("calc2", calcExports)
	waitServed(t, r2, calcIface+"#where", nil)
	go func() {
		_, err := r2.Call(context.Background(), calcIface+"#sleep", []any{uint32(60_000)})
		done <- err
	}()
	waitFor(t, 5*time.Second, "the call to arrive", func() bool { return c2.calls.Load() >= 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	ns[0].Close(ctx)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %s", d)
	}
	<-done
}

// Kernel to kernel: box relay on node A calls box leaf on node B through a
// remote arrow, both real components.
func TestRemoteArrowBetweenKernels(t *testing.T) {
	leafWasm := readComponent(t, "leaf")
	relayWasm := readComponent(t, "relay")
	const relayIface = "wbox:test/relay@0.1.0"
	ns := startCluster(t, 2, nil)
	a, b := ns[0], ns[1]

	kb := newKernel(t, nil)
	apply(t, kb, &kernel.Plan{Start: []kernel.BoxSpec{{Name: "leaf", Wasm: leafWasm}}})
	leafExports := exportsOfWasm(t, kb, leafWasm)
	if err := b.Serve("leaf", leafExports, kb.Call); err != nil {
		t.Fatal(err)
	}

	ka := newKernel(t, map[string]kernel.DriverFactory{RemoteKind: a.RemoteDriver(nil)})
	apply(t, ka, &kernel.Plan{
		StartDrivers: []kernel.DriverSpec{{Name: "leaf", Kind: RemoteKind, Settings: map[string]any{"exports": leafExports}}},
		Start: []kernel.BoxSpec{{Name: "relay", Wasm: relayWasm,
			Arrows: []kernel.Arrow{{Import: relayIface, Target: "leaf", Export: relayIface}}}},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := []any{int32(1), int32(2)}
	var res []any
	waitFor(t, 10*time.Second, "leaf to be reachable from A", func() bool {
		var err error
		res, err = ka.Call(ctx, "relay", relayIface+"#call", p, uint32(1))
		return err == nil
	})
	// relay adds 1 to x and forwards; leaf adds 1000 to x; relay adds 1 to y.
	if want := []any{[]any{int32(1002), int32(3)}}; !reflect.DeepEqual(res, want) {
		t.Errorf("relay → leaf across nodes: %v, want %v", res, want)
	}
	// Kernel.Call reaches the remote box by name too.
	res, err := ka.Call(ctx, "leaf", relayIface+"#call", p, uint32(0))
	if err != nil || !reflect.DeepEqual(res, []any{[]any{int32(1001), int32(2)}}) {
		t.Errorf("call leaf through its stand-in: %v %v", res, err)
	}
	// The leaf's node stops serving it: the call fails at once, naming
	// the unreachable box, instead of hanging.
	b.Unserve(ctx, "leaf")
	waitFor(t, 5*time.Second, "leaf to be unreachable", func() bool {
		ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, err := ka.Call(ctx, "leaf", relayIface+"#call", p, uint32(0))
		return errors.Is(err, ErrUnreachable)
	})
	start := time.Now()
	_, err = ka.Call(ctx, "relay", relayIface+"#call", p, uint32(1))
	if err == nil || !strings.Contains(err.Error(), `no node of cluster "wbox" serves box "leaf"`) {
		t.Errorf("relay → unreachable leaf: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
}

// A → B → A across two nodes is refused as re-entrant, not deadlocked
// until a timeout.
func TestRemoteReentrantAcrossNodes(t *testing.T) {
	relayWasm := readComponent(t, "relay")
	const relayIface = "wbox:test/relay@0.1.0"
	ns := startCluster(t, 2, nil)
	a, b := ns[0], ns[1]
	var exports map[string]*wasmhost.InstanceType
	ks := make([]*kernel.Kernel, 2)
	for i, n := range ns {
		ks[i] = newKernel(t, map[string]kernel.DriverFactory{RemoteKind: n.RemoteDriver(nil)})
		if exports == nil {
			exports = exportsOfWasm(t, ks[i], relayWasm)
		}
	}
	self, other := []string{"ra", "rb"}, []string{"rb", "ra"}
	for i, k := range ks {
		apply(t, k, &kernel.Plan{
			StartDrivers: []kernel.DriverSpec{{Name: other[i], Kind: RemoteKind, Settings: map[string]any{"exports": exports}}},
			Start: []kernel.BoxSpec{{Name: self[i], Wasm: relayWasm,
				Arrows: []kernel.Arrow{{Import: relayIface, Target: other[i], Export: relayIface}}}},
		})
		if err := ns[i].Serve(self[i], exports, k.Call); err != nil {
			t.Fatal(err)
		}
	}
	_ = a
	_ = b
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := []any{int32(0), int32(0)}
	// One hop: ra → rb, fine.
	waitFor(t, 10*time.Second, "rb to be reachable", func() bool {
		_, err := ks[0].Call(ctx, "ra", relayIface+"#call", p, uint32(1))
		return err == nil
	})
	// Two hops: ra → rb → ra.
	start := time.Now()
	_, err := ks[0].Call(ctx, "ra", relayIface+"#call", p, uint32(2))
	if err == nil || !strings.Contains(err.Error(), "re-entrant") {
		t.Errorf("ra → rb → ra: %v, want a re-entrant call error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}

func readComponent(t *testing.T, name string) []byte {
	t.Helper()
	wasm, err := os.ReadFile(testcomponents.Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}

func newKernel(t *testing.T, drivers map[string]kernel.DriverFactory) *kernel.Kernel {
	t.Helper()
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = t.TempDir()
	}
	k, err := kernel.New(kernel.Config{
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		CacheDir: dir + "/wbox/test-compiled",
		Drivers:  drivers,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		k.Close(ctx)
	})
	return k
}

func apply(t *testing.T, k *kernel.Kernel, p *kernel.Plan) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := k.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
}

// exportsOfWasm loads a component in k's runtime for its exports.
func exportsOfWasm(t *testing.T, k *kernel.Kernel, wasm []byte) map[string]*wasmhost.InstanceType {
	t.Helper()
	ctx := context.Background()
	rt, err := k.Runtime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rt.Load(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	ex := ExportsOf(c.World())
	if len(ex) == 0 {
		t.Fatal(fmt.Errorf("the component exports no interface"))
	}
	return ex
}
