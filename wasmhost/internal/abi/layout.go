package abi

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// layout is the precomputed Canonical ABI view of a value type: its size,
// alignment and flattening and those of its parts, so lifting and lowering
// never recompute them. Layouts are immutable once built.
type layout struct {
	t     *value.Type
	kind  value.Kind
	size  uint32
	align uint32
	flat  []byte // flattened core types
	nflat int    // len(flat)
	// mem says lifting or lowering the type touches linear memory (it
	// contains a string or a list).
	mem bool

	elem   *layout   // list
	fields []*layout // record, tuple
	offs   []uint32  // record, tuple: field offsets
	// cases are the payload layouts of a variant, enum, option or result;
	// nil for a case without payload.
	cases  []*layout
	disc   uint32 // variant-like: discriminant size, 1, 2 or 4
	payOff uint32 // variant-like: payload offset
	mask   uint64 // flags: the bits of the labels
	res    *value.ResourceType

	// err is set when the type cannot be lifted or lowered; sizes are then
	// best effort.
	err error
}

// Size returns the size in bytes of a value of type t in linear memory (the
// spec's elem_size).
func Size(t *value.Type) uint32 { return layoutOf(t).size }

// Align returns the alignment in bytes of a value of type t in linear
// memory (the spec's alignment).
func Align(t *value.Type) uint32 { return layoutOf(t).align }

// Flatten returns the core value types a value of type t flattens to (the
// spec's flatten_type), variants joining their cases' flattenings.
func Flatten(t *value.Type) []byte { return slices.Clone(layoutOf(t).flat) }

// Layout caching. Types are immutable and usually long-lived (decoded from
// a component), so the cache keys them by pointer. To bound memory when
// callers build types dynamically, a full cache is simply dropped.
const maxCached = 4096

type typeCache struct {
	m sync.Map // *value.Type -> *layout
	n atomic.Int32
}

