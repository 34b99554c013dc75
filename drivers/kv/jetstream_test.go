package kv_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wbox-dev/wbox/drivers/kv"
	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// forBackends runs test against a node whose kv drivers keep their data in
// bbolt, then against one whose drivers use a JetStream bucket of an
// in-process nats-server: the same semantics, checked by the same table.
func forBackends(t *testing.T, test func(t *testing.T, n *node)) {
	t.Run(kv.BackendBbolt, func(t *testing.T) { test(t, newNode(t, t.TempDir())) })
	t.Run(kv.BackendJetStream, func(t *testing.T) { test(t, newJetStreamNode(t)) })
}

// startJetStream runs a nats-server with JetStream on a random port of
// 127.0.0.1 and returns a JetStream client of it.
func startJetStream(t *testing.T) jetstream.JetStream {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func jetStreamFactory(js jetstream.JetStream) kernel.DriverFactory {
	return kv.NewFactory(kv.Options{
		JetStream: func(context.Context) (jetstream.JetStream, error) { return js, nil },
		Replicas:  func() int { return 1 },
	})
}

func newJetStreamNode(t *testing.T) *node {
	t.Helper()
	n := newNodeWith(t, t.TempDir(), jetStreamFactory(startJetStream(t)))
	n.jetstream, n.maxKey, n.maxValue = true, kv.MaxJetStreamKeyBytes, kv.MaxJetStreamValueBytes
	return n
}

// Two kernels (two nodes) with their own kv drivers on one JetStream bucket
// see one store: what a box that moves after a failover reads; increments
// from both at once lose nothing.
func TestJetStreamSharedAcrossKernels(t *testing.T) {
	js := startJetStream(t)
	a := newNodeWith(t, t.TempDir(), jetStreamFactory(js))
	b := newNodeWith(t, t.TempDir(), jetStreamFactory(js))
	a.jetstream, b.jetstream = true, true
	a.mustDeploy(oneBox)
	b.mustDeploy(oneBox)
	a.call("app", "incr", "b", "hits", int64(5))
	if got := b.call("app", "incr", "b", "hits", int64(1)).(int64); got != 6 {
		t.Fatalf("the other node's increment = %d, want 6", got)
	}
	// 8 callers, half on each node, increment one key: none is lost.
	const callers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, callers*each)
	for i := range callers {
		n := []*node{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				res, err := n.k.Call(ctx, "app", "wbox:kv-probe/probe@0.1.0#incr", "b", "hits", int64(1))
				cancel()
				if err == nil && res[0].(value.Variant).Case != 0 {
					err = fmt.Errorf("%v", res[0].(value.Variant).Value)
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := optString(a.call("app", "get", "b", "hits")); got != fmt.Sprint(6+callers*each) {
		t.Fatalf("after %d increments from two nodes: %q, want %d", callers*each, got, 6+callers*each)
	}
	a.call("app", "set", "b", "we/ird key.*>", "x")
	if got := optString(b.call("app", "get", "b", "we/ird key.*>")); got != "x" {
		t.Fatalf("a key with subject characters, read on the other node: %q", got)
	}
	if keys := b.call("app", "list-all", "b").([]any); fmt.Sprint(keys) != "[hits we/ird key.*>]" {
		t.Fatalf("list-all = %v", keys)
	}
	// The bucket is the driver's, named after it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.KeyValue(ctx, "wbox_kv_kv")
	if err != nil {
		t.Fatal(err)
	}
	if status, err := st.Status(ctx); err != nil || status.Values() != 2 {
		t.Fatalf("bucket wbox_kv_kv: %v values, %v", status.Values(), err)
	}
}

// Outside a cluster, backend jetstream is a topology error at the driver.
func TestJetStreamRefusedWithoutCluster(t *testing.T) {
	n := newNode(t, t.TempDir())
	err := n.deploy(strings.Replace(oneBox, "{kind: kv}", "{kind: kv, backend: jetstream}", 1))
	if err == nil || !strings.Contains(err.Error(), "backend: jetstream needs a cluster") || !strings.Contains(err.Error(), "topology.yaml:5") {
		t.Fatalf("deploy = %v", err)
	}
	err = n.deploy(strings.Replace(oneBox, "{kind: kv}", "{kind: kv, backend: etcd}", 1))
	if err == nil || !strings.Contains(err.Error(), "want bbolt or jetstream, not etcd") {
		t.Fatalf("deploy = %v", err)
	}
}
