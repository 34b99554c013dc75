package abi

import (
	"encoding/binary"
	"math"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// realloc calls the instance's realloc, refetches memory and traps unless
// the new allocation is aligned and in bounds.
func (c *cx) realloc(old, oldSize, align, newSize uint32) (uint32, error) {
	o := c.o
	if o.Instance == nil {
		return 0, errNoMemory
	}
	if !o.HasRealloc {
		return 0, errNoRealloc
	}
	p, err := o.Instance.Realloc(old, oldSize, align, newSize)
	if err != nil {
		return 0, err
	}
	m := o.Instance.Memory()
	if len(m) < len(c.mem) {
		return 0, trapf("memory shrank from %d to %d bytes during realloc", len(c.mem), len(m))
	}
	c.mem = m
	if p&(align-1) != 0 {
		return 0, trapf("realloc returned pointer %#x, which is not %d-byte aligned", p, align)
	}
	if uint64(p)+uint64(newSize) > uint64(len(m)) {
		return 0, trapf("realloc returned pointer %#x + %d bytes, out of bounds of %d-byte memory", p, newSize, len(m))
	}
	return p, nil
}

// Store writes v, a value of type t, at ptr in the instance's memory (the
// spec's store), calling realloc for the strings and lists it contains. It
// traps if ptr is misaligned or the value is out of bounds.
func Store(o *Options, t *value.Type, v any, ptr uint32) error {
	l := layoutOf(t)
	if l.err != nil {
		return l.err
	}
	c := cx{o: o}
	if err := c.fetchMem(); err != nil {
		return err
	}
	if err := c.checkRange(l.kind.String(), ptr, uint64(l.size), l.align); err != nil {
		return err
	}
	return c.store(l, v, ptr)
}

func put16(b []byte, p uint32, v uint16) { binary.LittleEndian.PutUint16(b[p:], v) }
func put32(b []byte, p uint32, v uint32) { binary.LittleEndian.PutUint32(b[p:], v) }
func put64(b []byte, p uint32, v uint64) { binary.LittleEndian.PutUint64(b[p:], v) }

// store writes v of layout l at p, which the caller checked to be aligned
// and in bounds. c.mem may change under it (realloc), so it indexes c.mem
// afresh after every nested store.
func (c *cx) store(l *layout, v any, p uint32) error {
	switch l.kind {
	case value.KindBool:
		x, ok := v.(bool)
		if !ok {
			return badValue(l, v)
		}
		var b byte
		if x {
			b = 1
		}
		c.mem[p] = b
	case value.KindS8:
		x, ok := v.(int8)
		if !ok {
			return badValue(l, v)
		}
		c.mem[p] = byte(x)
	case value.KindU8:
		x, ok := v.(uint8)
		if !ok {
			return badValue(l, v)
		}
		c.mem[p] = x
	case value.KindS16:
		x, ok := v.(int16)
		if !ok {
			return badValue(l, v)
		}
		put16(c.mem, p, uint16(x))
	case value.KindU16:
		x, ok := v.(uint16)
		if !ok {
			return badValue(l, v)
		}
		put16(c.mem, p, x)
	case value.KindS32:
		x, ok := v.(int32)
		if !ok {
			return badValue(l, v)
		}
		put32(c.mem, p, uint32(x))
	case value.KindU32:
		x, ok := v.(uint32)
		if !ok {
			return badValue(l, v)
		}
		put32(c.mem, p, x)
	case value.KindS64:
		x, ok := v.(int64)
		if !ok {
			return badValue(l, v)
		}
		put64(c.mem, p, uint64(x))
	case value.KindU64:
		x, ok := v.(uint64)
		if !ok {
			return badValue(l, v)
		}
		put64(c.mem, p, x)
	case value.KindF32:
		x, ok := v.(float32)
		if !ok {
			return badValue(l, v)
		}
		put32(c.mem, p, math.Float32bits(x))
	case value.KindF64:
		x, ok := v.(float64)
		if !ok {
			return badValue(l, v)
		}
		put64(c.mem, p, math.Float64bits(x))
	case value.KindChar:
		x, err := charBits(l, v)
		if err != nil {
			return err
		}
		put32(c.mem, p, x)
	case value.KindString:
		s, ok := v.(string)
		if !ok {
			return badValue(l, v)
		}
		sp, n, err := c.storeString(s)
		if err != nil {
			return err
		}
		put32(c.mem, p, sp)
		put32(c.mem, p+4, n)
	case value.KindList:
		lp, n, err := c.storeList(l, v)
		if err != nil {
			return err
		}
		put32(c.mem, p, lp)
		put32(c.mem, p+4, n)
	case value.KindRecord, value.KindTuple:
		return c.storeFields(l, v, p)
	case value.KindVariant, value.KindEnum, value.KindOption, value.KindResult:
		vv, cl, err := variantCase(l, v)
		if err != nil {
			return err
		}
		switch l.disc {
		case 1:
			c.mem[p] = byte(vv.Case)
		case 2:
			put16(c.mem, p, uint16(vv.Case))
		default:
			put32(c.mem, p, vv.Case)
		}
		if cl != nil {
			return c.store(cl, vv.Value, p+l.payOff)
		}
	case value.KindFlags:
		f, ok := v.(uint64)
		if !ok {
			return badValue(l, v)
		}
		if f&^l.mask != 0 {
			// A host value, unlike guest memory, must be exact.
			return badValuef(l, v, "flags %#x set bits beyond the %d labels", f, len(l.t.Labels))
		}
		switch l.size {
		case 0:
		case 1:
			c.mem[p] = byte(f)
		case 2:
			put16(c.mem, p, uint16(f))
		case 4:
			put32(c.mem, p, uint32(f))
		default:
			put64(c.mem, p, f)
		}
	case value.KindOwn:
		i, err := c.lowerOwn(l, v)
		if err != nil {
			return err
		}
		put32(c.mem, p, i)
	case value.KindBorrow:
		i, err := c.lowerBorrow(l, v)
		if err != nil {
			return err
		}
		put32(c.mem, p, i)
	default:
		return l.err
	}
	return nil
}

// charBits checks a char value.
func charBits(l *layout, v any) (uint32, error) {
	r, ok := v.(rune)
	if !ok {
		return 0, badValue(l, v)
	}
	if uint32(r) >= 0x110000 || (r >= 0xD800 && r <= 0xDFFF) {
		return 0, badValuef(l, v, "%#x is not a Unicode scalar value", r)
	}
	return uint32(r), nil
}

// variantCase checks a variant-like value and returns it and its case's
// payload layout.
func variantCase(l *layout, v any) (value.Variant, *layout, error) {
	vv, ok := v.(value.Variant)
	if !ok {
		return vv, nil, badValue(l, v)
	}
	if vv.Case >= uint32(len(l.cases)) {
		return vv, nil, badValuef(l, v, "case %d of a %s with %d cases", vv.Case, l.kind, len(l.cases))
	}
	cl := l.cases[vv.Case]
	if cl == nil && vv.Value != nil {
		return vv, nil, badValuef(l, v, "case %d has no payload, got %T", vv.Case, vv.Value)
	}
	return vv, cl, nil
}

// storeFields writes the fields of a record or tuple at p.
func (c *cx) storeFields(l *layout, v any, p uint32) error {
	fs, ok := v.([]any)
	if !ok {
		return badValue(l, v)
	}
	if len(fs) != len(l.fields) {
		return badValuef(l, v, "%d values for a %s of %d", len(fs), l.kind, len(l.fields))
	}
	for i, f := range l.fields {
		if err := c.store(f, fs[i], p+l.offs[i]); err != nil {
			return err
		}
	}
	return nil
}

// storeList stores the elements of list v in a new allocation
// (store_list_into_range) and returns its pointer and length.
func (c *cx) storeList(l *layout, v any) (uint32, uint32, error) {
	el := l.elem
	if el.kind == value.KindU8 {
		b, ok := v.([]byte)
		if !ok {
			return 0, 0, badValue(l, v)
		}
		if len(b) > MaxListByteLength {
			return 0, 0, badValuef(l, v, "list of %d bytes exceeds the maximum of %d bytes", len(b), MaxListByteLength)
		}
		p, err := c.realloc(0, 0, 1, uint32(len(b)))
		if err != nil {
			return 0, 0, err
		}
		copy(c.mem[p:], b)
		return p, uint32(len(b)), nil
	}
	es, ok := v.([]any)
	if !ok {
		return 0, 0, badValue(l, v)
	}
	size := uint64(len(es)) * uint64(el.size)
	if size > MaxListByteLength {
		return 0, 0, badValuef(l, v, "list of %d %d-byte elements exceeds the maximum of %d bytes", len(es), el.size, MaxListByteLength)
	}
	p, err := c.realloc(0, 0, el.align, uint32(size))
	if err != nil {
		return 0, 0, err
	}
	q := p
	for _, e := range es {
		if err := c.store(el, e, q); err != nil {
			return 0, 0, err
		}
		q += el.size
	}
	return p, uint32(len(es)), nil
}

// lowerOwn gives the guest a new own handle for the host's handle value.
func (c *cx) lowerOwn(l *layout, v any) (uint32, error) {
	h, err := handleValue(l, v)
	if err != nil {
		return 0, err
	}
	if c.o.Handles == nil {
		return 0, errNoHandles
	}
	return c.o.Handles.Add(HandleEntry{Type: l.res, Rep: h.Rep, Own: true})
}

// lowerBorrow gives the guest the representation itself when it implements
// the resource, else a borrow handle that it must drop before the call
// returns.
func (c *cx) lowerBorrow(l *layout, v any) (uint32, error) {
	h, err := handleValue(l, v)
	if err != nil {
		return 0, err
	}
	if c.o.Owns != nil && c.o.Owns(l.res) {
		return h.Rep, nil
	}
	if c.o.Handles == nil {
		return 0, errNoHandles
	}
	s := c.o.Scope
	if s == nil {
		return 0, errNoScope
	}
	i, err := c.o.Handles.Add(HandleEntry{Type: l.res, Rep: h.Rep, BorrowScope: s})
	if err != nil {
		return 0, err
	}
	s.borrows++
	return i, nil
}

// handleValue checks an own or borrow value.
func handleValue(l *layout, v any) (value.Handle, error) {
	h, ok := v.(value.Handle)
	if !ok {
		return h, badValue(l, v)
	}
	if h.Type != l.res {
		return h, badValuef(l, v, "got a handle of %s, want %s<%s>", h.Type, l.kind, l.res)
	}
	return h, nil
}
