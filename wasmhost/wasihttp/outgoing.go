package wasihttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// outgoingRequest is an outgoing-request resource.
type outgoingRequest struct {
	method        value.Variant
	pathWithQuery value.Variant // option<string>
	scheme        value.Variant // option<scheme>
	authority     value.Variant // option<string>
	headers       *fieldList
	body          *outgoingBody // nil until body()
	pipe          *requestPipe
}

func (r *outgoingRequest) drop() {
	if r.pipe != nil {
		r.pipe.abort(errors.New("wasi:http: the outgoing request was dropped"))
	}
}

// requestOptions is a request-options resource; each is option<duration>.
type requestOptions struct {
	connect, firstByte, betweenBytes value.Variant
}

func optDuration(v value.Variant) (time.Duration, bool) {
	if v.Case != 1 {
		return 0, false
	}
	return time.Duration(min(v.Value.(uint64), uint64(1<<63-1))), true
}

// outgoingCall is an outgoing request in flight.
type outgoingCall struct {
	done   chan struct{}
	cancel context.CancelCauseFunc

	mu        sync.Mutex
	resp      *http.Response
	err       error
	abandoned bool // the guest dropped the future before taking the response
}

func (c *outgoingCall) complete(resp *http.Response, err error) {
	c.mu.Lock()
	c.resp, c.err = resp, err
	if c.abandoned && resp != nil {
		resp.Body.Close()
	}
	c.mu.Unlock()
	close(c.done)
}

// futureResponse is a future-incoming-response resource.
type futureResponse struct {
	h     *Host
	call  *outgoingCall
	taken bool
}

func (f *futureResponse) drop() {
	if f.taken {
		return
	}
	c := f.call
	c.mu.Lock()
	c.abandoned = true
	if c.resp != nil {
		c.resp.Body.Close()
	}
	c.mu.Unlock()
	c.cancel(errors.New("wasi:http: the guest dropped the future-incoming-response"))
	f.h.untrack(c)
}

// incomingResponse is an incoming-response resource.
type incomingResponse struct {
	status   uint16
	headers  *fieldList
	body     *bodySource
	consumed bool
}

func (r *incomingResponse) drop() {
	if !r.consumed {
		r.body.close()
	}
}

// pipeWindow is how much of a request body the host holds once the
// request is on its way: writes beyond it wait for the transport.
const pipeWindow = 64 << 10

// requestPipe carries an outgoing request's body from the guest's output
// stream to net/http's transport (its Body).
type requestPipe struct {
	max     int
	trailer http.Header // the request's Trailer, filled at the end

	mu       sync.Mutex
	cond     sync.Cond
	buf      []byte
	started  bool // outgoing-handler.handle sent the request
	finished bool // the guest finished the body
	trailers *fieldList
	err      error // aborted
	gone     bool  // the transport closed the body
}

func newRequestPipe(max int) *requestPipe {
	p := &requestPipe{max: max}
	p.cond.L = &p.mu
	return p
}

func (p *requestPipe) write(b []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		switch {
		case p.gone:
			return io.ErrClosedPipe
		case p.err != nil:
			return p.err
		case !p.started:
			if len(p.buf)+len(b) > p.max {
				return &codeError{code: internalError("request body written before outgoing-handler.handle is too long"),
					err: fmt.Errorf("more than %d bytes buffered", p.max)}
			}
			p.buf = append(p.buf, b...)
			return nil
		case len(p.buf) < pipeWindow:
			p.buf = append(p.buf, b...)
			p.cond.Broadcast()
			return nil
		}
		p.cond.Wait()
	}
}

func (p *requestPipe) flush() error { return nil }

func (p *requestPipe) finish(trailers *fieldList) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finished, p.trailers = true, trailers
	p.cond.Broadcast()
	return nil
}

func (p *requestPipe) bodiless() bool { return false }

func (p *requestPipe) abort(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil && !p.finished {
		p.err = err
	}
	p.cond.Broadcast()
}

func (p *requestPipe) start() {
	p.mu.Lock()
	p.started = true
	p.cond.Broadcast()
	p.mu.Unlock()
}

