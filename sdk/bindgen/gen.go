// Package bindgen generates bindings for a WIT world: C (GenerateC, in
// cgen.go) and Go (Generate), for boxes built with mainline Go (GOOS=wasip1,
// //go:wasmexport and //go:wasmimport).
//
// For a box module M, every interface the world imports or exports (and
// every interface whose types they use) becomes a package
// M/gen/NAMESPACE/PACKAGE/INTERFACE; world-level functions and types go
// to M/gen/NAMESPACE/PACKAGE/WORLD. Each package has:
//
//   - the interface's types: records are structs, enums and flags are
//     integer types with constants, variants are structs with a Tag and one
//     field per payload-carrying case, option<T> is cabi.Option[T],
//     result<T, E> is cabi.Result[T, E], list<T> is []T, tuples are
//     anonymous structs with fields F0, F1, ...;
//   - for an imported interface, one Go function per WIT function;
//   - for an exported interface, a variable Exports with one func field
//     per WIT function, which the box sets in an init function.
//
// The glue (wasm_bindings.go) builds only for GOOS=wasip1; on other systems
// the imported functions panic, so that a box's logic can be unit-tested
// with a plain `go test`. The generated code uses the runtime package
// M/gen/cabi (sdk/go/cabi, copied into the box by wbox).
//
// Supported: bool, integers, floats, char, string, list, record, tuple,
// flags (up to 32), enum, variant, option and result, as parameters and
// results of imported and exported functions (world-level too, and inline
// interfaces); imported resources (a handle type R with a Drop method,
// NewR for the constructor, methods on R, statics RName); exported
// resources (an interface type R of the resource's methods, which the box
// implements; Exports.NewR and Exports.RName for the constructor and
// statics; the handles' values live in a table, and an optional Drop
// method runs when the host drops the last handle). Not supported: an
// interface with resources that the world both imports and exports.
package bindgen

import (
	"bytes"
	"fmt"
	"go/format"
	"path"
	"slices"
	"sort"
	"strings"

	"go.bytecodealliance.org/wit"
)

// Options says what to generate.
type Options struct {
	// Resolve is the loaded WIT (wit.LoadWIT).
	Resolve *wit.Resolve
	// World names the world to generate for; empty means the only world
	// of the resolve's last package (the one the directory defines).
	World string
	// Module is the box's Go module path.
	Module string
	// Dir is the directory, relative to the module root, that receives the
	// packages; empty means "gen". The runtime is expected in Dir/cabi.
	Dir string
	// Impl is the AssemblyScript module (relative to Dir) that implements
	// the world's exports; empty means "../box".
	Impl string
}

// File is one generated file, its path relative to the module root.
type File struct {
	Path string
	Data []byte
}

// FindWorld returns the world named name, or the only world of the package
// WIT was loaded from when name is empty.
func FindWorld(res *wit.Resolve, name string) (*wit.World, error) {
	var names []string
	for _, w := range res.Worlds {
		if w.Name == name || name != "" && w.Package.Name.String()+"/"+w.Name == name {
			return w, nil
		}
		names = append(names, w.Package.Name.String()+"/"+w.Name)
	}
	if name == "" && len(res.Worlds) > 0 {
		// Worlds of dependencies come first; the last package is the root.
		last := res.Worlds[len(res.Worlds)-1].Package
		var ws []*wit.World
		for _, w := range res.Worlds {
			if w.Package == last {
				ws = append(ws, w)
			}
		}
		if len(ws) == 1 {
			return ws[0], nil
		}
	}
	if name == "" {
		return nil, fmt.Errorf("the WIT defines %d worlds (%s): name one", len(names), strings.Join(names, ", "))
	}
	return nil, fmt.Errorf("no world %q in the WIT (worlds: %s)", name, strings.Join(names, ", "))
}

// Generate returns the bindings of the world.
func Generate(opts Options) (files []File, err error) {
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
	root := opts.Dir
	if root == "" {
		root = "gen"
	}
	g := &gen{module: opts.Module, root: root, world: w, pkgs: map[wit.TypeOwner]*goPkg{}}
	return g.run()
}

type genError struct{ error }

