package kernel_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/wasmhost"
)

const (
	add   = faultyIface + "#add"
	trap  = faultyIface + "#trap"
	spin  = faultyIface + "#spin"
	bomb  = faultyIface + "#bomb"
	pages = faultyIface + "#pages"
	relay = relayIface + "#call"
	run   = waiterIface + "#run"
)

func point(x, y int32) []any { return []any{x, y} }

// A trap fails the box: the call that trapped gets ErrTrap, a call running
// on the box's other instance gets an error at once (it would otherwise spin
// for its whole 30s deadline), calls during the backoff get ErrUnavailable,
// the supervisor restarts the box, and another box serves throughout.
func TestTrapRestartsBox(t *testing.T) {
	k := newKernel(t, kernel.Config{})
	bad := box(t, "bad", "faulty")
	bad.Instances = 2
	bad.Limits.CallTimeout = 30 * time.Second
	// Long enough that the call right after the trap surely sees the box down.
	bad.Restart.Backoff, bad.Restart.MaxBackoff = 2*time.Second, 4*time.Second
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{bad, box(t, "good", "faulty")}})
	before := k.Snapshot().Boxes["bad"]

	// The good box serves all along.
	stop := make(chan struct{})
	var goodCalls atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := uint32(0); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			res, err := k.Call(context.Background(), "good", add, i, uint32(1))
			if err != nil || res[0] != i+1 {
				t.Errorf("good: add(%d, 1) = %v, %v", i, res, err)
				return
			}
			goodCalls.Add(1)
		}
	})
	defer func() { close(stop); wg.Wait() }()

	spun := make(chan error, 1)
	go func() { spun <- callErr(k, "bad", spin) }()
	waitFor(t, "spin to run", func() bool { return inFlight(k, "bad") == 1 })

	err := callErr(k, "bad", trap)
	wantKind(t, err, kernel.ErrTrap)
	var te *wasmhost.TrapError
	if !errors.As(err, &te) {
		t.Errorf("trap error %v does not wrap *wasmhost.TrapError", err)
	}
	if !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("trap error %q does not say what trapped", err)
	}
	select {
	case err := <-spun:
		wantErr(t, err, kernel.ErrTaskFailed)
	case <-time.After(10 * time.Second):
		t.Fatal("the call in flight on the failed box did not fail at once")
	}
	wantKind(t, callErr(k, "bad", add, uint32(1), uint32(2)), kernel.ErrUnavailable)

	s := running(t, k, "bad", 1)
	if res := call(t, k, "bad", add, uint32(2), uint32(3)); res[0] != uint32(5) {
		t.Errorf("add after restart = %v", res)
	}
	if slices.Equal(s.Instances, before.Instances) || len(s.Instances) != 2 {
		t.Errorf("instances after restart %v, before %v", s.Instances, before.Instances)
	}
	if s.Counters.Traps != 1 || s.Counters.Errors < 3 {
		t.Errorf("counters %+v: want 1 trap, >= 3 errors", s.Counters)
	}
	if !strings.Contains(s.LastError, "unreachable") {
		t.Errorf("LastError %q", s.LastError)
	}
	for _, kind := range []string{kernel.EvCallFailed, kernel.EvBoxFailed, kernel.EvBoxRestarted} {
		if !hasEvent(k, "bad", kind) {
			t.Errorf("no %s event", kind)
		}
	}
	if goodCalls.Load() == 0 {
		t.Error("the good box served no call")
	}
	if g := k.Snapshot().Boxes["good"]; g.Restarts != 0 || g.Counters.Errors != 0 {
		t.Errorf("good box: %d restarts, %d errors", g.Restarts, g.Counters.Errors)
	}
}

