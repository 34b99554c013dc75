package kernel_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	faultyIface = "wbox:test/faulty@0.1.0"
	relayIface  = "wbox:test/relay@0.1.0"
	waiterIface = "wbox:test/waiter@0.1.0"
	gateIface   = "wbox:test/gate@0.1.0"
)

var (
	wasmMu    sync.Mutex
	wasmCache = map[string][]byte{}
)

// wasm returns the bytes of a test component built by components/build.sh.
func wasm(t testing.TB, name string) []byte {
	t.Helper()
	wasmMu.Lock()
	defer wasmMu.Unlock()
	if b, ok := wasmCache[name]; ok {
		return b
	}
	b, err := os.ReadFile(testcomponents.Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	wasmCache[name] = b
	return b
}

// box is a BoxSpec of a test component, with a fast restart policy.
func box(t testing.TB, name, component string, arrows ...kernel.Arrow) kernel.BoxSpec {
	return kernel.BoxSpec{
		Name: name, Wasm: wasm(t, component), Instances: 1, Arrows: arrows,
		Restart: kernel.RestartPolicy{Backoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond},
	}
}

func arrow(imp, target, export string) kernel.Arrow {
	return kernel.Arrow{Import: imp, Target: target, Export: export}
}

// testLogger sends the kernel's slog records to t.Log.
type testWriter struct {
	mu sync.Mutex
	t  testing.TB
	on bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.on {
		w.t.Logf("%s", p)
	}
	return len(p), nil
}

func newKernel(t testing.TB, cfg kernel.Config) *kernel.Kernel {
	t.Helper()
	if cfg.Logger == nil {
		tw := &testWriter{t: t, on: testing.Verbose()}
		cfg.Logger = slog.New(slog.NewTextHandler(tw, &slog.HandlerOptions{Level: slog.LevelInfo}))
		t.Cleanup(func() { tw.mu.Lock(); tw.on = false; tw.mu.Unlock() })
	}
	if cfg.CacheDir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			cfg.CacheDir = d + "/wbox/test-compiled"
		}
	}
	k, err := kernel.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := k.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return k
}

func apply(t testing.TB, k *kernel.Kernel, p kernel.Plan) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := k.Apply(ctx, &p); err != nil {
		t.Fatal(err)
	}
}

func call(t testing.TB, k *kernel.Kernel, task, fn string, args ...any) []any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := k.Call(ctx, task, fn, args...)
	if err != nil {
		t.Fatalf("%s %s: %v", task, fn, err)
	}
	return res
}

func callErr(k *kernel.Kernel, task, fn string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := k.Call(ctx, task, fn, args...)
	return err
}

// wantErr checks that err is a *kernel.TaskError of kind.
func wantErr(t testing.TB, err, kind error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", kind)
	}
	var te *kernel.TaskError
	if !errors.As(err, &te) {
		t.Fatalf("error %v (%T) is no *kernel.TaskError", err, err)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error %q is not %q", err, kind)
	}
}

// wantKind checks that err is a *kernel.TaskError whose own kind is kind.
func wantKind(t testing.TB, err, kind error) {
	t.Helper()
	var te *kernel.TaskError
	if !errors.As(err, &te) || te.Kind != kind {
		t.Fatalf("error %v: want kind %q", err, kind)
	}
}

// waitFor polls cond until it holds, failing the test after 20s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// running waits until box runs with restarts restarts.
func running(t testing.TB, k *kernel.Kernel, name string, restarts int) kernel.BoxStatus {
	t.Helper()
	var s kernel.BoxStatus
	waitFor(t, fmt.Sprintf("box %s running after %d restarts", name, restarts), func() bool {
		s = k.Snapshot().Boxes[name]
		return s.State == kernel.StateRunning && s.Restarts == restarts
	})
	return s
}

func inFlight(k *kernel.Kernel, name string) int { return k.Snapshot().Boxes[name].Counters.InFlight }

func hasEvent(k *kernel.Kernel, task, kind string) bool {
	for _, e := range k.Events(0, task) {
		if e.Kind == kind {
			return true
		}
	}
	return false
}

// gate is a native task exporting wbox:test/gate@0.1.0#wait: wait blocks
// until need callers wait at once (then all return how many were there),
// or release is closed, or the call's context ends.
type gate struct {
	need    int
	mu      sync.Mutex
	waiting int
	open    chan struct{}
	release chan struct{}
	bound   []string // "caller export" per Bind
	run     func(ctx context.Context) error
	fail    atomic.Pointer[func() error] // when set, wait returns its error (or panics)
}

func newGate(need int) *gate {
	return &gate{need: need, open: make(chan struct{}), release: make(chan struct{})}
}

func (g *gate) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting
}

func (g *gate) bindings() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.bound...)
}

func (g *gate) Exports() map[string]*wasmhost.InstanceType {
	return map[string]*wasmhost.InstanceType{gateIface: {Exports: []wasmhost.Extern{{
		Name: "wait", Kind: wasmhost.ExternFunc, Func: &value.FuncType{Results: []value.Param{{Type: value.U32}}},
	}}}}
}

func (g *gate) Bind(caller, export string, hi *wasmhost.HostInstance) error {
	g.mu.Lock()
	g.bound = append(g.bound, caller+" "+export)
	g.mu.Unlock()
	hi.Func("wait", func(ctx context.Context, _ []any) ([]any, error) {
		if f := g.fail.Load(); f != nil {
			return nil, (*f)()
		}
		g.mu.Lock()
		g.waiting++
		n := g.waiting
		if n == g.need {
			close(g.open)
		}
		g.mu.Unlock()
		select {
		case <-g.open:
		case <-g.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return []any{uint32(n)}, nil
	})
	return nil
}

func (g *gate) Run(ctx context.Context) error {
	if g.run != nil {
		return g.run(ctx)
	}
	<-ctx.Done()
	return nil
}

func gateDriver(g *gate) kernel.DriverFactory {
	return func(kernel.DriverSpec, kernel.DriverEnv) (kernel.Native, error) { return g, nil }
}
