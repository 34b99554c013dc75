package bindgen

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"go.bytecodealliance.org/wit"
)

// GenerateC returns C bindings of a world: DIR/bindings.h and
// DIR/bindings.c (DIR is Options.Dir, default "gen"). They need the
// runtime header wbox.h (wbox_string_t, wbox_alloc, wbox_post_return,
// cabi_realloc) beside them.
//
// C types have the canonical ABI's memory layout on wasm32, so values in
// memory are used in place: records are structs, list<T> is {T *ptr;
// size_t len}, option<T> is {bool is_some; T val}, result<T, E> is
// {bool is_err; union {T ok; E err} val}, variants are {tag; union val},
// enums and flags are integers with #defines, tuples are {f0, f1, ...},
// imported resources are uint32_t handles. Named types are
// IFACE_NAME_t; anonymous ones wbox_..._t. A resource R the world exports
// is a struct IFACE_R_t the box defines: borrow<R> is a pointer to it,
// own<R> a handle IFACE_own_R_t (IFACE_R_new makes one from a pointer,
// IFACE_R_rep reads it, IFACE_R_drop_own drops it), and the box implements
// exports_IFACE_R_destructor.
//
// The box implements exports_IFACE_FUNC (exports_WORLD_FUNC for
// world-level exports); imported functions are IFACE_FUNC
// (IFACE_RES_new, IFACE_RES_METHOD, IFACE_RES_drop for resources).
func GenerateC(opts Options) (files []File, err error) {
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
	g := &cgen{world: w, prefixes: map[wit.TypeOwner]string{}, emitted: map[string]bool{}, exported: map[wit.TypeOwner]bool{}}
	h, c := g.run()
	return []File{{Path: path.Join(dir, "bindings.h"), Data: []byte(h)}, {Path: path.Join(dir, "bindings.c"), Data: []byte(c)}}, nil
}

type cgen struct {
	world     *wit.World
	prefixes  map[wit.TypeOwner]string
	used      []string
	inline    map[*wit.Interface]string
	emitted   map[string]bool
	exported  map[wit.TypeOwner]bool
	resources []*wit.TypeDef  // exported resources
	types     strings.Builder // typedefs, in dependency order
	protos    strings.Builder // function declarations
	src       strings.Builder // bindings.c
	n         int
}

var cKeywords = map[string]bool{
	"auto": true, "break": true, "case": true, "char": true, "const": true, "continue": true, "default": true,
	"do": true, "double": true, "else": true, "enum": true, "extern": true, "float": true, "for": true, "goto": true,
	"if": true, "inline": true, "int": true, "long": true, "register": true, "restrict": true, "return": true,
	"short": true, "signed": true, "sizeof": true, "static": true, "struct": true, "switch": true, "typedef": true,
	"union": true, "unsigned": true, "void": true, "volatile": true, "while": true, "bool": true, "true": true, "false": true,
}

func snake(name string) string {
	s := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, "%")), "-", "_")
	if cKeywords[s] {
		s += "_"
	}
	return s
}

// prefix returns the C name prefix of a type owner.
func (g *cgen) prefix(owner wit.TypeOwner) string {
	if p, ok := g.prefixes[owner]; ok {
		return p
	}
	var p, pkg string
	switch o := owner.(type) {
	case *wit.Interface:
		if o.Name == nil {
			p = snake(g.inline[o])
			pkg = snake(g.world.Package.Name.Package)
		} else {
			p = snake(*o.Name)
			pkg = snake(o.Package.Name.Package)
		}
	case *wit.World:
		p, pkg = snake(o.Name), snake(o.Package.Name.Package)
	}
	if slices.Contains(g.used, p) {
		p = pkg + "_" + p
	}
	g.used = append(g.used, p)
	g.prefixes[owner] = p
	return p
}

func (g *cgen) tmp() string {
	g.n++
	return fmt.Sprintf("t%d", g.n)
}

var cCore = map[string]string{i32: "uint32_t", i64: "uint64_t", f32: "float", f64: "double"}

