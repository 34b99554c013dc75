package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/internal/testcomponents"
)

// An edge node behind NAT: `wbox node --leaf` connects out to a hub's
// leaf port (`--leaf-listen`), both with certificates from `wbox certs`
// (TLS with client certificates) and the token. The hello example,
// deployed through the edge, is placed across both; front is called on
// the node where greeter does not run, so arrows cross the leaf
// connection.
func TestEdgeNode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs two wbox nodes")
	}
	for _, c := range []string{"hello-front", "hello-greeter", "hello-counter"} {
		testcomponents.Path(t, c)
	}
	bin := wboxBinary(t)
	certs := t.TempDir()
	certsCmd := func(args ...string) {
		if out, err := exec.Command(bin, append([]string{"certs"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("wbox certs %v: %v\n%s", args, err, out)
		}
	}
	certsCmd("ca", "--dir", certs)
	tlsFlags := func(name string) []string {
		certsCmd("node", "--dir", certs, "--out", certs, name)
		return []string{"--tls-cert", filepath.Join(certs, name+".crt"), "--tls-key", filepath.Join(certs, name+".key"),
			"--tls-ca", filepath.Join(certs, "ca.crt")}
	}
	port := freeTCPPort(t)
	hubDir, edgeDir := t.TempDir(), t.TempDir()
	hub := startClusterNode(t, bin, hubDir, "hub", append([]string{"--leaf-listen", fmt.Sprintf("127.0.0.1:%d", port)}, tlsFlags("hub")...)...)
	tok, err := os.ReadFile(filepath.Join(hubDir, "cluster.token"))
	if err != nil {
		t.Fatal(err)
	}
	edge := startClusterNode(t, bin, edgeDir, "edge", append([]string{"--leaf", fmt.Sprintf("nats://127.0.0.1:%d", port),
		"--token", strings.TrimSpace(string(tok))}, tlsFlags("edge")...)...)
	waitUntil(t, 20*time.Second, "both nodes to see two members", func() bool {
		for _, n := range []*clusterNode{hub, edge} {
			if st := n.status(); st.Cluster == nil || len(st.Cluster.Nodes) != 2 {
				return false
			}
		}
		return true
	})

	topo := writeTopology(t, t.TempDir(), "topology.yaml", nil)
	if out := edge.e.ok("deploy", topo); !strings.Contains(out, "deployment 1 of ") {
		t.Fatalf("deploy through the edge:\n%s", out)
	}
	waitUntil(t, 5*time.Minute, "both nodes to run their share", func() bool {
		return strings.Contains(hub.stderr.String(), "applied the cluster's assignment") &&
			strings.Contains(edge.stderr.String(), "applied the cluster's assignment")
	})
	st := hub.status()
	greeter := placedOn(st, "greeter")
	if len(greeter) != 1 {
		t.Fatalf("greeter placed on %v:\n%s", greeter, hub.e.ok("status"))
	}
	caller := hub
	if greeter[0] == "hub" {
		caller = edge
	}
	waitUntil(t, 30*time.Second, "hello through "+caller.name, func() bool {
		out, _, code := caller.e.run("invoke", "front", "hello", `"Ada"`)
		return code == 0 && strings.Contains(out, `greeting: "Hello, Ada!"`)
	})
}
