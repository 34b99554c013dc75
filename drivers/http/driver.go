// Package httpdriver (drivers/http) is wbox's HTTP ingress: a kernel.Native
// task running a net/http server (HTTP/1.1 and HTTP/2; TLS from certificate
// and key files, else cleartext HTTP/1.1 and HTTP/2 with prior knowledge)
// that routes each request by host and path prefix to a box exporting
// wasi:http/incoming-handler@0.2.x: one ingress multiplexes many boxes.
//
//	drivers:
//	  web:
//	    kind: http
//	    listen: 127.0.0.1:8080
//	    tls: {cert: /etc/wbox/cert.pem, key: /etc/wbox/key.pem}  # optional
//	    routes:
//	      - {host: blog.example.com, box: blog}      # any path
//	      - {path: /api, box: api, strip: true}       # any host: /api, /api/...; the box sees /...
//	      - {host: "*.example.com", path: /, box: www}
//	    max_header_bytes: 65536      # 431 beyond (default 64 KiB)
//	    max_body_bytes: 16777216     # 413 beyond (default 16 MiB)
//	    read_header_timeout: 10s     # against slowloris (default 10s)
//	    read_timeout: 60s            # the whole request (default 60s)
//	    write_timeout: 0s            # the whole response (default: none)
//	    idle_timeout: 120s           # keep-alive (default 120s)
//
// A route matches when its host does (exact, case-insensitive, port
// ignored; "*.example.com" for subdomains; none for any host) and its path
// is a prefix of the request's on a segment boundary ("/api" matches /api
// and /api/x, not /apix). Routes with a host win over routes without, then
// the longest path wins. The box sees the whole path, unless the route
// strips its prefix (strip: true: /api/x reaches the box as /x, /api as
// /). No route: 404.
//
// Requests reach boxes through the kernel (Factory: DriverEnv.ServeHTTP,
// i.e. Kernel.ServeHTTP), as calls into the box's queue: its max-in-flight
// (503 beyond), call timeout, supervision (a trapping handler answers 500
// and the box restarts) and counters apply. The boxes the routes name are
// checked at deploy time (Targets, kernel.BoxCaller): each must exist and
// export wasi:http/incoming-handler@0.2.x. New also takes a Resolver, the
// seam for serving something else (tests; ComponentBackend runs a component
// outside any kernel, for `wbox test`).
package httpdriver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/wasihttp"
)

// Kind is the driver kind name used in topologies.
const Kind = "http"

// Defaults of the settings.
const (
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultMaxBodyBytes      = 16 << 20
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	shutdownTimeout          = 10 * time.Second
)

// Backend serves the requests routed to one box: with its
// wasi:http/incoming-handler export (ComponentBackend), or anything else in
// tests. Serve returns wasihttp.ErrIncomplete when the response was cut
// short (the driver then aborts the connection).
type Backend interface {
	Serve(ctx context.Context, w http.ResponseWriter, r *http.Request) error
}

// Resolver finds the backend of a box by name, for each request (boxes come
// and go with deploys). An error answers 503.
type Resolver func(box string) (Backend, error)

// Route sends requests for a host and path prefix to a box.
type Route struct {
	Host string // "" any host; "*.example.com" its subdomains
	Path string // prefix, "/" by default
	Box  string
	// Strip removes Path from the request's path before the box sees it.
	Strip bool
}

// HandlerExport is what the boxes of routes must export (any 0.2.x).
const HandlerExport = wasihttp.HandlerExport

// Settings are the driver's settings from the topology.
type Settings struct {
	Listen            string
	CertFile, KeyFile string // both or neither
	Routes            []Route
	MaxHeaderBytes    int
	MaxBodyBytes      int64
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
}

// Driver is an HTTP ingress task.
type Driver struct {
	name    string
	set     Settings
	resolve Resolver
	log     *slog.Logger
	routes  []Route // sorted: most specific first

	mu    sync.Mutex
	addr  net.Addr
	ready chan struct{} // closed when the first Run listens
}

var (
	_ kernel.Native    = (*Driver)(nil)
	_ kernel.BoxCaller = (*Driver)(nil)
)

// Factory is the kernel.DriverFactory of kind "http": requests reach boxes
// through the kernel (DriverEnv.ServeHTTP).
func Factory(spec kernel.DriverSpec, env kernel.DriverEnv) (kernel.Native, error) {
	return New(spec, env, nil)
}

// kernelBackend serves a box's requests through Kernel.ServeHTTP.
type kernelBackend struct {
	serve func(ctx context.Context, box string, w http.ResponseWriter, r *http.Request) error
	box   string
}

