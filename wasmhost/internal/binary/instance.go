package binary

// This file decodes instances, aliases, imports and exports, and the small
// productions they share: sorts, names and extern descriptions.

// Core sort bytes (core:sort). They match the core:externtype opcodes.
const (
	coreSortFunc     = 0x00
	coreSortTable    = 0x01
	coreSortMemory   = 0x02
	coreSortGlobal   = 0x03
	coreSortTag      = 0x04
	coreSortType     = 0x10
	coreSortModule   = 0x11
	coreSortInstance = 0x12
)

// readCoreSort reads a core:sort.
func readCoreSort(r *reader) (Sort, error) {
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch c {
	case coreSortFunc:
		return SortCoreFunc, nil
	case coreSortTable:
		return SortCoreTable, nil
	case coreSortMemory:
		return SortCoreMemory, nil
	case coreSortGlobal:
		return SortCoreGlobal, nil
	case coreSortTag:
		return SortCoreTag, nil
	case coreSortType:
		return SortCoreType, nil
	case coreSortModule:
		return SortCoreModule, nil
	case coreSortInstance:
		return SortCoreInstance, nil
	}
	return 0, r.errorf(off, "invalid core sort 0x%02x", c)
}

// readSort reads a component sort, where 0x00 prefixes a core sort.
func readSort(r *reader) (Sort, error) {
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch c {
	case 0x00:
		return readCoreSort(r)
	case 0x01:
		return SortFunc, nil
	case 0x02:
		return SortValue, nil
	case 0x03:
		return SortType, nil
	case 0x04:
		return SortComponent, nil
	case 0x05:
		return SortInstance, nil
	}
	return 0, r.errorf(off, "invalid sort 0x%02x", c)
}

func sortIdx(r *reader) (SortIdx, error) {
	s, err := readSort(r)
	if err != nil {
		return SortIdx{}, err
	}
	i, err := r.index()
	return SortIdx{Sort: s, Index: i}, err
}

func coreSortIdx(r *reader) (SortIdx, error) {
	s, err := readCoreSort(r)
	if err != nil {
		return SortIdx{}, err
	}
	i, err := r.index()
	return SortIdx{Sort: s, Index: i}, err
}

// externName reads an import or export name (nameattributes). 0x00 is the
// plain form. 0x01 is a synonym, as in Binary.md and wasmparser: encoders
// before 2024 used it to flag interface names (wit-component 0.220 still
// did). From July 2025 to May 2026 Binary.md had 0x01 carry a version
// suffix, but wasm-tools never wrote that form, and the suffix is now an
// attribute of the 0x02 form, which adds a vector of attributes.
func externName(r *reader) (string, NameAttrs, error) {
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return "", NameAttrs{}, err
	}
	if c > 0x02 {
		return "", NameAttrs{}, r.errorf(off, "invalid name prefix 0x%02x (want 0x00, 0x01 or 0x02)", c)
	}
	name, err := r.name()
	if err != nil || c != 0x02 {
		return name, NameAttrs{}, err
	}
	attrs, err := nameAttrs(r)
	return name, attrs, err
}

// nameAttrs reads vec(attribute). Each attribute is a tag byte and a
// length-prefixed string; each kind may appear once.
func nameAttrs(r *reader) (NameAttrs, error) {
	var a NameAttrs
	n, err := r.count("name attribute")
	if err != nil {
		return a, err
	}
	for range n {
		off := r.pos
		tag, err := r.byte()
		if err != nil {
			return a, err
		}
		var dst *string
		var what string
		switch tag {
		case 0x00:
			dst, what = &a.Implements, "implements"
		case 0x01:
			dst, what = &a.VersionSuffix, "versionsuffix"
		case 0x02:
			dst, what = &a.ExternalID, "external-id"
		default:
			return a, r.errorf(off, "invalid name attribute 0x%02x", tag)
		}
		v, err := r.name()
		if err != nil {
			return a, err
		}
		if *dst != "" {
			return a, r.errorf(off, "duplicate %s attribute", what)
		}
		*dst = v
	}
	return a, nil
}

// decodeCoreInstance reads core:instance: an instantiation with
// (with name (instance i)) arguments, or a bundle of inline exports.
func decodeCoreInstance(r *reader) (*CoreInstance, error) {
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return nil, err
	}
	inst := &CoreInstance{Offset: off}
	switch c {
	case 0x00:
		m, err := r.index()
		if err != nil {
			return nil, err
		}
		inst.Module = &m
		inst.Args, err = vec(r, "core instantiate argument", coreInstantiateArg)
		if err != nil {
			return nil, err
		}
	case 0x01:
		inst.Exports, err = vec(r, "core inline export", coreInlineExport)
		if err != nil {
			return nil, err
		}
	default:
		return nil, r.errorf(off, "invalid core instance opcode 0x%02x", c)
	}
	return inst, nil
}

func coreInstantiateArg(r *reader) (CoreInstantiateArg, error) {
	name, err := r.name()
	if err != nil {
		return CoreInstantiateArg{}, err
	}
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return CoreInstantiateArg{}, err
	}
	if c != coreSortInstance {
		return CoreInstantiateArg{}, r.errorf(off, "core instantiate argument %q has sort 0x%02x (only instances, 0x12, can be passed)", name, c)
	}
	i, err := r.index()
	return CoreInstantiateArg{Name: name, Instance: i}, err
}

