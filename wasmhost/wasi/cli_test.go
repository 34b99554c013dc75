package wasi

import (
	"bufio"
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

func TestEnvironment(t *testing.T) {
	x := newTester(t, Config{
		Args: []string{"app", "-v"},
		Env:  [][2]string{{"A", "1"}, {"B", "two=2"}},
		Cwd:  "/work",
	})
	env := x.call("wasi:cli/environment#get-environment")
	if got := fmt.Sprint(env); got != "[[A 1] [B two=2]]" {
		t.Errorf("get-environment = %s", got)
	}
	if got := fmt.Sprint(x.call("wasi:cli/environment#get-arguments")); got != "[app -v]" {
		t.Errorf("get-arguments = %s", got)
	}
	if got := x.call("wasi:cli/environment#initial-cwd"); got != value.Some("/work") {
		t.Errorf("initial-cwd = %v", got)
	}

	empty := newTester(t, Config{})
	if got := empty.call("wasi:cli/environment#get-environment").([]any); len(got) != 0 {
		t.Errorf("empty get-environment = %v", got)
	}
	if got := empty.call("wasi:cli/environment#initial-cwd"); got != value.None() {
		t.Errorf("initial-cwd = %v, want none", got)
	}
}

func TestExit(t *testing.T) {
	x := newTester(t, Config{})
	for _, c := range []struct {
		name string
		arg  any
		code int
	}{
		{"wasi:cli/exit#exit", value.Ok(nil), 0},
		{"wasi:cli/exit#exit", value.Err(nil), 1},
		{"wasi:cli/exit#exit-with-code", uint8(42), 42},
	} {
		_, err := x.try(context.Background(), c.name, c.arg)
		// wasmhost wraps the error of a host function; errors.As must see
		// through that.
		err = fmt.Errorf("component trapped: %w", err)
		var exit *ExitError
		if !errors.As(err, &exit) || exit.Code != c.code {
			t.Errorf("%s(%v): %v, want exit status %d", c.name, c.arg, err, c.code)
		}
	}
}

func TestTerminalsAreAbsent(t *testing.T) {
	x := newTester(t, Config{})
	for _, f := range []string{"wasi:cli/terminal-stdin#get-terminal-stdin", "wasi:cli/terminal-stdout#get-terminal-stdout", "wasi:cli/terminal-stderr#get-terminal-stderr"} {
		if got := x.call(f); got != value.None() {
			t.Errorf("%s = %v, want none", f, got)
		}
	}
}

const (
	fRead      = "wasi:io/streams#[method]input-stream.read"
	fBRead     = "wasi:io/streams#[method]input-stream.blocking-read"
	fSkip      = "wasi:io/streams#[method]input-stream.skip"
	fCheck     = "wasi:io/streams#[method]output-stream.check-write"
	fWrite     = "wasi:io/streams#[method]output-stream.write"
	fBWrite    = "wasi:io/streams#[method]output-stream.blocking-write-and-flush"
	fFlush     = "wasi:io/streams#[method]output-stream.flush"
	fBFlush    = "wasi:io/streams#[method]output-stream.blocking-flush"
	fZeroes    = "wasi:io/streams#[method]output-stream.write-zeroes"
	fBZeroes   = "wasi:io/streams#[method]output-stream.blocking-write-zeroes-and-flush"
	fSplice    = "wasi:io/streams#[method]output-stream.splice"
	fBSplice   = "wasi:io/streams#[method]output-stream.blocking-splice"
	fDebug     = "wasi:io/error#[method]error.to-debug-string"
	fReady     = "wasi:io/poll#[method]pollable.ready"
	fBlock     = "wasi:io/poll#[method]pollable.block"
	fPoll      = "wasi:io/poll#poll"
	fMonoNow   = "wasi:clocks/monotonic-clock#now"
	fSubDur    = "wasi:clocks/monotonic-clock#subscribe-duration"
	fSubInst   = "wasi:clocks/monotonic-clock#subscribe-instant"
	fGetStdout = "wasi:cli/stdout#get-stdout"
	fGetStderr = "wasi:cli/stderr#get-stderr"
	fGetStdin  = "wasi:cli/stdin#get-stdin"
)

var closed = value.Err(value.Variant{Case: 1})

func TestStdout(t *testing.T) {
	var out, errOut bytes.Buffer
	x := newTester(t, Config{Stdout: &out, Stderr: &errOut})
	so := x.call(fGetStdout)
	if got := x.ok(fCheck, so); got != uint64(writeBudget) {
		t.Errorf("check-write = %v", got)
	}
	x.ok(fWrite, so, []byte("hello "))
	x.ok(fBWrite, so, []byte("world"))
	x.ok(fZeroes, so, uint64(2))
	x.ok(fBZeroes, so, uint64(1))
	x.ok(fFlush, so)
	x.ok(fBFlush, so)
	x.ok(fWrite, so, []byte{}) // empty writes are fine
	if got := out.String(); got != "hello world\x00\x00\x00" {
		t.Errorf("stdout got %q", got)
	}
	se := x.call(fGetStderr)
	x.ok(fBWrite, se, []byte("oops"))
	if errOut.String() != "oops" {
		t.Errorf("stderr got %q", errOut.String())
	}
	// Too many zeroes for the budget trap.
	if _, err := x.try(context.Background(), fZeroes, so, uint64(writeBudget+1)); err == nil {
		t.Error("write-zeroes beyond the budget succeeded")
	}
	// Always ready.
	p := x.call("wasi:io/streams#[method]output-stream.subscribe", so)
	if x.call(fReady, p) != true {
		t.Error("stdout pollable is not ready")
	}
	x.call(fBlock, p)
	x.drop(handle(p))
	x.drop(handle(so))
	x.drop(handle(se))
}

func TestNilStdioDiscardsAndEOF(t *testing.T) {
	x := newTester(t, Config{})
	x.ok(fBWrite, x.call(fGetStdout), []byte("into the void"))
	in := x.call(fGetStdin)
	if got := x.call(fBRead, in, uint64(10)); got != closed {
		t.Errorf("blocking-read of nil stdin = %v, want closed", got)
	}
}

func TestFlushCallsFlush(t *testing.T) {
	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	x := newTester(t, Config{Stdout: bw})
	so := x.call(fGetStdout)
	x.ok(fWrite, so, []byte("buffered"))
	if out.Len() != 0 {
		t.Fatalf("written through before flush: %q", out.String())
	}
	x.ok(fFlush, so)
	if out.String() != "buffered" {
		t.Errorf("after flush: %q", out.String())
	}
	x.ok(fBWrite, so, []byte("!"))
	if out.String() != "buffered!" {
		t.Errorf("after blocking-write-and-flush: %q", out.String())
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write(p []byte) (int, error) { return 0, w.err }

func TestWriteFailure(t *testing.T) {
	x := newTester(t, Config{Stdout: failingWriter{errors.New("disk on fire")}, Stderr: failingWriter{io.ErrClosedPipe}})
	so := x.call(fGetStdout)
	v := x.call(fWrite, so, []byte("x")).(value.Variant)
	if v.Case != 1 {
		t.Fatalf("write to a failing writer = %v", v)
	}
	se := v.Value.(value.Variant)
	if se.Case != 0 {
		t.Fatalf("stream-error = %v, want last-operation-failed", se)
	}
	e := handle(se.Value)
	if e.Type.Name != "error" || e.Type.Interface != "wasi:io/error@0.2.0" {
		t.Errorf("error handle type %v", e.Type)
	}
	if got := x.call(fDebug, e); got != "disk on fire" {
		t.Errorf("to-debug-string = %q", got)
	}
	if got := x.call("wasi:filesystem/types#filesystem-error-code", e); got != value.None() {
		t.Errorf("filesystem-error-code of a stdout error = %v", got)
	}
	x.drop(e)
	// After a failure the stream is closed.
	if got := x.call(fWrite, so, []byte("x")); got != closed {
		t.Errorf("write after failure = %v, want closed", got)
	}
	if got := x.call(fCheck, so); got != closed {
		t.Errorf("check-write after failure = %v, want closed", got)
	}
	// A closed pipe is closed at once.
	if got := x.call(fBWrite, x.call(fGetStderr), []byte("x")); got != closed {
		t.Errorf("write to a closed pipe = %v, want closed", got)
	}
	if n := x.h.errs.Len(); n != 0 {
		t.Errorf("%d error resources left after drop", n)
	}
}

// oneByteReader returns one byte per Read, then EOF with the last byte.
type oneByteReader struct{ s string }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	p[0] = r.s[0]
	r.s = r.s[1:]
	if r.s == "" {
		return 1, io.EOF
	}
	return 1, nil
}

func TestStdin(t *testing.T) {
	x := newTester(t, Config{Stdin: strings.NewReader("hello, world")})
	in := x.call(fGetStdin)
	if got := x.ok(fRead, in, uint64(5)); string(got.([]byte)) != "hello" {
		t.Errorf("read = %q", got)
	}
	if got := x.ok(fRead, in, uint64(0)); len(got.([]byte)) != 0 {
		t.Errorf("read(0) = %q", got)
	}
	if got := x.ok(fSkip, in, uint64(2)); got != uint64(2) {
		t.Errorf("skip = %v", got)
	}
	if got := x.ok(fBRead, in, uint64(100)); string(got.([]byte)) != "world" {
		t.Errorf("blocking-read = %q", got)
	}
	if got := x.call(fRead, in, uint64(1)); got != closed {
		t.Errorf("read at EOF = %v", got)
	}
	if got := x.call(fSkip, in, uint64(1)); got != closed {
		t.Errorf("skip at EOF = %v", got)
	}

	// Data returned together with EOF is delivered before closed.
	y := newTester(t, Config{Stdin: &oneByteReader{"ab"}})
	in = y.call(fGetStdin)
	var got []byte
	for {
		v := y.call(fBRead, in, uint64(10)).(value.Variant)
		if v.Case != 0 {
			break
		}
		got = append(got, v.Value.([]byte)...)
	}
	if string(got) != "ab" {
		t.Errorf("read %q", got)
	}
}

func TestSplice(t *testing.T) {
	var out bytes.Buffer
	x := newTester(t, Config{Stdin: strings.NewReader("spliced text"), Stdout: &out})
	in, so := x.call(fGetStdin), x.call(fGetStdout)
	if got := x.ok(fSplice, so, in, uint64(7)); got != uint64(7) {
		t.Errorf("splice = %v", got)
	}
	if got := x.ok(fBSplice, so, in, uint64(100)); got != uint64(5) {
		t.Errorf("blocking-splice = %v", got)
	}
	if got := x.call(fBSplice, so, in, uint64(100)); got != closed {
		t.Errorf("splice at EOF = %v, want closed", got)
	}
	if out.String() != "spliced text" {
		t.Errorf("stdout %q", out.String())
	}
}

func TestPoll(t *testing.T) {
	x := newTester(t, Config{})
	now := x.call(fMonoNow).(uint64)
	later := x.call(fSubDur, uint64(30*time.Millisecond))
	never := x.call(fSubInst, now+uint64(time.Hour))
	past := x.call(fSubInst, uint64(0))
	if x.call(fReady, later) != false || x.call(fReady, past) != true {
		t.Error("ready is wrong")
	}
	if got := fmt.Sprint(x.call(fPoll, []any{later, never, past})); got != "[2]" {
		t.Errorf("poll = %s, want [2]", got)
	}
	start := time.Now()
	if got := fmt.Sprint(x.call(fPoll, []any{never, later})); got != "[1]" {
		t.Errorf("poll = %s, want [1]", got)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("poll returned after %v, before the pollable's instant", d)
	}
	if x.call(fReady, later) != true {
		t.Error("not ready after poll")
	}
	x.call(fBlock, later)

	// Waits end with the context.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := x.try(ctx, fBlock, never); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("block on a cancelled context: %v", err)
	}
	if _, err := x.try(ctx, fPoll, []any{never}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("poll on a cancelled context: %v", err)
	}
	// An empty poll traps.
	if _, err := x.try(context.Background(), fPoll, []any{}); err == nil {
		t.Error("poll([]) succeeded")
	}
	for _, p := range []any{later, never, past} {
		x.drop(handle(p))
	}
	if _, err := x.try(context.Background(), fReady, later); err == nil {
		t.Error("ready on a dropped pollable succeeded")
	}
}

func TestClosedHost(t *testing.T) {
	h := New(Config{})
	h.Imports()
	x := &tester{t: t, h: h}
	so := x.call(fGetStdout)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := x.try(context.Background(), fWrite, so, []byte("x")); !errors.Is(err, errClosed) {
		t.Errorf("write after Close: %v", err)
	}
	if _, err := x.try(context.Background(), fGetStdout); !errors.Is(err, errClosed) {
		t.Errorf("get-stdout after Close: %v", err)
	}
	if err := h.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
