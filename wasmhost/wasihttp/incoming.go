package wasihttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// HandlerExport is the interface a component serving HTTP exports; any
// 0.2.x matches.
const HandlerExport = "wasi:http/incoming-handler@" + Version

// ErrIncomplete is what Serve returns when the response was sent but its
// body was cut short (the guest dropped it unfinished, or trapped while
// writing it): the client must see a broken response, so an http.Handler
// panics with http.ErrAbortHandler (Handler does).
var ErrIncomplete = errors.New("wasi:http: the response body is incomplete")

// incomingRequest is an incoming-request resource.
type incomingRequest struct {
	method        value.Variant
	pathWithQuery value.Variant
	scheme        value.Variant
	authority     value.Variant
	headers       *fieldList
	body          *bodySource
	consumed      bool
}

// responseOutparam is a response-outparam resource.
type responseOutparam struct{ ex *exchange }

// outgoingResponse is an outgoing-response resource.
type outgoingResponse struct {
	status    uint16
	headers   *fieldList
	bodyTaken bool
	sink      *responseSink
}

// exchange is one request being served: the ResponseWriter the guest's
// response goes to.
type exchange struct {
	h  *Host
	w  http.ResponseWriter
	r  *http.Request
	rc *http.ResponseController

	mu        sync.Mutex
	over      bool // ServeWith returned: w is off limits
	set       bool // response-outparam.set was called
	committed bool // the status line is written
	discard   bool // the guest's body goes nowhere (replaced by a 413)
	tooLarge  bool // the request body passed MaxRequestBody
	resp      *outgoingResponse
	finished  bool // the response body was finished
	aborted   bool // ... or cut short
}

var errExchangeOver = fmt.Errorf("wasi:http: the response is over: %w", errBodyClosed)

func methodValue(m string) value.Variant {
	for i, n := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"} {
		if m == n {
			return value.Variant{Case: uint32(i)}
		}
	}
	return value.Variant{Case: 9, Value: m}
}

func methodString(v value.Variant) string {
	if v.Case == 9 {
		s, _ := v.Value.(string)
		return s
	}
	return []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}[v.Case]
}

// Handler returns an http.Handler serving every request with inst, one at
// a time (an instance is single-threaded). A response cut short aborts the
// connection (http.ErrAbortHandler).
func (h *Host) Handler(inst *wasmhost.Instance) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		err := h.Serve(r.Context(), inst, w, r)
		mu.Unlock()
		if errors.Is(err, ErrIncomplete) {
			panic(http.ErrAbortHandler)
		}
	})
}

// Serve serves r with inst, which must have been instantiated with the
// Host's Imports: it calls the instance's
// wasi:http/incoming-handler@0.2.x#handle with a new incoming-request and
// response-outparam and streams the response it sets to w. The instance
// must not be called by anything else meanwhile.
//
// Requests over the Config limits are answered (413, 431) without calling
// the guest. If the guest sets no response, or traps before it does, the
// answer is 500 (502, 504, ... for an error-code it sets). It returns the
// call's error, or ErrIncomplete when the response body was cut short.
func (h *Host) Serve(ctx context.Context, inst *wasmhost.Instance, w http.ResponseWriter, r *http.Request) error {
	f, err := inst.Func(HandlerExport + "#handle")
	if err != nil {
		http.Error(w, "the component serves no HTTP", http.StatusInternalServerError)
		return err
	}
	return h.ServeWith(ctx, w, r, func(ctx context.Context, req, out value.Handle) error {
		_, err := f.Call(ctx, req, out)
		return err
	})
}