func (b kernelBackend) Serve(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	return b.serve(ctx, b.box, w, r)
}

// NewFactory returns the kernel.DriverFactory for kind "http", reaching
// boxes through resolve.
func NewFactory(resolve Resolver) kernel.DriverFactory {
	return func(spec kernel.DriverSpec, env kernel.DriverEnv) (kernel.Native, error) {
		return New(spec, env, resolve)
	}
}

// New makes an HTTP ingress from its settings. It opens nothing: Run
// listens. Requests reach boxes through resolve, or, when it is nil,
// through the kernel (env.ServeHTTP); with neither (the linker's zero
// DriverEnv, which only asks for Exports and Targets) Run fails.
func New(spec kernel.DriverSpec, env kernel.DriverEnv, resolve Resolver) (*Driver, error) {
	set, err := ParseSettings(spec.Settings, env.DataDir)
	if err != nil {
		return nil, err
	}
	if resolve == nil && env.ServeHTTP != nil {
		serve := env.ServeHTTP
		resolve = func(box string) (Backend, error) { return kernelBackend{serve: serve, box: box}, nil }
	}
	log := env.Logger
	if log == nil {
		log = slog.Default()
	}
	d := &Driver{name: spec.Name, set: set, resolve: resolve, log: log, ready: make(chan struct{})}
	d.routes = append([]Route(nil), set.Routes...)
	sort.SliceStable(d.routes, func(i, j int) bool {
		a, b := d.routes[i], d.routes[j]
		if ra, rb := hostRank(a.Host), hostRank(b.Host); ra != rb {
			return ra > rb
		}
		if len(a.Host) != len(b.Host) {
			return len(a.Host) > len(b.Host)
		}
		return len(a.Path) > len(b.Path)
	})
	return d, nil
}

// hostRank orders route hosts: exact, then wildcard, then any.
func hostRank(h string) int {
	switch {
	case h == "":
		return 0
	case strings.HasPrefix(h, "*."):
		return 1
	}
	return 2
}

// ParseSettings reads the settings of a topology (YAML-decoded values):
// sizes are integers or strings with a unit ("64KiB", "16MiB"), durations
// strings ("10s"). Relative certificate paths are inside dataDir.
func ParseSettings(m map[string]any, dataDir string) (Settings, error) {
	s := Settings{
		MaxHeaderBytes: DefaultMaxHeaderBytes, MaxBodyBytes: DefaultMaxBodyBytes,
		ReadHeaderTimeout: DefaultReadHeaderTimeout, ReadTimeout: DefaultReadTimeout, IdleTimeout: DefaultIdleTimeout,
	}
	var err error
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		switch k {
		case "listen":
			s.Listen, err = str(k, v)
			if err == nil {
				_, _, err = net.SplitHostPort(s.Listen)
				if err != nil {
					err = fmt.Errorf("setting listen: %v", err)
				}
			}
		case "tls":
			t, ok := v.(map[string]any)
			if !ok {
				return s, fmt.Errorf("setting tls must be {cert: FILE, key: FILE}, not %v", v)
			}
			for tk, tv := range t {
				p, err := str("tls."+tk, tv)
				if err != nil {
					return s, err
				}
				if !filepath.IsAbs(p) && dataDir != "" {
					p = filepath.Join(dataDir, p)
				}
				switch tk {
				case "cert":
					s.CertFile = p
				case "key":
					s.KeyFile = p
				default:
					return s, fmt.Errorf("unknown setting tls.%s (tls knows: cert, key)", tk)
				}
			}
			if s.CertFile == "" || s.KeyFile == "" {
				return s, errors.New("setting tls needs both cert and key")
			}
		case "routes":
			l, ok := v.([]any)
			if !ok {
				return s, fmt.Errorf("setting routes must be a list, not %v", v)
			}
			for i, e := range l {
				r, err := parseRoute(e)
				if err != nil {
					return s, fmt.Errorf("routes[%d]: %w", i, err)
				}
				s.Routes = append(s.Routes, r)
			}
		case "max_header_bytes":
			var n int64
			n, err = size(k, v)
			s.MaxHeaderBytes = int(n)
		case "max_body_bytes":
			s.MaxBodyBytes, err = size(k, v)
		case "read_header_timeout":
			s.ReadHeaderTimeout, err = duration(k, v)
		case "read_timeout":
			s.ReadTimeout, err = duration(k, v)
		case "write_timeout":
			s.WriteTimeout, err = duration(k, v)
		case "idle_timeout":
			s.IdleTimeout, err = duration(k, v)
		default:
			return s, fmt.Errorf("unknown setting %q (http knows: listen, tls, routes, max_header_bytes, max_body_bytes, read_header_timeout, read_timeout, write_timeout, idle_timeout)", k)
		}
		if err != nil {
			return s, err
		}
	}
	if s.Listen == "" {
		return s, errors.New("setting listen is missing (e.g. listen: 127.0.0.1:8080)")
	}
	if s.ReadHeaderTimeout <= 0 {
		return s, errors.New("read_header_timeout must be positive: it is what stops slowloris")
	}
	seen := map[[2]string]bool{}
	for _, r := range s.Routes {
		k := [2]string{r.Host, r.Path}
		if seen[k] {
			return s, fmt.Errorf("two routes for host %q and path %q", r.Host, r.Path)
		}
		seen[k] = true
	}
	return s, nil
}

