package kernel

import (
	"context"
	"fmt"
	"strings"

	"github.com/wbox-dev/wbox/internal/semver"
	"github.com/wbox-dev/wbox/wasmhost"
)

// routing is the kernel's routing table: which task serves each name, and
// where each arrow of each box leads. It is immutable; Apply builds a new
// one and swaps it in atomically, so a rewire is one pointer store and
// every call sees either the old topology or the new one.
type routing struct {
	tasks  map[string]task
	arrows map[string]map[string]*route // box -> import -> route
}

// route is one arrow as calls follow it.
type route struct {
	Arrow
	box    *boxTask    // a component target
	driver *driverTask // a native target
	// names maps each function of the import to the target's export name
	// ("iface#func"), precomputed to spare the hot path a concatenation.
	names map[string]string
	stats *arrowStats // metrics.go
}

func (r *routing) route(box, imp string) *route { return r.arrows[box][imp] }

// addArrows resolves the arrows of a box against the tasks of the table.
func (r *routing) addArrows(b *boxTask, spec BoxSpec) error {
	m := make(map[string]*route, len(spec.Arrows))
	var world *wasmhost.World
	if b.comp != nil {
		world = b.comp.World()
	}
	for _, a := range spec.Arrows {
		if _, dup := m[a.Import]; dup {
			return fmt.Errorf("box %q: two arrows bind import %s", b.name, a.Import)
		}
		rt := &route{Arrow: a, names: map[string]string{}, stats: b.k.obs.arrow(b.name, a.Import, a.Target)}
		switch t := r.tasks[a.Target].(type) {
		case *boxTask:
			if t == b {
				return fmt.Errorf("box %q: arrow %s -> %s.%s: a box cannot call itself through an arrow (it would re-enter)", b.name, a.Import, a.Target, a.Export)
			}
			rt.box = t
			if t.comp != nil && exportInstance(t.comp.World(), a.Export) == nil {
				return fmt.Errorf("box %q: arrow %s -> %s.%s: box %q exports no %s", b.name, a.Import, a.Target, a.Export, a.Target, a.Export)
			}
		case *driverTask:
			rt.driver = t
		default:
			return fmt.Errorf("box %q: arrow %s -> %s.%s: no box or driver %q", b.name, a.Import, a.Target, a.Export, a.Target)
		}
		if world != nil {
			imp := world.Import(a.Import)
			if imp == nil || imp.Kind != wasmhost.ExternInstance {
				return fmt.Errorf("box %q: arrow from %s, which the component does not import", b.name, a.Import)
			}
			for _, e := range imp.Instance.Exports {
				if e.Kind == wasmhost.ExternFunc {
					rt.names[e.Name] = a.Export + "#" + e.Name
				}
			}
		}
		m[a.Import] = rt
	}
	r.arrows[b.name] = m
	return nil
}

// exportInstance finds an exported interface by name, semver-compatibly.
func exportInstance(w *wasmhost.World, name string) *wasmhost.InstanceType {
	if e := w.Export(name); e != nil {
		return e.Instance
	}
	for _, e := range w.Exports {
		if e.Kind == wasmhost.ExternInstance && semver.NamesCompatible(e.Name, name) {
			return e.Instance
		}
	}
	return nil
}

// chain is the call chain a context carries: the boxes (and drivers) whose
// calls are on the stack, innermost first. It is itself the context that
// carries it (one allocation per hop instead of two).
type chain struct {
	context.Context
	name   string
	parent *chain
}

type chainKey struct{}

func (c *chain) Value(key any) any {
	if key == (chainKey{}) {
		return c
	}
	return c.Context.Value(key)
}

func withCaller(ctx context.Context, name string) context.Context {
	parent, _ := ctx.Value(chainKey{}).(*chain)
	return &chain{Context: ctx, name: name, parent: parent}
}

func callChain(ctx context.Context) *chain {
	c, _ := ctx.Value(chainKey{}).(*chain)
	return c
}

func (c *chain) has(name string) bool {
	for ; c != nil; c = c.parent {
		if c.name == name {
			return true
		}
	}
	return false
}

// String renders the chain outermost first, e.g. "a → b".
func (c *chain) String() string {
	var names []string
	for ; c != nil; c = c.parent {
		names = append(names, c.name)
	}
	for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
	}
	return strings.Join(names, " → ")
}

// reentrant checks that a call into name does not re-enter the chain.
func reentrant(ctx context.Context, name, fn string) error {
	c := callChain(ctx)
	if !c.has(name) {
		return nil
	}
	return &TaskError{Task: name, Func: fn, Kind: ErrReentrant,
		detail: fmt.Sprintf("%s → %s: %q is already in this call chain, and a component instance cannot be re-entered", c, name, name)}
}

// arrowError is the error a forwarding host function returns when the call
// through an arrow fails. It traps the calling instance (a host function
// has no other way to fail), and the kernel recognizes it in the trap to
// blame the callee, not the caller.
type arrowError struct {
	from, imp, fn, target string
	err                   error
}

func (e *arrowError) Error() string {
	return fmt.Sprintf("arrow %s.%s -> %s: %v", e.from, e.imp, e.target, e.err)
}

func (e *arrowError) Unwrap() error { return e.err }

// forward defines in hi a host function per function of the imported
// interface it that calls through the arrow bound to imp: the route is
// looked up at every call in the kernel's current routing table, so a
// rewire takes effect without touching the instance. Arguments and results
// cross as Go values.
//
// TODO(fused): between two component boxes on one node, lift from the
// caller's memory and lower straight into the callee's (fused adapters),
// without building Go values.
func (b *boxTask) forward(hi *wasmhost.HostInstance, imp string, it *wasmhost.InstanceType) error {
	for _, e := range it.Exports {
		switch e.Kind {
		case wasmhost.ExternFunc:
			hi.Func(e.Name, b.forwarder(imp, e.Name))
		case wasmhost.ExternType:
			if e.Resource != nil {
				return fmt.Errorf("import %s: resource %s cannot cross an arrow between boxes yet", imp, e.Name)
			}
		}
	}
	return nil
}

func (b *boxTask) forwarder(imp, fn string) wasmhost.HostFunc {
	k, name := b.k, b.name
	return func(ctx context.Context, args []any) ([]any, error) {
		r := k.routes.Load().route(name, imp)
		if r == nil || r.box == nil {
			return nil, &arrowError{from: name, imp: imp, fn: fn, target: "?", err: &TaskError{Task: name, Func: imp + "#" + fn, Kind: ErrNoTask, detail: "the arrow is gone"}}
		}
		b.callsOut.Add(1)
		target := r.names[fn]
		if target == "" {
			target = r.Export + "#" + fn
		}
		start := k.obs.now() // metrics.go
		ctx, end := k.startCall(ctx, name, imp, r.Target, "", target)
		res, err := r.box.call(ctx, target, args)
		r.stats.end(start, err)
		if end != nil {
			end(err)
		}
		if err != nil {
			return nil, &arrowError{from: name, imp: imp, fn: fn, target: r.Target, err: err}
		}
		return res, nil
	}
}
