package value

import (
	"fmt"
	"strings"
)

// Kind is the kind of a component value type.
type Kind uint8

// The kinds of component value types, as in the component model's valtype.
const (
	KindInvalid Kind = iota
	KindBool
	KindS8
	KindU8
	KindS16
	KindU16
	KindS32
	KindU32
	KindS64
	KindU64
	KindF32
	KindF64
	KindChar
	KindString
	KindList
	KindRecord
	KindTuple
	KindVariant
	KindEnum
	KindOption
	KindResult
	KindFlags
	KindOwn
	KindBorrow
)

var kindNames = [...]string{
	KindInvalid: "invalid", KindBool: "bool",
	KindS8: "s8", KindU8: "u8", KindS16: "s16", KindU16: "u16",
	KindS32: "s32", KindU32: "u32", KindS64: "s64", KindU64: "u64",
	KindF32: "f32", KindF64: "f64", KindChar: "char", KindString: "string",
	KindList: "list", KindRecord: "record", KindTuple: "tuple", KindVariant: "variant",
	KindEnum: "enum", KindOption: "option", KindResult: "result", KindFlags: "flags",
	KindOwn: "own", KindBorrow: "borrow",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// IsPrimitive reports whether k has no type parameters.
func (k Kind) IsPrimitive() bool { return k >= KindBool && k <= KindString }

// Type is a component value type. Only the fields of its Kind are set.
// Types are immutable once built and may be shared; compare them with Equal.
type Type struct {
	Kind Kind
	// Name is the WIT name of a named type (a record, variant, enum, flags,
	// resource or type alias exported by an interface), or "".
	Name string

	Elem     *Type         // list, option
	Fields   []Field       // record
	Types    []*Type       // tuple
	Cases    []Case        // variant
	Labels   []string      // enum, flags
	Ok, Err  *Type         // result; nil means no payload
	Resource *ResourceType // own, borrow
}

// Field is a named record field.
type Field struct {
	Name string
	Type *Type
}

// Case is a variant case; Type is nil for a case without a payload.
type Case struct {
	Name string
	Type *Type
}

// ResourceType identifies a resource type. Identity is by pointer: two
// resource types are the same only if they are the same *ResourceType.
type ResourceType struct {
	// Name is the resource's WIT name, such as "output-stream".
	Name string
	// Interface names where the resource was defined, such as
	// "wasi:io/streams@0.2.0", or "" when unknown.
	Interface string
}

func (r *ResourceType) String() string {
	if r.Interface != "" {
		return r.Interface + "#" + r.Name
	}
	return r.Name
}

// Primitive types, shared.
var (
	Bool   = &Type{Kind: KindBool}
	S8     = &Type{Kind: KindS8}
	U8     = &Type{Kind: KindU8}
	S16    = &Type{Kind: KindS16}
	U16    = &Type{Kind: KindU16}
	S32    = &Type{Kind: KindS32}
	U32    = &Type{Kind: KindU32}
	S64    = &Type{Kind: KindS64}
	U64    = &Type{Kind: KindU64}
	F32    = &Type{Kind: KindF32}
	F64    = &Type{Kind: KindF64}
	Char   = &Type{Kind: KindChar}
	String = &Type{Kind: KindString}
)

// Primitive returns the shared type of a primitive kind, or nil.
func Primitive(k Kind) *Type {
	switch k {
	case KindBool:
		return Bool
	case KindS8:
		return S8
	case KindU8:
		return U8
	case KindS16:
		return S16
	case KindU16:
		return U16
	case KindS32:
		return S32
	case KindU32:
		return U32
	case KindS64:
		return S64
	case KindU64:
		return U64
	case KindF32:
		return F32
	case KindF64:
		return F64
	case KindChar:
		return Char
	case KindString:
		return String
	}
	return nil
}

// ListOf returns list<elem>.
func ListOf(elem *Type) *Type { return &Type{Kind: KindList, Elem: elem} }

// OptionOf returns option<elem>.
func OptionOf(elem *Type) *Type { return &Type{Kind: KindOption, Elem: elem} }

// ResultOf returns result<ok, err>; either may be nil.
func ResultOf(ok, err *Type) *Type { return &Type{Kind: KindResult, Ok: ok, Err: err} }

// TupleOf returns tuple<types...>.
func TupleOf(types ...*Type) *Type { return &Type{Kind: KindTuple, Types: types} }

// RecordOf returns an anonymous record with fields.
func RecordOf(fields ...Field) *Type { return &Type{Kind: KindRecord, Fields: fields} }

// Own returns own<r>.
func Own(r *ResourceType) *Type { return &Type{Kind: KindOwn, Resource: r} }

// Borrow returns borrow<r>.
func Borrow(r *ResourceType) *Type { return &Type{Kind: KindBorrow, Resource: r} }

// VariantCases returns the cases of a variant-like type (variant, enum,
// option, result) as the canonical ABI sees them, or nil for other kinds.
func (t *Type) VariantCases() []Case {
	switch t.Kind {
	case KindVariant:
		return t.Cases
	case KindEnum:
		cs := make([]Case, len(t.Labels))
		for i, l := range t.Labels {
			cs[i] = Case{Name: l}
		}
		return cs
	case KindOption:
		return []Case{{Name: "none"}, {Name: "some", Type: t.Elem}}
	case KindResult:
		return []Case{{Name: "ok", Type: t.Ok}, {Name: "err", Type: t.Err}}
	}
	return nil
}

// Equal reports whether t and u are structurally equal. Names of named types
// are ignored (the component model types structurally), but field, case and
// label names are not. Resources compare by identity.
func Equal(t, u *Type) bool {
	if t == u {
		return true
	}
	if t == nil || u == nil || t.Kind != u.Kind {
		return false
	}
	switch t.Kind {
	case KindList, KindOption:
		return Equal(t.Elem, u.Elem)
	case KindRecord:
		if len(t.Fields) != len(u.Fields) {
			return false
		}
		for i := range t.Fields {
			if t.Fields[i].Name != u.Fields[i].Name || !Equal(t.Fields[i].Type, u.Fields[i].Type) {
				return false
			}
		}
	case KindTuple:
		if len(t.Types) != len(u.Types) {
			return false
		}
		for i := range t.Types {
			if !Equal(t.Types[i], u.Types[i]) {
				return false
			}
		}
	case KindVariant:
		if len(t.Cases) != len(u.Cases) {
			return false
		}
		for i := range t.Cases {
			if t.Cases[i].Name != u.Cases[i].Name || !Equal(t.Cases[i].Type, u.Cases[i].Type) {
				return false
			}
		}
	case KindEnum, KindFlags:
		if len(t.Labels) != len(u.Labels) {
			return false
		}
		for i := range t.Labels {
			if t.Labels[i] != u.Labels[i] {
				return false
			}
		}
	case KindResult:
		return Equal(t.Ok, u.Ok) && Equal(t.Err, u.Err)
	case KindOwn, KindBorrow:
		return t.Resource == u.Resource
	}
	return true
}

// String returns the type in WIT syntax. Named types print as their name.
func (t *Type) String() string {
	var b strings.Builder
	writeType(&b, t, true)
	return b.String()
}

// Definition returns the WIT syntax of the type's structure, ignoring its
// own name (but not the names of the types inside it): "record { a: u32 }".
func (t *Type) Definition() string {
	var b strings.Builder
	writeType(&b, t, false)
	return b.String()
}

func writeType(b *strings.Builder, t *Type, useName bool) {
	if t == nil {
		b.WriteString("_")
		return
	}
	if useName && t.Name != "" {
		b.WriteString(t.Name)
		return
	}
	switch t.Kind {
	case KindList:
		b.WriteString("list<")
		writeType(b, t.Elem, true)
		b.WriteString(">")
	case KindOption:
		b.WriteString("option<")
		writeType(b, t.Elem, true)
		b.WriteString(">")
	case KindResult:
		b.WriteString("result")
		if t.Ok == nil && t.Err == nil {
			return
		}
		b.WriteString("<")
		writeType(b, t.Ok, true)
		if t.Err != nil {
			b.WriteString(", ")
			writeType(b, t.Err, true)
		}
		b.WriteString(">")
	case KindTuple:
		b.WriteString("tuple<")
		for i, e := range t.Types {
			if i > 0 {
				b.WriteString(", ")
			}
			writeType(b, e, true)
		}
		b.WriteString(">")
	case KindRecord:
		b.WriteString("record { ")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.Name + ": ")
			writeType(b, f.Type, true)
		}
		b.WriteString(" }")
	case KindVariant:
		b.WriteString("variant { ")
		for i, c := range t.Cases {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.Name)
			if c.Type != nil {
				b.WriteString("(")
				writeType(b, c.Type, true)
				b.WriteString(")")
			}
		}
		b.WriteString(" }")
	case KindEnum, KindFlags:
		b.WriteString(t.Kind.String() + " { " + strings.Join(t.Labels, ", ") + " }")
	case KindOwn:
		b.WriteString(t.Resource.Name)
	case KindBorrow:
		b.WriteString("borrow<" + t.Resource.Name + ">")
	default:
		b.WriteString(t.Kind.String())
	}
}