// A runaway loop is interrupted by the call timeout; the calls queued
// behind it fail at once, and the box serves again after its restart.
func TestRunawayLoopTimeout(t *testing.T) {
	k := newKernel(t, kernel.Config{})
	b := box(t, "loop", "faulty")
	b.Limits.CallTimeout = time.Second
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{b}})

	spun := make(chan error, 1)
	start := time.Now()
	go func() { spun <- callErr(k, "loop", spin) }()
	waitFor(t, "spin to run", func() bool { return inFlight(k, "loop") == 1 })
	queued := make(chan error, 2)
	for range 2 {
		go func() { queued <- callErr(k, "loop", add, uint32(1), uint32(1)) }()
	}
	err := <-spun
	took := time.Since(start)
	wantKind(t, err, kernel.ErrCallTimeout)
	if !strings.Contains(err.Error(), "call timeout of 1s") {
		t.Errorf("error %q does not name the timeout", err)
	}
	if took > 15*time.Second {
		t.Errorf("the runaway call returned after %v, its timeout is 1s", took)
	}
	for range 2 {
		select {
		case err := <-queued:
			// Queued behind the loop (ErrTaskFailed), or arrived after the
			// failure (ErrUnavailable): never served, never hung.
			if !errors.Is(err, kernel.ErrTaskFailed) && !errors.Is(err, kernel.ErrUnavailable) {
				t.Errorf("queued call: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a call queued behind the runaway loop hung")
		}
	}
	s := running(t, k, "loop", 1)
	if res := call(t, k, "loop", add, uint32(40), uint32(2)); res[0] != uint32(42) {
		t.Errorf("add after restart = %v", res)
	}
	if s.Counters.Timeouts != 1 {
		t.Errorf("timeouts = %d, want 1", s.Counters.Timeouts)
	}
}

// A memory bomb is stopped by the memory quota, reported as such.
func TestMemoryBomb(t *testing.T) {
	k := newKernel(t, kernel.Config{})
	b := box(t, "bomb", "faulty")
	b.Limits.MemoryBytes = 1 << 20 // 16 pages
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{b}})
	if s := k.Snapshot().Boxes["bomb"]; s.Counters.MemoryPages != 1 {
		t.Errorf("memory before: %d pages, want 1", s.Counters.MemoryPages)
	}

	err := callErr(k, "bomb", bomb)
	wantKind(t, err, kernel.ErrMemoryQuota)
	if !strings.Contains(err.Error(), "quota of 16 pages (1 MiB)") {
		t.Errorf("error %q does not name the quota", err)
	}
	s := running(t, k, "bomb", 1)
	if res := call(t, k, "bomb", pages); res[0] != uint32(1) {
		t.Errorf("pages after restart = %v, want 1", res)
	}
	if s.Counters.MemoryQuota != 1 || s.Counters.MemoryPages != 1 {
		t.Errorf("counters %+v: want 1 memory-quota failure and 1 page now", s.Counters)
	}
}

// A quota smaller than the component's initial memory fails its start.
func TestMemoryQuotaTooSmallToStart(t *testing.T) {
	k := newKernel(t, kernel.Config{})
	b := box(t, "tiny", "faulty")
	b.Limits.MemoryBytes = 64 << 10 // the faulty box starts with 1 page: fits
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{b}})
	b2 := box(t, "tinier", "faulty")
	b2.Limits.MemoryBytes = 1000
	err := k.Apply(context.Background(), &kernel.Plan{Start: []kernel.BoxSpec{b2}})
	if err == nil || !strings.Contains(err.Error(), `"tinier"`) {
		t.Fatalf("Apply: %v", err)
	}
	// hello-cmd (C and the WASI adapter) starts with more than one page.
	b3 := box(t, "cmd", "hello-cmd")
	b3.Limits.MemoryBytes = 64 << 10
	err = k.Apply(context.Background(), &kernel.Plan{Start: []kernel.BoxSpec{b3}})
	if !errors.Is(err, kernel.ErrMemoryQuota) || !strings.Contains(err.Error(), `"cmd"`) {
		t.Fatalf("Apply: %v", err)
	}
	if s := k.Snapshot(); len(s.Boxes) != 1 {
		t.Errorf("boxes after the failed deploys: %v", s.Names())
	}
}

// MaxInFlight bounds calls queued or running: one more fails at once.
func TestOverloaded(t *testing.T) {
	g := newGate(1000)
	k := newKernel(t, kernel.Config{Drivers: map[string]kernel.DriverFactory{"gate": gateDriver(g)}})
	w := box(t, "w", "waiter", arrow(gateIface, "gate", gateIface))
	w.Limits.MaxInFlight = 2
	apply(t, k, kernel.Plan{
		StartDrivers: []kernel.DriverSpec{{Name: "gate", Kind: "gate"}},
		Start:        []kernel.BoxSpec{w},
	})
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- callErr(k, "w", run) }()
	}
	waitFor(t, "2 calls in flight", func() bool { return inFlight(k, "w") == 2 })
	wantErr(t, callErr(k, "w", run), kernel.ErrOverloaded)
	close(g.release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("call: %v", err)
		}
	}
	if s := k.Snapshot().Boxes["w"]; s.Counters.Overloaded != 1 || s.Restarts != 0 || s.State != kernel.StateRunning {
		t.Errorf("status %+v", s)
	}
}

