package wasmhost

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/wbox-dev/wbox/wasmhost/internal/binary"
)

func (s *scope) defineCoreInstance(ctx context.Context, d *binary.CoreInstance) error {
	if d.Module == nil {
		ci := &coreInstance{exports: map[string]coreExport{}}
		for _, e := range d.Exports {
			item, err := s.coreIndex(e.Item)
			if err != nil {
				return fmt.Errorf("inline export %q: %w", e.Name, err)
			}
			if _, dup := ci.exports[e.Name]; !dup {
				ci.order = append(ci.order, e.Name)
			}
			ci.exports[e.Name] = coreExport{sort: e.Item.Sort, item: item}
		}
		s.coreInstances = append(s.coreInstances, ci)
		return nil
	}
	if int(*d.Module) >= len(s.coreModules) {
		return fmt.Errorf("core module index %d out of range (%d defined)", *d.Module, len(s.coreModules))
	}
	if s.dry {
		s.coreInstances = append(s.coreInstances, &coreInstance{})
		return nil
	}
	cm := s.tree.c.modules[s.coreModules[*d.Module]]
	if cm == nil {
		return fmt.Errorf("core module %d was not compiled", *d.Module)
	}
	args := map[string]api.Module{}
	for _, a := range d.Args {
		if int(a.Instance) >= len(s.coreInstances) {
			return fmt.Errorf("argument %q: core instance index %d out of range", a.Name, a.Instance)
		}
		m, err := s.link(ctx, s.coreInstances[a.Instance])
		if err != nil {
			return fmt.Errorf("argument %q: %w", a.Name, err)
		}
		name := a.Name
		if name == "" {
			name = emptyModule
		}
		args[name] = m
	}
	for _, imp := range importModules(cm) {
		if _, ok := args[imp]; !ok {
			return fmt.Errorf("core module %d imports from %q, which is not among its arguments", *d.Module, strings.TrimPrefix(imp, emptyModule))
		}
	}
	mod, err := s.instantiateCore(ctx, cm, args)
	if err != nil {
		return fmt.Errorf("instantiate core module %d: %w", *d.Module, err)
	}
	s.coreInstances = append(s.coreInstances, &coreInstance{mod: mod})
	return nil
}

