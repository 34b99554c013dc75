// Package binary decodes the component-model binary format (Binary.md of
// WebAssembly/component-model) into a syntax tree that keeps every definition
// in its original order, so later stages can rebuild the index spaces.
//
// It validates encoding only (lengths, opcodes, LEB128, UTF-8 names), not
// types or index bounds: that is the instantiator's job. Malformed input
// yields an *Error naming the section and byte offset; decoding never panics.
// It must not import wazero or any runtime part of wasmhost.
package binary

import "github.com/wbox-dev/wbox/wasmhost/value"

// Component is a decoded component. Definitions appear in binary order; each
// definition that creates an index-space entry appends to the index space of
// its Sort, exactly as the spec describes.
type Component struct {
	// Offset is the byte offset of the component's preamble in the outermost
	// binary (non-zero for nested components).
	Offset int
	Defs   []Def
	// Customs holds custom sections (name, producers...) in order.
	Customs []Custom
}

// Def is one definition: one of *CoreModule, *CoreInstance, *CoreTypeDef,
// *Component, *Instance, *Alias, *TypeDef, *Canon, *Start, *Import, *Export.
type Def interface{ DefOffset() int }

// Custom is a custom section.
type Custom struct {
	Offset int
	Name   string
	Data   []byte
}

// Sort is an index-space sort. Core sorts and component sorts share one
// enumeration so an alias or export can carry either.
type Sort uint8

const (
	SortCoreFunc Sort = iota
	SortCoreTable
	SortCoreMemory
	SortCoreGlobal
	SortCoreType
	SortCoreModule
	SortCoreInstance
	SortFunc
	SortValue
	SortType
	SortComponent
	SortInstance
	// SortCoreTag is a core exception tag. It comes last so that the values
	// above stay stable; use IsCore rather than comparing.
	SortCoreTag
)

var sortNames = [...]string{"core func", "core table", "core memory", "core global", "core type",
	"core module", "core instance", "func", "value", "type", "component", "instance", "core tag"}

func (s Sort) String() string {
	if int(s) < len(sortNames) {
		return sortNames[s]
	}
	return "sort?"
}

// IsCore reports whether s is a core sort.
func (s Sort) IsCore() bool { return s <= SortCoreInstance || s == SortCoreTag }

// SortIdx names an entry of an index space.
type SortIdx struct {
	Sort  Sort
	Index uint32
}

// CoreModule is an embedded core wasm module (section 1); Bytes is the whole
// module binary, preamble included, ready for a core runtime to compile.
type CoreModule struct {
	Offset int
	Bytes  []byte
}

// CoreInstance is a core instance definition (section 2): either an
// instantiation of a core module with named argument instances, or a bundle
// of inline exports (when Module is nil).
type CoreInstance struct {
	Offset int
	// Module is the core module index to instantiate, or nil for inline exports.
	Module  *uint32
	Args    []CoreInstantiateArg // with Module
	Exports []CoreInlineExport   // without Module
}

// CoreInstantiateArg is (with Name (instance Instance)).
type CoreInstantiateArg struct {
	Name     string
	Instance uint32
}

// CoreInlineExport exports an existing core definition under Name.
type CoreInlineExport struct {
	Name string
	Item SortIdx // a core sort
}

// CoreTypeDef is a core type definition (section 3 or inside a module,
// component or instance type declarator): a function type or a module type.
type CoreTypeDef struct {
	Offset int
	Func   *CoreFuncType   // set for a function type
	Module *CoreModuleType // set for a module type
}

// CoreValType is a core value type byte: 0x7f i32, 0x7e i64, 0x7d f32,
// 0x7c f64, 0x7b v128, 0x70 funcref, 0x6f externref.
type CoreValType byte

// CoreFuncType is a core function type.
type CoreFuncType struct {
	Params, Results []CoreValType
}

// CoreModuleType describes a core module's imports and exports.
type CoreModuleType struct {
	Decls []CoreModuleDecl
}

// CoreModuleDecl is one declarator of a core module type: exactly one of its
// pointer fields is set.
type CoreModuleDecl struct {
	Import *CoreImportDecl
	Type   *CoreTypeDef
	Alias  *Alias // only outer aliases of core types
	Export *CoreExportDecl
}

// CoreImportDecl is a core import declaration (module, name, description).
type CoreImportDecl struct {
	Module, Name string
	Desc         CoreExternDesc
}

