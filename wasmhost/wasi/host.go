package wasi

import (
	"context"
	"errors"
	"fmt"
	"github.com/wbox-dev/wbox/wasmhost/internal/reptable"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// Version is the version every interface is registered at. Imports of any
// 0.2.x are served by it (wasmhost matches interface versions by semver).
const Version = "0.2.0"

// Config is what a Host grants its guest. The zero Config grants nothing:
// no arguments or environment, empty stdin, discarded output, no files.
type Config struct {
	// Args are the guest's arguments (wasi:cli/environment.get-arguments),
	// program name first by convention.
	Args []string
	// Env are the guest's environment variables as key/value pairs, in order.
	Env [][2]string
	// Cwd is the guest's initial working directory (initial-cwd); "" means
	// none.
	Cwd string

	// Stdin is read by wasi:cli/stdin; nil means an empty input.
	Stdin io.Reader
	// Stdout and Stderr receive wasi:cli/stdout and stderr; nil discards.
	Stdout, Stderr io.Writer

	// Preopens are the host directories the guest may use.
	Preopens []Preopen

	// Clock is the wall clock (wasi:clocks/wall-clock); nil means time.Now.
	// The monotonic clock always runs in real time.
	Clock func() time.Time
	// Random supplies wasi:random bytes and seeds the insecure generator;
	// nil means crypto/rand.
	Random io.Reader
}

// Preopen grants the guest a host directory.
type Preopen struct {
	// HostDir is the directory on the host.
	HostDir string
	// GuestPath is the name the guest sees it under, such as "/" or
	// "/data"; "" means "/".
	GuestPath string
	// ReadOnly refuses every change below the directory.
	ReadOnly bool
}

// ExitError is the error wasi:cli/exit fails the guest's call with. The call
// into the component then returns an error chain containing it:
//
//	var exit *wasi.ExitError
//	if errors.As(err, &exit) { os.Exit(exit.Code) }
type ExitError struct {
	// Code is the exit status: 0 success, 1 for exit(err), or the value
	// given to exit-with-code.
	Code int
}

func (e *ExitError) Error() string { return fmt.Sprintf("wasi: exit status %d", e.Code) }

// Host is the WASI state of one component instance. Create it with New,
// instantiate the component with its Imports and Close it when the instance
// is gone. Use a new Host for every instance (also when an instance is
// rebuilt after a trap): the handles a dead instance held would otherwise
// stay open until Close. Its methods and the functions it registers are
// safe for concurrent use.
type Host struct {
	cfg   Config
	start time.Time // the monotonic clock's zero

	stdin          *ioReader
	stdout, stderr *ioWriter

	mu         sync.Mutex
	closed     bool
	errs       table[*ioError]
	pollables  table[*pollable]
	inputs     table[*inputStream]
	outputs    table[*outputStream]
	descs      table[*descriptor]
	dirStreams table[*dirStream]
	preopens   []*preopen // opened on first use
	preopenErr error
	insecure   *rand.ChaCha8
	seed       *[2]uint64
	hashKey    *[16]byte

	randMu sync.Mutex // serializes reads of Config.Random

	// funcs and dtors are what the last Imports registered, for tests.
	funcs map[string]*boundFunc
	dtors map[string]wasmhost.ResourceDtor
	rts   map[string]*value.ResourceType
}

// New returns a Host granting what cfg says. It opens nothing yet:
// preopened directories are opened when the guest first asks for them.
func New(cfg Config) *Host {
	h := &Host{cfg: cfg, start: time.Now()}
	var in io.Reader = eofReader{}
	if cfg.Stdin != nil {
		in = cfg.Stdin
	}
	out, errOut := io.Discard, io.Discard
	if cfg.Stdout != nil {
		out = cfg.Stdout
	}
	if cfg.Stderr != nil {
		errOut = cfg.Stderr
	}
	h.stdin = &ioReader{r: in}
	h.stdout, h.stderr = &ioWriter{w: out}, &ioWriter{w: errOut}
	return h
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// Close closes every file and directory the guest still has open and the
// preopened directories. Later calls of the guest into WASI fail.
func (h *Host) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	var err error
	for _, d := range h.descs.All() {
		err = errors.Join(err, d.close())
	}
	for _, s := range h.dirStreams.All() {
		err = errors.Join(err, s.close())
	}
	for _, p := range h.preopens {
		if p.root != nil {
			err = errors.Join(err, p.root.Close())
		}
	}
	h.errs.Reset()
	h.pollables.Reset()
	h.inputs.Reset()
	h.outputs.Reset()
	h.descs.Reset()
	h.dirStreams.Reset()
	return err
}

// Imports returns a fresh set of host definitions with every WASI interface
// registered at Version, bound to h. Add the component's other imports with
// Merge.
func (h *Host) Imports() *wasmhost.Imports {
	im := wasmhost.NewImports()
	b := &binding{h: h, im: im, funcs: map[string]*boundFunc{}, dtors: map[string]wasmhost.ResourceDtor{}, rts: map[string]*value.ResourceType{}}
	b.registerIO()
	b.registerCLI()
	b.registerClocks()
	b.registerRandom()
	b.registerFilesystem()
	h.mu.Lock()
	h.funcs, h.dtors, h.rts = b.funcs, b.dtors, b.rts
	h.mu.Unlock()
	return im
}

// binding is one registration of h into an Imports: the resource types it
// created there, which the handles its functions return must carry.
type binding struct {
	h     *Host
	im    *wasmhost.Imports
	funcs map[string]*boundFunc
	dtors map[string]wasmhost.ResourceDtor
	rts   map[string]*value.ResourceType

	errorRT, pollableRT, inputRT, outputRT *value.ResourceType
	descRT, dirStreamRT                    *value.ResourceType
	termInRT, termOutRT                    *value.ResourceType
}

type boundFunc struct {
	typ *value.FuncType
	fn  wasmhost.HostFunc
}

// instance returns the host instance of iface ("wasi:io/streams").
func (b *binding) instance(iface string) *wasmhost.HostInstance {
	return b.im.Instance(iface + "@" + Version)
}

// def registers a typed function of iface.
func (b *binding) def(hi *wasmhost.HostInstance, iface, name string, typ *value.FuncType, fn wasmhost.HostFunc) {
	hi.TypedFunc(name, typ, fn)
	b.funcs[iface+"#"+name] = &boundFunc{typ: typ, fn: fn}
}

// resource defines a resource type of hi.
func (b *binding) resource(hi *wasmhost.HostInstance, name string, dtor wasmhost.ResourceDtor) *value.ResourceType {
	rt := hi.Resource(name, dtor)
	b.dtors[name], b.rts[name] = dtor, rt
	return rt
}

// errClosed fails calls made after Close.
var errClosed = errors.New("wasi: host is closed")

// table maps the reps of one resource type to Go objects. It is guarded
// by the Host's mutex.
type table[T any] = reptable.Table[T]

// lookup finds the object behind a handle argument.
func lookup[T any](h *Host, t *table[T], what string, arg any) (T, error) {
	var zero T
	hd, ok := arg.(value.Handle)
	if !ok {
		return zero, fmt.Errorf("wasi: %s handle is a %T", what, arg)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return zero, errClosed
	}
	v, ok := t.Get(hd.Rep)
	if !ok {
		return zero, fmt.Errorf("wasi: unknown %s %d", what, hd.Rep)
	}
	return v, nil
}

// insert adds an object and returns its own handle.
func insert[T any](h *Host, t *table[T], rt *value.ResourceType, v T) (value.Handle, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return value.Handle{}, errClosed
	}
	return value.Handle{Type: rt, Rep: t.Add(v)}, nil
}

