package wasihttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// bodySource reads an incoming body (of a request the host serves or of a
// response to an outgoing request) and records how it ended and its
// trailers. The guest reads it through a wasi:io input-stream; once the
// guest finishes the body, the host reads the rest itself (a drain) to
// reach the trailers.
type bodySource struct {
	h       *Host
	rmu     sync.Mutex // serializes reads (the guest's stream, a drain)
	rc      io.Reader
	trailer func() http.Header // valid after the end
	mapErr  func(error) error  // a read error as the guest sees it
	stop    func()             // unblocks a read in progress (close), or nil
	release func()             // frees rc (close), or nil

	mu       sync.Mutex
	done     chan struct{} // closed at the end of the body
	err      error         // why it ended early; nil at EOF
	closed   bool
	reading  bool          // a read of rc is in progress
	draining chan struct{} // closed when the drain goroutine exits; nil: none
}

func newBodySource(h *Host, rc io.Reader, trailer func() http.Header, mapErr func(error) error) *bodySource {
	return &bodySource{h: h, rc: rc, trailer: trailer, mapErr: mapErr, done: make(chan struct{})}
}

var errBodyClosed = errors.New("wasi:http: body closed")

func (s *bodySource) Read(p []byte) (int, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	s.mu.Lock()
	closed, ended, endErr := s.closed, s.isDone(), s.err
	s.mu.Unlock()
	if closed {
		return 0, io.ErrClosedPipe
	}
	if ended {
		if endErr != nil {
			return 0, endErr
		}
		return 0, io.EOF
	}
	s.mu.Lock()
	s.reading = true
	s.mu.Unlock()
	n, err := s.rc.Read(p)
	s.mu.Lock()
	s.reading = false
	s.mu.Unlock()
	switch {
	case err == io.EOF:
		s.end(nil)
	case err != nil:
		err = s.mapErr(err)
		s.end(err)
	}
	return n, err
}

func (s *bodySource) isDone() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// end records the end of the body, once.
func (s *bodySource) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isDone() {
		return
	}
	s.err = err
	close(s.done)
}

// result returns how the body ended: its trailers, or the error.
func (s *bodySource) result() (http.Header, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	return s.trailer(), nil
}

// drain reads the rest of the body in the background, to its trailers.
func (s *bodySource) drain() {
	s.mu.Lock()
	if s.draining != nil || s.closed || s.isDone() {
		s.mu.Unlock()
		return
	}
	d := make(chan struct{})
	s.draining = d
	s.h.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.h.wg.Done()
		defer close(d)
		io.Copy(io.Discard, s)
	}()
}

// close stops the body: reads fail, a drain ends. It waits for the drain.
func (s *bodySource) close() {
	s.mu.Lock()
	already := s.closed
	s.closed = true
	d := s.draining
	busy := d != nil || s.reading
	s.mu.Unlock()
	if !already && busy && s.stop != nil {
		s.stop()
	}
	if !already && s.release != nil {
		s.release()
	}
	s.end(errBodyClosed)
	if d != nil {
		<-d
	}
}

// incomingBody is an incoming-body resource.
type incomingBody struct {
	src         *bodySource
	streamTaken bool
	finished    bool
}

func (b *incomingBody) drop() {
	if !b.finished {
		b.src.close()
	}
}

// futureTrailers is a future-trailers resource.
type futureTrailers struct {
	body  *bodySource
	taken bool
}

func (f *futureTrailers) drop() {}

// bodySink is where an outgoing body goes: the response being served or an
// outgoing request.
type bodySink interface {
	write(p []byte) error
	flush() error
	// finish completes the body with its trailers (nil: none).
	finish(trailers *fieldList) error
	// abort marks the body incomplete.
	abort(err error)
	// bodiless reports a message that has no body whatever its headers
	// say: the answer to a HEAD request, a 204 or a 304. Its
	// Content-Length describes the resource, not bytes to be written.
	bodiless() bool
}

// outgoingBody is an outgoing-body resource. Its output stream writes
// through bodyWriter.
type outgoingBody struct {
	sink     bodySink
	request  bool  // of a request (else of a response), for error codes
	declared int64 // Content-Length, or -1

	mu          sync.Mutex
	streamTaken bool
	written     int64
	finished    bool // finished or dropped: no more writes
	aborted     bool
}

func newOutgoingBody(sink bodySink, request bool, headers *fieldList) *outgoingBody {
	return &outgoingBody{sink: sink, request: request, declared: contentLength(headers)}
}