func parseRoute(e any) (Route, error) {
	m, ok := e.(map[string]any)
	if !ok {
		return Route{}, fmt.Errorf("a route is {host, path, box}, not %v", e)
	}
	var r Route
	for k, v := range m {
		if k == "strip" {
			b, ok := v.(bool)
			if !ok {
				return r, fmt.Errorf("route strip must be true or false, not %v", v)
			}
			r.Strip = b
			continue
		}
		s, err := str(k, v)
		if err != nil {
			return r, err
		}
		switch k {
		case "host":
			r.Host = strings.ToLower(strings.TrimSuffix(s, "."))
		case "path":
			r.Path = s
		case "box":
			r.Box = s
		default:
			return r, fmt.Errorf("unknown route key %q (a route knows: host, path, box, strip)", k)
		}
	}
	if r.Box == "" {
		return r, errors.New("a route needs a box")
	}
	if r.Path == "" {
		r.Path = "/"
	}
	if !strings.HasPrefix(r.Path, "/") {
		return r, fmt.Errorf("route path %q must start with /", r.Path)
	}
	if r.Path != "/" {
		r.Path = strings.TrimSuffix(r.Path, "/")
	}
	if strings.ContainsAny(r.Host, "/ ") || (strings.Contains(r.Host, "*") && !strings.HasPrefix(r.Host, "*.")) {
		return r, fmt.Errorf("route host %q is not a host name or *.domain", r.Host)
	}
	return r, nil
}

func str(k string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("setting %s must be a string, not %v", k, v)
	}
	return s, nil
}

func size(k string, v any) (int64, error) {
	switch n := v.(type) {
	case int:
		if n > 0 {
			return int64(n), nil
		}
	case int64:
		if n > 0 {
			return n, nil
		}
	case uint64:
		if n > 0 && n < 1<<62 {
			return int64(n), nil
		}
	case float64:
		if n > 0 && n == float64(int64(n)) {
			return int64(n), nil
		}
	case string:
		num, mult := n, int64(1)
		for _, u := range []struct {
			suffix string
			mult   int64
		}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000000}, {"GB", 1000000000}, {"B", 1}} {
			if strings.HasSuffix(n, u.suffix) {
				num, mult = strings.TrimSpace(strings.TrimSuffix(n, u.suffix)), u.mult
				break
			}
		}
		x, err := strconv.ParseInt(num, 10, 64)
		if err == nil && x > 0 && x < (1<<62)/mult {
			return x * mult, nil
		}
	}
	return 0, fmt.Errorf("setting %s must be a positive size in bytes (1048576 or \"1MiB\"), not %v", k, v)
}

func duration(k string, v any) (time.Duration, error) {
	s, ok := v.(string)
	if ok {
		d, err := time.ParseDuration(s)
		if err == nil && d >= 0 {
			return d, nil
		}
	}
	if n, ok := v.(int); ok && n == 0 {
		return 0, nil
	}
	return 0, fmt.Errorf("setting %s must be a duration such as \"10s\", not %v", k, v)
}

// Targets implements kernel.BoxCaller: the box of each route, which must
// export wasi:http/incoming-handler@0.2.x.
func (d *Driver) Targets() []kernel.Target {
	ts := make([]kernel.Target, len(d.set.Routes))
	for i, r := range d.set.Routes {
		ts[i] = kernel.Target{Box: r.Box, Export: HandlerExport, Setting: fmt.Sprintf("routes[%d].box", i)}
	}
	return ts
}

// Exports implements kernel.Native: an ingress exports nothing.
func (d *Driver) Exports() map[string]*wasmhost.InstanceType {
	return map[string]*wasmhost.InstanceType{}
}

// Bind implements kernel.Native: nothing can be bound to an ingress.
func (d *Driver) Bind(caller, export string, imports *wasmhost.HostInstance) error {
	return fmt.Errorf("http driver %q exports nothing (it calls boxes; it is not called)", d.name)
}

