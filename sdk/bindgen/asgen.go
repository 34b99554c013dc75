package bindgen

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"go.bytecodealliance.org/wit"
)

// GenerateAS returns AssemblyScript bindings of a world: DIR/bindings.ts
// (the world's types and imported functions, one namespace per interface)
// and DIR/world.ts (the module asc compiles: the canonical-ABI glue of the
// exports, calling the box's code in Options.Impl). DIR is Options.Dir,
// default "gen"; the runtime cabi.ts is expected beside them.
//
// Values are copied into AssemblyScript's own types at the boundary:
// string is string, list<u8> is Uint8Array, list<T> is Array<T>,
// option<T> is Option<T> {isSome, val}, result<T, E> is Result<T, E>
// {isErr, ok, err} (u8 stands for a missing payload), tuples are TupleN
// classes {f0, f1, ...}, records are classes with a constructor taking every
// field, variants are classes with a tag (constants TAG_CASE), one field per case
// payload and a static constructor per case, enums and flags are enums (flags as bit
// values, combined with |), char is u32, imported resources are classes
// holding a handle (static create for the constructor, drop()). A resource
// the world exports is a class of the box (in its interface's namespace:
// constructor, methods, static methods, and an optional drop() called when
// the host drops the last handle); the bindings keep its objects in a
// table while handles exist.
//
// The box implements an exported interface I as `export namespace I {
// export function f(...) }` in Options.Impl (camelCase names), and a
// world-level exported function as an exported function.
func GenerateAS(opts Options) (files []File, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(genError); ok {
				files, err = nil, e
				return
			}
			panic(r)
		}
	}()
	w, err := FindWorld(opts.Resolve, opts.World)
	if err != nil {
		return nil, err
	}
	dir := opts.Dir
	if dir == "" {
		dir = "gen"
	}
	impl := opts.Impl
	if impl == "" {
		impl = "../box"
	}
	g := &asgen{world: w, ns: map[wit.TypeOwner]string{}, exported: map[wit.TypeOwner]bool{}, tuples: map[int]bool{},
		bodies: map[wit.TypeOwner]*strings.Builder{}}
	b, wd := g.run(impl)
	return []File{{Path: path.Join(dir, "bindings.ts"), Data: []byte(b)}, {Path: path.Join(dir, "world.ts"), Data: []byte(wd)}}, nil
}

type asgen struct {
	world    *wit.World
	ns       map[wit.TypeOwner]string // namespace of each type owner
	used     []string
	order    []wit.TypeOwner
	bodies   map[wit.TypeOwner]*strings.Builder
	inline   map[*wit.Interface]string
	exported map[wit.TypeOwner]bool
	tuples   map[int]bool
	externs  strings.Builder // @external declarations
	n        int
	qual     string         // prefix of the bindings' names in the module written ("" or "gen.")
	expRes   []*wit.TypeDef // exported resources
	stub     bool           // writing GenerateASStub's module
	helpers  []string       // names world.ts imports from bindings.ts
}

var asKeywords = map[string]bool{
	"abstract": true, "as": true, "break": true, "case": true, "catch": true, "class": true, "const": true,
	"continue": true, "debugger": true, "default": true, "delete": true, "do": true, "else": true, "enum": true,
	"export": true, "extends": true, "false": true, "finally": true, "for": true, "from": true, "function": true,
	"get": false, "if": true, "implements": true, "import": true, "in": true, "instanceof": true, "interface": true,
	"is": true, "let": true, "module": true, "namespace": true, "new": true, "null": true, "package": true,
	"private": true, "protected": true, "public": true, "readonly": true, "return": true, "set": false,
	"static": true, "super": true, "switch": true, "this": true, "throw": true, "true": true, "try": true,
	"type": true, "typeof": true, "var": true, "void": true, "while": true, "with": true, "yield": true,
	"declare": true, "constructor": true, "string": true, "number": true, "i8": true, "u8": true, "i16": true,
	"u16": true, "i32": true, "u32": true, "i64": true, "u64": true, "f32": true, "f64": true, "bool": true,
	"isize": true, "usize": true, "memory": true, "heap": true, "load": true, "store": true, "Option": true,
	"Result": true, "Array": true, "String": true, "Uint8Array": true, "Error": true, "Map": true, "Set": true,
	"Date": true, "Math": true,
}

func asWords(name string) []string {
	return strings.Split(strings.TrimPrefix(name, "%"), "-")
}

// asCamel is a WIT name in lowerCamelCase, escaped from keywords.
func asCamel(name string) string {
	ws := asWords(name)
	for i := 1; i < len(ws); i++ {
		if ws[i] != "" {
			ws[i] = strings.ToUpper(ws[i][:1]) + ws[i][1:]
		}
	}
	s := strings.Join(ws, "")
	if asKeywords[s] {
		s += "_"
	}
	return s
}

// asPascal is a WIT name in UpperCamelCase.
func asPascal(name string) string {
	ws := asWords(name)
	for i := range ws {
		if ws[i] != "" {
			ws[i] = strings.ToUpper(ws[i][:1]) + ws[i][1:]
		}
	}
	s := strings.Join(ws, "")
	if asKeywords[s] {
		s += "_"
	}
	return s
}

// namespace returns the namespace of a type owner.
func (g *asgen) namespace(owner wit.TypeOwner) string {
	if n, ok := g.ns[owner]; ok {
		return n
	}
	var n, pkg string
	switch o := owner.(type) {
	case *wit.Interface:
		if o.Name == nil {
			n, pkg = asCamel(g.inline[o]), asCamel(g.world.Package.Name.Package)
		} else {
			n, pkg = asCamel(*o.Name), asCamel(o.Package.Name.Package)
		}
	case *wit.World:
		n, pkg = asCamel(o.Name), asCamel(o.Package.Name.Package)
	}
	n = strings.TrimSuffix(n, "_")
	if slices.Contains(g.used, n) || asKeywords[n] {
		n = pkg + strings.ToUpper(n[:1]) + n[1:]
	}
	g.used = append(g.used, n)
	g.ns[owner] = n
	g.order = append(g.order, owner)
	g.bodies[owner] = &strings.Builder{}
	return n
}

func (g *asgen) tmp() string {
	g.n++
	return fmt.Sprintf("t%d", g.n)
}

var asCore = map[string]string{i32: "u32", i64: "u64", f32: "f32", f64: "f64"}

func isU8List(k wit.TypeDefKind) bool {
	if l, ok := k.(*wit.List); ok {
		_, u8 := under(l.Type).(wit.U8)
		return u8
	}
	return false
}

