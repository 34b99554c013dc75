package tcpdriver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/wasmhost"
)

// Kind is the driver kind name used in topologies.
const Kind = "tcp"

// Interface is the interface the handling box must export.
const Interface = "wbox:tcp/handler@0.1.0"

// The functions of Interface, as kernel.Call names them.
const (
	fnOpened = Interface + "#opened"
	fnData   = Interface + "#data"
	fnClosed = Interface + "#closed"
)

// Defaults of the settings.
const (
	DefaultMaxConns     = 1024
	DefaultMaxBuffer    = 1 << 20
	DefaultReadSize     = 64 << 10
	DefaultMaxCalls     = 64
	DefaultIdleTimeout  = 5 * time.Minute
	DefaultWriteTimeout = 30 * time.Second
	// stopGrace bounds how long a stopping driver lets the calls in
	// progress finish and their replies be written.
	stopGrace = 5 * time.Second
	// minRead is the least free buffer space a read is made with.
	minRead = 4 << 10
)

// Settings are the driver's settings from the topology.
type Settings struct {
	Listen       string
	Box          string
	MaxConns     int
	MaxBuffer    int
	ReadSize     int
	MaxCalls     int
	IdleTimeout  time.Duration // 0: none
	WriteTimeout time.Duration // 0: none
}

// Stats counts a driver's connections.
type Stats struct {
	Open     int64  // connections open now
	Accepted uint64 // connections accepted and handed to the box
	Refused  uint64 // connections closed at once: over max_conns, or refused by opened
	Calls    uint64 // data calls into the box
}

// Driver is a TCP ingress task.
type Driver struct {
	name  string
	set   Settings
	call  func(ctx context.Context, box, fn string, args ...any) ([]any, error)
	log   *slog.Logger
	slots chan struct{} // max_calls tokens

	mu    sync.Mutex
	addr  net.Addr
	ready chan struct{} // closed when the first Run listens

	nextID                   atomic.Uint64
	open                     atomic.Int64
	accepted, refused, calls atomic.Uint64
}

var (
	_ kernel.Native    = (*Driver)(nil)
	_ kernel.BoxCaller = (*Driver)(nil)
)

// New is the kernel.DriverFactory for kind "tcp". It opens nothing: Run
// listens (the linker makes drivers only to check their settings).
func New(spec kernel.DriverSpec, env kernel.DriverEnv) (kernel.Native, error) {
	set, err := ParseSettings(spec.Settings)
	if err != nil {
		return nil, err
	}
	log := env.Logger
	if log == nil {
		log = slog.Default()
	}
	d := &Driver{name: spec.Name, set: set, call: env.Call, log: log, ready: make(chan struct{}),
		slots: make(chan struct{}, set.MaxCalls)}
	return d, nil
}

// ParseSettings reads the settings of a topology (YAML-decoded values):
// sizes are integers or strings with a unit ("64KiB", "1MiB"), durations
// strings ("30s", "0s" for none).
func ParseSettings(m map[string]any) (Settings, error) {
	s := Settings{MaxConns: DefaultMaxConns, MaxBuffer: DefaultMaxBuffer, ReadSize: DefaultReadSize,
		MaxCalls: DefaultMaxCalls, IdleTimeout: DefaultIdleTimeout, WriteTimeout: DefaultWriteTimeout}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		var err error
		switch k {
		case "listen":
			s.Listen, err = str(k, v)
			if err == nil {
				if _, _, e := net.SplitHostPort(s.Listen); e != nil {
					err = fmt.Errorf("setting listen: %v", e)
				}
			}
		case "box":
			s.Box, err = str(k, v)
		case "max_conns":
			s.MaxConns, err = size(k, v, 1<<20)
		case "max_buffer":
			s.MaxBuffer, err = size(k, v, 1<<30)
		case "read_size":
			s.ReadSize, err = size(k, v, 16<<20)
		case "max_calls":
			s.MaxCalls, err = size(k, v, 1<<16)
		case "idle_timeout":
			s.IdleTimeout, err = duration(k, v)
		case "write_timeout":
			s.WriteTimeout, err = duration(k, v)
		default:
			err = fmt.Errorf("unknown setting %q (tcp knows: listen, box, max_conns, max_buffer, read_size, max_calls, idle_timeout, write_timeout)", k)
		}
		if err != nil {
			return s, err
		}
	}
	if s.Listen == "" {
		return s, errors.New("setting listen is missing (e.g. listen: 127.0.0.1:6379)")
	}
	if s.Box == "" {
		return s, errors.New("setting box is missing: the box that handles the connections (it exports " + Interface + ")")
	}
	return s, nil
}

