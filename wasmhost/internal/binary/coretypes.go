package binary

// This file decodes core type definitions (section 3 and core type
// declarators): core function types, module types, and just enough of the
// WebAssembly 3.0 (GC) type syntax to read a function type wrapped in it.

// Core type opcodes.
const (
	coreOpFunc     = 0x60
	coreOpStruct   = 0x5f
	coreOpArray    = 0x5e
	coreOpCont     = 0x5d
	coreOpSub      = 0x50 // non-final sub type; also a module type, see below
	coreOpSubFinal = 0x4f
	coreOpRec      = 0x4e
	coreOpShared   = 0x65
	coreOpExact    = 0x62
	coreOpRefNull  = 0x63
	coreOpRef      = 0x64

	coreOpModuleType = 0x50
)

// decodeCoreTypeDef reads a core:type as it appears in the core type section
// and in 0x00 declarators. There 0x50 means a module type, so a non-final
// GC sub type must be written 0x00 0x50 (Binary.md's fix for the ambiguity).
func decodeCoreTypeDef(r *reader) (*CoreTypeDef, error) {
	off := r.pos
	c, err := r.peek()
	if err != nil {
		return nil, err
	}
	td := &CoreTypeDef{Offset: off}
	switch c {
	case coreOpModuleType:
		r.pos++
		td.Module, err = moduleType(r)
	case 0x00:
		r.pos++
		td.Func, err = prefixedSubType(r)
	default:
		td.Func, err = recType(r)
	}
	if err != nil {
		return nil, err
	}
	return td, nil
}

// prefixedSubType reads the sub type after a 0x00 prefix, which must be a
// non-final sub (0x50).
func prefixedSubType(r *reader) (*CoreFuncType, error) {
	c, err := r.peek()
	if err != nil {
		return nil, err
	}
	if c != coreOpSub {
		return nil, r.errorf(r.pos, "invalid core type: 0x00 must be followed by a non-final sub type (0x50), got 0x%02x", c)
	}
	return subType(r)
}

// recType reads a core:rectype. wbox has no GC, so only what is equivalent
// to a plain function type is accepted: a recursion group of exactly one
// type, and sub types without supertypes.
func recType(r *reader) (*CoreFuncType, error) {
	off := r.pos
	c, err := r.peek()
	if err != nil {
		return nil, err
	}
	if c == coreOpRec {
		r.pos++
		n, err := r.count("recursion group type")
		if err != nil {
			return nil, err
		}
		if n != 1 {
			return nil, r.errorf(off, "unsupported core recursion group of %d types (GC proposal)", n)
		}
	}
	return subType(r)
}

func subType(r *reader) (*CoreFuncType, error) {
	off := r.pos
	c, err := r.peek()
	if err != nil {
		return nil, err
	}
	if c == coreOpSub || c == coreOpSubFinal {
		r.pos++
		supers, err := vec(r, "supertype", (*reader).index)
		if err != nil {
			return nil, err
		}
		if len(supers) > 0 {
			return nil, r.errorf(off, "unsupported core sub type with supertypes (GC proposal)")
		}
	}
	return compType(r)
}

func compType(r *reader) (*CoreFuncType, error) {
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return nil, err
	}
	switch c {
	case coreOpFunc:
		return coreFuncType(r)
	case coreOpStruct, coreOpArray, coreOpCont, coreOpShared:
		return nil, r.errorf(off, "unsupported core type opcode 0x%02x (GC or stack-switching proposal)", c)
	}
	return nil, r.errorf(off, "invalid core type opcode 0x%02x", c)
}

func coreFuncType(r *reader) (*CoreFuncType, error) {
	params, err := vec(r, "core parameter", coreValType)
	if err != nil {
		return nil, err
	}
	results, err := vec(r, "core result", coreValType)
	if err != nil {
		return nil, err
	}
	return &CoreFuncType{Params: params, Results: results}, nil
}