// asType returns the AssemblyScript type of t (nil: u8, the stand-in for a
// missing payload).
func (g *asgen) asType(t wit.Type) string {
	if t == nil {
		return "u8"
	}
	switch k := under(t).(type) {
	case wit.Bool:
		return "bool"
	case wit.S8:
		return "i8"
	case wit.U8:
		return "u8"
	case wit.S16:
		return "i16"
	case wit.U16:
		return "u16"
	case wit.S32:
		return "i32"
	case wit.U32, wit.Char:
		return "u32"
	case wit.S64:
		return "i64"
	case wit.U64:
		return "u64"
	case wit.F32:
		return "f32"
	case wit.F64:
		return "f64"
	case wit.String:
		return "string"
	case *wit.List:
		if isU8List(k) {
			return "Uint8Array"
		}
		return "Array<" + g.asType(k.Type) + ">"
	case *wit.Option:
		return g.qual + "Option<" + g.asType(k.Type) + ">"
	case *wit.Result:
		return g.qual + "Result<" + g.asType(k.OK) + ", " + g.asType(k.Err) + ">"
	case *wit.Tuple:
		if len(k.Types) > 16 {
			fail("tuples of more than 16 elements are not supported")
		}
		g.tuples[len(k.Types)] = true
		var ps []string
		for _, e := range k.Types {
			ps = append(ps, g.asType(e))
		}
		return fmt.Sprintf("%sTuple%d<%s>", g.qual, len(k.Types), strings.Join(ps, ", "))
	case *wit.Own:
		return g.resource(k.Type)
	case *wit.Borrow:
		return g.resource(k.Type)
	case *wit.Resource:
		return g.resource(t)
	case *wit.Record, *wit.Variant, *wit.Enum, *wit.Flags:
		return g.named(definer(t))
	}
	fail("type %s (%T) is not supported by the AssemblyScript bindings", t.TypeName(), under(t))
	return ""
}

// resource returns the class of a resource: for an imported one a class
// of the bindings holding a handle, for an exported one the box's class
// (impl_IFACE.NAME), whose objects the bindings keep in a table by rep.
func (g *asgen) resource(t wit.Type) string {
	def := definer(t)
	if !g.exported[def.Owner] {
		return g.named(def)
	}
	i, ok := def.Owner.(*wit.Interface)
	if !ok || i.Name == nil {
		fail("resource %s of an inline interface: not supported (exported resources must be in a named interface)", *def.Name)
	}
	id := g.resID(def)
	cls := "impl_" + strings.TrimSuffix(asCamel(*i.Name), "_") + "." + asPascal(*def.Name)
	if !slices.Contains(g.used, "res "+id) {
		g.used = append(g.used, "res "+id)
		g.expRes = append(g.expRes, def)
		g.helpers = append(g.helpers, "table_"+id, "liftOwn_"+id, "lowerOwn_"+id)
	}
	if g.stub {
		return asPascal(*def.Name) // the stub's own class
	}
	return g.qual + cls
}

// resID names the helpers of an exported resource.
func (g *asgen) resID(def *wit.TypeDef) string {
	return strings.TrimSuffix(asCamel(*def.Owner.(*wit.Interface).Name), "_") + "_" + asPascal(*def.Name)
}

// exportedRes returns the exported resource a handle type refers to, or nil.
func (g *asgen) exportedRes(t wit.Type) *wit.TypeDef {
	switch k := under(t).(type) {
	case *wit.Own:
		t = k.Type
	case *wit.Borrow:
		t = k.Type
	}
	def := definer(t)
	if g.exported[def.Owner] {
		return def
	}
	return nil
}

// exportedHelpers writes the table, the handle functions and the
// destructor of every exported resource.
func (g *asgen) exportedHelpers(ids map[wit.TypeOwner]string, b, wd *strings.Builder) {
	for _, def := range g.expRes {
		id := g.resID(def)
		cls := g.resource(def)
		mod := "[export]" + ids[def.Owner]
		nw := g.extern(mod, "[resource-new]"+*def.Name, []string{"u32"}, "u32")
		rp := g.extern(mod, "[resource-rep]"+*def.Name, []string{"u32"}, "u32")
		dr := g.extern(mod, "[resource-drop]"+*def.Name, []string{"u32"}, "void")
		fmt.Fprintf(b, "// The objects of the exported resource %s handed out, by rep.\nexport const table_%s = new ResourceTable<%s>();\n\n", *def.Name, id, cls)
		fmt.Fprintf(b, "// liftOwn_%s takes an owned handle: its object, the handle dropped.\nexport function liftOwn_%s(h: u32): %s {\n  const v = table_%s.get(%s(h));\n  %s(h);\n  return v;\n}\n\n", id, id, cls, id, rp, dr)
		fmt.Fprintf(b, "// lowerOwn_%s hands v to the host as a new owned handle.\nexport function lowerOwn_%s(v: %s): u32 {\n  return %s(table_%s.add(v));\n}\n\n", id, id, cls, nw, id)
		i := def.Owner.(*wit.Interface)
		fmt.Fprintf(wd, "// The last handle to a %s is gone: the bindings forget the object and\n// call its drop(), if it has one.\nexport function %s_dtor_%s(rep: u32): void {\n  const v = table_%s.remove(rep);\n  if (isDefined(v.drop)) v.drop();\n}\n\n",
			*def.Name, strings.ReplaceAll(*i.Name, "-", "_"), strings.ReplaceAll(*def.Name, "-", "_"), id)
	}
}

// zero is a value of type t for unset fields.
func (g *asgen) zero(t wit.Type) string {
	if t == nil {
		return "0"
	}
	switch k := under(t).(type) {
	case wit.Bool:
		return "false"
	case wit.String:
		return `""`
	case *wit.List:
		if isU8List(k) {
			return "new Uint8Array(0)"
		}
		return "[]"
	case *wit.Option, *wit.Result, *wit.Tuple, *wit.Record, *wit.Variant, *wit.Own, *wit.Borrow:
		return "changetype<" + g.asType(t) + ">(0)"
	}
	return "0"
}