// mangle names an anonymous type for its typedef.
func (g *cgen) mangle(t wit.Type) string {
	if t == nil {
		return "void"
	}
	if td, ok := t.(*wit.TypeDef); ok && td.Name != nil {
		// Through aliases (use), so that one structure has one C type.
		def := definer(td)
		return g.prefix(def.Owner) + "_" + snake(*def.Name)
	}
	switch k := under(t).(type) {
	case *wit.List:
		return "list_" + g.mangle(k.Type)
	case *wit.Option:
		return "option_" + g.mangle(k.Type)
	case *wit.Result:
		return "result_" + g.mangle(k.OK) + "_" + g.mangle(k.Err)
	case *wit.Tuple:
		parts := []string{fmt.Sprintf("tuple%d", len(k.Types))}
		for _, e := range k.Types {
			parts = append(parts, g.mangle(e))
		}
		return strings.Join(parts, "_")
	case *wit.Own:
		if g.exportedRes(k.Type) != nil {
			return "own_" + g.mangle(k.Type)
		}
		return g.mangle(k.Type)
	case *wit.Borrow:
		if g.exportedRes(k.Type) != nil {
			return "borrow_" + g.mangle(k.Type)
		}
		return g.mangle(k.Type)
	}
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(g.cType(t), "_t"), "wbox_"), "_t")
}

// cType returns the C type of t, emitting the typedefs it needs.
func (g *cgen) cType(t wit.Type) string {
	if td, ok := t.(*wit.TypeDef); ok && td.Name != nil {
		return g.named(td)
	}
	switch k := under(t).(type) {
	case wit.Bool:
		return "bool"
	case wit.S8:
		return "int8_t"
	case wit.U8:
		return "uint8_t"
	case wit.S16:
		return "int16_t"
	case wit.U16:
		return "uint16_t"
	case wit.S32:
		return "int32_t"
	case wit.U32:
		return "uint32_t"
	case wit.S64:
		return "int64_t"
	case wit.U64:
		return "uint64_t"
	case wit.F32:
		return "float"
	case wit.F64:
		return "double"
	case wit.Char:
		return "uint32_t"
	case wit.String:
		return "wbox_string_t"
	case *wit.Own:
		if def := g.exportedRes(k.Type); def != nil {
			g.named(def)
			return g.prefix(def.Owner) + "_own_" + snake(*def.Name) + "_t"
		}
		return g.cType(k.Type)
	case *wit.Borrow:
		if def := g.exportedRes(k.Type); def != nil {
			g.named(def)
			return g.prefix(def.Owner) + "_" + snake(*def.Name) + "_t *"
		}
		return g.cType(k.Type)
	case *wit.List, *wit.Option, *wit.Result, *wit.Tuple:
		name := "wbox_" + g.mangle(t) + "_t"
		if !g.emitted[name] {
			body := g.structBody(k)
			g.emitted[name] = true
			fmt.Fprintf(&g.types, "typedef %s %s;\n\n", body, name)
		}
		return name
	}
	fail("type %s (%T) is not supported", t.TypeName(), under(t))
	return ""
}

// structBody returns "struct { ... }" for an anonymous compound kind.
func (g *cgen) structBody(k wit.TypeDefKind) string {
	switch k := k.(type) {
	case *wit.List:
		return "struct {\n  " + g.cType(k.Type) + " *ptr;\n  size_t len;\n}"
	case *wit.Option:
		return "struct {\n  bool is_some;\n  " + g.cType(k.Type) + " val;\n}"
	case *wit.Result:
		var u []string
		if k.OK != nil {
			u = append(u, g.cType(k.OK)+" ok;")
		}
		if k.Err != nil {
			u = append(u, g.cType(k.Err)+" err;")
		}
		if len(u) == 0 {
			return "struct {\n  bool is_err;\n}"
		}
		return "struct {\n  bool is_err;\n  union {\n    " + strings.Join(u, "\n    ") + "\n  } val;\n}"
	case *wit.Tuple:
		var b strings.Builder
		b.WriteString("struct {\n")
		for i, e := range k.Types {
			fmt.Fprintf(&b, "  %s f%d;\n", g.cType(e), i)
		}
		b.WriteString("}")
		return b.String()
	}
	fail("structBody %T", k)
	return ""
}

