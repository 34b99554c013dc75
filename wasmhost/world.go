package wasmhost

import (
	"fmt"
	"sort"
	"strings"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// ExternKind is the kind of an import or export.
type ExternKind uint8

const (
	ExternFunc ExternKind = iota
	ExternInstance
	ExternType
	ExternComponent
	ExternModule
)

func (k ExternKind) String() string {
	return [...]string{"func", "instance", "type", "component", "core module"}[k]
}

// Extern is an import or export of a component, or an export of an instance.
type Extern struct {
	Name     string
	Kind     ExternKind
	Func     *value.FuncType     // ExternFunc
	Instance *InstanceType       // ExternInstance
	Type     *value.Type         // ExternType: a value type
	Resource *value.ResourceType // ExternType: a resource type
}

// InstanceType lists the exports of an instance: an interface.
type InstanceType struct {
	Exports []Extern
}

// Func returns the type of the exported function name, or nil.
func (it *InstanceType) Func(name string) *value.FuncType {
	for _, e := range it.Exports {
		if e.Name == name && e.Kind == ExternFunc {
			return e.Func
		}
	}
	return nil
}

// TypesOnly reports whether the interface exports types alone (no
// functions, resources or instances): a component imports such an interface
// only for its types, and a host need not provide it.
func (it *InstanceType) TypesOnly() bool {
	for _, e := range it.Exports {
		if e.Kind != ExternType || e.Resource != nil {
			return false
		}
	}
	return true
}

// World is a component's imports and exports.
type World struct {
	Imports []Extern
	Exports []Extern
}

// Export returns the export named name, or nil.
func (w *World) Export(name string) *Extern {
	for i := range w.Exports {
		if w.Exports[i].Name == name {
			return &w.Exports[i]
		}
	}
	return nil
}

// Import returns the import named name, or nil.
func (w *World) Import(name string) *Extern {
	for i := range w.Imports {
		if w.Imports[i].Name == name {
			return &w.Imports[i]
		}
	}
	return nil
}

// WIT renders the world in WIT syntax: every imported and exported interface
// with the types and functions the component uses.
func (w *World) WIT() string {
	var b strings.Builder
	b.WriteString("world root {\n")
	writeExterns(&b, "import", w.Imports)
	writeExterns(&b, "export", w.Exports)
	b.WriteString("}\n")
	return b.String()
}

// writeExterns writes a world's imports or exports: interfaces one by one,
// world-level types and functions grouped the way an interface's are.
func writeExterns(b *strings.Builder, dir string, es []Extern) {
	var items []Extern
	for _, e := range es {
		switch e.Kind {
		case ExternInstance:
			fmt.Fprintf(b, "  %s %s: interface {\n", dir, witName(e.Name))
			writeInterface(b, e.Instance, "    ", "")
			b.WriteString("  }\n")
		case ExternFunc, ExternType:
			items = append(items, e)
		default:
			fmt.Fprintf(b, "  // %s %s: %s\n", dir, witName(e.Name), e.Kind)
		}
	}
	writeInterface(b, &InstanceType{Exports: items}, "  ", dir+" ")
}

// witName quotes a plain name that is a WIT keyword and leaves interface
// names ("ns:pkg/iface@v") as they are.
func witName(n string) string {
	if strings.ContainsAny(n, ":/") {
		return n
	}
	switch n {
	case "use", "type", "func", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "f32", "f64",
		"char", "bool", "string", "record", "resource", "own", "borrow", "flags", "variant", "enum",
		"option", "result", "list", "tuple", "static", "interface", "world", "import", "export",
		"package", "constructor", "include", "with", "as", "from", "future", "stream":
		return "%" + n
	}
	return n
}

// writeInterface writes an interface's items; funcPrefix precedes plain
// functions ("import " at world level).
func writeInterface(b *strings.Builder, it *InstanceType, indent, funcPrefix string) {
	// Resources first, then their methods grouped under them, as WIT does.
	methods := map[string][]Extern{}
	var funcs []Extern
	for _, e := range it.Exports {
		if e.Kind != ExternFunc {
			continue
		}
		if r, ok := resourceOf(e.Name); ok {
			methods[r] = append(methods[r], e)
			continue
		}
		funcs = append(funcs, e)
	}
	for _, e := range it.Exports {
		if e.Kind != ExternType {
			continue
		}
		if e.Resource != nil && len(methods[e.Name]) > 0 {
			fmt.Fprintf(b, "%sresource %s {\n", indent, witName(e.Name))
			for _, m := range methods[e.Name] {
				writeMethod(b, e.Name, m, indent+"  ")
			}
			fmt.Fprintf(b, "%s}\n", indent)
			delete(methods, e.Name)
			continue
		}
		writeTypeDecl(b, e, indent)
	}
	// Methods of resources defined elsewhere (rare): print them as functions.
	var rest []string
	for r := range methods {
		rest = append(rest, r)
	}
	sort.Strings(rest)
	for _, r := range rest {
		funcs = append(funcs, methods[r]...)
	}
	for _, e := range funcs {
		fmt.Fprintf(b, "%s%s%s: %s;\n", indent, funcPrefix, witName(e.Name), e.Func)
	}
}

// resourceOf returns the resource a "[method]r.m", "[static]r.m" or
// "[constructor]r" function belongs to.
func resourceOf(name string) (string, bool) {
	for _, p := range []string{"[method]", "[static]"} {
		if rest, ok := strings.CutPrefix(name, p); ok {
			if i := strings.IndexByte(rest, '.'); i > 0 {
				return rest[:i], true
			}
		}
	}
	if rest, ok := strings.CutPrefix(name, "[constructor]"); ok {
		return rest, true
	}
	return "", false
}

func writeMethod(b *strings.Builder, res string, e Extern, indent string) {
	ft := e.Func
	switch {
	case strings.HasPrefix(e.Name, "[constructor]"):
		params := &value.FuncType{Params: ft.Params}
		fmt.Fprintf(b, "%sconstructor%s;\n", indent, strings.TrimPrefix(params.String(), "func"))
	case strings.HasPrefix(e.Name, "[method]"):
		m := strings.TrimPrefix(e.Name, "[method]"+res+".")
		self := &value.FuncType{Params: ft.Params, Results: ft.Results}
		if len(self.Params) > 0 && self.Params[0].Name == "self" {
			self.Params = self.Params[1:]
		}
		fmt.Fprintf(b, "%s%s: %s;\n", indent, witName(m), self)
	default:
		m := strings.TrimPrefix(e.Name, "[static]"+res+".")
		fmt.Fprintf(b, "%s%s: static %s;\n", indent, witName(m), ft)
	}
}

func writeTypeDecl(b *strings.Builder, e Extern, indent string) {
	name := witName(e.Name)
	if e.Resource != nil {
		fmt.Fprintf(b, "%sresource %s;\n", indent, name)
		return
	}
	t := e.Type
	switch t.Kind {
	case value.KindRecord:
		fmt.Fprintf(b, "%srecord %s {\n", indent, name)
		for _, f := range t.Fields {
			fmt.Fprintf(b, "%s  %s: %s,\n", indent, witName(f.Name), f.Type)
		}
		fmt.Fprintf(b, "%s}\n", indent)
	case value.KindVariant:
		fmt.Fprintf(b, "%svariant %s {\n", indent, name)
		for _, c := range t.Cases {
			if c.Type != nil {
				fmt.Fprintf(b, "%s  %s(%s),\n", indent, witName(c.Name), c.Type)
			} else {
				fmt.Fprintf(b, "%s  %s,\n", indent, witName(c.Name))
			}
		}
		fmt.Fprintf(b, "%s}\n", indent)
	case value.KindEnum, value.KindFlags:
		fmt.Fprintf(b, "%s%s %s {\n", indent, t.Kind, name)
		for _, l := range t.Labels {
			fmt.Fprintf(b, "%s  %s,\n", indent, witName(l))
		}
		fmt.Fprintf(b, "%s}\n", indent)
	default:
		fmt.Fprintf(b, "%stype %s = %s;\n", indent, name, t.Definition())
	}
}
