package wasi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// wasi:io/error, wasi:io/poll and wasi:io/streams.

const (
	// writeBudget is what check-write grants: writes are blocking, so any
	// size works, but guests size their buffers by it.
	writeBudget = 1 << 20
	// maxRead caps one read so a guest asking for 2^64 bytes gets less.
	maxRead = 1 << 20
)

// ioError is a wasi:io/error: a Go error, and whether it came from the file
// system (then filesystem-error-code maps it).
type ioError struct {
	err error
	fs  bool
}

// pollable becomes ready when the monotonic clock reaches at, or, when
// ready is not nil, once ready is closed (NewPollable).
type pollable struct {
	at    uint64
	ready <-chan struct{}
}

// isReady reports whether p is ready at monotonic instant now.
func (p *pollable) isReady(now uint64) bool {
	if p.ready == nil {
		return now >= p.at
	}
	select {
	case <-p.ready:
		return true
	default:
		return false
	}
}

// inputStream is a wasi:io/streams input-stream. src is shared by every
// handle to the same source (each get-stdin returns a new handle).
type inputStream struct {
	mu     sync.Mutex
	src    reader
	closed bool // end of input seen, or an error returned
	// scratch is reused by read and skip, whose result is copied into the
	// guest before the call returns: a guest asking for 64 KiB per read
	// must not cost a fresh, zeroed 64 KiB per call. Splice gets fresh
	// buffers, as its sink may keep them.
	scratch []byte
}

// maxScratch bounds the buffer an input stream keeps between reads.
const maxScratch = 64 << 10

// reader is the source of an input stream. read returns at most len(p)
// bytes; io.EOF means the end. A non-blocking read may return 0, nil.
type reader interface {
	read(ctx context.Context, p []byte, blocking bool) (int, error)
}

// outputStream is a wasi:io/streams output-stream.
type outputStream struct {
	mu     sync.Mutex
	dst    writer
	closed bool // an earlier operation failed
}

// writer is the sink of an output stream; writes are complete or fail.
type writer interface {
	write(p []byte) error
	flush() error
}

// ioReader adapts an io.Reader, such as stdin.
type ioReader struct {
	mu      sync.Mutex
	r       io.Reader
	pending error // an error returned with data, reported next time
}

func (s *ioReader) read(ctx context.Context, p []byte, blocking bool) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending != nil {
		return 0, s.pending
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := s.r.Read(p)
		if n > 0 {
			s.pending = err
			return n, nil
		}
		if err != nil {
			s.pending = err
			return 0, err
		}
		// 0, nil: nothing this time.
		if !blocking {
			return 0, nil
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		time.Sleep(time.Millisecond)
	}
}

// ioWriter adapts an io.Writer, such as stdout.
type ioWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *ioWriter) write(p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return err
}

func (s *ioWriter) flush() error {
	f, ok := s.w.(interface{ Flush() error })
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return f.Flush()
}

// isClosedErr reports errors that mean the other end went away: the stream
// is then closed rather than failed.
func isClosedErr(err error) bool {
	return errors.Is(err, io.ErrClosedPipe) || errors.Is(err, syscall.EPIPE) || errors.Is(err, os.ErrClosed)
}

// streamErr is the err case of result<_, stream-error> for err: closed for
// io.EOF and closed pipes, else last-operation-failed with a new error
// resource.
func (b *binding) streamErr(err error, fs bool) ([]any, error) {
	if err == io.EOF || isClosedErr(err) {
		return []any{value.Err(value.Variant{Case: 1})}, nil
	}
	h, herr := insert(b.h, &b.h.errs, b.errorRT, &ioError{err: err, fs: fs})
	if herr != nil {
		return nil, herr
	}
	return []any{value.Err(value.Variant{Case: 0, Value: h})}, nil
}

func closedErr() []any { return []any{value.Err(value.Variant{Case: 1})} }

// newPollable returns an own handle to a pollable ready at instant at.
func (b *binding) newPollable(at uint64) ([]any, error) {
	h, err := insert(b.h, &b.h.pollables, b.pollableRT, &pollable{at: at})
	if err != nil {
		return nil, err
	}
	return one(h), nil
}