func tagType(n int) string { return fmt.Sprintf("uint%d_t", 8*discSize(n)) }

// named emits (once) and returns the typedef of a named type.
func (g *cgen) named(td *wit.TypeDef) string {
	pfx := g.prefix(td.Owner) + "_" + snake(*td.Name)
	name := pfx + "_t"
	if g.emitted[name] {
		return name
	}
	upper := strings.ToUpper(pfx)
	var def string
	if alias, ok := td.Kind.(wit.Type); ok {
		def = fmt.Sprintf("typedef %s %s;\n", g.cType(alias), name)
	} else {
		switch k := td.Kind.(type) {
		case *wit.Record:
			var b strings.Builder
			b.WriteString("typedef struct {\n")
			for _, f := range k.Fields {
				fmt.Fprintf(&b, "  %s %s;\n", g.cType(f.Type), snake(f.Name))
			}
			fmt.Fprintf(&b, "} %s;\n", name)
			def = b.String()
		case *wit.Enum:
			var b strings.Builder
			fmt.Fprintf(&b, "typedef %s %s;\n", tagType(len(k.Cases)), name)
			for i, c := range k.Cases {
				fmt.Fprintf(&b, "#define %s_%s %d\n", upper, strings.ToUpper(snake(c.Name)), i)
			}
			def = b.String()
		case *wit.Flags:
			if len(k.Flags) > 32 {
				fail("flags %s: more than 32 flags are not supported", *td.Name)
			}
			var b strings.Builder
			fmt.Fprintf(&b, "typedef uint%d_t %s;\n", 8*flagsSize(len(k.Flags)), name)
			for i, f := range k.Flags {
				fmt.Fprintf(&b, "#define %s_%s (1u << %d)\n", upper, strings.ToUpper(snake(f.Name)), i)
			}
			def = b.String()
		case *wit.Variant:
			var b, u strings.Builder
			for _, c := range k.Cases {
				if c.Type != nil {
					fmt.Fprintf(&u, "    %s %s;\n", g.cType(c.Type), snake(c.Name))
				}
			}
			fmt.Fprintf(&b, "typedef struct {\n  %s tag;\n", tagType(len(k.Cases)))
			if u.Len() > 0 {
				fmt.Fprintf(&b, "  union {\n%s  } val;\n", u.String())
			}
			fmt.Fprintf(&b, "} %s;\n", name)
			for i, c := range k.Cases {
				fmt.Fprintf(&b, "#define %s_%s %d\n", upper, strings.ToUpper(snake(c.Name)), i)
			}
			def = b.String()
		case *wit.Resource:
			if g.exported[td.Owner] {
				own := g.prefix(td.Owner) + "_own_" + snake(*td.Name) + "_t"
				def = fmt.Sprintf("// The box's representation of the resource %s it exports: define\n// struct %s in the box. A borrow<%s> is a %s *, an own<%s> a handle\n// %s (make one with %s_new, read it with %s_rep).\ntypedef struct %s %s;\ntypedef uint32_t %s;\n",
					*td.Name, name, *td.Name, name, *td.Name, own, pfx, pfx, name, name, own)
				g.resources = append(g.resources, td)
				break
			}
			def = fmt.Sprintf("// A handle to an imported resource %s (own or borrow).\ntypedef uint32_t %s;\n", *td.Name, name)
		default:
			def = fmt.Sprintf("typedef %s %s;\n", g.cType(&wit.TypeDef{Kind: td.Kind}), name)
		}
	}
	g.emitted[name] = true
	if docs := strings.TrimSpace(td.Docs.Contents); docs != "" {
		g.types.WriteString("// " + strings.ReplaceAll(docs, "\n", "\n// ") + "\n")
	}
	g.types.WriteString(def + "\n")
	return name
}