// Calls that had to wait are served in the order they came, and an idle
// instance serves the next call on the caller's goroutine: the first call
// takes the idle instance, four more queue behind it, and each reaches the
// gate in turn (the gate's count is the order of arrival).
func TestCallsKeepOrder(t *testing.T) {
	g := newGate(1000)
	k := newKernel(t, kernel.Config{Drivers: map[string]kernel.DriverFactory{"gate": gateDriver(g)}})
	apply(t, k, kernel.Plan{
		StartDrivers: []kernel.DriverSpec{{Name: "gate", Kind: "gate"}},
		Start:        []kernel.BoxSpec{box(t, "w", "waiter", arrow(gateIface, "gate", gateIface))},
	})
	const n = 5
	type result struct {
		res []any
		err error
	}
	var res [n]chan result
	for i := range n {
		res[i] = make(chan result, 1)
		go func() {
			r, err := k.Call(context.Background(), "w", run)
			res[i] <- result{r, err}
		}()
		if i == 0 {
			waitFor(t, "the first call at the gate", func() bool { return g.count() == 1 })
		}
		waitFor(t, fmt.Sprintf("%d calls in flight", i+1), func() bool { return inFlight(k, "w") == i+1 })
	}
	close(g.release)
	for i := range n {
		if r := <-res[i]; r.err != nil || len(r.res) != 1 || r.res[0] != uint32(i+1) {
			t.Errorf("call %d reached the gate as %v (error %v), want %d", i+1, r.res, r.err, i+1)
		}
	}
	if r := call(t, k, "w", run); r[0] != uint32(n+1) {
		t.Errorf("a call into the idle box reached the gate as %v, want %d", r[0], n+1)
	}
	if s := k.Snapshot().Boxes["w"]; s.Counters.CallsIn != n+1 || s.Counters.InFlight != 0 || s.Restarts != 0 {
		t.Errorf("status %+v", s)
	}
}

// instances: 2 serves two calls at once: each waits at a gate that opens
// only when both are there, which one instance could never do.
func TestInstancesParallel(t *testing.T) {
	g := newGate(2)
	k := newKernel(t, kernel.Config{Drivers: map[string]kernel.DriverFactory{"gate": gateDriver(g)}})
	w := box(t, "w", "waiter", arrow(gateIface, "gate", gateIface))
	w.Instances = 2
	apply(t, k, kernel.Plan{
		StartDrivers: []kernel.DriverSpec{{Name: "gate", Kind: "gate"}},
		Start:        []kernel.BoxSpec{w},
	})
	if s := k.Snapshot().Boxes["w"]; len(s.Instances) != 2 {
		t.Fatalf("instances %v", s.Instances)
	}
	type result struct {
		res []any
		err error
	}
	res := make(chan result, 2)
	for range 2 {
		go func() {
			r, err := k.Call(context.Background(), "w", run)
			res <- result{r, err}
		}()
	}
	for range 2 {
		select {
		case r := <-res:
			if r.err != nil || (r.res[0] != uint32(1) && r.res[0] != uint32(2)) {
				t.Errorf("run = %v, %v", r.res, r.err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("two calls did not run in parallel on two instances")
		}
	}
	if b := g.bindings(); len(b) != 2 || b[0] != "w "+gateIface {
		t.Errorf("Bind calls: %q, want one per instance", b)
	}
}

// Redeploying with one box changed restarts that box only.
func TestApplyRestartsOnlyChanged(t *testing.T) {
	k := newKernel(t, kernel.Config{})
	a, b, c := box(t, "a", "faulty"), box(t, "b", "faulty"), box(t, "c", "leaf")
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{a, b, c}})
	s1 := k.Snapshot()

	a.Config = map[string]string{"greeting": "hi"}
	if kernel.Fingerprint(a) == s1.Boxes["a"].Fingerprint {
		t.Fatal("a config change does not change the fingerprint")
	}
	if kernel.Fingerprint(b) != s1.Boxes["b"].Fingerprint {
		t.Fatal("an unchanged spec has a different fingerprint")
	}
	apply(t, k, kernel.Plan{Restart: []kernel.BoxSpec{a}, Keep: []string{"b", "c"}})
	s2 := k.Snapshot()
	for _, n := range []string{"b", "c"} {
		if !slices.Equal(s1.Boxes[n].Instances, s2.Boxes[n].Instances) || !s1.Boxes[n].Started.Equal(s2.Boxes[n].Started) {
			t.Errorf("box %s was touched: %v %v -> %v %v", n, s1.Boxes[n].Instances, s1.Boxes[n].Started, s2.Boxes[n].Instances, s2.Boxes[n].Started)
		}
	}
	if slices.Equal(s1.Boxes["a"].Instances, s2.Boxes["a"].Instances) || !s2.Boxes["a"].Started.After(s1.Boxes["a"].Started) {
		t.Errorf("box a was not restarted: %v -> %v", s1.Boxes["a"].Instances, s2.Boxes["a"].Instances)
	}
	if s2.Boxes["a"].Spec.Config["greeting"] != "hi" || s2.Boxes["a"].Fingerprint != kernel.Fingerprint(a) {
		t.Errorf("snapshot of a: %+v", s2.Boxes["a"])
	}
	if res := call(t, k, "a", add, uint32(1), uint32(2)); res[0] != uint32(3) {
		t.Errorf("a: add = %v", res)
	}
	if !hasEvent(k, "a", kernel.EvBoxStopped) || !hasEvent(k, "", kernel.EvDeployApplied) {
		t.Error("missing box.stopped or deploy.applied event")
	}
}