func fail(format string, args ...any) { panic(genError{fmt.Errorf(format, args...)}) }

type gen struct {
	module   string
	root     string
	inline   map[*wit.Interface]string // inline interfaces by world key
	exported map[wit.TypeOwner]bool    // interfaces the world exports
	world    *wit.World
	pkgs     map[wit.TypeOwner]*goPkg
	order    []*goPkg
}

// goPkg is one generated Go package.
type goPkg struct {
	g       *gen
	owner   wit.TypeOwner
	dir     string // relative to the module root
	name    string
	wasmID  string // import module name for imports: "ns:pkg/iface@v" or "$root"
	exportP string // export name prefix: "ns:pkg/iface@v#" or ""

	imports     map[string]string // Go import path -> alias, for the portable file
	wasmImports map[string]string // for wasm_bindings.go
	hostImports map[string]string // for host_stubs.go

	types     bytes.Buffer // portable: types and Exports
	exports   []*wit.Function
	imps      []*wit.Function
	drops     []*wit.TypeDef // imported resources
	resources []*wit.TypeDef // exported resources
	wasm      bytes.Buffer
	host      bytes.Buffer
	typesOK   bool
}

func (g *gen) cabiPath() string { return g.module + "/" + g.root + "/cabi" }

// pkg returns (creating) the package for a type owner.
func (g *gen) pkg(owner wit.TypeOwner) *goPkg {
	if p := g.pkgs[owner]; p != nil {
		return p
	}
	p := &goPkg{g: g, owner: owner, imports: map[string]string{}, wasmImports: map[string]string{}, hostImports: map[string]string{}}
	switch o := owner.(type) {
	case *wit.Interface:
		if o.Name == nil {
			// An inline interface (import NAME: interface { ... }): its
			// instance is named NAME.
			name, ok := g.inline[o]
			if !ok {
				fail("an inline interface outside the world's imports and exports")
			}
			w := g.world.Package.Name
			p.dir = path.Join(g.root, pkgName(w.Namespace), pkgName(w.Package), pkgName(name))
			p.name = pkgName(name)
			p.wasmID = name
			p.exportP = name + "#"
			break
		}
		id := o.Package.Name
		p.dir = path.Join(g.root, pkgName(id.Namespace), pkgName(id.Package), pkgName(*o.Name))
		p.name = pkgName(*o.Name)
		full := id.Namespace + ":" + id.Package + "/" + *o.Name
		if id.Version != nil {
			full += "@" + id.Version.String()
		}
		p.wasmID = full
		p.exportP = full + "#"
	case *wit.World:
		id := o.Package.Name
		p.dir = path.Join(g.root, pkgName(id.Namespace), pkgName(id.Package), pkgName(o.Name))
		p.name = pkgName(o.Name)
		p.wasmID = "$root"
	default:
		fail("unsupported type owner %T", owner)
	}
	for _, q := range g.order {
		if q.dir == p.dir {
			p.dir += "world"
			p.name += "world"
		}
	}
	g.pkgs[owner] = p
	g.order = append(g.order, p)
	return p
}

func (g *gen) run() ([]File, error) {
	w := g.world
	g.inline = map[*wit.Interface]string{}
	for name, item := range w.AllItems() {
		if ref, ok := item.(*wit.InterfaceRef); ok && ref.Interface.Name == nil {
			g.inline[ref.Interface] = name
		}
	}
	wp := g.pkg(w)
	for name, item := range w.Imports.All() {
		switch it := item.(type) {
		case *wit.InterfaceRef:
			p := g.pkg(it.Interface)
			for _, f := range it.Interface.Functions.All() {
				p.imps = append(p.imps, f)
			}
		case *wit.Function:
			wp.imps = append(wp.imps, it)
		case *wit.TypeDef:
			// generated with the world's types below
		default:
			fail("unsupported world import %s (%T)", name, item)
		}
	}
	for name, item := range w.Exports.All() {
		switch it := item.(type) {
		case *wit.InterfaceRef:
			// An interface both imported and exported shares its Go types;
			// the imports are functions, the exports fields of Exports.
			p := g.pkg(it.Interface)
			p.exports = append(p.exports, slices.Collect(it.Interface.AllFunctions())...)
		case *wit.Function:
			wp.exports = append(wp.exports, it)
		case *wit.TypeDef:
		default:
			fail("unsupported world export %s (%T)", name, item)
		}
	}
	g.exported = map[wit.TypeOwner]bool{}
	for _, p := range g.order {
		if _, iface := p.owner.(*wit.Interface); iface && len(p.exports) > 0 {
			g.exported[p.owner] = true
			for _, f := range p.exports {
				if !f.IsFreestanding() && len(p.imps) > 0 {
					fail("interface %s is both imported and exported and has resources: not supported", p.wasmID)
				}
			}
		}
	}
	// Types first: generating them may add packages (types used from
	// other interfaces), so loop until every package has its types.
	for done := false; !done; {
		done = true
		for _, p := range slices.Clone(g.order) {
			if !p.typesOK {
				p.typesOK = true
				p.genTypes()
				done = false
			}
		}
	}
	var files []File
	for _, p := range g.order {
		fs, err := p.files()
		if err != nil {
			return nil, err
		}
		files = append(files, fs...)
	}
	return files, nil
}