func (g *cgen) run() (string, string) {
	w := g.world
	g.inline = map[*wit.Interface]string{}
	for name, item := range w.AllItems() {
		if ref, ok := item.(*wit.InterfaceRef); ok && ref.Interface.Name == nil {
			g.inline[ref.Interface] = name
		}
	}
	type fn struct {
		owner  wit.TypeOwner
		module string // import module or export prefix
		f      *wit.Function
	}
	var imports, exports []fn
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
	exportIDs := map[wit.TypeOwner]string{}
	for key, item := range w.Exports.All() {
		if ref, ok := item.(*wit.InterfaceRef); ok {
			g.exported[ref.Interface] = true
			exportIDs[ref.Interface] = ifaceID(ref.Interface, key)
			for _, f := range ref.Interface.Functions.All() {
				exports = append(exports, fn{ref.Interface, ifaceID(ref.Interface, key) + "#", f})
			}
		} else if f, ok := item.(*wit.Function); ok {
			exports = append(exports, fn{w, "", f})
		}
	}
	for key, item := range w.Imports.All() {
		if ref, ok := item.(*wit.InterfaceRef); ok {
			for _, td := range ref.Interface.TypeDefs.All() {
				if _, ok := td.Kind.(*wit.Resource); ok {
					g.genDrop(ref.Interface, ifaceID(ref.Interface, key), td)
				}
			}
			for _, f := range ref.Interface.Functions.All() {
				imports = append(imports, fn{ref.Interface, ifaceID(ref.Interface, key), f})
			}
		} else if f, ok := item.(*wit.Function); ok {
			imports = append(imports, fn{w, "$root", f})
		}
	}
	// Named types of every interface in the world, in WIT order.
	for _, item := range w.AllItems() {
		switch it := item.(type) {
		case *wit.InterfaceRef:
			for _, td := range it.Interface.TypeDefs.All() {
				g.cType(td)
			}
		case *wit.TypeDef:
			g.cType(it)
		}
	}
	for _, x := range imports {
		if g.exported[x.owner] && !x.f.IsFreestanding() {
			fail("interface %s is both imported and exported and has resources: not supported", x.module)
		}
		g.genImport(x.owner, x.module, x.f)
	}
	for _, td := range g.resources {
		g.genResource(td, exportIDs[td.Owner])
	}
	for _, x := range exports {
		g.genExport(x.owner, x.module, x.f)
	}
	guard := "WBOX_BINDINGS_" + strings.ToUpper(snake(w.Name)) + "_H"
	h := fmt.Sprintf(`// Code generated by wbox bindgen --lang c for world %s/%s. DO NOT EDIT.
#ifndef %s
#define %s

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wbox.h"

%s%s#endif
`, w.Package.Name.String(), w.Name, guard, guard, g.types.String(), g.protos.String())
	c := `// Code generated by wbox bindgen --lang c. DO NOT EDIT.
#include <string.h>

#include "bindings.h"

__attribute__((unused)) static inline float wbox_f32_from_bits(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }
__attribute__((unused)) static inline uint32_t wbox_f32_bits(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }
__attribute__((unused)) static inline double wbox_f64_from_bits(uint64_t b) { double f; memcpy(&f, &b, 8); return f; }
__attribute__((unused)) static inline uint64_t wbox_f64_bits(double f) { uint64_t b; memcpy(&b, &f, 8); return b; }

` + g.src.String()
	return h, c
}

func (g *cgen) genDrop(owner wit.TypeOwner, module string, td *wit.TypeDef) {
	t := g.cType(td)
	name := g.prefix(owner) + "_" + snake(*td.Name) + "_drop"
	fmt.Fprintf(&g.protos, "// Drops an owned handle.\nvoid %s(%s self);\n\n", name, t)
	fmt.Fprintf(&g.src, "__attribute__((import_module(%q), import_name(%q)))\nextern void wbox_import_%s(uint32_t);\n\nvoid %s(%s self) { wbox_import_%s(self); }\n\n",
		module, "[resource-drop]"+*td.Name, name, name, t, name)
}

