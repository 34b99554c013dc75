package nodes

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wbox-dev/wbox/internal/testnats"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, testnats.LeakOptions...)
}

// testLogger discards logs unless WBOX_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("WBOX_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testConfig is a node on 127.0.0.1 with free ports, its own data
// directory and fast heartbeats.
func testConfig(t *testing.T, name string) Config {
	t.Helper()
	return Config{
		Name:        name,
		DataDir:     t.TempDir(),
		Listen:      "127.0.0.1:0",
		Logger:      testLogger(),
		Heartbeat:   50 * time.Millisecond,
		JoinTimeout: 5 * time.Second,
	}
}

// startNode starts a node and closes it at the end of the test.
func startNode(t *testing.T, cfg Config) *Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("starting node %s: %v", cfg.Name, err)
	}
	t.Cleanup(func() { closeNode(t, n) })
	return n
}

func closeNode(t *testing.T, n *Node) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Close(ctx); err != nil {
		t.Errorf("closing node %s: %v", n.Name(), err)
	}
}

// startCluster starts a seed accepting routes and size-1 nodes joining it.
func startCluster(t *testing.T, size int, mod func(i int, c *Config)) []*Node {
	t.Helper()
	seed := testConfig(t, "n0")
	seed.ClusterListen = "127.0.0.1:0"
	if mod != nil {
		mod(0, &seed)
	}
	nodes := []*Node{startNode(t, seed)}
	tok, err := readToken(seed.DataDir + "/" + TokenFileName)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < size; i++ {
		c := testConfig(t, "n"+string(rune('0'+i)))
		c.Join = []string{nodes[0].RouteURL()}
		c.Token = tok
		if mod != nil {
			mod(i, &c)
		}
		nodes = append(nodes, startNode(t, c))
	}
	waitFor(t, 10*time.Second, "a full mesh of routes", func() bool {
		for _, n := range nodes {
			if len(n.Peers()) < size-1 {
				return false
			}
		}
		return true
	})
	return nodes
}

// waitFor polls cond until it holds or the timeout ends.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