// Read is the transport reading the body.
func (p *requestPipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.buf) == 0 && !p.finished && p.err == nil && !p.gone {
		p.cond.Wait()
	}
	switch {
	case len(p.buf) > 0:
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		if len(p.buf) == 0 {
			p.buf = nil
		}
		p.cond.Broadcast()
		return n, nil
	case p.err != nil:
		return 0, p.err
	case p.gone:
		return 0, io.ErrClosedPipe
	}
	if p.trailers != nil && p.trailer != nil {
		for _, f := range p.trailers.entries {
			p.trailer.Add(f.name, string(f.value))
		}
		p.trailers = nil
	}
	return 0, io.EOF
}

// Close is the transport done with the body.
func (p *requestPipe) Close() error {
	p.mu.Lock()
	p.gone = true
	p.cond.Broadcast()
	p.mu.Unlock()
	return nil
}

// validAuthority reports whether s can be a URI authority: no path, query,
// fragment, whitespace or control characters.
func validAuthority(s string) bool {
	return s != "" && !strings.ContainsAny(s, "/?#@ \t\r\n\x00\x7f")
}

func validPath(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f || s[i] == '#' {
			return false
		}
	}
	return true
}

func validScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func (b *binding) registerOutgoing() {
	h := b.h
	ti := b.types
	rts := b.rts
	optString := value.OptionOf(stringT)
	unitRes := value.ResultOf(nil, nil)
	req := func(arg any) (*outgoingRequest, error) { return lookup(h, &h.outReqs, "outgoing-request", arg) }

	// outgoing-request
	b.def(ti, ctorName("outgoing-request"), fn(value.Own(rts.outReq), "headers", value.Own(rts.fields)),
		func(ctx context.Context, args []any) ([]any, error) {
			l, err := h.takeFields(args[0])
			if err != nil {
				return nil, err
			}
			r := &outgoingRequest{method: value.Variant{Case: 0}, pathWithQuery: value.None(), scheme: value.None(), authority: value.None(), headers: l}
			hd, err := insert(h, &h.outReqs, rts.outReq, r)
			return one(hd), err
		})
	b.def(ti, methodName("outgoing-request", "body"), method(rts.outReq, value.ResultOf(value.Own(rts.outBody), nil)),
		func(ctx context.Context, args []any) ([]any, error) {
			r, err := req(args[0])
			if err != nil {
				return nil, err
			}
			if r.body != nil {
				return errRes(nil), nil
			}
			r.pipe = newRequestPipe(h.cfg.MaxBufferedBody)
			r.body = newOutgoingBody(r.pipe, true, r.headers)
			hd, err := insert(h, &h.outBodies, rts.outBody, r.body)
			if err != nil {
				return nil, err
			}
			return okRes(hd), nil
		})
	b.def(ti, methodName("outgoing-request", "method"), method(rts.outReq, methodT),
		func(ctx context.Context, args []any) ([]any, error) {
			r, err := req(args[0])
			if err != nil {
				return nil, err
			}
			return one(r.method), nil
		})
	b.def(ti, methodName("outgoing-request", "set-method"), method(rts.outReq, unitRes, "method", methodT),
		func(ctx context.Context, args []any) ([]any, error) {
			r, err := req(args[0])
			if err != nil {
				return nil, err
			}
			m := args[1].(value.Variant)
			if m.Case == 9 && !validName(m.Value.(string)) {
				return errRes(nil), nil
			}
			r.method = m
			return okRes(nil), nil
		})
	getSet := func(name string, typ *value.Type, get func(*outgoingRequest) *value.Variant, valid func(value.Variant) bool) {
		b.def(ti, methodName("outgoing-request", name), method(rts.outReq, typ),
			func(ctx context.Context, args []any) ([]any, error) {
				r, err := req(args[0])
				if err != nil {
					return nil, err
				}
				return one(*get(r)), nil
			})
		b.def(ti, methodName("outgoing-request", "set-"+name), method(rts.outReq, unitRes, name, typ),
			func(ctx context.Context, args []any) ([]any, error) {
				r, err := req(args[0])
				if err != nil {
					return nil, err
				}
				v := args[1].(value.Variant)
				if v.Case == 1 && !valid(v) {
					return errRes(nil), nil
				}
				*get(r) = v
				return okRes(nil), nil
			})
	}
	getSet("path-with-query", optString, func(r *outgoingRequest) *value.Variant { return &r.pathWithQuery },
		func(v value.Variant) bool { return validPath(v.Value.(string)) })
	getSet("scheme", value.OptionOf(schemeT), func(r *outgoingRequest) *value.Variant { return &r.scheme },
		func(v value.Variant) bool {
			s := v.Value.(value.Variant)
			return s.Case != 2 || validScheme(s.Value.(string))
		})
	getSet("authority", optString, func(r *outgoingRequest) *value.Variant { return &r.authority },
		func(v value.Variant) bool { return validAuthority(v.Value.(string)) })
	b.def(ti, methodName("outgoing-request", "headers"), method(rts.outReq, value.Own(rts.fields)),
		func(ctx context.Context, args []any) ([]any, error) {
			r, err := req(args[0])
			if err != nil {
				return nil, err
			}
			hd, err := h.newFields(r.headers, true)
			return one(hd), err
		})

	// request-options
	b.def(ti, ctorName("request-options"), fn(value.Own(rts.options)),
		func(ctx context.Context, args []any) ([]any, error) {
			o := &requestOptions{connect: value.None(), firstByte: value.None(), betweenBytes: value.None()}
			hd, err := insert(h, &h.options, rts.options, o)
			return one(hd), err
		})
	optDur := value.OptionOf(durationT)
	for _, o := range []struct {
		name string
		get  func(*requestOptions) *value.Variant
	}{
		{"connect-timeout", func(o *requestOptions) *value.Variant { return &o.connect }},
		{"first-byte-timeout", func(o *requestOptions) *value.Variant { return &o.firstByte }},
		{"between-bytes-timeout", func(o *requestOptions) *value.Variant { return &o.betweenBytes }},
	} {
		b.def(ti, methodName("request-options", o.name), method(rts.options, optDur),
			func(ctx context.Context, args []any) ([]any, error) {
				ro, err := lookup(h, &h.options, "request-options", args[0])
				if err != nil {
					return nil, err
				}
				return one(*o.get(ro)), nil
			})
		b.def(ti, methodName("request-options", "set-"+o.name), method(rts.options, unitRes, "duration", optDur),
			func(ctx context.Context, args []any) ([]any, error) {
				ro, err := lookup(h, &h.options, "request-options", args[0])
				if err != nil {
					return nil, err
				}
				*o.get(ro) = args[1].(value.Variant)
				return okRes(nil), nil
			})
	}

	// future-incoming-response
	b.def(ti, methodName("future-incoming-response", "subscribe"), method(rts.future, value.Own(rts.pollable)),
		func(ctx context.Context, args []any) ([]any, error) {
			f, err := lookup(h, &h.futures, "future-incoming-response", args[0])
			if err != nil {
				return nil, err
			}
			p, err := h.io.NewPollable(f.call.done)
			return one(p), err
		})
	respRes := value.OptionOf(value.ResultOf(value.ResultOf(value.Own(rts.inResp), errorCodeT), nil))
	b.def(ti, methodName("future-incoming-response", "get"), method(rts.future, respRes),
		func(ctx context.Context, args []any) ([]any, error) {
			f, err := lookup(h, &h.futures, "future-incoming-response", args[0])
			if err != nil {
				return nil, err
			}
			select {
			case <-f.call.done:
			default:
				return one(value.None()), nil
			}
			if f.taken {
				return one(value.Some(value.Err(nil))), nil
			}
			f.taken = true
			c := f.call
			if c.err != nil {
				h.untrack(c)
				return one(value.Some(value.Ok(value.Err(clientCode(c.err))))), nil
			}
			r, err := h.incomingResponse(c)
			if err != nil {
				return nil, err
			}
			hd, err := insert(h, &h.inResps, rts.inResp, r)
			if err != nil {
				return nil, err
			}
			return one(value.Some(value.Ok(value.Ok(hd)))), nil
		})

	// incoming-response
	resp := func(arg any) (*incomingResponse, error) { return lookup(h, &h.inResps, "incoming-response", arg) }
	b.def(ti, methodName("incoming-response", "status"), method(rts.inResp, u16T),
		func(ctx context.Context, args []any) ([]any, error) {
			r, err := resp(args[0])
			if err != nil {
				return nil, err
			}
			return one(r.status), nil
		})
	b.def(ti, methodName("incoming-response", "headers"), method(rts.inResp, value.Own(rts.fields)),
		func(ctx context.Context, args []any) ([]any, error) {
			r, err := resp(args[0])
			if err != nil {
				return nil, err
			}
			hd, err := h.newFields(r.headers, true)
			return one(hd), err
		})
	b.def(ti, methodName("incoming-response", "consume"), method(rts.inResp, value.ResultOf(value.Own(rts.inBody), nil)),
		func(ctx context.Context, args []any) ([]any, error) {
			r, err := resp(args[0])
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

	// wasi:http/outgoing-handler
	oh := b.im.Instance("wasi:http/outgoing-handler@" + Version)
	oh.AliasResource("outgoing-request", rts.outReq).AliasResource("request-options", rts.options).
		AliasResource("future-incoming-response", rts.future)
	b.def(oh, "handle", fn(value.ResultOf(value.Own(rts.future), errorCodeT),
		"request", value.Own(rts.outReq), "options", value.OptionOf(value.Own(rts.options))),
		func(ctx context.Context, args []any) ([]any, error) {
			r, err := take(h, &h.outReqs, "outgoing-request", args[0])
			if err != nil {
				return nil, err
			}
			var opts *requestOptions
			if v := args[1].(value.Variant); v.Case == 1 {
				if opts, err = take(h, &h.options, "request-options", v.Value); err != nil {
					return nil, err
				}
			}
			call, code := h.send(r, opts)
			if call == nil {
				if r.pipe != nil {
					r.pipe.abort(&codeError{code: code})
				}
				return errRes(code), nil
			}
			hd, err := insert(h, &h.futures, rts.future, &futureResponse{h: h, call: call})
			if err != nil {
				return nil, err
			}
			return okRes(hd), nil
		})
}

// send starts an outgoing request, or returns why not.
func (h *Host) send(r *outgoingRequest, opts *requestOptions) (*outgoingCall, value.Variant) {
	uriInvalid := newCode(ecHTTPRequestURIInvalid, nil)
	scheme := "https"
	if r.scheme.Case == 1 {
		switch s := r.scheme.Value.(value.Variant); s.Case {
		case 0:
			scheme = "http"
		case 1:
		default:
			return nil, uriInvalid
		}
	}
	if r.authority.Case != 1 {
		return nil, uriInvalid
	}
	authority := r.authority.Value.(string)
	if !h.allowed(authority) {
		return nil, newCode(ecHTTPRequestDenied, nil)
	}
	path := "/"
	if r.pathWithQuery.Case == 1 {
		path = r.pathWithQuery.Value.(string)
	}
	if !strings.HasPrefix(path, "/") {
		if path != "" && path != "*" {
			return nil, uriInvalid
		}
		path = "/" + strings.TrimPrefix(path, "*")
	}
	u, err := url.Parse(scheme + "://" + authority + path)
	if err != nil || u.Host == "" {
		return nil, uriInvalid
	}
	method := methodString(r.method)
	if !validName(method) {
		return nil, newCode(ecHTTPRequestMethodInvalid, nil)
	}

	ctx, cancel := context.WithCancelCause(h.ctx)
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		cancel(err)
		return nil, uriInvalid
	}
	req.Header = r.headers.header()
	declared := contentLength(r.headers)
	req.Header.Del("Content-Length")
	if r.pipe != nil {
		r.pipe.mu.Lock()
		finished, n := r.pipe.finished && r.pipe.err == nil, len(r.pipe.buf)
		r.pipe.mu.Unlock()
		req.Body = r.pipe
		switch {
		case declared >= 0:
			req.ContentLength = declared
		case finished:
			req.ContentLength = int64(n)
		default:
			req.ContentLength = -1
			req.Trailer = http.Header{}
			r.pipe.trailer = req.Trailer
		}
		if req.ContentLength == 0 {
			req.Body = http.NoBody
			r.pipe.Close()
		}
	} else if declared > 0 {
		cancel(nil)
		return nil, newCode(ecHTTPRequestBodySize, value.Some(uint64(0)))
	}

	var betweenBytes time.Duration
	var firstByte *time.Timer
	if opts != nil {
		if d, ok := optDuration(opts.connect); ok {
			req = req.WithContext(context.WithValue(req.Context(), connectTimeoutKey{}, d))
		}
		if d, ok := optDuration(opts.firstByte); ok {
			firstByte = time.AfterFunc(d, func() { cancel(errFirstByteTimeout) })
		}
		betweenBytes, _ = optDuration(opts.betweenBytes)
	}

	call := &outgoingCall{done: make(chan struct{}), cancel: cancel}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		cancel(errHostClosed)
		return nil, internalError("the host is closed")
	}
	h.pending[call] = true
	h.wg.Add(1)
	h.mu.Unlock()
	if r.pipe != nil {
		r.pipe.start()
	}
	go func() {
		defer h.wg.Done()
		resp, err := h.client.Do(req)
		if firstByte != nil {
			firstByte.Stop()
		}
		if err != nil {
			if cause := context.Cause(ctx); cause != nil && !errors.Is(err, cause) {
				err = fmt.Errorf("%w: %w", cause, err)
			}
			cancel(err)
		} else if betweenBytes > 0 {
			resp.Body = &idleTimeoutBody{rc: resp.Body, d: betweenBytes, cancel: cancel}
		}
		call.complete(resp, err)
	}()
	return call, value.Variant{}
}