// named emits (once) and returns the qualified name of a named type.
func (g *asgen) named(td *wit.TypeDef) string {
	td = definer(td)
	ns := g.namespace(td.Owner)
	name := asPascal(*td.Name)
	q := ns + "." + name
	key := "type " + q
	if slices.Contains(g.used, key) {
		return g.qual + q
	}
	g.used = append(g.used, key)
	var b strings.Builder
	if docs := strings.TrimSpace(td.Docs.Contents); docs != "" {
		b.WriteString("  // " + strings.ReplaceAll(docs, "\n", "\n  // ") + "\n")
	}
	switch k := td.Kind.(type) {
	case *wit.Record:
		var ps []string
		for _, f := range k.Fields {
			ps = append(ps, "public "+asCamel(f.Name)+": "+g.asType(f.Type))
		}
		fmt.Fprintf(&b, "  export class %s {\n    constructor(%s) {}\n  }\n\n", name, strings.Join(ps, ", "))
	case *wit.Enum:
		fmt.Fprintf(&b, "  export enum %s {\n", name)
		for i, c := range k.Cases {
			fmt.Fprintf(&b, "    %s = %d,\n", asPascal(c.Name), i)
		}
		b.WriteString("  }\n\n")
	case *wit.Flags:
		if len(k.Flags) > 32 {
			fail("flags %s: more than 32 flags are not supported", *td.Name)
		}
		fmt.Fprintf(&b, "  export enum %s {\n    None = 0,\n", name)
		for i, f := range k.Flags {
			fmt.Fprintf(&b, "    %s = %d,\n", asPascal(f.Name), uint32(1)<<i)
		}
		b.WriteString("  }\n\n")
	case *wit.Variant:
		fmt.Fprintf(&b, "  export class %s {\n", name)
		for i, c := range k.Cases {
			fmt.Fprintf(&b, "    static readonly TAG_%s: u32 = %d;\n", strings.ToUpper(strings.ReplaceAll(strings.TrimPrefix(c.Name, "%"), "-", "_")), i)
		}
		b.WriteString("    tag: u32 = 0;\n")
		for _, c := range k.Cases {
			if c.Type != nil {
				fmt.Fprintf(&b, "    %s: %s = %s;\n", asCamel(c.Name), g.asType(c.Type), g.zero(c.Type))
			}
		}
		for i, c := range k.Cases {
			if c.Type != nil {
				fmt.Fprintf(&b, "    static %s(v: %s): %s {\n      const x = new %s();\n      x.tag = %d;\n      x.%s = v;\n      return x;\n    }\n",
					asCamel(c.Name), g.asType(c.Type), name, name, i, asCamel(c.Name))
			} else {
				fmt.Fprintf(&b, "    static %s(): %s {\n      const x = new %s();\n      x.tag = %d;\n      return x;\n    }\n",
					asCamel(c.Name), name, name, i)
			}
		}
		b.WriteString("  }\n\n")
	case *wit.Resource:
		// Methods are added by genImport; the class is closed in run.
		fmt.Fprintf(&b, "  export class %s {\n    constructor(public handle: u32) {}\n%%METHODS:%s%%  }\n\n", name, name)
	default:
		fail("type %s (%T) is not supported by the AssemblyScript bindings", *td.Name, td.Kind)
	}
	g.bodies[td.Owner].WriteString(b.String())
	return g.qual + q
}

