package kernel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/experimental"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/wasi"
)

// boxTask is a component box: the unit a deploy starts, rewires, restarts
// and stops. Its supervisor replaces a failed generation of instances with
// a new one; a deploy that changes the box replaces the whole boxTask.
type boxTask struct {
	k      *Kernel
	name   string
	comp   *wasmhost.Component
	limits Limits // effective (defaults applied)
	policy RestartPolicy
	// httpFn is the component's wasi:http/incoming-handler handle
	// ("iface#handle"), or "" if it serves no HTTP.
	httpFn string
	// fresh: every call runs on a new instance (BoxSpec.Fresh).
	fresh bool

	mu          sync.Mutex
	spec        BoxSpec // as given; a rewire replaces its Arrows
	fp, afp     string
	restarts    int
	lastErr     error
	nextRestart time.Time
	restarting  bool
	stopped     bool
	genN        int

	gen         atomic.Pointer[generation]
	stopCh      chan struct{} // closed to stop the supervisor
	swapCh      chan struct{} // a deploy swapped the generation (rebind)
	supDone     chan struct{}
	supervising bool

	stdout, stderr *lineWriter

	callsIn, callsOut, errors                   atomic.Uint64
	overloaded, timeouts, traps, memQuotaFaults atomic.Uint64
	busy                                        atomic.Int64
	lat                                         latency // metrics.go
}

func (k *Kernel) newBox(ctx context.Context, spec BoxSpec) (*boxTask, error) {
	if spec.Name == "" {
		return nil, errors.New("a box needs a name")
	}
	if spec.Instances < 0 {
		return nil, fmt.Errorf("instances is %d", spec.Instances)
	}
	if m := spec.Limits.MemoryBytes; m > 0 && m < pageSize {
		return nil, fmt.Errorf("memory limit %d bytes is less than one 64 KiB page", m)
	}
	pol, err := normPolicy(spec.Restart)
	if err != nil {
		return nil, err
	}
	c := spec.Component
	switch {
	case c != nil:
		if spec.Digest != "" && c.Digest() != spec.Digest {
			return nil, fmt.Errorf("digest mismatch: the component hashes to %s, the spec says %s", c.Digest(), spec.Digest)
		}
	case spec.Wasm != nil:
		if c, err = k.comps.acquire(ctx, spec); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("the spec has neither a Component nor Wasm")
	}
	b := &boxTask{
		k: k, name: spec.Name, comp: c, limits: k.limits(spec.Limits), policy: pol,
		spec: spec, fp: Fingerprint(spec), afp: ArrowsFingerprint(spec),
		stopCh: make(chan struct{}), swapCh: make(chan struct{}, 1), supDone: make(chan struct{}),
	}
	b.httpFn = httpHandlerFunc(c.World())
	if spec.Fresh != nil {
		b.fresh = *spec.Fresh
	} else {
		b.fresh = StarlingMonkeyHTTP(c)
	}
	b.stdout = &lineWriter{events: k.events, kind: EvStdout, task: spec.Name}
	b.stderr = &lineWriter{events: k.events, kind: EvStderr, task: spec.Name}
	return b, nil
}

func normPolicy(p RestartPolicy) (RestartPolicy, error) {
	switch p.Mode {
	case "":
		p.Mode = "always"
	case "always", "on-failure", "never":
	default:
		return p, fmt.Errorf("restart mode %q is not always, on-failure or never", p.Mode)
	}
	if p.Backoff <= 0 {
		p.Backoff = DefaultBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = max(DefaultMaxBackoff, p.Backoff)
	}
	p.MaxBackoff = max(p.MaxBackoff, p.Backoff)
	return p, nil
}

// delay is the backoff before restart number n (1, 2, ...) of a streak of
// failures.
func (p RestartPolicy) delay(n int) time.Duration {
	d := p.Backoff
	for i := 1; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, p.MaxBackoff)
}

func (b *boxTask) taskName() string { return b.name }

