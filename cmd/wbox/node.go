package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wbox-dev/wbox/drivers/blob"
	httpdriver "github.com/wbox-dev/wbox/drivers/http"
	"github.com/wbox-dev/wbox/drivers/kv"
	tcpdriver "github.com/wbox-dev/wbox/drivers/tcp"
	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/linker"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
	"github.com/wbox-dev/wbox/wasmhost/wave"
)

// The node: a kernel, a linker and the management API on a unix socket.
//
// Layout of the data directory:
//
//	DIR/wbox.sock      the management API (JSON over HTTP), mode 0600
//	DIR/events.log     the kernel's event log (JSON lines)
//	DIR/drivers/NAME/  each driver's data
//	DIR/store/sha256/  every component deployed, by digest
//
// Compiled machine code is not in it: it goes to the user's cache
// directory (~/.cache/wbox/compiled, shared with `wbox call` and every other
// node of the user), because compiling a large component takes seconds to
// minutes and the code depends only on the component's bytes, wazero and the
// CPU (wazero keys each file so, and writes it atomically, so concurrent
// nodes may share it). Without a user cache directory it goes to
// DIR/compiled/.

// drivers are the native driver kinds this binary has.
func drivers() map[string]kernel.DriverFactory {
	return map[string]kernel.DriverFactory{kv.Kind: kv.New, blob.Kind: blob.New, tcpdriver.Kind: tcpdriver.New, httpdriver.Kind: httpdriver.Factory}
}

// linkerDrivers are the kinds a topology may name: drivers(), with the
// cluster's kv factory (it knows backend: jetstream) from extra.
func linkerDrivers(extra map[string]kernel.DriverFactory) map[string]kernel.DriverFactory {
	ds := drivers()
	if f, ok := extra[kv.Kind]; ok {
		ds[kv.Kind] = f
	}
	return ds
}

// compiledDir is where a node with data directory dataDir caches compiled
// machine code (see the layout above).
func compiledDir(dataDir string) string {
	if d := defaultCacheDir(); d != "" {
		return d
	}
	return filepath.Join(dataDir, "compiled")
}

// defaultDataDir is $WBOX_DATA, else ~/.local/share/wbox.
func defaultDataDir() string {
	if d := os.Getenv("WBOX_DATA"); d != "" {
		return d
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "wbox")
	}
	return filepath.Join(os.TempDir(), "wbox")
}

func socketPath(dataDir string) string { return filepath.Join(dataDir, "wbox.sock") }

type node struct {
	dataDir string
	log     *slog.Logger
	rt      *wasmhost.Runtime
	k       *kernel.Kernel
	l       *linker.Linker
	started time.Time

	deployMu sync.Mutex // serializes plan, deploy and stop
	file     string     // the topology last deployed ("" if none)

	rates *rates

	cluster *cluster // nil when the node is alone (cluster.go)

	shutdown     chan struct{} // closed by `wbox stop` without boxes
	shutdownOnce sync.Once
}

func newNode(ctx context.Context, dataDir string, log *slog.Logger, extra map[string]kernel.DriverFactory) (*node, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	kdrivers := drivers()
	maps.Copy(kdrivers, extra) // the cluster's stand-ins of remote boxes
	k, err := kernel.New(kernel.Config{Logger: log, DataDir: dataDir, Drivers: kdrivers, CacheDir: compiledDir(dataDir)})
	if err != nil {
		return nil, err
	}
	// The linker loads components into the kernel's own runtime: it is the
	// interruptible one, so call timeouts can stop a runaway box.
	rt, err := k.Runtime(ctx)
	if err != nil {
		k.Close(ctx)
		return nil, err
	}
	n := &node{
		dataDir:  dataDir,
		log:      log,
		rt:       rt,
		k:        k,
		l:        linker.New(linker.Options{Runtime: rt, Drivers: linkerDrivers(extra), StoreDir: filepath.Join(dataDir, "store")}),
		started:  time.Now(),
		rates:    newRates(),
		shutdown: make(chan struct{}),
	}
	return n, nil
}

// close stops every task, then frees the components.
func (n *node) close(ctx context.Context) error {
	err := n.k.Close(ctx)
	err = errors.Join(err, n.l.Close(ctx)) // the kernel closed the runtime
	return err
}

