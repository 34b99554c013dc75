package kv

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"weak"

	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// bucketTable maps the reps of one instance's bucket handles to the buckets
// they opened. Each instance of a box gets its own table (its own bucket
// resource type, made by Bind), found by atomics and batch through the
// handle's resource type: so a handle is only ever valid in the instance
// that opened it, and a handle opened through another driver is recognized.
type bucketTable struct {
	caller string
	mu     sync.Mutex
	next   uint32
	open   map[uint32]string // rep -> bucket identifier
}

func (t *bucketTable) add(name string) uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next++
	for t.open[t.next] != "" || t.next == 0 {
		t.next++
	}
	t.open[t.next] = name
	return t.next
}

func (t *bucketTable) get(rep uint32) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, ok := t.open[rep]
	return n, ok
}

func (t *bucketTable) remove(rep uint32) {
	t.mu.Lock()
	delete(t.open, rep)
	t.mu.Unlock()
}

// bucket resolves a bucket handle passed to atomics or batch.
func (d *Driver) bucket(caller string, h value.Handle) (string, error) {
	v, ok := d.tables.Load(weak.Make(h.Type))
	if !ok {
		return "", fmt.Errorf("kv %q: the bucket handle was not opened through this driver: a box's arrows for %s, %s and %s must all go to the same kv driver", d.name, StoreIface, AtomicsIface, BatchIface)
	}
	t := v.(*bucketTable)
	if t.caller != caller {
		return "", fmt.Errorf("kv %q: the bucket handle belongs to box %q, not %q", d.name, t.caller, caller)
	}
	name, ok := t.get(h.Rep)
	if !ok {
		return "", fmt.Errorf("kv %q: bucket handle %d is not open", d.name, h.Rep)
	}
	return name, nil
}

// hostFn adapts a wasi:keyvalue function: an error becomes err(error), the
// result value ok(v).
func (d *Driver) hostFn(f func(ctx context.Context, st backend, args []any) (any, error)) wasmhost.HostFunc {
	return func(ctx context.Context, args []any) ([]any, error) {
		st, err := d.store(ctx)
		if err != nil {
			return []any{value.Err(kvError(err))}, nil
		}
		v, err := f(ctx, st, args)
		if err != nil {
			return []any{value.Err(kvError(err))}, nil
		}
		return []any{value.Ok(v)}, nil
	}
}

func (d *Driver) bindStore(caller string, hi *wasmhost.HostInstance) {
	ns := d.Namespace(caller)
	t := &bucketTable{caller: caller, open: map[uint32]string{}}
	rt := hi.Resource("bucket", func(_ context.Context, rep uint32) { t.remove(rep) })
	wp := weak.Make(rt)
	d.tables.Store(wp, t)
	// The table lives as long as the instance's bucket type: when the
	// instance is gone, so is its entry.
	runtime.AddCleanup(rt, func(wp weak.Pointer[value.ResourceType]) { d.tables.Delete(wp) }, wp)

	self := func(args []any) (string, error) {
		h := args[0].(value.Handle)
		name, ok := t.get(h.Rep)
		if !ok {
			return "", fmt.Errorf("bucket handle %d is not open", h.Rep)
		}
		return name, nil
	}
	hi.Func("open", d.hostFn(func(_ context.Context, _ backend, args []any) (any, error) {
		name := args[0].(string)
		if err := checkBucket(name); err != nil {
			return nil, noSuchStore{err}
		}
		return value.Handle{Type: rt, Rep: t.add(name)}, nil
	}))
	hi.Func("[method]bucket.get", d.hostFn(func(ctx context.Context, st backend, args []any) (any, error) {
		b, err := self(args)
		if err != nil {
			return nil, err
		}
		v, ok, err := st.get(ctx, ns, b, args[1].(string))
		if err != nil || !ok {
			return value.None(), err
		}
		return value.Some(v), nil
	}))
	hi.Func("[method]bucket.set", d.hostFn(func(ctx context.Context, st backend, args []any) (any, error) {
		b, err := self(args)
		if err != nil {
			return nil, err
		}
		return nil, st.set(ctx, ns, b, args[1].(string), args[2].([]byte))
	}))
	hi.Func("[method]bucket.delete", d.hostFn(func(ctx context.Context, st backend, args []any) (any, error) {
		b, err := self(args)
		if err != nil {
			return nil, err
		}
		_, err = st.delete(ctx, ns, b, args[1].(string))
		return nil, err
	}))
	hi.Func("[method]bucket.exists", d.hostFn(func(ctx context.Context, st backend, args []any) (any, error) {
		b, err := self(args)
		if err != nil {
			return nil, err
		}
		return st.exists(ctx, ns, b, args[1].(string))
	}))
	hi.Func("[method]bucket.list-keys", d.hostFn(func(ctx context.Context, st backend, args []any) (any, error) {
		b, err := self(args)
		if err != nil {
			return nil, err
		}
		cursor := ""
		if c := args[1].(value.Variant); c.Case == 1 {
			cursor = c.Value.(string)
		}
		keys, next, err := st.listKeys(ctx, ns, b, cursor)
		if err != nil {
			return nil, err
		}
		list := make([]any, len(keys))
		for i, k := range keys {
			list[i] = k
		}
		nextOpt := value.None()
		if next != "" {
			nextOpt = value.Some(next)
		}
		return []any{list, nextOpt}, nil
	}))
}

