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

func (s *scope) defineCanon(ctx context.Context, d *binary.Canon) error {
	switch d.Kind {
	case binary.CanonLift:
		ft, err := s.funcType(d.Type)
		if err != nil {
			return err
		}
		f := &compFunc{typ: ft}
		if !s.dry {
			if f.lift, err = s.lifted(d, ft); err != nil {
				return err
			}
		}
		s.funcs = append(s.funcs, f)
		return nil
	case binary.CanonLower:
		if int(d.Func) >= len(s.funcs) {
			return fmt.Errorf("func index %d out of range (%d defined)", d.Func, len(s.funcs))
		}
		f := s.funcs[d.Func]
		if s.dry {
			s.coreFuncs = append(s.coreFuncs, coreItem{})
			return nil
		}
		hc, err := s.lowered(d, f)
		if err != nil {
			return err
		}
		s.coreFuncs = append(s.coreFuncs, s.addHost(hc))
		return nil
	case binary.CanonResourceNew, binary.CanonResourceRep, binary.CanonResourceDrop:
		if int(d.Type) >= len(s.types) || s.types[d.Type].res == nil {
			return fmt.Errorf("type index %d is not a resource type", d.Type)
		}
		if s.dry {
			s.coreFuncs = append(s.coreFuncs, coreItem{})
			return nil
		}
		s.coreFuncs = append(s.coreFuncs, s.addHost(s.resourceBuiltin(d.Kind, s.types[d.Type].res)))
		return nil
	}
	return fmt.Errorf("canonical built-in %#x (async, threads or error-context) is not supported", d.Opcode)
}

func (s *scope) options(o binary.CanonOptions) (mem api.Memory, realloc, post api.Function, err error) {
	if o.Async || o.Callback != nil {
		return nil, nil, nil, errors.New("async lifting and lowering are not supported")
	}
	if o.GC || o.CoreType != nil {
		return nil, nil, nil, errors.New("the gc and core-type canonical options are not supported")
	}
	if o.Memory != nil {
		if mem, err = s.coreMemory(*o.Memory); err != nil {
			return
		}
	}
	if o.Realloc != nil {
		if realloc, err = s.coreFunc(*o.Realloc); err != nil {
			return
		}
	}
	if o.PostReturn != nil {
		post, err = s.coreFunc(*o.PostReturn)
	}
	return
}

func (s *scope) lifted(d *binary.Canon, ft *value.FuncType) (*liftedFunc, error) {
	core, err := s.coreFunc(d.Func)
	if err != nil {
		return nil, err
	}
	mem, realloc, post, err := s.options(d.Options)
	if err != nil {
		return nil, err
	}
	params, results := abi.FlatSignature(ft, false)
	if err := checkSignature(core, params, results); err != nil {
		return nil, fmt.Errorf("lifting core func %d as %s: %w", d.Func, ft, err)
	}
	af, err := abi.Compile(ft)
	if err != nil {
		return nil, err
	}
	l := &liftedFunc{
		name: core.Definition().DebugName(), inst: s.inst, core: core, abi: af,
		postReturn: post, nresults: len(results), stack: make([]uint64, 0, abi.MaxFlatParams),
	}
	l.gm = guestMemory{mem: mem, realloc: realloc}
	l.opts = abi.Options{Encoding: abi.StringEncoding(d.Options.StringEncoding), HasRealloc: realloc != nil,
		Handles: &s.inst.handles, Owns: s.inst.owns, Scope: new(abi.Scope)}
	if mem != nil {
		l.opts.Instance = &l.gm
	}
	return l, nil
}

func checkSignature(fn api.Function, params, results []byte) error {
	def := fn.Definition()
	if string(def.ParamTypes()) != string(params) || string(def.ResultTypes()) != string(results) {
		return fmt.Errorf("core signature is %s, the canonical ABI needs %s",
			coreSig(def.ParamTypes(), def.ResultTypes()), coreSig(params, results))
	}
	return nil
}

func coreSig(params, results []byte) string {
	name := func(ts []byte) string {
		s := "("
		for i, t := range ts {
			if i > 0 {
				s += " "
			}
			s += api.ValueTypeName(t)
		}
		return s + ")"
	}
	return name(params) + " -> " + name(results)
}

// guestMemory adapts a wazero instance to abi.Instance for one call.
type guestMemory struct {
	ctx     context.Context
	mem     api.Memory
	realloc api.Function
	stack   [4]uint64
}

func (g *guestMemory) Memory() []byte {
	b, _ := g.mem.Read(0, g.mem.Size())
	return b
}

func (g *guestMemory) Realloc(oldPtr, oldSize, align, newSize uint32) (uint32, error) {
	g.stack = [4]uint64{uint64(oldPtr), uint64(oldSize), uint64(align), uint64(newSize)}
	if err := g.realloc.CallWithStack(g.ctx, g.stack[:]); err != nil {
		return 0, fmt.Errorf("realloc: %w", err)
	}
	return uint32(g.stack[0]), nil
}

// TrapError reports that a guest trapped (or broke the canonical ABI's
// rules) during a call. The instance that trapped cannot be called again.
type TrapError struct {
	Func string
	Err  error
}

func (e *TrapError) Error() string { return fmt.Sprintf("component trapped in %s: %v", e.Func, e.Err) }
func (e *TrapError) Unwrap() error { return e.Err }

// ErrPoisoned is returned by calls into an instance that trapped before.
var ErrPoisoned = errors.New("component instance trapped earlier and cannot be called again")

// call calls a component function with Go values.
func (f *compFunc) call(ctx context.Context, name string, args []any) ([]any, error) {
	switch {
	case f.host != nil:
		return f.host.fn(ctx, args)
	case f.lift != nil:
		return f.lift.call(ctx, name, f.typ, args)
	}
	return nil, fmt.Errorf("function %s has no implementation", name)
}