// generation is one start of a box: its instance pool, the queue of calls
// waiting for an instance, and the goroutines that serve the queue.
//
// An instance is a token in idle: whoever takes it from there (a queue
// server, or a caller on the fast path) is the only goroutine that may
// enter it until it puts it back, so an instance is never entered
// concurrently.
type generation struct {
	b       *boxTask
	n       int
	routes  *routing // the table it was started with (native binds)
	started time.Time
	timeout time.Duration
	queue   chan *request
	max     int64
	workers []*worker
	// idle holds the tokens of the instances no call is running on.
	idle chan *worker

	inflight atomic.Int64
	// queued counts the calls in queue not yet on an instance: a caller
	// takes an idle instance itself only when it is zero (FIFO).
	queued atomic.Int64
	// running counts the queue servers still running.
	running atomic.Int32
	killed  atomic.Bool

	mu        sync.Mutex
	ended     bool
	endErr    *TaskError
	endFailed bool
	// retired: it stopped gracefully, after serving every call it had
	// dequeued, so a call it never answered never ran.
	retired bool

	dead     chan struct{} // closed when waiting callers must give up
	failed   chan struct{} // closed when it failed (for the supervisor)
	stopOnce sync.Once     // sends the queue servers' stop sentinels
	finished chan struct{} // closed when the servers exited and the instances are closed
}

type request struct {
	ctx  context.Context
	fn   string
	args []any
	done chan reply
	// hc, for an HTTP request (Kernel.ServeHTTP), replaces args; state
	// says who may touch its ResponseWriter (reqQueued...).
	hc    *httpCall
	state atomic.Int32
}

type reply struct {
	res []any
	err error
}

// errTimeout is the cause of a call context cancelled by its call timeout.
var errTimeout = errors.New("the call timeout expired")

// reply answers the call. The worker must not touch r afterwards: the
// caller recycles it.
func (r *request) reply(res []any, err error) { r.done <- reply{res, err} }

// Requests are pooled with their reply channel. A caller that got its
// reply recycles the request; one that gave up (its context ended, or the
// box failed) leaves it to the garbage collector, since a queue server may
// still answer it.
var reqPool = sync.Pool{New: func() any { return &request{done: make(chan reply, 1)} }}

func (r *request) recycle() {
	r.ctx, r.args, r.fn, r.hc = nil, nil, "", nil
	r.state.Store(reqQueued)
	reqPool.Put(r)
}

// worker is one instance of a generation and the state of the call
// running on it (its deadline timer, its cancel). Only the goroutine that
// holds its token (taken from generation.idle) touches inst, funcs and
// hosts or calls serve.
type worker struct {
	g     *generation
	slot  int
	inst  *wasmhost.Instance
	funcs map[string]*wasmhost.Func
	mem   *memQuota
	hosts *instHosts
	info  atomic.Pointer[instInfo]

	mu       sync.Mutex
	cancel   context.CancelCauseFunc // of the running call
	deadline time.Time
	timedOut bool
	timer    *time.Timer
	hc       *httpCall // of the running call, if an HTTP request
}

type instInfo struct {
	id      string
	started time.Time
	mem     *memQuota
}

// startGen instantiates a new generation with the arrows of routes and
// starts its workers. Nothing is visible to callers until the caller
// stores it in b.gen.
func (b *boxTask) startGen(ctx context.Context, routes *routing) (*generation, error) {
	n := max(b.spec.Instances, 1)
	b.mu.Lock()
	b.genN++
	gn := b.genN
	b.mu.Unlock()
	g := &generation{
		b: b, n: gn, routes: routes, started: time.Now(), timeout: b.limits.CallTimeout,
		// Room for MaxInFlight calls and one stop sentinel per worker.
		queue: make(chan *request, b.limits.MaxInFlight+n), max: int64(b.limits.MaxInFlight),
		dead: make(chan struct{}), failed: make(chan struct{}), finished: make(chan struct{}),
	}
	g.workers = make([]*worker, n)
	g.idle = make(chan *worker, n)
	for i := range g.workers {
		w := &worker{g: g, slot: i}
		if err := w.instantiate(ctx, routes); err != nil {
			for _, w := range g.workers[:i] {
				w.closeInstance()
			}
			if n > 1 {
				return nil, fmt.Errorf("instance %d of %d: %w", i+1, n, err)
			}
			return nil, err
		}
		g.workers[i] = w
	}
	for _, w := range g.workers {
		g.idle <- w
	}
	g.running.Store(int32(n))
	for range n {
		b.k.wg.Add(1)
		go g.serveQueue()
	}
	return g, nil
}