// casOp is what cas.new saw: the key and its value (and revision) then.
type casOp struct {
	bucket, key string
	seen        casState
}

func (d *Driver) bindAtomics(caller string, hi *wasmhost.HostInstance) {
	ns := d.Namespace(caller)
	var mu sync.Mutex
	ops := map[uint32]*casOp{}
	var next uint32
	addOp := func(op *casOp) uint32 {
		mu.Lock()
		defer mu.Unlock()
		next++
		for ops[next] != nil || next == 0 {
			next++
		}
		ops[next] = op
		return next
	}
	getOp := func(rep uint32) (*casOp, bool) {
		mu.Lock()
		defer mu.Unlock()
		op, ok := ops[rep]
		return op, ok
	}
	drop := func(rep uint32) {
		mu.Lock()
		delete(ops, rep)
		mu.Unlock()
	}
	casRT := hi.Resource("cas", func(_ context.Context, rep uint32) { drop(rep) })

	hi.Func("increment", d.hostFn(func(ctx context.Context, st backend, args []any) (any, error) {
		b, err := d.bucket(caller, args[0].(value.Handle))
		if err != nil {
			return nil, err
		}
		return st.increment(ctx, ns, b, args[1].(string), args[2].(int64))
	}))
	hi.Func("[static]cas.new", d.hostFn(func(ctx context.Context, st backend, args []any) (any, error) {
		b, err := d.bucket(caller, args[0].(value.Handle))
		if err != nil {
			return nil, err
		}
		key := args[1].(string)
		seen, err := st.casGet(ctx, ns, b, key)
		if err != nil {
			return nil, err
		}
		return value.Handle{Type: casRT, Rep: addOp(&casOp{bucket: b, key: key, seen: seen})}, nil
	}))
	hi.Func("[method]cas.current", d.hostFn(func(_ context.Context, _ backend, args []any) (any, error) {
		op, ok := getOp(args[0].(value.Handle).Rep)
		if !ok {
			return nil, fmt.Errorf("cas handle %d is not open", args[0].(value.Handle).Rep)
		}
		if !op.seen.had {
			return value.None(), nil
		}
		return value.Some(op.seen.val), nil
	}))
	// swap consumes its cas: the handle is the host's now, so it is dropped
	// here. A conflict returns cas-failed with a new cas at the current value.
	hi.Func("swap", func(ctx context.Context, args []any) ([]any, error) {
		storeErr := func(err error) []any {
			return []any{value.Err(value.Variant{Case: 0, Value: kvError(err)})}
		}
		rep := args[0].(value.Handle).Rep
		op, ok := getOp(rep)
		drop(rep)
		if !ok {
			return storeErr(fmt.Errorf("cas handle %d is not open", rep)), nil
		}
		st, err := d.store(ctx)
		if err != nil {
			return storeErr(err), nil
		}
		swapped, cur, err := st.casSwap(ctx, ns, op.bucket, op.key, op.seen, args[1].([]byte))
		if err != nil {
			return storeErr(err), nil
		}
		if !swapped {
			h := value.Handle{Type: casRT, Rep: addOp(&casOp{bucket: op.bucket, key: op.key, seen: cur})}
			return []any{value.Err(value.Variant{Case: 1, Value: h})}, nil
		}
		return []any{value.Ok(nil)}, nil
	})
}

func (d *Driver) bindBatch(caller string, hi *wasmhost.HostInstance) {
	ns := d.Namespace(caller)
	strs := func(v any) []string {
		l := v.([]any)
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = s.(string)
		}
		return out
	}
	hi.Func("get-many", d.hostFn(func(ctx context.Context, st backend, args []any) (any, error) {
		b, err := d.bucket(caller, args[0].(value.Handle))
		if err != nil {
			return nil, err
		}
		keys := strs(args[1])
		vals, oks, err := st.getMany(ctx, ns, b, keys)
		if err != nil {
			return nil, err
		}
		out := make([]any, len(keys))
		for i, k := range keys {
			if oks[i] {
				out[i] = value.Some([]any{k, vals[i]})
			} else {
				out[i] = value.None()
			}
		}
		return out, nil
	}))
	hi.Func("set-many", d.hostFn(func(ctx context.Context, st backend, args []any) (any, error) {
		b, err := d.bucket(caller, args[0].(value.Handle))
		if err != nil {
			return nil, err
		}
		pairs := args[1].([]any)
		keys, vals := make([]string, len(pairs)), make([][]byte, len(pairs))
		for i, p := range pairs {
			kv := p.([]any)
			keys[i], vals[i] = kv[0].(string), kv[1].([]byte)
		}
		return nil, st.setMany(ctx, ns, b, keys, vals)
	}))
	hi.Func("delete-many", d.hostFn(func(ctx context.Context, st backend, args []any) (any, error) {
		b, err := d.bucket(caller, args[0].(value.Handle))
		if err != nil {
			return nil, err
		}
		return nil, st.deleteMany(ctx, ns, b, strs(args[1]))
	}))
}