// listen opens the management socket, refusing to take over one a live node
// answers on.
func listen(dataDir string) (net.Listener, error) {
	path := socketPath(dataDir)
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("a node already runs with data directory %s (its socket %s answers)", dataDir, path)
	}
	os.Remove(path) // a stale socket of a node that died
	ln, err := listenPrivate(path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// serve runs the management API on ln until ctx is done or a client asks
// the node to stop.
func (n *node) serve(ctx context.Context, ln net.Listener) error {
	// Requests live in srvCtx: cancelling it ends `wbox logs -f` followers,
	// which never finish on their own.
	srvCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := &http.Server{Handler: n.handler(), BaseContext: func(net.Listener) context.Context { return srvCtx }}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	go n.rates.run(srvCtx, n.k)
	var err error
	select {
	case <-ctx.Done():
	case <-n.shutdown:
	case err = <-errc:
	}
	cancel()
	sctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	srv.Shutdown(sctx) // lets the answer to `wbox stop` out
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (n *node) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/plan", n.handlePlan)
	mux.HandleFunc("POST /v1/deploy", n.handleDeploy)
	mux.HandleFunc("GET /v1/status", n.handleStatus)
	mux.HandleFunc("GET /v1/logs", n.handleLogs)
	mux.HandleFunc("POST /v1/stop", n.handleStop)
	mux.HandleFunc("POST /v1/invoke", n.handleInvoke)
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, apiError{Error: err.Error()})
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, 4<<20)).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("bad request: %w", err))
		return false
	}
	return true
}

// plan parses and links a topology and diffs it against what runs. The
// caller holds deployMu.
func (n *node) plan(ctx context.Context, req topologyRequest) (*kernel.Spec, *kernel.Plan, error) {
	if len(req.YAML) > linker.MaxFileSize {
		return nil, nil, fmt.Errorf("%s: file is larger than %d bytes", req.File, linker.MaxFileSize)
	}
	topo, err := linker.Parse(req.File, req.Dir, []byte(req.YAML))
	if err != nil {
		return nil, nil, err
	}
	spec, err := n.l.Link(ctx, topo)
	if err != nil {
		return nil, nil, err
	}
	return spec, linker.Diff(spec, n.k.Snapshot()), nil
}

func (n *node) handlePlan(w http.ResponseWriter, r *http.Request) {
	var req topologyRequest
	if !readJSON(w, r, &req) {
		return
	}
	if n.cluster != nil {
		s, err := n.cluster.plan(r.Context(), req)
		if err != nil {
			writeError(w, http.StatusUnprocessableEntity, err)
			return
		}
		writeJSON(w, http.StatusOK, planResponse{Plan: s})
		return
	}
	n.deployMu.Lock()
	defer n.deployMu.Unlock()
	_, p, err := n.plan(r.Context(), req)
	// Free what the plan loaded and nothing runs.
	n.l.Prune(r.Context(), n.k.Snapshot().Spec())
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err)
		return
	}
	writeJSON(w, http.StatusOK, planResponse{Plan: linker.FormatPlan(p), Empty: p.Empty()})
}

func (n *node) handleDeploy(w http.ResponseWriter, r *http.Request) {
	var req topologyRequest
	if !readJSON(w, r, &req) {
		return
	}
	if n.cluster != nil {
		s, err := n.cluster.deploy(r.Context(), req)
		if err != nil {
			code := http.StatusInternalServerError
			var es linker.Errors
			if errors.As(err, &es) {
				code = http.StatusUnprocessableEntity
			}
			writeError(w, code, err)
			return
		}
		writeJSON(w, http.StatusOK, planResponse{Plan: s, Applied: true})
		return
	}
	p, err := n.deploy(r.Context(), req)
	if err != nil {
		code := http.StatusInternalServerError
		var es linker.Errors
		if errors.As(err, &es) {
			code = http.StatusUnprocessableEntity
		}
		writeError(w, code, err)
		return
	}
	writeJSON(w, http.StatusOK, planResponse{Plan: linker.FormatPlan(p), Empty: p.Empty(), Applied: true})
}

// deploy applies a topology: all of it, or, if anything fails, none.
func (n *node) deploy(ctx context.Context, req topologyRequest) (*kernel.Plan, error) {
	n.deployMu.Lock()
	defer n.deployMu.Unlock()
	spec, p, err := n.plan(ctx, req)
	if err != nil {
		n.l.Prune(ctx, n.k.Snapshot().Spec())
		n.log.Warn("deploy rejected", "file", req.File, "err", err)
		return nil, err
	}
	if !p.Empty() {
		if err := n.k.Apply(ctx, p); err != nil {
			n.l.Prune(ctx, n.k.Snapshot().Spec())
			return nil, fmt.Errorf("deploy failed, nothing changed: %w", err)
		}
	}
	n.l.Prune(ctx, spec)
	n.file = req.File
	n.log.Info("deployed", "file", req.File, "boxes", len(spec.Boxes), "drivers", len(spec.Drivers))
	return p, nil
}