// Addr returns the address the driver listens on, once Run listens (nil
// before): the port of listen: 127.0.0.1:0.
func (d *Driver) Addr() net.Addr {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.addr
}

// Ready is closed once Run first listens.
func (d *Driver) Ready() <-chan struct{} { return d.ready }

// Run implements kernel.Native: it serves until ctx is done, then shuts the
// server down (requests in flight get shutdownTimeout to finish).
func (d *Driver) Run(ctx context.Context) error {
	if d.resolve == nil {
		return errors.New("http driver: no kernel to serve its boxes (a zero DriverEnv)")
	}
	var tlsCfg *tls.Config
	if d.set.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(d.set.CertFile, d.set.KeyFile)
		if err != nil {
			return fmt.Errorf("http driver: tls: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", d.set.Listen)
	if err != nil {
		return fmt.Errorf("http driver: %w", err)
	}
	srv := &http.Server{
		Handler:           d,
		TLSConfig:         tlsCfg,
		MaxHeaderBytes:    d.set.MaxHeaderBytes,
		ReadHeaderTimeout: d.set.ReadHeaderTimeout,
		ReadTimeout:       d.set.ReadTimeout,
		WriteTimeout:      d.set.WriteTimeout,
		IdleTimeout:       d.set.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetHTTP2(true)
	protos.SetUnencryptedHTTP2(tlsCfg == nil)
	srv.Protocols = &protos
	d.mu.Lock()
	d.addr = ln.Addr()
	select {
	case <-d.ready:
	default:
		close(d.ready)
	}
	d.mu.Unlock()
	d.log.Info("http driver listening", "addr", ln.Addr().String(), "tls", tlsCfg != nil, "routes", len(d.routes))

	done := make(chan error, 1)
	go func() {
		if tlsCfg != nil {
			done <- srv.ServeTLS(ln, "", "")
		} else {
			done <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-done:
		return fmt.Errorf("http driver: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-done
	return nil
}

// Match returns the route of a request's host and path, or false.
func (d *Driver) Match(host, path string) (Route, bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, r := range d.routes {
		switch {
		case r.Host == "":
		case strings.HasPrefix(r.Host, "*."):
			if !strings.HasSuffix(host, r.Host[1:]) {
				continue
			}
		case r.Host != host:
			continue
		}
		if r.Path == "/" || path == r.Path || strings.HasPrefix(path, r.Path+"/") {
			return r, true
		}
	}
	return Route{}, false
}

// ServeHTTP routes a request to its box.
func (d *Driver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, ok := d.Match(r.Host, r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if headerBytes(r) > d.set.MaxHeaderBytes {
		// net/http reads up to MaxHeaderBytes plus 4 KiB of slack; the
		// setting is exact.
		w.Header().Set("Connection", "close")
		http.Error(w, "request header fields too large", http.StatusRequestHeaderFieldsTooLarge)
		return
	}
	if r.ContentLength > d.set.MaxBodyBytes {
		w.Header().Set("Connection", "close")
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, d.set.MaxBodyBytes)
	if rt.Strip && rt.Path != "/" {
		r = stripPrefix(r, rt.Path)
	}
	be, err := d.resolve(rt.Box)
	if err != nil {
		d.log.Warn("http driver: box unavailable", "box", rt.Box, "err", err)
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	err = be.Serve(r.Context(), w, r)
	switch {
	case errors.Is(err, wasihttp.ErrIncomplete):
		d.log.Debug("http driver: response cut short", "box", rt.Box, "path", r.URL.Path, "err", err)
		panic(http.ErrAbortHandler)
	case err != nil:
		d.log.Debug("http driver: request failed", "box", rt.Box, "path", r.URL.Path, "err", err)
	}
}

// stripPrefix returns a shallow copy of r whose path lacks prefix (which
// matched on a segment boundary): /api/x becomes /x, /api becomes /.
func stripPrefix(r *http.Request, prefix string) *http.Request {
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path = strings.TrimPrefix(r.URL.Path, prefix)
	if u.Path == "" {
		u.Path = "/"
	}
	if u.RawPath != "" {
		u.RawPath = strings.TrimPrefix(u.RawPath, prefix)
		if u.RawPath == "" {
			u.RawPath = "/"
		}
		if u.RawPath == u.EscapedPath() && u.RawPath == u.Path {
			u.RawPath = ""
		}
	}
	r2.URL = &u
	r2.RequestURI = u.RequestURI()
	return r2
}

// headerBytes is the size of a request's header section as wasi:http
// counts it: names, values and 4 bytes per field, plus the host.
func headerBytes(r *http.Request) int {
	n := len(r.Host) + 8
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}
