package tcpdriver_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	tcpdriver "github.com/wbox-dev/wbox/drivers/tcp"
	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/kernel"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// env is a kernel running the tcp-lines box and a tcp driver in front of it.
type env struct {
	t *testing.T
	k *kernel.Kernel
	d *tcpdriver.Driver
}

// logWriter sends the kernel's records to t.Log while the test runs.
type logWriter struct {
	mu sync.Mutex
	t  *testing.T
	on bool
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.on {
		w.t.Logf("%s", bytes.TrimRight(p, "\n"))
	}
	return len(p), nil
}

// start runs the box (instances 1) and a driver with settings on top of
// listen: 127.0.0.1:0 and box: lines.
func start(t *testing.T, settings map[string]any, boxOpts ...func(*kernel.BoxSpec)) *env {
	t.Helper()
	wasm, err := os.ReadFile(testcomponents.Path(t, "tcp-lines"))
	if err != nil {
		t.Fatal(err)
	}
	lw := &logWriter{t: t, on: testing.Verbose()}
	t.Cleanup(func() { lw.mu.Lock(); lw.on = false; lw.mu.Unlock() })
	e := &env{t: t}
	var mu sync.Mutex
	factory := func(spec kernel.DriverSpec, denv kernel.DriverEnv) (kernel.Native, error) {
		n, err := tcpdriver.New(spec, denv)
		if err == nil {
			mu.Lock()
			e.d = n.(*tcpdriver.Driver)
			mu.Unlock()
		}
		return n, err
	}
	cache, _ := os.UserCacheDir()
	k, err := kernel.New(kernel.Config{
		Logger:   slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Drivers:  map[string]kernel.DriverFactory{tcpdriver.Kind: factory},
		CacheDir: cache + "/wbox/test-compiled",
	})
	if err != nil {
		t.Fatal(err)
	}
	e.k = k
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := k.Close(ctx); err != nil {
			t.Errorf("kernel Close: %v", err)
		}
	})
	set := map[string]any{"listen": "127.0.0.1:0", "box": "lines"}
	for k, v := range settings {
		set[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	box := kernel.BoxSpec{Name: "lines", Wasm: wasm, Instances: 1,
		Restart: kernel.RestartPolicy{Backoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}}
	for _, o := range boxOpts {
		o(&box)
	}
	err = k.Apply(ctx, &kernel.Plan{
		Start:        []kernel.BoxSpec{box},
		StartDrivers: []kernel.DriverSpec{{Name: "port", Kind: tcpdriver.Kind, Settings: set}},
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	d := e.d
	mu.Unlock()
	select {
	case <-d.Ready():
	case <-ctx.Done():
		t.Fatal("the driver never listened")
	}
	return e
}

// client is one connection to the driver.
type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func (e *env) dial() *client {
	e.t.Helper()
	c, err := net.Dial("tcp", e.d.Addr().String())
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &client{t: e.t, c: c, r: bufio.NewReaderSize(c, 1<<16)}
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) line() string {
	c.t.Helper()
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read a line: %v (got %q)", err, l)
	}
	return strings.TrimSuffix(l, "\n")
}

func (c *client) ask(req string) string {
	c.t.Helper()
	c.send(req + "\n")
	return c.line()
}

// closed checks that the driver closed the connection (after any bytes
// still in flight).
func (c *client) closed() {
	c.t.Helper()
	n, err := io.Copy(io.Discard, c.r)
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		c.t.Fatalf("want the connection closed by the driver, got %v after %d bytes", err, n)
	}
}

// waitFor polls cond until it holds (or fails the test after 60s).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEchoAndPipelining(t *testing.T) {
	e := start(t, nil)
	c := e.dial()
	if got := c.ask("hello"); got != "hello" {
		t.Fatalf("echo: %q", got)
	}
	if got := c.ask("with\r"); got != "with" {
		t.Fatalf("CRLF: %q", got)
	}
	// A pipeline in one write, answered in order; a request split over
	// writes is answered once it is whole.
	var b strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&b, "req-%d\n", i)
	}
	c.send(b.String())
	for i := range 2000 {
		if got, want := c.line(), fmt.Sprintf("req-%d", i); got != want {
			t.Fatalf("pipelined reply %d: %q, want %q", i, got, want)
		}
	}
	c.send("spl")
	c.send("it\n")
	if got := c.line(); got != "split" {
		t.Fatalf("split request: %q", got)
	}
	if got := c.ask("quit"); got != "bye" {
		t.Fatalf("quit: %q", got)
	}
	c.closed()
	waitFor(t, "the connection to be gone", func() bool { return e.d.Stats().Open == 0 })
}