// instantiate creates the worker's instance, with a fresh memory quota and
// imports built from routes.
func (w *worker) instantiate(ctx context.Context, routes *routing) error {
	b := w.g.b
	q := newMemQuota(b.limits.MemoryBytes)
	im, hosts, err := b.imports(routes)
	if err != nil {
		return err
	}
	inst, err := b.comp.Instantiate(experimental.WithMemoryAllocator(ctx, q), im)
	if err != nil {
		hosts.close()
		if q.overInit.Load() || q.refused.Load() {
			return fmt.Errorf("%w: the component's memory does not fit in the quota of %d pages: %v", ErrMemoryQuota, q.limit/pageSize, err)
		}
		return err
	}
	if q.overInit.Load() {
		inst.Close(context.Background())
		hosts.close()
		return fmt.Errorf("%w: the component starts with %d pages of memory, more than its quota of %d pages", ErrMemoryQuota, q.pages(), q.limit/pageSize)
	}
	w.inst, w.mem, w.hosts = inst, q, hosts
	w.funcs = map[string]*wasmhost.Func{}
	w.info.Store(&instInfo{id: fmt.Sprintf("%s.%d", b.name, b.k.instSeq.Add(1)), started: time.Now(), mem: q})
	return nil
}

func (w *worker) closeInstance() {
	if w.inst == nil {
		return
	}
	w.inst.Close(context.Background())
	w.hosts.close()
	w.inst, w.funcs, w.hosts = nil, nil, nil
	w.info.Store(nil)
}

// serveQueue is one of the generation's queue servers (one per
// instance): it takes the queued calls in order and runs each on the next
// idle instance. A nil request is a stop sentinel: queued after the calls
// already waiting, it stops the server once they are served (they fail at
// once if the generation ended). The last server to stop closes the
// instances once the calls running on them return their tokens.
func (g *generation) serveQueue() {
	defer func() {
		if g.running.Add(-1) == 0 {
			g.closeInstances()
		}
		g.b.k.wg.Done()
	}()
	for req := range g.queue {
		if req == nil {
			return
		}
		w := <-g.idle
		g.queued.Add(-1)
		if renew, why := w.serve(req); renew {
			w.replace(why)
		}
		g.idle <- w
	}
}

// runHere is the fast path: the caller's goroutine, holding w's token,
// runs req on it, without a hand-off to a queue server. An instance to
// replace is replaced in the background, so the caller does not wait for
// it.
func (g *generation) runHere(w *worker, req *request) reply {
	if renew, why := w.serve(req); renew {
		g.b.k.wg.Add(1)
		go func() {
			defer g.b.k.wg.Done()
			w.replace(why)
			g.idle <- w
		}()
	} else {
		g.idle <- w
	}
	return <-req.done // serve answered it
}

// closeInstances takes every instance's token back, waiting for the
// calls running on them, and closes the instances. No call can take one
// afterwards.
func (g *generation) closeInstances() {
	for range g.workers {
		w := <-g.idle
		if w.timer != nil {
			w.timer.Stop()
		}
		w.closeInstance()
	}
	close(g.finished)
}

// sentinels queues one stop sentinel per queue server, once. The queue
// always has room: calls in it never exceed max, and it holds max +
// servers.
func (g *generation) sentinels() {
	g.stopOnce.Do(func() {
		for range g.workers {
			g.queue <- nil
		}
	})
}

// arm makes cancel the running call's: its deadline is enforced by the
// worker's timer (one per worker, reset per call: cheaper than a context
// with a deadline per call), and interrupt cancels it.
func (w *worker) arm(cancel context.CancelCauseFunc, timeout time.Duration) (now time.Time) {
	now = time.Now()
	w.mu.Lock()
	w.cancel, w.timedOut = cancel, false
	w.deadline = now.Add(timeout)
	w.mu.Unlock()
	if w.timer == nil {
		w.timer = time.AfterFunc(timeout, w.expire)
	} else {
		w.timer.Reset(timeout)
	}
	return now
}

// disarm ends the running call's deadline and reports whether it expired.
func (w *worker) disarm() (timedOut bool) {
	w.timer.Stop()
	w.mu.Lock()
	w.cancel, w.hc = nil, nil
	timedOut = w.timedOut
	w.mu.Unlock()
	return timedOut
}