func coreInlineExport(r *reader) (CoreInlineExport, error) {
	name, err := r.name()
	if err != nil {
		return CoreInlineExport{}, err
	}
	item, err := coreSortIdx(r)
	return CoreInlineExport{Name: name, Item: item}, err
}

// decodeInstance reads a component instance definition.
func decodeInstance(r *reader) (*Instance, error) {
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return nil, err
	}
	inst := &Instance{Offset: off}
	switch c {
	case 0x00:
		comp, err := r.index()
		if err != nil {
			return nil, err
		}
		inst.Component = &comp
		inst.Args, err = vec(r, "instantiate argument", instantiateArg)
		if err != nil {
			return nil, err
		}
	case 0x01:
		inst.Exports, err = vec(r, "inline export", inlineExport)
		if err != nil {
			return nil, err
		}
	default:
		return nil, r.errorf(off, "invalid instance opcode 0x%02x", c)
	}
	return inst, nil
}

func instantiateArg(r *reader) (InstantiateArg, error) {
	name, err := r.name()
	if err != nil {
		return InstantiateArg{}, err
	}
	item, err := sortIdx(r)
	return InstantiateArg{Name: name, Item: item}, err
}

func inlineExport(r *reader) (InlineExport, error) {
	name, attrs, err := externName(r)
	if err != nil {
		return InlineExport{}, err
	}
	item, err := sortIdx(r)
	return InlineExport{Name: name, Attrs: attrs, Item: item}, err
}

// decodeAlias reads an alias: a sort, then 0x00 (export of an instance),
// 0x01 (export of a core instance; the sort must be core) or 0x02 (outer).
func decodeAlias(r *reader) (*Alias, error) {
	off := r.pos
	s, err := readSort(r)
	if err != nil {
		return nil, err
	}
	a := &Alias{Offset: off, Sort: s}
	kindOff := r.pos
	kind, err := r.byte()
	if err != nil {
		return nil, err
	}
	switch kind {
	case 0x00, 0x01:
		a.Kind = AliasInstanceExport
		if kind == 0x01 {
			if !s.IsCore() {
				return nil, r.errorf(kindOff, "core export alias of non-core sort %s", s)
			}
			a.Kind = AliasCoreInstanceExport
		}
		if a.Instance, err = r.index(); err != nil {
			return nil, err
		}
		if a.Name, err = r.name(); err != nil {
			return nil, err
		}
	case 0x02:
		a.Kind = AliasOuter
		if a.Count, err = r.u32(); err != nil {
			return nil, err
		}
		if a.Index, err = r.index(); err != nil {
			return nil, err
		}
	default:
		return nil, r.errorf(kindOff, "invalid alias kind 0x%02x", kind)
	}
	return a, nil
}

func decodeImport(r *reader) (*Import, error) {
	off := r.pos
	name, attrs, err := externName(r)
	if err != nil {
		return nil, err
	}
	desc, err := externDesc(r)
	if err != nil {
		return nil, err
	}
	return &Import{Offset: off, Name: name, Attrs: attrs, Desc: desc}, nil
}

func decodeExport(r *reader) (*Export, error) {
	off := r.pos
	name, attrs, err := externName(r)
	if err != nil {
		return nil, err
	}
	item, err := sortIdx(r)
	if err != nil {
		return nil, err
	}
	desc, err := optional(r, "export type ascription", externDesc)
	if err != nil {
		return nil, err
	}
	return &Export{Offset: off, Name: name, Attrs: attrs, Item: item, Desc: desc}, nil
}

// externDesc reads an externtype.
func externDesc(r *reader) (ExternDesc, error) {
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return ExternDesc{}, err
	}
	var d ExternDesc
	switch c {
	case 0x00:
		d.Kind = ExternCoreModule
		sortOff := r.pos
		s, err := r.byte()
		if err != nil {
			return d, err
		}
		if s != coreSortModule {
			return d, r.errorf(sortOff, "invalid core extern type 0x%02x (only core modules, 0x11, can be imported or exported)", s)
		}
		d.Index, err = r.index()
		return d, err
	case 0x01:
		d.Kind = ExternFunc
		d.Index, err = r.index()
		return d, err
	case 0x04:
		d.Kind = ExternComponent
		d.Index, err = r.index()
		return d, err
	case 0x05:
		d.Kind = ExternInstance
		d.Index, err = r.index()
		return d, err
	case 0x02:
		d.Kind = ExternValue
		return valueBound(r, d)
	case 0x03:
		d.Kind = ExternType
		return typeBound(r, d)
	}
	return d, r.errorf(off, "invalid extern type 0x%02x", c)
}

// valueBound reads (eq i) or a value type, as in Binary.md since 2024.
// wasm-tools still writes a bare valtype after the 0x02 value extern kind;
// values are a gated (🪙) feature no toolchain emits by default, so Decode
// follows the spec.
func valueBound(r *reader, d ExternDesc) (ExternDesc, error) {
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return d, err
	}
	switch c {
	case 0x00:
		d.ValueEq = true
		d.Index, err = r.index()
	case 0x01:
		d.ValueTyp, err = valType(r)
	default:
		err = r.errorf(off, "invalid value bound 0x%02x", c)
	}
	return d, err
}

// typeBound reads (eq i) or (sub resource).
func typeBound(r *reader, d ExternDesc) (ExternDesc, error) {
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return d, err
	}
	switch c {
	case 0x00:
		d.Index, err = r.index()
	case 0x01:
		d.SubResource = true
	default:
		err = r.errorf(off, "invalid type bound 0x%02x", c)
	}
	return d, err
}