// CoreExportDecl is a core export declaration.
type CoreExportDecl struct {
	Name string
	Desc CoreExternDesc
}

// CoreExternDesc is a core import description. Kind is 0 func (Type is the
// type index), 1 table, 2 memory, 3 global, 4 tag (Type is the tag's function
// type index); Raw holds the undecoded bytes of table, memory, global and tag
// descriptions (hosts do not need them).
type CoreExternDesc struct {
	Kind byte
	Type uint32
	Raw  []byte
}

// Instance is a component instance definition (section 5): an instantiation
// of a component with named arguments, or a bundle of inline exports (when
// Component is nil).
type Instance struct {
	Offset    int
	Component *uint32
	Args      []InstantiateArg
	Exports   []InlineExport
}

// InstantiateArg is (with Name Item).
type InstantiateArg struct {
	Name string
	Item SortIdx
}

// InlineExport exports an existing definition under Name.
type InlineExport struct {
	Name  string
	Attrs NameAttrs
	Item  SortIdx
}

// NameAttrs are the attributes an import or export name may carry (the
// nameattributes 0x02 form of Binary.md). The zero value means none.
type NameAttrs struct {
	// Implements is the interface a plain-named instance import or export
	// implements, as in (import "primary" (implements "wasi:keyvalue/store")).
	// A host should resolve such an import by this interface.
	Implements string
	// VersionSuffix completes a canonicalized interface version
	// ("wasi:http/types@0.2" + ".1"); only diagnostics use it.
	VersionSuffix string
	// ExternalID is an opaque identifier for tooling.
	ExternalID string
}

// AliasKind says where an alias points.
type AliasKind uint8

const (
	AliasInstanceExport     AliasKind = iota // export Instance Name
	AliasCoreInstanceExport                  // core export Instance Name
	AliasOuter                               // outer Count Index
)

// Alias is an alias definition (section 6, or inside type declarators).
// It appends to the index space of Sort.
type Alias struct {
	Offset   int
	Sort     Sort
	Kind     AliasKind
	Instance uint32 // export aliases
	Name     string // export aliases
	Count    uint32 // outer aliases: how many enclosing components up
	Index    uint32 // outer aliases
}

// TypeDef is a component type definition (section 7, or a declarator).
// Exactly one of its pointer fields is set.
type TypeDef struct {
	Offset    int
	Val       *DefValType
	Func      *FuncType
	Component *ComponentType
	Instance  *InstanceType
	Resource  *ResourceType
}

// ValType is a use of a value type: a primitive (Prim != KindInvalid) or a
// reference to a type index.
type ValType struct {
	Prim  value.Kind
	Index uint32
}

// DefValType is a defined value type. Kind selects the fields in use, as in
// value.Type: Fields (record), Cases (variant), Elem (list, option), Types
// (tuple), Labels (enum, flags), Ok/Err (result, nil when absent), Resource
// (own, borrow: a type index). Primitive kinds use no field.
type DefValType struct {
	Kind     value.Kind
	Fields   []LabelValType
	Cases    []VariantCase
	Elem     ValType
	Types    []ValType
	Labels   []string
	Ok, Err  *ValType
	Resource uint32
	// FixedLen is set for fixed-size lists (list<T, N>).
	FixedLen uint32
}

// LabelValType is a named value type (record field, parameter, result).
type LabelValType struct {
	Label string
	Type  ValType
}

// VariantCase is a variant case with an optional payload and the legacy
// optional refines index.
type VariantCase struct {
	Label   string
	Type    *ValType
	Refines *uint32
}

// FuncType is a component function type. A function has either a single
// unnamed Result, or NamedResults (a legacy form still decoded), or neither.
type FuncType struct {
	Params       []LabelValType
	Result       *ValType
	NamedResults []LabelValType
	Async        bool
}

// ComponentType is a component type: its declarators in order.
type ComponentType struct {
	Decls []Decl
}

// InstanceType is an instance type: its declarators in order.
type InstanceType struct {
	Decls []Decl
}

// Decl is one declarator of a component or instance type; exactly one field
// is set. Imports appear only in component types.
type Decl struct {
	CoreType *CoreTypeDef
	Type     *TypeDef
	Alias    *Alias
	Import   *ImportDecl
	Export   *ExportDecl
}

// ImportDecl declares an import in a component type.
type ImportDecl struct {
	Name  string
	Attrs NameAttrs
	Desc  ExternDesc
}

