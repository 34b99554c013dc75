package kernel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wbox-dev/wbox/wasmhost"
)

// Config configures a Kernel.
type Config struct {
	// Logger receives the event log as slog records; nil means
	// slog.Default().
	Logger *slog.Logger
	// DataDir, when set, holds events.log (the event log as JSON lines) and
	// the drivers' data directories (DataDir/drivers/<name>).
	DataDir string
	// Drivers are the native task kinds, by DriverSpec.Kind.
	Drivers map[string]DriverFactory
	// CacheDir caches machine code of components the kernel compiles itself
	// (BoxSpec.Wasm).
	CacheDir string
	// Defaults replace zero Limits of a box; their own zero fields mean
	// DefaultLimits.
	Defaults Limits
	// EventBuffer is how many events Events and Follow keep in memory;
	// 0 means 4096.
	EventBuffer int
}

// DefaultLimits are the quotas of a box that sets none, unless
// Config.Defaults says otherwise.
var DefaultLimits = Limits{
	MemoryBytes: 256 << 20,
	CallTimeout: 30 * time.Second,
	MaxInFlight: 64,
}

// Default restart backoff.
const (
	DefaultBackoff    = 100 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
)

// Errors of calls and deploys. Every call error is a *TaskError whose chain
// contains one of these (test with errors.Is).
var (
	// ErrOverloaded: the box has Limits.MaxInFlight calls queued or running.
	ErrOverloaded = errors.New("overloaded: too many calls in flight")
	// ErrTrap: the component trapped; the box fails and restarts.
	ErrTrap = errors.New("trapped")
	// ErrCallTimeout: the call ran past Limits.CallTimeout; the guest was
	// interrupted and the box fails and restarts.
	ErrCallTimeout = errors.New("call timed out")
	// ErrMemoryQuota: the instance needed more than Limits.MemoryBytes; the
	// box fails and restarts.
	ErrMemoryQuota = errors.New("memory quota exceeded")
	// ErrPanic: a native task panicked; it fails and restarts.
	ErrPanic = errors.New("native task panicked")
	// ErrReentrant: the call would re-enter a box already in the call
	// chain (A → B → A), which would deadlock a single-threaded instance.
	ErrReentrant = errors.New("re-entrant call")
	// ErrArrow: a call the box made through one of its arrows failed, so
	// its own call failed (its instance is replaced; the box keeps running).
	ErrArrow = errors.New("call through an arrow failed")
	// ErrTaskFailed: the box failed (because of another call) while this
	// call was queued or running.
	ErrTaskFailed = errors.New("box failed")
	// ErrUnavailable: the box is failed and waiting to be restarted, or
	// its restart policy is "never".
	ErrUnavailable = errors.New("box is not running")
	// ErrStopped: the task was stopped (by a deploy or Close) while the
	// call was queued or running.
	ErrStopped = errors.New("stopped")
	// ErrNoTask: no box or driver of that name runs.
	ErrNoTask = errors.New("no such task")
	// ErrNoFunc: the task exports no such function.
	ErrNoFunc = errors.New("no such function")
	// ErrCancelled: the caller's context ended before the call finished.
	ErrCancelled = errors.New("call cancelled by the caller")
	// ErrClosed: the kernel is closed.
	ErrClosed = errors.New("kernel is closed")
)

// TaskError is the error of a call into a task.
type TaskError struct {
	Task string // the box or driver called
	Func string // "iface#func"
	// Kind is one of the Err* sentinels above.
	Kind error
	// Err is the underlying error (a *wasmhost.TrapError, a context
	// error, the error of the call through an arrow, ...), or nil.
	Err error
	// detail replaces Err's text when that is noisy (wazero stack traces).
	detail string
}

