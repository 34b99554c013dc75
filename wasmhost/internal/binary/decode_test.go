package binary

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// fixtureDir returns shared/fixtures/components, which lives beside the
// repository (CI clones shared/ next to it). Without it the fixture tests
// skip locally and fail in CI.
func fixtureDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			dir = ""
			break
		}
		dir = parent
	}
	if dir != "" {
		fd := filepath.Join(dir, "..", "shared", "fixtures", "components")
		if st, err := os.Stat(fd); err == nil && st.IsDir() {
			return fd
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("component fixtures not found: expected ../shared/fixtures/components beside the repository root")
	}
	t.Skip("component fixtures not found beside the repository root")
	return ""
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir(t), name+".component.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeFixture(t testing.TB, name string) (*Component, []byte) {
	t.Helper()
	b := readFixture(t, name)
	c, err := Decode(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c, b
}

// defSort returns the index space a definition appends to.
func defSort(d Def) (Sort, bool) {
	switch d := d.(type) {
	case *CoreModule:
		return SortCoreModule, true
	case *CoreInstance:
		return SortCoreInstance, true
	case *CoreTypeDef:
		return SortCoreType, true
	case *Component:
		return SortComponent, true
	case *Instance:
		return SortInstance, true
	case *Alias:
		return d.Sort, true
	case *TypeDef:
		return SortType, true
	case *Canon:
		if d.Kind == CanonLift {
			return SortFunc, true
		}
		return SortCoreFunc, true
	case *Import:
		return [...]Sort{SortCoreModule, SortFunc, SortValue, SortType, SortComponent, SortInstance}[d.Desc.Kind], true
	case *Export:
		return d.Item.Sort, true
	}
	return 0, false
}

// entries returns the definitions of c that append to the index space of s,
// so entries(c, s)[i] defines index i.
func entries(c *Component, s Sort) []Def {
	var out []Def
	for _, d := range c.Defs {
		if ds, ok := defSort(d); ok && ds == s {
			out = append(out, d)
		}
	}
	return out
}

func countSorts(c *Component) map[Sort]int {
	m := map[Sort]int{}
	for _, d := range c.Defs {
		if s, ok := defSort(d); ok {
			m[s]++
		}
	}
	return m
}

func typeAt(t *testing.T, c *Component, i int) *TypeDef {
	t.Helper()
	ts := entries(c, SortType)
	if i >= len(ts) {
		t.Fatalf("type %d out of %d", i, len(ts))
	}
	td, ok := ts[i].(*TypeDef)
	if !ok {
		t.Fatalf("type %d is a %T, not a *TypeDef", i, ts[i])
	}
	return td
}

func canons(c *Component) []*Canon {
	var out []*Canon
	for _, d := range c.Defs {
		if cn, ok := d.(*Canon); ok {
			out = append(out, cn)
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// TestDecodeFixtures decodes every real component and checks the size of
// each top-level index space against `jco print`'s (;N;) annotations.
func TestDecodeFixtures(t *testing.T) {
	dir := fixtureDir(t)
	const (
		cm, ci, cf, cmem, ctab = SortCoreModule, SortCoreInstance, SortCoreFunc, SortCoreMemory, SortCoreTable
		f, ty, in, co          = SortFunc, SortType, SortInstance, SortComponent
	)
	want := map[string]map[Sort]int{
		"adder":                      {co: 1, cf: 2, ci: 1, cmem: 1, cm: 1, f: 1, in: 2, ty: 1},
		"flavorful":                  {co: 1, cf: 75, ci: 18, cmem: 1, cm: 5, ctab: 1, f: 35, in: 11, ty: 52},
		"lists":                      {co: 1, cf: 109, ci: 18, cmem: 1, cm: 5, ctab: 1, f: 56, in: 11, ty: 58},
		"many-arguments":             {cf: 39, ci: 18, cmem: 1, cm: 5, ctab: 1, f: 16, in: 9, ty: 23},
		"numbers":                    {co: 1, cf: 64, ci: 18, cmem: 1, cm: 5, ctab: 1, f: 41, in: 11, ty: 36},
		"records":                    {co: 1, cf: 56, ci: 18, cmem: 1, cm: 5, ctab: 1, f: 29, in: 11, ty: 41},
		"resource-borrow-simple":     {cf: 6, ci: 4, cmem: 1, cm: 2, f: 4, ty: 6},
		"resource-import-and-export": {co: 1, cf: 52, ci: 20, cmem: 1, cm: 5, ctab: 1, f: 24, in: 11, ty: 34},
		"resources":                  {co: 1, cf: 66, ci: 19, cmem: 1, cm: 5, ctab: 1, f: 30, in: 11, ty: 46},
		"simple-nested":              {co: 2, in: 6, ty: 1},
		"smoke":                      {cf: 51, ci: 23, cmem: 1, cm: 5, ctab: 1, f: 20, in: 14, ty: 33},
		"strings":                    {cf: 46, ci: 18, cmem: 1, cm: 5, ctab: 1, f: 21, in: 9, ty: 25},
		"variants":                   {co: 1, cf: 59, ci: 18, cmem: 1, cm: 5, ctab: 1, f: 31, in: 11, ty: 54},
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.component.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no fixtures in", dir)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".component.wasm")
		t.Run(name, func(t *testing.T) {
			c, b := decodeFixture(t, name)
			checkInvariants(t, b, c)
			w, ok := want[name]
			if !ok {
				t.Skip("no expected index-space sizes for this fixture")
			}
			got := countSorts(c)
			for s := range Sort(SortCoreTag + 1) {
				if got[s] != w[s] {
					t.Errorf("%s index space: %d entries, want %d", s, got[s], w[s])
				}
			}
		})
	}
}

// checkInvariants checks what must hold for any successful decode: offsets
// point into b where they claim to, definitions are in binary order, core
// modules and nested components are the bytes at their offset.
func checkInvariants(t testing.TB, b []byte, c *Component) {
	t.Helper()
	if c.Offset < 0 || c.Offset+preambleSize > len(b) || !IsComponent(b[c.Offset:]) {
		t.Fatalf("component offset %d does not point at a component preamble", c.Offset)
	}
	last := c.Offset
	for _, d := range c.Defs {
		off := d.DefOffset()
		if off <= last || off >= len(b) {
			t.Fatalf("definition %T at offset %d, after %d, in a %d-byte binary", d, off, last, len(b))
		}
		last = off
		switch d := d.(type) {
		case *CoreModule:
			if off+len(d.Bytes) > len(b) || !bytes.Equal(b[off:off+len(d.Bytes)], d.Bytes) {
				t.Fatalf("core module at %d: Bytes are not the binary's bytes at that offset", off)
			}
			if string(d.Bytes[:4]) != magic {
				t.Fatalf("core module at %d does not start with the wasm magic", off)
			}
		case *Component:
			checkInvariants(t, b, d)
		}
	}
	for _, cu := range c.Customs {
		if cu.Offset <= c.Offset || cu.Offset >= len(b) {
			t.Fatalf("custom section %q at offset %d out of range", cu.Name, cu.Offset)
		}
	}
}

func TestDecodeAdder(t *testing.T) {
	c, b := decodeFixture(t, "adder")
	if c.Offset != 0 {
		t.Errorf("Offset = %d", c.Offset)
	}
	mods := entries(c, SortCoreModule)
	if len(mods) != 1 {
		t.Fatalf("%d core modules, want 1", len(mods))
	}
	if m := mods[0].(*CoreModule); len(m.Bytes) < 8 || len(m.Bytes) > len(b) {
		t.Errorf("core module of %d bytes", len(m.Bytes))
	}

	// (core instance (;0;) (instantiate 0))
	ci := entries(c, SortCoreInstance)[0].(*CoreInstance)
	if ci.Module == nil || *ci.Module != 0 || len(ci.Args) != 0 {
		t.Errorf("core instance 0 = %+v, want (instantiate 0)", ci)
	}
	// (alias core export 0 "docs:adder/add@0.1.0#add" (core func (;0;)))
	a := entries(c, SortCoreFunc)[0].(*Alias)
	if a.Kind != AliasCoreInstanceExport || a.Instance != 0 || a.Name != "docs:adder/add@0.1.0#add" {
		t.Errorf("core func 0 = %+v", a)
	}
	// (type (;0;) (func (param "x" u32) (param "y" u32) (result u32)))
	ft := typeAt(t, c, 0).Func
	u32 := ValType{Prim: value.KindU32}
	if ft == nil || len(ft.Params) != 2 || ft.Params[0] != (LabelValType{"x", u32}) ||
		ft.Params[1] != (LabelValType{"y", u32}) || ft.Result == nil || *ft.Result != u32 || ft.NamedResults != nil {
		t.Errorf("type 0 = %+v", ft)
	}
	// (func (;0;) (type 0) (canon lift (core func 0))): no options at all.
	lift := entries(c, SortFunc)[0].(*Canon)
	if lift.Kind != CanonLift || lift.Func != 0 || lift.Type != 0 || lift.Options != (CanonOptions{}) {
		t.Errorf("func 0 = %+v", lift)
	}

	// The shim component: import "import-func-add", export "add" ascribed.
	inner := entries(c, SortComponent)[0].(*Component)
	if inner.Offset <= 0 || !IsComponent(b[inner.Offset:]) {
		t.Errorf("nested component offset %d", inner.Offset)
	}
	imp := entries(inner, SortFunc)[0].(*Import)
	if imp.Name != "import-func-add" || imp.Desc != (ExternDesc{Kind: ExternFunc, Index: 0}) {
		t.Errorf("nested import = %+v", imp)
	}
	exp := entries(inner, SortFunc)[1].(*Export)
	if exp.Name != "add" || exp.Item != (SortIdx{SortFunc, 0}) || exp.Desc == nil || *exp.Desc != (ExternDesc{Kind: ExternFunc, Index: 1}) {
		t.Errorf("nested export = %+v", exp)
	}

	// (instance (;0;) (instantiate 0 (with "import-func-add" (func 0))))
	inst := entries(c, SortInstance)[0].(*Instance)
	if inst.Component == nil || *inst.Component != 0 || len(inst.Args) != 1 ||
		inst.Args[0] != (InstantiateArg{"import-func-add", SortIdx{SortFunc, 0}}) {
		t.Errorf("instance 0 = %+v", inst)
	}
	// (export (;1;) "docs:adder/add@0.1.0" (instance 0))
	ex := entries(c, SortInstance)[1].(*Export)
	if ex.Name != "docs:adder/add@0.1.0" || ex.Item != (SortIdx{SortInstance, 0}) || ex.Desc != nil || ex.Attrs != (NameAttrs{}) {
		t.Errorf("export = %+v", ex)
	}
	if len(c.Customs) != 1 || c.Customs[0].Name != "producers" {
		t.Errorf("customs = %+v", c.Customs)
	}
}

func TestDecodeStrings(t *testing.T) {
	c, _ := decodeFixture(t, "strings")
	if n := len(entries(c, SortCoreModule)); n != 5 {
		t.Errorf("%d core modules, want 5", n)
	}
	// (import "test:strings/imports" (instance (;0;) (type 0))), type 0 an
	// instance type exporting take-basic and return-unicode.
	imp := entries(c, SortInstance)[0].(*Import)
	if imp.Name != "test:strings/imports" || imp.Desc != (ExternDesc{Kind: ExternInstance, Index: 0}) {
		t.Errorf("import 0 = %+v", imp)
	}
	it := typeAt(t, c, 0).Instance
	if it == nil || len(it.Decls) != 4 || it.Decls[1].Export == nil || it.Decls[1].Export.Name != "take-basic" ||
		it.Decls[3].Export == nil || it.Decls[3].Export.Name != "return-unicode" {
		t.Fatalf("type 0 = %+v", it)
	}
	if ft := it.Decls[2].Type.Func; ft == nil || len(ft.Params) != 0 || ft.Result == nil || ft.Result.Prim != value.KindString {
		t.Errorf("return-unicode type = %+v", ft)
	}

	cf := entries(c, SortCoreFunc)
	// (core func (;24;) (canon lower (func 3) (memory 0) string-encoding=utf16))
	if cn, ok := cf[24].(*Canon); !ok || cn.Kind != CanonLower || cn.Func != 3 ||
		!optsEqual(cn.Options, CanonOptions{StringEncoding: UTF16, Memory: ptr[uint32](0)}) {
		t.Errorf("core func 24 = %+v", cf[24])
	}
	// (core func (;25;) (canon lower (func 4) (memory 0) (realloc 20) string-encoding=utf16))
	if cn, ok := cf[25].(*Canon); !ok || cn.Kind != CanonLower || cn.Func != 4 ||
		!optsEqual(cn.Options, CanonOptions{StringEncoding: UTF16, Memory: ptr[uint32](0), Realloc: ptr[uint32](20)}) {
		t.Errorf("core func 25 = %+v", cf[25])
	}
	// (core func (;30;) (canon lower (func 5) (memory 0) (realloc 29) string-encoding=utf8))
	if cn, ok := cf[30].(*Canon); !ok || cn.Func != 5 ||
		!optsEqual(cn.Options, CanonOptions{StringEncoding: UTF8, Memory: ptr[uint32](0), Realloc: ptr[uint32](29)}) {
		t.Errorf("core func 30 = %+v", cf[30])
	}
	// (core func (;9;) (canon resource.drop 18))
	if cn, ok := cf[9].(*Canon); !ok || cn.Kind != CanonResourceDrop || cn.Opcode != 0x03 || cn.Type != 18 {
		t.Errorf("core func 9 = %+v", cf[9])
	}
	// (func (;19;) (type 24) (canon lift (core func 44) (memory 0) (realloc 20) string-encoding=utf16 (post-return 45)))
	lift, ok := entries(c, SortFunc)[19].(*Canon)
	if !ok || lift.Kind != CanonLift || lift.Func != 44 || lift.Type != 24 ||
		!optsEqual(lift.Options, CanonOptions{StringEncoding: UTF16, Memory: ptr[uint32](0), Realloc: ptr[uint32](20), PostReturn: ptr[uint32](45)}) {
		t.Errorf("func 19 = %+v", lift)
	}
	if ft := typeAt(t, c, 24).Func; ft == nil || ft.Params[0].Label != "s" || ft.Result.Prim != value.KindString {
		t.Errorf("type 24 = %+v", ft)
	}
	// (export (;20;) "roundtrip" (func 19))
	if ex, ok := entries(c, SortFunc)[20].(*Export); !ok || ex.Name != "roundtrip" || ex.Item != (SortIdx{SortFunc, 19}) {
		t.Errorf("func 20 = %+v", entries(c, SortFunc)[20])
	}

	// (core instance (;13;) (instantiate 1 (with "env" (instance 4)) ...))
	ci := entries(c, SortCoreInstance)[13].(*CoreInstance)
	if ci.Module == nil || *ci.Module != 1 || len(ci.Args) != 9 || ci.Args[0] != (CoreInstantiateArg{"env", 4}) ||
		ci.Args[5] != (CoreInstantiateArg{"__main_module__", 9}) {
		t.Errorf("core instance 13 = %+v", ci)
	}
	// (core instance (;14;) (export "$imports" (table 0)) (export "0" (func 24)) ...)
	ci = entries(c, SortCoreInstance)[14].(*CoreInstance)
	if ci.Module != nil || len(ci.Exports) != 16 || ci.Exports[0] != (CoreInlineExport{"$imports", SortIdx{SortCoreTable, 0}}) ||
		ci.Exports[1] != (CoreInlineExport{"0", SortIdx{SortCoreFunc, 24}}) {
		t.Errorf("core instance 14 = %+v", ci)
	}
}

func optsEqual(a, b CanonOptions) bool {
	eq := func(x, y *uint32) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.StringEncoding == b.StringEncoding && eq(a.Memory, b.Memory) && eq(a.Realloc, b.Realloc) &&
		eq(a.PostReturn, b.PostReturn) && a.Async == b.Async && eq(a.Callback, b.Callback) &&
		eq(a.CoreType, b.CoreType) && a.GC == b.GC
}

func TestDecodeWASIInstanceType(t *testing.T) {
	c, _ := decodeFixture(t, "strings")
	// type 3 is wasi:io/streams: sub resources, an outer alias, own/borrow,
	// a variant with an empty case, results with and without ok.
	it := typeAt(t, c, 3).Instance
	if it == nil {
		t.Fatal("type 3 is not an instance type")
	}
	d := it.Decls
	if e := d[0].Export; e == nil || e.Name != "output-stream" || e.Desc != (ExternDesc{Kind: ExternType, SubResource: true}) {
		t.Errorf("decl 0 = %+v", d[0])
	}
	if a := d[1].Alias; a == nil || *a != (Alias{Offset: a.Offset, Sort: SortType, Kind: AliasOuter, Count: 1, Index: 2}) {
		t.Errorf("decl 1 = %+v", d[1].Alias)
	}
	if e := d[2].Export; e == nil || e.Name != "error" || e.Desc != (ExternDesc{Kind: ExternType, Index: 1}) {
		t.Errorf("decl 2 = %+v", d[2])
	}
	if v := d[3].Type.Val; v == nil || v.Kind != value.KindOwn || v.Resource != 2 {
		t.Errorf("decl 3 = %+v", d[3].Type)
	}
	v := d[4].Type.Val
	if v == nil || v.Kind != value.KindVariant || len(v.Cases) != 2 ||
		v.Cases[0].Label != "last-operation-failed" || v.Cases[0].Type == nil || *v.Cases[0].Type != (ValType{Index: 3}) ||
		v.Cases[1].Label != "closed" || v.Cases[1].Type != nil || v.Cases[1].Refines != nil {
		t.Errorf("decl 4 = %+v", v)
	}
	// (type (;8;) (result u64 (error 5))) and (type (;11;) (result (error 5)))
	if r := d[8].Type.Val; r == nil || r.Kind != value.KindResult || *r.Ok != (ValType{Prim: value.KindU64}) || *r.Err != (ValType{Index: 5}) {
		t.Errorf("decl 8 = %+v", r)
	}
	if r := d[12].Type.Val; r == nil || r.Kind != value.KindResult || r.Ok != nil || *r.Err != (ValType{Index: 5}) {
		t.Errorf("decl 12 = %+v", r)
	}
	// type 14 (wasi:filesystem/types): a 37-case enum and a record.
	fs := typeAt(t, c, 14).Instance
	if e := fs.Decls[5].Type.Val; e == nil || e.Kind != value.KindEnum || len(e.Labels) != 37 || e.Labels[36] != "cross-device" {
		t.Errorf("error-code = %+v", fs.Decls[5].Type)
	}
}

func TestDecodeRecordsAndVariants(t *testing.T) {
	c, _ := decodeFixture(t, "records")
	if v := typeAt(t, c, 34).Val; v == nil || v.Kind != value.KindFlags || len(v.Labels) != 32 || v.Labels[31] != "b31" {
		t.Errorf("records type 34 = %+v", v)
	}
	if v := typeAt(t, c, 35).Val; v == nil || v.Kind != value.KindTuple ||
		len(v.Types) != 3 || v.Types[0] != (ValType{Index: 32}) || v.Types[2] != (ValType{Index: 34}) {
		t.Errorf("records type 35 = %+v", v)
	}
	if v := typeAt(t, c, 37).Val; v == nil || v.Kind != value.KindRecord || len(v.Fields) != 2 ||
		v.Fields[0] != (LabelValType{"a", ValType{Prim: value.KindU8}}) || v.Fields[1] != (LabelValType{"b", ValType{Index: 28}}) {
		t.Errorf("records type 37 = %+v", v)
	}

	c, _ = decodeFixture(t, "variants")
	if v := typeAt(t, c, 23).Val; v == nil || v.Kind != value.KindOption || v.Elem != (ValType{Prim: value.KindF32}) {
		t.Errorf("variants type 23 = %+v", v)
	}
	if v := typeAt(t, c, 27).Val; v == nil || v.Kind != value.KindResult || *v.Ok != (ValType{Prim: value.KindF64}) || *v.Err != (ValType{Prim: value.KindU8}) {
		t.Errorf("variants type 27 = %+v", v)
	}
	if v := typeAt(t, c, 29).Val; v == nil || v.Kind != value.KindEnum || len(v.Labels) != 2 {
		t.Errorf("variants type 29 = %+v", v)
	}
	if v := typeAt(t, c, 37).Val; v == nil || v.Kind != value.KindVariant || len(v.Cases) != 2 ||
		*v.Cases[0].Type != (ValType{Prim: value.KindF32}) || *v.Cases[1].Type != (ValType{Prim: value.KindF64}) {
		t.Errorf("variants type 37 = %+v", v)
	}
	if ft := typeAt(t, c, 22).Func; ft == nil || len(ft.Params) != 0 || ft.Result != nil || ft.NamedResults != nil {
		t.Errorf("variants type 22 (func) = %+v", ft)
	}

	c, _ = decodeFixture(t, "lists")
	if v := typeAt(t, c, 31).Val; v == nil || v.Kind != value.KindList || v.Elem != (ValType{Index: 29}) || v.FixedLen != 0 {
		t.Errorf("lists type 31 = %+v", v)
	}
}

func TestDecodeResources(t *testing.T) {
	c, _ := decodeFixture(t, "resources")
	// (type (;17;) (resource (rep i32) (dtor 0))), (type (;19;) (resource (rep i32)))
	if r := typeAt(t, c, 17).Resource; r == nil || r.Rep != 0x7f || r.Dtor == nil || *r.Dtor != 0 || r.Async {
		t.Errorf("type 17 = %+v", r)
	}
	if r := typeAt(t, c, 18).Resource; r == nil || r.Dtor == nil || *r.Dtor != 1 {
		t.Errorf("type 18 = %+v", r)
	}
	if r := typeAt(t, c, 19).Resource; r == nil || r.Rep != 0x7f || r.Dtor != nil {
		t.Errorf("type 19 = %+v", r)
	}
	cf := entries(c, SortCoreFunc)
	for i, want := range map[int]Canon{
		7:  {Kind: CanonResourceDrop, Opcode: 0x03, Type: 17},
		8:  {Kind: CanonResourceNew, Opcode: 0x02, Type: 17},
		9:  {Kind: CanonResourceRep, Opcode: 0x04, Type: 17},
		12: {Kind: CanonResourceRep, Opcode: 0x04, Type: 19},
	} {
		cn, ok := cf[i].(*Canon)
		if want.Offset = cn.Offset; !ok || *cn != want {
			t.Errorf("core func %d = %+v, want %+v", i, cf[i], want)
		}
	}
	// The shim component imports resources as (sub resource) and re-exports
	// them without ascription.
	inner := entries(c, SortComponent)[0].(*Component)
	imp := entries(inner, SortType)[0].(*Import)
	if imp.Name != "import-type-x" || imp.Desc != (ExternDesc{Kind: ExternType, SubResource: true}) {
		t.Errorf("nested type 0 = %+v", imp)
	}
	if ex := entries(inner, SortType)[23].(*Export); ex.Name != "x" || ex.Item != (SortIdx{SortType, 0}) || ex.Desc != nil {
		t.Errorf("nested type 23 = %+v", ex)
	}
	if v := typeAt(t, inner, 5).Val; v == nil || v.Kind != value.KindBorrow || v.Resource != 0 {
		t.Errorf("nested type 5 = %+v", v)
	}
	// (instance (;9;) (instantiate 0 ... (with "import-type-x" (type 17)) ...))
	inst := entries(c, SortInstance)[9].(*Instance)
	if got := inst.Args[13]; got != (InstantiateArg{"import-type-x", SortIdx{SortType, 17}}) {
		t.Errorf("instance 9 arg 13 = %+v", got)
	}
}

func TestDecodeSimpleNested(t *testing.T) {
	c, b := decodeFixture(t, "simple-nested")
	// Components nest four levels below the outermost; each has an absolute
	// offset.
	depth := 0
	var walk func(c *Component, d int)
	walk = func(c *Component, d int) {
		depth = max(depth, d)
		if string(b[c.Offset:c.Offset+8]) != "\x00asm\x0d\x00\x01\x00" {
			t.Errorf("component at depth %d: offset %d is not a preamble", d, c.Offset)
		}
		for _, cc := range entries(c, SortComponent) {
			walk(cc.(*Component), d+1)
		}
	}
	walk(c, 0)
	if depth != 4 {
		t.Errorf("nesting depth %d, want 4", depth)
	}
	// This fixture comes from cargo-component with an older wit-component,
	// which still wrote interface names with the 0x01 prefix.
	ex := entries(c, SortInstance)[5].(*Export)
	if ex.Name != "calvinrp:test-async-funcs/hello@0.1.0" || ex.Item != (SortIdx{SortInstance, 4}) {
		t.Errorf("instance 5 = %+v", ex)
	}
	inner := entries(c, SortComponent)[0].(*Component)
	if len(inner.Customs) != 2 || inner.Customs[1].Name != "registry-metadata" || string(inner.Customs[1].Data) != "{}" {
		t.Errorf("nested customs = %+v", inner.Customs)
	}
	if len(c.Customs) != 0 {
		t.Errorf("outer customs = %+v", c.Customs)
	}
}

// TestDecodeAllPrefixes decodes every prefix of every fixture: each must
// fail with an *Error inside the prefix (or succeed at section boundaries),
// never panic. Core modules are stubbed out (see stubModules) so that the
// prefixes exercise the component-level encoding rather than cutting the same
// core module section thousands of times; adder is also tried in full.
func TestDecodeAllPrefixes(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtureDir(t), "*.component.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]byte{"adder-full": readFixture(t, "adder")}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".component.wasm")
		inputs[name] = stubModules(t, readFixture(t, name))
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Every prefix is quadratic work: take all of them for a few
			// fixtures and a prime stride through the others.
			step := 1
			switch {
			case testing.Short():
				step = 61
			case !everyPrefix[name]:
				step = 7
			}
			for n := 0; n <= len(in); n += step {
				c, err := Decode(in[:n:n])
				checkResult(t, in[:n], c, err)
				if n == len(in) && err != nil {
					t.Fatalf("whole input: %v", err)
				}
			}
		})
	}
}

var everyPrefix = map[string]bool{"adder-full": true, "resource-borrow-simple": true, "simple-nested": true, "strings": true}

// stubModules returns component b with every core module, nested ones
// included, replaced by an empty module.
func stubModules(t testing.TB, b []byte) []byte {
	t.Helper()
	out := slices.Clone(b[:preambleSize])
	r := &reader{b: b, pos: preambleSize, end: len(b)}
	for r.remaining() > 0 {
		id, err := r.byte()
		if err != nil {
			t.Fatal(err)
		}
		size, err := r.u32()
		if err != nil {
			t.Fatal(err)
		}
		content, err := r.bytes(int(size))
		if err != nil {
			t.Fatal(err)
		}
		switch id {
		case secCoreModule:
			content = []byte("\x00asm\x01\x00\x00\x00")
		case secComponent:
			content = stubModules(t, content)
		}
		out = append(out, encSection(id, content)...)
	}
	return out
}

// checkResult checks the contract of Decode on any input.
func checkResult(t testing.TB, b []byte, c *Component, err error) {
	t.Helper()
	if err != nil {
		var de *Error
		if !errors.As(err, &de) {
			t.Fatalf("error %v is a %T, not an *Error", err, err)
		}
		if de.Offset < 0 || de.Offset > len(b) {
			t.Fatalf("error offset %d outside the %d-byte input: %v", de.Offset, len(b), err)
		}
		if c != nil {
			t.Fatal("non-nil component with an error")
		}
		return
	}
	checkInvariants(t, b, c)
}

// Binary builders for hand-made components.

func encU32(v uint32) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func encName(s string) []byte { return cat(encU32(uint32(len(s))), []byte(s)) }

func encVec(items ...[]byte) []byte { return cat(encU32(uint32(len(items))), cat(items...)) }

func encSection(id byte, content ...[]byte) []byte {
	c := cat(content...)
	return cat([]byte{id}, encU32(uint32(len(c))), c)
}

var preambleBytes = []byte("\x00asm\x0d\x00\x01\x00")

func encComponent(sections ...[]byte) []byte { return cat(preambleBytes, cat(sections...)) }

// bs is shorthand for a byte slice literal.
func bs(v ...byte) []byte { return v }

// nestedInstanceTypes returns a type section with n instance types nested
// inside each other.
func nestedInstanceTypes(n int) []byte {
	t := bs(0x42, 0x00)
	for range n - 1 {
		t = cat(bs(0x42, 0x01, 0x01), t)
	}
	return encComponent(encSection(7, bs(1), t))
}

func nestedComponents(n int) []byte {
	c := encComponent()
	for range n {
		c = encComponent(encSection(4, c))
	}
	return c
}

// Offsets in the hand-made binaries: the preamble takes bytes 0-7, the
// first section's id is at 8 and its one-byte size at 9, so its content
// starts at 10.
var malformed = []struct {
	name    string
	in      []byte
	section string
	offset  int // -1: do not check
	msg     string
}{
	{"empty input", nil, "", 0, "bad magic"},
	{"bad magic", []byte("\x00asn\x0d\x00\x01\x00"), "", 0, "bad magic"},
	{"core module", []byte("\x00asm\x01\x00\x00\x00"), "", 6, "this is a core module, not a component"},
	{"old version", []byte("\x00asm\x0c\x00\x01\x00"), "", 4, "version 0xc"},
	{"unknown layer", []byte("\x00asm\x0d\x00\x02\x00"), "", 6, "unknown layer 0x2"},
	{"truncated preamble", []byte("\x00asm\x0d\x00"), "", 6, "truncated preamble"},
	{"unknown section id", encComponent(bs(13, 0)), "", 8, "unknown section id 13"},
	{"section size truncated", encComponent(bs(7)), "", 9, "unexpected end of input"},
	{"section overrun", encComponent(bs(7, 5, 0)), "type", 9, "section size 5 exceeds the 1 remaining bytes"},
	{"section trailing bytes", encComponent(encSection(7, bs(0, 0xaa))), "type", 11, "1 unexpected bytes"},
	{"huge vector count", encComponent(encSection(7, bs(0xff, 0xff, 0xff, 0xff, 0x0f))), "type", 10, "count 4294967295 exceeds"},
	{"overlong u32", encComponent(encSection(7, bs(0x80, 0x80, 0x80, 0x80, 0x80, 0x00))), "type", 10, "integer too large"},
	{"u32 overflow", encComponent(encSection(7, bs(0xff, 0xff, 0xff, 0xff, 0x1f))), "type", 10, "integer too large"},
	{"truncated in element", encComponent(encSection(7, bs(1, 0x70))), "type", 12, "unexpected end of section"},

	{"custom name UTF-8", encComponent(encSection(0, encName("\xc3"))), "custom", 10, "not valid UTF-8"},
	{"core module magic", encComponent(encSection(1, []byte("notawasm"))), "core module", 10, "magic"},
	{"core module is a component", encComponent(encSection(1, preambleBytes)), "core module", 14, "version/layer 0d 00 01 00"},
	{"core instance opcode", encComponent(encSection(2, bs(1, 0x02))), "core instance", 11, "invalid core instance opcode 0x02"},
	{"core instantiate arg sort", encComponent(encSection(2, bs(1, 0x00, 0, 1), encName("a"), bs(0x11, 0))), "core instance", 16, "sort 0x11"},
	{"core inline export sort", encComponent(encSection(2, bs(1, 0x01, 1), encName("a"), bs(0x05, 0))), "core instance", 15, "invalid core sort 0x05"},
	{"core type opcode", encComponent(encSection(3, bs(1, 0x99))), "core type", 11, "invalid core type opcode 0x99"},
	{"core type struct", encComponent(encSection(3, bs(1, 0x5f, 0))), "core type", 11, "unsupported core type opcode 0x5f"},
	{"core type rec group", encComponent(encSection(3, bs(1, 0x4e, 2, 0x60, 0, 0, 0x60, 0, 0))), "core type", 11, "recursion group of 2 types"},
	{"core type supertypes", encComponent(encSection(3, bs(1, 0x00, 0x50, 1, 0, 0x60, 0, 0))), "core type", 12, "supertypes"},
	{"core type 0x00 prefix", encComponent(encSection(3, bs(1, 0x00, 0x60))), "core type", 12, "non-final sub type"},
	{"core valtype", encComponent(encSection(3, bs(1, 0x60, 1, 0x40, 0))), "core type", 13, "invalid core value type 0x40"},
	{"core typed ref", encComponent(encSection(3, bs(1, 0x60, 1, 0x64, 0x70, 0))), "core type", 13, "unsupported core reference type"},
	{"module type declarator", encComponent(encSection(3, bs(1, 0x50, 1, 0x07))), "core type", 13, "invalid module type declarator 0x07"},
	{"core extern type", encComponent(encSection(3, bs(1, 0x50, 1, 0x03), encName("m"), bs(0x05))), "core type", 16, "invalid core extern type 0x05"},
	{"core limits flags", encComponent(encSection(3, bs(1, 0x50, 1, 0x03), encName("m"), bs(0x02, 0x10, 0))), "core type", 17, "invalid limits flags 0x10"},
	{"core alias sort", encComponent(encSection(3, bs(1, 0x50, 1, 0x02, 0x00, 0x01, 0, 0))), "core type", 14, "invalid core alias sort 0x00"},
	{"nested component magic", encComponent(encSection(4, []byte("junkjunk"))), "component", 10, "bad magic"},
	{"nested component error", encComponent(encSection(4, encComponent(encSection(7, bs(1, 0x50))))), "type", 21, "invalid type opcode 0x50"},
	{"nested component too deep", nestedComponents(maxDepth + 1), "component", -1, "nested deeper than 100"},
	{"instance opcode", encComponent(encSection(5, bs(1, 0x02))), "instance", 11, "invalid instance opcode 0x02"},
	{"instantiate arg sort", encComponent(encSection(5, bs(1, 0x00, 0, 1), encName("a"), bs(0x07, 0))), "instance", 16, "invalid sort 0x07"},
	{"alias sort", encComponent(encSection(6, bs(1, 0x06))), "alias", 11, "invalid sort 0x06"},
	{"alias kind", encComponent(encSection(6, bs(1, 0x01, 0x03))), "alias", 12, "invalid alias kind 0x03"},
	{"core alias of component sort", encComponent(encSection(6, bs(1, 0x01, 0x01, 0), encName("f"))), "alias", 12, "core export alias of non-core sort func"},
	{"type opcode", encComponent(encSection(7, bs(1, 0x50))), "type", 11, "invalid type opcode 0x50"},
	{"stream type", encComponent(encSection(7, bs(1, 0x66, 0))), "type", 11, "unsupported type stream"},
	{"future type", encComponent(encSection(7, bs(1, 0x65, 0))), "type", 11, "unsupported type future"},
	{"error-context type", encComponent(encSection(7, bs(1, 0x64))), "type", 11, "unsupported type error-context"},
	{"error-context valtype", encComponent(encSection(7, bs(1, 0x70, 0x64))), "type", 12, "unsupported value type error-context"},
	{"negative valtype", encComponent(encSection(7, bs(1, 0x70, 0x50))), "type", 12, "invalid value type 0x50"},
	{"fixed list of 0", encComponent(encSection(7, bs(1, 0x67, 0x79, 0))), "type", 13, "fixed-size list of length 0"},
	{"func result list", encComponent(encSection(7, bs(1, 0x40, 0, 0x02))), "type", 13, "invalid function result list 0x02"},
	{"instance type declarator", encComponent(encSection(7, bs(1, 0x42, 1, 0x03))), "type", 13, "invalid type declarator 0x03"},
	{"resource dtor flag", encComponent(encSection(7, bs(1, 0x3f, 0x7f, 0x02))), "type", 13, "resource destructor presence flag 0x02"},
	{"variant case end", encComponent(encSection(7, bs(1, 0x71, 1), encName("a"), bs(0, 0x02))), "type", 16, "refines presence flag 0x02"},
	{"result presence", encComponent(encSection(7, bs(1, 0x6a, 0x05))), "type", 12, "value type presence flag 0x05"},
	{"record label UTF-8", encComponent(encSection(7, bs(1, 0x72, 1), encName("\xff"), bs(0x79))), "type", 13, "not valid UTF-8"},
	{"type nesting too deep", nestedInstanceTypes(maxDepth + 1), "type", -1, "nested deeper than 100"},
	{"canon opcode", encComponent(encSection(8, bs(1, 0x08))), "canon", 11, "unknown canon opcode 0x08"},
	{"canon lift sort", encComponent(encSection(8, bs(1, 0x00, 0x01))), "canon", 12, "expected 0x00 (func)"},
	{"canon option", encComponent(encSection(8, bs(1, 0x01, 0x00, 0, 1, 0x0a))), "canon", 15, "invalid canon option 0x0a"},
	{"canon conflicting options", encComponent(encSection(8, bs(1, 0x01, 0x00, 0, 2, 0x00, 0x01))), "canon", 16, "conflicting canon option 0x01"},
	{"canon duplicate memory", encComponent(encSection(8, bs(1, 0x01, 0x00, 0, 2, 0x03, 0, 0x03, 1))), "canon", 17, "duplicate or conflicting canon option 0x03"},
	{"canon async flag", encComponent(encSection(8, bs(1, 0x06, 0x02))), "canon", 12, "invalid subtask.cancel flag 0x02"},
	{"start truncated", encComponent(encSection(9, bs(0))), "start", 11, "unexpected end of section"},
	{"import name prefix", encComponent(encSection(10, bs(1, 0x03))), "import", 11, "invalid name prefix 0x03"},
	{"import name UTF-8", encComponent(encSection(10, bs(1, 0x00), encName("\xff\xfe"), bs(0x01, 0))), "import", 12, "not valid UTF-8"},
	{"import extern type", encComponent(encSection(10, bs(1, 0x00), encName("a"), bs(0x06))), "import", 14, "invalid extern type 0x06"},
	{"import core extern", encComponent(encSection(10, bs(1, 0x00), encName("a"), bs(0x00, 0x10, 0))), "import", 15, "only core modules"},
	{"import type bound", encComponent(encSection(10, bs(1, 0x00), encName("a"), bs(0x03, 0x02))), "import", 15, "invalid type bound 0x02"},
	{"name attribute", encComponent(encSection(10, bs(1, 0x02), encName("a"), bs(1, 0x05))), "import", 15, "invalid name attribute 0x05"},
	{"duplicate name attribute", encComponent(encSection(10, bs(1, 0x02), encName("a"), bs(2, 0x00), encName("x:y/z"), bs(0x00), encName("x:y/w"), bs(0x05, 0))), "import", 22, "duplicate implements attribute"},
	{"export ascription", encComponent(encSection(11, bs(1, 0x00), encName("a"), bs(0x01, 0, 0x02))), "export", 16, "export type ascription presence flag 0x02"},
	{"export sort", encComponent(encSection(11, bs(1, 0x00), encName("a"), bs(0x09, 0, 0))), "export", 14, "invalid sort 0x09"},
	{"value section", encComponent(encSection(12, bs(0))), "value", 8, "value definitions are not supported"},
}

func TestDecodeMalformed(t *testing.T) {
	for _, tc := range malformed {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Decode(tc.in)
			checkResult(t, tc.in, c, err)
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("Decode succeeded, want an error containing %q", tc.msg)
			}
			if de.Section != tc.section || (tc.offset >= 0 && de.Offset != tc.offset) || !strings.Contains(de.Msg, tc.msg) {
				t.Errorf("got  section %q offset %d: %s\nwant section %q offset %d: ...%s...", de.Section, de.Offset, de.Msg, tc.section, tc.offset, tc.msg)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Offset: 0x1a, Section: "canon", Msg: "boom"}
	if got := e.Error(); got != "canon section at offset 0x1a: boom" {
		t.Errorf("Error() = %q", got)
	}
	e.Section = ""
	if got := e.Error(); got != "offset 0x1a: boom" {
		t.Errorf("Error() = %q", got)
	}
}

func TestDecodeDepthLimitBoundary(t *testing.T) {
	for _, in := range [][]byte{nestedInstanceTypes(maxDepth), nestedComponents(maxDepth)} {
		c, err := Decode(in)
		if err != nil {
			t.Fatalf("%d levels: %v", maxDepth, err)
		}
		checkInvariants(t, in, c)
	}
}

// kitchenSink is a hand-made component using forms the fixtures lack: core
// types of every shape, legacy and newer type and canon forms, name
// attributes, start and every section kind but values.
func kitchenSink() []byte {
	moduleType := cat(bs(0x50), encVec(
		cat(bs(0x00), encName("env"), encName("f"), bs(0x00, 0)),            // import func type 0
		cat(bs(0x00), encName("env"), encName("mem"), bs(0x02, 0x05, 1, 2)), // memory64 min 1 max 2
		cat(bs(0x00), encName("env"), encName("tbl"), bs(0x01, 0x70, 0x00, 0)),
		cat(bs(0x00), encName("env"), encName("g"), bs(0x03, 0x7f, 0x01)),
		bs(0x01, 0x60, 0, 0),                       // type: func
		bs(0x01, 0x50, 0, 0x60, 0, 0),              // type: a sub type, here 0x50 is not a module type
		bs(0x02, 0x10, 0x01, 1, 0),                 // outer alias of core type
		cat(bs(0x03), encName("run"), bs(0x00, 1)), // export func
		cat(bs(0x03), encName("tag"), bs(0x04, 0x00, 0)),
	))
	coreTypes := encSection(3, encVec(
		bs(0x60, 2, 0x7f, 0x7e, 1, 0x7d),
		bs(0x00, 0x50, 0, 0x60, 0, 0),
		bs(0x4e, 1, 0x4f, 0, 0x60, 1, 0x70, 1, 0x6f),
		moduleType,
	))
	componentType := cat(bs(0x41), encVec(
		cat(bs(0x03, 0x00), encName("i"), bs(0x03, 0x01)), // import "i" (type (sub resource))
		bs(0x01, 0x69, 0),                                       // type (own 0)
		bs(0x00, 0x60, 0, 0),                                    // core type (func)
		bs(0x02, 0x03, 0x02, 1, 0),                              // alias outer 1 0 (type)
		cat(bs(0x04, 0x00), encName("e"), bs(0x05, 0)),          // export "e" (instance (type 0))
		cat(bs(0x04, 0x00), encName("v"), bs(0x02, 0x01, 0x73)), // export "v" (value string)
	))
	types := encSection(7, encVec(
		bs(0x67, 0x79, 4), // list<u32, 4>
		cat(bs(0x40), encVec(cat(encName("a"), bs(0x79))), bs(0x01), encVec(cat(encName("x"), bs(0x73)), cat(encName("y"), bs(0)))),
		bs(0x43, 0, 0x00, 0x73),                           // async func -> string
		bs(0x40, 0, 0x01, 0x00),                           // func, no result
		bs(0x3e, 0x7f, 5, 0x01, 6),                        // legacy async resource
		bs(0x3f, 0x7e, 0x00),                              // resource (rep i64)
		cat(bs(0x71, 1), encName("a"), bs(0x00, 0x01, 0)), // variant with legacy refines
		bs(0x6a, 0x00, 0x01, 0x73),                        // result (error string)
		bs(0x73),                                          // string
		componentType,
		bs(0x70, 0x80, 0x01), // list<type 128>: a two-byte s33 index
	))
	canonSec := encSection(8, encVec(
		bs(0x07, 3),                      // resource.drop async
		bs(0x09, 0x00, 0x79, 1, 0x03, 0), // task.return u32 (memory 0)
		bs(0x0f, 2, 2, 0x03, 0, 0x04, 1), // stream.read 2 (memory 0) (realloc 1)
		bs(0x20, 0x01, 0),                // waitable-set.wait cancellable (memory 0)
		bs(0x40, 3),                      // thread.spawn-ref
		bs(0x00, 0x00, 3, 5, 0x06, 0x07, 4, 0x08, 2, 0x09, 0x02, 1), // lift with new options
	))
	imports := encSection(10, encVec(
		cat(bs(0x02), encName("primary"), encVec(
			cat(bs(0x00), encName("wasi:keyvalue/store@0.2.0")),
			cat(bs(0x01), encName(".1")),
			cat(bs(0x02), encName("id-1")),
		), bs(0x05, 0)),
		cat(bs(0x01), encName("legacy:pkg/iface"), bs(0x00, 0x11, 3)),
		cat(bs(0x00), encName("val"), bs(0x02, 0x00, 7)),
	))
	exports := encSection(11, encVec(
		cat(bs(0x00), encName("e"), bs(0x01, 0, 0x01, 0x01, 0)),
		cat(bs(0x00), encName("m"), bs(0x00, 0x11, 0, 0x00)),
	))
	return encComponent(
		encSection(0, encName("hello"), []byte("data")),
		encSection(1, []byte("\x00asm\x01\x00\x00\x00")),
		coreTypes,
		encSection(2, encVec(
			cat(bs(0x00, 0), encVec(cat(encName("env"), bs(0x12, 0)))),
			cat(bs(0x01), encVec(cat(encName("t"), bs(0x04, 0)), cat(encName("f"), bs(0x00, 1)))),
		)),
		encSection(4, encComponent()),
		encSection(5, encVec(
			cat(bs(0x00, 0), encVec(cat(encName("a"), bs(0x00, 0x11, 0)), cat(encName("b"), bs(0x01, 2)))),
			cat(bs(0x01), encVec(cat(bs(0x02), encName("x"), encVec(cat(bs(0x00), encName("a:b/c"))), bs(0x03, 1)))),
		)),
		encSection(6, encVec(
			cat(bs(0x00, 0x04, 0x01, 1), encName("tag")),
			cat(bs(0x05, 0x00, 0), encName("i")),
			bs(0x03, 0x02, 1, 5),
		)),
		types,
		canonSec,
		encSection(9, bs(0), encVec(bs(1), bs(2)), bs(1)),
		imports,
		exports,
	)
}

func TestDecodeKitchenSink(t *testing.T) {
	in := kitchenSink()
	c, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, in, c)
	if len(c.Customs) != 1 || c.Customs[0].Name != "hello" || string(c.Customs[0].Data) != "data" || c.Customs[0].Offset != 10 {
		t.Errorf("customs = %+v", c.Customs)
	}

	ct := entries(c, SortCoreType)
	wantFuncs := []CoreFuncType{
		{Params: []CoreValType{0x7f, 0x7e}, Results: []CoreValType{0x7d}},
		{Params: []CoreValType{}, Results: []CoreValType{}},
		{Params: []CoreValType{0x70}, Results: []CoreValType{0x6f}},
	}
	for i, w := range wantFuncs {
		f := ct[i].(*CoreTypeDef).Func
		if f == nil || !bytes.Equal(coreBytes(f.Params), coreBytes(w.Params)) || !bytes.Equal(coreBytes(f.Results), coreBytes(w.Results)) {
			t.Errorf("core type %d = %+v, want %+v", i, f, w)
		}
	}
	mt := ct[3].(*CoreTypeDef).Module
	if mt == nil || len(mt.Decls) != 9 {
		t.Fatalf("core type 3 = %+v", ct[3])
	}
	d := mt.Decls
	if i := d[0].Import; i == nil || i.Module != "env" || i.Name != "f" || i.Desc.Kind != 0 || i.Desc.Type != 0 || i.Desc.Raw != nil {
		t.Errorf("module decl 0 = %+v", d[0].Import)
	}
	if i := d[1].Import; i == nil || i.Desc.Kind != 2 || !bytes.Equal(i.Desc.Raw, bs(0x05, 1, 2)) {
		t.Errorf("module decl 1 = %+v", d[1].Import)
	}
	if i := d[2].Import; i == nil || i.Desc.Kind != 1 || !bytes.Equal(i.Desc.Raw, bs(0x70, 0x00, 0)) {
		t.Errorf("module decl 2 = %+v", d[2].Import)
	}
	if i := d[3].Import; i == nil || i.Desc.Kind != 3 || !bytes.Equal(i.Desc.Raw, bs(0x7f, 0x01)) {
		t.Errorf("module decl 3 = %+v", d[3].Import)
	}
	if d[4].Type == nil || d[4].Type.Func == nil || d[5].Type == nil || d[5].Type.Func == nil {
		t.Errorf("module decls 4, 5 = %+v, %+v", d[4], d[5])
	}
	if a := d[6].Alias; a == nil || a.Sort != SortCoreType || a.Kind != AliasOuter || a.Count != 1 || a.Index != 0 {
		t.Errorf("module decl 6 = %+v", d[6].Alias)
	}
	if e := d[7].Export; e == nil || e.Name != "run" || e.Desc.Kind != 0 || e.Desc.Type != 1 {
		t.Errorf("module decl 7 = %+v", d[7].Export)
	}
	if e := d[8].Export; e == nil || e.Name != "tag" || e.Desc.Kind != 4 || e.Desc.Type != 0 || !bytes.Equal(e.Desc.Raw, bs(0x00, 0)) {
		t.Errorf("module decl 8 = %+v", d[8].Export)
	}

	ci := entries(c, SortCoreInstance)
	if x := ci[1].(*CoreInstance); len(x.Exports) != 2 || x.Exports[0].Item != (SortIdx{SortCoreTag, 0}) || x.Exports[1].Item != (SortIdx{SortCoreFunc, 1}) {
		t.Errorf("core instance 1 = %+v", x)
	}
	if nested := entries(c, SortComponent)[0].(*Component); len(nested.Defs) != 0 || !IsComponent(in[nested.Offset:]) {
		t.Errorf("nested component = %+v", nested)
	}
	inst := entries(c, SortInstance)
	if x := inst[0].(*Instance); len(x.Args) != 2 || x.Args[0].Item != (SortIdx{SortCoreModule, 0}) || x.Args[1].Item != (SortIdx{SortFunc, 2}) {
		t.Errorf("instance 0 = %+v", x)
	}
	if x := inst[1].(*Instance); len(x.Exports) != 1 || x.Exports[0].Attrs.Implements != "a:b/c" || x.Exports[0].Item != (SortIdx{SortType, 1}) {
		t.Errorf("instance 1 = %+v", x)
	}
	if a := entries(c, SortCoreTag)[0].(*Alias); a.Kind != AliasCoreInstanceExport || a.Instance != 1 || a.Name != "tag" || !a.Sort.IsCore() {
		t.Errorf("core tag alias = %+v", a)
	}

	// Type 0 is the outer alias of the alias section; the type section's
	// definitions come next.
	ty := func(i int) *TypeDef { return typeAt(t, c, i+1) }
	if v := ty(0).Val; v == nil || v.Kind != value.KindList || v.FixedLen != 4 || v.Elem.Prim != value.KindU32 {
		t.Errorf("type 0 = %+v", v)
	}
	if f := ty(1).Func; f == nil || f.Result != nil || len(f.NamedResults) != 2 ||
		f.NamedResults[0] != (LabelValType{"x", ValType{Prim: value.KindString}}) || f.NamedResults[1] != (LabelValType{"y", ValType{Index: 0}}) {
		t.Errorf("type 1 = %+v", f)
	}
	if f := ty(2).Func; f == nil || !f.Async || f.Result.Prim != value.KindString {
		t.Errorf("type 2 = %+v", f)
	}
	if f := ty(3).Func; f == nil || f.Async || f.Result != nil || f.NamedResults != nil {
		t.Errorf("type 3 = %+v", f)
	}
	if r := ty(4).Resource; r == nil || !r.Async || r.Rep != 0x7f || *r.Dtor != 5 || *r.Callback != 6 {
		t.Errorf("type 4 = %+v", r)
	}
	if r := ty(5).Resource; r == nil || r.Async || r.Rep != 0x7e || r.Dtor != nil {
		t.Errorf("type 5 = %+v", r)
	}
	if v := ty(6).Val; v == nil || len(v.Cases) != 1 || v.Cases[0].Type != nil || v.Cases[0].Refines == nil || *v.Cases[0].Refines != 0 {
		t.Errorf("type 6 = %+v", v)
	}
	if v := ty(7).Val; v == nil || v.Ok != nil || v.Err == nil || v.Err.Prim != value.KindString {
		t.Errorf("type 7 = %+v", v)
	}
	if v := ty(8).Val; v == nil || v.Kind != value.KindString {
		t.Errorf("type 8 = %+v", v)
	}
	cty := ty(9).Component
	if cty == nil || len(cty.Decls) != 6 {
		t.Fatalf("type 9 = %+v", ty(9))
	}
	if i := cty.Decls[0].Import; i == nil || i.Name != "i" || !i.Desc.SubResource {
		t.Errorf("component type decl 0 = %+v", cty.Decls[0])
	}
	if cty.Decls[1].Type.Val.Kind != value.KindOwn || cty.Decls[2].CoreType.Func == nil || cty.Decls[3].Alias.Kind != AliasOuter {
		t.Errorf("component type decls 1-3 = %+v", cty.Decls[1:4])
	}
	if e := cty.Decls[4].Export; e == nil || e.Desc != (ExternDesc{Kind: ExternInstance, Index: 0}) {
		t.Errorf("component type decl 4 = %+v", cty.Decls[4])
	}
	if e := cty.Decls[5].Export; e == nil || e.Desc != (ExternDesc{Kind: ExternValue, ValueTyp: ValType{Prim: value.KindString}}) {
		t.Errorf("component type decl 5 = %+v", cty.Decls[5])
	}
	if v := ty(10).Val; v == nil || v.Elem != (ValType{Index: 128}) {
		t.Errorf("type 10 = %+v", v)
	}

	cn := canons(c)
	check := func(i int, kind CanonKind, op byte, typ uint32, o CanonOptions) {
		t.Helper()
		if cn[i].Kind != kind || cn[i].Opcode != op || cn[i].Type != typ || !optsEqual(cn[i].Options, o) {
			t.Errorf("canon %d = %+v", i, cn[i])
		}
	}
	check(0, CanonResourceDrop, 0x07, 3, CanonOptions{Async: true})
	check(1, CanonOther, 0x09, 0, CanonOptions{Memory: ptr[uint32](0)})
	check(2, CanonOther, 0x0f, 2, CanonOptions{Memory: ptr[uint32](0), Realloc: ptr[uint32](1)})
	check(3, CanonOther, 0x20, 0, CanonOptions{Async: true})
	check(4, CanonOther, 0x40, 0, CanonOptions{})
	check(5, CanonLift, 0x00, 1, CanonOptions{Async: true, Callback: ptr[uint32](4), CoreType: ptr[uint32](2), GC: true, StringEncoding: Latin1UTF16})
	if cn[5].Func != 3 {
		t.Errorf("lift func = %d", cn[5].Func)
	}
	for op, name := range map[byte]string{0x00: "lift", 0x07: "resource.drop async", 0x09: "task.return", 0x0f: "stream.read", 0x42: "thread.available-parallelism", 0x08: ""} {
		if got := CanonName(op); got != name {
			t.Errorf("CanonName(%#x) = %q, want %q", op, got, name)
		}
	}

	var start *Start
	for _, d := range c.Defs {
		if s, ok := d.(*Start); ok {
			start = s
		}
	}
	if start == nil || start.Func != 0 || len(start.Args) != 2 || start.Args[1] != 2 || start.Results != 1 {
		t.Errorf("start = %+v", start)
	}

	var imps []*Import
	var exps []*Export
	for _, d := range c.Defs {
		switch d := d.(type) {
		case *Import:
			imps = append(imps, d)
		case *Export:
			exps = append(exps, d)
		}
	}
	if len(imps) != 3 {
		t.Fatalf("%d imports", len(imps))
	}
	if i := imps[0]; i.Name != "primary" || i.Attrs != (NameAttrs{"wasi:keyvalue/store@0.2.0", ".1", "id-1"}) || i.Desc != (ExternDesc{Kind: ExternInstance}) {
		t.Errorf("import 0 = %+v", i)
	}
	if i := imps[1]; i.Name != "legacy:pkg/iface" || i.Attrs != (NameAttrs{}) || i.Desc != (ExternDesc{Kind: ExternCoreModule, Index: 3}) {
		t.Errorf("import 1 = %+v", i)
	}
	if i := imps[2]; i.Desc != (ExternDesc{Kind: ExternValue, ValueEq: true, Index: 7}) {
		t.Errorf("import 2 = %+v", i)
	}
	if e := exps[0]; e.Name != "e" || e.Item != (SortIdx{SortFunc, 0}) || e.Desc == nil || *e.Desc != (ExternDesc{Kind: ExternFunc}) {
		t.Errorf("export 0 = %+v", e)
	}
	if e := exps[1]; e.Item != (SortIdx{SortCoreModule, 0}) || e.Desc != nil {
		t.Errorf("export 1 = %+v", e)
	}
}

