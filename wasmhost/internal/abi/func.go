package abi

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// Func is a component function type compiled for the Canonical ABI: the
// layouts of its parameters and results and its flattening, computed once.
// A Func is immutable and safe for concurrent use.
type Func struct {
	typ     *value.FuncType
	params  []*layout
	results []*layout
	// paramTuple and resultTuple lay out the parameters and results as
	// tuples, for when they are passed in memory.
	paramTuple, resultTuple *layout
	// nflatParams and nflatResults count the flat values before spilling.
	nflatParams, nflatResults int
	err                       error
}

// Compile compiles ft. It fails when a parameter or result type cannot be
// lifted or lowered (see the package documentation).
func Compile(ft *value.FuncType) (*Func, error) {
	f := compileFunc(ft)
	return f, f.err
}

func compileFunc(ft *value.FuncType) *Func {
	b := builder{memo: map[*value.Type]*layout{}}
	f := &Func{typ: ft}
	var pts, rts []*value.Type
	for i, p := range ft.Params {
		l := b.build(p.Type)
		if l.err != nil && f.err == nil {
			f.err = fmt.Errorf("param %d (%s): %w", i, p.Name, l.err)
		}
		f.params = append(f.params, l)
		f.nflatParams += l.nflat
		pts = append(pts, p.Type)
	}
	for i, r := range ft.Results {
		l := b.build(r.Type)
		if l.err != nil && f.err == nil {
			f.err = fmt.Errorf("result %d: %w", i, l.err)
		}
		f.results = append(f.results, l)
		f.nflatResults += l.nflat
		rts = append(rts, r.Type)
	}
	f.paramTuple = b.tuple(pts)
	f.resultTuple = b.tuple(rts)
	return f
}

// Type returns the function type f was compiled from.
func (f *Func) Type() *value.FuncType { return f.typ }

// spillParams and spillResults say the parameters or results go through
// memory.
func (f *Func) spillParams() bool  { return f.nflatParams > MaxFlatParams }
func (f *Func) spillResults() bool { return f.nflatResults > MaxFlatResults }

// FlatSignature returns the core function signature of f (the spec's
// flatten_functype for a synchronous function): for a lifted function
// (lower false, a guest export the host calls) and for a lowered one
// (lower true, the core import a guest calls).
func (f *Func) FlatSignature(lower bool) (params, results []byte) {
	if f.spillParams() {
		params = []byte{I32}
	} else {
		params = slices.Clone(f.paramTuple.flat)
	}
	switch {
	case !f.spillResults():
		results = slices.Clone(f.resultTuple.flat)
	case lower:
		params = append(params, I32)
	default:
		results = []byte{I32}
	}
	return params, results
}

// FlatSignature returns the core signature of a function of type ft that
// is lifted (lower false) or lowered (lower true). Parameters beyond
// MaxFlatParams flat values become one i32 pointer; results beyond
// MaxFlatResults become a returned i32 pointer for a lifted function and an
// extra i32 parameter, the return pointer, for a lowered one.
func FlatSignature(ft *value.FuncType, lower bool) (params, results []byte) {
	return funcOf(ft).FlatSignature(lower)
}

// Package-level function cache, bounded like the type cache.
var funcs struct {
	m sync.Map // *value.FuncType -> *Func
	n atomic.Int32
}

func funcOf(ft *value.FuncType) *Func {
	if f, ok := funcs.m.Load(ft); ok {
		return f.(*Func)
	}
	f := compileFunc(ft)
	if funcs.n.Add(1) > maxCached {
		funcs.m.Clear()
		funcs.n.Store(1)
	}
	funcs.m.Store(ft, f)
	return f
}

// LowerArgs lowers args for a call to a guest export of type ft. See
// Func.LowerArgs.
func LowerArgs(o *Options, ft *value.FuncType, args []any, flat []uint64) ([]uint64, error) {
	return funcOf(ft).LowerArgs(o, args, flat)
}

// LiftResults lifts the results of a call to a guest export of type ft.
// See Func.LiftResults.
func LiftResults(o *Options, ft *value.FuncType, flat []uint64) ([]any, error) {
	return funcOf(ft).LiftResults(o, flat)
}

// LiftArgs lifts the arguments of a guest's call to a host import of type
// ft. See Func.LiftArgs.
func LiftArgs(o *Options, ft *value.FuncType, flat []uint64) ([]any, error) {
	return funcOf(ft).LiftArgs(o, flat)
}

// LowerResults lowers the results of a host import of type ft back to the
// calling guest. See Func.LowerResults.
func LowerResults(o *Options, ft *value.FuncType, results []any, flat []uint64) error {
	return funcOf(ft).LowerResults(o, results, flat)
}

func paramErr(err error, f *Func, i int) error {
	return errWrap(err, "param %d (%s)", i, f.typ.Params[i].Name)
}

func resultErr(err error, f *Func, i int) error {
	if n := f.typ.Results[i].Name; n != "" {
		return errWrap(err, "result %d (%s)", i, n)
	}
	return errWrap(err, "result %d", i)
}

