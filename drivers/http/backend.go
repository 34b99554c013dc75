package httpdriver

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/wasi"
	"github.com/wbox-dev/wbox/wasmhost/wasihttp"
)

// ComponentConfig configures a ComponentBackend.
type ComponentConfig struct {
	// WASI is what each instance is granted (a copy per instance).
	WASI wasi.Config
	// HTTP is each instance's wasi:http: its outgoing allow-list and its
	// request limits.
	HTTP wasihttp.Config
	// Reuse serves many requests with one instance. Off by default: a
	// fresh instance serves each request, as wasmtime serve does, because
	// StarlingMonkey's fetch event handler (jco componentize) serves one
	// request per instance.
	Reuse bool
	// Prewarm is how many instances are kept instantiated ahead of
	// requests; 0 means 1, < 0 none.
	Prewarm int
	// MaxInFlight bounds requests running in the box; more get 503 at
	// once. 0 means 64.
	MaxInFlight int
	// CallTimeout bounds each request's call into the guest; 0 means 30s.
	// It stops running guest code only if the component's Runtime is
	// Interruptible.
	CallTimeout time.Duration
}

// ComponentBackend serves requests with a component's
// wasi:http/incoming-handler export, on wasmhost directly (each instance
// with a wasi.Host and a wasihttp.Host of its own).
type ComponentBackend struct {
	c   *wasmhost.Component
	cfg ComponentConfig
	sem chan struct{}

	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	ready  chan *instance // prewarmed instances
	idle   chan *instance // instances kept for reuse

	mu     sync.Mutex
	closed bool
}

// instance is one instance of the component with its hosts.
type instance struct {
	io   *wasi.Host
	http *wasihttp.Host
	inst *wasmhost.Instance
}

func (i *instance) close() {
	i.inst.Close(context.Background())
	i.http.Close()
	i.io.Close()
}

// NewComponentBackend returns a backend serving c. Close it when done; c
// stays the caller's.
func NewComponentBackend(c *wasmhost.Component, cfg ComponentConfig) *ComponentBackend {
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 64
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 30 * time.Second
	}
	if cfg.Prewarm == 0 {
		cfg.Prewarm = 1
	}
	b := &ComponentBackend{c: c, cfg: cfg, sem: make(chan struct{}, cfg.MaxInFlight)}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	if cfg.Reuse {
		b.idle = make(chan *instance, cfg.MaxInFlight)
	}
	if cfg.Prewarm > 0 {
		b.ready = make(chan *instance, cfg.Prewarm)
		b.wg.Add(1)
		go b.prewarm()
	}
	return b
}

// prewarm keeps b.ready full.
func (b *ComponentBackend) prewarm() {
	defer b.wg.Done()
	for {
		i, err := b.instantiate(b.ctx)
		if err != nil {
			if b.ctx.Err() != nil {
				return
			}
			// A component that cannot be instantiated fails every request
			// anyway (instantiated inline); do not spin.
			select {
			case <-b.ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		select {
		case b.ready <- i:
		case <-b.ctx.Done():
			i.close()
			return
		}
	}
}

func (b *ComponentBackend) instantiate(ctx context.Context) (*instance, error) {
	io := wasi.New(b.cfg.WASI)
	h := wasihttp.New(io, b.cfg.HTTP)
	inst, err := b.c.Instantiate(ctx, h.Imports())
	if err != nil {
		h.Close()
		io.Close()
		return nil, err
	}
	return &instance{io: io, http: h, inst: inst}, nil
}

// get returns an instance to serve a request with.
func (b *ComponentBackend) get(ctx context.Context) (*instance, error) {
	select {
	case i := <-b.idle:
		return i, nil
	default:
	}
	select {
	case i := <-b.ready:
		return i, nil
	default:
	}
	return b.instantiate(ctx)
}

// put retires an instance after a request: kept for reuse if it may serve
// again, else closed in the background.
func (b *ComponentBackend) put(i *instance, err error) {
	if b.cfg.Reuse && err == nil && i.inst.Poisoned() == nil {
		b.mu.Lock()
		closed := b.closed
		b.mu.Unlock()
		if !closed {
			select {
			case b.idle <- i:
				return
			default:
			}
		}
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		i.close()
	}()
}

var errClosed = errors.New("http backend: closed")

// Serve implements Backend.
func (b *ComponentBackend) Serve(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	select {
	case b.sem <- struct{}{}:
	default:
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
		return errors.New("http backend: too many requests in flight")
	}
	defer func() { <-b.sem }()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return errClosed
	}
	b.wg.Add(1)
	b.mu.Unlock()
	defer b.wg.Done()

	ctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
	defer cancel()
	i, err := b.get(ctx)
	if err != nil {
		http.Error(w, "the box cannot start", http.StatusInternalServerError)
		return err
	}
	err = i.http.Serve(ctx, i.inst, w, r)
	b.put(i, err)
	return err
}

// Close stops prewarming, closes the idle instances and waits for the
// requests in flight.
func (b *ComponentBackend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	b.cancel()
	b.wg.Wait()
	for _, ch := range []chan *instance{b.ready, b.idle} {
		for ch != nil {
			select {
			case i := <-ch:
				i.close()
				continue
			default:
			}
			break
		}
	}
	return nil
}
