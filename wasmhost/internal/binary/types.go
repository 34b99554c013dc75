package binary

import (
	"math"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// This file decodes component type definitions (section 7 and the type
// declarators inside component and instance types).

// Type opcodes. Like core wasm, they are negative SLEB128 values, one byte
// each, leaving the non-negative values to type indices.
const (
	opErrorContext = 0x64 // primitive error-context (async)
	opRecord       = 0x72
	opVariant      = 0x71
	opList         = 0x70
	opTuple        = 0x6f
	opFlags        = 0x6e
	opEnum         = 0x6d
	opUnion        = 0x6c // removed from the spec in 2023
	opOption       = 0x6b
	opResult       = 0x6a
	opOwn          = 0x69
	opBorrow       = 0x68
	opFixedList    = 0x67
	opStream       = 0x66
	opFuture       = 0x65
	opMap          = 0x63

	opResourceAsync = 0x3e // legacy (dtor async f (callback cb)?)
	opResource      = 0x3f
	opFunc          = 0x40
	opComponentType = 0x41
	opInstanceType  = 0x42
	opFuncAsync     = 0x43
)

// primKind returns the kind of a primvaltype byte, or KindInvalid.
func primKind(c byte) value.Kind {
	switch c {
	case 0x7f:
		return value.KindBool
	case 0x7e:
		return value.KindS8
	case 0x7d:
		return value.KindU8
	case 0x7c:
		return value.KindS16
	case 0x7b:
		return value.KindU16
	case 0x7a:
		return value.KindS32
	case 0x79:
		return value.KindU32
	case 0x78:
		return value.KindS64
	case 0x77:
		return value.KindU64
	case 0x76:
		return value.KindF32
	case 0x75:
		return value.KindF64
	case 0x74:
		return value.KindChar
	case 0x73:
		return value.KindString
	}
	return value.KindInvalid
}

// unsupportedTypes names the type opcodes of proposals wbox does not
// implement. value.Kind has no kind for them, so rather than decode them into
// something a later stage could misread, decoding stops with a clear error.
var unsupportedTypes = map[byte]string{
	opErrorContext: "error-context (component-model async)",
	opStream:       "stream (component-model async)",
	opFuture:       "future (component-model async)",
	opMap:          "map",
	opUnion:        "union (removed from the component model in 2023)",
}

// valType reads a valtype: a primitive byte or a non-negative s33 type index.
func valType(r *reader) (ValType, error) {
	off := r.pos
	c, err := r.peek()
	if err != nil {
		return ValType{}, err
	}
	if k := primKind(c); k != value.KindInvalid {
		r.pos++
		return ValType{Prim: k}, nil
	}
	if c == opErrorContext {
		return ValType{}, r.errorf(off, "unsupported value type %s", unsupportedTypes[c])
	}
	i, err := r.s33()
	if err != nil {
		return ValType{}, err
	}
	if i < 0 {
		return ValType{}, r.errorf(off, "invalid value type 0x%02x", c)
	}
	if i > math.MaxUint32 {
		return ValType{}, r.errorf(off, "type index %d too large", i)
	}
	return ValType{Index: uint32(i)}, nil
}

func optValType(r *reader) (*ValType, error) {
	return optional(r, "value type", valType)
}

func labelValType(r *reader) (LabelValType, error) {
	l, err := r.name()
	if err != nil {
		return LabelValType{}, err
	}
	t, err := valType(r)
	return LabelValType{Label: l, Type: t}, err
}

// decodeTypeDef reads a type (deftype).
func decodeTypeDef(r *reader) (*TypeDef, error) {
	off := r.pos
	c, err := r.peek()
	if err != nil {
		return nil, err
	}
	td := &TypeDef{Offset: off}
	switch c {
	case opResource, opResourceAsync:
		td.Resource, err = resourceType(r)
	case opFunc, opFuncAsync:
		td.Func, err = funcType(r)
	case opComponentType:
		td.Component, err = componentType(r)
	case opInstanceType:
		td.Instance, err = instanceType(r)
	default:
		td.Val, err = defValType(r)
	}
	if err != nil {
		return nil, err
	}
	return td, nil
}

// resourceType reads (resource (rep t) (dtor f)?) and its legacy async form.
func resourceType(r *reader) (*ResourceType, error) {
	op, err := r.byte()
	if err != nil {
		return nil, err
	}
	rt := &ResourceType{}
	if rt.Rep, err = coreValType(r); err != nil {
		return nil, err
	}
	if op == opResource {
		rt.Dtor, err = optional(r, "resource destructor", (*reader).index)
		return rt, err
	}
	rt.Async = true
	dtor, err := r.index()
	if err != nil {
		return nil, err
	}
	rt.Dtor = &dtor
	rt.Callback, err = optional(r, "resource destructor callback", (*reader).index)
	return rt, err
}

// funcType reads a function type. The result list is 0x00 t for one unnamed
// result, or 0x01 and a vector of named results: today that vector must be
// empty (0x01 0x00), but encoders before 2025 could emit named results.
func funcType(r *reader) (*FuncType, error) {
	op, err := r.byte()
	if err != nil {
		return nil, err
	}
	ft := &FuncType{Async: op == opFuncAsync}
	if ft.Params, err = vec(r, "parameter", labelValType); err != nil {
		return nil, err
	}
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return nil, err
	}
	switch c {
	case 0x00:
		t, err := valType(r)
		if err != nil {
			return nil, err
		}
		ft.Result = &t
	case 0x01:
		named, err := vec(r, "named result", labelValType)
		if err != nil {
			return nil, err
		}
		if len(named) > 0 {
			ft.NamedResults = named
		}
	default:
		return nil, r.errorf(off, "invalid function result list 0x%02x", c)
	}
	return ft, nil
}

