package wasi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// The hooks wasmhost/wasihttp builds on: streams over Go readers and
// writers, pollables over channels, and the Go error behind an io error.
func TestHooks(t *testing.T) {
	if _, err := New(Config{}).NewPollable(make(chan struct{})); err == nil {
		t.Error("NewPollable before Imports succeeded")
	}
	x := newTester(t, Config{})
	h := x.h

	// A channel pollable is ready once the channel is closed; poll waits
	// for it beside clock pollables.
	ch := make(chan struct{})
	p, err := h.NewPollable(ch)
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != h.ResourceType("pollable") {
		t.Errorf("pollable of type %s", p.Type)
	}
	now := x.call(fMonoNow).(uint64)
	never := x.call(fSubInst, now+uint64(time.Hour))
	if x.call(fReady, p) != false {
		t.Error("ready before close")
	}
	time.AfterFunc(20*time.Millisecond, func() { close(ch) })
	if got := fmt.Sprint(x.call(fPoll, []any{never, p})); got != "[1]" {
		t.Errorf("poll = %s, want [1]", got)
	}
	if x.call(fReady, p) != true {
		t.Error("not ready after close")
	}
	x.call(fBlock, p)
	ch2 := make(chan struct{})
	p2, _ := h.NewPollable(ch2)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := x.try(ctx, fBlock, p2); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("block on a cancelled context: %v", err)
	}
	if _, err := x.try(ctx, fPoll, []any{p2, never}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("poll on a cancelled context: %v", err)
	}
	soon := x.call(fSubDur, uint64(10*time.Millisecond))
	if got := fmt.Sprint(x.call(fPoll, []any{p2, soon})); got != "[1]" {
		t.Errorf("poll = %s, want [1] (the clock)", got)
	}
	for _, hd := range []any{p, p2, never, soon} {
		x.drop(handle(hd))
	}

	// Input streams.
	boom := errors.New("boom")
	in, err := h.NewInputStream(io.MultiReader(strings.NewReader("abc"), &errReader{boom}))
	if err != nil {
		t.Fatal(err)
	}
	if got := x.ok(fRead, in, uint64(10)); !bytes.Equal(got.([]byte), []byte("abc")) {
		t.Errorf("read = %q", got)
	}
	res := x.call(fRead, in, uint64(10)).(value.Variant)
	se, _ := res.Value.(value.Variant)
	if res.Case != 1 || se.Case != 0 {
		t.Fatalf("read after the error = %v, want last-operation-failed", res)
	}
	if e, ok := h.IOError(se.Value.(value.Handle)); !ok || !errors.Is(e, boom) {
		t.Errorf("IOError = %v, %v", e, ok)
	}
	if _, ok := h.IOError(value.Handle{Rep: 999}); ok {
		t.Error("IOError of an unknown handle")
	}
	x.drop(se.Value.(value.Handle))
	x.drop(in)

	// Output streams flush through Flush() error.
	var w flushBuf
	out, err := h.NewOutputStream(&w)
	if err != nil {
		t.Fatal(err)
	}
	x.ok(fBWrite, out, []byte("hi"))
	if w.String() != "hi" || w.flushes != 1 {
		t.Errorf("wrote %q with %d flushes", w.String(), w.flushes)
	}
	x.drop(out)
}

type errReader struct{ err error }

func (r *errReader) Read([]byte) (int, error) { return 0, r.err }

type flushBuf struct {
	bytes.Buffer
	flushes int
}

func (b *flushBuf) Flush() error { b.flushes++; return nil }
