package bindgen

import (
	"fmt"

	"go.bytecodealliance.org/wit"
)

// The canonical ABI as the generator needs it (CanonicalABI.md, wasm32):
// flattening into core types, and memory size and alignment. It is computed
// here rather than taken from wit's ABI methods so that flattening, joining
// and the generated conversions agree by construction.

// core types of flattened values.
const (
	i32 = "i32"
	i64 = "i64"
	f32 = "f32"
	f64 = "f64"
)

// goCore is the Go type that carries a core value in generated code.
var goCore = map[string]string{i32: "uint32", i64: "uint64", f32: "float32", f64: "float64"}

// under returns what t is: a primitive (wit.Bool{}, wit.String{}, ...) or
// the kind of the type definition it names, following aliases.
func under(t wit.Type) wit.TypeDefKind {
	for {
		td, ok := t.(*wit.TypeDef)
		if !ok {
			return t
		}
		if alias, ok := td.Kind.(wit.Type); ok {
			t = alias
			continue
		}
		return td.Kind
	}
}

// vcase is one case of a variant-like type (variant, option, result).
type vcase struct {
	name string
	typ  wit.Type // nil: no payload
}

// cases returns the cases of a variant-like kind, or nil.
func cases(k wit.TypeDefKind) []vcase {
	switch k := k.(type) {
	case *wit.Variant:
		out := make([]vcase, len(k.Cases))
		for i, c := range k.Cases {
			out[i] = vcase{c.Name, c.Type}
		}
		return out
	case *wit.Option:
		return []vcase{{"none", nil}, {"some", k.Type}}
	case *wit.Result:
		return []vcase{{"ok", k.OK}, {"err", k.Err}}
	}
	return nil
}

func discSize(n int) uint32 {
	switch {
	case n <= 1<<8:
		return 1
	case n <= 1<<16:
		return 2
	}
	return 4
}

func flagsSize(n int) uint32 {
	switch {
	case n <= 8:
		return 1
	case n <= 16:
		return 2
	}
	return 4
}

func alignTo(n, a uint32) uint32 { return (n + a - 1) &^ (a - 1) }

// layout returns the size and alignment of t in linear memory.
func layout(t wit.Type) (size, align uint32) {
	switch k := under(t).(type) {
	case wit.Bool, wit.S8, wit.U8:
		return 1, 1
	case wit.S16, wit.U16:
		return 2, 2
	case wit.S32, wit.U32, wit.F32, wit.Char:
		return 4, 4
	case wit.S64, wit.U64, wit.F64:
		return 8, 8
	case wit.String, *wit.List:
		return 8, 4
	case *wit.Own, *wit.Borrow:
		return 4, 4
	case *wit.Enum:
		s := discSize(len(k.Cases))
		return s, s
	case *wit.Flags:
		s := flagsSize(len(k.Flags))
		return s, s
	case *wit.Record:
		return structLayout(fieldTypes(k))
	case *wit.Tuple:
		return structLayout(k.Types)
	}
	if cs := cases(under(t)); cs != nil {
		ds := discSize(len(cs))
		size, align := uint32(0), ds
		for _, c := range cs {
			if c.typ != nil {
				s, a := layout(c.typ)
				size, align = max(size, s), max(align, a)
			}
		}
		off := payloadOffset(cs)
		return alignTo(off+size, align), align
	}
	panic(fmt.Sprintf("bindgen: no layout for %T", under(t)))
}

// payloadOffset is where a variant's payload starts.
func payloadOffset(cs []vcase) uint32 {
	a := uint32(1)
	for _, c := range cs {
		if c.typ != nil {
			_, ca := layout(c.typ)
			a = max(a, ca)
		}
	}
	return alignTo(discSize(len(cs)), a)
}

func fieldTypes(r *wit.Record) []wit.Type {
	ts := make([]wit.Type, len(r.Fields))
	for i, f := range r.Fields {
		ts[i] = f.Type
	}
	return ts
}

// structLayout returns the size and alignment of consecutive fields.
func structLayout(ts []wit.Type) (size, align uint32) {
	offs, size, align := fieldOffsets(ts)
	_ = offs
	return size, align
}

// fieldOffsets returns each field's offset, the size and the alignment.
func fieldOffsets(ts []wit.Type) (offs []uint32, size, align uint32) {
	align = 1
	for _, t := range ts {
		s, a := layout(t)
		size = alignTo(size, a)
		offs = append(offs, size)
		size += s
		align = max(align, a)
	}
	return offs, alignTo(size, align), align
}

// flat returns the core types t flattens to.
func flat(t wit.Type) []string {
	switch k := under(t).(type) {
	case wit.Bool, wit.S8, wit.U8, wit.S16, wit.U16, wit.S32, wit.U32, wit.Char,
		*wit.Own, *wit.Borrow, *wit.Enum, *wit.Flags:
		return []string{i32}
	case wit.S64, wit.U64:
		return []string{i64}
	case wit.F32:
		return []string{f32}
	case wit.F64:
		return []string{f64}
	case wit.String, *wit.List:
		return []string{i32, i32}
	case *wit.Record:
		return flatAll(fieldTypes(k))
	case *wit.Tuple:
		return flatAll(k.Types)
	}
	if cs := cases(under(t)); cs != nil {
		return append([]string{i32}, joinedPayload(cs)...)
	}
	panic(fmt.Sprintf("bindgen: cannot flatten %T", under(t)))
}

func flatAll(ts []wit.Type) []string {
	var out []string
	for _, t := range ts {
		out = append(out, flat(t)...)
	}
	return out
}

// joinedPayload is the flat payload of a variant: per position, the join of
// every case's flat type there.
func joinedPayload(cs []vcase) []string {
	var out []string
	for _, c := range cs {
		if c.typ == nil {
			continue
		}
		for i, ft := range flat(c.typ) {
			if i == len(out) {
				out = append(out, ft)
			} else {
				out[i] = join(out[i], ft)
			}
		}
	}
	return out
}

func join(a, b string) string {
	switch {
	case a == b:
		return a
	case (a == i32 || a == f32) && (b == i32 || b == f32):
		return i32
	}
	return i64
}

// fromJoined converts the Go expression v of joined core type j to core type t.
func fromJoined(v, j, t string) string {
	switch {
	case j == t:
		return v
	case j == i64 && t == i32:
		return "uint32(" + v + ")"
	case j == i32 && t == f32:
		return "math.Float32frombits(" + v + ")"
	case j == i64 && t == f32:
		return "math.Float32frombits(uint32(" + v + "))"
	case j == i64 && t == f64:
		return "math.Float64frombits(" + v + ")"
	}
	panic("bindgen: bad join " + j + " -> " + t)
}

// toJoined converts v of core type t to joined core type j.
func toJoined(v, t, j string) string {
	switch {
	case j == t:
		return v
	case t == i32 && j == i64:
		return "uint64(" + v + ")"
	case t == f32 && j == i32:
		return "math.Float32bits(" + v + ")"
	case t == f32 && j == i64:
		return "uint64(math.Float32bits(" + v + "))"
	case t == f64 && j == i64:
		return "math.Float64bits(" + v + ")"
	}
	panic("bindgen: bad join " + t + " -> " + j)
}

// needsMath reports whether converting between core types t and j uses
// package math.
func needsMath(t, j string) bool { return t != j && (t == f32 || t == f64) }
