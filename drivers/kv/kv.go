package kv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// Kind is the driver kind name used in topologies.
const Kind = "kv"

// DefaultFile is the database file in the driver's data directory unless the
// setting file names another.
const DefaultFile = "kv.db"

// Backends (the setting backend).
const (
	BackendBbolt     = "bbolt"     // a bbolt file in the driver's data directory (the default)
	BackendJetStream = "jetstream" // a JetStream key-value bucket of the cluster
)

// Options are what a node gives its kv drivers beyond their settings.
type Options struct {
	// JetStream returns the cluster's JetStream, waiting for it up to ctx;
	// nil on a node outside a cluster, where backend jetstream is refused.
	JetStream func(ctx context.Context) (jetstream.JetStream, error)
	// Replicas is how many copies JetStream keeps of a bucket (nil: 1).
	Replicas func() int
}

// NewFactory returns the kernel.DriverFactory for kind "kv" with opts: a
// cluster node registers NewFactory(Options{JetStream: ...}) so settings
// may say backend: jetstream.
func NewFactory(opts Options) kernel.DriverFactory {
	return func(spec kernel.DriverSpec, env kernel.DriverEnv) (kernel.Native, error) {
		return newDriver(spec, env, opts)
	}
}

// Driver is a kv store task: one bbolt database (or JetStream bucket)
// shared by every box that holds an arrow to it, each box in its own
// namespace.
type Driver struct {
	name    string
	file    string            // absolute, or "" for a temporary file
	shared  map[string]string // box -> shared namespace name
	backend string            // BackendBbolt or BackendJetStream
	opts    Options

	mu    sync.Mutex
	st    backend       // nil while not open
	ready chan struct{} // closed when st is set

	tables sync.Map // weak.Pointer[value.ResourceType] (a bucket type) -> *bucketTable
}

var _ kernel.Native = (*Driver)(nil)

// New is the kernel.DriverFactory for kind "kv" on a node outside a
// cluster (backend bbolt only). It opens nothing: Run opens the database.
func New(spec kernel.DriverSpec, env kernel.DriverEnv) (kernel.Native, error) {
	return newDriver(spec, env, Options{})
}

func newDriver(spec kernel.DriverSpec, env kernel.DriverEnv, opts Options) (kernel.Native, error) {
	d := &Driver{name: spec.Name, shared: map[string]string{}, ready: make(chan struct{}), backend: BackendBbolt, opts: opts}
	file := DefaultFile
	var unknown []string
	for k, v := range spec.Settings {
		switch k {
		case "file":
			s, ok := v.(string)
			if !ok || s == "" || filepath.IsAbs(s) || strings.Contains(filepath.ToSlash(s), "..") {
				return nil, fmt.Errorf("setting file must be a relative file name inside the driver's data directory, not %v", v)
			}
			file = s
		case "namespaces":
			if err := d.parseNamespaces(v); err != nil {
				return nil, fmt.Errorf("setting namespaces: %w", err)
			}
		case "backend":
			switch v {
			case BackendBbolt:
			case BackendJetStream:
				if opts.JetStream == nil {
					return nil, fmt.Errorf("setting backend: jetstream needs a cluster (this node runs alone: start it with --cluster-listen or --join, or use backend: bbolt)")
				}
			default:
				return nil, fmt.Errorf("setting backend: want %s or %s, not %v", BackendBbolt, BackendJetStream, v)
			}
			d.backend = v.(string)
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("unknown setting %q (kv knows: backend, file, namespaces)", unknown[0])
	}
	if env.DataDir != "" {
		d.file = filepath.Join(env.DataDir, file)
	}
	return d, nil
}

// parseNamespaces reads {NAME: [BOX, ...], ...}.
func (d *Driver) parseNamespaces(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("want a mapping of namespace names to lists of boxes, such as {shop: [web, worker]}, not %T", v)
	}
	for ns, boxes := range m {
		if ns == "" || strings.ContainsAny(ns, "/\x00") {
			return fmt.Errorf("namespace name %q: want a non-empty name without '/'", ns)
		}
		list, ok := boxes.([]any)
		if !ok {
			return fmt.Errorf("namespace %q: want a list of box names, not %T", ns, boxes)
		}
		for _, b := range list {
			box, ok := b.(string)
			if !ok || box == "" {
				return fmt.Errorf("namespace %q: want box names, not %v", ns, b)
			}
			if other, dup := d.shared[box]; dup {
				return fmt.Errorf("box %q is in two namespaces, %q and %q", box, other, ns)
			}
			d.shared[box] = ns
		}
	}
	return nil
}