// typeDefs returns the named types the owner defines.
func (p *goPkg) typeDefs() []*wit.TypeDef {
	var out []*wit.TypeDef
	switch o := p.owner.(type) {
	case *wit.Interface:
		for _, td := range o.TypeDefs.All() {
			out = append(out, td)
		}
	case *wit.World:
		for _, it := range o.Imports.All() {
			if td, ok := it.(*wit.TypeDef); ok {
				out = append(out, td)
			}
		}
		for _, it := range o.Exports.All() {
			if td, ok := it.(*wit.TypeDef); ok && !slices.Contains(out, td) {
				out = append(out, td)
			}
		}
	}
	return out
}

// use records that code in p (portable file if portable, else the wasm
// file) refers to package q and returns the qualifier to use.
func (p *goPkg) use(q *goPkg, m map[string]string) string {
	if q == p {
		return ""
	}
	return p.importPath(p.g.module+"/"+q.dir, q.name, m) + "."
}

func (p *goPkg) importPath(path, name string, m map[string]string) string {
	if a, ok := m[path]; ok {
		return a
	}
	alias := name
	taken := func(a string) bool {
		for pp, x := range m {
			if x == a && pp != path {
				return true
			}
		}
		return false
	}
	for i := 2; taken(alias); i++ {
		alias = fmt.Sprintf("%s%d", name, i)
	}
	m[path] = alias
	return alias
}

// goType returns the Go type of t as written in p.
func (p *goPkg) goType(t wit.Type, m map[string]string) string {
	if td, ok := t.(*wit.TypeDef); ok && td.Name != nil {
		if _, ok := td.Kind.(*wit.Resource); ok {
			p.g.checkResource(td)
		}
		return p.use(p.g.pkg(td.Owner), m) + exported(*td.Name)
	}
	switch k := under(t).(type) {
	case wit.Bool:
		return "bool"
	case wit.S8:
		return "int8"
	case wit.U8:
		return "uint8"
	case wit.S16:
		return "int16"
	case wit.U16:
		return "uint16"
	case wit.S32:
		return "int32"
	case wit.U32:
		return "uint32"
	case wit.S64:
		return "int64"
	case wit.U64:
		return "uint64"
	case wit.F32:
		return "float32"
	case wit.F64:
		return "float64"
	case wit.Char:
		return "rune"
	case wit.String:
		return "string"
	case *wit.List:
		return "[]" + p.goType(k.Type, m)
	case *wit.Option:
		return p.cabi(m) + ".Option[" + p.goType(k.Type, m) + "]"
	case *wit.Result:
		return p.cabi(m) + ".Result[" + p.goTypeOrUnit(k.OK, m) + ", " + p.goTypeOrUnit(k.Err, m) + "]"
	case *wit.Tuple:
		var b strings.Builder
		b.WriteString("struct {")
		for i, e := range k.Types {
			if i > 0 {
				b.WriteString(";")
			}
			fmt.Fprintf(&b, " F%d %s", i, p.goType(e, m))
		}
		b.WriteString(" }")
		return b.String()
	case *wit.Own:
		return p.goType(k.Type, m)
	case *wit.Borrow:
		return p.goType(k.Type, m)
	}
	fail("type %s (%T) is not supported", t.TypeName(), under(t))
	return ""
}