func (n *node) handleStatus(w http.ResponseWriter, r *http.Request) {
	s := n.k.Snapshot()
	rate := n.rates.get()
	st := statusResponse{Node: nodeInfo{DataDir: n.dataDir, Started: n.started, Topology: n.file, PID: os.Getpid()}}
	if n.cluster != nil {
		st.Cluster = n.cluster.status(r.Context())
	}
	for _, name := range s.Names() {
		b := s.Boxes[name]
		st.Boxes = append(st.Boxes, boxInfo{
			Name: name, State: string(b.State), Digest: b.Spec.Digest, Instances: b.Instances,
			Started: b.Started, Restarts: b.Restarts, LastError: b.LastError, NextRestart: b.NextRestart,
			Calls: b.Counters.CallsIn, CallsOut: b.Counters.CallsOut, Errors: b.Counters.Errors,
			CallsPerSec: rate[name], InFlight: b.Counters.InFlight, MemoryBytes: b.Counters.MemoryPages * 65536,
			Arrows: arrowStrings(b.Spec.Arrows),
		})
	}
	for _, name := range sortedNames(s.Drivers) {
		d := s.Drivers[name]
		st.Drivers = append(st.Drivers, driverInfo{
			Name: name, Kind: d.Spec.Kind, State: string(d.State), Started: d.Started, Restarts: d.Restarts,
			LastError: d.LastError, Calls: d.Counters.CallsIn + d.Counters.CallsOut, Errors: d.Counters.Errors, CallsPerSec: rate[name],
		})
	}
	writeJSON(w, http.StatusOK, st)
}

func arrowStrings(as []kernel.Arrow) []string {
	var out []string
	for _, a := range as {
		out = append(out, fmt.Sprintf("%s -> %s.%s", a.Import, a.Target, a.Export))
	}
	return out
}

func sortedNames[V any](m map[string]V) []string {
	var ns []string
	for n := range m {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

// handleLogs streams events as JSON lines: those kept in memory (the last
// ?tail=N, default all), then, with ?follow=1, new ones as they happen.
func (n *node) handleLogs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	task := q.Get("task")
	if task != "" {
		s := n.k.Snapshot()
		_, isBox := s.Boxes[task]
		_, isDriver := s.Drivers[task]
		if !isBox && !isDriver && len(n.k.Events(0, task)) == 0 {
			writeError(w, http.StatusNotFound, fmt.Errorf("no box or driver %q runs or ran (running: %s)", task, strings.Join(append(s.Names(), sortedNames(s.Drivers)...), ", ")))
			return
		}
	}
	evs := n.k.Events(0, task)
	var tail int
	fmt.Sscan(q.Get("tail"), &tail)
	if tail > 0 && len(evs) > tail {
		evs = evs[len(evs)-tail:]
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	var since uint64
	for _, e := range evs {
		enc.Encode(e)
		since = e.Seq
	}
	if since == 0 {
		if all := n.k.Events(0, task); len(all) > 0 {
			since = all[len(all)-1].Seq
		}
	}
	fl, _ := w.(http.Flusher)
	if fl != nil {
		fl.Flush()
	}
	if q.Get("follow") == "" {
		return
	}
	n.k.Follow(r.Context(), since, task, func(e kernel.Event) error {
		if err := enc.Encode(e); err != nil {
			return err
		}
		if fl != nil {
			fl.Flush()
		}
		return nil
	})
}

// handleStop stops the named boxes, or, with none, the node.
func (n *node) handleStop(w http.ResponseWriter, r *http.Request) {
	var req stopRequest
	if !readJSON(w, r, &req) {
		return
	}
	if len(req.Boxes) == 0 {
		writeJSON(w, http.StatusOK, stopResponse{Stopped: []string{"node"}})
		n.shutdownOnce.Do(func() { close(n.shutdown) })
		return
	}
	n.deployMu.Lock()
	defer n.deployMu.Unlock()
	s := n.k.Snapshot()
	p := &kernel.Plan{Reasons: map[string]string{}}
	stop := map[string]bool{}
	for _, b := range req.Boxes {
		if _, ok := s.Boxes[b]; !ok {
			writeError(w, http.StatusNotFound, fmt.Errorf("no box %q runs (running: %s)", b, strings.Join(s.Names(), ", ")))
			return
		}
		stop[b] = true
		p.Stop = append(p.Stop, b)
		p.Reasons[b] = "stopped by wbox stop"
	}
	for _, b := range s.Names() {
		if !stop[b] {
			p.Keep = append(p.Keep, b)
		}
	}
	p.KeepDrivers = sortedNames(s.Drivers)
	if err := n.k.Apply(r.Context(), p); err != nil {
		writeError(w, http.StatusConflict, fmt.Errorf("stop failed, nothing changed: %w", err))
		return
	}
	n.l.Prune(r.Context(), n.k.Snapshot().Spec())
	writeJSON(w, http.StatusOK, stopResponse{Stopped: req.Boxes})
}

// handleInvoke calls a box's export with WAVE arguments.
func (n *node) handleInvoke(w http.ResponseWriter, r *http.Request) {
	var req invokeRequest
	if !readJSON(w, r, &req) {
		return
	}
	s := n.k.Snapshot()
	b, ok := s.Boxes[req.Box]
	if !ok && n.cluster != nil && n.cluster.invoke(w, r, req) {
		return // the box runs on another node
	}
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Errorf("no box %q runs (running: %s)", req.Box, strings.Join(s.Names(), ", ")))
		return
	}
	fn, ft, err := findExport(b.Spec, req.Export)
	if err != nil {
		writeError(w, http.StatusNotFound, err)
		return
	}
	args, err := wave.ParseArgs(ft.Params, req.Args)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("%s %s: %w", fn, ft, err))
		return
	}
	res, err := n.k.Call(r.Context(), req.Box, fn, args...)
	if err != nil {
		writeError(w, http.StatusBadGateway, err)
		return
	}
	out, err := wave.FormatResults(ft.Results, res)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, invokeResponse{Func: fn, Result: out})
}

