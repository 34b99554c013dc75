package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/internal/testcomponents"
)

// TestRemoteManagement manages a two-node cluster from outside it, as
// from another machine: every command goes over NATS with the cluster
// token (`wbox --cluster nats://… --creds FILE CMD`), no data directory.
// status shows both nodes, invoke reaches front, plan diffs, logs BOX
// reaches the node that runs the box and -f follows it, --node picks a
// node, a wrong token is refused, and stop BOX stops a box.
func TestRemoteManagement(t *testing.T) {
	testcomponents.Path(t, "hello-front")
	bin := wboxBinary(t)
	da, db := t.TempDir(), t.TempDir()
	route := freeTCPPort(t)
	natsB := freeTCPPort(t)
	a := startClusterNode(t, bin, da, "a", "--cluster-listen", fmt.Sprintf("127.0.0.1:%d", route))
	startClusterNode(t, bin, db, "b", "--join", fmt.Sprintf("nats://127.0.0.1:%d", route),
		"--token-file", filepath.Join(da, "cluster.token"), "--listen", fmt.Sprintf("127.0.0.1:%d", natsB))
	topo := writeTopology(t, t.TempDir(), "topology.yaml", func(s string) string {
		// greeter on a, front on b: calls and logs cross nodes.
		s = strings.Replace(s, "  greeter:\n", "  greeter:\n    placement: {node: a}\n", 1)
		return strings.Replace(s, "  front:\n", "  front:\n    placement: {node: b}\n", 1)
	})
	a.e.ok("deploy", topo)

	creds := filepath.Join(da, "cluster.token")
	remote := func(args ...string) (string, string, int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		full := append([]string{"--cluster", fmt.Sprintf("nats://127.0.0.1:%d", natsB), "--creds", creds}, args...)
		cmd := exec.CommandContext(ctx, bin, full...)
		var out, errOut syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		cmd.Env = append(os.Environ(), "WBOX_DATA="+t.TempDir()) // no local node
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), code
	}
	ok := func(args ...string) string {
		t.Helper()
		out, errOut, code := remote(args...)
		if code != 0 {
			t.Fatalf("wbox --cluster … %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}

	waitUntil(t, 60*time.Second, "front and greeter to run on their nodes", func() bool {
		var st statusResponse
		out, _, code := remote("status", "--json")
		if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Cluster == nil {
			return false
		}
		serves := map[string]string{}
		for _, n := range st.Cluster.Nodes {
			for _, b := range n.Boxes {
				serves[b] = n.Name
			}
		}
		return len(st.Cluster.Nodes) == 2 && serves["front"] == "b" && serves["greeter"] == "a"
	})
	waitUntil(t, 30*time.Second, "front to answer", func() bool {
		out, _, code := remote("invoke", "front", "wbox:hello/app@0.1.0#hello", `"Ada"`)
		return code == 0 && strings.Contains(out, `greeting: "Hello, Ada!"`)
	})
	if out := ok("plan", topo); !strings.Contains(out, "greeter") {
		t.Errorf("remote plan:\n%s", out)
	}
	// --node a: node a answers (its status says so).
	if out := ok("--node", "a", "status"); !strings.Contains(out, "this node a") {
		t.Errorf("--node a status:\n%s", out)
	}
	// logs of greeter come from node a, where it runs.
	if out := ok("logs", "greeter"); !strings.Contains(out, `box "greeter" started`) {
		t.Errorf("remote logs greeter:\n%s", out)
	}
	// logs -f follows front on b: a stop event appears while following.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	follow := exec.CommandContext(ctx, bin, "--cluster", fmt.Sprintf("nats://127.0.0.1:%d", natsB), "--creds", creds, "logs", "-f", "--tail", "1", "front")
	var fout syncBuffer
	follow.Stdout, follow.Stderr = &fout, &fout
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "logs -f to print the kept event", func() bool { return fout.String() != "" })
	ok("stop", "front")
	waitUntil(t, 20*time.Second, "logs -f to show front stopping", func() bool { return strings.Contains(fout.String(), `box "front" stopped`) })
	follow.Process.Kill()
	follow.Wait()

	bad := filepath.Join(t.TempDir(), "bad.token")
	os.WriteFile(bad, []byte("not-the-token\n"), 0o600)
	full := []string{"--cluster", fmt.Sprintf("nats://127.0.0.1:%d", natsB), "--creds", bad, "status"}
	if out, err := exec.Command(bin, full...).CombinedOutput(); err == nil || !strings.Contains(string(out), "Authorization Violation") {
		t.Errorf("a wrong token: %v\n%s", err, out)
	}
}
