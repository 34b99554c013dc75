package bench

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/nodes"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// twoNodes starts two nodes whose embedded NATS servers are clustered over
// a route on 127.0.0.1 (real sockets), as two machines would be.
func twoNodes(b *testing.B) (a, c *nodes.Node) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfgA := nodes.Config{Name: "a", DataDir: b.TempDir(), Listen: "127.0.0.1:0", ClusterListen: "127.0.0.1:0", Logger: log}
	a, err := nodes.Start(ctx, cfgA)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close(context.Background()) })
	tok, err := os.ReadFile(filepath.Join(cfgA.DataDir, nodes.TokenFileName))
	if err != nil {
		b.Fatal(err)
	}
	c, err = nodes.Start(ctx, nodes.Config{Name: "b", DataDir: b.TempDir(), Listen: "127.0.0.1:0",
		Join: []string{a.RouteURL()}, Token: string(tok[:len(tok)-1]), Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close(context.Background()) })
	return a, c
}

// waitReachable calls until the remote box answers (interest crosses the
// route asynchronously).
func waitReachable(b *testing.B, call func(ctx context.Context) error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := call(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			b.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var (
	pointType = value.RecordOf(value.Field{Name: "x", Type: value.S32}, value.Field{Name: "y", Type: value.S32})
	callType  = &value.FuncType{
		Params:  []value.Param{{Name: "p", Type: pointType}, {Name: "hops", Type: value.U32}},
		Results: []value.Param{{Type: pointType}},
	}
	relayExports = map[string]*wasmhost.InstanceType{relayIface: {Exports: []wasmhost.Extern{
		{Name: "point", Kind: wasmhost.ExternType, Type: pointType},
		{Name: "call", Kind: wasmhost.ExternFunc, Func: callType},
	}}}
)

// BenchmarkRemoteCall: a call through a remote arrow's stand-in on node a
// to a box served by node b — the relay interface's call(point, u32) ->
// point, answered by Go code in place of the box — against a raw nats.go
// request-reply over the same two servers with the same payload bytes both
// ways (the encoded arguments, the encoded result), answered by a plain
// subscription. The difference is what remote arrows add to NATS: typed
// encoding and decoding, the deadline header, the served call's
// goroutine and context. Sequential calls, interleaved in chunks.
func BenchmarkRemoteCall(b *testing.B) {
	a, c := twoNodes(b)
	ctx := context.Background()
	leafCall := func(_ context.Context, _, _ string, args ...any) ([]any, error) {
		p := args[0].([]any)
		return []any{[]any{p[0].(int32) + 1000, p[1]}}, nil
	}
	if err := c.Serve("leaf", relayExports, leafCall); err != nil {
		b.Fatal(err)
	}
	r, err := a.Remote("leaf", relayExports)
	if err != nil {
		b.Fatal(err)
	}
	args := []any{[]any{int32(1), int32(2)}, uint32(0)}
	// The same bytes, raw: what the remote call sends and answers.
	req := []byte{0x01, 0x02, 0x00}
	resp := []byte{0xe9, 0x07, 0x02}
	sub, err := c.Conn().Subscribe("bench.raw", func(m *nats.Msg) { m.Respond(resp) })
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Unsubscribe()
	c.Conn().Flush()
	waitReachable(b, func(ctx context.Context) error { _, err := r.Call(ctx, relayCall, args); return err })
	waitReachable(b, func(ctx context.Context) error {
		_, err := a.Conn().RequestWithContext(ctx, "bench.raw", req)
		return err
	})

	raw := func() {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		m, err := a.Conn().RequestWithContext(ctx, "bench.raw", req)
		if err != nil || len(m.Data) != 3 {
			b.Fatal(err)
		}
	}
	remote := func() {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		res, err := r.Call(ctx, relayCall, args)
		if err != nil || res[0].([]any)[0] != int32(1001) {
			b.Fatal(res, err)
		}
	}
	pairP50(b, 64, raw, remote)
}

// BenchmarkRemoteArrow: box relay calls box leaf through an arrow, both
// real components, entered through Kernel.Call on node a. The baseline has
// leaf beside relay on a (a local arrow); the subject has leaf on node b,
// reached through a remote arrow (relay's kernel → stand-in → NATS route →
// b's responder → b's kernel → leaf). The difference is the price of a box
// moving to another machine on the same host.
func BenchmarkRemoteArrow(b *testing.B) {
	a, c := twoNodes(b)
	ctx := context.Background()
	relay, leaf := readComponent(b, "relay"), readComponent(b, "leaf")

	kb := newKernel(b)
	deploy(b, kb, kernel.BoxSpec{Name: "leaf", Wasm: leaf})
	rt, err := kb.Runtime(ctx)
	if err != nil {
		b.Fatal(err)
	}
	lc, err := rt.Load(ctx, leaf)
	if err != nil {
		b.Fatal(err)
	}
	exports := nodes.ExportsOf(lc.World())
	lc.Close(ctx)
	if err := c.Serve("leaf", exports, kb.Call); err != nil {
		b.Fatal(err)
	}

	dir, err := os.UserCacheDir()
	if err != nil {
		dir = b.TempDir()
	}
	ka, err := kernel.New(kernel.Config{
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		CacheDir: dir + "/wbox/test-compiled",
		Drivers:  map[string]kernel.DriverFactory{nodes.RemoteKind: a.RemoteDriver(nil)},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ka.Close(context.Background()) })
	if err := ka.Apply(ctx, &kernel.Plan{
		StartDrivers: []kernel.DriverSpec{{Name: "far-leaf", Kind: nodes.RemoteKind,
			Settings: map[string]any{"box": "leaf", "exports": exports}}},
		Start: []kernel.BoxSpec{
			{Name: "leaf", Wasm: leaf},
			{Name: "relay", Wasm: relay, Arrows: []kernel.Arrow{{Import: relayIface, Target: "leaf", Export: relayIface}}},
			{Name: "far-relay", Wasm: relay, Arrows: []kernel.Arrow{{Import: relayIface, Target: "far-leaf", Export: relayIface}}},
		},
	}); err != nil {
		b.Fatal(err)
	}
	p := []any{int32(1), int32(2)}
	waitReachable(b, func(ctx context.Context) error {
		_, err := ka.Call(ctx, "far-leaf", relayCall, p, uint32(0))
		return err
	})
	local := func() {
		if _, err := ka.Call(ctx, "relay", relayCall, p, uint32(1)); err != nil {
			b.Fatal(err)
		}
	}
	remote := func() {
		if _, err := ka.Call(ctx, "far-relay", relayCall, p, uint32(1)); err != nil {
			b.Fatal(err)
		}
	}
	pairP50(b, 64, local, remote)
}