// Param is a named function parameter or result.
type Param struct {
	Name string
	Type *Type
}

// FuncType is a component function type. A function with a single unnamed
// result has one Result with Name "".
type FuncType struct {
	Params  []Param
	Results []Param
}

// String returns the type in WIT syntax: "func(a: u32) -> string".
func (f *FuncType) String() string {
	var b strings.Builder
	b.WriteString("func(")
	for i, p := range f.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Name + ": ")
		writeType(&b, p.Type, true)
	}
	b.WriteString(")")
	switch {
	case len(f.Results) == 1 && f.Results[0].Name == "":
		b.WriteString(" -> ")
		writeType(&b, f.Results[0].Type, true)
	case len(f.Results) > 0:
		b.WriteString(" -> (")
		for i, p := range f.Results {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(p.Name + ": ")
			writeType(&b, p.Type, true)
		}
		b.WriteString(")")
	}
	return b.String()
}

// Equal reports whether two function types are equal: same parameter and
// result names and structurally equal types.
func (f *FuncType) Equal(g *FuncType) bool {
	if len(f.Params) != len(g.Params) || len(f.Results) != len(g.Results) {
		return false
	}
	for i := range f.Params {
		if f.Params[i].Name != g.Params[i].Name || !Equal(f.Params[i].Type, g.Params[i].Type) {
			return false
		}
	}
	for i := range f.Results {
		if f.Results[i].Name != g.Results[i].Name || !Equal(f.Results[i].Type, g.Results[i].Type) {
			return false
		}
	}
	return true
}