func componentType(r *reader) (*ComponentType, error) {
	if err := r.enter("component type"); err != nil {
		return nil, err
	}
	defer r.leave()
	r.pos++ // opComponentType
	decls, err := vec(r, "component type declarator", componentDecl)
	if err != nil {
		return nil, err
	}
	return &ComponentType{Decls: decls}, nil
}

func instanceType(r *reader) (*InstanceType, error) {
	if err := r.enter("instance type"); err != nil {
		return nil, err
	}
	defer r.leave()
	r.pos++ // opInstanceType
	decls, err := vec(r, "instance type declarator", instanceDecl)
	if err != nil {
		return nil, err
	}
	return &InstanceType{Decls: decls}, nil
}

// componentDecl reads a componentdecl: an import (0x03) or an instancedecl.
func componentDecl(r *reader) (Decl, error) {
	c, err := r.peek()
	if err != nil {
		return Decl{}, err
	}
	if c != 0x03 {
		return instanceDecl(r)
	}
	r.pos++
	name, attrs, err := externName(r)
	if err != nil {
		return Decl{}, err
	}
	desc, err := externDesc(r)
	if err != nil {
		return Decl{}, err
	}
	return Decl{Import: &ImportDecl{Name: name, Attrs: attrs, Desc: desc}}, nil
}

// instanceDecl reads an instancedecl: a core type (0x00), a type (0x01), an
// alias (0x02) or an export (0x04).
func instanceDecl(r *reader) (Decl, error) {
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return Decl{}, err
	}
	var d Decl
	switch c {
	case 0x00:
		d.CoreType, err = decodeCoreTypeDef(r)
	case 0x01:
		d.Type, err = decodeTypeDef(r)
	case 0x02:
		d.Alias, err = decodeAlias(r)
	case 0x04:
		var e ExportDecl
		if e.Name, e.Attrs, err = externName(r); err != nil {
			return d, err
		}
		e.Desc, err = externDesc(r)
		d.Export = &e
	default:
		err = r.errorf(off, "invalid type declarator 0x%02x", c)
	}
	return d, err
}

// defValType reads a defvaltype.
func defValType(r *reader) (*DefValType, error) {
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return nil, err
	}
	if k := primKind(c); k != value.KindInvalid {
		return &DefValType{Kind: k}, nil
	}
	t := &DefValType{}
	switch c {
	case opRecord:
		t.Kind = value.KindRecord
		t.Fields, err = vec(r, "record field", labelValType)
	case opVariant:
		t.Kind = value.KindVariant
		t.Cases, err = vec(r, "variant case", variantCase)
	case opList:
		t.Kind = value.KindList
		t.Elem, err = valType(r)
	case opFixedList:
		t.Kind = value.KindList
		if t.Elem, err = valType(r); err != nil {
			return nil, err
		}
		lenOff := r.pos
		if t.FixedLen, err = r.u32(); err == nil && t.FixedLen == 0 {
			// A zero length would read back as an ordinary list.
			err = r.errorf(lenOff, "fixed-size list of length 0")
		}
	case opTuple:
		t.Kind = value.KindTuple
		t.Types, err = vec(r, "tuple element", valType)
	case opFlags:
		t.Kind = value.KindFlags
		t.Labels, err = vec(r, "flag", (*reader).name)
	case opEnum:
		t.Kind = value.KindEnum
		t.Labels, err = vec(r, "enum case", (*reader).name)
	case opOption:
		t.Kind = value.KindOption
		t.Elem, err = valType(r)
	case opResult:
		t.Kind = value.KindResult
		if t.Ok, err = optValType(r); err != nil {
			return nil, err
		}
		t.Err, err = optValType(r)
	case opOwn:
		t.Kind = value.KindOwn
		t.Resource, err = r.index()
	case opBorrow:
		t.Kind = value.KindBorrow
		t.Resource, err = r.index()
	default:
		if what, ok := unsupportedTypes[c]; ok {
			return nil, r.errorf(off, "unsupported type %s", what)
		}
		return nil, r.errorf(off, "invalid type opcode 0x%02x", c)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// variantCase reads a case: label, optional payload, then 0x00. The trailing
// byte was once an optional refines index (0x01 i), kept for old binaries.
func variantCase(r *reader) (VariantCase, error) {
	var vc VariantCase
	var err error
	if vc.Label, err = r.name(); err != nil {
		return vc, err
	}
	if vc.Type, err = optValType(r); err != nil {
		return vc, err
	}
	vc.Refines, err = optional(r, "variant case refines", (*reader).u32)
	return vc, err
}