func (p *goPkg) goTypeOrUnit(t wit.Type, m map[string]string) string {
	if t == nil {
		return p.cabi(m) + ".Unit"
	}
	return p.goType(t, m)
}

func (p *goPkg) cabi(m map[string]string) string {
	return p.importPath(p.g.cabiPath(), "cabi", m)
}

// genTypes writes the named types into the portable file.
func (p *goPkg) genTypes() {
	b := &p.types
	for _, td := range p.typeDefs() {
		if td.Name == nil {
			continue
		}
		name := exported(*td.Name)
		writeDocs(b, td.Docs.Contents)
		if alias, ok := td.Kind.(wit.Type); ok {
			fmt.Fprintf(b, "type %s = %s\n\n", name, p.goType(alias, p.imports))
			continue
		}
		switch k := td.Kind.(type) {
		case *wit.Record:
			fmt.Fprintf(b, "type %s struct {\n", name)
			for _, f := range k.Fields {
				writeDocs(b, f.Docs.Contents)
				fmt.Fprintf(b, "\t%s %s\n", exported(f.Name), p.goType(f.Type, p.imports))
			}
			b.WriteString("}\n\n")
		case *wit.Enum:
			fmt.Fprintf(b, "type %s uint%d\n\nconst (\n", name, 8*discSize(len(k.Cases)))
			for i, c := range k.Cases {
				writeDocs(b, c.Docs.Contents)
				if i == 0 {
					fmt.Fprintf(b, "\t%s%s %s = iota\n", name, exported(c.Name), name)
				} else {
					fmt.Fprintf(b, "\t%s%s\n", name, exported(c.Name))
				}
			}
			b.WriteString(")\n\n")
		case *wit.Flags:
			if len(k.Flags) > 32 {
				fail("flags %s: more than 32 flags are not supported", *td.Name)
			}
			fmt.Fprintf(b, "type %s uint%d\n\nconst (\n", name, 8*flagsSize(len(k.Flags)))
			for i, f := range k.Flags {
				writeDocs(b, f.Docs.Contents)
				if i == 0 {
					fmt.Fprintf(b, "\t%s%s %s = 1 << iota\n", name, exported(f.Name), name)
				} else {
					fmt.Fprintf(b, "\t%s%s\n", name, exported(f.Name))
				}
			}
			b.WriteString(")\n\n")
		case *wit.Variant:
			tag := name + "Case"
			fmt.Fprintf(b, "type %s struct {\n\tTag %s\n", name, tag)
			for _, c := range k.Cases {
				if c.Type != nil {
					fmt.Fprintf(b, "\t%s %s // when Tag is %s%s\n", exported(c.Name), p.goType(c.Type, p.imports), tag, exported(c.Name))
				}
			}
			fmt.Fprintf(b, "}\n\n// %s says which case of %s is set.\ntype %s uint%d\n\nconst (\n", tag, name, tag, 8*discSize(len(k.Cases)))
			for i, c := range k.Cases {
				writeDocs(b, c.Docs.Contents)
				if i == 0 {
					fmt.Fprintf(b, "\t%s%s %s = iota\n", tag, exported(c.Name), tag)
				} else {
					fmt.Fprintf(b, "\t%s%s\n", tag, exported(c.Name))
				}
			}
			b.WriteString(")\n\n")
			for _, c := range k.Cases {
				cn := exported(c.Name)
				if c.Type == nil {
					fmt.Fprintf(b, "// %s%s returns the case %s.\nfunc %s%s() %s { return %s{Tag: %s%s} }\n\n", name, cn, c.Name, name, cn, name, name, tag, cn)
				} else {
					fmt.Fprintf(b, "// %s%s returns the case %s(v).\nfunc %s%s(v %s) %s { return %s{Tag: %s%s, %s: v} }\n\n",
						name, cn, c.Name, name, cn, p.goType(c.Type, p.imports), name, name, tag, cn, cn)
				}
			}
		case *wit.Resource:
			if p.g.exported[td.Owner] {
				// The box implements it: an interface of its methods.
				fmt.Fprintf(b, "// %s is the box's implementation of the resource %s it exports: its\n// constructor and functions in Exports return %ss, and the host calls\n// their methods. A Drop() method, if any, runs when the host drops the\n// last handle.\ntype %s interface {\n", name, *td.Name, name, name)
				for _, f := range p.exports {
					if m, ok := f.Kind.(*wit.Method); ok && m.Type == wit.Type(td) {
						writeDocs(b, f.Docs.Contents)
						fmt.Fprintf(b, "\t%s%s\n", exported(f.BaseName()), p.signatureOf(f.Params[1:], f, p.imports))
					}
				}
				b.WriteString("}\n\n")
				p.resources = append(p.resources, td)
				continue
			}
			fmt.Fprintf(b, "// %s is a handle to an imported resource %s: an own<%s> or a\n// borrow<%s>. Drop an owned handle when done with it.\ntype %s uint32\n\n",
				name, *td.Name, *td.Name, *td.Name, name)
			p.drops = append(p.drops, td)
		default:
			// option, result, list, tuple given a name
			fmt.Fprintf(b, "type %s = %s\n\n", name, p.goType(&wit.TypeDef{Kind: td.Kind}, p.imports))
		}
	}
}