// A deploy in which one box fails to start changes nothing.
func TestApplyFailingStartChangesNothing(t *testing.T) {
	k := newKernel(t, kernel.Config{})
	a := box(t, "a", "faulty")
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{a}})
	s1 := k.Snapshot()

	a2 := a
	a2.Config = map[string]string{"v": "2"}
	// y's import has no arrow: it cannot be instantiated.
	err := k.Apply(context.Background(), &kernel.Plan{
		Start:   []kernel.BoxSpec{box(t, "x", "faulty"), box(t, "y", "waiter")},
		Restart: []kernel.BoxSpec{a2},
	})
	if err == nil {
		t.Fatal("Apply succeeded")
	}
	if !strings.Contains(err.Error(), `box "y"`) || !strings.Contains(err.Error(), gateIface+" has no arrow") {
		t.Errorf("error %q does not name the box and its unbound import", err)
	}
	s2 := k.Snapshot()
	if len(s2.Boxes) != 1 || !reflect.DeepEqual(s1.Boxes["a"].Instances, s2.Boxes["a"].Instances) ||
		s2.Boxes["a"].Fingerprint != s1.Boxes["a"].Fingerprint {
		t.Errorf("snapshot changed: %v -> %v", s1.Boxes, s2.Boxes)
	}
	wantErr(t, callErr(k, "x", add, uint32(1), uint32(1)), kernel.ErrNoTask)
	if res := call(t, k, "a", add, uint32(1), uint32(1)); res[0] != uint32(2) {
		t.Errorf("a: add = %v", res)
	}
	if !hasEvent(k, "", kernel.EvDeployFailed) {
		t.Error("no deploy.failed event")
	}

	// Plans that do not fit what runs are refused before anything starts.
	for _, p := range []kernel.Plan{
		{Start: []kernel.BoxSpec{a}},
		{Restart: []kernel.BoxSpec{box(t, "nope", "faulty")}},
		{Stop: []string{"nope"}},
		{Start: []kernel.BoxSpec{box(t, "z", "faulty"), box(t, "z", "faulty")}},
		{Start: []kernel.BoxSpec{box(t, "r", "relay", arrow(relayIface, "nope", relayIface))}},
		{StartDrivers: []kernel.DriverSpec{{Name: "d", Kind: "unknown"}}},
	} {
		if err := k.Apply(context.Background(), &p); err == nil {
			t.Errorf("Apply(%+v) succeeded", p)
		}
	}
	if s3 := k.Snapshot(); !reflect.DeepEqual(s1.Boxes["a"].Instances, s3.Boxes["a"].Instances) || len(s3.Boxes) != 1 {
		t.Errorf("a refused plan changed something: %v", s3.Boxes)
	}
}

