package kernel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wbox-dev/wbox/internal/semver"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
	"github.com/wbox-dev/wbox/wasmhost/wasihttp"
)

// ErrHandler: the box's HTTP handler returned without a usable response
// (it set none, or the host could not serve it); the client got 500.
var ErrHandler = errors.New("the HTTP handler failed")

// handlerBase is the interface a box exports to serve HTTP.
const handlerBase = "wasi:http/incoming-handler"

// httpHandlerFunc returns the "iface#handle" name of the component's
// wasi:http/incoming-handler 0.2.x export, or "".
func httpHandlerFunc(w *wasmhost.World) string {
	for _, e := range w.Exports {
		if e.Kind != wasmhost.ExternInstance {
			continue
		}
		base, v, ok := semver.Split(e.Name)
		if ok && base == handlerBase && v.Major == 0 && v.Minor == 2 && v.Pre == "" {
			return e.Name + "#handle"
		}
	}
	return ""
}

// httpCall is an HTTP request a worker serves with the instance's
// wasi:http host: the request's resources are created in the instance that
// runs the handler, which is why it is not a call with Go values.
type httpCall struct {
	w http.ResponseWriter
	r *http.Request
	// ran: a worker took the request and wrote the response (the guest's,
	// or the error status wasihttp writes for a guest that failed).
	ran atomic.Bool
	// incomplete: the response was cut short (wasihttp.ErrIncomplete).
	incomplete atomic.Bool
	// reading counts reads of the request body waiting for the client;
	// stalled records that one was when the call timeout expired: the
	// client is to blame, not the box (it is not failed, only its
	// instance replaced).
	reading atomic.Int32
	stalled atomic.Bool
}

// stallBody is a request body that tells its httpCall when a read waits
// for the client.
type stallBody struct {
	io.ReadCloser
	hc *httpCall
}

func (b stallBody) Read(p []byte) (int, error) {
	b.hc.reading.Add(1)
	defer b.hc.reading.Add(-1)
	return b.ReadCloser.Read(p)
}

// States of a request carrying an httpCall: a worker may touch the
// ResponseWriter only after moving it from queued to running, and a caller
// that gives up moves it from queued to abandoned; a caller whose request
// is running waits for its reply, because the ResponseWriter must not be
// used after ServeHTTP returns.
const (
	reqQueued int32 = iota
	reqRunning
	reqAbandoned
)

// ServeHTTP serves an HTTP request with the box's
// wasi:http/incoming-handler 0.2.x export. It is a call into the box like
// any other: it waits in the box's FIFO queue, counts against its
// MaxInFlight, runs under its CallTimeout and supervision, is part of the
// call chain in ctx and is counted in its Counters; the request's
// resources are created in the instance that runs it, with its
// wasi:http host.
//
// A request whose body the client had not sent when the call timeout
// expired fails with ErrCancelled (the client's fault): its instance is
// replaced, the box is not failed, so a slow client cannot make a box
// restart.
//
// ServeHTTP always answers w: with the guest's response, or with an error
// status when the call failed (503 when the box is overloaded,
// unavailable, stopping or missing; 500 when its handler trapped, ran out
// of time or set no response; a trap or timeout also fails the box, which
// the supervisor restarts). It returns the call's error (a *TaskError),
// joined with wasihttp.ErrIncomplete when the response was cut short
// after it was committed (the caller should abort the connection). The
// caller limits the request: the kernel adds no header or body limits of
// its own. w is not used after ServeHTTP returns.
func (k *Kernel) ServeHTTP(ctx context.Context, box string, w http.ResponseWriter, r *http.Request) error {
	var err error
	switch t := k.routes.Load().tasks[box].(type) {
	case *boxTask:
		lf := &lazyFlusher{ResponseWriter: w}
		hc := &httpCall{w: lf, r: r}
		if r.Body == nil { // a client request (server requests always have one)
			r.Body = http.NoBody
			defer func() { r.Body = nil }()
		}
		if r.Body != http.NoBody {
			body := r.Body
			r.Body = stallBody{ReadCloser: body, hc: hc}
			defer func() { r.Body = body }()
		}
		defer lf.finish()                  // before r.Body is restored: a delayed flush reads it
		err = t.serveHTTPObserved(ctx, hc) // metrics.go
		if hc.ran.Load() {
			if hc.incomplete.Load() {
				err = errors.Join(wasihttp.ErrIncomplete, err)
			}
			return err
		}
	case nil:
		kind := ErrNoTask
		if k.closed.Load() {
			kind = ErrClosed
		}
		err = &TaskError{Task: box, Func: handlerBase + "#handle", Kind: kind}
	default:
		err = &TaskError{Task: box, Func: handlerBase + "#handle", Kind: ErrNoFunc, detail: "it is a driver; only boxes serve HTTP"}
	}
	writeCallError(w, err)
	return err
}

// writeCallError answers a request whose call never reached the guest.
func writeCallError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrOverloaded):
		code = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrStopped), errors.Is(err, ErrTaskFailed),
		errors.Is(err, ErrClosed), errors.Is(err, ErrNoTask), errors.Is(err, ErrCancelled):
		code = http.StatusServiceUnavailable
	case errors.Is(err, ErrReentrant):
		code = http.StatusLoopDetected
	}
	http.Error(w, http.StatusText(code), code)
}