// cName returns the C name of a function: PREFIX_NAME, with resource
// functions as PREFIX_RES_new / PREFIX_RES_METHOD.
func (g *cgen) cName(owner wit.TypeOwner, f *wit.Function) string {
	p := g.prefix(owner)
	if rt := f.Type(); rt != nil {
		res := snake(*rt.(*wit.TypeDef).Name)
		if _, ok := f.Kind.(*wit.Constructor); ok {
			return p + "_" + res + "_new"
		}
		return p + "_" + res + "_" + snake(f.BaseName())
	}
	return p + "_" + snake(f.Name)
}

// cSig returns "R NAME(T a, U b)".
func (g *cgen) cSig(name string, f *wit.Function) string {
	if len(f.Results) > 1 {
		fail("function %s: multiple results are not supported", f.Name)
	}
	ret := "void"
	if len(f.Results) == 1 {
		ret = g.cType(f.Results[0].Type)
	}
	var ps []string
	for _, p := range f.Params {
		ps = append(ps, g.cType(p.Type)+" "+snake(p.Name))
	}
	if len(ps) == 0 {
		ps = []string{"void"}
	}
	return ret + " " + name + "(" + strings.Join(ps, ", ") + ")"
}

// paramsStruct defines the struct a spilled parameter list is passed in.
func (g *cgen) paramsStruct(id string, f *wit.Function) string {
	name := "wbox_params_" + id + "_t"
	fmt.Fprintf(&g.src, "typedef struct {\n")
	for _, p := range f.Params {
		fmt.Fprintf(&g.src, "  %s %s;\n", g.cType(p.Type), snake(p.Name))
	}
	fmt.Fprintf(&g.src, "} %s;\n\n", name)
	return name
}

func (g *cgen) genImport(owner wit.TypeOwner, module string, f *wit.Function) {
	name := g.cName(owner, f)
	sig := g.cSig(name, f)
	if docs := strings.TrimSpace(f.Docs.Contents); docs != "" {
		g.protos.WriteString("// " + strings.ReplaceAll(docs, "\n", "\n// ") + "\n")
	}
	fmt.Fprintf(&g.protos, "%s;\n\n", sig)
	var b strings.Builder
	e := &cbody{g: g, b: &b}
	pflat := flatAll(paramTypes(f.Params))
	var coreParams, coreArgs []string
	if len(pflat) > maxFlatParams {
		ps := g.paramsStruct(name, f)
		var vals []string
		for _, p := range f.Params {
			vals = append(vals, snake(p.Name))
		}
		e.line("%s args = {%s};", ps, strings.Join(vals, ", "))
		coreParams, coreArgs = []string{"uint32_t"}, []string{"(uint32_t)(uintptr_t)&args"}
	} else {
		for _, p := range f.Params {
			for _, v := range e.lowerFrom(p.Type, snake(p.Name)) {
				coreParams = append(coreParams, cCore[pflat[len(coreArgs)]])
				coreArgs = append(coreArgs, v)
			}
		}
	}
	coreRet := "void"
	var rt wit.Type
	spilled := false
	if len(f.Results) == 1 {
		rt = f.Results[0].Type
		rflat := flat(rt)
		if len(rflat) > maxFlatResults {
			spilled = true
			e.line("%s ret;", g.cType(rt))
			coreParams = append(coreParams, "uint32_t")
			coreArgs = append(coreArgs, "(uint32_t)(uintptr_t)&ret")
		} else {
			coreRet = cCore[rflat[0]]
		}
	}
	call := "wbox_import_" + name + "(" + strings.Join(coreArgs, ", ") + ")"
	switch {
	case rt == nil || spilled:
		e.line("%s;", call)
		if spilled {
			e.line("return ret;")
		}
	default:
		e.line("%s r = %s;", coreRet, call)
		e.line("%s out;", g.cType(rt))
		e.liftInto(rt, "out", []string{"r"})
		e.line("return out;")
	}
	if len(coreParams) == 0 {
		coreParams = []string{"void"}
	}
	fmt.Fprintf(&g.src, "__attribute__((import_module(%q), import_name(%q)))\nextern %s wbox_import_%s(%s);\n\n%s {\n%s}\n\n",
		module, f.Name, coreRet, name, strings.Join(coreParams, ", "), sig, b.String())
}