// expire runs on the worker's timer: it cancels the running call if its
// deadline has passed (a late firing for an earlier call does nothing).
func (w *worker) expire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cancel != nil && !time.Now().Before(w.deadline) {
		w.timedOut = true
		if w.hc != nil && w.hc.reading.Load() > 0 {
			w.hc.stalled.Store(true)
		}
		w.cancel(errTimeout)
	}
}

// interrupt stops the running call: wazero closes the module when its
// context is done.
func (w *worker) interrupt() {
	w.mu.Lock()
	if w.cancel != nil {
		w.cancel(ErrStopped)
	}
	w.mu.Unlock()
}

// serve runs one call on the worker's instance and answers it: the only
// place a call enters an instance, for the queue servers and the fast
// path alike. The goroutine calling it holds w's token. It reports whether
// the instance must be renewed before its next call (replace(why): a call
// left it unusable, why nil after every call of a fresh box).
func (w *worker) serve(req *request) (renew bool, why *TaskError) {
	g, b := w.g, w.g.b
	defer g.inflight.Add(-1)
	if g.killed.Load() {
		req.reply(nil, g.deadErr(req.fn))
		return false, nil
	}
	if err := req.ctx.Err(); err != nil {
		req.reply(nil, &TaskError{Task: b.name, Func: req.fn, Kind: ErrCancelled, Err: err})
		return false, nil
	}
	if w.inst == nil {
		// The last replacement failed; the generation has failed already.
		req.reply(nil, g.deadErr(req.fn))
		return false, nil
	}
	f := w.funcs[req.fn]
	if f == nil {
		var err error
		if f, err = w.inst.Func(req.fn); err != nil {
			req.reply(nil, &TaskError{Task: b.name, Func: req.fn, Kind: ErrNoFunc, Err: err, detail: err.Error()})
			return false, nil
		}
		w.funcs[req.fn] = f
	}
	if req.hc != nil && !req.state.CompareAndSwap(reqQueued, reqRunning) {
		req.reply(nil, &TaskError{Task: b.name, Func: req.fn, Kind: ErrCancelled, detail: "the caller gave up before the call ran"})
		return false, nil
	}
	ctx, cancel := context.WithCancelCause(withCaller(req.ctx, b.name))
	w.mu.Lock()
	w.hc = req.hc
	w.mu.Unlock()
	start := w.arm(cancel, g.timeout)
	if g.killed.Load() {
		cancel(ErrStopped) // end raced with arm
	}
	w.mem.refused.Store(false)
	var (
		res      []any
		err      error
		panicked bool
	)
	if req.hc != nil {
		err, panicked = w.serveHTTP(ctx, f, req.hc)
	} else {
		res, err, panicked = callGuest(ctx, f, req.args)
	}
	b.busy.Add(int64(time.Since(start)))
	timedOut := w.disarm()
	cancel(nil)
	if err == nil {
		req.reply(res, nil)
		return b.fresh, nil
	}
	te, fail, replace := w.classify(req, err, timedOut, panicked)
	if fail {
		g.fail(te, func() { req.reply(nil, te) })
		return false, nil
	}
	req.reply(nil, te)
	switch {
	case replace:
		return true, te
	case b.fresh:
		return true, nil
	}
	return false, nil
}

// callGuest calls f, turning a panic (a wasmhost bug) into an error.
func callGuest(ctx context.Context, f *wasmhost.Func, args []any) (res []any, err error, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			res, err, panicked = nil, fmt.Errorf("wasmhost panicked: %v", r), true
		}
	}()
	res, err = f.Call(ctx, args...)
	return res, err, false
}

