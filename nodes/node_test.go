package nodes

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestSingleNodeEmbedded(t *testing.T) {
	cfg := testConfig(t, "solo")
	n := startNode(t, cfg)
	if !strings.HasPrefix(n.ClientURL(), "nats://127.0.0.1:") {
		t.Errorf("client URL %q: want loopback", n.ClientURL())
	}
	if n.RouteURL() != "" {
		t.Errorf("a node without --cluster-listen accepts routes at %s", n.RouteURL())
	}
	// A fresh node made a token only its owner can read.
	fi, err := os.Stat(filepath.Join(cfg.DataDir, TokenFileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", fi.Mode().Perm())
	}
	// JetStream works and stores in the data directory.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	js, err := jetstream.New(n.Conn())
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, "k")
	if err != nil || string(e.Value()) != "v" {
		t.Fatalf("kv get: %v %v", e, err)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "nats", "jetstream")); err != nil {
		t.Errorf("no JetStream store in the data directory: %v", err)
	}
}

func TestClientsNeedTheToken(t *testing.T) {
	cfg := testConfig(t, "guarded")
	n := startNode(t, cfg)
	for name, opts := range map[string][]nats.Option{
		"no token":    nil,
		"wrong token": {nats.Token("0123456789abcdef0123456789abcdef")},
	} {
		nc, err := nats.Connect(n.ClientURL(), append(opts, nats.Timeout(2*time.Second))...)
		if err == nil {
			nc.Close()
			t.Errorf("%s: connected", name)
		} else if !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("%s: %v, want an authorization error", name, err)
		}
	}
	tok, err := readToken(filepath.Join(cfg.DataDir, TokenFileName))
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(n.ClientURL(), nats.Token(tok))
	if err != nil {
		t.Fatalf("with the token: %v", err)
	}
	nc.Close()
}

func TestRestartKeepsToken(t *testing.T) {
	cfg := testConfig(t, "again")
	n := startNode(t, cfg)
	tok1, _ := readToken(filepath.Join(cfg.DataDir, TokenFileName))
	closeNode(t, n)
	startNode(t, cfg)
	tok2, _ := readToken(filepath.Join(cfg.DataDir, TokenFileName))
	if tok1 == "" || tok1 != tok2 {
		t.Errorf("token changed across a restart: %q -> %q", tok1, tok2)
	}
}

func TestClusterOfThree(t *testing.T) {
	ns := startCluster(t, 3, nil)
	// A message published on one node reaches a subscriber on another.
	sub, err := ns[2].Conn().SubscribeSync("t.hello")
	if err != nil {
		t.Fatal(err)
	}
	ns[2].Conn().Flush()
	// Interest propagates asynchronously over the routes.
	waitFor(t, 5*time.Second, "interest to propagate", func() bool {
		ns[0].Conn().Publish("t.hello", []byte("hi"))
		m, err := sub.NextMsg(20 * time.Millisecond)
		return err == nil && string(m.Data) == "hi"
	})
	// JetStream is clustered: a bucket replicated on the three nodes,
	// written through one and read through another.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	js0, err := ns[0].JetStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	js2, _ := jetstream.New(ns[2].Conn())
	// The meta leader learns of its peers a moment after it answers.
	var kv jetstream.KeyValue
	waitFor(t, 10*time.Second, "a bucket on three peers", func() bool {
		kv, err = js0.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "t", Replicas: 3})
		if err != nil && !strings.Contains(err.Error(), "peer") {
			t.Fatal(err)
		}
		return err == nil
	})
	if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	kv2, err := js2.KeyValue(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	if e, err := kv2.Get(ctx, "k"); err != nil || string(e.Value()) != "v" {
		t.Fatalf("get through n2: %v, %v", e, err)
	}
	// The joiners stored the token for their restarts.
	for _, n := range ns[1:] {
		if _, err := readToken(filepath.Join(n.cfg.DataDir, TokenFileName)); err != nil {
			t.Errorf("%s: %v", n.Name(), err)
		}
	}
}