func (g *cgen) genExport(owner wit.TypeOwner, prefix string, f *wit.Function) {
	name := "exports_" + g.cName(owner, f)
	sig := g.cSig(name, f)
	fmt.Fprintf(&g.protos, "// Implemented by the box: %s%s.\n%s;\n\n", prefix, f.Name, sig)
	var b strings.Builder
	e := &cbody{g: g, b: &b}
	pflat := flatAll(paramTypes(f.Params))
	var coreParams, args []string
	if len(pflat) > maxFlatParams {
		ps := g.paramsStruct(name, f)
		coreParams = []string{"uint32_t p0"}
		e.line("%s *a = (%s *)(uintptr_t)p0;", ps, ps)
		for _, p := range f.Params {
			args = append(args, "a->"+snake(p.Name))
		}
	} else {
		i := 0
		for j, p := range f.Params {
			n := len(flat(p.Type))
			vals := make([]string, n)
			for k := range vals {
				vals[k] = fmt.Sprintf("p%d", i+k)
				coreParams = append(coreParams, fmt.Sprintf("%s p%d", cCore[pflat[i+k]], i+k))
			}
			a := fmt.Sprintf("a%d", j)
			e.line("%s %s;", g.cType(p.Type), a)
			e.liftInto(p.Type, a, vals)
			args = append(args, a)
			i += n
		}
	}
	call := name + "(" + strings.Join(args, ", ") + ")"
	coreRet, post := "void", "void"
	if len(f.Results) == 1 {
		rt := f.Results[0].Type
		rflat := flat(rt)
		if len(rflat) > maxFlatResults {
			e.line("static %s ret;", g.cType(rt))
			e.line("ret = %s;", call)
			e.line("return (uint32_t)(uintptr_t)&ret;")
			coreRet, post = "uint32_t", "uint32_t r"
		} else {
			e.line("%s r = %s;", g.cType(rt), call)
			vals := e.lowerFrom(rt, "r")
			e.line("return %s;", vals[0])
			coreRet, post = cCore[rflat[0]], cCore[rflat[0]]+" r"
		}
	} else {
		e.line("%s;", call)
	}
	if len(coreParams) == 0 {
		coreParams = []string{"void"}
	}
	core := prefix + f.Name
	fmt.Fprintf(&g.src, "__attribute__((export_name(%q)))\n%s wbox_export_%s(%s) {\n%s}\n\n", core, coreRet, name, strings.Join(coreParams, ", "), b.String())
	unused := ""
	if post != "void" {
		unused = "  (void)r;\n"
	}
	fmt.Fprintf(&g.src, "__attribute__((export_name(%q)))\nvoid wbox_post_%s(%s) {\n%s  wbox_post_return();\n}\n\n", "cabi_post_"+core, name, post, unused)
}

// cbody emits the statements of one C glue function.
type cbody struct {
	g *cgen
	b *strings.Builder
}

func (e *cbody) line(format string, args ...any) {
	fmt.Fprintf(e.b, "  "+format+"\n", args...)
}

func cFromJoined(v, j, t string) string {
	switch {
	case j == t:
		return v
	case j == i64 && t == i32:
		return "(uint32_t)(" + v + ")"
	case j == i32 && t == f32:
		return "wbox_f32_from_bits(" + v + ")"
	case j == i64 && t == f32:
		return "wbox_f32_from_bits((uint32_t)(" + v + "))"
	case j == i64 && t == f64:
		return "wbox_f64_from_bits(" + v + ")"
	}
	panic("bindgen: bad join " + j + " -> " + t)
}

func cToJoined(v, t, j string) string {
	switch {
	case j == t:
		return v
	case t == i32 && j == i64:
		return "(uint64_t)(" + v + ")"
	case t == f32 && j == i32:
		return "wbox_f32_bits(" + v + ")"
	case t == f32 && j == i64:
		return "(uint64_t)wbox_f32_bits(" + v + ")"
	case t == f64 && j == i64:
		return "wbox_f64_bits(" + v + ")"
	}
	panic("bindgen: bad join " + t + " -> " + j)
}

