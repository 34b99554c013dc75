package wasihttp

import (
	"context"
	"errors"
	"fmt"
	"github.com/wbox-dev/wbox/wasmhost/internal/reptable"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
	"github.com/wbox-dev/wbox/wasmhost/wasi"
)

// Version is the version the wasi:http interfaces are registered at;
// imports of any 0.2.x are served by it (wasmhost matches by semver).
const Version = "0.2.0"

// Defaults of Config's zero values.
const (
	DefaultMaxRequestBody  = 16 << 20
	DefaultMaxHeaderBytes  = 64 << 10
	DefaultMaxBufferedBody = 1 << 20
)

// Config is what a Host grants its guest and the limits it enforces.
type Config struct {
	// AllowedHosts are the hosts outgoing-handler may send requests to:
	// "example.com" (any port), "example.com:8080", "127.0.0.1:9000",
	// "*.example.com" (its subdomains), or "*" (anything). Every other
	// request fails with error-code HTTP-request-denied. Empty: none.
	AllowedHosts []string
	// Client sends the outgoing requests; nil means a client of the
	// Host's own (closed by Close) that honours request-options. Redirects
	// are never followed: the guest sees them.
	Client *http.Client

	// MaxRequestBody caps the body of an incoming request in bytes. A
	// larger Content-Length is answered with 413 before the guest runs; a
	// longer body fails the guest's stream (http-error-code gives
	// HTTP-request-body-size) and the response is 413. 0 means
	// DefaultMaxRequestBody, < 0 no limit.
	MaxRequestBody int64
	// MaxHeaderBytes caps the header section of an incoming request
	// (names, values and 4 bytes per field, as net/http counts): larger
	// ones are answered with 431 before the guest runs. 0 means
	// DefaultMaxHeaderBytes, < 0 no limit.
	MaxHeaderBytes int
	// MaxBufferedBody caps what the host holds of a body written before it
	// can be sent: a response body written before response-outparam.set, a
	// request body written before outgoing-handler.handle. Writes past it
	// fail. 0 means DefaultMaxBufferedBody.
	MaxBufferedBody int
}

// Host is the wasi:http state of one component instance, beside the
// instance's wasi.Host (whose streams, pollables and errors it uses). Use a
// new Host for every instance and Close it when the instance is gone. Its
// methods are safe for concurrent use, but an instance serves one request
// at a time (see Serve).
type Host struct {
	io        *wasi.Host
	cfg       Config
	client    *http.Client
	transport *http.Transport // ours, or nil
	allow     []string

	ctx    context.Context // ends with Close: outgoing requests stop
	cancel context.CancelFunc
	wg     sync.WaitGroup // outgoing requests and body drains

	mu        sync.Mutex
	closed    bool
	rts       resourceTypes
	fields    table[*fieldsRef]
	inReqs    table[*incomingRequest]
	outReqs   table[*outgoingRequest]
	options   table[*requestOptions]
	outparams table[*responseOutparam]
	inResps   table[*incomingResponse]
	inBodies  table[*incomingBody]
	trailers  table[*futureTrailers]
	outResps  table[*outgoingResponse]
	outBodies table[*outgoingBody]
	futures   table[*futureResponse]
	pending   map[*outgoingCall]bool // outgoing requests in flight

	// funcs and dtors are what the last Register defined, for tests.
	funcs map[string]*boundFunc
	dtors map[string]wasmhost.ResourceDtor
}

type resourceTypes struct {
	fields, inReq, outReq, options, outparam, inResp, inBody, trailers, outResp, outBody, future *value.ResourceType
	input, output, pollable, ioError                                                             *value.ResourceType
}