func (g *asgen) run(impl string) (string, string) {
	w := g.world
	g.inline = map[*wit.Interface]string{}
	for name, item := range w.AllItems() {
		if ref, ok := item.(*wit.InterfaceRef); ok && ref.Interface.Name == nil {
			g.inline[ref.Interface] = name
		}
	}
	ifaceID := func(i *wit.Interface, key string) string {
		if i.Name == nil {
			return key
		}
		id := i.Package.Name
		s := id.Namespace + ":" + id.Package + "/" + *i.Name
		if id.Version != nil {
			s += "@" + id.Version.String()
		}
		return s
	}
	for _, item := range w.Exports.All() {
		if ref, ok := item.(*wit.InterfaceRef); ok {
			g.exported[ref.Interface] = true
		}
	}
	methods := map[string]*strings.Builder{}
	addResource := func(owner wit.TypeOwner, module string, td *wit.TypeDef) {
		m := &strings.Builder{}
		methods[g.namespace(owner)+"."+asPascal(*td.Name)] = m
		ext := g.extern(module, "[resource-drop]"+*td.Name, []string{"u32"}, "void")
		fmt.Fprintf(m, "    // drop drops this handle.\n    drop(): void {\n      %s(this.handle);\n    }\n", ext)
	}
	// Resources of the world itself.
	for _, item := range w.Imports.All() {
		if td, ok := item.(*wit.TypeDef); ok {
			g.asType(td)
			if _, ok := td.Kind.(*wit.Resource); ok {
				addResource(w, "$root", td)
			}
		}
	}
	for key, item := range w.Imports.All() {
		if ref, ok := item.(*wit.InterfaceRef); ok {
			i := ref.Interface
			g.namespace(i)
			for _, td := range i.TypeDefs.All() {
				g.asType(td)
			}
			for _, td := range i.TypeDefs.All() {
				if _, ok := td.Kind.(*wit.Resource); ok {
					if g.exported[i] {
						fail("interface %s is both imported and exported and has resources: not supported", ifaceID(i, key))
					}
					addResource(i, ifaceID(i, key), td)
				}
			}
			for _, f := range i.Functions.All() {
				g.genImport(i, ifaceID(i, key), f, methods)
			}
		} else if f, ok := item.(*wit.Function); ok {
			g.genImport(w, "$root", f, methods)
		}
	}
	var exports strings.Builder
	implNS := map[string]bool{}
	exportIDs := map[wit.TypeOwner]string{}
	for key, item := range w.Exports.All() {
		if ref, ok := item.(*wit.InterfaceRef); ok {
			i := ref.Interface
			for _, td := range i.TypeDefs.All() {
				g.asType(td)
			}
			if i.Name == nil {
				fail("inline exported interface %s: not supported", key)
			}
			user := asCamel(*i.Name)
			implNS[user] = true
			exportIDs[i] = ifaceID(i, key)
			for _, f := range i.Functions.All() {
				g.genExport(&exports, ExportShortName(*i.Name, f.Name), "impl_"+strings.TrimSuffix(user, "_"), f, "")
			}
		} else if f, ok := item.(*wit.Function); ok {
			user := asCamel(f.Name)
			implNS[user] = true
			g.genExport(&exports, ExportShortName("", f.Name), "", f, "impl_"+strings.TrimSuffix(user, "_"))
		}
	}
	for _, item := range w.AllItems() {
		if td, ok := item.(*wit.TypeDef); ok {
			g.asType(td)
		}
	}

	var resB, dtorB strings.Builder
	g.exportedHelpers(exportIDs, &resB, &dtorB)
	var b strings.Builder
	fmt.Fprintf(&b, "// Code generated by wbox bindgen --lang as for world %s/%s. DO NOT EDIT.\n", w.Package.Name.String(), w.Name)
	b.WriteString("// The world's types and imports; see world.ts for the exports.\n")
	b.WriteString("import { Option, Result, some, none, ok, err, mark, release, alloc, liftString, lowerString, liftBytes, lowerBytes, ResourceTable } from \"./cabi\";\n")
	if len(g.expRes) > 0 {
		var ns []string
		for _, def := range g.expRes {
			n := strings.TrimSuffix(asCamel(*def.Owner.(*wit.Interface).Name), "_")
			if s := n + " as impl_" + n; !slices.Contains(ns, s) {
				ns = append(ns, s)
			}
		}
		fmt.Fprintf(&b, "// The box's classes of the resources it exports.\nimport { %s } from %q;\n", strings.Join(ns, ", "), impl)
	}
	b.WriteString("export { Option, Result, some, none, ok, err } from \"./cabi\";\n\n")
	for n := 1; n <= 16; n++ {
		if !g.tuples[n] {
			continue
		}
		var tps, ps []string
		for i := range n {
			tps = append(tps, fmt.Sprintf("T%d", i))
			ps = append(ps, fmt.Sprintf("public f%d: T%d", i, i))
		}
		fmt.Fprintf(&b, "export class Tuple%d<%s> {\n  constructor(%s) {}\n}\n\n", n, strings.Join(tps, ", "), strings.Join(ps, ", "))
	}
	if g.tuples[0] {
		fail("empty tuples are not supported")
	}
	b.WriteString(g.externs.String())
	b.WriteString(resB.String())
	for _, owner := range g.order {
		body := g.bodies[owner].String()
		for name, m := range methods {
			ns, cls, _ := strings.Cut(name, ".")
			if ns == g.ns[owner] {
				body = strings.Replace(body, "%METHODS:"+cls+"%", m.String(), 1)
			}
		}
		fmt.Fprintf(&b, "export namespace %s {\n%s}\n\n", g.ns[owner], strings.TrimSuffix(body, "\n"))
	}
	out := b.String()
	for _, owner := range g.order {
		_ = owner
	}
	if strings.Contains(out, "%METHODS:") {
		// Resources of interfaces with no functions.
		for {
			i := strings.Index(out, "%METHODS:")
			if i < 0 {
				break
			}
			j := strings.Index(out[i+1:], "%")
			out = out[:i] + out[i+j+2:]
		}
	}

	var wd strings.Builder
	fmt.Fprintf(&wd, "// Code generated by wbox bindgen --lang as for world %s/%s. DO NOT EDIT.\n", w.Package.Name.String(), w.Name)
	wd.WriteString("// The module asc compiles: the canonical-ABI glue of the world's exports,\n// named IFACE_FUNC (`wbox build` renames them IFACE#FUNC).\n")
	wd.WriteString("import { Option, Result, some, none, ok, err, alloc, liftString, lowerString, liftBytes, lowerBytes, postReturn } from \"./cabi\";\n")
	if len(g.order) > 0 {
		var nss []string
		for _, o := range g.order {
			nss = append(nss, g.ns[o])
		}
		fmt.Fprintf(&wd, "import { %s } from \"./bindings\";\n", strings.Join(nss, ", "))
	}
	if g.tuples != nil {
		var ts []string
		for n := 1; n <= 16; n++ {
			if g.tuples[n] {
				ts = append(ts, fmt.Sprintf("Tuple%d", n))
			}
		}
		if len(ts) > 0 {
			fmt.Fprintf(&wd, "import { %s } from \"./bindings\";\n", strings.Join(ts, ", "))
		}
	}
	if len(g.helpers) > 0 {
		fmt.Fprintf(&wd, "import { %s } from \"./bindings\";\n", strings.Join(g.helpers, ", "))
	}
	var implNames []string
	for n := range implNS {
		implNames = append(implNames, n+" as impl_"+strings.TrimSuffix(n, "_"))
	}
	slices.Sort(implNames)
	if len(implNames) > 0 {
		fmt.Fprintf(&wd, "import { %s } from %q;\n", strings.Join(implNames, ", "), impl)
	}
	wd.WriteString("export { cabi_realloc } from \"./cabi\";\n\n")
	wd.WriteString(exports.String())
	wd.WriteString(dtorB.String())
	return out, wd.String()
}

// extern declares an imported core function and returns its name.
func (g *asgen) extern(module, name string, params []string, ret string) string {
	g.n++
	id := fmt.Sprintf("wbox_import_%d", g.n)
	var ps []string
	for i, p := range params {
		ps = append(ps, fmt.Sprintf("p%d: %s", i, p))
	}
	fmt.Fprintf(&g.externs, "// @ts-ignore: decorator\n@external(%q, %q)\ndeclare function %s(%s): %s;\n\n", module, name, id, strings.Join(ps, ", "), ret)
	return id
}

// asFuncName is the name of an imported function in its namespace.
func asFuncName(f *wit.Function) (name string, res string, kind string) {
	switch k := f.Kind.(type) {
	case *wit.Constructor:
		return "create", *k.Type.(*wit.TypeDef).Name, "constructor"
	case *wit.Method:
		return asCamel(f.BaseName()), *k.Type.(*wit.TypeDef).Name, "method"
	case *wit.Static:
		return asCamel(f.BaseName()), *k.Type.(*wit.TypeDef).Name, "static"
	}
	return asCamel(f.Name), "", ""
}

func (g *asgen) retType(f *wit.Function) string {
	if len(f.Results) > 1 {
		fail("function %s: multiple results are not supported", f.Name)
	}
	if len(f.Results) == 1 {
		return g.asType(f.Results[0].Type)
	}
	return "void"
}