// findExport resolves EXPORT as "iface#func", a world-level function, or a
// bare function name that one exported interface has.
func findExport(b kernel.BoxSpec, export string) (string, *value.FuncType, error) {
	if b.Component == nil {
		return "", nil, fmt.Errorf("box %q: its component is not loaded", b.Name)
	}
	world := b.Component.World()
	var all, matches []string
	types := map[string]*value.FuncType{}
	for _, e := range world.Exports {
		switch e.Kind {
		case wasmhost.ExternFunc:
			all = append(all, e.Name)
			types[e.Name] = e.Func
			if e.Name == export {
				matches = append(matches, e.Name)
			}
		case wasmhost.ExternInstance:
			for _, f := range e.Instance.Exports {
				if f.Kind != wasmhost.ExternFunc {
					continue
				}
				full := e.Name + "#" + f.Name
				all = append(all, full)
				types[full] = f.Func
				if full == export || f.Name == export {
					matches = append(matches, full)
				}
			}
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], types[matches[0]], nil
	case 0:
		return "", nil, fmt.Errorf("box %q exports no function %q (it exports %s)", b.Name, export, strings.Join(all, ", "))
	}
	return "", nil, fmt.Errorf("box %q: %q is ambiguous: name one of %s", b.Name, export, strings.Join(matches, ", "))
}

// rates samples the kernel's call counters every second to give calls/s
// over the last five seconds.
type rates struct {
	mu      sync.Mutex
	samples []kernel.Snapshot
}

func newRates() *rates { return &rates{} }

func (r *rates) run(ctx context.Context, k *kernel.Kernel) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		r.mu.Lock()
		r.samples = append(r.samples, k.Snapshot())
		if len(r.samples) > 6 {
			r.samples = r.samples[1:]
		}
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// get returns calls/s per task between the oldest and newest samples.
func (r *rates) get() map[string]float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]float64{}
	if len(r.samples) < 2 {
		return out
	}
	a, b := r.samples[0], r.samples[len(r.samples)-1]
	dt := b.Taken.Sub(a.Taken).Seconds()
	if dt <= 0 {
		return out
	}
	for n, bs := range b.Boxes {
		if as, ok := a.Boxes[n]; ok && bs.Counters.CallsIn >= as.Counters.CallsIn {
			out[n] = float64(bs.Counters.CallsIn-as.Counters.CallsIn) / dt
		}
	}
	for n, ds := range b.Drivers {
		// A driver's calls are those it serves (functions bound into boxes)
		// and those it makes (an ingress calling boxes).
		if as, ok := a.Drivers[n]; ok && ds.Counters.CallsIn+ds.Counters.CallsOut >= as.Counters.CallsIn+as.Counters.CallsOut {
			out[n] = float64(ds.Counters.CallsIn+ds.Counters.CallsOut-as.Counters.CallsIn-as.Counters.CallsOut) / dt
		}
	}
	return out
}
