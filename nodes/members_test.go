package nodes

import (
	"context"
	"reflect"
	"testing"
	"time"
)

func names(ms []Member) []string {
	var ns []string
	for _, m := range ms {
		ns = append(ns, m.Name)
	}
	return ns
}

func TestMembers(t *testing.T) {
	ns := startCluster(t, 3, func(i int, c *Config) {
		c.Labels = map[string]string{"zone": []string{"attic", "cellar", "garage"}[i]}
		c.Capacity = Capacity{CPUs: i + 1, MemoryBytes: uint64(i+1) << 30}
	})
	want := []string{"n0", "n1", "n2"}
	for _, n := range ns {
		waitFor(t, 5*time.Second, n.Name()+" to know all members", func() bool {
			return reflect.DeepEqual(names(n.Members()), want)
		})
	}
	for _, m := range ns[0].Members() {
		i := int(m.Name[1] - '0')
		if m.Self != (i == 0) {
			t.Errorf("%s: Self %v", m.Name, m.Self)
		}
		if m.Labels["zone"] != []string{"attic", "cellar", "garage"}[i] || m.Capacity.CPUs != i+1 || m.Capacity.MemoryBytes != uint64(i+1)<<30 {
			t.Errorf("%s: labels %v capacity %+v", m.Name, m.Labels, m.Capacity)
		}
		if m.ID == "" || m.Started.IsZero() || m.Interval != 50*time.Millisecond {
			t.Errorf("%s: %+v", m.Name, m)
		}
		if m.RouteURL == "" || m.ClientURL == "" {
			t.Errorf("%s: no addresses: %+v", m.Name, m)
		}
	}

	// What a member serves is known at once (it beats on a change).
	changed := ns[0].MembersChanged()
	c := &calc{node: "n2"}
	if err := ns[2].Serve("calc", calcExports, c.call); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("no change noticed")
	}
	waitFor(t, 5*time.Second, "n0 to see calc on n2", func() bool {
		return reflect.DeepEqual(ns[0].Where("calc"), []string{"n2"})
	})
	if got := ns[2].Where("calc"); !reflect.DeepEqual(got, []string{"n2"}) {
		t.Errorf("n2 sees calc on %v", got)
	}
	ns[2].Unserve(context.Background(), "calc")
	waitFor(t, 5*time.Second, "n0 to see calc nowhere", func() bool { return len(ns[0].Where("calc")) == 0 })

	// A node that leaves says so: the others forget it at once, long
	// before its heartbeats would be missed.
	ns[1].cfg.Heartbeat = time.Hour // (its peers use its own interval)
	closeNode(t, ns[1])
	waitFor(t, 5*time.Second, "n1 to be gone", func() bool {
		return reflect.DeepEqual(names(ns[0].Members()), []string{"n0", "n2"})
	})
}

func TestMemberLost(t *testing.T) {
	ns := startCluster(t, 3, nil)
	waitFor(t, 5*time.Second, "all members", func() bool { return len(ns[0].Members()) == 3 })
	changed := ns[0].MembersChanged()
	// n2 crashes: its server vanishes without a goodbye.
	start := time.Now()
	ns[2].srv.Shutdown()
	waitFor(t, 5*time.Second, "n2 to be lost", func() bool {
		return reflect.DeepEqual(names(ns[0].Members()), []string{"n0", "n1"})
	})
	// 3 missed beats of 50ms, swept every 50ms.
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a lost member took %s to notice", d)
	}
	select {
	case <-changed:
	default:
		t.Error("no change signalled")
	}
}

func TestMemberRestarts(t *testing.T) {
	seed := testConfig(t, "n0")
	seed.ClusterListen = "127.0.0.1:0"
	n0 := startNode(t, seed)
	tok, _ := readToken(seed.DataDir + "/" + TokenFileName)
	c := testConfig(t, "n1")
	c.Join, c.Token = []string{n0.RouteURL()}, tok
	n1 := startNode(t, c)
	var id string
	waitFor(t, 5*time.Second, "n1", func() bool {
		for _, m := range n0.Members() {
			if m.Name == "n1" {
				id = m.ID
				return true
			}
		}
		return false
	})
	closeNode(t, n1)
	c.Token = "" // it stored the token
	n1 = startNode(t, c)
	// It knew the cluster when Start returned (it waited to hear from it).
	if got := names(n1.Members()); !reflect.DeepEqual(got, []string{"n0", "n1"}) {
		t.Errorf("after its restart n1 knows %v", got)
	}
	waitFor(t, 5*time.Second, "n1's new run", func() bool {
		for _, m := range n0.Members() {
			if m.Name == "n1" && m.ID != id {
				return true
			}
		}
		return false
	})
}

func TestMembersChangedClosesWithNode(t *testing.T) {
	n := startNode(t, testConfig(t, "solo"))
	ch := n.MembersChanged()
	if got := names(n.Members()); !reflect.DeepEqual(got, []string{"solo"}) {
		t.Errorf("members %v", got)
	}
	closeNode(t, n)
	select {
	case _, ok := <-ch:
		if ok {
			<-ch
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not closed")
	}
}