// caseLV returns the lvalue of variant-like lv's payload in case i and the
// statement that sets its case.
func (e *cbody) caseOf(t wit.Type, lv string, i int) (payload, set string) {
	switch k := under(t).(type) {
	case *wit.Option:
		return lv + ".val", fmt.Sprintf("%s.is_some = %t;", lv, i == 1)
	case *wit.Result:
		if i == 0 {
			return lv + ".val.ok", lv + ".is_err = false;"
		}
		return lv + ".val.err", lv + ".is_err = true;"
	case *wit.Variant:
		return lv + ".val." + snake(k.Cases[i].Name), fmt.Sprintf("%s.tag = %d;", lv, i)
	}
	fail("caseOf %T", under(t))
	return "", ""
}

func (e *cbody) tagOf(t wit.Type, x string) string {
	switch under(t).(type) {
	case *wit.Option:
		return "(uint32_t)(" + x + ").is_some"
	case *wit.Result:
		return "(uint32_t)(" + x + ").is_err"
	}
	return "(" + x + ").tag"
}

// liftInto emits statements setting lv from flat values.
func (e *cbody) liftInto(t wit.Type, lv string, vals []string) {
	k := under(t)
	switch k.(type) {
	case wit.Bool:
		e.line("%s = %s != 0;", lv, vals[0])
		return
	case wit.String:
		e.line("%s.ptr = (char *)(uintptr_t)%s;", lv, vals[0])
		e.line("%s.len = %s;", lv, vals[1])
		return
	case *wit.List:
		e.line("%s.ptr = (%s *)(uintptr_t)%s;", lv, e.g.cType(k.(*wit.List).Type), vals[0])
		e.line("%s.len = %s;", lv, vals[1])
		return
	case *wit.Record:
		i := 0
		for _, f := range k.(*wit.Record).Fields {
			n := len(flat(f.Type))
			e.liftInto(f.Type, lv+"."+snake(f.Name), vals[i:i+n])
			i += n
		}
		return
	case *wit.Tuple:
		i := 0
		for j, et := range k.(*wit.Tuple).Types {
			n := len(flat(et))
			e.liftInto(et, fmt.Sprintf("%s.f%d", lv, j), vals[i:i+n])
			i += n
		}
		return
	}
	if cs := cases(k); cs != nil {
		joined := joinedPayload(cs)
		e.line("switch (%s) {", vals[0])
		for i, c := range cs {
			payload, set := e.caseOf(t, lv, i)
			e.line("case %d: {", i)
			e.line("  %s", set)
			if c.typ != nil {
				ft := flat(c.typ)
				conv := make([]string, len(ft))
				for j, x := range ft {
					conv[j] = cFromJoined(vals[1+j], joined[j], x)
				}
				e.liftInto(c.typ, payload, conv)
			}
			e.line("  break;\n  }")
		}
		e.line("default: __builtin_trap();\n  }")
		return
	}
	// Numbers, chars, enums, flags, handles (borrows of exported
	// resources are pointers: the rep).
	if _, ok := k.(*wit.Borrow); ok {
		e.line("%s = (%s)(uintptr_t)%s;", lv, e.g.cType(t), vals[0])
		return
	}
	e.line("%s = (%s)%s;", lv, e.g.cType(t), vals[0])
}