// ServeWith is Serve with the call into the guest made by call, which gets
// the two own handles for incoming-handler.handle (the seam for a caller
// that owns the instance, such as a kernel worker). call must return only
// once the guest's handle returned.
func (h *Host) ServeWith(ctx context.Context, w http.ResponseWriter, r *http.Request,
	call func(ctx context.Context, request, responseOut value.Handle) error) error {
	if max := h.cfg.MaxHeaderBytes; max > 0 {
		n := len(r.Host) + 8
		for k, vs := range r.Header {
			for _, v := range vs {
				n += len(k) + len(v) + 4
			}
		}
		if n > max {
			w.Header().Set("Connection", "close")
			http.Error(w, "request header fields too large", http.StatusRequestHeaderFieldsTooLarge)
			return nil
		}
	}
	body := r.Body
	if max := h.cfg.MaxRequestBody; max >= 0 {
		if r.ContentLength > max {
			w.Header().Set("Connection", "close")
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return nil
		}
		body = http.MaxBytesReader(w, r.Body, max)
	}
	ex := &exchange{h: h, w: w, r: r, rc: http.NewResponseController(w)}

	// A read of the body or a write of the response blocked on the client
	// ends with ctx (the guest's call deadline, the client gone).
	unblock := func() { ex.rc.SetReadDeadline(time.Now()) }
	// The ResponseWriter is off limits once ServeWith returns (HTTP/2
	// reuses it): a deadline being set when ctx ends is waited for.
	unblocked := make(chan struct{})
	stopAfter := context.AfterFunc(ctx, func() {
		defer close(unblocked)
		unblock()
		ex.rc.SetWriteDeadline(time.Now())
	})
	defer func() {
		if !stopAfter() { // it had started
			<-unblocked
		}
	}()

	src := newBodySource(h, body, func() http.Header { return r.Trailer }, ex.bodyErr)
	src.stop = unblock
	ir := &incomingRequest{
		method:        methodValue(r.Method),
		pathWithQuery: value.Some(r.URL.RequestURI()),
		scheme:        value.Some(value.Variant{Case: 0}),
		authority:     value.None(),
		headers:       fromHeader(r.Header),
		body:          src,
	}
	if r.TLS != nil {
		ir.scheme = value.Some(value.Variant{Case: 1})
	}
	if r.Host != "" {
		ir.authority = value.Some(r.Host)
		if !ir.headers.has("host") {
			ir.headers.entries = append([]field{{"host", []byte(r.Host)}}, ir.headers.entries...)
		}
	}
	h.mu.Lock()
	rts := h.rts
	h.mu.Unlock()
	reqH, err := insert(h, &h.inReqs, rts.inReq, ir)
	if err != nil {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return err
	}
	outH, err := insert(h, &h.outparams, rts.outparam, &responseOutparam{ex: ex})
	if err != nil {
		dropper(h, &h.inReqs, nil)(ctx, reqH.Rep)
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return err
	}

	callErr := call(ctx, reqH, outH)

	// Whatever the guest still holds of this request is cut off from w.
	src.close()
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.over = true
	switch {
	case !ex.committed && ex.tooLarge:
		ex.writeStatus(http.StatusRequestEntityTooLarge, "request body too large")
	case !ex.committed:
		ex.writeStatus(http.StatusInternalServerError, "the component set no response")
		if callErr == nil {
			callErr = errors.New("wasi:http: the guest returned from handle without setting a response")
		}
	case ex.aborted, ex.resp != nil && ex.resp.bodyTaken && !ex.finished:
		if callErr != nil {
			return errors.Join(ErrIncomplete, callErr)
		}
		return ErrIncomplete
	}
	return callErr
}

// writeStatus answers with a plain-text status (ex.mu held, not committed).
func (ex *exchange) writeStatus(code int, msg string) {
	ex.committed = true
	ex.discard = true
	hdr := ex.w.Header()
	for k := range hdr {
		delete(hdr, k)
	}
	if code == http.StatusRequestEntityTooLarge {
		hdr.Set("Connection", "close")
	}
	http.Error(ex.w, msg, code)
}

