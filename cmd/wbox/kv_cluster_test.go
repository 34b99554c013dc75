package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/internal/testcomponents"
)

// A kv driver with backend: jetstream in a three-node cluster runs on every
// node, and the box bound to it runs on one; the box counts, its node is
// SIGKILLed, the box runs on a survivor and reads the same count (the data
// is in a replicated JetStream bucket, not in the dead node's file).
func TestClusterKVJetStreamFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three wbox nodes")
	}
	probe := testcomponents.Path(t, "kv-probe")
	bin := wboxBinary(t)
	port := freeTCPPort(t)
	seedURL := fmt.Sprintf("nats://127.0.0.1:%d", port)
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	ns := []*clusterNode{startClusterNode(t, bin, dirs[0], "n0", "--cluster-listen", fmt.Sprintf("127.0.0.1:%d", port))}
	tok, err := os.ReadFile(filepath.Join(dirs[0], "cluster.token"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 3; i++ {
		ns = append(ns, startClusterNode(t, bin, dirs[i], fmt.Sprintf("n%d", i), "--join", seedURL, "--token", strings.TrimSpace(string(tok))))
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range ns {
				t.Logf("log of %s:\n%s", n.name, n.stderr)
			}
		}
	})
	waitUntil(t, 20*time.Second, "every node to see three members", func() bool {
		for _, n := range ns {
			if st := n.status(); st.Cluster == nil || len(st.Cluster.Nodes) != 3 {
				return false
			}
		}
		return true
	})
	topo := filepath.Join(t.TempDir(), "topology.yaml")
	if err := os.WriteFile(topo, []byte(`
boxes:
  app: {component: `+probe+`}
drivers:
  kv: {kind: kv, backend: jetstream}
arrows:
  - {from: app.wasi:keyvalue/store, to: kv}
  - {from: app.wasi:keyvalue/atomics, to: kv}
  - {from: app.wasi:keyvalue/batch, to: kv}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "deploy", "--data", dirs[0], topo).CombinedOutput()
	if err != nil {
		t.Fatalf("deploy: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "kv (kv)") || !strings.Contains(string(out), "-> n0,n1,n2") {
		t.Errorf("deploy does not place the jetstream kv driver on every node:\n%s", out)
	}
	var where string
	waitUntil(t, 5*time.Minute, "app to run", func() bool {
		p := placedOn(ns[0].status(), "app")
		if len(p) != 1 {
			return false
		}
		where = p[0]
		return true
	})
	byName := map[string]*clusterNode{}
	for _, n := range ns {
		byName[n.name] = n
	}
	var caller *clusterNode
	for _, n := range ns {
		if n.name != where {
			caller = n
		}
	}
	waitUntil(t, 5*time.Minute, "the first increment", func() bool {
		o, _, code := caller.e.run("invoke", "app", "incr", `"b"`, `"n"`, "5")
		return code == 0 && o == "ok(5)\n"
	})
	if got := caller.e.ok("invoke", "app", "incr", `"b"`, `"n"`, "2"); got != "ok(7)\n" {
		t.Fatalf("incr = %q", got)
	}
	byName[where].kill()
	killed := time.Now()
	var got string
	waitUntil(t, 60*time.Second, "app to answer on a survivor", func() bool {
		o, _, code := caller.e.run("invoke", "app", "get", `"b"`, `"n"`)
		got = o
		return code == 0 && strings.HasPrefix(o, "ok(")
	})
	t.Logf("app's node %s SIGKILLed: app answered on a survivor after %s", where, time.Since(killed).Round(time.Millisecond))
	if got != "ok(some(\"7\"))\n" {
		t.Fatalf("the count after the failover = %q, want 7", got)
	}
	waitUntil(t, 15*time.Second, "the reconciler to place app on a survivor", func() bool {
		p := placedOn(caller.status(), "app")
		return len(p) == 1 && p[0] != where
	})
	if got := caller.e.ok("invoke", "app", "incr", `"b"`, `"n"`, "1"); got != "ok(8)\n" {
		t.Errorf("incr after the failover = %q", got)
	}
}