// ExportDecl declares an export in a component or instance type.
type ExportDecl struct {
	Name  string
	Attrs NameAttrs
	Desc  ExternDesc
}

// ExternKind is the kind of an extern description.
type ExternKind uint8

const (
	ExternCoreModule ExternKind = iota // Index: core type index
	ExternFunc                         // Index: type index
	ExternValue                        // Value bound
	ExternType                         // Eq or sub resource
	ExternComponent                    // Index: type index
	ExternInstance                     // Index: type index
)

// ExternDesc describes an import or export.
type ExternDesc struct {
	Kind  ExternKind
	Index uint32
	// For ExternType: SubResource is true for (sub resource), otherwise the
	// type is (eq Index).
	SubResource bool
	// For ExternValue: either (eq Index) when ValueEq, or a value type.
	ValueEq  bool
	ValueTyp ValType
}

// ResourceType is (resource (rep i32) (dtor Dtor)?). Async and Callback come
// from the 0x3e form (dtor async Dtor (callback Callback)?), which the spec
// has since dropped but older encoders emitted.
type ResourceType struct {
	Rep      CoreValType
	Dtor     *uint32 // core func index
	Async    bool
	Callback *uint32
}

// CanonKind is the kind of a canon definition.
type CanonKind uint8

const (
	CanonLift CanonKind = iota
	CanonLower
	CanonResourceNew
	CanonResourceDrop
	CanonResourceRep
	// CanonOther is any other canon built-in (async, threads, error-context);
	// Opcode keeps its opcode so the instantiator can name it in an error.
	CanonOther
)

// Canon is a canonical definition (section 8). Lift defines a component
// func; every other kind defines a core func.
//
// The legacy opcode 0x07 (resource.drop async, since removed from the spec)
// decodes as CanonResourceDrop with Opcode 0x07 and Options.Async set. For
// CanonOther, operands that fit are kept best-effort: a stream or future type
// index in Type, canonopts in Options, an async or cancellable flag in
// Options.Async.
type Canon struct {
	Offset int
	Kind   CanonKind
	Opcode byte
	// Func is the core func index (lift) or component func index (lower).
	Func uint32
	// Type is the component function type index (lift) or the resource type
	// index (resource.*).
	Type    uint32
	Options CanonOptions
}

// StringEncoding is a canonical string encoding.
type StringEncoding uint8

const (
	UTF8 StringEncoding = iota
	UTF16
	Latin1UTF16
)

func (e StringEncoding) String() string {
	return [...]string{"utf8", "utf16", "latin1+utf16"}[e]
}

// CanonOptions are canon lift/lower options; nil pointers are absent.
type CanonOptions struct {
	StringEncoding StringEncoding
	Memory         *uint32 // core memory index
	Realloc        *uint32 // core func index
	PostReturn     *uint32 // core func index
	Async          bool
	Callback       *uint32
	// CoreType is the (core-type t) option: the core function type index a
	// lowered function must have. Hosts without it should reject it.
	CoreType *uint32
	// GC is the gc option: the GC variant of the canonical ABI.
	GC bool
}

// Start is a start definition (section 9), a value-level feature.
type Start struct {
	Offset  int
	Func    uint32
	Args    []uint32
	Results uint32
}

// Import is a component import (section 10).
type Import struct {
	Offset int
	Name   string
	Attrs  NameAttrs
	Desc   ExternDesc
}

// Export is a component export (section 11). Desc is the optional type
// ascription.
type Export struct {
	Offset int
	Name   string
	Attrs  NameAttrs
	Item   SortIdx
	Desc   *ExternDesc
}

func (d *CoreModule) DefOffset() int   { return d.Offset }
func (d *CoreInstance) DefOffset() int { return d.Offset }
func (d *CoreTypeDef) DefOffset() int  { return d.Offset }
func (d *Component) DefOffset() int    { return d.Offset }
func (d *Instance) DefOffset() int     { return d.Offset }
func (d *Alias) DefOffset() int        { return d.Offset }
func (d *TypeDef) DefOffset() int      { return d.Offset }
func (d *Canon) DefOffset() int        { return d.Offset }
func (d *Start) DefOffset() int        { return d.Offset }
func (d *Import) DefOffset() int       { return d.Offset }
func (d *Export) DefOffset() int       { return d.Offset }
