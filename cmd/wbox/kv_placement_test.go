package main

import (
	"fmt"
	"testing"

	"github.com/wbox-dev/wbox/drivers/kv"
	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/linker"
	"github.com/wbox-dev/wbox/nodes"
)

// A kv driver keeping its data in a file runs on one node and the boxes
// bound to it beside it: with two boxes pinned to two nodes, it has
// nowhere to run. With backend: jetstream the driver runs on every node and each box
// where it is pinned.
func TestPlacementOfJetStreamKV(t *testing.T) {
	members := []nodes.Member{{Name: "n0"}, {Name: "n1"}, {Name: "n2"}}
	place := func(settings map[string]any) map[string]nodes.Placed {
		topo := &linker.Topology{
			Boxes:   []*linker.Box{{Name: "a", Placement: linker.Placement{Node: "n0"}}, {Name: "b", Placement: linker.Placement{Node: "n1"}}},
			Drivers: []*linker.Driver{{Name: "kv", Kind: kv.Kind, Settings: settings}},
		}
		arrows := []kernel.Arrow{{Import: kv.StoreIface, Target: "kv", Export: kv.StoreIface}}
		spec := &kernel.Spec{Boxes: []kernel.BoxSpec{{Name: "a", Arrows: arrows}, {Name: "b", Arrows: arrows}}}
		return nodes.Place(tasksOf(topo, spec), members, nil)
	}

	p := place(map[string]any{"backend": kv.BackendJetStream})
	if got := fmt.Sprint(p["kv"].Nodes, p["a"].Nodes, p["b"].Nodes); got != "[n0 n1 n2] [n0] [n1]" {
		t.Errorf("backend jetstream: kv, a, b on %s (why: %q, %q, %q)", got, p["kv"].Why, p["a"].Why, p["b"].Why)
	}

	// (no node may run a and b: kv runs nowhere, and so do they)
	p = place(nil)
	if len(p["kv"].Nodes)+len(p["a"].Nodes)+len(p["b"].Nodes) != 0 {
		t.Errorf("backend bbolt: kv on %v, a on %v, b on %v: want nowhere (a and b must run beside kv, pinned to two nodes)", p["kv"].Nodes, p["a"].Nodes, p["b"].Nodes)
	}
	t.Logf("backend bbolt: kv runs nowhere: %s", p["kv"].Why)
}