func importModules(cm wazero.CompiledModule) []string {
	seen := map[string]bool{}
	var out []string
	add := func(m string) {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	for _, f := range cm.ImportedFunctions() {
		m, _, _ := f.Import()
		add(m)
	}
	for _, mem := range cm.ImportedMemories() {
		m, _, _ := mem.Import()
		add(m)
	}
	return out
}

// instantiateCore instantiates a compiled module whose imports resolve by
// module name to args. Modules stay anonymous so that any number of
// instances coexist in one wazero runtime.
func (s *scope) instantiateCore(ctx context.Context, cm wazero.CompiledModule, args map[string]api.Module) (api.Module, error) {
	rctx := experimental.WithImportResolver(ctx, func(name string) api.Module { return args[name] })
	mod, err := s.tree.c.rt.rt.InstantiateModule(rctx, cm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return nil, err
	}
	s.tree.own(mod)
	return mod, nil
}

// link returns a core instance as a wazero module, building one for a bundle
// of inline exports on first use.
func (s *scope) link(ctx context.Context, ci *coreInstance) (api.Module, error) {
	if ci.mod != nil {
		return ci.mod, nil
	}
	if ci.linked != nil {
		return ci.linked, nil
	}
	names := append([]string(nil), ci.order...)
	sort.Strings(names)
	// Go functions live in one host module; everything else is imported
	// from the module instance that defines it.
	var hostFns []*hostCore
	var hostNames []string
	mods := map[api.Module]string{}
	args := map[string]api.Module{}
	var items []reexportItem
	for _, n := range names {
		e := ci.exports[n]
		it := reexportItem{export: n, field: e.item.name}
		if e.item.host != nil {
			it.module = "h"
			it.field = "f" + strconv.Itoa(len(hostFns))
			it.params, it.results = e.item.host.params, e.item.host.results
			hostFns = append(hostFns, e.item.host)
			hostNames = append(hostNames, it.field)
			items = append(items, it)
			continue
		}
		m := e.item.mod
		if _, ok := mods[m]; !ok {
			mods[m] = "m" + strconv.Itoa(len(mods))
			args[mods[m]] = m
		}
		it.module = mods[m]
		switch e.sort {
		case binary.SortCoreFunc:
			fn := m.ExportedFunction(e.item.name)
			if fn == nil {
				return nil, fmt.Errorf("core func %q is not exported", e.item.name)
			}
			it.params, it.results = fn.Definition().ParamTypes(), fn.Definition().ResultTypes()
		case binary.SortCoreTable:
			it.kind = 1
		case binary.SortCoreMemory:
			it.kind = 2
			mem := m.ExportedMemory(e.item.name)
			if mem == nil {
				return nil, fmt.Errorf("core memory %q is not exported", e.item.name)
			}
			it.memMin = mem.Definition().Min()
			if max, ok := mem.Definition().Max(); ok {
				it.memMax = &max
			}
		case binary.SortCoreGlobal:
			it.kind = 3
			g := m.ExportedGlobal(e.item.name)
			if g == nil {
				return nil, fmt.Errorf("core global %q is not exported", e.item.name)
			}
			it.global = g.Type()
			_, it.mutable = g.(api.MutableGlobal)
		default:
			return nil, fmt.Errorf("%s %q cannot be exported by a core instance", e.sort, n)
		}
		items = append(items, it)
	}
	if len(hostFns) > 0 {
		hm, err := s.hostModule(ctx, hostFns, hostNames)
		if err != nil {
			return nil, err
		}
		args["h"] = hm
	}
	cm, err := s.tree.c.rt.shape(ctx, encodeReexport(items))
	if err != nil {
		return nil, fmt.Errorf("link inline exports: %w", err)
	}
	mod, err := s.instantiateCore(ctx, cm, args)
	if err != nil {
		return nil, fmt.Errorf("link inline exports: %w", err)
	}
	ci.linked = mod
	return mod, nil
}

// hostModule instantiates canonical functions (lowerings, resource
// built-ins) as an anonymous wazero host module. Compiling a host module is
// far costlier than instantiating it, so the compiled module is shared by
// every instance of the component: its functions dispatch through the
// instance's tree, found in the call's context, to this instance's Go
// closures. The walk creates those closures in the same order for every
// instance, so their indices are stable.
func (s *scope) hostModule(ctx context.Context, fns []*hostCore, names []string) (api.Module, error) {
	var key strings.Builder
	for i, f := range fns {
		fmt.Fprintf(&key, "%s=%d:%x:%x;", names[i], f.idx, f.params, f.results)
	}
	c := s.tree.c
	c.mu.Lock()
	cm, ok := c.hostMods[key.String()]
	if !ok {
		// Host modules need a name to compile; the instance stays anonymous.
		b := c.rt.rt.NewHostModuleBuilder("wbox-canon")
		for i, f := range fns {
			b.NewFunctionBuilder().WithGoModuleFunction(dispatch{c.rt, f.idx}, f.params, f.results).WithName(f.name).Export(names[i])
		}
		var err error
		if cm, err = b.Compile(ctx); err != nil {
			c.mu.Unlock()
			return nil, err
		}
		c.hostMods[key.String()] = cm
	}
	c.mu.Unlock()
	mod, err := c.rt.rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		return nil, err
	}
	s.tree.own(mod)
	return mod, nil
}

// own records a module instance of the tree: closed with it, and known to
// dispatch as one of its callers.
func (t *tree) own(mod api.Module) {
	t.closers = append(t.closers, mod.Close)
	t.mods = append(t.mods, mod)
	t.c.rt.trees.Store(mod, t)
}

// treeKey is the context key of the instance tree whose guest code runs:
// every entry into guest code (calls, instantiation, destructors) sets it.
type treeKey struct{}

func (t *tree) enter(ctx context.Context) context.Context {
	return context.WithValue(ctx, treeKey{}, t)
}

// dispatch is a shared host function: it runs closure number d of the
// calling instance's tree.
type dispatch struct {
	rt  *Runtime
	idx int
}

func (d dispatch) Call(ctx context.Context, mod api.Module, stack []uint64) {
	// wazero passes the calling module, which belongs to exactly one tree;
	// the context is the fallback (and costs an allocation per call to set).
	t, _ := d.rt.trees.Load(mod)
	tr, _ := t.(*tree)
	if tr == nil {
		tr, _ = ctx.Value(treeKey{}).(*tree)
	}
	if tr == nil || d.idx >= len(tr.hostFns) {
		panic(errors.New("wasmhost: guest code ran outside its instance's context"))
	}
	tr.hostFns[d.idx].fn(ctx, mod, stack)
}

