package wasi

import (
	"context"
	"errors"
	"io"
	"reflect"
	"time"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// Hooks for host packages that build on wasi:io, such as wasmhost/wasihttp:
// its bodies are wasi:io streams and its futures are wasi:io pollables,
// which must live in the same tables as the ones this package serves (a
// guest polls them together). The handles they return carry the resource
// types of the Imports the Host returned last.

// ResourceType returns the resource type the last Imports registered under
// name ("input-stream", "output-stream", "pollable", "error", ...), or nil.
func (h *Host) ResourceType(name string) *value.ResourceType {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rts[name]
}

// NewInputStream returns an own handle to a wasi:io input-stream reading r.
// Reads, non-blocking ones too, wait for r; io.EOF closes the stream and any
// other error fails it with a wasi:io/error holding the error (see
// IOError). The guest's drop of the handle does not close r.
func (h *Host) NewInputStream(r io.Reader) (value.Handle, error) {
	rt := h.ResourceType("input-stream")
	if rt == nil {
		return value.Handle{}, errNoImports
	}
	return insert(h, &h.inputs, rt, &inputStream{src: &ioReader{r: r}})
}

// NewOutputStream returns an own handle to a wasi:io output-stream writing
// w. Writes are complete or fail (then the stream fails with a
// wasi:io/error holding the error, or is closed when the error is
// io.ErrClosedPipe); flush calls w's Flush() error method if it has one.
func (h *Host) NewOutputStream(w io.Writer) (value.Handle, error) {
	rt := h.ResourceType("output-stream")
	if rt == nil {
		return value.Handle{}, errNoImports
	}
	return insert(h, &h.outputs, rt, &outputStream{dst: &ioWriter{w: w}})
}

// NewPollable returns an own handle to a wasi:io pollable that becomes ready
// once ready is closed.
func (h *Host) NewPollable(ready <-chan struct{}) (value.Handle, error) {
	rt := h.ResourceType("pollable")
	if rt == nil {
		return value.Handle{}, errNoImports
	}
	if ready == nil {
		return value.Handle{}, errors.New("wasi: NewPollable: nil channel")
	}
	return insert(h, &h.pollables, rt, &pollable{ready: ready})
}

// IOError returns the Go error behind a wasi:io/error handle.
func (h *Host) IOError(hd value.Handle) (error, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.errs.Get(hd.Rep)
	if !ok || h.closed {
		return nil, false
	}
	return e.err, true
}

var errNoImports = errors.New("wasi: the Host has no Imports yet")

// waitUntil waits until one of chans is closed, the monotonic clock reaches
// at, or ctx is done.
func (h *Host) waitUntil(ctx context.Context, chans []<-chan struct{}, at uint64) error {
	var timer <-chan time.Time
	if at != ^uint64(0) {
		now := h.mono()
		if now >= at {
			return nil
		}
		t := time.NewTimer(time.Duration(min(at-now, uint64(1<<62))))
		defer t.Stop()
		timer = t.C
	}
	return waitAny(ctx, chans, timer)
}

// waitAny waits until one of chans is closed, timer fires, or ctx is done.
func waitAny(ctx context.Context, chans []<-chan struct{}, timer <-chan time.Time) error {
	if len(chans) == 1 {
		select {
		case <-chans[0]:
		case <-timer:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	}
	cases := make([]reflect.SelectCase, 0, len(chans)+2)
	cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())})
	if timer != nil {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(timer)})
	}
	for _, c := range chans {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c)})
	}
	if i, _, _ := reflect.Select(cases); i == 0 {
		return ctx.Err()
	}
	return nil
}