// A rewire swaps an arrow without restarting the box.
func TestRewire(t *testing.T) {
	k := newKernel(t, kernel.Config{})
	r := box(t, "r", "relay", arrow(relayIface, "leaf", relayIface))
	r2 := box(t, "r2", "relay", arrow(relayIface, "leaf", relayIface))
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{box(t, "leaf", "leaf"), r, r2}})
	s1 := k.Snapshot()

	// r -> leaf: leaf adds 1000 whatever the hops.
	if res := call(t, k, "r", relay, point(0, 0), uint32(2)); !reflect.DeepEqual(res[0], point(1001, 1)) {
		t.Fatalf("r.call = %v", res)
	}
	r.Arrows = []kernel.Arrow{arrow(relayIface, "r2", relayIface)}
	if kernel.Fingerprint(r) != s1.Boxes["r"].Fingerprint || kernel.ArrowsFingerprint(r) == s1.Boxes["r"].ArrowsFingerprint {
		t.Fatal("an arrow change must change the arrows fingerprint only")
	}
	apply(t, k, kernel.Plan{Rewire: []kernel.BoxSpec{r}, Keep: []string{"leaf", "r2"}})
	// r -> r2 -> leaf.
	if res := call(t, k, "r", relay, point(0, 0), uint32(2)); !reflect.DeepEqual(res[0], point(1002, 2)) {
		t.Fatalf("r.call after rewire = %v", res)
	}
	s2 := k.Snapshot()
	for _, n := range []string{"r", "r2", "leaf"} {
		if !slices.Equal(s1.Boxes[n].Instances, s2.Boxes[n].Instances) || s2.Boxes[n].Restarts != 0 {
			t.Errorf("box %s restarted: %v -> %v", n, s1.Boxes[n].Instances, s2.Boxes[n].Instances)
		}
	}
	if !reflect.DeepEqual(s2.Boxes["r"].Spec.Arrows, r.Arrows) || s2.Boxes["r"].ArrowsFingerprint != kernel.ArrowsFingerprint(r) {
		t.Errorf("snapshot of r: %+v", s2.Boxes["r"].Spec.Arrows)
	}
	if c := s2.Boxes["r"].Counters; c.CallsOut != 2 || c.CallsIn != 2 {
		t.Errorf("r counters %+v", c)
	}
	if !hasEvent(k, "r", kernel.EvBoxRewired) {
		t.Error("no box.rewired event")
	}
}

// A → B → A is an error naming the chain, not a deadlock; both boxes keep
// serving (only the instances the failed chain passed through are
// replaced).
func TestReentrant(t *testing.T) {
	k := newKernel(t, kernel.Config{})
	a := box(t, "a", "relay", arrow(relayIface, "b", relayIface))
	b := box(t, "b", "relay", arrow(relayIface, "a", relayIface))
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{a, b}})

	if res := call(t, k, "a", relay, point(0, 0), uint32(1)); !reflect.DeepEqual(res[0], point(2, 1)) {
		t.Fatalf("a.call(1 hop) = %v", res)
	}
	err := callErr(k, "a", relay, point(0, 0), uint32(2))
	wantErr(t, err, kernel.ErrReentrant)
	if !strings.Contains(err.Error(), "a → b → a") {
		t.Errorf("error %q does not show the chain", err)
	}
	if res := call(t, k, "a", relay, point(5, 5), uint32(1)); !reflect.DeepEqual(res[0], point(7, 6)) {
		t.Fatalf("a.call after the re-entrant one = %v", res)
	}
	s := k.Snapshot()
	for _, n := range []string{"a", "b"} {
		if s.Boxes[n].State != kernel.StateRunning || s.Boxes[n].Restarts != 0 {
			t.Errorf("box %s: %s, %d restarts", n, s.Boxes[n].State, s.Boxes[n].Restarts)
		}
	}
	if !hasEvent(k, "a", kernel.EvInstance) {
		t.Error("no instance.replaced event for a")
	}
}

// One deploy stops a box, starts its successor and rewires the box that
// called it.
func TestRewireToNewBox(t *testing.T) {
	k := newKernel(t, kernel.Config{})
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{
		box(t, "leaf", "leaf"),
		box(t, "r", "relay", arrow(relayIface, "leaf", relayIface)),
	}})
	apply(t, k, kernel.Plan{Stop: []string{"leaf"}, Start: []kernel.BoxSpec{box(t, "leaf2", "leaf")},
		Rewire: []kernel.BoxSpec{box(t, "r", "relay", arrow(relayIface, "leaf2", relayIface))}})
	if res := call(t, k, "r", relay, point(0, 0), uint32(1)); !reflect.DeepEqual(res[0], point(1001, 1)) {
		t.Fatalf("r.call = %v", res)
	}
}

