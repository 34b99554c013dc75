package wasmhost

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wbox-dev/wbox/internal/semver"
	"github.com/wbox-dev/wbox/wasmhost/internal/binary"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// typecheck walks the component without running code to work out its world.
func (c *Component) typecheck(ctx context.Context) (*World, error) {
	t := &tree{c: c, imports: NewImports(), dtors: map[*value.ResourceType]func(context.Context, uint32) error{}, guest: map[*value.ResourceType]bool{}}
	s := &scope{tree: t, dry: true, inst: &instanceState{owned: map[*value.ResourceType]bool{}}}
	out, err := s.run(ctx, c.ast, nil)
	if err != nil {
		return nil, err
	}
	w := &World{}
	for _, im := range s.imported {
		if e, ok := im.item.extern(im.name); ok {
			w.Imports = append(w.Imports, e)
		}
	}
	for _, n := range out.order {
		if e, ok := out.exports[n].extern(n); ok {
			w.Exports = append(w.Exports, e)
		}
	}
	return w, nil
}

func (s *scope) typeAt(i uint32) *typeEntry {
	if int(i) < len(s.types) {
		return s.types[i]
	}
	return nil
}

// Instance is an instantiated component. It is not safe for concurrent
// calls: a component instance is single-threaded, so callers queue.
type Instance struct {
	c      *Component
	tree   *tree
	state  *instanceState
	out    *compInstance
	closed bool
	held   map[heldKey]bool // handles to guest resources the host owns
}

// Instantiate instantiates the component with host imports. Every import
// must be satisfied; errors name the missing interface or function.
func (c *Component) Instantiate(ctx context.Context, imports *Imports) (*Instance, error) {
	if imports == nil {
		imports = NewImports()
	}
	t := &tree{c: c, imports: imports, dtors: map[*value.ResourceType]func(context.Context, uint32) error{}, guest: map[*value.ResourceType]bool{}}
	st := &instanceState{owned: map[*value.ResourceType]bool{}}
	s := &scope{tree: t, inst: st}
	out, err := s.run(t.enter(ctx), c.ast, nil)
	if err != nil {
		t.close(ctx)
		return nil, fmt.Errorf("instantiate: %w", err)
	}
	return &Instance{c: c, tree: t, state: st, out: out, held: map[heldKey]bool{}}, nil
}

func (t *tree) close(ctx context.Context) error {
	for _, m := range t.mods {
		t.c.rt.trees.Delete(m)
	}
	t.mods = nil
	var err error
	for i := len(t.closers) - 1; i >= 0; i-- {
		err = errors.Join(err, t.closers[i](ctx))
	}
	t.closers = nil
	return err
}

// Close frees the instance's memory and modules.
func (i *Instance) Close(ctx context.Context) error {
	if i.closed {
		return nil
	}
	i.closed = true
	return i.tree.close(ctx)
}

// Func is an exported component function bound to its instance.
type Func struct {
	name    string
	f       *compFunc
	inst    *Instance
	handles bool // the signature carries resource handles
}

// Func returns the exported function name: "iface#func" for a function of
// an exported interface (as in "docs:adder/add@0.1.0#add"), or a plain name
// for a function the world exports directly.
func (i *Instance) Func(name string) (*Func, error) {
	iface, fn, nested := strings.Cut(name, "#")
	ci := i.out
	if nested {
		x, ok := lookupExport(ci, iface)
		if !ok || x.sort != binary.SortInstance {
			return nil, fmt.Errorf("the component exports no interface %q (exports: %s)", iface, strings.Join(ci.order, ", "))
		}
		ci = x.inst
	} else {
		fn = iface
	}
	x, ok := ci.exports[fn]
	if !ok || x.sort != binary.SortFunc {
		return nil, fmt.Errorf("no exported function %q (exports: %s)", name, strings.Join(ci.order, ", "))
	}
	return &Func{name: name, f: x.fn, inst: i, handles: funcHasHandles(x.fn.typ)}, nil
}

// lookupExport finds an export by exact name, or by semver-compatible
// interface version.
func lookupExport(ci *compInstance, name string) (exportItem, bool) {
	if x, ok := ci.exports[name]; ok {
		return x, true
	}
	base, v, ok := semver.Split(name)
	if !ok {
		return exportItem{}, false
	}
	for _, n := range ci.order {
		if b, w, ok := semver.Split(n); ok && b == base && w.Compatible(v) {
			return ci.exports[n], true
		}
	}
	return exportItem{}, false
}

// Name returns the name the function was looked up by.
func (f *Func) Name() string { return f.name }

// Type returns the function's component type.
func (f *Func) Type() *value.FuncType { return f.f.typ }

// Call calls the function. Arguments and results use the Go representation
// of package value. A guest trap returns a *TrapError and leaves the
// instance unusable; a cancelled context stops a running guest.
func (f *Func) Call(ctx context.Context, args ...any) ([]any, error) {
	if f.inst.closed {
		return nil, fmt.Errorf("%s: instance is closed", f.name)
	}
	if len(args) != len(f.f.typ.Params) {
		return nil, fmt.Errorf("%s: %d arguments for %s", f.name, len(args), f.f.typ)
	}
	// Lowering into a guest checks every value as it goes (a bad one is the
	// host's error, not a trap); only Go-implemented functions need it here.
	if f.f.lift == nil {
		for i, p := range f.f.typ.Params {
			if err := value.Check(p.Type, args[i]); err != nil {
				return nil, fmt.Errorf("%s: argument %q: %w", f.name, p.Name, err)
			}
		}
	}
	if !f.handles {
		return f.f.call(ctx, f.name, args)
	}
	if err := f.inst.checkArgs(f.f.typ, args); err != nil {
		return nil, fmt.Errorf("%s: %w", f.name, err)
	}
	res, err := f.f.call(ctx, f.name, args)
	if err == nil {
		f.inst.holdResults(f.f.typ, res)
	}
	return res, err
}

// Drop drops an own handle the host holds for a resource the component
// implements, running its destructor.
func (i *Instance) Drop(ctx context.Context, h value.Handle) error {
	if i.tree.guest[h.Type] {
		if i.state.poisoned != nil {
			return fmt.Errorf("drop %s: %w", h, ErrPoisoned)
		}
		// The destructor is guest code: it must not re-enter a busy instance.
		if i.state.busy {
			return fmt.Errorf("drop %s: re-entrant call into a component instance", h)
		}
	}
	k := heldKey{h.Type, h.Rep}
	if !i.held[k] {
		return fmt.Errorf("drop %s: %w", h, errNotHeld)
	}
	delete(i.held, k)
	return i.tree.dropRep(i.tree.enter(ctx), h.Type, h.Rep)
}

// Poisoned returns the trap that made the instance unusable, or nil.
func (i *Instance) Poisoned() error { return i.state.poisoned }
