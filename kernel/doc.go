// Package kernel runs boxes and arrows on one node: it is wbox's
// microkernel.
//
// A Task is anything with exports the kernel can call: a component box (a
// pool of wasmhost instances) or a native Go task (a driver or
// multiplexer). An Arrow is a capability held by an importing box: the only
// way its import reaches another task's export. Calls across arrows on one
// node stay in process.
//
// The kernel owns tasks, their supervision (restart with backoff), quotas
// (memory, per-call deadline, calls in flight), arrows and the event log. It
// applies a Plan computed by package linker; it knows nothing of YAML,
// topology files or NATS, and must not import linker or nodes.
//
// # API
//
//	k, _ := kernel.New(kernel.Config{DataDir: dir, Drivers: drivers})
//	rt, _ := k.Runtime(ctx)                // load components here (interruptible)
//	err := k.Apply(ctx, plan)              // all or nothing
//	res, err := k.Call(ctx, "box", "iface#func", args...)
//	s := k.Snapshot()                      // what runs: specs, fingerprints, state, counters
//	evs := k.Events(since, "box")          // the event log; Follow streams it
//	k.Close(ctx)
//
// The linker diffs a desired Spec against Snapshot with Fingerprint (what a
// box is made of: a change restarts it), ArrowsFingerprint (its arrows: a
// change rewires it in place) and DriverFingerprint.
//
// # Boxes, instances and calls
//
// A box runs Instances instances of its component. An instance is a token
// in a channel of idle instances: the goroutine that takes it is the only
// one that calls into it until it puts it back, so an instance is never
// entered concurrently. A call finding an instance idle and no call
// waiting runs on the caller's own goroutine (the fast path: no hand-off);
// otherwise it waits in the box's FIFO queue, served by one goroutine per
// instance that runs each queued call on the next idle instance. Both run
// the call through the same code (worker.serve). Limits.MaxInFlight
// bounds the calls queued or running, and one more fails at once with
// ErrOverloaded. A call runs with the caller's context plus the box's
// CallTimeout (enforced by a timer per instance that cancels the call's
// context); the runtime closes a guest whose context ends, so a runaway
// loop stops. Queued callers wait on their reply, their context, and the
// end of the box's current generation of instances, so a failing box
// releases them at once. A caller running its call itself returns when
// the guest notices the end of its context or of the generation (wazero
// checks it at function calls and loop back-edges), not at once.
//
// Every call error is a *TaskError with one of the Err* kinds. Faults of the
// box itself fail the box: a trap (ErrTrap), a deadline (ErrCallTimeout), a
// refused memory grow (ErrMemoryQuota), a non-zero wasi:cli/exit. The call
// gets that error, every other queued or running call gets ErrTaskFailed at
// once, calls meanwhile get ErrUnavailable, and the supervisor starts a new
// generation after an exponential backoff (RestartPolicy), counting
// restarts. Faults from outside only replace the instance involved: a
// caller that gave up mid-call (ErrCancelled), or a call the box made
// through an arrow that failed (ErrArrow: a host function can only fail
// by trapping its caller, so the kernel recognizes its own error in the trap
// and blames the callee).
//
// # Quotas
//
// Memory is capped per instance (all its linear memories together), not per
// wazero Runtime: each instance is created with its own wazero
// MemoryAllocator (experimental.WithMemoryAllocator) that backs its
// memories, counts their pages (Counters.MemoryPages) and refuses to grow
// them past Limits.MemoryBytes. This departs from "one Runtime per memory
// limit" for three reasons: a refused grow is known for certain, so the
// trap that follows is reported as ErrMemoryQuota rather than as a bare
// trap; components need not be compiled once per distinct limit (the
// linker's compiled component serves every box); and the memory of each
// instance is measured, not only capped.
//
// Calls must be interruptible: a component must be loaded in a Runtime with
// wasmhost.Config.Interruptible (Kernel.Runtime returns the kernel's own).
// Without it, no deadline stops a runaway guest, and since Go cannot
// preempt wazero's compiled code, the loop also stalls every stop-the-world
// of the garbage collector: the whole node hangs.
//
// # Arrows
//
// When a box's instance is created, each of its imports is bound: to a
// native target through Native.Bind, or, for a box target, to host
// functions that forward each call to the target box's queue as Go values.
// Forwarders look the arrow up at call time in the kernel's routing table,
// which Apply swaps atomically, so a rewire between boxes changes no
// instance. Native targets are bound into the instances instead (their
// functions are not reachable otherwise), so a box whose arrows to native
// tasks change, or whose native target restarts, is rebound: new instances
// start beside the old and replace them, without counting as a restart.
// An import without an arrow does not exist: instantiation fails naming
// it. The exceptions are the WASI 0.2 interfaces (cli, io, clocks, random,
// filesystem; package wasmhost/wasi) with exactly the grants of the box's
// WASIGrants — its stdout and stderr, when granted, become box.stdout and
// box.stderr events, one per line — wasi:config/store, served from
// BoxSpec.Config, and wasi:http 0.2 types and outgoing-handler (package
// wasmhost/wasihttp, a host per instance over its WASI host, closed with
// it), whose outgoing requests reach only the hosts of BoxSpec.HTTP.Allow
// (none by default: every request fails with HTTP-request-denied, but the
// import resolves, as StarlingMonkey components always import it), and
// wasi:logging/logging, whose lines become box.log events tagged with the
// box and level (rate-limited per instance; kernel/logging.go).
//
// # HTTP
//
// Kernel.ServeHTTP (DriverEnv.ServeHTTP for drivers: the http ingress)
// serves an HTTP request with a box's wasi:http/incoming-handler export.
// It is a call like any other — FIFO queue, MaxInFlight (503), CallTimeout,
// supervision (a trap answers 500 and restarts the box), call chain,
// counters — except that it carries the ResponseWriter instead of Go
// values: the goroutine that runs it (the caller's on the fast path)
// creates the incoming-request and response-outparam in the instance's
// own wasi:http host and streams the guest's response. A caller whose request is running waits for it even
// when its context ends (the guest is interrupted), since the
// ResponseWriter must not outlive ServeHTTP. The guest's flushes are
// delayed by up to a millisecond, so a handler that finishes meanwhile
// answers in one write.
//
// A box with BoxSpec.Fresh runs every call on a new instance: after
// answering, the queue server instantiates the next instance and closes
// the used one, so the next call finds it ready (a fresh box takes no fast
// path, so its callers never wait for that). Unset, Fresh is detected:
// StarlingMonkey fetch handlers (componentize-js) serve one request per
// instance (StarlingMonkey #247), recognized by StarlingMonkeyHTTP.
//
// Each call carries its chain of boxes in its context. A call into a box
// already in the chain (A → B → A) fails at once with ErrReentrant instead
// of deadlocking the single-threaded instance waiting for itself.
//
// TODO(fused): between two component boxes on one node, lift the arguments
// from the caller's memory and lower them straight into the callee's (as
// wasmtime's fused adapters do) instead of building Go values.
//
// TODO(resources): resources cannot cross an arrow between two boxes yet
// (an import whose interface defines one is refused); native targets may
// define them.
//
// # Deploys
//
// Apply starts new and restarted tasks first, beside the old ones; if all
// start, it swaps the routing table (the deploy's single commit point),
// then stops the replaced and removed tasks after the calls they had
// queued (a call that reached the old instances too late to be served is
// passed on to the new ones, so a restart loses no call). If one fails to
// start, everything Apply started is stopped and the error names the task:
// the old topology never stopped serving. Stopping waits for the running
// calls, interrupting them when the context given to Apply or Close ends;
// a native function that ignores its context can hold a stop up.
//
// # Native tasks
//
// A driver's Run runs under a supervisor: an error or a panic fails it and
// Run is called again, on the same Native, after a backoff. A call through
// Kernel.Call into a native task that implements NativeCaller that panics
// fails the call (ErrPanic) and the task. A panic inside a function a
// native task bound into a box is recovered by wazero and traps that box
// instead (wasmhost does not let the kernel wrap bound functions).
//
// # Event log
//
// Every lifecycle change is an Event: logged through slog, kept in a ring
// buffer (Events, Follow) and appended as a JSON line to DataDir/events.log,
// whose tail is read back when a kernel starts.
package kernel