// incomingResponse wraps the response of a completed call.
func (h *Host) incomingResponse(c *outgoingCall) (*incomingResponse, error) {
	resp := c.resp
	mapErr := func(err error) error {
		if cause := context.Cause(resp.Request.Context()); cause != nil && !errors.Is(err, cause) {
			err = fmt.Errorf("%w: %w", cause, err)
		}
		return &codeError{code: clientCode(err), err: err}
	}
	src := newBodySource(h, resp.Body, func() http.Header { return resp.Trailer }, mapErr)
	src.release = func() {
		resp.Body.Close()
		h.untrack(c)
	}
	status := resp.StatusCode
	if status < 0 || status > 65535 {
		status = 502
	}
	return &incomingResponse{status: uint16(status), headers: fromHeader(resp.Header), body: src}, nil
}

// untrack forgets a call whose response the guest is done with.
func (h *Host) untrack(c *outgoingCall) {
	c.cancel(nil)
	h.mu.Lock()
	delete(h.pending, c)
	h.mu.Unlock()
}

// idleTimeoutBody fails a response body whose next bytes take longer than
// d (request-options between-bytes-timeout).
type idleTimeoutBody struct {
	rc     io.ReadCloser
	d      time.Duration
	cancel context.CancelCauseFunc
}

func (b *idleTimeoutBody) Read(p []byte) (int, error) {
	t := time.AfterFunc(b.d, func() { b.cancel(errBetweenBytes) })
	n, err := b.rc.Read(p)
	t.Stop()
	return n, err
}

func (b *idleTimeoutBody) Close() error { return b.rc.Close() }

func (b *binding) registerErrors() {
	h := b.h
	b.def(b.types, "http-error-code", fn(value.OptionOf(errorCodeT), "err", value.Borrow(b.rts.ioError)),
		func(ctx context.Context, args []any) ([]any, error) {
			if e, ok := h.io.IOError(args[0].(value.Handle)); ok {
				if code, ok := errorCodeOf(e); ok {
					return one(value.Some(code)), nil
				}
			}
			return one(value.None()), nil
		})
}

// errorCodeOf returns the error-code an error carries.
func errorCodeOf(err error) (value.Variant, bool) {
	var ce *codeError
	if errors.As(err, &ce) {
		return ce.code, true
	}
	return value.Variant{}, false
}