// A native task that panics in Run is restarted; one that panics in a call
// fails the call with ErrPanic.
func TestDriverSupervision(t *testing.T) {
	var runs atomic.Int32
	g := newGate(1)
	g.run = func(ctx context.Context) error {
		if runs.Add(1) == 1 {
			panic("boom")
		}
		<-ctx.Done()
		return nil
	}
	k := newKernel(t, kernel.Config{Drivers: map[string]kernel.DriverFactory{
		"gate":  gateDriver(g),
		"panic": func(kernel.DriverSpec, kernel.DriverEnv) (kernel.Native, error) { return panicky{}, nil },
	}})
	apply(t, k, kernel.Plan{StartDrivers: []kernel.DriverSpec{{Name: "g", Kind: "gate"}, {Name: "p", Kind: "panic"}}})
	waitFor(t, "the driver to restart", func() bool {
		d := k.Snapshot().Drivers["g"]
		return d.Restarts == 1 && d.State == kernel.StateRunning && runs.Load() == 2
	})
	if d := k.Snapshot().Drivers["g"]; !strings.Contains(d.LastError, "boom") {
		t.Errorf("LastError %q", d.LastError)
	}
	wantErr(t, callErr(k, "g", "x#y"), kernel.ErrNoFunc)
	wantErr(t, callErr(k, "p", "x#y"), kernel.ErrPanic)
	waitFor(t, "the panicking driver to restart", func() bool { return k.Snapshot().Drivers["p"].Restarts == 1 })
	if !hasEvent(k, "g", kernel.EvDriverFailed) {
		t.Error("no driver.failed event")
	}
}

type panicky struct{}

func (panicky) Exports() map[string]*wasmhost.InstanceType         { return nil }
func (panicky) Bind(string, string, *wasmhost.HostInstance) error  { return nil }
func (panicky) Run(ctx context.Context) error                      { <-ctx.Done(); return nil }
func (panicky) Call(context.Context, string, []any) ([]any, error) { panic("call boom") }

// The event log is kept in memory, appended to DataDir/events.log, and
// survives a restart of the kernel.
func TestEventLog(t *testing.T) {
	dir := t.TempDir()
	k := newKernel(t, kernel.Config{DataDir: dir})
	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan kernel.Event, 100)
	done := make(chan error, 1)
	go func() {
		done <- k.Follow(ctx, 0, "f", func(e kernel.Event) error { followed <- e; return nil })
	}()
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{box(t, "f", "faulty")}})
	wantErr(t, callErr(k, "f", trap), kernel.ErrTrap)
	running(t, k, "f", 1)
	var kinds []string
	for len(kinds) < 4 {
		select {
		case e := <-followed:
			kinds = append(kinds, e.Kind)
		case <-time.After(10 * time.Second):
			t.Fatalf("followed only %v", kinds)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Follow: %v", err)
	}
	want := []string{kernel.EvBoxStarted, kernel.EvCallFailed, kernel.EvBoxFailed, kernel.EvBoxRestarted}
	if !slices.Equal(kinds, want) {
		t.Errorf("followed %v, want %v", kinds, want)
	}
	evs := k.Events(0, "")
	last := evs[len(evs)-1].Seq
	if err := k.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	k2 := newKernel(t, kernel.Config{DataDir: dir})
	evs2 := k2.Events(0, "f")
	if len(evs2) < 4 || evs2[0].Kind != kernel.EvBoxStarted {
		t.Errorf("events after restart: %v", evs2)
	}
	if e := k2.Events(last, ""); len(e) == 0 || e[0].Seq <= last {
		t.Errorf("sequence numbers do not continue: %v", e)
	}
}

func TestCallErrors(t *testing.T) {
	k := newKernel(t, kernel.Config{})
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{box(t, "f", "faulty")}})
	wantErr(t, callErr(k, "nope", add), kernel.ErrNoTask)
	wantErr(t, callErr(k, "f", faultyIface+"#nope"), kernel.ErrNoFunc)
	wantErr(t, callErr(k, "f", add, "one", uint32(2)), kernel.ErrInvalidCall)
	if res := call(t, k, "f", add, uint32(1), uint32(2)); res[0] != uint32(3) {
		t.Errorf("add = %v", res)
	}
}

// A caller that gives up mid-call gets ErrCancelled as soon as the guest
// notices (here: the gate returns on its context); the instance it
// interrupted is replaced, and the box does not fail.
func TestCallerCancels(t *testing.T) {
	g := newGate(1000)
	k := newKernel(t, kernel.Config{Drivers: map[string]kernel.DriverFactory{"gate": gateDriver(g)}})
	apply(t, k, kernel.Plan{
		StartDrivers: []kernel.DriverSpec{{Name: "gate", Kind: "gate"}},
		Start:        []kernel.BoxSpec{box(t, "w", "waiter", arrow(gateIface, "gate", gateIface))},
	})
	before := k.Snapshot().Boxes["w"].Instances
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() { _, err := k.Call(ctx, "w", run); errs <- err }()
	waitFor(t, "the call to wait at the gate", func() bool { return g.count() == 1 })
	cancel()
	err := <-errs
	wantErr(t, err, kernel.ErrCancelled)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v is not context.Canceled", err)
	}
	waitFor(t, "the instance to be replaced", func() bool { return hasEvent(k, "w", kernel.EvInstance) })
	s := k.Snapshot().Boxes["w"]
	if s.State != kernel.StateRunning || s.Restarts != 0 || slices.Equal(s.Instances, before) {
		t.Errorf("status %+v (instances before %v)", s, before)
	}
	close(g.release)
	call(t, k, "w", run)
}