// coreValType reads a core value type that fits in one byte: a number or
// vector type, or a nullable reference to an abstract heap type (funcref,
// externref, and the shorthands of the GC and exception proposals).
// References to a concrete heap type (0x63/0x64 ht) carry a type index that
// CoreValType cannot hold; wbox does not support them.
func coreValType(r *reader) (CoreValType, error) {
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch {
	case c >= 0x7b && c <= 0x7f: // i32 i64 f32 f64 v128
		return CoreValType(c), nil
	case c >= 0x69 && c <= 0x74: // abstract reference shorthands, funcref, externref
		return CoreValType(c), nil
	case c == coreOpRef || c == coreOpRefNull:
		return 0, r.errorf(off, "unsupported core reference type (ref ...) (function references or GC proposal)")
	}
	return 0, r.errorf(off, "invalid core value type 0x%02x", c)
}

func moduleType(r *reader) (*CoreModuleType, error) {
	decls, err := vec(r, "module type declarator", moduleDecl)
	if err != nil {
		return nil, err
	}
	return &CoreModuleType{Decls: decls}, nil
}

// moduleDecl reads a core:moduledecl.
func moduleDecl(r *reader) (CoreModuleDecl, error) {
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return CoreModuleDecl{}, err
	}
	var d CoreModuleDecl
	switch c {
	case 0x00:
		var imp CoreImportDecl
		if imp.Module, err = r.name(); err != nil {
			return d, err
		}
		if imp.Name, err = r.name(); err != nil {
			return d, err
		}
		imp.Desc, err = coreExternDesc(r)
		d.Import = &imp
	case 0x01:
		d.Type, err = moduleDeclType(r)
	case 0x02:
		d.Alias, err = coreOuterAlias(r)
	case 0x03:
		var e CoreExportDecl
		if e.Name, err = r.name(); err != nil {
			return d, err
		}
		e.Desc, err = coreExternDesc(r)
		d.Export = &e
	default:
		err = r.errorf(off, "invalid module type declarator 0x%02x", c)
	}
	return d, err
}

// moduleDeclType reads the type of a 0x01 module declarator. Module types
// cannot nest, so wasmparser reads a plain rectype here, where 0x50 is a
// non-final sub type; the 0x00 0x50 form of the top level is accepted too.
func moduleDeclType(r *reader) (*CoreTypeDef, error) {
	off := r.pos
	c, err := r.peek()
	if err != nil {
		return nil, err
	}
	var f *CoreFuncType
	if c == 0x00 {
		r.pos++
		f, err = prefixedSubType(r)
	} else {
		f, err = recType(r)
	}
	if err != nil {
		return nil, err
	}
	return &CoreTypeDef{Offset: off, Func: f}, nil
}

// coreOuterAlias reads core:alias, which today is only 0x10 0x01 ct idx: an
// outer alias of a core type.
func coreOuterAlias(r *reader) (*Alias, error) {
	off := r.pos
	s, err := r.byte()
	if err != nil {
		return nil, err
	}
	if s != coreSortType {
		return nil, r.errorf(off, "invalid core alias sort 0x%02x (only core types, 0x10, can be aliased)", s)
	}
	kindOff := r.pos
	k, err := r.byte()
	if err != nil {
		return nil, err
	}
	if k != 0x01 {
		return nil, r.errorf(kindOff, "invalid core alias kind 0x%02x (only outer, 0x01)", k)
	}
	a := &Alias{Offset: off, Sort: SortCoreType, Kind: AliasOuter}
	if a.Count, err = r.u32(); err != nil {
		return nil, err
	}
	a.Index, err = r.index()
	return a, err
}

// Core extern kinds (core:externtype).
const (
	coreExternFunc      = 0x00
	coreExternTable     = 0x01
	coreExternMemory    = 0x02
	coreExternGlobal    = 0x03
	coreExternTag       = 0x04
	coreExternFuncExact = 0x20 // custom-descriptors proposal
)