// classify turns a failed call into its TaskError and decides whether the
// box fails (its own fault: trap, deadline, memory) or only the instance is
// replaced (its call was cut short from outside: the caller gave up, or a
// call it made through an arrow failed).
func (w *worker) classify(req *request, err error, timedOut, panicked bool) (te *TaskError, fail, replace bool) {
	g, b := w.g, w.g.b
	broken := panicked || w.inst.Poisoned() != nil
	var trap *wasmhost.TrapError
	isTrap := errors.As(err, &trap)
	var ae *arrowError
	var exit *wasi.ExitError
	te = &TaskError{Task: b.name, Func: req.fn, Err: err}
	switch {
	case g.killed.Load():
		// Another call failed the box, or it is being stopped: the
		// interruption is not this call's fault.
		return g.deadErr(req.fn), false, false
	case w.mem.refused.Load():
		b.memQuotaFaults.Add(1)
		te.Kind = ErrMemoryQuota
		cause := err
		if isTrap {
			cause = trap.Err
		}
		te.detail = fmt.Sprintf("a memory grow past the quota of %d pages (%s) was refused, then the guest failed: %s",
			w.mem.limit/pageSize, byteSize(w.mem.limit), firstLine(cause))
		b.callFailed(te)
		return te, true, false
	case errors.As(err, &exit):
		// wasi:cli/exit ends the instance; a non-zero status is a failure.
		te.Kind = ErrExited
		te.detail = fmt.Sprintf("exit status %d", exit.Code)
		if exit.Code != 0 {
			b.callFailed(te)
			return te, true, false
		}
		return te, false, true
	case req.ctx.Err() != nil && !timedOut:
		// The caller gave up: whatever the guest was doing (a call
		// through an arrow ends with the caller's context too) was cut
		// short from outside.
		te.Kind = ErrCancelled
		te.Err = errors.Join(context.Cause(req.ctx), err)
		te.detail = context.Cause(req.ctx).Error()
		return te, false, broken
	case errors.As(err, &ae):
		te.Kind = ErrArrow
		te.detail = ae.Error()
		return te, false, broken
	case timedOut && req.hc != nil && req.hc.stalled.Load():
		// The client, not the box, was slow: it had not sent its body
		// when the call timeout expired.
		te.Kind = ErrCancelled
		te.detail = fmt.Sprintf("the client did not send its request body within the call timeout of %s", g.timeout)
		return te, false, true
	case timedOut:
		b.timeouts.Add(1)
		te.Kind = ErrCallTimeout
		te.detail = fmt.Sprintf("ran longer than the call timeout of %s and was interrupted", g.timeout)
		b.callFailed(te)
		return te, true, false
	case isTrap || broken:
		b.traps.Add(1)
		te.Kind = ErrTrap
		if isTrap {
			te.detail = firstLine(trap.Err)
		} else {
			te.detail = firstLine(err)
		}
		b.callFailed(te)
		return te, true, false
	}
	if req.hc != nil {
		// The handler returned without a response (wasihttp answered 500).
		te.Kind = ErrHandler
		te.detail = err.Error()
		return te, false, false
	}
	// The call was refused before it ran (bad arguments): nothing broke.
	te.Kind = ErrInvalidCall
	te.detail = err.Error()
	return te, false, false
}

var (
	// ErrInvalidCall: the arguments did not match the function's type.
	ErrInvalidCall = errors.New("invalid call")
	// ErrExited: the guest called wasi:cli/exit. Status 0 only replaces
	// the instance; another status fails the box.
	ErrExited = errors.New("the guest exited")
)

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSuffix(s, " (recovered by wazero)")
}