func writeDocs(b *bytes.Buffer, docs string) {
	docs = strings.TrimSpace(docs)
	if docs == "" {
		return
	}
	for _, l := range strings.Split(docs, "\n") {
		fmt.Fprintf(b, "// %s\n", strings.TrimRight(l, " "))
	}
}

// files renders p's files.
func (p *goPkg) files() ([]File, error) {
	if len(p.exports) > 0 {
		fmt.Fprintf(&p.types, "// Exports holds the box's implementation of %s: set every field in an init function.\nvar Exports struct {\n", p.describe())
		for _, f := range p.exports {
			if _, ok := f.Kind.(*wit.Method); ok {
				continue // methods of the resource's interface type
			}
			writeDocs(&p.types, f.Docs.Contents)
			fmt.Fprintf(&p.types, "\t%s func%s\n", exportField(f), p.signature(f, p.imports))
		}
		p.types.WriteString("}\n\n")
	}
	for _, td := range p.drops {
		p.genDrop(td)
	}
	for _, f := range p.imps {
		p.genImport(f)
	}
	for _, td := range p.resources {
		p.genResource(td)
	}
	for _, f := range p.exports {
		p.genExport(f)
	}
	header := "// Code generated by wbox bindgen. DO NOT EDIT.\n\n"
	if p.types.Len() == 0 && p.wasm.Len() == 0 {
		return nil, nil // e.g. a world with nothing at world level
	}
	var out []File
	add := func(name, tags string, body *bytes.Buffer, imports map[string]string, doc bool) error {
		var b bytes.Buffer
		b.WriteString(header)
		if tags != "" {
			fmt.Fprintf(&b, "//go:build %s\n\n", tags)
		}
		if doc {
			fmt.Fprintf(&b, "// Package %s is the Go binding of %s.\n", p.name, p.describe())
		}
		fmt.Fprintf(&b, "package %s\n\n", p.name)
		if len(imports) > 0 {
			paths := make([]string, 0, len(imports))
			for ip := range imports {
				paths = append(paths, ip)
			}
			sort.Strings(paths)
			b.WriteString("import (\n")
			for _, ip := range paths {
				if a := imports[ip]; a != path.Base(ip) {
					fmt.Fprintf(&b, "\t%s %q\n", a, ip)
				} else {
					fmt.Fprintf(&b, "\t%q\n", ip)
				}
			}
			b.WriteString(")\n\n")
		}
		b.Write(body.Bytes())
		src, err := format.Source(b.Bytes())
		if err != nil {
			return fmt.Errorf("bindgen: generated invalid Go for %s/%s: %v\n%s", p.dir, name, err, b.Bytes())
		}
		out = append(out, File{Path: path.Join(p.dir, name), Data: src})
		return nil
	}
	if err := add(p.name+".go", "", &p.types, p.imports, true); err != nil {
		return nil, err
	}
	if p.wasm.Len() > 0 {
		if err := add("wasm_bindings.go", "wasip1", &p.wasm, p.wasmImports, false); err != nil {
			return nil, err
		}
	}
	if p.host.Len() > 0 {
		if err := add("host_stubs.go", "!wasip1", &p.host, p.hostImports, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (p *goPkg) describe() string {
	if w, ok := p.owner.(*wit.World); ok {
		return "the functions and types of world " + w.Package.Name.String() + "/" + w.Name
	}
	return "interface " + p.wasmID
}

// signature is a function's Go signature: "(a string, b uint32) string".
func (p *goPkg) signature(f *wit.Function, m map[string]string) string {
	return p.signatureOf(f.Params, f, m)
}

// signatureOf is signature with the parameters given (a method's without
// its receiver).
func (p *goPkg) signatureOf(params []wit.Param, f *wit.Function, m map[string]string) string {
	var b strings.Builder
	b.WriteString("(")
	for i, par := range params {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", local(par.Name), p.goType(par.Type, m))
	}
	b.WriteString(")")
	switch len(f.Results) {
	case 0:
	case 1:
		b.WriteString(" " + p.goType(f.Results[0].Type, m))
	default:
		fail("function %s: multiple results are not supported", f.Name)
	}
	return b.String()
}

// checkResource is a hook for unsupported resource uses (none left).
func (g *gen) checkResource(td *wit.TypeDef) {}

// exportedRes returns the exported resource a handle type refers to, or nil.
func (g *gen) exportedRes(t wit.Type) *wit.TypeDef {
	var r wit.Type
	switch k := under(t).(type) {
	case *wit.Own:
		r = k.Type
	case *wit.Borrow:
		r = k.Type
	default:
		return nil
	}
	def := definer(r)
	if g.exported[def.Owner] {
		return def
	}
	return nil
}

// exportField names an exported function's field in Exports: NewR for a
// constructor, RName for a static function.
func exportField(f *wit.Function) string {
	if rt := f.Type(); rt != nil {
		r := exported(*rt.(*wit.TypeDef).Name)
		if _, ok := f.Kind.(*wit.Constructor); ok {
			return "New" + r
		}
		return r + exported(f.BaseName())
	}
	return exported(f.Name)
}

// genResource writes the table, the canonical built-ins and the destructor
// of an exported resource.
func (p *goPkg) genResource(td *wit.TypeDef) {
	n, w := exported(*td.Name), &p.wasm
	c := p.cabi(p.wasmImports)
	mod := "[export]" + p.wasmID
	fmt.Fprintf(w, "var table%s %s.Table[%s]\n\n", n, c, n)
	fmt.Fprintf(w, "//go:wasmimport %s [resource-new]%s\nfunc wasmimportResourceNew%s(rep uint32) uint32\n\n", mod, *td.Name, n)
	fmt.Fprintf(w, "//go:wasmimport %s [resource-rep]%s\nfunc wasmimportResourceRep%s(h uint32) uint32\n\n", mod, *td.Name, n)
	fmt.Fprintf(w, "//go:wasmimport %s [resource-drop]%s\nfunc wasmimportResourceDrop%s(h uint32)\n\n", mod, *td.Name, n)
	fmt.Fprintf(w, "// liftOwn%s takes an owned handle: its value, the handle dropped.\nfunc liftOwn%s(h uint32) %s {\nv := table%s.Get(wasmimportResourceRep%s(h))\nwasmimportResourceDrop%s(h)\nreturn v\n}\n\n", n, n, n, n, n, n)
	fmt.Fprintf(w, "// lowerOwn%s hands v to the host as a new owned handle.\nfunc lowerOwn%s(v %s) uint32 {\nreturn wasmimportResourceNew%s(table%s.Add(v))\n}\n\n", n, n, n, n, n)
	fmt.Fprintf(w, "//go:wasmexport %s[dtor]%s\nfunc wasmexportDtor%s(rep uint32) {\nif d, ok := table%s.Remove(rep).(interface{ Drop() }); ok {\nd.Drop()\n}\n}\n\n", p.exportP, *td.Name, n, n)
}
