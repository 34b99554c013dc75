package linker

import (
	"sort"

	"gopkg.in/yaml.v3"
)

// Placement is where a box or driver may run in a cluster (the `placement`
// key; a single node ignores it). The zero value means anywhere.
type Placement struct {
	// Node pins the task to the node of that name.
	Node    string
	NodePos Pos
	// Labels restrict the task to nodes that carry every one of them
	// (`wbox node --label k=v`).
	Labels    map[string]string
	LabelsPos Pos
	// Pos is the position of the placement mapping, if any.
	Pos Pos
}

// IsZero reports whether the placement allows every node.
func (p Placement) IsZero() bool { return p.Node == "" && len(p.Labels) == 0 }

// String renders the placement for messages: "node=n1", "labels{disk=ssd}".
func (p Placement) String() string {
	if p.IsZero() {
		return "anywhere"
	}
	s := ""
	if p.Node != "" {
		s = "node=" + p.Node
	}
	if len(p.Labels) > 0 {
		keys := make([]string, 0, len(p.Labels))
		for k := range p.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if s != "" {
			s += " "
		}
		s += "labels{"
		for i, k := range keys {
			if i > 0 {
				s += ","
			}
			s += k + "=" + p.Labels[k]
		}
		s += "}"
	}
	return s
}

// placement parses `placement: {node: NAME, labels: {k: v, ...}}`.
func (p *parser) placement(pl *Placement, n *yaml.Node, what string) {
	pl.Pos = p.pos(n)
	p.mapping(n, what, []field{
		{"node", func(_, v *yaml.Node) {
			pl.NodePos = p.pos(v)
			if s, ok := p.str(v, "placement node"); ok {
				if !nodeNameOK(s) {
					p.errorf(v, "placement node %q: a node name is letters, digits, '-' and '_'", s)
				}
				pl.Node = s
			}
		}},
		{"labels", func(_, v *yaml.Node) {
			pl.LabelsPos = p.pos(v)
			pl.Labels = map[string]string{}
			p.entries(v, what+" labels", func(k, v *yaml.Node) {
				if k.Value == "" {
					p.errorf(k, "a label key must not be empty")
					return
				}
				if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
					p.errorf(v, "label %q must be a string, not %s", k.Value, describe(v))
					return
				}
				pl.Labels[k.Value] = v.Value
			})
		}},
	})
}

// nodeNameOK accepts what package nodes accepts as a node name.
func nodeNameOK(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
		default:
			return false
		}
	}
	return true
}