func str(k string, v any) (string, error) {
	s, ok := v.(string)
	if !ok || s == "" {
		return "", fmt.Errorf("setting %s must be a non-empty string, not %v", k, v)
	}
	return s, nil
}

// size reads a positive count or size up to max.
func size(k string, v any, max int64) (int, error) {
	var n int64 = -1
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case uint64:
		if x < 1<<62 {
			n = int64(x)
		}
	case float64:
		if x == float64(int64(x)) {
			n = int64(x)
		}
	case string:
		num, mult := x, int64(1)
		for _, u := range []struct {
			suffix string
			mult   int64
		}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000000}, {"GB", 1000000000}, {"B", 1}} {
			if strings.HasSuffix(x, u.suffix) {
				num, mult = strings.TrimSpace(strings.TrimSuffix(x, u.suffix)), u.mult
				break
			}
		}
		if p, err := strconv.ParseInt(num, 10, 64); err == nil && p > 0 && p <= max/mult {
			n = p * mult
		}
	}
	if n <= 0 || n > max {
		return 0, fmt.Errorf("setting %s must be a positive number up to %d (a size may have a unit: \"64KiB\"), not %v", k, max, v)
	}
	return int(n), nil
}

func duration(k string, v any) (time.Duration, error) {
	if s, ok := v.(string); ok {
		if d, err := time.ParseDuration(s); err == nil && d >= 0 {
			return d, nil
		}
	}
	if n, ok := v.(int); ok && n == 0 {
		return 0, nil
	}
	return 0, fmt.Errorf("setting %s must be a duration such as \"30s\" (\"0s\": none), not %v", k, v)
}

// Exports implements kernel.Native: an ingress exports nothing.
func (d *Driver) Exports() map[string]*wasmhost.InstanceType {
	return map[string]*wasmhost.InstanceType{}
}

// Bind implements kernel.Native: nothing can be bound to an ingress.
func (d *Driver) Bind(caller, export string, imports *wasmhost.HostInstance) error {
	return fmt.Errorf("tcp driver %q exports nothing (it calls box %q; it is not called)", d.name, d.set.Box)
}

// Targets implements kernel.BoxCaller: the linker checks at deploy time
// that the box of the setting box exists and exports Interface.
func (d *Driver) Targets() []kernel.Target {
	return []kernel.Target{{Box: d.set.Box, Export: Interface, Setting: "box"}}
}

// Addr returns the address the driver listens on once Run listens (nil
// before): the port of listen: 127.0.0.1:0.
func (d *Driver) Addr() net.Addr {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.addr
}

// Ready is closed once Run first listens.
func (d *Driver) Ready() <-chan struct{} { return d.ready }

// Stats returns the driver's counters.
func (d *Driver) Stats() Stats {
	return Stats{Open: d.open.Load(), Accepted: d.accepted.Load(), Refused: d.refused.Load(), Calls: d.calls.Load()}
}