func (l *liftedFunc) call(ctx context.Context, name string, ft *value.FuncType, args []any) (res []any, err error) {
	st := l.inst
	if st.poisoned != nil {
		return nil, fmt.Errorf("%s: %w (%v)", name, ErrPoisoned, st.poisoned)
	}
	if st.busy {
		return nil, fmt.Errorf("%s: re-entrant call into a component instance", name)
	}
	st.busy = true
	defer func() { st.busy = false }()
	// An instance runs one call at a time, so the function's ABI state is
	// reused call after call instead of allocated.
	l.gm.ctx = ctx
	defer func() { l.gm.ctx = nil }()
	o := &l.opts
	stack, err := l.abi.LowerArgs(o, args, l.stack[:0])
	if err != nil {
		return nil, l.trapIf(name, err)
	}
	if n := l.nresults; n > len(stack) {
		stack = append(stack, make([]uint64, n-len(stack))...)
	}
	l.stack = stack
	if err := l.core.CallWithStack(ctx, stack); err != nil {
		return nil, l.trap(name, err)
	}
	out := stack[:l.nresults]
	res, err = l.abi.LiftResults(o, out)
	if err != nil {
		return nil, l.trap(name, err)
	}
	if err := o.Scope.End(); err != nil {
		return nil, l.trap(name, err)
	}
	if l.postReturn != nil {
		if err := l.postReturn.CallWithStack(ctx, out); err != nil {
			return nil, l.trap(name, fmt.Errorf("post-return: %w", err))
		}
	}
	return res, nil
}

// trapIf poisons the instance for guest traps, not for bad host arguments.
func (l *liftedFunc) trapIf(name string, err error) error {
	var ve *abi.ValueError
	if errors.As(err, &ve) {
		return fmt.Errorf("%s: %w", name, err)
	}
	return l.trap(name, err)
}

func (l *liftedFunc) trap(name string, err error) error {
	te := &TrapError{Func: name, Err: err}
	l.inst.poisoned = te
	return te
}

// lowered makes the Go function that a guest calls for a canon lower of f.
func (s *scope) lowered(d *binary.Canon, f *compFunc) (*hostCore, error) {
	mem, realloc, _, err := s.options(d.Options)
	if err != nil {
		return nil, err
	}
	ft := f.typ
	params, results := abi.FlatSignature(ft, true)
	st := s.inst
	enc := abi.StringEncoding(d.Options.StringEncoding)
	name := fmt.Sprintf("lowered func %d", d.Func)
	if f.host != nil {
		name = f.host.name
	}
	af, err := abi.Compile(ft)
	if err != nil {
		return nil, err
	}
	np, nstack := len(params), max(len(params), len(results))
	// The guest instance is single-threaded and cannot re-enter its own
	// import, so one set of ABI state per lowered function is enough.
	gm := &guestMemory{mem: mem, realloc: realloc}
	o := &abi.Options{Encoding: enc, HasRealloc: realloc != nil, Handles: &st.handles, Owns: st.owns, Scope: new(abi.Scope)}
	if mem != nil {
		o.Instance = gm
	}
	fn := func(ctx context.Context, _ api.Module, stack []uint64) {
		gm.ctx = ctx
		args, err := af.LiftArgs(o, stack[:np])
		if err != nil {
			panic(fmt.Errorf("calling %s: %w", name, err))
		}
		res, err := f.call(ctx, name, args)
		if err != nil {
			panic(fmt.Errorf("%s: %w", name, err))
		}
		if err := af.LowerResults(o, res, stack[:nstack]); err != nil {
			panic(fmt.Errorf("%s returned: %w", name, err))
		}
		if err := o.Scope.End(); err != nil {
			panic(fmt.Errorf("%s: %w", name, err))
		}
	}
	return &hostCore{name: name, params: params, results: results, fn: fn}, nil
}

func (s *scope) resourceBuiltin(kind binary.CanonKind, rt *value.ResourceType) *hostCore {
	st, tr := s.inst, s.tree
	i32 := []api.ValueType{api.ValueTypeI32}
	switch kind {
	case binary.CanonResourceNew:
		return &hostCore{name: "resource.new", params: i32, results: i32, fn: func(ctx context.Context, _ api.Module, stack []uint64) {
			h, err := st.handles.New(rt, uint32(stack[0]))
			if err != nil {
				panic(err)
			}
			stack[0] = uint64(h)
		}}
	case binary.CanonResourceRep:
		return &hostCore{name: "resource.rep", params: i32, results: i32, fn: func(ctx context.Context, _ api.Module, stack []uint64) {
			rep, err := st.handles.Rep(rt, uint32(stack[0]))
			if err != nil {
				panic(err)
			}
			stack[0] = uint64(rep)
		}}
	}
	return &hostCore{name: "resource.drop", params: i32, fn: func(ctx context.Context, _ api.Module, stack []uint64) {
		e, err := st.handles.Drop(rt, uint32(stack[0]))
		if err != nil {
			panic(err)
		}
		if e.Own {
			if err := tr.dropRep(ctx, rt, e.Rep); err != nil {
				panic(err)
			}
		}
	}}
}

// dropRep runs the destructor of a resource, if it has one.
func (t *tree) dropRep(ctx context.Context, rt *value.ResourceType, rep uint32) error {
	if d, ok := t.dtors[rt]; ok {
		return d(ctx, rep)
	}
	if d, ok := t.imports.resources[rt]; ok && d != nil {
		d(ctx, rep)
	}
	return nil
}

func guestDtor(fn api.Function) func(ctx context.Context, rep uint32) error {
	return func(ctx context.Context, rep uint32) error {
		_, err := fn.Call(ctx, uint64(rep))
		return err
	}
}