// serveHTTP queues the request into the box, passing it on to the box's
// successor if a deploy retired these instances before they ran it.
func (b *boxTask) serveHTTP(ctx context.Context, hc *httpCall) error {
	b.callsIn.Add(1)
	fn := b.httpFn
	if fn == "" {
		b.errors.Add(1)
		return &TaskError{Task: b.name, Func: handlerBase + "#handle", Kind: ErrNoFunc, detail: "the box exports no wasi:http/incoming-handler@0.2.x"}
	}
	_, err := b.call1(ctx, fn, nil, hc)
	for range 3 {
		if err != errRetired {
			break
		}
		if nb, ok := b.k.routes.Load().tasks[b.name].(*boxTask); ok && nb != b {
			return nb.serveHTTP(ctx, hc)
		}
		_, err = b.call1(ctx, fn, nil, hc)
	}
	if err == errRetired {
		err = &TaskError{Task: b.name, Func: fn, Kind: ErrStopped, detail: "stopped by a deploy"}
	}
	if err != nil {
		b.errors.Add(1)
	}
	return err
}

// serveHTTP runs the request on the worker's instance through its
// wasi:http host, which writes the response (the guest's, or an error
// status for a guest that set none). It returns the guest's error, without
// wasihttp.ErrIncomplete (recorded in hc instead).
func (w *worker) serveHTTP(ctx context.Context, f *wasmhost.Func, hc *httpCall) (err error, panicked bool) {
	hc.ran.Store(true)
	h := w.hosts.http
	if h == nil {
		// A handler's parameters are wasi:http/types resources, so its
		// component imports wasi:http/types and has a host; never here.
		http.Error(hc.w, "the box has no wasi:http host", http.StatusInternalServerError)
		return errors.New("the instance has no wasi:http host"), false
	}
	defer func() {
		if r := recover(); r != nil {
			err, panicked = fmt.Errorf("wasmhost panicked: %v", r), true
		}
	}()
	err = h.ServeWith(ctx, hc.w, hc.r, func(ctx context.Context, req, out value.Handle) error {
		_, err := f.Call(ctx, req, out)
		return err
	})
	if errors.Is(err, wasihttp.ErrIncomplete) {
		hc.incomplete.Store(true)
		err = withoutIncomplete(err)
	}
	return err, false
}

// withoutIncomplete removes wasihttp.ErrIncomplete from err (it is alone,
// or joined with the guest's error).
func withoutIncomplete(err error) error {
	if err == wasihttp.ErrIncomplete {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return err
	}
	var rest []error
	for _, e := range j.Unwrap() {
		if e != wasihttp.ErrIncomplete {
			rest = append(rest, e)
		}
	}
	return errors.Join(rest...)
}

// flushDelay is how long a guest's flush of its response may wait for the
// end of its handler, which flushes anyway.
const flushDelay = time.Millisecond

// lazyFlusher delays the flushes a guest asks for (blocking-write-and-flush
// after every write is the usual way to write a body) by up to flushDelay:
// a handler that finishes meanwhile sends its whole response in one write
// instead of one per flush, and a streaming one is still flushed within
// flushDelay. A timer flushes from another goroutine, so every use of the
// ResponseWriter goes through mu, and once the response is committed the
// guest's side sees a header map of its own (trailers), merged into the
// real one by finish: a delayed flush that writes the status line reads
// the real map, which nothing else touches meanwhile.
type lazyFlusher struct {
	http.ResponseWriter
	mu        sync.Mutex
	committed bool
	late      http.Header // header changes after the commit (trailers)
	pending   bool
	done      bool
	t         *time.Timer
}

func (f *lazyFlusher) Header() http.Header {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.committed {
		return f.ResponseWriter.Header()
	}
	if f.late == nil {
		f.late = http.Header{}
	}
	return f.late
}

func (f *lazyFlusher) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.committed = true
	return f.ResponseWriter.Write(p)
}

func (f *lazyFlusher) WriteHeader(code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if code >= 200 {
		f.committed = true
	}
	f.ResponseWriter.WriteHeader(code)
}

// FlushError is what http.ResponseController.Flush calls.
func (f *lazyFlusher) FlushError() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done || f.pending {
		return nil
	}
	f.pending = true
	if f.t == nil {
		f.t = time.AfterFunc(flushDelay, f.flushNow)
	} else {
		f.t.Reset(flushDelay)
	}
	return nil
}

func (f *lazyFlusher) Flush() { f.FlushError() }

func (f *lazyFlusher) flushNow() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done || !f.pending {
		return
	}
	f.pending = false
	http.NewResponseController(f.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the real writer (deadlines).
func (f *lazyFlusher) Unwrap() http.ResponseWriter { return f.ResponseWriter }

// finish ends the delayed flushing (the server flushes the rest when the
// handler returns; no flush runs after finish) and hands the header
// changes made after the commit (trailers) to the real writer.
func (f *lazyFlusher) finish() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done = true
	if f.t != nil {
		f.t.Stop()
	}
	if len(f.late) > 0 {
		h := f.ResponseWriter.Header()
		for k, vs := range f.late {
			h[k] = vs
		}
	}
}