// A reply is capped at 64 KiB by the box: the rest of a pipeline is handed
// back to it without reading more.
func TestPiecemealReplies(t *testing.T) {
	e := start(t, nil)
	c := e.dial()
	before := e.d.Stats().Calls
	c.send(strings.Repeat("big 50000\n", 40) + "done\n")
	want := strings.Repeat("x", 50000)
	for i := range 40 {
		if got := c.line(); got != want {
			t.Fatalf("reply %d: %d bytes", i, len(got))
		}
	}
	if got := c.line(); got != "done" {
		t.Fatalf("last reply %q", got)
	}
	if calls := e.d.Stats().Calls - before; calls < 20 {
		t.Fatalf("%d data calls for 40 replies of 50 KB: the box caps a reply at 64 KiB", calls)
	}
}

// need: a box that knows how many bytes it waits for is not called again
// before they are there.
func TestNeed(t *testing.T) {
	e := start(t, nil)
	c := e.dial()
	c.ask("x")
	before := e.d.Stats().Calls
	c.send("#100000\n")
	chunk := strings.Repeat("b", 1000)
	for range 100 {
		c.send(chunk)
		time.Sleep(200 * time.Microsecond) // separate reads, not a timing check
	}
	if got := c.line(); got != "blob 100000" {
		t.Fatalf("blob: %q", got)
	}
	if calls := e.d.Stats().Calls - before; calls > 3 {
		t.Fatalf("%d data calls while a 100 KB blob arrived in 100 writes; want at most 3 (the box asked for it all)", calls)
	}
	if got := c.ask("after"); got != "after" {
		t.Fatalf("after the blob: %q", got)
	}
}

// A peer that does not read its replies is not read either: the box is not
// called for the whole pipeline while the socket buffers are full.
func TestBackpressure(t *testing.T) {
	e := start(t, nil)
	c := e.dial()
	const n = 64
	c.send(strings.Repeat("big 1000000\n", n))
	// Let the driver run as far as it can; a driver without backpressure
	// would call the box for all 64 MB (64 calls).
	time.Sleep(500 * time.Millisecond)
	if calls := e.d.Stats().Calls; calls >= n {
		t.Fatalf("%d data calls with the peer reading nothing: no backpressure", calls)
	}
	for i := range n {
		if got := c.line(); len(got) != 1000000 {
			t.Fatalf("reply %d: %d bytes", i, len(got))
		}
	}
	if got := c.ask("ok"); got != "ok" {
		t.Fatalf("after: %q", got)
	}
}

// write_timeout closes a connection whose peer stopped reading.
func TestSlowClientWriteTimeout(t *testing.T) {
	e := start(t, map[string]any{"write_timeout": "200ms"})
	c := e.dial()
	c.send(strings.Repeat("big 4000000\n", 16)) // more than the socket buffers hold
	waitFor(t, "the stalled connection to be closed", func() bool { return e.d.Stats().Open == 0 })
	// The driver still serves others.
	if got := e.dial().ask("alive"); got != "alive" {
		t.Fatalf("after: %q", got)
	}
}

