package nodes

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// runReconcilers runs Reconcile on every node until the test ends.
func runReconcilers(t *testing.T, ns []*Node) func(i int) {
	t.Helper()
	cancels := make([]context.CancelFunc, len(ns))
	var wg sync.WaitGroup
	for i, n := range ns {
		ctx, cancel := context.WithCancel(context.Background())
		cancels[i] = cancel
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.Reconcile(ctx)
		}()
	}
	t.Cleanup(func() {
		for _, c := range cancels {
			c()
		}
		wg.Wait()
	})
	return func(i int) { cancels[i]() }
}

// Three clustered nodes run the reconciler; a deployment is stored through
// one of them and placed by the lease holder; a node that vanishes
// (its server shut down without a goodbye) has its box re-placed on a
// survivor; the history keeps both deployments.
func TestReconcile(t *testing.T) {
	ns := startCluster(t, 3, nil)
	stop := runReconcilers(t, ns)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a bound for a stuck test, not a speed goal: the steps wait on their own (a loaded 2-core CI machine took 60 s)
	defer cancel()

	if _, err := ns[0].Assignment(ctx); !errors.Is(err, ErrNoDeployment) {
		t.Fatalf("assignment before any deployment: %v", err)
	}
	d := &Deployment{File: "t.yaml", YAML: "boxes: {}", Who: "test@here", Components: map[string]string{},
		Tasks: []Task{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "pinned", Node: "n0"}}}
	rev, err := ns[1].Deploy(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	var a *Assignment
	waitFor(t, 20*time.Second, "the deployment to be placed", func() bool {
		a, err = ns[2].Assignment(ctx)
		return err == nil && a.Deployment == rev
	})
	holder, err := ns[0].LeaseHolder(ctx, ReconcilerLease)
	if err != nil || holder == "" || a.By != holder {
		t.Fatalf("placed by %q, lease held by %q (%v)", a.By, holder, err)
	}
	if want := Place(d.Tasks, ns[0].Members(), nil); !samePlacement(a.Tasks, want) {
		t.Fatalf("assignment %v, want %v", a.Tasks, want)
	}
	if !slices.Equal(a.Tasks["pinned"].Nodes, []string{"n0"}) {
		t.Errorf("pinned on %v", a.Tasks["pinned"].Nodes)
	}

	// The node running a box that is not the reconciler vanishes.
	victim := -1
	for i, n := range ns {
		if n.Name() != holder && n.Name() != "n0" {
			victim = i
		}
	}
	var box string
	for task, p := range a.Tasks {
		if p.On(ns[victim].Name()) {
			box = task
		}
	}
	if box == "" {
		t.Fatalf("nothing placed on %s: %v", ns[victim].Name(), a.Tasks)
	}
	stop(victim)
	ns[victim].srv.Shutdown()
	survivor := ns[(victim+1)%3]
	waitFor(t, 15*time.Second, box+" to be re-placed", func() bool {
		na, err := survivor.Assignment(ctx)
		if err != nil || na.Revision == a.Revision {
			return false
		}
		p := na.Tasks[box]
		return len(p.Nodes) == 1 && p.Nodes[0] != ns[victim].Name()
	})

	// A second deployment: the history holds both, in order.
	d2 := *d
	d2.Tasks = d.Tasks[:2]
	rev2, err := survivor.Deploy(ctx, &d2)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := survivor.Deployments(ctx)
	if err != nil || len(hist) != 2 || hist[0].Revision != rev || hist[1].Revision != rev2 || hist[1].Who != "test@here" {
		t.Fatalf("history: %v %v", hist, err)
	}
	waitFor(t, 15*time.Second, "the second deployment to be placed", func() bool {
		na, err := survivor.Assignment(ctx)
		return err == nil && na.Deployment == rev2 && len(na.Tasks) == 2
	})
}

// A deployment made on two nodes is replicated twice; when a third joins,
// the reconciler grows the cluster's streams to three replicas, so the
// loss of any one node keeps the desired state available.
func TestReplicasGrow(t *testing.T) {
	ns := startCluster(t, 2, nil)
	runReconcilers(t, ns)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := ns[0].Deploy(ctx, &Deployment{File: "t.yaml", Tasks: []Task{{Name: "a"}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the deployment to be placed", func() bool {
		_, err := ns[1].Assignment(ctx)
		return err == nil
	})
	replicas := func(stream string) int {
		js, err := ns[0].JetStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s, err := js.Stream(ctx, stream)
		if err != nil {
			return 0
		}
		return s.CachedInfo().Config.Replicas
	}
	if r := replicas("KV_" + stateBucket); r != 2 {
		t.Fatalf("state replicas on two nodes: %d", r)
	}
	c := testConfig(t, "n2")
	c.Join = []string{ns[0].RouteURL()}
	c.Token = readTokenFile(t, ns[0])
	n2 := startNode(t, c)
	runReconcilers(t, []*Node{n2})
	waitFor(t, 30*time.Second, "three replicas of the state and leases", func() bool {
		return replicas("KV_"+stateBucket) == 3 && replicas("KV_"+leasesBucket) == 3
	})
}

func readTokenFile(t *testing.T, n *Node) string {
	t.Helper()
	tok, err := readToken(n.cfg.DataDir + "/" + TokenFileName)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