// bodyErr is the request body's read error as the guest sees it.
func (ex *exchange) bodyErr(err error) error {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		ex.mu.Lock()
		ex.tooLarge = true
		ex.mu.Unlock()
		return &codeError{code: newCode(ecHTTPRequestBodySize, value.None()), err: err}
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return &codeError{code: newCode(ecConnectionReadTimeout, nil), err: err}
	}
	return &codeError{code: newCode(ecConnectionTerminated, nil), err: err}
}

// respond is response-outparam.set(ok(resp)).
func (ex *exchange) respond(resp *outgoingResponse) {
	ex.mu.Lock()
	if ex.over || ex.set {
		ex.mu.Unlock()
		resp.sink.attach(nil)
		return
	}
	ex.set, ex.resp = true, resp
	if ex.tooLarge {
		ex.writeStatus(http.StatusRequestEntityTooLarge, "request body too large")
	} else {
		hdr := ex.w.Header()
		for k := range hdr {
			delete(hdr, k)
		}
		for _, f := range resp.headers.entries {
			hdr.Add(f.name, string(f.value))
		}
		ex.w.WriteHeader(int(resp.status))
		ex.committed = true
	}
	ex.mu.Unlock()
	resp.sink.attach(ex)
}

// fail is response-outparam.set(err(code)).
func (ex *exchange) fail(code value.Variant) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.over || ex.set {
		return
	}
	ex.set = true
	if ex.tooLarge {
		ex.writeStatus(http.StatusRequestEntityTooLarge, "request body too large")
		return
	}
	ex.writeStatus(statusFor(code), http.StatusText(statusFor(code))+": "+codeString(code))
}

func (ex *exchange) write(p []byte) error {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	switch {
	case ex.over:
		return errExchangeOver
	case ex.discard:
		return nil
	}
	_, err := ex.w.Write(p)
	if errors.Is(err, http.ErrBodyNotAllowed) {
		return nil // a 204 or 304: the body goes nowhere
	}
	if err != nil {
		return &codeError{code: newCode(ecConnectionTerminated, nil), err: err}
	}
	return nil
}

func (ex *exchange) flush() error {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.over || ex.discard {
		return nil
	}
	if err := ex.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return &codeError{code: newCode(ecConnectionTerminated, nil), err: err}
	}
	return nil
}

func (ex *exchange) finish(trailers *fieldList) error {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.over {
		return errExchangeOver
	}
	ex.finished = true
	if trailers != nil && !ex.discard {
		hdr := ex.w.Header()
		for _, f := range trailers.entries {
			hdr.Add(http.TrailerPrefix+f.name, string(f.value))
		}
	}
	return nil
}

func (ex *exchange) abort() {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if !ex.over && !ex.discard {
		ex.aborted = true
	}
}

// responseSink is the sink of an outgoing-response's body: buffered until
// the response is set, then the exchange.
type responseSink struct {
	max int

	mu       sync.Mutex
	attached bool
	ex       *exchange // nil: not set, or set to nowhere
	buf      []byte
	finished bool
	trailers *fieldList
	aborted  bool
}

func (s *responseSink) write(p []byte) error {
	s.mu.Lock()
	if !s.attached {
		defer s.mu.Unlock()
		if len(s.buf)+len(p) > s.max {
			return &codeError{code: internalError("response body written before response-outparam.set is too long"),
				err: fmt.Errorf("more than %d bytes buffered", s.max)}
		}
		s.buf = append(s.buf, p...)
		return nil
	}
	ex := s.ex
	s.mu.Unlock()
	if ex == nil {
		return errExchangeOver
	}
	return ex.write(p)
}

func (s *responseSink) flush() error {
	s.mu.Lock()
	ex := s.ex
	s.mu.Unlock()
	if ex == nil {
		return nil
	}
	return ex.flush()
}

func (s *responseSink) finish(trailers *fieldList) error {
	s.mu.Lock()
	s.finished, s.trailers = true, trailers
	ex, attached := s.ex, s.attached
	s.mu.Unlock()
	if !attached || ex == nil {
		return nil
	}
	return ex.finish(trailers)
}

