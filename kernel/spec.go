package kernel

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/wbox-dev/wbox/wasmhost"
)

// Spec is the desired state of a node: the boxes and native tasks it runs.
type Spec struct {
	Boxes   []BoxSpec
	Drivers []DriverSpec
}

// BoxSpec is everything the kernel needs to run a component box.
type BoxSpec struct {
	Name string
	// Component is the loaded, compiled component; Digest its content
	// address ("sha256:..."), which decides whether a box changed. The
	// kernel instantiates Component in the Runtime that loaded it, which
	// must be Interruptible: load it in Kernel.Runtime (memory quotas are
	// enforced per instance, not per Runtime: see doc.go). The kernel never
	// closes it: its owner (the linker) does, once no Spec uses it.
	Component *wasmhost.Component
	Digest    string
	// Wasm, when Component is nil, is the component binary: the kernel
	// compiles it in a Runtime of its own (Config.CacheDir), once per
	// digest, and frees it when no box uses it any more. Tests and tools
	// without a linker use it.
	Wasm []byte
	// Config holds the box's configuration values (served by wasi:config).
	Config map[string]string
	// Instances is the size of the box's instance pool (>= 1): calls run on
	// any idle instance, so N instances serve N calls in parallel.
	Instances int
	Limits    Limits
	Restart   RestartPolicy
	// Arrows bind the box's imports. Every non-WASI import must have one.
	Arrows []Arrow
	// WASI lists the WASI capabilities granted explicitly.
	WASI WASIGrants
	// HTTP are the box's wasi:http grants (served when its component
	// imports wasi:http/types or wasi:http/outgoing-handler 0.2.x).
	HTTP HTTPGrants
	// Fresh, when true, runs every call on a new instance: the kernel
	// closes the instance a call used and instantiates the next one right
	// after answering, so it is ready before the next call. Nil means the
	// kernel decides: true for a component built by componentize-js
	// (StarlingMonkey, which serves one request per instance), false
	// otherwise (see StarlingMonkeyHTTP).
	Fresh *bool
}

// HTTPGrants are what a box may do with wasi:http.
type HTTPGrants struct {
	// Allow lists the hosts outgoing-handler may send requests to:
	// "api.example.com" (any port), "localhost:8080" (that port only),
	// "*.example.org" (its subdomains) or "*" (anywhere). Any other
	// request fails with error-code HTTP-request-denied; an empty list
	// denies every request (the import still resolves).
	Allow []string
}

// Limits are a box's quotas. Zero values mean the kernel defaults
// (Config.Defaults, else DefaultLimits).
type Limits struct {
	// MemoryBytes caps each instance's linear memory (all its memories
	// together), rounded down to whole 64 KiB pages. A grow past it fails
	// and the trap that follows is reported as ErrMemoryQuota.
	MemoryBytes uint64
	// CallTimeout bounds each call into the box; a runaway guest is
	// interrupted and its instance replaced.
	CallTimeout time.Duration
	// MaxInFlight bounds calls queued or running in the box; more fail at
	// once with ErrOverloaded.
	MaxInFlight int
}

// RestartPolicy says what the supervisor does when a task fails.
type RestartPolicy struct {
	// Mode is "always" (the default), "on-failure" or "never".
	Mode string
	// Backoff is the first delay before a restart, doubled on every
	// consecutive failure up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
}

// Arrow binds one import of a box to an export of another task.
type Arrow struct {
	// Import is the interface name the box imports, e.g.
	// "wasi:keyvalue/store@0.2.0-draft".
	Import string
	// Target is the name of the task (box or driver) that serves it.
	Target string
	// Export is the interface name the target exports (semver-compatible
	// with Import, checked by the linker).
	Export string
}

// WASIGrants are the WASI capabilities a box gets. Nothing is ambient:
// without a grant the interface is present (components need it to link) but
// inert — output is discarded, no directory is preopened.
type WASIGrants struct {
	Stdout, Stderr bool
	Env            map[string]string
	Args           []string
	Dirs           []DirGrant
}

// DirGrant preopens a host directory for a box.
type DirGrant struct {
	HostDir, GuestPath string
	ReadOnly           bool
}

// DriverSpec is a native task: a driver or multiplexer built into wbox.
type DriverSpec struct {
	Name string
	// Kind selects the implementation in Config.Drivers, e.g. "kv".
	Kind string
	// Settings are the driver's own settings from the topology.
	Settings map[string]any
}

// Native is a task implemented in Go: a driver or multiplexer.
type Native interface {
	// Exports describes the interfaces the task exports, by name, so the
	// linker can type-check arrows into it.
	Exports() map[string]*wasmhost.InstanceType
	// Bind adds to imports the host implementation of the exported
	// interface export, as seen by the box caller (a driver can give each
	// box its own namespace). It is called whenever caller is
	// instantiated.
	Bind(caller, export string, imports *wasmhost.HostInstance) error
	// Run runs the task until ctx is done. A returned error (or a panic)
	// fails the task and its supervisor calls Run again after a backoff;
	// returning nil before ctx is done stops it (its bound functions keep
	// serving).
	Run(ctx context.Context) error
}

// NativeCaller is implemented by native tasks that can be called by name
// through Kernel.Call (the management entry point), as boxes are: fn is
// "iface#func". A panic fails the call and the task.
type NativeCaller interface {
	Call(ctx context.Context, fn string, args []any) ([]any, error)
}

// BoxCaller is implemented by native tasks whose settings name boxes they
// call (the http ingress's routes, the tcp driver's handlers): Targets
// lists each, so the linker can check at deploy time, at the setting's
// position in the topology, that the box exists and exports the interface.
type BoxCaller interface {
	Targets() []Target
}

// Target is a box a driver calls.
type Target struct {
	Box string
	// Export is the interface the box must export, semver-compatibly
	// ("wasi:http/incoming-handler@0.2.0" accepts any 0.2.x).
	Export string
	// Setting is where the settings name the box, as a path of keys and
	// list indexes: "routes[2].box".
	Setting string
}

// DriverFactory makes a native task from its settings.
type DriverFactory func(spec DriverSpec, env DriverEnv) (Native, error)

// DriverEnv is what the kernel lends a driver: a logger, a data directory of
// its own, and a way to call the boxes arrows let it reach (an HTTP ingress
// calls the boxes it routes to).
type DriverEnv struct {
	// Logger logs as the driver (its records carry task=<name>).
	Logger  *slog.Logger
	DataDir string
	// Call calls an export of a box ("iface#func") with the driver as the
	// caller (counted as its calls out, and part of the re-entrancy chain).
	Call func(ctx context.Context, box, fn string, args ...any) ([]any, error)
	// ServeHTTP serves an HTTP request with a box's
	// wasi:http/incoming-handler export (Kernel.ServeHTTP), with the driver
	// as the caller. It is nil in the zero DriverEnv the linker makes.
	ServeHTTP func(ctx context.Context, box string, w http.ResponseWriter, r *http.Request) error
}