func (c *typeCache) get(t *value.Type) *layout {
	if l, ok := c.m.Load(t); ok {
		return l.(*layout)
	}
	l := compileType(t)
	if c.n.Add(1) > maxCached {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(t, l)
	return l
}

var types typeCache

func layoutOf(t *value.Type) *layout { return types.get(t) }

// compileType builds the layout of t.
func compileType(t *value.Type) *layout {
	b := builder{memo: map[*value.Type]*layout{}}
	return b.build(t)
}

type builder struct {
	memo  map[*value.Type]*layout
	stack map[*value.Type]bool
}

var invalidLayout = &layout{size: 0, align: 1, err: fmt.Errorf("abi: nil type")}

func (b *builder) build(t *value.Type) *layout {
	if t == nil {
		return invalidLayout
	}
	if l, ok := b.memo[t]; ok {
		return l
	}
	if b.stack == nil {
		b.stack = map[*value.Type]bool{}
	}
	if b.stack[t] {
		return &layout{t: t, kind: t.Kind, align: 1, err: fmt.Errorf("abi: recursive type %s", t)}
	}
	b.stack[t] = true
	l := b.build1(t)
	delete(b.stack, t)
	b.memo[t] = l
	return l
}

func alignTo(p, a uint32) uint32 { return (p + a - 1) &^ (a - 1) }

func (b *builder) build1(t *value.Type) *layout {
	l := &layout{t: t, kind: t.Kind}
	scalar := func(size uint32, core byte) *layout {
		l.size, l.align, l.flat = size, size, []byte{core}
		return l
	}
	switch t.Kind {
	case value.KindBool, value.KindS8, value.KindU8:
		scalar(1, I32)
	case value.KindS16, value.KindU16:
		scalar(2, I32)
	case value.KindS32, value.KindU32, value.KindChar:
		scalar(4, I32)
	case value.KindS64, value.KindU64:
		scalar(8, I64)
	case value.KindF32:
		scalar(4, F32)
	case value.KindF64:
		scalar(8, F64)
	case value.KindOwn, value.KindBorrow:
		scalar(4, I32)
		l.res = t.Resource
		if t.Resource == nil {
			l.err = fmt.Errorf("abi: %s without a resource type", t.Kind)
		}
	case value.KindString:
		l.size, l.align, l.flat, l.mem = 8, 4, []byte{I32, I32}, true
	case value.KindList:
		l.size, l.align, l.flat, l.mem = 8, 4, []byte{I32, I32}, true
		l.elem = b.build(t.Elem)
		l.err = l.elem.err
		if l.err == nil && l.elem.size == 0 {
			l.err = fmt.Errorf("abi: list element type %s has size 0", t.Elem)
		}
	case value.KindRecord, value.KindTuple:
		var ts []*value.Type
		if t.Kind == value.KindRecord {
			for _, f := range t.Fields {
				ts = append(ts, f.Type)
			}
		} else {
			ts = t.Types
		}
		b.record(l, ts)
	case value.KindVariant, value.KindEnum, value.KindOption, value.KindResult:
		cs := t.VariantCases()
		l.cases = make([]*layout, len(cs))
		for i, c := range cs {
			if c.Type != nil {
				l.cases[i] = b.build(c.Type)
			}
		}
		variant(l)
	case value.KindFlags:
		n := len(t.Labels)
		switch {
		case n == 0:
			l.size, l.align = 0, 1
		case n <= 8:
			l.size, l.align, l.flat = 1, 1, []byte{I32}
		case n <= 16:
			l.size, l.align, l.flat = 2, 2, []byte{I32}
		case n <= 32:
			l.size, l.align, l.flat = 4, 4, []byte{I32}
		case n <= 64:
			l.size, l.align, l.flat = 8, 4, []byte{I32, I32}
		default:
			l.size, l.align, l.flat = uint32(4*((n+31)/32)), 4, nil
			l.err = fmt.Errorf("abi: flags with %d labels (at most 64 are supported)", n)
		}
		if n < 64 {
			l.mask = 1<<n - 1
		} else {
			l.mask = ^uint64(0)
		}
	default:
		l.align = 1
		l.err = fmt.Errorf("abi: invalid type kind %s", t.Kind)
	}
	l.nflat = len(l.flat)
	return l
}

// record lays out fields (or tuple elements) in order.
func (b *builder) record(l *layout, ts []*value.Type) {
	l.fields = make([]*layout, len(ts))
	l.offs = make([]uint32, len(ts))
	var s uint32
	l.align = 1
	for i, ft := range ts {
		f := b.build(ft)
		l.fields[i] = f
		if f.err != nil && l.err == nil {
			l.err = f.err
		}
		s = alignTo(s, f.align)
		l.offs[i] = s
		s += f.size
		l.align = max(l.align, f.align)
		l.flat = append(l.flat, f.flat...)
		l.mem = l.mem || f.mem
	}
	l.size = alignTo(s, l.align)
	l.nflat = len(l.flat)
}

// variant lays out a variant-like layout whose cases are set.
func variant(l *layout) {
	n := len(l.cases)
	switch {
	case n <= 1<<8:
		l.disc = 1
	case n <= 1<<16:
		l.disc = 2
	default:
		l.disc = 4
	}
	var maxAlign, maxSize uint32 = 1, 0
	var payload []byte
	for _, c := range l.cases {
		if c == nil {
			continue
		}
		if c.err != nil && l.err == nil {
			l.err = c.err
		}
		maxAlign = max(maxAlign, c.align)
		maxSize = max(maxSize, c.size)
		l.mem = l.mem || c.mem
		for i, ft := range c.flat {
			if i < len(payload) {
				payload[i] = join(payload[i], ft)
			} else {
				payload = append(payload, ft)
			}
		}
	}
	l.align = max(l.disc, maxAlign)
	l.payOff = alignTo(l.disc, maxAlign)
	l.size = alignTo(l.payOff+maxSize, l.align)
	l.flat = append([]byte{I32}, payload...)
	l.nflat = len(l.flat)
}

// join is the spec's join of two core types in a variant's flattening.
func join(a, b byte) byte {
	if a == b {
		return a
	}
	if (a == I32 && b == F32) || (a == F32 && b == I32) {
		return I32
	}
	return I64
}

// tupleLayout lays out the tuple of ts (spilled parameters or results).
func (b *builder) tuple(ts []*value.Type) *layout {
	l := &layout{t: value.TupleOf(ts...), kind: value.KindTuple}
	b.record(l, ts)
	return l
}
