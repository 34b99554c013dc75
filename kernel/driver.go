package kernel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// driverTask is a native task: a driver or multiplexer. Its supervisor runs
// Native.Run and runs it again, after a backoff, when it fails (returns an
// error or panics, or a call into it panics).
type driverTask struct {
	k      *Kernel
	name   string
	spec   DriverSpec
	fp     string
	native Native
	policy RestartPolicy

	ctx    context.Context // ends when the driver is stopped
	cancel context.CancelFunc
	done   chan struct{} // closed when the supervisor exited
	kick   chan struct{} // a call panicked: fail the task

	mu        sync.Mutex
	state     State
	restarts  int
	lastErr   error
	failErr   error // set by a panicking call
	started   time.Time
	runCancel context.CancelFunc
	running   bool

	callsIn, callsOut, errors atomic.Uint64
}

func (k *Kernel) newDriver(spec DriverSpec) (d *driverTask, err error) {
	f, ok := k.cfg.Drivers[spec.Kind]
	if !ok {
		return nil, fmt.Errorf("unknown driver kind %q", spec.Kind)
	}
	pol, _ := normPolicy(RestartPolicy{})
	d = &driverTask{
		k: k, name: spec.Name, spec: spec, fp: DriverFingerprint(spec), policy: pol,
		done: make(chan struct{}), kick: make(chan struct{}, 1), state: StateStarting,
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	env := DriverEnv{Logger: k.log.With("task", spec.Name), Call: d.callBox, ServeHTTP: d.serveHTTP}
	if k.cfg.DataDir != "" {
		env.DataDir = filepath.Join(k.cfg.DataDir, "drivers", spec.Name)
		if err := os.MkdirAll(env.DataDir, 0o755); err != nil {
			d.cancel()
			return nil, err
		}
	}
	defer func() {
		if r := recover(); r != nil {
			d.cancel()
			d, err = nil, fmt.Errorf("%w: factory: %v", ErrPanic, r)
		}
	}()
	n, err := f(spec, env)
	if err != nil {
		d.cancel()
		return nil, err
	}
	if n == nil {
		d.cancel()
		return nil, errors.New("the factory returned no task")
	}
	d.native = n
	return d, nil
}

func (d *driverTask) taskName() string { return d.name }

// callBox is the driver's DriverEnv.Call.
func (d *driverTask) callBox(ctx context.Context, box, fn string, args ...any) ([]any, error) {
	d.callsOut.Add(1)
	return d.callBoxObserved(withCaller(ctx, d.name), box, fn, args) // metrics.go
}

// serveHTTP is the driver's DriverEnv.ServeHTTP.
func (d *driverTask) serveHTTP(ctx context.Context, box string, w http.ResponseWriter, r *http.Request) error {
	d.callsOut.Add(1)
	return d.serveHTTPObserved(withCaller(ctx, d.name), box, w, r) // metrics.go
}

// start runs the supervisor: Run, again after failures, until stop.
func (d *driverTask) start() {
	d.k.wg.Add(1)
	go d.supervise()
}

func (d *driverTask) supervise() {
	defer d.k.wg.Done()
	defer close(d.done)
	streak := 0
	for {
		runCtx, cancel := context.WithCancel(d.ctx)
		d.mu.Lock()
		d.runCancel, d.state, d.started, d.running = cancel, StateRunning, time.Now(), true
		started := d.started
		d.mu.Unlock()
		err := d.run(runCtx)
		cancel()
		d.mu.Lock()
		d.running = false
		if d.failErr != nil {
			err, d.failErr = d.failErr, nil
		}
		d.mu.Unlock()
		if d.ctx.Err() != nil {
			return
		}
		if err == nil {
			// Run is done, but the functions it bound keep serving: wait
			// for a stop, or a call that panics.
			select {
			case <-d.ctx.Done():
				return
			case <-d.kick:
				d.mu.Lock()
				err, d.failErr = d.failErr, nil
				d.mu.Unlock()
			}
			if err == nil {
				continue
			}
		}
		select { // drain a kick for the failure we handle now
		case <-d.kick:
		default:
		}
		if time.Since(started) >= d.policy.MaxBackoff {
			streak = 0
		}
		streak++
		delay := d.policy.delay(streak)
		d.mu.Lock()
		d.state, d.lastErr = StateFailed, err
		d.restarts++
		d.mu.Unlock()
		d.k.events.emit(slog.LevelError, EvDriverFailed, d.name, fmt.Sprintf("driver %q failed: %v; restarting in %s", d.name, err, delay), "err", err.Error())
		t := time.NewTimer(delay)
		select {
		case <-d.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// run calls Run, turning a panic into an error.
func (d *driverTask) run(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v\n%s", ErrPanic, r, debug.Stack())
		}
	}()
	return d.native.Run(ctx)
}

// fail fails the driver because a call into it panicked: Run is cancelled
// and started again after a backoff.
func (d *driverTask) fail(err error) {
	d.mu.Lock()
	d.failErr = err
	if d.runCancel != nil {
		d.runCancel()
	}
	d.mu.Unlock()
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// call calls the driver by name, if it implements NativeCaller.
func (d *driverTask) call(ctx context.Context, fn string, args []any) (res []any, err error) {
	d.callsIn.Add(1)
	defer func() {
		if err != nil {
			d.errors.Add(1)
		}
	}()
	if err := reentrant(ctx, d.name, fn); err != nil {
		return nil, err
	}
	nc, ok := d.native.(NativeCaller)
	if !ok {
		return nil, &TaskError{Task: d.name, Func: fn, Kind: ErrNoFunc, detail: "the driver cannot be called by name (it is no NativeCaller); boxes reach it through arrows"}
	}
	defer func() {
		if r := recover(); r != nil {
			te := &TaskError{Task: d.name, Func: fn, Kind: ErrPanic, detail: fmt.Sprint(r)}
			d.fail(te)
			res, err = nil, te
		}
	}()
	res, err = nc.Call(withCaller(ctx, d.name), fn, args)
	if err != nil {
		var te *TaskError
		if !errors.As(err, &te) {
			err = &TaskError{Task: d.name, Func: fn, Kind: ErrInvalidCall, Err: err, detail: err.Error()}
		}
	}
	return res, err
}

// stop cancels Run and waits for it (until ctx ends).
func (d *driverTask) stop(ctx context.Context, reason string) {
	d.cancel()
	select {
	case <-d.done:
	case <-ctx.Done():
		d.k.events.emit(slog.LevelError, EvDriverStopped, d.name, fmt.Sprintf("driver %q did not stop in time: its Run ignores its context", d.name))
		return
	}
	d.mu.Lock()
	d.state = StateStopped
	d.mu.Unlock()
	d.k.events.emit(slog.LevelInfo, EvDriverStopped, d.name, fmt.Sprintf("driver %q stopped: %s", d.name, reason), "reason", reason)
}

func (d *driverTask) status() DriverStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := DriverStatus{Spec: d.spec, Fingerprint: d.fp, State: d.state, Restarts: d.restarts, Started: d.started}
	if d.lastErr != nil {
		s.LastError = d.lastErr.Error()
	}
	s.Counters.CallsIn = d.callsIn.Load()
	s.Counters.CallsOut = d.callsOut.Load()
	s.Counters.Errors = d.errors.Load()
	return s
}