// New returns a Host serving wasi:http beside io, the instance's WASI host.
func New(io *wasi.Host, cfg Config) *Host {
	if cfg.MaxRequestBody == 0 {
		cfg.MaxRequestBody = DefaultMaxRequestBody
	}
	if cfg.MaxHeaderBytes == 0 {
		cfg.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if cfg.MaxBufferedBody <= 0 {
		cfg.MaxBufferedBody = DefaultMaxBufferedBody
	}
	h := &Host{io: io, cfg: cfg, pending: map[*outgoingCall]bool{}}
	for _, a := range cfg.AllowedHosts {
		h.allow = append(h.allow, strings.ToLower(strings.TrimSpace(a)))
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.client = cfg.Client
	if h.client == nil {
		h.transport = newTransport()
		h.client = &http.Client{Transport: h.transport}
	}
	// The guest sees redirects: following them could leave the allow-list.
	c := *h.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	h.client = &c
	return h
}

// connectTimeoutKey carries request-options' connect-timeout to the dialer.
type connectTimeoutKey struct{}

func newTransport() *http.Transport {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil // a box's requests go where the allow-list says
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if d, ok := ctx.Value(connectTimeoutKey{}).(time.Duration); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeoutCause(ctx, d, errConnectTimeout)
			defer cancel()
			c, err := (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext(ctx, network, addr)
			if err != nil && context.Cause(ctx) == errConnectTimeout {
				err = fmt.Errorf("%w: %w", errConnectTimeout, err)
			}
			return c, err
		}
		return d.DialContext(ctx, network, addr)
	}
	return t
}

// Imports returns the WASI host's Imports (io.Imports()) with wasi:http
// registered too: what a proxy component needs.
func (h *Host) Imports() *wasmhost.Imports {
	im := h.io.Imports()
	h.Register(im)
	return im
}

// Register adds wasi:http/types and wasi:http/outgoing-handler, at Version,
// to im, which must be the Imports the Host's wasi.Host returned last: the
// bodies and futures are its streams and pollables.
func (h *Host) Register(im *wasmhost.Imports) {
	b := &binding{h: h, im: im, funcs: map[string]*boundFunc{}, dtors: map[string]wasmhost.ResourceDtor{}}
	b.types = im.Instance("wasi:http/types@" + Version)
	rts := resourceTypes{
		input:    h.io.ResourceType("input-stream"),
		output:   h.io.ResourceType("output-stream"),
		pollable: h.io.ResourceType("pollable"),
		ioError:  h.io.ResourceType("error"),
	}
	b.types.AliasResource("input-stream", rts.input).AliasResource("output-stream", rts.output).
		AliasResource("pollable", rts.pollable).AliasResource("io-error", rts.ioError)
	rts.fields = b.resource("fields", dropper(h, &h.fields, nil))
	rts.inReq = b.resource("incoming-request", dropper(h, &h.inReqs, nil))
	rts.outReq = b.resource("outgoing-request", dropper(h, &h.outReqs, (*outgoingRequest).drop))
	rts.options = b.resource("request-options", dropper(h, &h.options, nil))
	rts.outparam = b.resource("response-outparam", dropper(h, &h.outparams, nil))
	rts.inResp = b.resource("incoming-response", dropper(h, &h.inResps, (*incomingResponse).drop))
	rts.inBody = b.resource("incoming-body", dropper(h, &h.inBodies, (*incomingBody).drop))
	rts.trailers = b.resource("future-trailers", dropper(h, &h.trailers, (*futureTrailers).drop))
	rts.outResp = b.resource("outgoing-response", dropper(h, &h.outResps, nil))
	rts.outBody = b.resource("outgoing-body", dropper(h, &h.outBodies, (*outgoingBody).drop))
	rts.future = b.resource("future-incoming-response", dropper(h, &h.futures, (*futureResponse).drop))
	b.fieldsRT = rts.fields
	h.mu.Lock()
	h.rts = rts
	h.mu.Unlock()
	b.rts = rts
	b.registerFields()
	b.registerErrors()
	b.registerIncoming()
	b.registerOutgoing()
	h.mu.Lock()
	h.funcs, h.dtors = b.funcs, b.dtors
	h.mu.Unlock()
}

// Close ends the outgoing requests in flight, closes the bodies the guest
// still holds and frees every resource. Later calls of the guest into
// wasi:http fail.
func (h *Host) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	var bodies []*bodySource
	for _, b := range h.inBodies.All() {
		bodies = append(bodies, b.src)
	}
	for _, r := range h.inResps.All() {
		bodies = append(bodies, r.body)
	}
	for _, t := range h.trailers.All() {
		bodies = append(bodies, t.body)
	}
	var outs []*outgoingBody
	for _, o := range h.outBodies.All() {
		outs = append(outs, o)
	}
	var calls []*outgoingCall
	for c := range h.pending {
		calls = append(calls, c)
	}
	h.pending = map[*outgoingCall]bool{}
	h.fields.Reset()
	h.inReqs.Reset()
	h.outReqs.Reset()
	h.options.Reset()
	h.outparams.Reset()
	h.inResps.Reset()
	h.inBodies.Reset()
	h.trailers.Reset()
	h.outResps.Reset()
	h.outBodies.Reset()
	h.futures.Reset()
	h.mu.Unlock()
	h.cancel()
	for _, o := range outs {
		o.abort(errHostClosed)
	}
	for _, b := range bodies {
		b.close()
	}
	h.wg.Wait()
	for _, c := range calls {
		c.mu.Lock()
		c.abandoned = true
		if c.resp != nil {
			c.resp.Body.Close()
		}
		c.mu.Unlock()
	}
	if h.transport != nil {
		h.transport.CloseIdleConnections()
	}
	return nil
}