func (e *TaskError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q", e.Task)
	if e.Func != "" {
		b.WriteString(": ")
		b.WriteString(e.Func)
	}
	b.WriteString(": ")
	b.WriteString(e.Kind.Error())
	switch {
	case e.detail != "":
		b.WriteString(": ")
		b.WriteString(e.detail)
	case e.Err != nil:
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *TaskError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// State is the life-cycle state of a task.
type State string

const (
	StateStarting State = "starting"
	StateRunning  State = "running"
	StateFailed   State = "failed"
	StateStopped  State = "stopped"
)

// Kernel runs boxes and drivers. Its methods are safe for concurrent use.
type Kernel struct {
	cfg      Config
	log      *slog.Logger
	events   *eventLog
	defaults Limits

	applyMu sync.Mutex // serializes Apply and Close
	closed  atomic.Bool
	routes  atomic.Pointer[routing]

	mu      sync.Mutex // guards boxes and drivers (Snapshot reads them)
	boxes   map[string]*boxTask
	drivers map[string]*driverTask

	instSeq atomic.Uint64
	wg      sync.WaitGroup // every goroutine the kernel started

	comps *compCache
	obs   observer // metrics.go
}

// New returns a kernel running nothing; Apply a Plan to start tasks.
func New(cfg Config) (*Kernel, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	ev, err := newEventLog(log, cfg.DataDir, cfg.EventBuffer)
	if err != nil {
		return nil, err
	}
	d := cfg.Defaults
	if d.MemoryBytes == 0 {
		d.MemoryBytes = DefaultLimits.MemoryBytes
	}
	if d.CallTimeout == 0 {
		d.CallTimeout = DefaultLimits.CallTimeout
	}
	if d.MaxInFlight == 0 {
		d.MaxInFlight = DefaultLimits.MaxInFlight
	}
	k := &Kernel{
		cfg: cfg, log: log, events: ev, defaults: d,
		boxes: map[string]*boxTask{}, drivers: map[string]*driverTask{},
		comps: &compCache{dir: cfg.CacheDir, log: log, refs: map[string]*compRef{}},
	}
	k.routes.Store(&routing{tasks: map[string]task{}, arrows: map[string]map[string]*route{}})
	ev.emit(slog.LevelInfo, "kernel.started", "", "kernel started", "data", cfg.DataDir)
	return k, nil
}

// limits fills the zero fields of l with the kernel defaults.
func (k *Kernel) limits(l Limits) Limits {
	if l.MemoryBytes == 0 {
		l.MemoryBytes = k.defaults.MemoryBytes
	}
	if l.CallTimeout <= 0 {
		l.CallTimeout = k.defaults.CallTimeout
	}
	if l.MaxInFlight <= 0 {
		l.MaxInFlight = k.defaults.MaxInFlight
	}
	return l
}

// task is a box or a driver, as the routing table holds them.
type task interface {
	taskName() string
	call(ctx context.Context, fn string, args []any) ([]any, error)
}

// Call calls fn ("iface#func") of the box or driver named task with Go
// values (package value's representation) and returns its results. It is
// the management entry point (`wbox call`), used by drivers too
// (DriverEnv.Call). Calls into a box queue FIFO behind its instances and
// run with ctx plus the box's CallTimeout; errors are *TaskError.
func (k *Kernel) Call(ctx context.Context, task, fn string, args ...any) ([]any, error) {
	t, ok := k.routes.Load().tasks[task]
	if !ok {
		if k.closed.Load() {
			return nil, &TaskError{Task: task, Func: fn, Kind: ErrClosed}
		}
		return nil, &TaskError{Task: task, Func: fn, Kind: ErrNoTask}
	}
	return t.call(ctx, fn, args)
}

// Snapshot is what a kernel runs, for `wbox status` and for the linker to
// diff a desired Spec against.
type Snapshot struct {
	Taken   time.Time
	Boxes   map[string]BoxStatus
	Drivers map[string]DriverStatus
}

// BoxStatus describes a running box.
type BoxStatus struct {
	// Spec is the BoxSpec the box runs, as given to Apply (after Rewire,
	// with its new arrows).
	Spec BoxSpec
	// Fingerprint and ArrowsFingerprint are Fingerprint(Spec) and
	// ArrowsFingerprint(Spec).
	Fingerprint, ArrowsFingerprint string
	State                          State
	// Restarts counts the supervisor's restarts since the box was started
	// by a deploy.
	Restarts int
	// Started is when the current instances started (a restart or rebind
	// renews it; a rewire does not).
	Started time.Time
	// Instances are the ids of the current instances, one per pool slot
	// ("name.N", unique in the kernel's life); a replaced instance gets a
	// new id.
	Instances []string
	// LastError is the error that last failed the box, if any.
	LastError string
	// NextRestart is when a failed box will be restarted (zero if not).
	NextRestart time.Time
	// Fresh: every call runs on a new instance (BoxSpec.Fresh, or
	// detected: StarlingMonkeyHTTP).
	Fresh bool
	// HTTP: the box exports wasi:http/incoming-handler (ServeHTTP).
	HTTP     bool
	Counters Counters
}

// Counters are a task's call statistics since it was started by a deploy.
type Counters struct {
	CallsIn  uint64 // calls received
	CallsOut uint64 // calls made through arrows (DriverEnv.Call for drivers)
	Errors   uint64 // calls received that failed, for any reason
	// Overloaded, Timeouts, Traps and MemoryQuota count the calls refused
	// or failed by each cause.
	Overloaded, Timeouts, Traps, MemoryQuota uint64
	// Busy is the total time instances spent running calls.
	Busy time.Duration
	// InFlight is the number of calls queued or running now.
	InFlight int
	// MemoryPages is the linear memory of all current instances, in
	// 64 KiB pages.
	MemoryPages uint64
}

// DriverStatus describes a running driver.
type DriverStatus struct {
	Spec        DriverSpec
	Fingerprint string
	State       State
	Restarts    int
	Started     time.Time
	LastError   string
	Counters    Counters
}

// Snapshot returns what runs now.
func (k *Kernel) Snapshot() Snapshot {
	k.mu.Lock()
	boxes := make([]*boxTask, 0, len(k.boxes))
	for _, b := range k.boxes {
		boxes = append(boxes, b)
	}
	drivers := make([]*driverTask, 0, len(k.drivers))
	for _, d := range k.drivers {
		drivers = append(drivers, d)
	}
	k.mu.Unlock()
	s := Snapshot{Taken: time.Now(), Boxes: map[string]BoxStatus{}, Drivers: map[string]DriverStatus{}}
	for _, b := range boxes {
		s.Boxes[b.name] = b.status()
	}
	for _, d := range drivers {
		s.Drivers[d.name] = d.status()
	}
	return s
}

// Names returns the names of the boxes in s, sorted.
func (s Snapshot) Names() []string {
	ns := make([]string, 0, len(s.Boxes))
	for n := range s.Boxes {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// Spec returns the Spec that s runs.
func (s Snapshot) Spec() *Spec {
	sp := &Spec{}
	for _, n := range s.Names() {
		sp.Boxes = append(sp.Boxes, s.Boxes[n].Spec)
	}
	var ds []string
	for n := range s.Drivers {
		ds = append(ds, n)
	}
	sort.Strings(ds)
	for _, n := range ds {
		sp.Drivers = append(sp.Drivers, s.Drivers[n].Spec)
	}
	return sp
}

// Close stops every box and driver and frees what the kernel compiled.
// Boxes finish the calls already queued unless ctx ends first; then their
// guests are interrupted and the calls fail with ErrStopped. Close waits
// for every goroutine the kernel started.
func (k *Kernel) Close(ctx context.Context) error {
	k.applyMu.Lock()
	defer k.applyMu.Unlock()
	if k.closed.Swap(true) {
		return nil
	}
	k.routes.Store(&routing{tasks: map[string]task{}, arrows: map[string]map[string]*route{}})
	k.mu.Lock()
	boxes, drivers := k.boxes, k.drivers
	k.boxes, k.drivers = map[string]*boxTask{}, map[string]*driverTask{}
	k.mu.Unlock()
	var wg sync.WaitGroup
	for _, b := range boxes {
		wg.Go(func() { b.stop(ctx, "kernel closed") })
	}
	wg.Wait()
	for _, d := range drivers {
		wg.Go(func() { d.stop(ctx, "kernel closed") })
	}
	wg.Wait()
	var err error
	done := make(chan struct{})
	go func() { k.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		// Interrupted tasks get a moment to unwind. One that still runs
		// ignores its context: give up on it (its goroutines leak) rather
		// than hang the node's shutdown.
		t := time.NewTimer(time.Second)
		select {
		case <-done:
		case <-t.C:
			err = fmt.Errorf("kernel close: some tasks did not stop: %w", ctx.Err())
		}
		t.Stop()
	}
	err = errors.Join(err, k.comps.close(context.WithoutCancel(ctx)))
	k.events.emit(slog.LevelInfo, "kernel.stopped", "", "kernel stopped")
	return errors.Join(err, k.events.close())
}

// compCache holds the components the kernel compiled from BoxSpec.Wasm, by
// digest, with the number of boxes using each.
type compCache struct {
	dir    string
	log    *slog.Logger
	mu     sync.Mutex
	rt     *wasmhost.Runtime
	refs   map[string]*compRef
	closed bool
}

type compRef struct {
	c *wasmhost.Component
	n int
}

// acquire returns the compiled component for a spec that carries Wasm.
func (cc *compCache) acquire(ctx context.Context, b BoxSpec) (*wasmhost.Component, error) {
	digest := specDigest(b)
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if r, ok := cc.refs[digest]; ok {
		r.n++
		return r.c, nil
	}
	rt, err := cc.runtimeLocked(ctx)
	if err != nil {
		return nil, err
	}
	c, err := rt.Load(ctx, b.Wasm)
	if err != nil {
		return nil, err
	}
	if b.Digest != "" && c.Digest() != b.Digest {
		c.Close(ctx)
		return nil, fmt.Errorf("digest mismatch: the component hashes to %s, the spec says %s", c.Digest(), b.Digest)
	}
	cc.refs[digest] = &compRef{c: c, n: 1}
	return c, nil
}

func (cc *compCache) runtimeLocked(ctx context.Context) (*wasmhost.Runtime, error) {
	if cc.closed {
		return nil, ErrClosed
	}
	if cc.rt == nil {
		rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{CacheDir: cc.dir, Interruptible: true, Logger: cc.log})
		if err != nil {
			return nil, err
		}
		cc.rt = rt
	}
	return cc.rt, nil
}

// Runtime returns the kernel's component runtime (created on first use,
// caching machine code in Config.CacheDir, closed by Close). Load the
// components of BoxSpec.Component in it: its calls are interruptible
// (wasmhost.Config.Interruptible), which the call timeout needs. A
// component loaded in a runtime that is not cannot be stopped by a
// deadline, and a runaway loop in it also stalls Go's garbage collector
// (wazero's compiled code cannot be preempted) — the whole node with it.
func (k *Kernel) Runtime(ctx context.Context) (*wasmhost.Runtime, error) {
	if k.closed.Load() {
		return nil, ErrClosed
	}
	k.comps.mu.Lock()
	defer k.comps.mu.Unlock()
	return k.comps.runtimeLocked(ctx)
}

func (cc *compCache) release(ctx context.Context, b BoxSpec) {
	if b.Component != nil || b.Wasm == nil {
		return
	}
	digest := specDigest(b)
	cc.mu.Lock()
	defer cc.mu.Unlock()
	r, ok := cc.refs[digest]
	if !ok {
		return
	}
	if r.n--; r.n == 0 {
		r.c.Close(ctx)
		delete(cc.refs, digest)
	}
}

func (cc *compCache) close(ctx context.Context) error {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.closed = true
	var err error
	for d, r := range cc.refs {
		err = errors.Join(err, r.c.Close(ctx))
		delete(cc.refs, d)
	}
	if cc.rt != nil {
		err = errors.Join(err, cc.rt.Close(ctx))
		cc.rt = nil
	}
	return err
}