// Run implements kernel.Native: it accepts connections until ctx is done,
// then stops them (see the package doc) and returns once all are closed.
func (d *Driver) Run(ctx context.Context) error {
	if d.call == nil {
		return fmt.Errorf("tcp driver %q: the kernel lent no DriverEnv.Call to reach box %q", d.name, d.set.Box)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", d.set.Listen)
	if err != nil {
		return fmt.Errorf("tcp driver %q: %w", d.name, err)
	}
	d.mu.Lock()
	d.addr = ln.Addr()
	select {
	case <-d.ready:
	default:
		close(d.ready)
	}
	d.mu.Unlock()
	d.log.Info("tcp driver listening", "addr", ln.Addr().String(), "box", d.set.Box)

	// stopping ends with ctx, or when Run fails: connections wind down.
	// hard ends stopGrace after it: the calls and writes still running then
	// are cut off.
	// Deferred in this order, they run: stop, wait for the connections
	// (within the grace period), cancel hard.
	hard, hardCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hardCancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	stopping, stop := context.WithCancel(ctx)
	defer stop()
	context.AfterFunc(stopping, func() {
		ln.Close()
		t := time.AfterFunc(stopGrace, hardCancel)
		context.AfterFunc(hard, func() { t.Stop() })
	})
	backoff := 5 * time.Millisecond
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) || isTemporary(err) {
				d.log.Warn("tcp driver: accept failed; retrying", "err", err, "in", backoff)
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
					return nil
				}
				backoff = min(2*backoff, time.Second)
				continue
			}
			return fmt.Errorf("tcp driver %q: accept on %s: %w", d.name, ln.Addr(), err)
		}
		backoff = 5 * time.Millisecond
		if d.open.Add(1) > int64(d.set.MaxConns) {
			d.open.Add(-1)
			d.refused.Add(1)
			d.log.Warn("tcp driver: connection refused: max_conns reached", "peer", c.RemoteAddr().String(), "max_conns", d.set.MaxConns)
			c.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer d.open.Add(-1)
			d.serve(stopping, hard, c)
		}()
	}
}

// isTemporary reports accept errors worth retrying: out of file
// descriptors or buffers, a connection aborted before it was accepted.
func isTemporary(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ECONNRESET)
}

// reply is a decoded wbox:tcp/handler reply record.
type reply struct {
	consumed int
	output   []byte
	close    bool
	need     int
}

// conn is one connection being served.
type conn struct {
	d    *Driver
	c    net.Conn
	id   uint64
	peer string
	hard context.Context
	log  *slog.Logger
}

// serve runs one connection to its end.
func (d *Driver) serve(ctx, hard context.Context, c net.Conn) {
	defer c.Close()
	cn := &conn{d: d, c: c, id: d.nextID.Add(1), peer: c.RemoteAddr().String(), hard: hard}
	cn.log = d.log.With("conn", cn.id, "peer", cn.peer)
	// Stopping cuts off a blocked read at once, and a blocked write once the
	// grace period is over.
	defer context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Unix(1, 0)) })()
	defer context.AfterFunc(hard, func() { c.SetDeadline(time.Unix(1, 0)) })()

	res, err := cn.callBox(fnOpened, cn.id, cn.peer)
	if err != nil {
		d.refused.Add(1)
		cn.log.Warn("tcp driver: connection closed: opened failed", "err", err)
		return
	}
	if ok, _ := res[0].(bool); !ok {
		d.refused.Add(1)
		cn.log.Debug("tcp driver: connection refused by the box")
		return
	}
	d.accepted.Add(1)
	why := cn.loop(ctx)
	cn.log.Debug("tcp driver: connection closed", "why", why)
	if _, err := cn.callBox(fnClosed, cn.id); err != nil {
		cn.log.Warn("tcp driver: closed failed", "err", err)
	}
}

