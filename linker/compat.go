package linker

import (
	"fmt"
	"sort"
	"strings"

	"github.com/wbox-dev/wbox/internal/semver"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// CheckInstance reports how the exporter's instance type fails to give the
// importer what it needs: every function the importer imports must exist
// with an equal type, every type it names must exist with an equal
// structure, every resource it names must exist. The exporter may export
// more. An empty result means compatible.
//
// Types are compared structurally, the way value.Equal does, except for
// resources: the two sides come from different components (or from Go), so
// their *value.ResourceType pointers never match. A resource matches one of
// the same name defined by a compatible interface, and once two resources
// are matched every later use must pair them the same way.
func CheckInstance(imp, exp *wasmhost.InstanceType) []string {
	m := newResMap()
	var probs []string
	checkInstance(imp, exp, m, "", &probs)
	return probs
}

func checkInstance(imp, exp *wasmhost.InstanceType, m *resMap, prefix string, probs *[]string) {
	find := func(name string) *wasmhost.Extern {
		for i := range exp.Exports {
			if exp.Exports[i].Name == name {
				return &exp.Exports[i]
			}
		}
		return nil
	}
	// Resources first: they anchor the pairing of the two sides' resource
	// types, which the functions' handle types are then checked against.
	for _, ie := range imp.Exports {
		if ie.Kind != wasmhost.ExternType || ie.Resource == nil {
			continue
		}
		ee := find(ie.Name)
		switch {
		case ee == nil:
			*probs = append(*probs, fmt.Sprintf("%sresource %q: the importer needs it, the exporter does not export it", prefix, ie.Name))
		case ee.Kind != wasmhost.ExternType || ee.Resource == nil:
			*probs = append(*probs, fmt.Sprintf("%sresource %q: the exporter's %q is a %s, not a resource", prefix, ie.Name, ie.Name, describeExtern(ee)))
		default:
			m.pair(ie.Resource, ee.Resource)
		}
	}
	for _, ie := range imp.Exports {
		ee := find(ie.Name)
		switch ie.Kind {
		case wasmhost.ExternFunc:
			switch {
			case ee == nil:
				*probs = append(*probs, fmt.Sprintf("%sfunction %q: importer wants %s, exporter lacks it (it exports %s)", prefix, ie.Name, ie.Func, exportedFuncs(exp)))
			case ee.Kind != wasmhost.ExternFunc:
				*probs = append(*probs, fmt.Sprintf("%sfunction %q: importer wants %s, exporter has a %s", prefix, ie.Name, ie.Func, describeExtern(ee)))
			case !funcsEqual(ie.Func, ee.Func, m):
				want, have := ie.Func.String(), ee.Func.String()
				if want == have { // named types hide the difference
					want, have = expandFunc(ie.Func).String(), expandFunc(ee.Func).String()
				}
				*probs = append(*probs, fmt.Sprintf("%sfunction %q: importer wants %s, exporter has %s", prefix, ie.Name, want, have))
			}
		case wasmhost.ExternType:
			if ie.Resource != nil || ie.Type == nil {
				continue
			}
			switch {
			case ee == nil:
				*probs = append(*probs, fmt.Sprintf("%stype %q: importer wants %s, exporter lacks it", prefix, ie.Name, ie.Type.Definition()))
			case ee.Kind != wasmhost.ExternType || ee.Type == nil:
				*probs = append(*probs, fmt.Sprintf("%stype %q: importer wants %s, exporter has a %s", prefix, ie.Name, ie.Type.Definition(), describeExtern(ee)))
			case !typesEqual(ie.Type, ee.Type, m):
				*probs = append(*probs, fmt.Sprintf("%stype %q: importer wants %s, exporter has %s", prefix, ie.Name, ie.Type.Definition(), ee.Type.Definition()))
			}
		case wasmhost.ExternInstance:
			switch {
			case ee == nil:
				*probs = append(*probs, fmt.Sprintf("%sinstance %q: the importer needs it, the exporter lacks it", prefix, ie.Name))
			case ee.Kind != wasmhost.ExternInstance:
				*probs = append(*probs, fmt.Sprintf("%sinstance %q: the exporter has a %s", prefix, ie.Name, describeExtern(ee)))
			default:
				checkInstance(ie.Instance, ee.Instance, m, fmt.Sprintf("%sinstance %q: ", prefix, ie.Name), probs)
			}
		}
	}
}

// expandFunc returns ft with its parameter and result types shown by
// structure rather than by name.
func expandFunc(ft *value.FuncType) *value.FuncType {
	unname := func(ps []value.Param) []value.Param {
		out := make([]value.Param, len(ps))
		for i, p := range ps {
			out[i] = p
			if p.Type != nil && p.Type.Name != "" {
				t := *p.Type
				t.Name = ""
				out[i].Type = &t
			}
		}
		return out
	}
	return &value.FuncType{Params: unname(ft.Params), Results: unname(ft.Results)}
}

func describeExtern(e *wasmhost.Extern) string {
	if e.Kind == wasmhost.ExternType {
		if e.Resource != nil {
			return "resource"
		}
		return "type"
	}
	return e.Kind.String()
}

func exportedFuncs(it *wasmhost.InstanceType) string {
	var names []string
	for _, e := range it.Exports {
		if e.Kind == wasmhost.ExternFunc {
			names = append(names, e.Name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "no functions"
	}
	return strings.Join(names, ", ")
}

// resMap pairs the importer's resource types with the exporter's.
type resMap struct {
	fwd, back map[*value.ResourceType]*value.ResourceType
}

func newResMap() *resMap {
	return &resMap{fwd: map[*value.ResourceType]*value.ResourceType{}, back: map[*value.ResourceType]*value.ResourceType{}}
}

// pair records that a (importer) and b (exporter) are the same resource.
func (m *resMap) pair(a, b *value.ResourceType) {
	if _, ok := m.fwd[a]; ok {
		return
	}
	if _, ok := m.back[b]; ok {
		return
	}
	m.fwd[a], m.back[b] = b, a
}

// same reports whether a and b denote the same resource: paired before, or,
// if neither is paired yet, equal by name and defined by compatible
// interfaces (an empty interface is unknown and matches any).
func (m *resMap) same(a, b *value.ResourceType) bool {
	if a == b {
		return true
	}
	if x, ok := m.fwd[a]; ok {
		return x == b
	}
	if _, ok := m.back[b]; ok {
		return false
	}
	if a.Name != b.Name {
		return false
	}
	if a.Interface != "" && b.Interface != "" && !semver.NamesCompatible(a.Interface, b.Interface) {
		return false
	}
	m.pair(a, b)
	return true
}

func funcsEqual(f, g *value.FuncType, m *resMap) bool {
	if f == nil || g == nil {
		return f == g
	}
	if len(f.Params) != len(g.Params) || len(f.Results) != len(g.Results) {
		return false
	}
	for i := range f.Params {
		if f.Params[i].Name != g.Params[i].Name || !typesEqual(f.Params[i].Type, g.Params[i].Type, m) {
			return false
		}
	}
	for i := range f.Results {
		if f.Results[i].Name != g.Results[i].Name || !typesEqual(f.Results[i].Type, g.Results[i].Type, m) {
			return false
		}
	}
	return true
}

// typesEqual is value.Equal with resources compared through m.
func typesEqual(t, u *value.Type, m *resMap) bool {
	if t == u {
		return true
	}
	if t == nil || u == nil || t.Kind != u.Kind {
		return false
	}
	switch t.Kind {
	case value.KindList, value.KindOption:
		return typesEqual(t.Elem, u.Elem, m)
	case value.KindRecord:
		if len(t.Fields) != len(u.Fields) {
			return false
		}
		for i := range t.Fields {
			if t.Fields[i].Name != u.Fields[i].Name || !typesEqual(t.Fields[i].Type, u.Fields[i].Type, m) {
				return false
			}
		}
	case value.KindTuple:
		if len(t.Types) != len(u.Types) {
			return false
		}
		for i := range t.Types {
			if !typesEqual(t.Types[i], u.Types[i], m) {
				return false
			}
		}
	case value.KindVariant:
		if len(t.Cases) != len(u.Cases) {
			return false
		}
		for i := range t.Cases {
			if t.Cases[i].Name != u.Cases[i].Name || !typesEqual(t.Cases[i].Type, u.Cases[i].Type, m) {
				return false
			}
		}
	case value.KindEnum, value.KindFlags:
		if len(t.Labels) != len(u.Labels) {
			return false
		}
		for i := range t.Labels {
			if t.Labels[i] != u.Labels[i] {
				return false
			}
		}
	case value.KindResult:
		return typesEqual(t.Ok, u.Ok, m) && typesEqual(t.Err, u.Err, m)
	case value.KindOwn, value.KindBorrow:
		if t.Resource == nil || u.Resource == nil {
			return t.Resource == u.Resource
		}
		return m.same(t.Resource, u.Resource)
	}
	return true
}