// newInput returns an own handle to an input stream reading src.
func (b *binding) newInput(src reader) (value.Handle, error) {
	return insert(b.h, &b.h.inputs, b.inputRT, &inputStream{src: src})
}

// newOutput returns an own handle to an output stream writing dst.
func (b *binding) newOutput(dst writer) (value.Handle, error) {
	return insert(b.h, &b.h.outputs, b.outputRT, &outputStream{dst: dst})
}

// readLen is the buffer for a read of n bytes.
func readLen(n uint64) int { return int(min(n, maxRead)) }

func (b *binding) registerIO() {
	h := b.h

	// wasi:io/error
	const errIface = "wasi:io/error"
	ei := b.instance(errIface)
	b.errorRT = b.resource(ei, "error", dropper(h, &h.errs, nil))
	b.def(ei, errIface, methodName("error", "to-debug-string"), method(b.errorRT, stringT),
		func(ctx context.Context, args []any) ([]any, error) {
			e, err := lookup(h, &h.errs, "error", args[0])
			if err != nil {
				return nil, err
			}
			return one(e.err.Error()), nil
		})

	// wasi:io/poll
	const pollIface = "wasi:io/poll"
	pi := b.instance(pollIface)
	b.pollableRT = b.resource(pi, "pollable", dropper(h, &h.pollables, nil))
	b.def(pi, pollIface, methodName("pollable", "ready"), method(b.pollableRT, boolT),
		func(ctx context.Context, args []any) ([]any, error) {
			p, err := lookup(h, &h.pollables, "pollable", args[0])
			if err != nil {
				return nil, err
			}
			return one(p.isReady(h.mono())), nil
		})
	b.def(pi, pollIface, methodName("pollable", "block"), method(b.pollableRT, nil),
		func(ctx context.Context, args []any) ([]any, error) {
			p, err := lookup(h, &h.pollables, "pollable", args[0])
			if err != nil {
				return nil, err
			}
			if p.ready != nil {
				return nil, waitAny(ctx, []<-chan struct{}{p.ready}, nil)
			}
			return nil, h.sleepUntil(ctx, p.at)
		})
	b.def(pi, pollIface, "poll", fn(value.ListOf(u32T), "in", value.ListOf(value.Borrow(b.pollableRT))),
		func(ctx context.Context, args []any) ([]any, error) {
			in, _ := args[0].([]any)
			if len(in) == 0 {
				return nil, errors.New("wasi:io/poll.poll: empty list of pollables")
			}
			ps := make([]*pollable, len(in))
			for i, a := range in {
				p, err := lookup(h, &h.pollables, "pollable", a)
				if err != nil {
					return nil, err
				}
				ps[i] = p
			}
			var chans []<-chan struct{}
			for _, p := range ps {
				if p.ready != nil {
					chans = append(chans, p.ready)
				}
			}
			for {
				now := h.mono()
				var ready []any
				next := ^uint64(0)
				for i, p := range ps {
					if p.isReady(now) {
						ready = append(ready, uint32(i))
					}
					if p.ready == nil {
						next = min(next, p.at)
					}
				}
				if len(ready) > 0 {
					return one(ready), nil
				}
				var err error
				if chans == nil {
					err = h.sleepUntil(ctx, next)
				} else {
					err = h.waitUntil(ctx, chans, next)
				}
				if err != nil {
					return nil, err
				}
			}
		})

	// wasi:io/streams
	const streamsIface = "wasi:io/streams"
	si := b.instance(streamsIface)
	si.AliasResource("error", b.errorRT).AliasResource("pollable", b.pollableRT)
	b.inputRT = b.resource(si, "input-stream", dropper(h, &h.inputs, nil))
	b.outputRT = b.resource(si, "output-stream", dropper(h, &h.outputs, nil))
	streamError := &value.Type{Kind: value.KindVariant, Name: "stream-error", Cases: []value.Case{
		{Name: "last-operation-failed", Type: value.Own(b.errorRT)},
		{Name: "closed"},
	}}
	resBytes := value.ResultOf(bytesT, streamError)
	resU64 := value.ResultOf(u64T, streamError)
	resUnit := value.ResultOf(nil, streamError)

	// Input streams.
	read := func(blocking bool) func(context.Context, []any) ([]any, error) {
		return func(ctx context.Context, args []any) ([]any, error) {
			s, err := lookup(h, &h.inputs, "input-stream", args[0])
			if err != nil {
				return nil, err
			}
			n, _ := args[1].(uint64)
			data, err := b.readStream(ctx, s, readLen(n), blocking, true)
			if err != nil {
				return b.inputErr(err)
			}
			return ok(data), nil
		}
	}
	skip := func(blocking bool) func(context.Context, []any) ([]any, error) {
		return func(ctx context.Context, args []any) ([]any, error) {
			s, err := lookup(h, &h.inputs, "input-stream", args[0])
			if err != nil {
				return nil, err
			}
			n, _ := args[1].(uint64)
			data, err := b.readStream(ctx, s, readLen(n), blocking, true)
			if err != nil {
				return b.inputErr(err)
			}
			return ok(uint64(len(data))), nil
		}
	}
	b.def(si, streamsIface, methodName("input-stream", "read"), method(b.inputRT, resBytes, "len", u64T), read(false))
	b.def(si, streamsIface, methodName("input-stream", "blocking-read"), method(b.inputRT, resBytes, "len", u64T), read(true))
	b.def(si, streamsIface, methodName("input-stream", "skip"), method(b.inputRT, resU64, "len", u64T), skip(false))
	b.def(si, streamsIface, methodName("input-stream", "blocking-skip"), method(b.inputRT, resU64, "len", u64T), skip(true))
	b.def(si, streamsIface, methodName("input-stream", "subscribe"), method(b.inputRT, value.Own(b.pollableRT)),
		func(ctx context.Context, args []any) ([]any, error) {
			if _, err := lookup(h, &h.inputs, "input-stream", args[0]); err != nil {
				return nil, err
			}
			return b.newPollable(0)
		})

	// Output streams.
	out := func(args []any) (*outputStream, error) {
		return lookup(h, &h.outputs, "output-stream", args[0])
	}
	b.def(si, streamsIface, methodName("output-stream", "check-write"), method(b.outputRT, resU64),
		func(ctx context.Context, args []any) ([]any, error) {
			s, err := out(args)
			if err != nil {
				return nil, err
			}
			if s.isClosed() {
				return closedErr(), nil
			}
			return ok(uint64(writeBudget)), nil
		})
	write := func(flush bool) func(context.Context, []any) ([]any, error) {
		return func(ctx context.Context, args []any) ([]any, error) {
			s, err := out(args)
			if err != nil {
				return nil, err
			}
			p, _ := args[1].([]byte)
			return b.writeStream(s, p, flush)
		}
	}
	b.def(si, streamsIface, methodName("output-stream", "write"), method(b.outputRT, resUnit, "contents", bytesT), write(false))
	b.def(si, streamsIface, methodName("output-stream", "blocking-write-and-flush"), method(b.outputRT, resUnit, "contents", bytesT), write(true))
	flush := func(ctx context.Context, args []any) ([]any, error) {
		s, err := out(args)
		if err != nil {
			return nil, err
		}
		return b.writeStream(s, nil, true)
	}
	b.def(si, streamsIface, methodName("output-stream", "flush"), method(b.outputRT, resUnit), flush)
	b.def(si, streamsIface, methodName("output-stream", "blocking-flush"), method(b.outputRT, resUnit), flush)
	b.def(si, streamsIface, methodName("output-stream", "subscribe"), method(b.outputRT, value.Own(b.pollableRT)),
		func(ctx context.Context, args []any) ([]any, error) {
			if _, err := out(args); err != nil {
				return nil, err
			}
			return b.newPollable(0)
		})
	zeroes := func(flush bool) func(context.Context, []any) ([]any, error) {
		return func(ctx context.Context, args []any) ([]any, error) {
			s, err := out(args)
			if err != nil {
				return nil, err
			}
			n, _ := args[1].(uint64)
			if n > writeBudget {
				return nil, fmt.Errorf("wasi:io/streams: write-zeroes of %d bytes exceeds the check-write budget of %d", n, writeBudget)
			}
			return b.writeStream(s, make([]byte, n), flush)
		}
	}
	b.def(si, streamsIface, methodName("output-stream", "write-zeroes"), method(b.outputRT, resUnit, "len", u64T), zeroes(false))
	b.def(si, streamsIface, methodName("output-stream", "blocking-write-zeroes-and-flush"), method(b.outputRT, resUnit, "len", u64T), zeroes(true))
	splice := func(blocking bool) func(context.Context, []any) ([]any, error) {
		return func(ctx context.Context, args []any) ([]any, error) {
			dst, err := out(args)
			if err != nil {
				return nil, err
			}
			src, err := lookup(h, &h.inputs, "input-stream", args[1])
			if err != nil {
				return nil, err
			}
			n, _ := args[2].(uint64)
			if dst.isClosed() {
				return closedErr(), nil
			}
			data, err := b.readStream(ctx, src, int(min(n, writeBudget)), blocking, false)
			if err != nil {
				return b.inputErr(err)
			}
			res, err := b.writeStream(dst, data, blocking)
			if err != nil {
				return nil, err
			}
			if v := res[0].(value.Variant); v.Case != 0 {
				return res, nil
			}
			return ok(uint64(len(data))), nil
		}
	}
	b.def(si, streamsIface, methodName("output-stream", "splice"), method(b.outputRT, resU64, "src", value.Borrow(b.inputRT), "len", u64T), splice(false))
	b.def(si, streamsIface, methodName("output-stream", "blocking-splice"), method(b.outputRT, resU64, "src", value.Borrow(b.inputRT), "len", u64T), splice(true))
}