// dropper returns the destructor of a resource kept in t.
func dropper[T any](h *Host, t *table[T], close func(T)) wasmhost.ResourceDtor {
	return func(_ context.Context, rep uint32) {
		h.mu.Lock()
		v, ok := t.Remove(rep)
		h.mu.Unlock()
		if ok && close != nil {
			close(v)
		}
	}
}

// openFiles reports how many descriptors and directory streams are open:
// tests check that dropping handles closes them.
func (h *Host) openFiles() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.descs.Len() + h.dirStreams.Len()
}

// randomRead fills p from Config.Random or crypto/rand.
func (h *Host) randomRead(p []byte) error {
	if h.cfg.Random != nil {
		h.randMu.Lock()
		defer h.randMu.Unlock()
		_, err := io.ReadFull(h.cfg.Random, p)
		if err != nil {
			return fmt.Errorf("wasi: random source: %w", err)
		}
		return nil
	}
	return cryptoRead(p)
}

// now returns the wall clock.
func (h *Host) now() time.Time {
	if h.cfg.Clock != nil {
		return h.cfg.Clock()
	}
	return time.Now()
}

// mono returns the monotonic clock in nanoseconds.
func (h *Host) mono() uint64 { return uint64(time.Since(h.start)) }

// openPreopens opens the granted directories once.
func (h *Host) openPreopens() ([]*preopen, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errClosed
	}
	if h.preopens != nil || h.preopenErr != nil {
		return h.preopens, h.preopenErr
	}
	ps := make([]*preopen, 0, len(h.cfg.Preopens))
	for _, p := range h.cfg.Preopens {
		root, err := os.OpenRoot(p.HostDir)
		if err != nil {
			for _, q := range ps {
				q.root.Close()
			}
			h.preopenErr = fmt.Errorf("wasi: preopen %q: %w", p.HostDir, err)
			return nil, h.preopenErr
		}
		guest := p.GuestPath
		if guest == "" {
			guest = "/"
		}
		ps = append(ps, &preopen{guest: guest, readOnly: p.ReadOnly, root: root})
	}
	h.preopens = ps
	return ps, nil
}