// lowerFrom emits temporaries holding x's flat values and returns them.
func (e *cbody) lowerFrom(t wit.Type, x string) []string {
	k := under(t)
	switch k.(type) {
	case wit.String, *wit.List:
		a, n := e.g.tmp(), e.g.tmp()
		e.line("uint32_t %s = (uint32_t)(uintptr_t)(%s).ptr;", a, x)
		e.line("uint32_t %s = (uint32_t)(%s).len;", n, x)
		return []string{a, n}
	case *wit.Record:
		var out []string
		for _, f := range k.(*wit.Record).Fields {
			out = append(out, e.lowerFrom(f.Type, "("+x+")."+snake(f.Name))...)
		}
		return out
	case *wit.Tuple:
		var out []string
		for j, et := range k.(*wit.Tuple).Types {
			out = append(out, e.lowerFrom(et, fmt.Sprintf("(%s).f%d", x, j))...)
		}
		return out
	}
	if cs := cases(k); cs != nil {
		joined := joinedPayload(cs)
		disc := e.g.tmp()
		vars := []string{disc}
		e.line("uint32_t %s = 0;", disc)
		for _, j := range joined {
			v := e.g.tmp()
			e.line("%s %s = 0;", cCore[j], v)
			vars = append(vars, v)
		}
		e.line("switch (%s) {", e.tagOf(t, x))
		for i, c := range cs {
			payload, _ := e.caseOf(t, "("+x+")", i)
			e.line("case %d: {", i)
			e.line("  %s = %d;", disc, i)
			if c.typ != nil {
				ft := flat(c.typ)
				for j, fv := range e.lowerFrom(c.typ, payload) {
					e.line("  %s = %s;", vars[1+j], cToJoined(fv, ft[j], joined[j]))
				}
			}
			e.line("  break;\n  }")
		}
		e.line("}")
		return vars
	}
	ft := flat(t)[0]
	v := e.g.tmp()
	if _, ok := k.(*wit.Borrow); ok {
		e.line("uint32_t %s = (uint32_t)(uintptr_t)(%s);", v, x)
		return []string{v}
	}
	e.line("%s %s = (%s)(%s);", cCore[ft], v, cCore[ft], x)
	return []string{v}
}

// exportedRes returns the resource a handle refers to when the world
// exports it, or nil.
func (g *cgen) exportedRes(r wit.Type) *wit.TypeDef {
	def := definer(r)
	if g.exported[def.Owner] {
		return def
	}
	return nil
}

// genResource writes the handle helpers and the destructor export of an
// exported resource.
func (g *cgen) genResource(td *wit.TypeDef, id string) {
	pfx := g.prefix(td.Owner) + "_" + snake(*td.Name)
	rep := pfx + "_t"
	own := g.prefix(td.Owner) + "_own_" + snake(*td.Name) + "_t"
	mod := "[export]" + id
	fmt.Fprintf(&g.protos, "// %s_new makes a handle to rep, to return as an own<%s>.\n%s %s_new(%s *rep);\n", pfx, *td.Name, own, pfx, rep)
	fmt.Fprintf(&g.protos, "// %s_rep returns the rep of an own<%s> handle the box received.\n%s *%s_rep(%s h);\n", pfx, *td.Name, rep, pfx, own)
	fmt.Fprintf(&g.protos, "// %s_drop_own drops a handle the box owns (running the destructor when it\n// is the last).\nvoid %s_drop_own(%s h);\n", pfx, pfx, own)
	fmt.Fprintf(&g.protos, "// Implemented by the box: frees rep when the last handle is dropped.\nvoid exports_%s_destructor(%s *rep);\n\n", pfx, rep)
	for _, x := range [][3]string{{"new", "uint32_t", "uint32_t"}, {"rep", "uint32_t", "uint32_t"}, {"drop", "void", "uint32_t"}} {
		fmt.Fprintf(&g.src, "__attribute__((import_module(%q), import_name(%q)))\nextern %s wbox_import_%s_%s(%s);\n\n", mod, "[resource-"+x[0]+"]"+*td.Name, x[1], pfx, x[0], x[2])
	}
	fmt.Fprintf(&g.src, "%s %s_new(%s *rep) { return wbox_import_%s_new((uint32_t)(uintptr_t)rep); }\n\n", own, pfx, rep, pfx)
	fmt.Fprintf(&g.src, "%s *%s_rep(%s h) { return (%s *)(uintptr_t)wbox_import_%s_rep(h); }\n\n", rep, pfx, own, rep, pfx)
	fmt.Fprintf(&g.src, "void %s_drop_own(%s h) { wbox_import_%s_drop(h); }\n\n", pfx, own, pfx)
	fmt.Fprintf(&g.src, "__attribute__((export_name(%q)))\nvoid wbox_export_%s_dtor(uint32_t rep) { exports_%s_destructor((%s *)(uintptr_t)rep); }\n\n", id+"#[dtor]"+*td.Name, pfx, pfx, rep)
}