// binding is one registration of a Host into an Imports.
type binding struct {
	h        *Host
	im       *wasmhost.Imports
	types    *wasmhost.HostInstance
	rts      resourceTypes
	fieldsRT *value.ResourceType
	funcs    map[string]*boundFunc
	dtors    map[string]wasmhost.ResourceDtor
}

type boundFunc struct {
	typ *value.FuncType
	fn  wasmhost.HostFunc
}

// def registers a typed function of hi.
func (b *binding) def(hi *wasmhost.HostInstance, name string, typ *value.FuncType, fn wasmhost.HostFunc) {
	hi.TypedFunc(name, typ, fn)
	iface, _, _ := strings.Cut(strings.TrimPrefix(hiName(hi, b), "wasi:http/"), "@")
	b.funcs[iface+"#"+name] = &boundFunc{typ: typ, fn: fn}
}

func hiName(hi *wasmhost.HostInstance, b *binding) string {
	if hi == b.types {
		return "wasi:http/types"
	}
	return "wasi:http/outgoing-handler"
}

// resource defines a resource type of wasi:http/types.
func (b *binding) resource(name string, dtor wasmhost.ResourceDtor) *value.ResourceType {
	rt := b.types.Resource(name, dtor)
	b.dtors[name] = dtor
	return rt
}

var errClosed = errors.New("wasi:http: host is closed")

// table maps the reps of one resource type to Go objects. It is guarded
// by the Host's mutex.
type table[T any] = reptable.Table[T]

// lookup finds the object behind a handle argument.
func lookup[T any](h *Host, t *table[T], what string, arg any) (T, error) {
	var zero T
	hd, ok := arg.(value.Handle)
	if !ok {
		return zero, fmt.Errorf("wasi:http: %s handle is a %T", what, arg)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return zero, errClosed
	}
	v, ok := t.Get(hd.Rep)
	if !ok {
		return zero, fmt.Errorf("wasi:http: unknown %s %d", what, hd.Rep)
	}
	return v, nil
}

// take removes the object behind an own handle the guest moved to the host.
func take[T any](h *Host, t *table[T], what string, arg any) (T, error) {
	v, err := lookup(h, t, what, arg)
	if err != nil {
		return v, err
	}
	h.mu.Lock()
	t.Remove(arg.(value.Handle).Rep)
	h.mu.Unlock()
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
func dropper[T any](h *Host, t *table[T], drop func(T)) wasmhost.ResourceDtor {
	return func(_ context.Context, rep uint32) {
		h.mu.Lock()
		v, ok := t.Remove(rep)
		h.mu.Unlock()
		if ok && drop != nil {
			drop(v)
		}
	}
}

// allowed reports whether the allow-list lets the guest reach authority
// ("host" or "host:port").
func (h *Host) allowed(authority string) bool {
	authority = strings.ToLower(authority)
	host := authority
	if hh, _, err := net.SplitHostPort(authority); err == nil {
		host = hh
	}
	host = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(host, "]"), "["), ".")
	for _, a := range h.allow {
		switch {
		case a == "*":
			return true
		case a == authority || a == host:
			return true
		case strings.HasPrefix(a, "*.") && strings.HasSuffix(host, a[1:]):
			return true
		}
	}
	return false
}

func sortedKeys(h http.Header) []string {
	ks := make([]string, 0, len(h))
	for k := range h {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