// bodiless is known once the response is set: a body finished before
// that is held to its Content-Length.
func (s *responseSink) bodiless() bool {
	s.mu.Lock()
	ex := s.ex
	s.mu.Unlock()
	if ex == nil {
		return false
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.r.Method == http.MethodHead {
		return true
	}
	return ex.resp != nil && (ex.resp.status == http.StatusNoContent || ex.resp.status == http.StatusNotModified)
}

func (s *responseSink) abort(error) {
	s.mu.Lock()
	s.aborted = true
	ex := s.ex
	s.mu.Unlock()
	if ex != nil {
		ex.abort()
	}
}

// attach sends the response's body to ex (nil: nowhere), with what was
// written, finished or aborted before.
func (s *responseSink) attach(ex *exchange) {
	s.mu.Lock()
	if s.attached {
		s.mu.Unlock()
		return
	}
	s.attached, s.ex = true, ex
	buf, fin, tr, ab := s.buf, s.finished, s.trailers, s.aborted
	s.buf = nil
	s.mu.Unlock()
	if ex == nil {
		return
	}
	if len(buf) > 0 {
		if err := ex.write(buf); err != nil {
			ex.abort()
			return
		}
	}
	switch {
	case ab:
		ex.abort()
	case fin:
		ex.finish(tr)
	}
}

func (b *binding) registerIncoming() {
	h := b.h
	ti := b.types
	rts := b.rts
	req := func(arg any) (*incomingRequest, error) { return lookup(h, &h.inReqs, "incoming-request", arg) }

	// incoming-request
	b.def(ti, methodName("incoming-request", "method"), method(rts.inReq, methodT),
		func(ctx context.Context, args []any) ([]any, error) {
			r, err := req(args[0])
			if err != nil {
				return nil, err
			}
			return one(r.method), nil
		})
	b.def(ti, methodName("incoming-request", "path-with-query"), method(rts.inReq, value.OptionOf(stringT)),
		func(ctx context.Context, args []any) ([]any, error) {
			r, err := req(args[0])
			if err != nil {
				return nil, err
			}
			return one(r.pathWithQuery), nil
		})
	b.def(ti, methodName("incoming-request", "scheme"), method(rts.inReq, value.OptionOf(schemeT)),
		func(ctx context.Context, args []any) ([]any, error) {
			r, err := req(args[0])
			if err != nil {
				return nil, err
			}
			return one(r.scheme), nil
		})
	b.def(ti, methodName("incoming-request", "authority"), method(rts.inReq, value.OptionOf(stringT)),
		func(ctx context.Context, args []any) ([]any, error) {
			r, err := req(args[0])
			if err != nil {
				return nil, err
			}
			return one(r.authority), nil
		})
	b.def(ti, methodName("incoming-request", "headers"), method(rts.inReq, value.Own(rts.fields)),
		func(ctx context.Context, args []any) ([]any, error) {
			r, err := req(args[0])
			if err != nil {
				return nil, err
			}
			hd, err := h.newFields(r.headers, true)
			return one(hd), err
		})
	b.def(ti, methodName("incoming-request", "consume"), method(rts.inReq, value.ResultOf(value.Own(rts.inBody), nil)),
		func(ctx context.Context, args []any) ([]any, error) {
			r, err := req(args[0])
			if err != nil {
				return nil, err
			}
			if r.consumed {
				return errRes(nil), nil
			}
			r.consumed = true
			hd, err := insert(h, &h.inBodies, rts.inBody, &incomingBody{src: r.body})
			if err != nil {
				return nil, err
			}
			return okRes(hd), nil
		})

	// response-outparam
	b.def(ti, staticName("response-outparam", "set"),
		fn(nil, "param", value.Own(rts.outparam), "response", value.ResultOf(value.Own(rts.outResp), errorCodeT)),
		func(ctx context.Context, args []any) ([]any, error) {
			op, err := take(h, &h.outparams, "response-outparam", args[0])
			if err != nil {
				return nil, err
			}
			res := args[1].(value.Variant)
			if res.Case == 1 {
				op.ex.fail(res.Value.(value.Variant))
				return nil, nil
			}
			resp, err := take(h, &h.outResps, "outgoing-response", res.Value)
			if err != nil {
				return nil, err
			}
			op.ex.respond(resp)
			return nil, nil
		})
	b.def(ti, methodName("response-outparam", "send-informational"),
		method(rts.outparam, value.ResultOf(nil, errorCodeT), "status", u16T, "headers", value.Own(rts.fields)),
		func(ctx context.Context, args []any) ([]any, error) {
			op, err := lookup(h, &h.outparams, "response-outparam", args[0])
			if err != nil {
				return nil, err
			}
			fields, err := h.takeFields(args[2])
			if err != nil {
				return nil, err
			}
			status := args[1].(uint16)
			if status < 100 || status > 199 || status == 101 {
				return errRes(newCode(ecHTTPProtocolError, nil)), nil
			}
			return op.ex.informational(int(status), fields), nil
		})

	// outgoing-response
	b.def(ti, ctorName("outgoing-response"), fn(value.Own(rts.outResp), "headers", value.Own(rts.fields)),
		func(ctx context.Context, args []any) ([]any, error) {
			l, err := h.takeFields(args[0])
			if err != nil {
				return nil, err
			}
			r := &outgoingResponse{status: 200, headers: l, sink: &responseSink{max: h.cfg.MaxBufferedBody}}
			hd, err := insert(h, &h.outResps, rts.outResp, r)
			return one(hd), err
		})
	resp := func(arg any) (*outgoingResponse, error) { return lookup(h, &h.outResps, "outgoing-response", arg) }
	b.def(ti, methodName("outgoing-response", "status-code"), method(rts.outResp, u16T),
		func(ctx context.Context, args []any) ([]any, error) {
			r, err := resp(args[0])
			if err != nil {
				return nil, err
			}
			return one(r.status), nil
		})
	b.def(ti, methodName("outgoing-response", "set-status-code"), method(rts.outResp, value.ResultOf(nil, nil), "status-code", u16T),
		func(ctx context.Context, args []any) ([]any, error) {
			r, err := resp(args[0])
			if err != nil {
				return nil, err
			}
			s := args[1].(uint16)
			if s < 200 || s > 999 {
				return errRes(nil), nil
			}
			r.status = s
			return okRes(nil), nil
		})
	b.def(ti, methodName("outgoing-response", "headers"), method(rts.outResp, value.Own(rts.fields)),
		func(ctx context.Context, args []any) ([]any, error) {
			r, err := resp(args[0])
			if err != nil {
				return nil, err
			}
			hd, err := h.newFields(r.headers, true)
			return one(hd), err
		})
	b.def(ti, methodName("outgoing-response", "body"), method(rts.outResp, value.ResultOf(value.Own(rts.outBody), nil)),
		func(ctx context.Context, args []any) ([]any, error) {
			r, err := resp(args[0])
			if err != nil {
				return nil, err
			}
			if r.bodyTaken {
				return errRes(nil), nil
			}
			r.bodyTaken = true
			hd, err := insert(h, &h.outBodies, rts.outBody, newOutgoingBody(r.sink, false, r.headers))
			if err != nil {
				return nil, err
			}
			return okRes(hd), nil
		})
	b.registerBodies()
}

// informational sends a 1xx response.
func (ex *exchange) informational(status int, fields *fieldList) []any {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.over || ex.set {
		return errRes(internalError("the response is already sent"))
	}
	hdr := ex.w.Header()
	for _, f := range fields.entries {
		hdr.Add(f.name, string(f.value))
	}
	ex.w.WriteHeader(status)
	for k := range hdr {
		delete(hdr, k)
	}
	return okRes(nil)
}