// wasi:cli/exit with a non-zero status fails the box.
func TestWASIExit(t *testing.T) {
	k := newKernel(t, kernel.Config{})
	ex := box(t, "ex", "hello-cmd")
	ex.WASI.Args = []string{"hello", "--exit", "3"}
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{ex}})
	err := callErr(k, "ex", "wasi:cli/run@0.2.12#run")
	wantErr(t, err, kernel.ErrExited)
	if !strings.Contains(err.Error(), "exit status") {
		t.Errorf("error %q", err)
	}
	running(t, k, "ex", 1)
}

// wasi:config/store serves the box's config values.
func TestConfig(t *testing.T) {
	k := newKernel(t, kernel.Config{})
	c := box(t, "c", "configured")
	c.Config = map[string]string{"greeting": "hello, 世界"}
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{c}})
	const get = "wbox:test/configured@0.1.0#get"
	if res := call(t, k, "c", get, "greeting"); res[0] != "hello, 世界" {
		t.Errorf("get(greeting) = %v", res)
	}
	if res := call(t, k, "c", get, "missing"); res[0] != "<none>" {
		t.Errorf("get(missing) = %v", res)
	}
}

// Arrows into native tasks are bound into instances: a box whose native
// target is restarted, or whose arrow moves to another native task, is
// rebound (new instances, no restart counted) to the new target.
func TestRebindNative(t *testing.T) {
	var mu sync.Mutex
	var gates []*gate
	factory := func(kernel.DriverSpec, kernel.DriverEnv) (kernel.Native, error) {
		mu.Lock()
		defer mu.Unlock()
		g := newGate(1)
		gates = append(gates, g)
		return g, nil
	}
	last := func() *gate { mu.Lock(); defer mu.Unlock(); return gates[len(gates)-1] }
	k := newKernel(t, kernel.Config{Drivers: map[string]kernel.DriverFactory{"gate": factory}})
	w := box(t, "w", "waiter", arrow(gateIface, "g1", gateIface))
	apply(t, k, kernel.Plan{
		StartDrivers: []kernel.DriverSpec{{Name: "g1", Kind: "gate"}, {Name: "g2", Kind: "gate", Settings: map[string]any{"n": 2}}},
		Start:        []kernel.BoxSpec{w},
	})
	g1 := gates[0]
	call(t, k, "w", run)
	s1 := k.Snapshot().Boxes["w"]

	// Restart g1: w is rebound to the new g1.
	apply(t, k, kernel.Plan{RestartDrivers: []kernel.DriverSpec{{Name: "g1", Kind: "gate", Settings: map[string]any{"v": 2}}}, Keep: []string{"w"}, KeepDrivers: []string{"g2"}})
	g1b := last()
	if g1b == g1 || len(g1b.bindings()) != 1 {
		t.Fatalf("the new g1 was bound %v", g1b.bindings())
	}
	call(t, k, "w", run)
	s2 := k.Snapshot().Boxes["w"]
	if slices.Equal(s1.Instances, s2.Instances) || s2.Restarts != 0 || s2.State != kernel.StateRunning {
		t.Errorf("after the driver restart: %v -> %v, %d restarts", s1.Instances, s2.Instances, s2.Restarts)
	}
	if g1b.count() != 1 {
		t.Errorf("the new g1 served %d calls", g1b.count())
	}

	// Rewire w to g2.
	w.Arrows = []kernel.Arrow{arrow(gateIface, "g2", gateIface)}
	apply(t, k, kernel.Plan{Rewire: []kernel.BoxSpec{w}, KeepDrivers: []string{"g1", "g2"}})
	call(t, k, "w", run)
	if g2 := gates[1]; g2.count() != 1 || len(g2.bindings()) != 1 {
		t.Errorf("g2 served %d calls, bound %v", g2.count(), g2.bindings())
	}
	if s := k.Snapshot().Boxes["w"]; s.Restarts != 0 || !hasEvent(k, "w", kernel.EvBoxRebound) {
		t.Errorf("w: %d restarts, rebound event: %v", s.Restarts, hasEvent(k, "w", kernel.EvBoxRebound))
	}
}