// A box that accepts fewer calls at once than the driver makes gets them
// in turn: connections are not dropped for an overloaded box.
func TestOverloadedBoxWaits(t *testing.T) {
	e := start(t, map[string]any{"max_calls": 16}, func(b *kernel.BoxSpec) { b.Limits.MaxInFlight = 1 })
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for i := range 3 { // the box refuses a fourth connection
		c := e.dial()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 300 {
				want := fmt.Sprintf("c%d-%d", i, j)
				if _, err := io.WriteString(c.c, want+"\n"); err != nil {
					errs <- err
					return
				}
				l, err := c.r.ReadString('\n')
				if err != nil || l != want+"\n" {
					errs <- fmt.Errorf("conn %d request %d: %q, %v", i, j, l, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestIdleTimeout(t *testing.T) {
	e := start(t, map[string]any{"idle_timeout": "100ms"})
	c := e.dial()
	if got := c.ask("a"); got != "a" {
		t.Fatalf("echo: %q", got)
	}
	c.closed()
}

func TestMaxBuffer(t *testing.T) {
	e := start(t, map[string]any{"max_buffer": "1KiB", "read_size": 512})
	// A line longer than max_buffer.
	c := e.dial()
	c.send(strings.Repeat("y", 3000))
	c.closed()
	// A blob announced larger than max_buffer.
	c = e.dial()
	c.send("#5000\n")
	c.closed()
	// Within the cap all is well, even in small reads.
	c = e.dial()
	line := strings.Repeat("z", 1000)
	if got := c.ask(line); got != line {
		t.Fatalf("a 1000-byte line: %d bytes back", len(got))
	}
}

func TestMaxConns(t *testing.T) {
	e := start(t, map[string]any{"max_conns": 2})
	a, b := e.dial(), e.dial()
	a.ask("a")
	b.ask("b")
	c := e.dial()
	c.closed()
	if e.d.Stats().Refused == 0 {
		t.Fatal("the third connection was not counted as refused")
	}
	b.ask("quit")
	b.closed()
	waitFor(t, "a free slot", func() bool { return e.d.Stats().Open == 1 })
	if got := e.dial().ask("again"); got != "again" {
		t.Fatalf("after a slot freed: %q", got)
	}
}

// opened may refuse, and closed is called: the box counts its connections
// and refuses a fourth.
func TestOpenedAndClosed(t *testing.T) {
	e := start(t, nil)
	cs := []*client{e.dial(), e.dial(), e.dial()}
	for _, c := range cs {
		c.ask("hi")
	}
	if got := cs[0].ask("open"); got != "3" {
		t.Fatalf("open = %s, want 3", got)
	}
	e.dial().closed() // refused by the box
	cs[2].ask("quit")
	cs[2].closed()
	waitFor(t, "closed to be called", func() bool { return e.d.Stats().Open == 2 })
	if got := cs[0].ask("open"); got != "2" {
		t.Fatalf("open = %s after one closed, want 2", got)
	}
}

// A box that traps or answers nonsense loses the connection, not the driver.
func TestBoxFaults(t *testing.T) {
	e := start(t, nil)
	c := e.dial()
	c.send("trap\n")
	c.closed()
	c = e.dial()
	c.send("bad\n")
	c.closed()
	// The box restarts after its trap; new connections are served again.
	waitFor(t, "the box to serve again", func() bool {
		c, err := net.Dial("tcp", e.d.Addr().String())
		if err != nil {
			return false
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "ping\n")
		l, _ := bufio.NewReader(c).ReadString('\n')
		return l == "ping\n"
	})
}

// Stopping the driver closes the listener and every connection, and Run
// returns (goleak checks nothing is left).
func TestStop(t *testing.T) {
	e := start(t, nil)
	a, b := e.dial(), e.dial()
	a.ask("one")
	b.send("par") // a request half-sent
	addr := e.d.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.k.Apply(ctx, &kernel.Plan{Keep: []string{"lines"}, StopDrivers: []string{"port"}}); err != nil {
		t.Fatal(err)
	}
	a.closed()
	b.closed()
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("the listener still accepts after stop")
	}
}

// A call in progress when the driver stops finishes, and its reply is
// written before the connection closes.
func TestStopLetsCallsFinish(t *testing.T) {
	e := start(t, nil)
	c := e.dial()
	c.ask("warm")
	before := e.d.Stats().Calls
	c.send("spin 20\n")
	waitFor(t, "the slow call to start", func() bool { return e.d.Stats().Calls > before })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.k.Apply(ctx, &kernel.Plan{Keep: []string{"lines"}, StopDrivers: []string{"port"}}); err != nil {
		t.Fatal(err)
	}
	if got := c.line(); got != "spun" {
		t.Fatalf("reply to the call in progress: %q", got)
	}
	c.closed()
}

func TestSettings(t *testing.T) {
	for want, set := range map[string]map[string]any{
		"listen is missing":          {"box": "b"},
		"box is missing":             {"listen": "127.0.0.1:1"},
		"unknown setting \"lisen\"":  {"lisen": "x", "listen": "127.0.0.1:1", "box": "b"},
		"setting listen":             {"listen": "nope", "box": "b"},
		"max_buffer must be":         {"listen": "127.0.0.1:1", "box": "b", "max_buffer": "-1KiB"},
		"idle_timeout must be":       {"listen": "127.0.0.1:1", "box": "b", "idle_timeout": 5},
		"max_conns must be":          {"listen": "127.0.0.1:1", "box": "b", "max_conns": 0},
		"box must be a non-empty":    {"listen": "127.0.0.1:1", "box": 3},
		"write_timeout must be a du": {"listen": "127.0.0.1:1", "box": "b", "write_timeout": "soon"},
	} {
		_, err := tcpdriver.ParseSettings(set)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("settings %v: error %v, want %q", set, err, want)
		}
	}
	s, err := tcpdriver.ParseSettings(map[string]any{"listen": "127.0.0.1:6379", "box": "redis", "max_buffer": "2MiB", "idle_timeout": "0s", "max_calls": 8})
	if err != nil {
		t.Fatal(err)
	}
	if s.MaxBuffer != 2<<20 || s.IdleTimeout != 0 || s.MaxCalls != 8 || s.MaxConns != tcpdriver.DefaultMaxConns {
		t.Fatalf("parsed %+v", s)
	}
}