// coreExternDesc reads a core:externtype. Only function types are decoded;
// the rest is skipped structurally and kept raw.
func coreExternDesc(r *reader) (CoreExternDesc, error) {
	off := r.pos
	kind, err := r.byte()
	if err != nil {
		return CoreExternDesc{}, err
	}
	d := CoreExternDesc{Kind: kind}
	start := r.pos
	switch kind {
	case coreExternFunc:
		d.Type, err = r.index()
		return d, err
	case coreExternTable:
		if err = skipRefType(r); err == nil {
			err = skipLimits(r, 0b111)
		}
	case coreExternMemory:
		err = skipLimits(r, 0b1111)
	case coreExternGlobal:
		err = skipGlobalType(r)
	case coreExternTag:
		err = skipTagType(r, &d)
	case coreExternFuncExact:
		return d, r.errorf(off, "unsupported exact function import (custom-descriptors proposal)")
	default:
		return d, r.errorf(off, "invalid core extern type 0x%02x", kind)
	}
	if err != nil {
		return d, err
	}
	d.Raw = r.b[start:r.pos:r.pos]
	return d, nil
}

// skipRefType skips a core reftype: a one-byte shorthand, or 0x63/0x64 and a
// heap type.
func skipRefType(r *reader) error {
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return err
	}
	switch {
	case c == coreOpRef || c == coreOpRefNull:
		return skipHeapType(r)
	case c == coreOpShared:
		// shared abstract heap type shorthand
		_, err = r.byte()
		return err
	case c >= 0x69 && c <= 0x74:
		return nil
	}
	return r.errorf(off, "invalid core reference type 0x%02x", c)
}

// skipHeapType skips a heap type: optional shared/exact prefix, then an s33
// that is an abstract type (negative) or a type index.
func skipHeapType(r *reader) error {
	c, err := r.peek()
	if err != nil {
		return err
	}
	if c == coreOpShared {
		r.pos++
	}
	if c == coreOpExact {
		r.pos++
		_, err = r.index()
		return err
	}
	_, err = r.s33()
	return err
}

// skipLimits skips table or memory limits: a flags byte (bit 0 max present,
// bit 1 shared, bit 2 64-bit, bit 3 custom page size), min, max?, and the
// page size log2 when flagged.
func skipLimits(r *reader, allowed byte) error {
	off := r.pos
	flags, err := r.byte()
	if err != nil {
		return err
	}
	if flags&^allowed != 0 {
		return r.errorf(off, "invalid limits flags 0x%02x", flags)
	}
	read := (*reader).u32
	if flags&0b100 != 0 {
		read = func(r *reader) (uint32, error) { _, err := r.u64(); return 0, err }
	}
	if _, err := read(r); err != nil {
		return err
	}
	if flags&0b1 != 0 {
		if _, err := read(r); err != nil {
			return err
		}
	}
	if flags&0b1000 != 0 {
		if _, err := r.u32(); err != nil {
			return err
		}
	}
	return nil
}

func skipGlobalType(r *reader) error {
	c, err := r.peek()
	if err != nil {
		return err
	}
	if c >= 0x7b && c <= 0x7f {
		r.pos++
	} else if err := skipRefType(r); err != nil {
		return err
	}
	off := r.pos
	flags, err := r.byte()
	if err != nil {
		return err
	}
	if flags > 0b11 {
		return r.errorf(off, "invalid global flags 0x%02x", flags)
	}
	return nil
}

// skipTagType reads a tag type: an attribute byte (0, exception) and the
// index of its function type.
func skipTagType(r *reader, d *CoreExternDesc) error {
	off := r.pos
	attr, err := r.byte()
	if err != nil {
		return err
	}
	if attr != 0 {
		return r.errorf(off, "invalid tag attribute 0x%02x", attr)
	}
	d.Type, err = r.index()
	return err
}