func coreBytes(v []CoreValType) []byte {
	out := make([]byte, len(v))
	for i, c := range v {
		out[i] = byte(c)
	}
	return out
}

func TestReaderLEB(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want int64
		ok   bool
	}{
		{bs(0x00), 0, true},
		{bs(0x7f), -1, true},
		{bs(0x40), -64, true},
		{bs(0x3f), 63, true},
		{bs(0x80, 0x01), 128, true},
		{bs(0xff, 0xff, 0xff, 0xff, 0x0f), 0xffffffff, true},
		{bs(0x80, 0x80, 0x80, 0x80, 0x70), -(1 << 32), true},
		{bs(0x80, 0x80, 0x80, 0x80, 0x10), 0, false},
		{bs(0x80, 0x80, 0x80, 0x80, 0x80, 0x00), 0, false},
		{bs(0x80), 0, false},
	} {
		r := &reader{b: tc.in, end: len(tc.in)}
		got, err := r.s33()
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("s33(% x) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		in   []byte
		want uint64
		ok   bool
	}{
		{bs(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), 1<<64 - 1, true},
		{bs(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02), 0, false},
		{bs(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), 0, false},
	} {
		r := &reader{b: tc.in, end: len(tc.in)}
		got, err := r.u64()
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("u64(% x) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	in := readFixture(b, "lists")
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Decode(in); err != nil {
			b.Fatal(err)
		}
	}
}