func (g *asgen) genImport(owner wit.TypeOwner, module string, f *wit.Function, methods map[string]*strings.Builder) {
	ns := g.namespace(owner)
	name, res, kind := asFuncName(f)
	ret := g.retType(f)
	var sig []string
	params := f.Params
	for i, p := range params {
		if kind == "method" && i == 0 {
			continue
		}
		sig = append(sig, asCamel(p.Name)+": "+g.asType(p.Type))
	}
	var b strings.Builder
	e := &asbody{g: g, b: &b, indent: "    "}
	if kind != "" {
		e.indent = "      "
	}
	e.line("const mark0 = mark();")
	pflat := flatAll(paramTypes(params))
	var coreParams, coreArgs []string
	argOf := func(i int, p wit.Param) string {
		if kind == "method" && i == 0 {
			return "this"
		}
		return asCamel(p.Name)
	}
	if len(pflat) > maxFlatParams {
		offs, size, align := fieldOffsets(paramTypes(params))
		pa := g.tmp()
		e.line("const %s = alloc(%d, %d);", pa, size, align)
		for i, p := range params {
			e.store(p.Type, argOf(i, p), fmt.Sprintf("%s + %d", pa, offs[i]))
		}
		coreParams, coreArgs = []string{"u32"}, []string{"<u32>" + pa}
	} else {
		for i, p := range params {
			for _, v := range e.lowerFlat(p.Type, argOf(i, p)) {
				coreParams = append(coreParams, asCore[pflat[len(coreArgs)]])
				coreArgs = append(coreArgs, v)
			}
		}
	}
	coreRet := "void"
	var rt wit.Type
	spilled := ""
	if len(f.Results) == 1 {
		rt = f.Results[0].Type
		rflat := flat(rt)
		if len(rflat) > maxFlatResults {
			size, align := layout(rt)
			spilled = g.tmp()
			e.line("const %s = alloc(%d, %d);", spilled, size, align)
			coreParams = append(coreParams, "u32")
			coreArgs = append(coreArgs, "<u32>"+spilled)
		} else {
			coreRet = asCore[rflat[0]]
		}
	}
	ext := g.extern(module, f.Name, coreParams, coreRet)
	call := ext + "(" + strings.Join(coreArgs, ", ") + ")"
	switch {
	case rt == nil:
		e.line("%s;", call)
		e.line("release(mark0);")
	case spilled != "":
		e.line("%s;", call)
		out := e.load(rt, spilled)
		e.line("release(mark0);")
		e.line("return %s;", out)
	default:
		r := g.tmp()
		e.line("const %s = %s;", r, call)
		out := e.liftFlat(rt, []string{r})
		e.line("release(mark0);")
		e.line("return %s;", out)
	}
	doc := ""
	if docs := strings.TrimSpace(f.Docs.Contents); docs != "" {
		doc = strings.Repeat(" ", len(e.indent)-2) + "// " + strings.ReplaceAll(docs, "\n", "\n"+strings.Repeat(" ", len(e.indent)-2)+"// ") + "\n"
	}
	switch kind {
	case "":
		fmt.Fprintf(g.bodies[owner], "%s  export function %s(%s): %s {\n%s  }\n\n", doc, name, strings.Join(sig, ", "), ret, b.String())
	default:
		cls := asPascal(res)
		m := methods[ns+"."+cls]
		if m == nil {
			fail("function %s of resource %s: the resource is not in its interface", f.Name, res)
		}
		static := "static "
		if kind == "method" {
			static = ""
		}
		fmt.Fprintf(m, "%s    %s%s(%s): %s {\n%s    }\n", doc, static, name, strings.Join(sig, ", "), ret, b.String())
	}
}

// genExport writes the glue of an exported function: core is its export
// name, ns the namespace of the box's code implementing its interface, or
// call the box's function (world-level functions).
func (g *asgen) genExport(out *strings.Builder, core, ns string, f *wit.Function, call string) {
	g.retType(f)
	var b strings.Builder
	e := &asbody{g: g, b: &b, indent: "  "}
	pflat := flatAll(paramTypes(f.Params))
	var coreParams, args []string
	if len(pflat) > maxFlatParams {
		coreParams = []string{"p0: u32"}
		offs, _, _ := fieldOffsets(paramTypes(f.Params))
		for i, p := range f.Params {
			args = append(args, e.load(p.Type, fmt.Sprintf("<usize>p0 + %d", offs[i])))
		}
	} else {
		i := 0
		for _, p := range f.Params {
			n := len(flat(p.Type))
			vals := make([]string, n)
			for k := range vals {
				vals[k] = fmt.Sprintf("p%d", i+k)
				coreParams = append(coreParams, fmt.Sprintf("p%d: %s", i+k, asCore[pflat[i+k]]))
			}
			args = append(args, e.liftFlat(p.Type, vals))
			i += n
		}
	}
	switch k := f.Kind.(type) {
	case *wit.Freestanding:
		if call == "" {
			call = ns + "." + asCamel(f.Name)
		}
	case *wit.Constructor:
		call = "new " + g.resource(k.Type)
	case *wit.Static:
		call = g.resource(k.Type) + "." + asCamel(f.BaseName())
	case *wit.Method:
		call = args[0] + "." + asCamel(f.BaseName())
		args = args[1:]
	}
	callExpr := call + "(" + strings.Join(args, ", ") + ")"
	coreRet := "void"
	post := false
	if len(f.Results) == 1 {
		rt := f.Results[0].Type
		rflat := flat(rt)
		post = true
		r := g.tmp()
		e.line("const %s = %s;", r, callExpr)
		if len(rflat) > maxFlatResults {
			size, align := layout(rt)
			ret := g.tmp()
			e.line("const %s = alloc(%d, %d);", ret, size, align)
			e.store(rt, r, ret)
			e.line("return <u32>%s;", ret)
			coreRet = "u32"
		} else {
			vals := e.lowerFlat(rt, r)
			e.line("return %s;", vals[0])
			coreRet = asCore[rflat[0]]
		}
	} else {
		e.line("%s;", callExpr)
		e.line("postReturn();")
	}
	fmt.Fprintf(out, "export function %s(%s): %s {\n%s}\n\n", core, strings.Join(coreParams, ", "), coreRet, b.String())
	if post {
		fmt.Fprintf(out, "export function cabi_post_%s(_r: %s): void {\n  postReturn();\n}\n\n", core, coreRet)
	}
}

// asbody emits the statements of one glue function.
type asbody struct {
	g      *asgen
	b      *strings.Builder
	indent string
}

func (e *asbody) line(format string, args ...any) {
	fmt.Fprintf(e.b, e.indent+format+"\n", args...)
}

func (e *asbody) nest(f func()) {
	old := e.indent
	e.indent += "  "
	f()
	e.indent = old
}

func asFromJoined(v, j, t string) string {
	switch {
	case j == t:
		return v
	case j == i64 && t == i32:
		return "<u32>(" + v + ")"
	case j == i32 && t == f32:
		return "reinterpret<f32>(" + v + ")"
	case j == i64 && t == f32:
		return "reinterpret<f32>(<u32>(" + v + "))"
	case j == i64 && t == f64:
		return "reinterpret<f64>(" + v + ")"
	}
	panic("bindgen: bad join " + j + " -> " + t)
}

func asToJoined(v, t, j string) string {
	switch {
	case j == t:
		return v
	case t == i32 && j == i64:
		return "<u64>(" + v + ")"
	case t == f32 && j == i32:
		return "reinterpret<u32>(" + v + ")"
	case t == f32 && j == i64:
		return "<u64>reinterpret<u32>(" + v + ")"
	case t == f64 && j == i64:
		return "reinterpret<u64>(" + v + ")"
	}
	panic("bindgen: bad join " + t + " -> " + j)
}

