package nodes

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/kernel"
)

// startHub starts a node accepting leaf nodes; mod may change its
// configuration first.
func startHub(t *testing.T, mod func(*Config)) (*Node, string) {
	t.Helper()
	c := testConfig(t, "hub")
	c.LeafListen = "127.0.0.1:0"
	if mod != nil {
		mod(&c)
	}
	hub := startNode(t, c)
	tok, err := readToken(filepath.Join(c.DataDir, TokenFileName))
	if err != nil {
		t.Fatal(err)
	}
	return hub, tok
}

// An edge node connected out to a hub's leaf port (no route, no port open
// on the edge): membership both ways, a remote arrow from a box on the
// edge to a box on the hub and back, and the cluster state (component
// store, leases) through the hub's JetStream.
func TestLeafNode(t *testing.T) {
	leafWasm := readComponent(t, "leaf")
	relayWasm := readComponent(t, "relay")
	const relayIface = "wbox:test/relay@0.1.0"
	hub, tok := startHub(t, nil)
	if !strings.HasPrefix(hub.LeafURL(), "nats://127.0.0.1:") {
		t.Fatalf("leaf URL %q", hub.LeafURL())
	}
	c := testConfig(t, "edge")
	c.Leaf, c.Token = []string{hub.LeafURL()}, tok
	edge := startNode(t, c)
	if edge.RouteURL() != "" || edge.LeafURL() != "" {
		t.Errorf("the edge node listens: routes %q, leaf %q", edge.RouteURL(), edge.LeafURL())
	}
	waitFor(t, 5*time.Second, "both to see each other", func() bool {
		return slices.Equal(names(hub.Members()), []string{"edge", "hub"}) &&
			slices.Equal(names(edge.Members()), []string{"edge", "hub"})
	})
	if l := hub.Leaves(); !slices.Equal(l, []string{"edge"}) {
		t.Errorf("hub's leaf nodes: %v", l)
	}

	// leaf runs on the hub, relay on the edge; relay's arrow to leaf
	// crosses the leaf connection, and so does a call from the hub to a
	// box on the edge.
	kh := newKernel(t, map[string]kernel.DriverFactory{RemoteKind: hub.RemoteDriver(nil)})
	ke := newKernel(t, map[string]kernel.DriverFactory{RemoteKind: edge.RemoteDriver(nil)})
	exports := exportsOfWasm(t, kh, leafWasm)
	apply(t, kh, &kernel.Plan{Start: []kernel.BoxSpec{{Name: "leaf", Wasm: leafWasm}}})
	if err := hub.Serve("leaf", exports, kh.Call); err != nil {
		t.Fatal(err)
	}
	apply(t, ke, &kernel.Plan{
		StartDrivers: []kernel.DriverSpec{{Name: "leaf", Kind: RemoteKind, Settings: map[string]any{"exports": exports}}},
		Start: []kernel.BoxSpec{{Name: "relay", Wasm: relayWasm,
			Arrows: []kernel.Arrow{{Import: relayIface, Target: "leaf", Export: relayIface}}}},
	})
	if err := edge.Serve("relay", exports, ke.Call); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := []any{int32(1), int32(2)}
	want := []any{[]any{int32(1002), int32(3)}}
	var res []any
	waitFor(t, 10*time.Second, "relay (edge) → leaf (hub)", func() bool {
		var err error
		res, err = ke.Call(ctx, "relay", relayIface+"#call", p, uint32(1))
		return err == nil
	})
	if !reflect.DeepEqual(res, want) {
		t.Errorf("relay → leaf across the leaf connection: %v, want %v", res, want)
	}
	waitFor(t, 5*time.Second, "the hub to see relay on the edge", func() bool { return slices.Equal(hub.Where("relay"), []string{"edge"}) })
	hubRelay := newKernel(t, map[string]kernel.DriverFactory{RemoteKind: hub.RemoteDriver(nil)})
	apply(t, hubRelay, &kernel.Plan{StartDrivers: []kernel.DriverSpec{{Name: "relay", Kind: RemoteKind, Settings: map[string]any{"exports": exports}}}})
	if res, err := hubRelay.Call(ctx, "relay", relayIface+"#call", p, uint32(1)); err != nil || !reflect.DeepEqual(res, want) {
		t.Errorf("hub → relay (edge) → leaf (hub): %v %v", res, err)
	}

	// The edge's cluster state is the hub's JetStream.
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wasm := bytes.Repeat([]byte("\x00asm edge "), 1000)
	digest, err := edge.PutComponent(ctx, wasm)
	if err != nil {
		t.Fatalf("storing a component from the edge: %v", err)
	}
	if b, err := hub.Component(ctx, digest); err != nil || !bytes.Equal(b, wasm) {
		t.Errorf("the hub fetching the edge's component: %d bytes, %v", len(b), err)
	}
	l, err := edge.Campaign(ctx, "reconciler")
	if err != nil {
		t.Fatalf("a lease from the edge: %v", err)
	}
	if h, err := hub.LeaseHolder(ctx, "reconciler"); err != nil || h != "edge" {
		t.Errorf("lease holder seen from the hub: %q %v", h, err)
	}
	l.Release(ctx)

	// The edge leaves: the hub forgets it at once.
	closeNode(t, edge)
	waitFor(t, 5*time.Second, "the hub to forget the edge", func() bool {
		return slices.Equal(names(hub.Members()), []string{"hub"})
	})
}

func TestLeafWrongToken(t *testing.T) {
	hub, _ := startHub(t, nil)
	c := testConfig(t, "intruder")
	c.Leaf, c.Token = []string{hub.LeafURL()}, "not-the-cluster-token-0123456789"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := Start(ctx, c)
	if err == nil {
		closeNode(t, n)
		t.Fatal("an edge node with the wrong token connected")
	}
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "token") {
		t.Errorf("error %q: want ErrRefused naming the token", err)
	}
	if l := hub.Leaves(); len(l) != 0 {
		t.Errorf("hub's leaf nodes: %v", l)
	}
}

func TestLeafTLS(t *testing.T) {
	ca := newTestCA(t)
	hub, tok := startHub(t, func(c *Config) { ca.useTLS(t, c) })
	c := testConfig(t, "edge")
	c.Leaf, c.Token = []string{hub.LeafURL()}, tok
	ca.useTLS(t, &c)
	startNode(t, c)
	waitFor(t, 5*time.Second, "the hub to see the edge", func() bool {
		return slices.Equal(names(hub.Members()), []string{"edge", "hub"})
	})
	lz, err := hub.srv.Leafz(nil)
	if err != nil || len(lz.Leafs) != 1 {
		t.Fatalf("leafz: %v %v", lz, err)
	}
	// An edge node with the token but another CA's certificate is refused.
	c = testConfig(t, "stranger")
	c.Leaf, c.Token = []string{hub.LeafURL()}, tok
	newTestCA(t).useTLS(t, &c)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := Start(ctx, c)
	if err == nil {
		closeNode(t, n)
		t.Fatal("an edge node with another CA's certificate connected")
	}
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("error %q: want ErrRefused naming TLS", err)
	}
}

func TestLeafAndJoinExclusive(t *testing.T) {
	c := testConfig(t, "both")
	c.Leaf, c.Join, c.Token = []string{"nats://127.0.0.1:7422"}, []string{"nats://127.0.0.1:6222"}, "0123456789abcdef0123"
	if _, err := Start(context.Background(), c); err == nil || !strings.Contains(err.Error(), "--leaf and --join") {
		t.Errorf("error %v", err)
	}
}
