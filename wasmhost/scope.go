package wasmhost

import (
	"context"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero/api"
	"github.com/wbox-dev/wbox/wasmhost/internal/abi"
	"github.com/wbox-dev/wbox/wasmhost/internal/binary"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// A scope holds the index spaces of one component instance while the
// instantiator walks its definitions in order (Explainer.md "Index Spaces").
// The same walk runs "dry" at load time, with no core code, to work out the
// component's world; and for real in Instantiate.
type scope struct {
	parent *scope // the enclosing scope, for outer aliases
	tree   *tree
	inst   *instanceState // nil in type declarator scopes
	dry    bool

	coreFuncs     []coreItem
	coreTables    []coreItem
	coreMems      []coreItem
	coreGlobals   []coreItem
	coreTypes     []*binary.CoreTypeDef
	coreModules   []*binary.CoreModule
	coreInstances []*coreInstance
	funcs         []*compFunc
	types         []*typeEntry
	components    []*compTemplate
	instances     []*compInstance

	imported []namedItem // the top level's imports, in order, for World
}

type namedItem struct {
	name string
	item exportItem
}

// tree is the state shared by a top-level instance and every instance
// nested in it.
type tree struct {
	c       *Component
	imports *Imports
	dtors   map[*value.ResourceType]func(ctx context.Context, rep uint32) error
	closers []func(context.Context) error
	guest   map[*value.ResourceType]bool // resources defined by components in the tree
	hostFns []*hostCore                  // canonical functions, by dispatch index
	mods    []api.Module
	nextMod int
}

// instanceState is the runtime state of one component instance: the
// resources it implements and its handle table (CanonicalABI.md "Table
// State").
type instanceState struct {
	handles  abi.HandleTable
	owned    map[*value.ResourceType]bool
	busy     bool
	poisoned error
}

func (st *instanceState) owns(r *value.ResourceType) bool { return st.owned[r] }

// coreItem is an entry of a core index space: an export of a real module
// instance, or a function the canonical ABI defines in Go.
type coreItem struct {
	mod  api.Module
	name string
	host *hostCore
}

type hostCore struct {
	idx             int // in tree.hostFns
	name            string
	params, results []api.ValueType
	fn              api.GoModuleFunc
}

// coreInstance is a real module instance, or a bundle of inline exports.
type coreInstance struct {
	mod     api.Module
	exports map[string]coreExport
	order   []string
	linked  api.Module // the bundle as a module, built on first use
}

type coreExport struct {
	sort binary.Sort
	item coreItem
}

// compFunc is a component function: a host function, or a core function
// lifted with canonical options.
type compFunc struct {
	typ  *value.FuncType
	host *hostFunc
	lift *liftedFunc
}

type liftedFunc struct {
	name       string
	inst       *instanceState
	core       api.Function
	postReturn api.Function
	abi        *abi.Func
	nresults   int

	// Per-call state, reused: an instance runs one call at a time.
	opts  abi.Options
	gm    guestMemory
	stack []uint64
}

// typeEntry is an entry of the type index space.
type typeEntry struct {
	val  *value.Type
	fn   *value.FuncType
	res  *value.ResourceType
	inst *binary.InstanceType
	comp *binary.ComponentType
	def  *scope // where inst or comp was defined, for their outer aliases
}

func (t *typeEntry) describe() string {
	switch {
	case t.val != nil:
		return "value type " + t.val.String()
	case t.fn != nil:
		return "func type"
	case t.res != nil:
		return "resource " + t.res.Name
	case t.inst != nil:
		return "instance type"
	case t.comp != nil:
		return "component type"
	}
	return "type"
}

type compTemplate struct {
	ast    *binary.Component
	parent *scope
}

// compInstance is a component instance as seen from outside: its exports.
type compInstance struct {
	exports map[string]exportItem
	order   []string
}

type exportItem struct {
	sort binary.Sort
	fn   *compFunc
	typ  *typeEntry
	inst *compInstance
	comp *compTemplate
	mod  *binary.CoreModule
}

func newCompInstance() *compInstance { return &compInstance{exports: map[string]exportItem{}} }

func (ci *compInstance) add(name string, it exportItem) {
	if _, ok := ci.exports[name]; !ok {
		ci.order = append(ci.order, name)
	}
	ci.exports[name] = it
}

// instanceType describes the exports of ci for World.
func (ci *compInstance) instanceType() *InstanceType {
	it := &InstanceType{}
	for _, n := range ci.order {
		if e, ok := ci.exports[n].extern(n); ok {
			it.Exports = append(it.Exports, e)
		}
	}
	return it
}

func (x exportItem) extern(name string) (Extern, bool) {
	switch x.sort {
	case binary.SortFunc:
		return Extern{Name: name, Kind: ExternFunc, Func: x.fn.typ}, true
	case binary.SortInstance:
		return Extern{Name: name, Kind: ExternInstance, Instance: x.inst.instanceType()}, true
	case binary.SortType:
		if x.typ.res != nil {
			return Extern{Name: name, Kind: ExternType, Resource: x.typ.res}, true
		}
		if x.typ.val != nil {
			return Extern{Name: name, Kind: ExternType, Type: x.typ.val}, true
		}
	case binary.SortComponent:
		return Extern{Name: name, Kind: ExternComponent}, true
	case binary.SortCoreModule:
		return Extern{Name: name, Kind: ExternModule}, true
	}
	return Extern{}, false
}

// defError wraps err with the offset of the definition it is about.
func defError(d binary.Def, what string, err error) error {
	return fmt.Errorf("%s at offset %#x: %w", what, d.DefOffset(), err)
}

var errDry = errors.New("not available in a dry run")