// payloadOf returns the expression of a variant-like x's payload in case i.
func (e *asbody) payloadOf(t wit.Type, x string, i int) string {
	switch k := under(t).(type) {
	case *wit.Option:
		return x + ".val"
	case *wit.Result:
		if i == 0 {
			return x + ".ok"
		}
		return x + ".err"
	case *wit.Variant:
		return x + "." + asCamel(k.Cases[i].Name)
	}
	fail("payloadOf %T", under(t))
	return ""
}

func (e *asbody) tagOf(t wit.Type, x string) string {
	switch under(t).(type) {
	case *wit.Option:
		return "(" + x + ".isSome ? 1 : 0)"
	case *wit.Result:
		return "(" + x + ".isErr ? 1 : 0)"
	}
	return x + ".tag"
}

// makeCase returns the expression building variant-like t in case i.
func (e *asbody) makeCase(t wit.Type, i int, payload string) string {
	ty := e.g.asType(t)
	switch k := under(t).(type) {
	case *wit.Option:
		if i == 0 {
			return "none<" + e.g.asType(k.Type) + ">()"
		}
		return "some<" + e.g.asType(k.Type) + ">(" + payload + ")"
	case *wit.Result:
		targs := "<" + e.g.asType(k.OK) + ", " + e.g.asType(k.Err) + ">"
		if payload == "" {
			payload = "0"
		}
		if i == 0 {
			return "ok" + targs + "(" + payload + ")"
		}
		return "err" + targs + "(" + payload + ")"
	case *wit.Variant:
		return ty + "." + asCamel(k.Cases[i].Name) + "(" + payload + ")"
	}
	fail("makeCase %T", under(t))
	return ""
}

// intLift converts a core i32/i64 value to t's integer-like type.
func (e *asbody) scalarLift(t wit.Type, v string) string {
	switch under(t).(type) {
	case wit.Bool:
		return "(" + v + " != 0)"
	case wit.F32, wit.F64, wit.U32, wit.Char, wit.U64:
		return v
	case *wit.Own, *wit.Borrow:
		return e.liftHandle(t, v)
	}
	return "<" + e.g.asType(t) + ">(" + v + ")"
}

// liftFlat emits statements lifting t from flat values and returns an
// expression of the value.
func (e *asbody) liftFlat(t wit.Type, vals []string) string {
	k := under(t)
	switch k := k.(type) {
	case wit.String:
		return "liftString(" + vals[0] + ", " + vals[1] + ")"
	case *wit.List:
		return e.liftList(k, vals[0], vals[1])
	case *wit.Record:
		var fs []string
		i := 0
		for _, f := range k.Fields {
			n := len(flat(f.Type))
			fs = append(fs, e.liftFlat(f.Type, vals[i:i+n]))
			i += n
		}
		v := e.g.tmp()
		e.line("const %s = new %s(%s);", v, e.g.asType(t), strings.Join(fs, ", "))
		return v
	case *wit.Tuple:
		var fs []string
		i := 0
		for _, et := range k.Types {
			n := len(flat(et))
			fs = append(fs, e.liftFlat(et, vals[i:i+n]))
			i += n
		}
		v := e.g.tmp()
		e.line("const %s = new %s(%s);", v, e.g.asType(t), strings.Join(fs, ", "))
		return v
	}
	if cs := cases(k); cs != nil {
		joined := joinedPayload(cs)
		v := e.g.tmp()
		e.line("let %s = changetype<%s>(0);", v, e.g.asType(t))
		e.line("switch (%s) {", vals[0])
		for i, c := range cs {
			e.line("  case %d: {", i)
			e.nest(func() {
				e.nest(func() {
					payload := ""
					if c.typ != nil {
						ft := flat(c.typ)
						conv := make([]string, len(ft))
						for j, x := range ft {
							conv[j] = asFromJoined(vals[1+j], joined[j], x)
						}
						payload = e.liftFlat(c.typ, conv)
					}
					e.line("%s = %s;", v, e.makeCase(t, i, payload))
					e.line("break;")
				})
			})
			e.line("  }")
		}
		e.line("  default: unreachable();")
		e.line("}")
		return v
	}
	return e.scalarLift(t, vals[0])
}

func (e *asbody) liftList(k *wit.List, ptr, n string) string {
	if isU8List(k) {
		return "liftBytes(" + ptr + ", " + n + ")"
	}
	size, _ := layout(k.Type)
	v, i := e.g.tmp(), e.g.tmp()
	e.line("const %s = new Array<%s>(<i32>%s);", v, e.g.asType(k.Type), n)
	e.line("for (let %s: u32 = 0; %s < <u32>%s; %s++) {", i, i, n, i)
	e.nest(func() {
		x := e.load(k.Type, fmt.Sprintf("<usize>%s + <usize>%s * %d", ptr, i, size))
		e.line("%s[%s] = %s;", v, i, x)
	})
	e.line("}")
	return v
}

// lowerFlat emits statements lowering x and returns its flat values.
func (e *asbody) lowerFlat(t wit.Type, x string) []string {
	k := under(t)
	switch k := k.(type) {
	case wit.String:
		p, n := e.g.tmp(), e.g.tmp()
		e.line("const %s = lowerString(%s);", p, x)
		e.line("const %s = <u32>String.UTF8.byteLength(%s);", n, x)
		return []string{"<u32>" + p, n}
	case *wit.List:
		p := e.lowerList(k, x)
		return []string{"<u32>" + p, "<u32>" + x + ".length"}
	case *wit.Record:
		var out []string
		for _, f := range k.Fields {
			out = append(out, e.lowerFlat(f.Type, x+"."+asCamel(f.Name))...)
		}
		return out
	case *wit.Tuple:
		var out []string
		for j, et := range k.Types {
			out = append(out, e.lowerFlat(et, fmt.Sprintf("%s.f%d", x, j))...)
		}
		return out
	}
	if cs := cases(k); cs != nil {
		joined := joinedPayload(cs)
		xv := e.g.tmp()
		e.line("const %s = %s;", xv, x)
		disc := e.g.tmp()
		vars := []string{disc}
		e.line("let %s: u32 = 0;", disc)
		for _, j := range joined {
			v := e.g.tmp()
			e.line("let %s: %s = 0;", v, asCore[j])
			vars = append(vars, v)
		}
		e.line("switch (%s) {", e.tagOf(t, xv))
		for i, c := range cs {
			e.line("  case %d: {", i)
			e.nest(func() {
				e.nest(func() {
					e.line("%s = %d;", disc, i)
					if c.typ != nil {
						ft := flat(c.typ)
						for j, fv := range e.lowerFlat(c.typ, e.payloadOf(t, xv, i)) {
							e.line("%s = %s;", vars[1+j], asToJoined(fv, ft[j], joined[j]))
						}
					}
					e.line("break;")
				})
			})
			e.line("  }")
		}
		e.line("}")
		return vars
	}
	switch k.(type) {
	case *wit.Own, *wit.Borrow:
		return []string{e.lowerHandle(t, x)}
	case wit.F32, wit.F64:
		return []string{x}
	case wit.S64, wit.U64:
		return []string{"<u64>(" + x + ")"}
	}
	return []string{"<u32>(" + x + ")"}
}