// loop reads, calls the box and writes until the connection ends, and says
// why it ended.
func (cn *conn) loop(ctx context.Context) string {
	d := cn.d
	buf := make([]byte, 0, min(d.set.ReadSize, 16<<10))
	need, mustRead := 0, true
	for {
		if mustRead {
			if len(buf) >= d.set.MaxBuffer {
				cn.log.Error("tcp driver: connection closed: the box left more unconsumed bytes than max_buffer", "unconsumed", len(buf), "max_buffer", d.set.MaxBuffer)
				return "max_buffer"
			}
			if cap(buf)-len(buf) < minRead {
				nb := make([]byte, len(buf), min(max(2*cap(buf), len(buf)+d.set.ReadSize), d.set.MaxBuffer+d.set.ReadSize))
				copy(nb, buf)
				buf = nb
			}
			end := min(cap(buf), len(buf)+d.set.ReadSize)
			if d.set.IdleTimeout > 0 {
				cn.c.SetReadDeadline(time.Now().Add(d.set.IdleTimeout))
			}
			// After the deadline: stopping sets one in the past, which this
			// one must not replace.
			if ctx.Err() != nil {
				return "driver stopping"
			}
			n, err := cn.c.Read(buf[len(buf):end])
			buf = buf[:len(buf)+n]
			if err != nil {
				switch {
				case ctx.Err() != nil:
					return "driver stopping"
				case errors.Is(err, os.ErrDeadlineExceeded):
					return "idle_timeout"
				default:
					// EOF or reset: the peer is gone; what it sent without
					// waiting for an answer is not served.
					return "read: " + err.Error()
				}
			}
			if len(buf) < need {
				continue
			}
		}
		if ctx.Err() != nil {
			return "driver stopping"
		}
		d.calls.Add(1)
		res, err := cn.callBox(fnData, cn.id, buf)
		if err != nil {
			cn.log.Error("tcp driver: connection closed: data failed", "err", err)
			return "data failed"
		}
		r, err := decodeReply(res, len(buf))
		if err != nil {
			cn.log.Error("tcp driver: connection closed: bad reply from the box", "box", d.set.Box, "err", err)
			return "bad reply"
		}
		if len(r.output) > 0 {
			if d.set.WriteTimeout > 0 {
				cn.c.SetWriteDeadline(time.Now().Add(d.set.WriteTimeout))
			}
			if cn.hard.Err() != nil { // the grace period's deadline must stand
				return "driver stopped"
			}
			if _, err := cn.c.Write(r.output); err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) && cn.hard.Err() == nil {
					cn.log.Warn("tcp driver: connection closed: the peer did not take its reply within write_timeout", "write_timeout", d.set.WriteTimeout)
					return "write_timeout"
				}
				return "write: " + err.Error()
			}
		}
		if r.close {
			return "closed by the box"
		}
		rest := copy(buf, buf[r.consumed:])
		buf = buf[:rest]
		need = r.need
		if need > d.set.MaxBuffer {
			cn.log.Error("tcp driver: connection closed: the box needs more bytes than max_buffer", "need", need, "max_buffer", d.set.MaxBuffer)
			return "need over max_buffer"
		}
		mustRead = r.consumed == 0 || rest == 0 || rest < need
	}
}

// callBox calls fn of the box, holding one of the max_calls slots.
func (cn *conn) callBox(fn string, args ...any) ([]any, error) {
	select {
	case cn.d.slots <- struct{}{}:
	case <-cn.hard.Done():
		return nil, fmt.Errorf("tcp driver %q stopping: %w", cn.d.name, cn.hard.Err())
	}
	defer func() { <-cn.d.slots }()
	res, err := cn.d.call(cn.hard, cn.d.set.Box, fn, args...)
	// A box with a lower limits.max-in-flight than max_calls refuses calls
	// before running them: wait for it rather than drop the connection.
	for wait := time.Millisecond; err != nil && errors.Is(err, kernel.ErrOverloaded); wait = min(2*wait, 50*time.Millisecond) {
		select {
		case <-time.After(wait):
		case <-cn.hard.Done():
			return nil, fmt.Errorf("box %q %s (conn %d): %w", cn.d.set.Box, fn, cn.id, err)
		}
		res, err = cn.d.call(cn.hard, cn.d.set.Box, fn, args...)
	}
	if err != nil {
		return nil, fmt.Errorf("box %q %s (conn %d): %w", cn.d.set.Box, fn, cn.id, err)
	}
	if len(res) != 1 && fn != fnClosed {
		return nil, fmt.Errorf("box %q %s (conn %d): %d results, want 1", cn.d.set.Box, fn, cn.id, len(res))
	}
	return res, nil
}

// decodeReply checks a data result against the input it answers.
func decodeReply(res []any, inLen int) (reply, error) {
	rec, ok := res[0].([]any)
	if !ok || len(rec) != 4 {
		return reply{}, fmt.Errorf("data returned %T, want the record reply {consumed, output, close, need}", res[0])
	}
	consumed, ok1 := rec[0].(uint32)
	output, ok2 := rec[1].([]byte)
	cl, ok3 := rec[2].(bool)
	need, ok4 := rec[3].(uint32)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return reply{}, fmt.Errorf("data returned {%T, %T, %T, %T}, want {u32, list<u8>, bool, u32}", rec[0], rec[1], rec[2], rec[3])
	}
	if int(consumed) > inLen {
		return reply{}, fmt.Errorf("data consumed %d bytes of %d", consumed, inLen)
	}
	return reply{consumed: int(consumed), output: output, close: cl, need: int(need)}, nil
}