func TestWrongTokenIsRefused(t *testing.T) {
	ns := startCluster(t, 2, nil)
	c := testConfig(t, "intruder")
	c.Join = []string{ns[0].RouteURL()}
	c.Token = "not-the-cluster-token-0123456789"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := Start(ctx, c)
	if err == nil {
		closeNode(t, n)
		t.Fatal("a node with the wrong token joined")
	}
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "token") {
		t.Errorf("error %q: want ErrRefused naming the token", err)
	}
	for _, m := range ns {
		for _, p := range m.Peers() {
			if p == "intruder" {
				t.Errorf("%s has a route to the intruder", m.Name())
			}
		}
	}
}

func TestJoinWithoutToken(t *testing.T) {
	ns := startCluster(t, 1, nil)
	c := testConfig(t, "tokenless")
	c.Join = []string{ns[0].RouteURL()}
	_, err := Start(context.Background(), c)
	if !errors.Is(err, ErrNoToken) {
		t.Fatalf("error %v, want ErrNoToken", err)
	}
}

func TestExternalNATS(t *testing.T) {
	hub := startNode(t, testConfig(t, "hub"))
	tok, _ := readToken(filepath.Join(hub.cfg.DataDir, TokenFileName))

	c := testConfig(t, "leafy")
	c.DataDir = ""
	c.NATS = hub.ClientURL()
	c.Token = tok
	n := startNode(t, c)
	if n.ClientURL() != "" {
		t.Errorf("a node on an external NATS runs a server at %s", n.ClientURL())
	}
	sub, _ := hub.Conn().SubscribeSync("t.x")
	hub.Conn().Flush()
	n.Conn().Publish("t.x", []byte("1"))
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		t.Fatal(err)
	}

	c.Name = "badleafy"
	c.Token = "wrong-token-wrong-token-wrong"
	if n, err := Start(context.Background(), c); err == nil {
		closeNode(t, n)
		t.Fatal("connected with a wrong token")
	} else if !errors.Is(err, ErrRefused) {
		t.Errorf("error %v, want ErrRefused", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, c := range map[string]Config{
		"no data dir":  {Name: "x"},
		"bad name":     {Name: "a.b", DataDir: "/tmp"},
		"bad cluster":  {Name: "x", Cluster: "a b", DataDir: "/tmp"},
		"bad listen":   {Name: "x", DataDir: t.TempDir(), Listen: "nope", Token: "0123456789abcdef0"},
		"short token":  {Name: "x", DataDir: t.TempDir(), Token: "short"},
		"bad join URL": {Name: "x", DataDir: t.TempDir(), Token: "0123456789abcdef0", Join: []string{"http://x:1"}},
	} {
		if n, err := Start(context.Background(), c); err == nil {
			closeNode(t, n)
			t.Errorf("%s: started", name)
		}
	}
}

func TestRegisterFlags(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	c.RegisterFlags(fs)
	err := fs.Parse([]string{"--name", "attic", "--join", "nats://a:6222,nats://b:6222", "--join", "c:7222",
		"--label", "zone=home", "--label", "arch=arm64", "--token", "0123456789abcdef0", "--cluster-listen", "0.0.0.0:6222"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "attic" || len(c.Join) != 3 || c.Labels["zone"] != "home" || c.Labels["arch"] != "arm64" ||
		c.Token != "0123456789abcdef0" || c.ClusterListen != "0.0.0.0:6222" {
		t.Errorf("%+v", c)
	}
	if u, err := routeURL("c:7222"); err != nil || u.String() != "nats://c:7222" {
		t.Errorf("%v %v", u, err)
	}
	if u, err := routeURL("nats://c"); err != nil || u.Host != "c:6222" {
		t.Errorf("%v %v", u, err)
	}
	if err := fs.Parse([]string{"--label", "novalue"}); err == nil {
		t.Error("a label without = was accepted")
	}
}
