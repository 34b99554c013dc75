package kernel

import (
	"context"
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
	// address ("sha256:..."), which decides whether a box changed.
	Component *wasmhost.Component
	Digest    string
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
}

// Limits are a box's quotas. Zero values mean the kernel defaults.
type Limits struct {
	// MemoryBytes caps each instance's linear memory.
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
	// Run runs the task until ctx is done. A returned error fails the task
	// and its supervisor restarts it.
	Run(ctx context.Context) error
}

// DriverFactory makes a native task from its settings.
type DriverFactory func(spec DriverSpec, env DriverEnv) (Native, error)

// DriverEnv is what the kernel lends a driver: a logger, a data directory of
// its own, and a way to call the boxes arrows let it reach (an HTTP ingress
// calls the boxes it routes to).
type DriverEnv struct {
	DataDir string
	Call    func(ctx context.Context, box, fn string, args ...any) ([]any, error)
}
