package nodes

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Place decides where the tasks of a deployment run, on the live members,
// given where they ran before (prev, may be nil). It is deterministic: the
// same tasks, members and prev give the same answer on every node.
//
// The rules, in order:
//
//   - A task may run on the members that match its Node pin and carry all
//     its Labels; a box also needs room (Capacity.Boxes).
//   - A task With others runs only where they run (a box bound to a driver
//     that keeps state on one node follows it); a driver that boxes follow
//     may run only where all of them may.
//   - Every: on all the members it may run on (the HTTP ingress).
//   - Drivers are placed first, then boxes with the least choice first
//     (pinned, following a driver, labelled, free).
//   - Otherwise on min(Instances, eligible) members (one for a driver),
//     the pool split between them: members it ran on before and may still
//     run on keep it (nothing moves when a member joins or comes back);
//     the rest go to the members with the fewest boxes, then by name.
//   - No member may run it: it runs nowhere, and Why says why.
func Place(tasks []Task, members []Member, prev map[string]Placed) map[string]Placed {
	ms := slices.Clone(members)
	sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	load := map[string]int{} // boxes placed per member
	out := map[string]Placed{}
	byName := map[string]Task{}
	for _, t := range tasks {
		byName[t.Name] = t
	}
	// Drivers first (boxes may follow them), then the boxes with the least
	// choice (pinned, following a driver, labelled, free), each in the
	// deployment's order.
	order := slices.Clone(tasks)
	rank := func(t Task) int {
		switch {
		case t.Driver != "":
			return 0
		case t.Node != "":
			return 1
		case len(t.With) > 0:
			return 2
		case len(t.Labels) > 0:
			return 3
		}
		return 4
	}
	sort.SliceStable(order, func(i, j int) bool { return rank(order[i]) < rank(order[j]) })
	// followers: for each driver, the boxes that must run beside it.
	followers := map[string][]Task{}
	for _, t := range tasks {
		for _, w := range t.With {
			followers[w] = append(followers[w], t)
		}
	}
	for _, t := range order {
		var why []string
		eligible := make([]Member, 0, len(ms))
		for _, m := range ms {
			if ok, _ := fits(t, m, load); !ok {
				continue
			}
			ok := true
			for _, f := range followers[t.Name] {
				if fok, _ := fits(f, m, nil); !fok {
					ok = false
				}
			}
			if ok {
				eligible = append(eligible, m)
			}
		}
		for _, w := range t.With {
			p := out[w]
			eligible = slices.DeleteFunc(eligible, func(m Member) bool { return !p.On(m.Name) })
			why = append(why, "beside "+w)
		}
		if len(eligible) == 0 {
			why := noRoom(t, ms, load, out, followers[t.Name])
			if c := constraint(t); c != "" {
				why = c + "; " + why
			}
			out[t.Name] = Placed{Nodes: []string{}, Why: why}
			continue
		}
		var p Placed
		if t.Every {
			for _, m := range eligible {
				p.Nodes = append(p.Nodes, m.Name)
			}
			why = append(why, "on every node it may run on")
		} else {
			want := 1
			if t.Driver == "" {
				want = max(1, t.Instances)
			}
			k := min(want, len(eligible))
			// Where it ran before and still may: it stays.
			var kept []string
			for _, name := range prev[t.Name].Nodes {
				if len(kept) < k && slices.ContainsFunc(eligible, func(m Member) bool { return m.Name == name }) {
					kept = append(kept, name)
				}
			}
			p.Nodes = kept
			if len(kept) > 0 {
				why = append(why, "stays on "+strings.Join(kept, ","))
			}
			rest := slices.DeleteFunc(slices.Clone(eligible), func(m Member) bool { return slices.Contains(kept, m.Name) })
			sort.SliceStable(rest, func(i, j int) bool { return load[rest[i].Name] < load[rest[j].Name] })
			var fresh []string
			for _, m := range rest[:k-len(kept)] {
				fresh = append(fresh, m.Name)
				p.Nodes = append(p.Nodes, m.Name)
			}
			if len(fresh) > 0 {
				why = append(why, "least loaded: "+strings.Join(fresh, ","))
			}
			if k < want {
				why = append(why, fmt.Sprintf("%d instances wanted, %d nodes may run it", want, len(eligible)))
			}
			if t.Driver == "" {
				p.Instances = (max(1, t.Instances) + k - 1) / k
			}
		}
		sort.Strings(p.Nodes)
		if t.Driver == "" {
			for _, name := range p.Nodes {
				load[name]++
			}
		}
		if c := constraint(t); c != "" {
			why = append([]string{c}, why...)
		}
		p.Why = strings.Join(why, "; ")
		out[t.Name] = p
	}
	return out
}

// fits reports whether member m may run task t (load nil: ignore room),
// and if not, why.
func fits(t Task, m Member, load map[string]int) (bool, string) {
	if t.Node != "" && t.Node != m.Name {
		return false, "not node " + t.Node
	}
	for _, k := range sortedKeys(t.Labels) {
		if v, ok := m.Labels[k]; !ok || v != t.Labels[k] {
			return false, fmt.Sprintf("no label %s=%s", k, t.Labels[k])
		}
	}
	if load != nil && t.Driver == "" && m.Capacity.Boxes > 0 && load[m.Name] >= m.Capacity.Boxes {
		return false, fmt.Sprintf("full (%d boxes)", m.Capacity.Boxes)
	}
	return true, ""
}

// constraint describes a task's pin and labels, or "".
func constraint(t Task) string {
	var cs []string
	if t.Node != "" {
		cs = append(cs, "pinned to "+t.Node)
	}
	for _, k := range sortedKeys(t.Labels) {
		cs = append(cs, "label "+k+"="+t.Labels[k])
	}
	return strings.Join(cs, ", ")
}

// noRoom explains why no member may run t.
func noRoom(t Task, ms []Member, load map[string]int, out map[string]Placed, followers []Task) string {
	if len(ms) == 0 {
		return "no live node"
	}
	var why []string
	for _, m := range ms {
		ok, reason := fits(t, m, load)
		if ok {
			for _, f := range followers {
				if fok, r := fits(f, m, nil); !fok {
					ok, reason = false, fmt.Sprintf("%s must run beside it and may not run here: %s", f.Name, r)
					break
				}
			}
		}
		if ok {
			for _, w := range t.With {
				if !out[w].On(m.Name) {
					ok, reason = false, "must run beside "+w+", which does not run here"
					break
				}
			}
		}
		why = append(why, m.Name+": "+reason)
	}
	return "runs nowhere: " + strings.Join(why, "; ")
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