func byteSize(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func (b *boxTask) callFailed(te *TaskError) {
	b.k.events.emit(slog.LevelWarn, EvCallFailed, b.name, te.Error(), "func", te.Func, "cause", te.Kind.Error())
}

// replace rebuilds the worker's instance after a call left it unusable
// through no fault of its own, or (why nil) after any call of a fresh box,
// silently. If that fails, the box fails.
func (w *worker) replace(why *TaskError) {
	b := w.g.b
	if w.g.killed.Load() {
		w.closeInstance() // the generation ended: no successor needed
		return
	}
	old := "?"
	if info := w.info.Load(); info != nil {
		old = info.id
	}
	// The successor is made before the old instance is closed, so the
	// worker always shows an instance.
	oldInst, oldHosts := w.inst, w.hosts
	w.inst, w.funcs, w.hosts = nil, nil, nil
	routes := w.g.routes
	if cur := b.k.routes.Load(); cur.tasks[b.name] == task(b) {
		routes = cur
	}
	err := w.instantiate(context.Background(), routes)
	if oldInst != nil {
		oldInst.Close(context.Background())
		oldHosts.close()
	}
	if err != nil {
		w.info.Store(nil)
		w.g.fail(&TaskError{Task: b.name, Kind: ErrTaskFailed, Err: err, detail: "replacing instance " + old + ": " + err.Error()}, nil)
		return
	}
	if why == nil {
		return
	}
	b.k.events.emit(slog.LevelInfo, EvInstance, b.name, "instance "+old+" replaced by "+w.info.Load().id,
		"old", old, "new", w.info.Load().id, "reason", why.Error())
}

// end ends the generation: waiting callers are released with err and
// running calls are interrupted. It reports whether this call ended it.
func (g *generation) end(err *TaskError, failed bool) bool {
	return g.endThen(err, failed, nil)
}

// endThen is end, running then between marking the generation ended (new
// calls are refused from then on) and releasing the callers waiting on it.
func (g *generation) endThen(err *TaskError, failed bool, then func()) bool {
	g.mu.Lock()
	if g.ended {
		g.mu.Unlock()
		return false
	}
	g.ended, g.endErr, g.endFailed = true, err, failed
	g.killed.Store(true)
	g.mu.Unlock()
	if then != nil {
		then()
	}
	if failed {
		close(g.failed)
	}
	close(g.dead)
	for _, w := range g.workers {
		w.interrupt()
	}
	g.sentinels()
	return true
}

// fail fails the generation: the supervisor restarts the box. The call that
// failed it, if any, is answered (by answer) before the other callers are
// released, so it gets its own error and any call after it sees the box
// down.
func (g *generation) fail(te *TaskError, answer func()) {
	if !g.endThen(te, true, answer) {
		if answer != nil {
			answer()
		}
		return
	}
	b := g.b
	b.mu.Lock()
	b.lastErr = te
	b.mu.Unlock()
	b.k.events.emit(slog.LevelError, EvBoxFailed, b.name, fmt.Sprintf("box %q failed: %v", b.name, te), "err", te.Error())
}

// stop stops the generation after the calls already queued, or at once when
// ctx ends.
func (g *generation) stop(ctx context.Context, reason string) {
	g.sentinels()
	stopped := &TaskError{Task: g.b.name, Kind: ErrStopped, detail: reason}
	select {
	case <-g.finished:
		g.mu.Lock()
		g.retired = !g.ended
		g.mu.Unlock()
	case <-ctx.Done():
		g.end(stopped, false)
		<-g.finished
	}
	g.end(stopped, false)
}

// deadErr is the error of a call caught by the end of the generation.
func (g *generation) deadErr(fn string) *TaskError {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.endFailed {
		return &TaskError{Task: g.b.name, Func: fn, Kind: ErrTaskFailed, Err: g.endErr, detail: g.endErr.Error()}
	}
	if g.endErr != nil {
		return &TaskError{Task: g.b.name, Func: fn, Kind: ErrStopped, detail: g.endErr.detail}
	}
	return &TaskError{Task: g.b.name, Func: fn, Kind: ErrStopped}
}

// call queues a call into the box and waits for it. A call caught in the
// queue of instances that a deploy retired goes to their successor: the
// box's new generation (a rebind) or the new box of the same name (a
// restart).
func (b *boxTask) call(ctx context.Context, fn string, args []any) ([]any, error) {
	b.callsIn.Add(1)
	start := b.k.obs.now() // metrics.go
	res, err := b.call1(ctx, fn, args, nil)
	for range 3 {
		if err != errRetired {
			break
		}
		if nb, ok := b.k.routes.Load().tasks[b.name].(*boxTask); ok && nb != b {
			return nb.call(ctx, fn, args)
		}
		res, err = b.call1(ctx, fn, args, nil)
	}
	if err == errRetired {
		err = &TaskError{Task: b.name, Func: fn, Kind: ErrStopped, detail: "stopped by a deploy"}
	}
	if err != nil {
		b.errors.Add(1)
	}
	b.lat.since(start)
	return res, err
}

// errRetired: the call was never served by instances a deploy retired.
var errRetired = errors.New("retired")

// call1 queues one call (an HTTP request when hc is set) and waits for it.
func (b *boxTask) call1(ctx context.Context, fn string, args []any, hc *httpCall) ([]any, error) {
	if err := reentrant(ctx, b.name, fn); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, &TaskError{Task: b.name, Func: fn, Kind: ErrCancelled, Err: context.Cause(ctx), detail: context.Cause(ctx).Error()}
	}
	g := b.gen.Load()
	if g == nil {
		return nil, &TaskError{Task: b.name, Func: fn, Kind: ErrUnavailable, detail: "it has not started"}
	}
	if g.killed.Load() {
		g.mu.Lock()
		retired := g.retired
		g.mu.Unlock()
		if retired {
			return nil, errRetired
		}
		return nil, b.unavailable(g, fn)
	}
	if n := g.inflight.Add(1); n > g.max {
		g.inflight.Add(-1)
		b.overloaded.Add(1)
		return nil, &TaskError{Task: b.name, Func: fn, Kind: ErrOverloaded,
			detail: fmt.Sprintf("%d calls queued or running, the limit is %d", n-1, g.max)}
	}
	req := reqPool.Get().(*request)
	req.ctx, req.fn, req.args, req.hc = ctx, fn, args, hc
	// The fast path: with no call waiting and an instance idle, run the
	// call here. A fresh box renews its instance after every call, which
	// its queue servers do while the caller is already answered.
	if !b.fresh && g.queued.Load() == 0 {
		select {
		case w := <-g.idle:
			r := g.runHere(w, req)
			req.recycle()
			return r.res, r.err
		default:
		}
	}
	g.queued.Add(1)
	g.queue <- req // never blocks: inflight <= max = cap(queue)
	// An HTTP request a worker runs holds the caller's ResponseWriter: wait
	// for its reply (the guest is interrupted when the generation ends or
	// ctx does, so it comes).
	running := func() bool { return hc != nil && !req.state.CompareAndSwap(reqQueued, reqAbandoned) }
	select {
	case r := <-req.done:
		req.recycle()
		return r.res, r.err
	case <-g.dead:
		select {
		case r := <-req.done:
			req.recycle()
			return r.res, r.err
		default:
		}
		if running() {
			r := <-req.done
			req.recycle()
			return r.res, r.err
		}
		g.mu.Lock()
		retired := g.retired
		g.mu.Unlock()
		if retired {
			return nil, errRetired
		}
		return nil, g.deadErr(fn)
	case <-ctx.Done():
		if running() {
			r := <-req.done
			req.recycle()
			return r.res, r.err
		}
		return nil, &TaskError{Task: b.name, Func: fn, Kind: ErrCancelled, Err: context.Cause(ctx), detail: context.Cause(ctx).Error()}
	}
}

