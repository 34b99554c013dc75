package nodes

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// The partition test runs three node processes, each in a network
// namespace of its own, linked pairwise by veth pairs (no bridge, no
// firewall involved): node i has the address 10.231.0.i+1 on its loopback
// and a host route to each other node through their veth pair. Cutting a
// node pulls its cables (its veth ends go down: its sends fail, the
// others' packets to it vanish without an error, as with a dead switch
// port), and healing plugs them back.
//
// Each process is this test binary again, running TestPartitionNode: a
// node serving a box "box-NAME" (a Go function answering its node's name)
// that reports, every 100ms on stdout, its members and which other nodes'
// boxes answer it.

const partitionEnv = "WBOX_PARTITION_NODE"

// partitionNode is what TestPartition tells each node process.
type partitionNode struct {
	Name  string
	Addr  string // its IP address
	Peers []string
	Token string
}

// partitionStatus is what a node process reports.
type partitionStatus struct {
	Name    string          `json:"name"`
	Members []string        `json:"members"`
	Peers   []string        `json:"peers"` // its server's routes
	Reach   map[string]bool `json:"reach"` // node → its box answered
}

const whereIface = "wbox:test/where@0.1.0"

var whereExports = map[string]*wasmhost.InstanceType{whereIface: {Exports: []wasmhost.Extern{
	{Name: "where", Kind: wasmhost.ExternFunc, Func: &value.FuncType{Results: []value.Param{{Type: value.String}}}},
}}}

// TestPartitionNode is one node of TestPartition (a helper process, not a
// test of its own).
func TestPartitionNode(t *testing.T) {
	env := os.Getenv(partitionEnv)
	if env == "" {
		t.Skip("a node process of TestPartition")
	}
	var pn partitionNode
	if err := json.Unmarshal([]byte(env), &pn); err != nil {
		t.Fatal(err)
	}
	c := testConfig(t, pn.Name)
	c.Listen = pn.Addr + ":4222"
	c.ClusterListen = pn.Addr + ":6222"
	c.Token = pn.Token
	c.NoJetStream = true
	c.Heartbeat = 200 * time.Millisecond
	for _, p := range pn.Peers {
		c.Join = append(c.Join, "nats://"+p+":6222")
	}
	n := startNode(t, c)
	if err := n.Serve("box-"+pn.Name, whereExports, func(context.Context, string, string, ...any) ([]any, error) {
		return []any{pn.Name}, nil
	}); err != nil {
		t.Fatal(err)
	}
	remotes := map[string]*Remote{}
	for i := range 3 {
		other := fmt.Sprintf("n%d", i)
		if other == pn.Name {
			continue
		}
		r, err := n.Remote("box-"+other, whereExports)
		if err != nil {
			t.Fatal(err)
		}
		remotes[other] = r
	}
	// The test ends when TestPartition closes stdin.
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(done)
	}()
	out := json.NewEncoder(os.Stdout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		st := partitionStatus{Name: pn.Name, Members: names(n.Members()), Peers: n.Peers(), Reach: map[string]bool{}}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for other, r := range remotes {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				defer cancel()
				res, err := r.Call(ctx, whereIface+"#where", nil)
				mu.Lock()
				st.Reach[other] = err == nil && len(res) == 1 && res[0] == other
				mu.Unlock()
			})
		}
		wg.Wait()
		fmt.Fprint(os.Stdout, "STATUS ")
		out.Encode(st)
		select {
		case <-done:
			return
		case <-tick.C:
		}
	}
}

// netns is the test's network: namespaces and veth pairs.
type netns struct {
	t      *testing.T
	prefix string
	addrs  []string
}

func (nn *netns) ns(i int) string { return fmt.Sprintf("%s-%d", nn.prefix, i) }

// veth is the name of node i's end of the pair to node j (at most 15
// characters).
func (nn *netns) veth(i, j int) string { return fmt.Sprintf("%s%d%d", nn.prefix, i, j) }

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func newNetns(t *testing.T, size int) (*netns, error) {
	nn := &netns{t: t, prefix: fmt.Sprintf("wbp%d", os.Getpid()%100000)}
	t.Cleanup(func() {
		for i := range size {
			exec.Command("ip", "netns", "del", nn.ns(i)).Run()
		}
	})
	for i := range size {
		nn.addrs = append(nn.addrs, fmt.Sprintf("10.231.0.%d", i+1))
		if err := ipCmd("netns", "add", nn.ns(i)); err != nil {
			return nil, err
		}
		if err := ipCmd("-n", nn.ns(i), "link", "set", "lo", "up"); err != nil {
			return nil, err
		}
		if err := ipCmd("-n", nn.ns(i), "addr", "add", nn.addrs[i]+"/32", "dev", "lo"); err != nil {
			return nil, err
		}
	}
	for i := range size {
		for j := i + 1; j < size; j++ {
			if err := ipCmd("link", "add", nn.veth(i, j), "netns", nn.ns(i), "type", "veth", "peer", "name", nn.veth(j, i), "netns", nn.ns(j)); err != nil {
				return nil, err
			}
		}
	}
	for i := range size {
		if err := nn.plug(i, size); err != nil {
			return nil, err
		}
	}
	return nn, nil
}

// plug brings node i's veth ends up and routes to the others through them.
func (nn *netns) plug(i, size int) error {
	for j := range size {
		if j == i {
			continue
		}
		if err := ipCmd("-n", nn.ns(i), "link", "set", nn.veth(i, j), "up"); err != nil {
			return err
		}
		if err := ipCmd("-n", nn.ns(i), "route", "replace", nn.addrs[j]+"/32", "dev", nn.veth(i, j), "src", nn.addrs[i]); err != nil {
			return err
		}
	}
	return nil
}