// contentLength is the Content-Length the fields declare, or -1.
func contentLength(l *fieldList) int64 {
	v := l.get("content-length")
	if len(v) != 1 {
		return -1
	}
	var n int64
	b := v[0].([]byte)
	if len(b) == 0 || len(b) > 18 {
		return -1
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

func (b *outgoingBody) sizeCode(n int64) value.Variant {
	if b.request {
		return newCode(ecHTTPRequestBodySize, value.Some(uint64(n)))
	}
	return newCode(ecHTTPResponseBodySize, value.Some(uint64(n)))
}

// drop is the guest dropping the body without finishing it: the message is
// incomplete.
func (b *outgoingBody) drop() {
	b.abort(errors.New("the outgoing body was dropped without finish"))
}

func (b *outgoingBody) abort(err error) {
	b.mu.Lock()
	if b.finished {
		b.mu.Unlock()
		return
	}
	b.finished, b.aborted = true, true
	b.mu.Unlock()
	b.sink.abort(err)
}

// bodyWriter is the io.Writer behind an outgoing body's output stream.
type bodyWriter struct{ b *outgoingBody }

func (w bodyWriter) Write(p []byte) (int, error) {
	b := w.b
	b.mu.Lock()
	if b.finished {
		b.mu.Unlock()
		return 0, io.ErrClosedPipe
	}
	if b.declared >= 0 && b.written+int64(len(p)) > b.declared {
		b.mu.Unlock()
		return 0, &codeError{code: b.sizeCode(b.written + int64(len(p))), err: errors.New("more than the declared Content-Length")}
	}
	b.written += int64(len(p))
	b.mu.Unlock()
	if err := b.sink.write(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (w bodyWriter) Flush() error { return w.b.sink.flush() }

// finish completes the body: the result<_, error-code> of
// outgoing-body.finish.
func (b *outgoingBody) finish(trailers *fieldList) []any {
	b.mu.Lock()
	if b.finished {
		b.mu.Unlock()
		return errRes(internalError("the body is already finished"))
	}
	b.finished = true
	short := b.declared >= 0 && b.written != b.declared
	written := b.written
	b.mu.Unlock()
	if short && b.sink.bodiless() {
		short = false
	}
	if short {
		b.sink.abort(errors.New("less than the declared Content-Length"))
		return errRes(b.sizeCode(written))
	}
	if err := b.sink.finish(trailers); err != nil {
		return errRes(clientCode(err))
	}
	return okRes(nil)
}

func (b *binding) registerBodies() {
	h := b.h
	ti := b.types
	rts := b.rts

	// incoming-body
	b.def(ti, methodName("incoming-body", "stream"), method(rts.inBody, value.ResultOf(value.Own(rts.input), nil)),
		func(ctx context.Context, args []any) ([]any, error) {
			ib, err := lookup(h, &h.inBodies, "incoming-body", args[0])
			if err != nil {
				return nil, err
			}
			if ib.streamTaken {
				return errRes(nil), nil
			}
			ib.streamTaken = true
			s, err := h.io.NewInputStream(ib.src)
			if err != nil {
				return nil, err
			}
			return okRes(s), nil
		})
	b.def(ti, staticName("incoming-body", "finish"), fn(value.Own(rts.trailers), "this", value.Own(rts.inBody)),
		func(ctx context.Context, args []any) ([]any, error) {
			ib, err := take(h, &h.inBodies, "incoming-body", args[0])
			if err != nil {
				return nil, err
			}
			ib.finished = true
			hd, err := insert(h, &h.trailers, rts.trailers, &futureTrailers{body: ib.src})
			return one(hd), err
		})

	// future-trailers
	b.def(ti, methodName("future-trailers", "subscribe"), method(rts.trailers, value.Own(rts.pollable)),
		func(ctx context.Context, args []any) ([]any, error) {
			ft, err := lookup(h, &h.trailers, "future-trailers", args[0])
			if err != nil {
				return nil, err
			}
			ft.body.drain()
			p, err := h.io.NewPollable(ft.body.done)
			return one(p), err
		})
	trailersRes := value.OptionOf(value.ResultOf(value.ResultOf(value.OptionOf(value.Own(rts.fields)), errorCodeT), nil))
	b.def(ti, methodName("future-trailers", "get"), method(rts.trailers, trailersRes),
		func(ctx context.Context, args []any) ([]any, error) {
			ft, err := lookup(h, &h.trailers, "future-trailers", args[0])
			if err != nil {
				return nil, err
			}
			if !ft.body.isDone() {
				ft.body.drain()
				return one(value.None()), nil
			}
			if ft.taken {
				return one(value.Some(value.Err(nil))), nil
			}
			ft.taken = true
			tr, err := ft.body.result()
			if err != nil {
				return one(value.Some(value.Ok(value.Err(clientCode(err))))), nil
			}
			if len(tr) == 0 {
				return one(value.Some(value.Ok(value.Ok(value.None())))), nil
			}
			hd, err := h.newFields(fromHeader(tr), true)
			if err != nil {
				return nil, err
			}
			return one(value.Some(value.Ok(value.Ok(value.Some(hd))))), nil
		})

	// outgoing-body
	b.def(ti, methodName("outgoing-body", "write"), method(rts.outBody, value.ResultOf(value.Own(rts.output), nil)),
		func(ctx context.Context, args []any) ([]any, error) {
			ob, err := lookup(h, &h.outBodies, "outgoing-body", args[0])
			if err != nil {
				return nil, err
			}
			ob.mu.Lock()
			taken := ob.streamTaken
			ob.streamTaken = true
			ob.mu.Unlock()
			if taken {
				return errRes(nil), nil
			}
			s, err := h.io.NewOutputStream(bodyWriter{ob})
			if err != nil {
				return nil, err
			}
			return okRes(s), nil
		})
	b.def(ti, staticName("outgoing-body", "finish"),
		fn(value.ResultOf(nil, errorCodeT), "this", value.Own(rts.outBody), "trailers", value.OptionOf(value.Own(rts.fields))),
		func(ctx context.Context, args []any) ([]any, error) {
			ob, err := take(h, &h.outBodies, "outgoing-body", args[0])
			if err != nil {
				return nil, err
			}
			var tr *fieldList
			if v := args[1].(value.Variant); v.Case == 1 {
				if tr, err = h.takeFields(v.Value); err != nil {
					return nil, err
				}
			}
			return ob.finish(tr), nil
		})
}