// unavailable is the error of a call into a box whose generation ended.
func (b *boxTask) unavailable(g *generation, fn string) *TaskError {
	g.mu.Lock()
	failed, cause := g.endFailed, g.endErr
	g.mu.Unlock()
	if !failed {
		return &TaskError{Task: b.name, Func: fn, Kind: ErrStopped}
	}
	b.mu.Lock()
	next, never := b.nextRestart, b.policy.Mode == "never"
	b.mu.Unlock()
	te := &TaskError{Task: b.name, Func: fn, Kind: ErrUnavailable, Err: cause}
	switch {
	case never:
		te.detail = fmt.Sprintf("it failed (%v) and its restart policy is never", cause)
	case !next.IsZero():
		te.detail = fmt.Sprintf("it failed (%v); restarting in %s", cause, time.Until(next).Round(time.Millisecond))
	default:
		te.detail = fmt.Sprintf("it failed (%v); restarting", cause)
	}
	return te
}

// supervise restarts the box whenever its generation fails, with
// exponential backoff, until the box is stopped.
func (b *boxTask) supervise() {
	defer b.k.wg.Done()
	defer close(b.supDone)
	streak := 0
	for {
		g := b.gen.Load()
		select {
		case <-b.stopCh:
			return
		case <-b.swapCh:
			continue
		case <-g.failed:
		}
		select {
		case <-g.finished: // its instances are closed
		case <-b.stopCh:
			return
		}
		if time.Since(g.started) >= b.policy.MaxBackoff {
			streak = 0 // it ran long enough: a fresh failure
		}
		if b.policy.Mode == "never" {
			b.k.events.emit(slog.LevelError, EvBoxFailed, b.name, fmt.Sprintf("box %q stays failed: its restart policy is never", b.name))
			select {
			case <-b.stopCh:
				return
			case <-b.swapCh:
				continue
			}
		}
	restart:
		for {
			streak++
			delay := b.policy.delay(streak)
			b.mu.Lock()
			b.nextRestart = time.Now().Add(delay)
			b.mu.Unlock()
			t := time.NewTimer(delay)
			select {
			case <-b.stopCh:
				t.Stop()
				return
			case <-b.swapCh:
				t.Stop()
			case <-t.C:
			}
			if b.gen.Load() != g {
				break restart // a deploy rebound the box meanwhile
			}
			b.mu.Lock()
			b.restarting = true
			b.mu.Unlock()
			ng, err := b.startGen(context.Background(), b.k.routes.Load())
			b.mu.Lock()
			b.restarting = false
			b.nextRestart = time.Time{}
			if err != nil {
				b.lastErr = err
				b.mu.Unlock()
				b.k.events.emit(slog.LevelError, EvBoxRestartErr, b.name, fmt.Sprintf("box %q did not restart: %v", b.name, err), "err", err.Error())
				continue
			}
			if b.stopped || b.gen.Load() != g {
				b.mu.Unlock()
				ng.stop(context.Background(), "superseded")
				break restart
			}
			b.gen.Store(ng)
			b.restarts++
			n := b.restarts
			b.mu.Unlock()
			b.k.events.emit(slog.LevelInfo, EvBoxRestarted, b.name, fmt.Sprintf("box %q restarted (restart %d)", b.name, n),
				"restarts", fmt.Sprint(n), "instances", strings.Join(ng.ids(), " "))
			break restart
		}
	}
}