// lowerList copies list x into a new block and returns its address.
func (e *asbody) lowerList(k *wit.List, x string) string {
	p := e.g.tmp()
	if isU8List(k) {
		e.line("const %s = lowerBytes(%s);", p, x)
		return p
	}
	size, align := layout(k.Type)
	i := e.g.tmp()
	e.line("const %s = alloc(<usize>%s.length * %d, %d);", p, x, size, align)
	e.line("for (let %s = 0; %s < %s.length; %s++) {", i, i, x, i)
	e.nest(func() {
		e.store(k.Type, x+"["+i+"]", fmt.Sprintf("%s + <usize>%s * %d", p, i, size))
	})
	e.line("}")
	return p
}

var asMem = map[uint32]string{1: "u8", 2: "u16", 4: "u32", 8: "u64"}

// load emits statements reading t at addr and returns its expression.
func (e *asbody) load(t wit.Type, addr string) string {
	a := e.g.tmp()
	e.line("const %s: usize = %s;", a, addr)
	k := under(t)
	switch k := k.(type) {
	case wit.Bool:
		return "(load<u8>(" + a + ") != 0)"
	case wit.S8:
		return "load<i8>(" + a + ")"
	case wit.U8:
		return "load<u8>(" + a + ")"
	case wit.S16:
		return "load<i16>(" + a + ")"
	case wit.U16:
		return "load<u16>(" + a + ")"
	case wit.S32:
		return "load<i32>(" + a + ")"
	case wit.U32, wit.Char:
		return "load<u32>(" + a + ")"
	case wit.S64:
		return "load<i64>(" + a + ")"
	case wit.U64:
		return "load<u64>(" + a + ")"
	case wit.F32:
		return "load<f32>(" + a + ")"
	case wit.F64:
		return "load<f64>(" + a + ")"
	case wit.String:
		return "liftString(load<u32>(" + a + "), load<u32>(" + a + ", 4))"
	case *wit.List:
		return e.liftList(k, "load<u32>("+a+")", "load<u32>("+a+", 4)")
	case *wit.Own, *wit.Borrow:
		return e.liftHandle(t, "load<u32>("+a+")")
	case *wit.Enum, *wit.Flags:
		s, _ := layout(t)
		return "<" + e.g.asType(t) + ">(load<" + asMem[s] + ">(" + a + "))"
	case *wit.Record:
		offs, _, _ := fieldOffsets(fieldTypes(k))
		var fs []string
		for i, f := range k.Fields {
			fs = append(fs, e.load(f.Type, fmt.Sprintf("%s + %d", a, offs[i])))
		}
		v := e.g.tmp()
		e.line("const %s = new %s(%s);", v, e.g.asType(t), strings.Join(fs, ", "))
		return v
	case *wit.Tuple:
		offs, _, _ := fieldOffsets(k.Types)
		var fs []string
		for i, et := range k.Types {
			fs = append(fs, e.load(et, fmt.Sprintf("%s + %d", a, offs[i])))
		}
		v := e.g.tmp()
		e.line("const %s = new %s(%s);", v, e.g.asType(t), strings.Join(fs, ", "))
		return v
	}
	if cs := cases(k); cs != nil {
		ds := discSize(len(cs))
		off := payloadOffset(cs)
		v := e.g.tmp()
		e.line("let %s = changetype<%s>(0);", v, e.g.asType(t))
		e.line("switch (<u32>load<%s>(%s)) {", asMem[ds], a)
		for i, c := range cs {
			e.line("  case %d: {", i)
			e.nest(func() {
				e.nest(func() {
					payload := ""
					if c.typ != nil {
						payload = e.load(c.typ, fmt.Sprintf("%s + %d", a, off))
					}
					e.line("%s = %s;", v, e.makeCase(t, i, payload))
					e.line("break;")
				})
			})
			e.line("  }")
		}
		e.line("  default: unreachable();")
		e.line("}")
		return v
	}
	fail("load %T", k)
	return ""
}

// store emits statements writing x of type t at addr.
func (e *asbody) store(t wit.Type, x, addr string) {
	a := e.g.tmp()
	e.line("const %s: usize = %s;", a, addr)
	k := under(t)
	switch k := k.(type) {
	case wit.Bool:
		e.line("store<u8>(%s, %s ? 1 : 0);", a, x)
		return
	case wit.S8, wit.U8, wit.S16, wit.U16, wit.S32, wit.U32, wit.Char, wit.S64, wit.U64, wit.F32, wit.F64:
		e.line("store<%s>(%s, %s);", e.g.asType(t), a, x)
		return
	case wit.String:
		p := e.g.tmp()
		e.line("const %s = %s;", p, x)
		e.line("store<u32>(%s, <u32>lowerString(%s));", a, p)
		e.line("store<u32>(%s, <u32>String.UTF8.byteLength(%s), 4);", a, p)
		return
	case *wit.List:
		lv := e.g.tmp()
		e.line("const %s = %s;", lv, x)
		p := e.lowerList(k, lv)
		e.line("store<u32>(%s, <u32>%s);", a, p)
		e.line("store<u32>(%s, <u32>%s.length, 4);", a, lv)
		return
	case *wit.Own, *wit.Borrow:
		e.line("store<u32>(%s, %s);", a, e.lowerHandle(t, x))
		return
	case *wit.Enum, *wit.Flags:
		s, _ := layout(t)
		e.line("store<%s>(%s, <%s>(%s));", asMem[s], a, asMem[s], x)
		return
	case *wit.Record:
		offs, _, _ := fieldOffsets(fieldTypes(k))
		rv := e.g.tmp()
		e.line("const %s = %s;", rv, x)
		for i, f := range k.Fields {
			e.store(f.Type, rv+"."+asCamel(f.Name), fmt.Sprintf("%s + %d", a, offs[i]))
		}
		return
	case *wit.Tuple:
		offs, _, _ := fieldOffsets(k.Types)
		rv := e.g.tmp()
		e.line("const %s = %s;", rv, x)
		for i, et := range k.Types {
			e.store(et, fmt.Sprintf("%s.f%d", rv, i), fmt.Sprintf("%s + %d", a, offs[i]))
		}
		return
	}
	if cs := cases(k); cs != nil {
		ds := discSize(len(cs))
		off := payloadOffset(cs)
		xv := e.g.tmp()
		e.line("const %s = %s;", xv, x)
		e.line("switch (%s) {", e.tagOf(t, xv))
		for i, c := range cs {
			e.line("  case %d: {", i)
			e.nest(func() {
				e.nest(func() {
					e.line("store<%s>(%s, %d);", asMem[ds], a, i)
					if c.typ != nil {
						e.store(c.typ, e.payloadOf(t, xv, i), fmt.Sprintf("%s + %d", a, off))
					}
					e.line("break;")
				})
			})
			e.line("  }")
		}
		e.line("}")
		return
	}
	fail("store %T", k)
}

