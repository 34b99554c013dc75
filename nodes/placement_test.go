package nodes

import (
	"reflect"
	"strings"
	"testing"
)

func members(specs ...string) []Member {
	var ms []Member
	for _, s := range specs {
		name, labels, _ := strings.Cut(s, ":")
		m := Member{Name: name, Labels: map[string]string{}}
		for _, kv := range strings.Split(labels, ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				m.Labels[k] = v
			}
		}
		ms = append(ms, m)
	}
	return ms
}

func nodesOf(p map[string]Placed) map[string][]string {
	out := map[string][]string{}
	for k, v := range p {
		out[k] = v.Nodes
	}
	return out
}

func TestPlace(t *testing.T) {
	tasks := []Task{
		{Name: "front"},
		{Name: "greeter"},
		{Name: "counter", With: []string{"kv"}},
		{Name: "db", Labels: map[string]string{"disk": "ssd"}},
		{Name: "pinned", Node: "n2"},
		{Name: "web", Instances: 3},
		{Name: "kv", Driver: "kv"},
		{Name: "ingress", Driver: "http", Every: true, Labels: map[string]string{"edge": "yes"}},
	}
	ms := members("n2:edge=yes", "n0:disk=ssd,edge=yes", "n1")
	got := Place(tasks, ms, nil)
	want := map[string][]string{
		"kv":      {"n0"},
		"ingress": {"n0", "n2"},
		"front":   {"n1"},
		"greeter": {"n1"},
		"counter": {"n0"},
		"db":      {"n0"},
		"pinned":  {"n2"},
		"web":     {"n0", "n1", "n2"},
	}
	if g := nodesOf(got); !reflect.DeepEqual(g, want) {
		t.Fatalf("placement:\n got %v\nwant %v", g, want)
	}
	if got["web"].Instances != 1 || got["front"].Instances != 1 {
		t.Errorf("instances: web %d front %d", got["web"].Instances, got["front"].Instances)
	}
	if w := got["counter"].Why; !strings.Contains(w, "beside kv") {
		t.Errorf("counter why: %q", w)
	}
	if w := got["db"].Why; !strings.Contains(w, "label disk=ssd") {
		t.Errorf("db why: %q", w)
	}
	// Deterministic: the same input, in another member order, gives the same.
	again := Place(tasks, members("n1", "n0:disk=ssd,edge=yes", "n2:edge=yes"), nil)
	if !reflect.DeepEqual(got, again) {
		t.Errorf("not deterministic:\n%v\n%v", got, again)
	}

	// n0 is lost: its boxes move to the survivors; the rest stay.
	after := Place(tasks, members("n1", "n2:edge=yes"), got)
	wantAfter := map[string][]string{
		"kv":      {"n1"},
		"ingress": {"n2"},
		"front":   {"n1"},
		"greeter": {"n1"},
		"counter": {"n1"},
		"db":      {},
		"pinned":  {"n2"},
		"web":     {"n1", "n2"},
	}
	if g := nodesOf(after); !reflect.DeepEqual(g, wantAfter) {
		t.Fatalf("after n0's loss:\n got %v\nwant %v", g, wantAfter)
	}
	if after["web"].Instances != 2 {
		t.Errorf("web's pool over two nodes: %d", after["web"].Instances)
	}
	if w := after["db"].Why; !strings.Contains(w, "runs nowhere") || !strings.Contains(w, "n1: no label disk=ssd") {
		t.Errorf("db why: %q", w)
	}

	// n0 comes back: nothing moves back (no duplicates, no churn); what
	// could not run anywhere runs on it, and web spreads to it again.
	back := Place(tasks, ms, after)
	wantBack := map[string][]string{
		"kv":      {"n1"},
		"ingress": {"n0", "n2"},
		"front":   {"n1"},
		"greeter": {"n1"},
		"counter": {"n1"},
		"db":      {"n0"},
		"pinned":  {"n2"},
		"web":     {"n0", "n1", "n2"},
	}
	if g := nodesOf(back); !reflect.DeepEqual(g, wantBack) {
		t.Fatalf("after n0's return:\n got %v\nwant %v", g, wantBack)
	}
}

func TestPlaceCapacityAndConflicts(t *testing.T) {
	ms := members("a", "b")
	ms[0].Capacity.Boxes = 1
	tasks := []Task{{Name: "x"}, {Name: "y"}, {Name: "z"}}
	got := nodesOf(Place(tasks, ms, nil))
	if want := map[string][]string{"x": {"a"}, "y": {"b"}, "z": {"b"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("capacity: got %v want %v", got, want)
	}
	// A box pinned to b that follows a driver: the driver goes to b.
	tasks = []Task{{Name: "kv", Driver: "kv"}, {Name: "c", Node: "b", With: []string{"kv"}}}
	got = nodesOf(Place(tasks, ms, nil))
	if want := map[string][]string{"kv": {"b"}, "c": {"b"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("follower pin: got %v want %v", got, want)
	}
	// Two followers pinned apart: the driver runs nowhere, and says why.
	tasks = append(tasks, Task{Name: "d", Node: "a", With: []string{"kv"}})
	p := Place(tasks, ms, nil)
	if len(p["kv"].Nodes) != 0 || !strings.Contains(p["kv"].Why, "must run beside it") {
		t.Errorf("conflict: %+v", p["kv"])
	}
	if len(Place(tasks, nil, nil)["c"].Nodes) != 0 {
		t.Error("no members: placed anyway")
	}
}