// Stopping a box lets it finish the calls it has queued.
func TestStopDrains(t *testing.T) {
	g := newGate(1000)
	k := newKernel(t, kernel.Config{Drivers: map[string]kernel.DriverFactory{"gate": gateDriver(g)}})
	apply(t, k, kernel.Plan{
		StartDrivers: []kernel.DriverSpec{{Name: "gate", Kind: "gate"}},
		Start:        []kernel.BoxSpec{box(t, "w", "waiter", arrow(gateIface, "gate", gateIface))},
	})
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- callErr(k, "w", run) }()
	}
	waitFor(t, "2 calls in flight", func() bool { return inFlight(k, "w") == 2 })
	applied := make(chan error, 1)
	go func() {
		applied <- k.Apply(context.Background(), &kernel.Plan{Stop: []string{"w"}, KeepDrivers: []string{"gate"}})
	}()
	waitFor(t, "the deploy to commit", func() bool {
		_, ok := k.Snapshot().Boxes["w"]
		return !ok
	})
	wantErr(t, callErr(k, "w", run), kernel.ErrNoTask)
	close(g.release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("a queued call failed: %v", err)
		}
	}
	if err := <-applied; err != nil {
		t.Fatal(err)
	}
}

// Close interrupts the calls still running when its context ends.
func TestCloseInterrupts(t *testing.T) {
	g := newGate(1000)
	k := newKernel(t, kernel.Config{Drivers: map[string]kernel.DriverFactory{"gate": gateDriver(g)}})
	apply(t, k, kernel.Plan{
		StartDrivers: []kernel.DriverSpec{{Name: "gate", Kind: "gate"}},
		Start:        []kernel.BoxSpec{box(t, "w", "waiter", arrow(gateIface, "gate", gateIface))},
	})
	errs := make(chan error, 1)
	go func() { errs <- callErr(k, "w", run) }()
	waitFor(t, "a call in flight", func() bool { return inFlight(k, "w") == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := k.Close(ctx); err != nil {
		t.Fatal(err)
	}
	wantErr(t, <-errs, kernel.ErrStopped)
	wantErr(t, callErr(k, "w", run), kernel.ErrClosed)
}

// Restarting a box by a deploy loses no call: calls queued in the old
// instances are served by them, calls that arrive meanwhile go to the new.
func TestRestartUnderLoad(t *testing.T) {
	k := newKernel(t, kernel.Config{})
	a := box(t, "a", "faulty")
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{a}})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var calls atomic.Int64
	for range 3 {
		wg.Go(func() {
			for i := uint32(0); ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				res, err := k.Call(context.Background(), "a", add, i, uint32(1))
				if err != nil || res[0] != i+1 {
					t.Errorf("add(%d, 1) = %v, %v", i, res, err)
					return
				}
				calls.Add(1)
			}
		})
	}
	for i := range 5 {
		waitFor(t, "some calls", func() bool { return calls.Load() > int64(20*(i+1)) })
		a.Config = map[string]string{"v": string(rune('a' + i))}
		apply(t, k, kernel.Plan{Restart: []kernel.BoxSpec{a}})
	}
	close(stop)
	wg.Wait()
	if s := k.Snapshot().Boxes["a"]; s.Spec.Config["v"] != "e" || s.Counters.Errors != 0 {
		t.Errorf("status %+v", s)
	}
}

// A driver's function that fails or panics fails the call through the arrow
// (ErrArrow), not the calling box: it is not restarted and serves again.
func TestNativeArrowFailure(t *testing.T) {
	g := newGate(1)
	k := newKernel(t, kernel.Config{Drivers: map[string]kernel.DriverFactory{"gate": gateDriver(g)}})
	apply(t, k, kernel.Plan{
		StartDrivers: []kernel.DriverSpec{{Name: "gate", Kind: "gate"}},
		Start:        []kernel.BoxSpec{box(t, "w", "waiter", arrow(gateIface, "gate", gateIface))},
	})
	for _, f := range []func() error{
		func() error { return errors.New("disk on fire") },
		func() error { panic("driver bug") },
	} {
		g.fail.Store(&f)
		wantErr(t, callErr(k, "w", run), kernel.ErrArrow)
		g.fail.Store(nil)
		waitFor(t, "the box to serve again", func() bool {
			res, err := k.Call(context.Background(), "w", run)
			return err == nil && len(res) == 1
		})
	}
	if s := k.Snapshot().Boxes["w"]; s.Restarts != 0 || s.State != kernel.StateRunning {
		t.Errorf("box after failed arrow calls: restarts %d, state %s; want 0, running", s.Restarts, s.State)
	}
}