func (g *generation) ids() []string {
	var ids []string
	for _, w := range g.workers {
		if info := w.info.Load(); info != nil {
			ids = append(ids, info.id)
		}
	}
	return ids
}

// stop stops the box: its supervisor, then its instances after the calls
// already queued (or at once when ctx ends).
func (b *boxTask) stop(ctx context.Context, reason string) {
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return
	}
	b.stopped = true
	sup := b.supervising
	b.mu.Unlock()
	close(b.stopCh)
	if sup {
		<-b.supDone
	}
	if g := b.gen.Load(); g != nil {
		g.stop(ctx, reason)
	}
	b.stdout.Flush()
	b.stderr.Flush()
	b.k.comps.release(context.WithoutCancel(ctx), b.spec)
	b.k.events.emit(slog.LevelInfo, EvBoxStopped, b.name, fmt.Sprintf("box %q stopped: %s", b.name, reason), "reason", reason)
}

// startSupervisor runs the supervisor once the box is live.
func (b *boxTask) startSupervisor() {
	b.mu.Lock()
	b.supervising = true
	b.mu.Unlock()
	b.k.wg.Add(1)
	go b.supervise()
}

// swapGen replaces the running generation (a rebind) and returns the old
// one, to be stopped by the caller.
func (b *boxTask) swapGen(ng *generation) *generation {
	b.mu.Lock()
	old := b.gen.Swap(ng)
	b.mu.Unlock()
	select {
	case b.swapCh <- struct{}{}:
	default:
	}
	return old
}

func (b *boxTask) status() BoxStatus {
	b.mu.Lock()
	s := BoxStatus{
		Spec: b.spec, Fingerprint: b.fp, ArrowsFingerprint: b.afp,
		Restarts: b.restarts, NextRestart: b.nextRestart, Fresh: b.fresh, HTTP: b.httpFn != "",
	}
	if b.lastErr != nil {
		s.LastError = b.lastErr.Error()
	}
	stopped, restarting := b.stopped, b.restarting
	b.mu.Unlock()
	g := b.gen.Load()
	switch {
	case stopped:
		s.State = StateStopped
	case g == nil || restarting:
		s.State = StateStarting
	case g.killed.Load():
		s.State = StateFailed
	default:
		s.State = StateRunning
	}
	if g != nil && !g.killed.Load() {
		s.Started = g.started
		for _, w := range g.workers {
			if info := w.info.Load(); info != nil {
				s.Instances = append(s.Instances, info.id)
				s.Counters.MemoryPages += uint64(info.mem.pages())
			}
		}
		s.Counters.InFlight = int(g.inflight.Load())
	}
	s.Counters.CallsIn = b.callsIn.Load()
	s.Counters.CallsOut = b.callsOut.Load()
	s.Counters.Errors = b.errors.Load()
	s.Counters.Overloaded = b.overloaded.Load()
	s.Counters.Timeouts = b.timeouts.Load()
	s.Counters.Traps = b.traps.Load()
	s.Counters.MemoryQuota = b.memQuotaFaults.Load()
	s.Counters.Busy = time.Duration(b.busy.Load())
	return s
}