// addHost registers a canonical function of this instance.
func (s *scope) addHost(hc *hostCore) coreItem {
	hc.idx = len(s.tree.hostFns)
	s.tree.hostFns = append(s.tree.hostFns, hc)
	return coreItem{host: hc}
}

// coreIndex returns the core item a core sort index names.
func (s *scope) coreIndex(si binary.SortIdx) (coreItem, error) {
	var space []coreItem
	switch si.Sort {
	case binary.SortCoreFunc:
		space = s.coreFuncs
	case binary.SortCoreTable:
		space = s.coreTables
	case binary.SortCoreMemory:
		space = s.coreMems
	case binary.SortCoreGlobal:
		space = s.coreGlobals
	default:
		return coreItem{}, fmt.Errorf("a %s cannot be exported inline", si.Sort)
	}
	if int(si.Index) >= len(space) {
		return coreItem{}, fmt.Errorf("%s index %d out of range (%d defined)", si.Sort, si.Index, len(space))
	}
	return space[si.Index], nil
}

func (s *scope) pushCore(sort binary.Sort, it coreItem) {
	switch sort {
	case binary.SortCoreFunc:
		s.coreFuncs = append(s.coreFuncs, it)
	case binary.SortCoreTable:
		s.coreTables = append(s.coreTables, it)
	case binary.SortCoreMemory:
		s.coreMems = append(s.coreMems, it)
	case binary.SortCoreGlobal:
		s.coreGlobals = append(s.coreGlobals, it)
	}
}

func (s *scope) aliasCoreExport(d *binary.Alias) error {
	if int(d.Instance) >= len(s.coreInstances) {
		return fmt.Errorf("core instance index %d out of range (%d defined)", d.Instance, len(s.coreInstances))
	}
	ci := s.coreInstances[d.Instance]
	switch d.Sort {
	case binary.SortCoreFunc, binary.SortCoreTable, binary.SortCoreMemory, binary.SortCoreGlobal:
	default:
		return fmt.Errorf("alias of a core %s export is not supported", d.Sort)
	}
	if s.dry {
		s.pushCore(d.Sort, coreItem{name: d.Name})
		return nil
	}
	if ci.mod == nil {
		e, ok := ci.exports[d.Name]
		if !ok {
			return fmt.Errorf("core instance %d has no export %q", d.Instance, d.Name)
		}
		if e.sort != d.Sort {
			return fmt.Errorf("export %q of core instance %d is a %s, not a %s", d.Name, d.Instance, e.sort, d.Sort)
		}
		s.pushCore(d.Sort, e.item)
		return nil
	}
	ok := true
	switch d.Sort {
	case binary.SortCoreFunc:
		ok = ci.mod.ExportedFunction(d.Name) != nil
	case binary.SortCoreMemory:
		ok = ci.mod.ExportedMemory(d.Name) != nil
	case binary.SortCoreGlobal:
		ok = ci.mod.ExportedGlobal(d.Name) != nil
	}
	if !ok {
		return fmt.Errorf("core instance %d exports no %s %q", d.Instance, d.Sort, d.Name)
	}
	s.pushCore(d.Sort, coreItem{mod: ci.mod, name: d.Name})
	return nil
}

// coreFunc returns a callable core function, instantiating a Go-defined one
// on its own when a canonical definition calls it directly.
func (s *scope) coreFunc(idx uint32) (api.Function, error) {
	if int(idx) >= len(s.coreFuncs) {
		return nil, fmt.Errorf("core func index %d out of range (%d defined)", idx, len(s.coreFuncs))
	}
	it := s.coreFuncs[idx]
	if it.host != nil {
		m, err := s.hostModule(s.tree.enter(context.Background()), []*hostCore{it.host}, []string{"f"})
		if err != nil {
			return nil, err
		}
		return m.ExportedFunction("f"), nil
	}
	return it.mod.ExportedFunction(it.name), nil
}

func (s *scope) coreMemory(idx uint32) (api.Memory, error) {
	if int(idx) >= len(s.coreMems) {
		return nil, fmt.Errorf("core memory index %d out of range (%d defined)", idx, len(s.coreMems))
	}
	it := s.coreMems[idx]
	if it.mod == nil {
		return nil, fmt.Errorf("core memory index %d is not a memory", idx)
	}
	return it.mod.ExportedMemory(it.name), nil
}