// cut pulls node i's cables.
func (nn *netns) cut(i, size int) error {
	for j := range size {
		if j != i {
			if err := ipCmd("-n", nn.ns(i), "link", "set", nn.veth(i, j), "down"); err != nil {
				return err
			}
		}
	}
	return nil
}

// partitionProc is a running node process and its last status.
type partitionProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	mu    sync.Mutex
	last  partitionStatus
	log   []partitionStatus // every status since the log was reset
	done  chan struct{}
	tail  strings.Builder // non-status output, for failures
}

func (p *partitionProc) status() partitionStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

// since returns the statuses since the last call and resets the log.
func (p *partitionProc) since() []partitionStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.log
	p.log = nil
	return l
}

// Three nodes in three network namespaces; n2 is cut off: n0 and n1 lose
// it from their members within seconds and keep calling each other's boxes
// without a single failure, n2 sees itself alone; the cable comes back:
// the three converge to one membership again and every box answers
// everyone.
func TestPartition(t *testing.T) {
	if os.Getenv(partitionEnv) != "" {
		t.Skip("inside a node process")
	}
	if os.Geteuid() != 0 {
		t.Skip("TestPartition needs root for network namespaces (CI runs as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("TestPartition needs the ip command (iproute2)")
	}
	const size = 3
	nn, err := newNetns(t, size)
	if err != nil {
		t.Skipf("network namespaces are not available here: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tok := "partition-test-token-0123456789abcdef"
	procs := make([]*partitionProc, size)
	for i := range size {
		var peers []string
		for j := range size {
			if j != i {
				peers = append(peers, nn.addrs[j])
			}
		}
		env, _ := json.Marshal(partitionNode{Name: fmt.Sprintf("n%d", i), Addr: nn.addrs[i], Peers: peers, Token: tok})
		cmd := exec.Command("ip", "netns", "exec", nn.ns(i), exe, "-test.run=^TestPartitionNode$", "-test.count=1")
		cmd.Env = append(os.Environ(), partitionEnv+"="+string(env))
		p := &partitionProc{cmd: cmd, done: make(chan struct{})}
		if p.stdin, err = cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			defer close(p.done)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				line, ok := strings.CutPrefix(sc.Text(), "STATUS ")
				if !ok {
					p.mu.Lock()
					p.tail.WriteString(sc.Text() + "\n")
					p.mu.Unlock()
					continue
				}
				var st partitionStatus
				if json.Unmarshal([]byte(line), &st) == nil {
					p.mu.Lock()
					p.last = st
					p.log = append(p.log, st)
					p.mu.Unlock()
				}
			}
		}()
		procs[i] = p
	}
	t.Cleanup(func() {
		for i, p := range procs {
			p.stdin.Close()
			select {
			case <-p.done:
			case <-time.After(15 * time.Second):
				p.cmd.Process.Kill()
				<-p.done
			}
			if err := p.cmd.Wait(); err != nil || t.Failed() {
				p.mu.Lock()
				t.Logf("n%d exited: %v\n%s", i, err, p.tail.String())
				p.mu.Unlock()
			}
		}
	})

	all := []string{"n0", "n1", "n2"}
	converged := func(who []int, members []string) func() bool {
		return func() bool {
			for _, i := range who {
				st := procs[i].status()
				if !slices.Equal(st.Members, members) || len(st.Peers) != len(members)-1 {
					return false
				}
				for _, m := range members {
					if m != st.Name && !st.Reach[m] {
						return false
					}
				}
			}
			return true
		}
	}
	waitFor(t, 20*time.Second, "three nodes to see and reach each other", converged([]int{0, 1, 2}, all))

	// Cut n2 off.
	for _, p := range procs {
		p.since()
	}
	cut := time.Now()
	if err := nn.cut(2, size); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "n0 and n1 to lose n2, n2 to be alone", func() bool {
		if !converged([]int{0, 1}, []string{"n0", "n1"})() {
			return false
		}
		st := procs[2].status()
		return slices.Equal(st.Members, []string{"n2"}) && !st.Reach["n0"] && !st.Reach["n1"]
	})
	t.Logf("n2 cut off: n0 and n1 dropped it (members and routes) after %s", time.Since(cut).Round(10*time.Millisecond))
	// Until the routes to n2 are closed too (three missed pings): healing
	// then needs new routes, not TCP retransmissions.
	waitFor(t, 15*time.Second, "the routes to n2 to close", func() bool {
		return len(procs[0].status().Peers) == 1 && len(procs[1].status().Peers) == 1 && len(procs[2].status().Peers) == 0
	})
	t.Logf("n2 cut off: routes closed after %s", time.Since(cut).Round(10*time.Millisecond))
	// The majority side kept serving: all its calls answered.
	for _, i := range []int{0, 1} {
		other := fmt.Sprintf("n%d", 1-i)
		log := procs[i].since()
		if len(log) < 5 {
			t.Errorf("n%d reported %d times during the partition", i, len(log))
		}
		for _, st := range log {
			if !st.Reach[other] {
				t.Errorf("n%d could not call %s's box during the partition: %+v", i, other, st)
				break
			}
		}
		if st := procs[i].status(); st.Reach["n2"] {
			t.Errorf("n%d still reaches n2's box", i)
		}
	}

	// Plug n2 back in.
	healed := time.Now()
	if err := nn.plug(2, size); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the three to converge again", converged([]int{0, 1, 2}, all))
	t.Logf("n2 plugged back: one membership again after %s", time.Since(healed).Round(10*time.Millisecond))
	// Converged means stable: a second later still all three, all reached.
	time.Sleep(500 * time.Millisecond)
	if !converged([]int{0, 1, 2}, all)() {
		for _, p := range procs {
			t.Errorf("after healing: %+v", p.status())
		}
	}
}