// readStream reads up to n bytes from s, into the stream's scratch buffer
// if scratch (the bytes are valid until the next read of s).
func (b *binding) readStream(ctx context.Context, s *inputStream, n int, blocking, scratch bool) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, io.EOF
	}
	var buf []byte
	switch {
	case scratch && n <= maxScratch:
		if cap(s.scratch) < n {
			s.scratch = make([]byte, max(n, 4<<10))
		}
		buf = s.scratch[:n]
	default:
		buf = make([]byte, n)
	}
	got, err := s.src.read(ctx, buf, blocking)
	if err != nil && got == 0 {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, &ctxErr{err}
		}
		s.closed = true
		return nil, err
	}
	return buf[:got], nil
}

// ctxErr marks a cancelled wait: it traps the call instead of becoming a
// stream error.
type ctxErr struct{ err error }

func (e *ctxErr) Error() string { return e.err.Error() }
func (e *ctxErr) Unwrap() error { return e.err }

// inputErr turns a read error into the call's result.
func (b *binding) inputErr(err error) ([]any, error) {
	var ce *ctxErr
	if errors.As(err, &ce) {
		return nil, ce.err
	}
	var fe *fileStreamErr
	return b.streamErr(err, errors.As(err, &fe))
}

// writeStream writes p (if any) and flushes when asked; it returns the
// result<_, stream-error>.
func (b *binding) writeStream(s *outputStream, p []byte, flush bool) ([]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return closedErr(), nil
	}
	var err error
	if len(p) > 0 {
		err = s.dst.write(p)
	}
	if err == nil && flush {
		err = s.dst.flush()
	}
	if err != nil {
		s.closed = true
		var fe *fileStreamErr
		return b.streamErr(err, errors.As(err, &fe))
	}
	return ok(nil), nil
}

func (s *outputStream) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// sleepUntil waits until the monotonic clock reaches at, or ctx is done.
func (h *Host) sleepUntil(ctx context.Context, at uint64) error {
	for {
		now := h.mono()
		if now >= at {
			return nil
		}
		d := time.Duration(min(at-now, uint64(1<<62)))
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}