// LowerArgs lowers args, one per parameter, into the flat arguments of a
// call to the guest's core function, reusing flat's storage. When the
// parameters flatten to more than MaxFlatParams values they are stored in
// memory allocated with the guest's realloc and the only flat argument is
// its pointer. Borrow handles lowered here are counted in o.Scope.
func (f *Func) LowerArgs(o *Options, args []any, flat []uint64) ([]uint64, error) {
	if f.err != nil {
		return flat[:0], f.err
	}
	if len(args) != len(f.params) {
		return flat[:0], fmt.Errorf("abi: %d arguments for %d parameters", len(args), len(f.params))
	}
	c := cx{o: o}
	flat = flat[:0]
	if f.spillParams() {
		t := f.paramTuple
		p, err := c.realloc(0, 0, t.align, t.size)
		if err != nil {
			return flat, errWrap(err, "params")
		}
		for i, l := range f.params {
			if err := c.store(l, args[i], p+t.offs[i]); err != nil {
				return flat, paramErr(err, f, i)
			}
		}
		return append(flat, uint64(p)), nil
	}
	var err error
	for i, l := range f.params {
		if flat, err = c.lowerFlat(l, args[i], flat); err != nil {
			return flat, paramErr(err, f, i)
		}
	}
	return flat, nil
}

// LiftResults lifts the results of the guest's core function, returned in
// flat. When the results flatten to more than MaxFlatResults values, flat[0]
// is a pointer to them in memory.
func (f *Func) LiftResults(o *Options, flat []uint64) ([]any, error) {
	if f.err != nil {
		return nil, f.err
	}
	if len(f.results) == 0 {
		return nil, nil
	}
	c := cx{o: o}
	if f.spillResults() {
		if len(flat) < 1 {
			return nil, fmt.Errorf("abi: no flat result for the results pointer")
		}
		return c.liftSpilled(f.resultTuple, uint32(flat[0]), "results", f, resultErr)
	}
	if len(flat) < f.nflatResults {
		return nil, fmt.Errorf("abi: %d flat results, want %d", len(flat), f.nflatResults)
	}
	return c.liftFlatAll(f.results, f.resultTuple.mem, flat, f, resultErr)
}

// LiftArgs lifts the arguments of a guest's call to a host import from
// the flat arguments of the core call. When the parameters flatten to more
// than MaxFlatParams values, flat[0] is a pointer to them in memory.
// Borrow handles lifted here are lent until o.Scope ends.
func (f *Func) LiftArgs(o *Options, flat []uint64) ([]any, error) {
	if f.err != nil {
		return nil, f.err
	}
	c := cx{o: o}
	if f.spillParams() {
		if len(flat) < 1 {
			return nil, fmt.Errorf("abi: no flat argument for the params pointer")
		}
		return c.liftSpilled(f.paramTuple, uint32(flat[0]), "params", f, paramErr)
	}
	if len(flat) < f.nflatParams {
		return nil, fmt.Errorf("abi: %d flat arguments, want %d", len(flat), f.nflatParams)
	}
	if len(f.params) == 0 {
		return nil, nil
	}
	return c.liftFlatAll(f.params, f.paramTuple.mem, flat, f, paramErr)
}

// liftFlatAll lifts one value per layout from consecutive flat values.
func (c *cx) liftFlatAll(ls []*layout, mem bool, flat []uint64, f *Func, wrap func(error, *Func, int) error) ([]any, error) {
	if mem {
		if err := c.fetchMem(); err != nil {
			return nil, err
		}
	}
	out := make([]any, len(ls))
	for i, l := range ls {
		v, err := c.liftFlat(l, flat)
		if err != nil {
			return nil, wrap(err, f, i)
		}
		out[i] = v
		flat = flat[l.nflat:]
	}
	return out, nil
}

// liftSpilled loads the tuple t at guest pointer p.
func (c *cx) liftSpilled(t *layout, p uint32, what string, f *Func, wrap func(error, *Func, int) error) ([]any, error) {
	if err := c.fetchMem(); err != nil {
		return nil, err
	}
	if err := c.checkRange(what, p, uint64(t.size), t.align); err != nil {
		return nil, err
	}
	out := make([]any, len(t.fields))
	for i, l := range t.fields {
		v, err := c.load(l, p+t.offs[i])
		if err != nil {
			return nil, wrap(err, f, i)
		}
		out[i] = v
	}
	return out, nil
}

// LowerResults lowers the results of a host import, one per result, for
// the calling guest. flat holds the core call's flat arguments and receives
// its flat results (as wazero's stack does): when the results flatten to
// at most MaxFlatResults values they are written to flat[0]; otherwise they
// are stored in memory at the return pointer, the last flat argument.
func (f *Func) LowerResults(o *Options, results []any, flat []uint64) error {
	if f.err != nil {
		return f.err
	}
	if len(results) != len(f.results) {
		return fmt.Errorf("abi: %d results for %d result types", len(results), len(f.results))
	}
	c := cx{o: o}
	if f.spillResults() {
		ri := f.nflatParams
		if f.spillParams() {
			ri = 1
		}
		if len(flat) <= ri {
			return fmt.Errorf("abi: %d flat arguments, want %d with the return pointer", len(flat), ri+1)
		}
		if err := c.fetchMem(); err != nil {
			return err
		}
		t := f.resultTuple
		p := uint32(flat[ri])
		if err := c.checkRange("return", p, uint64(t.size), t.align); err != nil {
			return err
		}
		for i, l := range f.results {
			if err := c.store(l, results[i], p+t.offs[i]); err != nil {
				return resultErr(err, f, i)
			}
		}
		return nil
	}
	if len(flat) < f.nflatResults {
		return fmt.Errorf("abi: room for %d flat results, want %d", len(flat), f.nflatResults)
	}
	dst := flat[:0]
	var err error
	for i, l := range f.results {
		if dst, err = c.lowerFlat(l, results[i], dst); err != nil {
			return resultErr(err, f, i)
		}
	}
	return nil
}
