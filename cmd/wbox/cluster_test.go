package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/internal/testcomponents"
)

// clusterNode is one `wbox node` process of a test cluster.
type clusterNode struct {
	name   string
	e      *e2e
	cmd    *exec.Cmd
	stderr *syncBuffer
}

// startClusterNode starts `wbox node --data DIR --name NAME ARGS...` on
// 127.0.0.1 and waits until its management socket answers.
func startClusterNode(t *testing.T, bin, data, name string, args ...string) *clusterNode {
	t.Helper()
	full := append([]string{"node", "--data", data, "--name", name, "--listen", "127.0.0.1:0"}, args...)
	cmd := exec.Command(bin, full...)
	out, errOut := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &clusterNode{name: name, e: &e2e{t: t, bin: bin, data: data}, cmd: cmd, stderr: errOut}
	t.Cleanup(func() { n.stop(t) })
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, serr, code := n.e.run("status")
		if code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s does not answer: %s\nits log:\n%s", name, serr, errOut)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return n
}

// stop stops the node with SIGTERM (it leaves the cluster cleanly).
func (n *clusterNode) stop(t *testing.T) {
	if n.cmd.ProcessState != nil {
		return
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { n.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		n.cmd.Process.Kill()
		<-done
		t.Errorf("node %s did not stop on SIGTERM:\n%s", n.name, n.stderr)
	}
}

// kill kills the node with SIGKILL: no goodbye, its sockets closed by the
// OS.
func (n *clusterNode) kill() {
	n.cmd.Process.Signal(syscall.SIGKILL)
	n.cmd.Wait()
}

func (n *clusterNode) status() statusResponse {
	n.e.t.Helper()
	return n.e.status()
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ingressAddr returns where the node's HTTP ingress listens, from its log.
func ingressAddr(n *clusterNode) string {
	log := n.stderr.String()
	i := strings.LastIndex(log, `msg="http driver listening"`)
	if i < 0 {
		return ""
	}
	line := log[i:]
	if j := strings.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	for _, f := range strings.Fields(line) {
		if a, ok := strings.CutPrefix(f, "addr="); ok {
			return a
		}
	}
	return ""
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// placedOn returns the nodes the cluster's status places task on.
func placedOn(st statusResponse, task string) []string {
	if st.Cluster == nil {
		return nil
	}
	for _, p := range st.Cluster.Placement {
		if p.Task == task {
			return p.Nodes
		}
	}
	return nil
}

// servers returns the nodes serving box, as st's node sees them.
func servers(st statusResponse, box string) []string {
	var out []string
	if st.Cluster == nil {
		return nil
	}
	for _, m := range st.Cluster.Nodes {
		if m.State != "lost" && m.State != "unreachable" && slices.Contains(m.Boxes, box) {
			out = append(out, m.Name)
		}
	}
	return out
}

// The done-test of clustering: three real `wbox node` processes on
// 127.0.0.1 form a cluster; the hello example is deployed through one of
// them and placed across all three; a call crosses nodes; the node
// running greeter is SIGKILLed and greeter serves again on a survivor;
// the killed node comes back and runs nothing twice; a node with the wrong
// token is refused.
func TestClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three wbox nodes")
	}
	for _, c := range []string{"hello-front", "hello-greeter", "hello-counter", "http-go"} {
		testcomponents.Path(t, c)
	}
	bin := wboxBinary(t)
	port := freeTCPPort(t)
	seedURL := fmt.Sprintf("nats://127.0.0.1:%d", port)
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	ns := []*clusterNode{startClusterNode(t, bin, dirs[0], "n0", "--cluster-listen", fmt.Sprintf("127.0.0.1:%d", port))}
	tok, err := os.ReadFile(filepath.Join(dirs[0], "cluster.token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tok))
	for i := 1; i < 3; i++ {
		ns = append(ns, startClusterNode(t, bin, dirs[i], fmt.Sprintf("n%d", i), "--join", seedURL, "--token", token))
	}
	waitUntil(t, 20*time.Second, "every node to see three members", func() bool {
		for _, n := range ns {
			if st := n.status(); st.Cluster == nil || len(st.Cluster.Nodes) != 3 {
				return false
			}
		}
		return true
	})

	// A node with the wrong token is refused, and says so.
	bad := &e2e{t: t, bin: bin, data: t.TempDir()}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "node", "--data", bad.data, "--name", "intruder", "--listen", "127.0.0.1:0",
		"--join", seedURL, "--token", strings.Repeat("0", len(token))).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "refused") {
		t.Errorf("a node with the wrong token: err %v, output:\n%s", err, out)
	}

	// Deploy through n1: the topology's components go into the cluster's
	// store, and the reconciler places the boxes on all three nodes.
	// The hello example plus an HTTP ingress (on every node, each on a
	// free port of 127.0.0.1) routing to a Go wasi:http box.
	web := testcomponents.Path(t, "http-go")
	topo := writeTopology(t, t.TempDir(), "topology.yaml", func(s string) string {
		s = strings.Replace(s, "boxes:\n", "boxes:\n  web:\n    component: "+web+"\n", 1)
		return strings.Replace(s, "drivers:\n", "drivers:\n  ingress:\n    kind: http\n    listen: 127.0.0.1:0\n    routes:\n      - {path: /, box: web}\n", 1)
	})
	// (deploy links every component on its node first: under load a
	// cold compile can take a while)
	dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer dcancel()
	depOut, err := exec.CommandContext(dctx, bin, "deploy", "--data", dirs[1], topo).CombinedOutput()
	if err != nil {
		t.Fatalf("deploy: %v\n%s\nits node's log:\n%s", err, depOut, ns[1].stderr)
	}
	dep := string(depOut)
	for _, want := range []string{"deployment 1 of ", "front", "greeter", "counter", "kv (kv)", "beside kv", "ingress (http)   -> n0,n1,n2", "web              -> n0,n1,n2"} {
		if !strings.Contains(dep, want) {
			t.Errorf("deploy output lacks %q:\n%s", want, dep)
		}
	}
	if strings.Contains(dep, "nowhere") {
		t.Fatalf("deploy:\n%s", dep)
	}
	// Every node compiles the components once (then they are cached).
	waitUntil(t, 5*time.Minute, "every node to run its share", func() bool {
		for _, n := range ns {
			if !strings.Contains(n.stderr.String(), "applied the cluster's assignment") || ingressAddr(n) == "" {
				return false
			}
		}
		return true
	})
	st := ns[0].status()
	where := map[string]string{}
	for _, task := range []string{"front", "greeter", "counter", "kv (kv)"} {
		p := placedOn(st, task)
		if len(p) != 1 {
			t.Fatalf("%s placed on %v:\n%s", task, p, ns[0].e.ok("status"))
		}
		where[task] = p[0]
	}
	if where["counter"] != where["kv (kv)"] {
		t.Errorf("counter (%s) does not run beside its kv driver (%s)", where["counter"], where["kv (kv)"])
	}
	used := map[string]bool{where["front"]: true, where["greeter"]: true, where["counter"]: true}
	if len(used) != 3 {
		t.Errorf("three boxes on three empty nodes, yet placed on %v", where)
	}
	byName := map[string]*clusterNode{}
	for _, n := range ns {
		byName[n.name] = n
	}
	// Call front from a node where it does not run: the call crosses to
	// front's node, and front's arrows cross to greeter's and counter's.
	var caller *clusterNode
	for _, n := range ns {
		if n.name != where["front"] && n.name != where["greeter"] {
			caller = n
		}
	}
	if got := caller.e.ok("invoke", "front", "hello", `"Ada"`); got != "{greeting: \"Hello, Ada!\", visits: 1}\n" {
		t.Fatalf("hello through %s = %q", caller.name, got)
	}
	if text := caller.e.ok("status"); !strings.Contains(text, "NODE") || !strings.Contains(text, "RUNS ON") {
		t.Errorf("status lacks the cluster:\n%s", text)
	}
	// plan explains placement: the deployed topology changes nothing; a
	// box pinned to an unknown node runs nowhere, and plan says why.
	if plan := caller.e.ok("plan", topo); !strings.Contains(plan, "placement on 3 live nodes (n0, n1, n2)") ||
		!strings.Contains(plan, "= greeter") || !strings.Contains(plan, "stays on "+where["greeter"]) {
		t.Errorf("plan of the deployed topology:\n%s", plan)
	}
	pinned := writeTopology(t, t.TempDir(), "pinned.yaml", func(s string) string {
		return strings.Replace(s, "    config:\n      language: en\n", "    config:\n      language: en\n    placement: {node: n9}\n", 1)
	})
	if plan := caller.e.ok("plan", pinned); !strings.Contains(plan, "pinned to n9; runs nowhere: n0: not node n9") {
		t.Errorf("plan of a box pinned to an unknown node:\n%s", plan)
	}

	// SIGKILL greeter's node; greeter serves again on a survivor.
	victim := byName[where["greeter"]]
	if victim == caller {
		t.Fatal("the caller is the victim")
	}
	// Meanwhile the caller's HTTP ingress keeps answering.
	httpDone := make(chan struct{})
	type httpResult struct {
		ok, failed int
		last       string
	}
	httpRes := make(chan httpResult, 1)
	go func() {
		var r httpResult
		hc := &http.Client{Timeout: 5 * time.Second}
		url := "http://" + ingressAddr(caller) + "/hello"
		for {
			select {
			case <-httpDone:
				httpRes <- r
				return
			default:
			}
			resp, err := hc.Get(url)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					r.ok++
				} else {
					r.failed++
					r.last = resp.Status
				}
			} else {
				r.failed++
				r.last = err.Error()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	victim.kill()
	killed := time.Now()
	var answered time.Duration
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range ns {
				t.Logf("log of %s:\n%s", n.name, n.stderr)
			}
		}
	})
	waitUntil(t, 15*time.Second, "greeter to serve again", func() bool {
		out, _, code := caller.e.run("invoke", "front", "hello", `"Bob"`)
		// (visits may count failed attempts: front may reach the
		// counter before the greeter)
		if code == 0 && strings.HasPrefix(out, "{greeting: \"Hello, Bob!\"") {
			answered = time.Since(killed)
			return true
		}
		return false
	})
	t.Logf("greeter's node %s SIGKILLed: front answered again after %s", victim.name, answered.Round(time.Millisecond))
	var moved string
	waitUntil(t, 15*time.Second, "the reconciler to place greeter on a survivor", func() bool {
		p := placedOn(caller.status(), "greeter")
		if len(p) == 1 && p[0] != victim.name {
			moved = p[0]
			return true
		}
		return false
	})
	if b := boxByName(t, byName[moved].status(), "greeter"); b.State != "running" {
		t.Errorf("greeter on %s: %s", moved, b.State)
	}
	close(httpDone)
	if r := <-httpRes; r.failed > 0 || r.ok == 0 {
		t.Errorf("the HTTP ingress on %s through the kill: %d answers, %d failures (last: %s)", caller.name, r.ok, r.failed, r.last)
	} else {
		t.Logf("the HTTP ingress on %s answered %d requests through the kill", caller.name, r.ok)
	}

	// The killed node comes back (its token is in its data directory): it
	// reads the assignment before starting anything, so it runs nothing.
	back := startClusterNode(t, bin, victim.e.data, victim.name, "--join", seedURL)
	ns[slices.Index(ns, victim)] = back // (for the logs)
	waitUntil(t, 20*time.Second, victim.name+" to apply the assignment", func() bool {
		return strings.Contains(back.stderr.String(), "applied the cluster's assignment")
	})
	waitUntil(t, 10*time.Second, "every node to see "+victim.name+" back", func() bool {
		for _, n := range []*clusterNode{caller, byName[moved], back} {
			st := n.status()
			if st.Cluster == nil || len(st.Cluster.Nodes) != 3 {
				return false
			}
			for _, m := range st.Cluster.Nodes {
				if !strings.HasPrefix(m.State, "alive") {
					return false
				}
			}
		}
		return true
	})
	// One more heartbeat round, then nothing runs twice.
	time.Sleep(1500 * time.Millisecond)
	// It runs only what runs on every node: web, behind its ingress.
	if st := back.status(); len(st.Boxes) != 1 || st.Boxes[0].Name != "web" {
		t.Errorf("%s runs %v after its return, want only web", victim.name, st.Boxes)
	}
	st = caller.status()
	for _, box := range []string{"front", "greeter", "counter"} {
		if s := servers(st, box); len(s) != 1 {
			t.Errorf("%s served by %v after %s's return", box, s, victim.name)
		}
	}
	if s := servers(st, "greeter"); len(s) != 1 || s[0] != moved {
		t.Errorf("greeter moved back: served by %v, want %s", s, moved)
	}
	if got := back.e.ok("invoke", "front", "hello", `"Cy"`); got != "{greeting: \"Hello, Cy!\", visits: 1}\n" {
		t.Errorf("hello through the returned node = %q", got)
	}
	var js statusResponse
	if err := json.Unmarshal([]byte(back.e.ok("status", "--json")), &js); err != nil || js.Cluster.Deployment == nil || js.Cluster.Deployment.Revision != 1 {
		t.Errorf("deployment history as the returned node sees it: %+v %v", js.Cluster, err)
	}

	// Now SIGKILL the reconciler itself (it leads the state streams too):
	// the survivors take its tasks over at once, and another node takes
	// the reconciler's lease and confirms the placement.
	live := map[string]*clusterNode{}
	for name, n := range byName {
		live[name] = n
	}
	live[back.name] = back
	holder := js.Cluster.Reconciler
	rec := live[holder]
	if rec == nil {
		t.Fatalf("reconciler %q is not a live node", holder)
	}
	var caller2 *clusterNode
	for name, n := range live {
		if name != holder && (caller2 == nil || name < caller2.name) {
			caller2 = n
		}
	}
	rec.kill()
	killed = time.Now()
	waitUntil(t, 15*time.Second, "front to answer after the reconciler's death", func() bool {
		out, _, code := caller2.e.run("invoke", "front", "hello", `"Di"`)
		if code == 0 && strings.HasPrefix(out, "{greeting: \"Hello, Di!\"") {
			answered = time.Since(killed)
			return true
		}
		return false
	})
	t.Logf("the reconciler %s SIGKILLed: front answered again after %s", holder, answered.Round(time.Millisecond))
	waitUntil(t, 30*time.Second, "a new reconciler to place everything on the two survivors", func() bool {
		st := caller2.status()
		if st.Cluster == nil || st.Cluster.Reconciler == "" || st.Cluster.Reconciler == holder {
			return false
		}
		for _, task := range []string{"front", "greeter", "counter"} {
			if p := placedOn(st, task); len(p) != 1 || p[0] == holder {
				return false
			}
		}
		return true
	})
}