// Namespace returns the namespace the box caller reads and writes: its own
// ("box/NAME") unless the setting namespaces puts it in a shared one
// ("shared/NAME").
func (d *Driver) Namespace(caller string) string {
	if ns, ok := d.shared[caller]; ok {
		return "shared/" + ns
	}
	return "box/" + caller
}

// Exports implements kernel.Native.
func (d *Driver) Exports() map[string]*wasmhost.InstanceType {
	bucket := &value.ResourceType{Name: "bucket", Interface: StoreIface}
	cas := &value.ResourceType{Name: "cas", Interface: AtomicsIface}
	s, a, b := keyvalueTypes(bucket, cas)
	return map[string]*wasmhost.InstanceType{Interface: StoreType(), StoreIface: s, AtomicsIface: a, BatchIface: b}
}

// Bind implements kernel.Native: it serves caller its namespace.
func (d *Driver) Bind(caller, export string, hi *wasmhost.HostInstance) error {
	switch export {
	case Interface:
		d.bindWboxStore(caller, hi)
	case StoreIface:
		d.bindStore(caller, hi)
	case AtomicsIface:
		d.bindAtomics(caller, hi)
	case BatchIface:
		d.bindBatch(caller, hi)
	default:
		return fmt.Errorf("kv driver %q exports %s, %s, %s and %s, not %s", d.name, Interface, StoreIface, AtomicsIface, BatchIface, export)
	}
	return nil
}

// bindWboxStore serves wbox:kv/store@0.1.0: the bucket "default" of the
// caller's namespace, values as strings.
func (d *Driver) bindWboxStore(caller string, hi *wasmhost.HostInstance) {
	ns := d.Namespace(caller)
	hi.TypedFunc("get", getType, func(ctx context.Context, args []any) ([]any, error) {
		st, err := d.store(ctx)
		if err != nil {
			return nil, err
		}
		v, ok, err := st.get(ctx, ns, DefaultBucket, args[0].(string))
		if err != nil {
			return nil, d.errorf("get", err)
		}
		if !ok {
			return []any{value.None()}, nil
		}
		return []any{value.Some(string(v))}, nil
	})
	hi.TypedFunc("set", setType, func(ctx context.Context, args []any) ([]any, error) {
		st, err := d.store(ctx)
		if err != nil {
			return nil, err
		}
		return nil, d.errorf("set", st.set(ctx, ns, DefaultBucket, args[0].(string), []byte(args[1].(string))))
	})
	hi.TypedFunc("delete", deleteType, func(ctx context.Context, args []any) ([]any, error) {
		st, err := d.store(ctx)
		if err != nil {
			return nil, err
		}
		ok, err := st.delete(ctx, ns, DefaultBucket, args[0].(string))
		return []any{ok}, d.errorf("delete", err)
	})
}

func (d *Driver) errorf(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("kv %q: %s: %w", d.name, op, err)
}

// store returns the open backend, waiting for Run to open it.
func (d *Driver) store(ctx context.Context) (backend, error) {
	for {
		d.mu.Lock()
		st, ready := d.st, d.ready
		d.mu.Unlock()
		if st != nil {
			return st, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, fmt.Errorf("kv %q: waiting for the database to open: %w", d.name, ctx.Err())
		}
	}
}

