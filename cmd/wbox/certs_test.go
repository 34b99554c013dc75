package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/nodes"
)

func certsCmd(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), append([]string{"certs"}, args...), &out, &errb)
	return out.String() + errb.String(), code
}

// The files `wbox certs` makes are what nodes need for TLS: two nodes
// with them form a cluster.
func TestCertsCommand(t *testing.T) {
	dir := t.TempDir()
	if out, code := certsCmd(t, "ca", "--dir", dir); code != 0 {
		t.Fatalf("certs ca: %d %s", code, out)
	}
	if fi, err := os.Stat(filepath.Join(dir, "ca.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("ca.key: %v %v", fi, err)
	}
	if out, code := certsCmd(t, "ca", "--dir", dir); code == 0 || !strings.Contains(out, "exists already") {
		t.Errorf("a second CA over the first: %d %s", code, out)
	}
	for _, n := range []string{"a", "b"} {
		out, code := certsCmd(t, "node", "--dir", dir, "--out", filepath.Join(dir, "nodes"), n, "127.0.0.1")
		if code != 0 || !strings.Contains(out, "--tls-cert") {
			t.Fatalf("certs node %s: %d %s", n, code, out)
		}
	}
	if out, code := certsCmd(t, "node", "--dir", t.TempDir(), "c"); code == 0 || !strings.Contains(out, "wbox certs ca") {
		t.Errorf("a node certificate without a CA: %d %s", code, out)
	}

	cfg := func(name string) nodes.Config {
		return nodes.Config{
			Name: name, DataDir: t.TempDir(), Listen: "127.0.0.1:0",
			Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
			Heartbeat: 50 * time.Millisecond, NoJetStream: true,
			TLSCert: filepath.Join(dir, "nodes", name+".crt"),
			TLSKey:  filepath.Join(dir, "nodes", name+".key"),
			TLSCA:   filepath.Join(dir, "ca.crt"),
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ca := cfg("a")
	ca.ClusterListen = "127.0.0.1:0"
	a, err := nodes.Start(ctx, ca)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	tok, _ := os.ReadFile(filepath.Join(ca.DataDir, nodes.TokenFileName))
	cb := cfg("b")
	cb.Join, cb.Token = []string{a.RouteURL()}, strings.TrimSpace(string(tok))
	b, err := nodes.Start(ctx, cb)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	if p := b.Peers(); !slices.Equal(p, []string{"a"}) {
		t.Errorf("b's routes: %v", p)
	}
}