// GenerateASStub returns a skeleton of the module that implements a world's
// exports in AssemblyScript (Options.Impl): every exported function, with
// its signature, throwing "not implemented". `wbox bindgen --lang as
// --stub FILE` writes it as a starting point.
func GenerateASStub(opts Options) (stub []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(genError); ok {
				stub, err = nil, e
				return
			}
			panic(r)
		}
	}()
	w, err := FindWorld(opts.Resolve, opts.World)
	if err != nil {
		return nil, err
	}
	g := &asgen{world: w, ns: map[wit.TypeOwner]string{}, exported: map[wit.TypeOwner]bool{}, tuples: map[int]bool{},
		bodies: map[wit.TypeOwner]*strings.Builder{}}
	g.run("../box") // names the namespaces and types as the bindings do
	g.qual, g.stub = "gen.", true
	sig := func(f *wit.Function) string {
		var ps []string
		for _, p := range f.Params {
			ps = append(ps, "_"+asCamel(p.Name)+": "+g.asType(p.Type))
		}
		return "(" + strings.Join(ps, ", ") + "): " + g.retType(f)
	}
	var body strings.Builder
	for _, item := range w.Exports.All() {
		switch it := item.(type) {
		case *wit.InterfaceRef:
			fmt.Fprintf(&body, "export namespace %s {\n", asCamel(*it.Interface.Name))
			for _, td := range it.Interface.TypeDefs.All() {
				if _, ok := td.Kind.(*wit.Resource); !ok {
					continue
				}
				fmt.Fprintf(&body, "  // The resource %s: the bindings keep an object while the host holds\n  // handles to it, and call drop() when the last is dropped.\n  export class %s {\n", *td.Name, asPascal(*td.Name))
				for _, f := range it.Interface.Functions.All() {
					var res wit.Type
					switch k := f.Kind.(type) {
					case *wit.Constructor:
						res = k.Type
					case *wit.Method:
						res = k.Type
					case *wit.Static:
						res = k.Type
					}
					if res == nil || definer(res) != td {
						continue
					}
					params := f.Params
					if _, ok := f.Kind.(*wit.Method); ok {
						params = params[1:]
					}
					var ps []string
					for _, p := range params {
						ps = append(ps, "_"+asCamel(p.Name)+": "+g.asType(p.Type))
					}
					switch f.Kind.(type) {
					case *wit.Constructor:
						fmt.Fprintf(&body, "    constructor(%s) {\n      throw new Error(\"%s: not implemented\");\n    }\n\n", strings.Join(ps, ", "), f.Name)
					default:
						static := ""
						if _, ok := f.Kind.(*wit.Static); ok {
							static = "static "
						}
						fmt.Fprintf(&body, "    %s%s(%s): %s {\n      throw new Error(\"%s: not implemented\");\n    }\n\n", static, asCamel(f.BaseName()), strings.Join(ps, ", "), g.retType(f), f.Name)
					}
				}
				body.WriteString("    drop(): void {}\n  }\n\n")
			}
			for _, f := range it.Interface.Functions.All() {
				if !f.IsFreestanding() {
					continue
				}
				fmt.Fprintf(&body, "  export function %s%s {\n    throw new Error(\"%s: not implemented\");\n  }\n\n", asCamel(f.Name), sig(f), f.Name)
			}
			body.WriteString("}\n\n")
		case *wit.Function:
			fmt.Fprintf(&body, "export function %s%s {\n  throw new Error(\"%s: not implemented\");\n}\n\n", asCamel(it.Name), sig(it), it.Name)
		}
	}
	dir := opts.Dir
	if dir == "" {
		dir = "gen"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "// The exports of world %s/%s, to implement.\n", w.Package.Name.String(), w.Name)
	fmt.Fprintf(&b, "// The bindings are imported as gen: an exported namespace of this module\n// may have the name of one of theirs.\n// @ts-ignore: unused import\nimport * as gen from \"./%s/bindings\";\n\n", dir)
	b.WriteString(strings.TrimSuffix(body.String(), "\n"))
	return []byte(b.String()), nil
}

// liftHandle returns the value of a handle: a new object of an imported
// resource's class; for an exported resource, the box's object (a borrow
// is its rep, an own a handle taken over and dropped).
func (e *asbody) liftHandle(t wit.Type, v string) string {
	def := e.g.exportedRes(t)
	if def == nil {
		return "new " + e.g.asType(t) + "(" + v + ")"
	}
	id := e.g.resID(def)
	e.g.resource(def)
	if _, ok := under(t).(*wit.Borrow); ok {
		return "table_" + id + ".get(" + v + ")"
	}
	return "liftOwn_" + id + "(" + v + ")"
}

// lowerHandle returns the u32 of a handle value.
func (e *asbody) lowerHandle(t wit.Type, x string) string {
	def := e.g.exportedRes(t)
	if def == nil {
		return x + ".handle"
	}
	if _, ok := under(t).(*wit.Borrow); ok {
		fail("borrow<%s> of an exported resource cannot be passed out", *def.Name)
	}
	e.g.resource(def)
	return "lowerOwn_" + e.g.resID(def) + "(" + x + ")"
}

// ExportShortName is the name an AssemblyScript box's core module exports
// a function of an interface under (iface empty: a world-level function):
// IFACE_FUNC, with [constructor]R as constructor_R, [method]R.M as
// method_R_M, [static]R.M as static_R_M, dashes as underscores; `wbox
// build` renames it to the canonical IFACE#FUNC.
func ExportShortName(iface, fn string) string {
	for _, p := range [][2]string{{"[constructor]", "constructor_"}, {"[method]", "method_"}, {"[static]", "static_"}, {"[dtor]", "dtor_"}, {".", "_"}, {"-", "_"}} {
		fn = strings.ReplaceAll(fn, p[0], p[1])
	}
	if iface == "" {
		return fn
	}
	return strings.ReplaceAll(iface, "-", "_") + "_" + fn
}