// Run implements kernel.Native: it opens the database (waiting for the
// driver it replaces to let go of the file), serves until ctx ends, then
// commits what is queued and closes it.
func (d *Driver) Run(ctx context.Context) error {
	if d.backend == BackendJetStream {
		return d.runJetStream(ctx)
	}
	path, tmp := d.file, ""
	if path == "" {
		dir, err := os.MkdirTemp("", "wbox-kv-")
		if err != nil {
			return fmt.Errorf("kv %q: %w", d.name, err)
		}
		tmp = dir
		path = filepath.Join(dir, DefaultFile)
	} else if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("kv %q: %w", d.name, err)
	}
	legacy, err := importLegacy(path)
	if err != nil {
		return fmt.Errorf("kv %q: importing the old JSON data: %w", d.name, err)
	}
	st, err := openStore(ctx, path)
	if err != nil {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("kv %q: %w", d.name, err)
	}
	if legacy != nil {
		if err := d.writeLegacy(ctx, st, legacy); err != nil {
			st.close()
			return fmt.Errorf("kv %q: importing the old JSON data (kept in %s.imported): %w", d.name, path, err)
		}
	}
	d.serve(ctx, boltBackend{st})
	err = st.close()
	if tmp != "" {
		os.RemoveAll(tmp)
	}
	if err != nil {
		return fmt.Errorf("kv %q: closing %s: %w", d.name, path, err)
	}
	return nil
}

// serve makes st the driver's backend until ctx ends.
func (d *Driver) serve(ctx context.Context, st backend) {
	d.mu.Lock()
	d.st = st
	close(d.ready)
	d.mu.Unlock()

	<-ctx.Done()

	d.mu.Lock()
	d.st, d.ready = nil, make(chan struct{})
	d.mu.Unlock()
}

// runJetStream opens (creating) the driver's JetStream bucket, waiting for
// JetStream as long as ctx allows, and serves from it until ctx ends.
func (d *Driver) runJetStream(ctx context.Context) error {
	js, err := d.opts.JetStream(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("kv %q: backend jetstream: %w", d.name, err)
	}
	replicas := 1
	if d.opts.Replicas != nil {
		replicas = d.opts.Replicas()
	}
	st, err := openJetStream(ctx, js, d.name, replicas)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("kv %q: %w", d.name, err)
	}
	d.serve(ctx, st)
	return nil
}

// Get returns the value of key in bucket of caller's namespace: the Go
// side of the store, for tests and benchmarks.
func (d *Driver) Get(ctx context.Context, caller, bucket, key string) ([]byte, bool, error) {
	st, err := d.store(ctx)
	if err != nil {
		return nil, false, err
	}
	return st.get(ctx, d.Namespace(caller), bucket, key)
}

// Set stores key in bucket of caller's namespace, returning once it is
// committed to disk.
func (d *Driver) Set(ctx context.Context, caller, bucket, key string, val []byte) error {
	st, err := d.store(ctx)
	if err != nil {
		return err
	}
	return st.set(ctx, d.Namespace(caller), bucket, key, val)
}

// Increment adds delta to the decimal number stored under key.
func (d *Driver) Increment(ctx context.Context, caller, bucket, key string, delta int64) (int64, error) {
	st, err := d.store(ctx)
	if err != nil {
		return 0, err
	}
	return st.increment(ctx, d.Namespace(caller), bucket, key, delta)
}

// kvError is wasi:keyvalue's error variant for err.
func kvError(err error) value.Variant {
	var nse noSuchStore
	if errors.As(err, &nse) {
		return value.Variant{Case: errNoSuchStore}
	}
	return value.Variant{Case: errOther, Value: err.Error()}
}

type noSuchStore struct{ err error }

func (e noSuchStore) Error() string { return e.err.Error() }
func (e noSuchStore) Unwrap() error { return e.err }
