package abi

import (
	"encoding/binary"
	"math"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// cx is the state of one lift or lower: the options and the memory as last
// fetched from the instance.
type cx struct {
	o   *Options
	mem []byte
}

// fetchMem fetches the instance's memory, which the layouts marked mem need.
func (c *cx) fetchMem() error {
	if c.o.Instance == nil {
		return errNoMemory
	}
	c.mem = c.o.Instance.Memory()
	return nil
}

// checkRange traps unless [p, p+n) is in memory and p is a multiple of align.
func (c *cx) checkRange(what string, p uint32, n uint64, align uint32) error {
	if p&(align-1) != 0 {
		return trapf("%s pointer %#x is not %d-byte aligned", what, p, align)
	}
	if uint64(p)+n > uint64(len(c.mem)) {
		return trapf("%s pointer %#x + %d bytes is out of bounds of %d-byte memory", what, p, n, len(c.mem))
	}
	return nil
}

func le16(b []byte, p uint32) uint16 { return binary.LittleEndian.Uint16(b[p:]) }
func le32(b []byte, p uint32) uint32 { return binary.LittleEndian.Uint32(b[p:]) }
func le64(b []byte, p uint32) uint64 { return binary.LittleEndian.Uint64(b[p:]) }

// Load reads a value of type t at ptr in the instance's memory (the spec's
// load). It traps if ptr is misaligned or the value is out of bounds.
func Load(o *Options, t *value.Type, ptr uint32) (any, error) {
	l := layoutOf(t)
	if l.err != nil {
		return nil, l.err
	}
	c := cx{o: o}
	if err := c.fetchMem(); err != nil {
		return nil, err
	}
	if err := c.checkRange(l.kind.String(), ptr, uint64(l.size), l.align); err != nil {
		return nil, err
	}
	return c.load(l, ptr)
}

func checkChar(i uint32) (rune, error) {
	if i >= 0x110000 || (i >= 0xD800 && i <= 0xDFFF) {
		return 0, trapf("invalid char %#x", i)
	}
	return rune(i), nil
}

// load reads a value of layout l at p, which the caller checked to be
// aligned and in bounds.
func (c *cx) load(l *layout, p uint32) (any, error) {
	m := c.mem
	switch l.kind {
	case value.KindBool:
		return m[p] != 0, nil
	case value.KindS8:
		return int8(m[p]), nil
	case value.KindU8:
		return m[p], nil
	case value.KindS16:
		return int16(le16(m, p)), nil
	case value.KindU16:
		return le16(m, p), nil
	case value.KindS32:
		return int32(le32(m, p)), nil
	case value.KindU32:
		return le32(m, p), nil
	case value.KindS64:
		return int64(le64(m, p)), nil
	case value.KindU64:
		return le64(m, p), nil
	case value.KindF32:
		return math.Float32frombits(le32(m, p)), nil
	case value.KindF64:
		return math.Float64frombits(le64(m, p)), nil
	case value.KindChar:
		return checkChar(le32(m, p))
	case value.KindString:
		return c.loadString(le32(m, p), le32(m, p+4))
	case value.KindList:
		return c.loadList(l.elem, le32(m, p), le32(m, p+4))
	case value.KindRecord, value.KindTuple:
		return c.loadFields(l, p)
	case value.KindVariant, value.KindEnum, value.KindOption, value.KindResult:
		var d uint32
		switch l.disc {
		case 1:
			d = uint32(m[p])
		case 2:
			d = uint32(le16(m, p))
		default:
			d = le32(m, p)
		}
		if d >= uint32(len(l.cases)) {
			return nil, badDisc(l, d)
		}
		cl := l.cases[d]
		if cl == nil {
			return value.Variant{Case: d}, nil
		}
		v, err := c.load(cl, p+l.payOff)
		if err != nil {
			return nil, err
		}
		return value.Variant{Case: d, Value: v}, nil
	case value.KindFlags:
		var f uint64
		switch l.size {
		case 0:
		case 1:
			f = uint64(m[p])
		case 2:
			f = uint64(le16(m, p))
		case 4:
			f = uint64(le32(m, p))
		default:
			f = le64(m, p)
		}
		return f & l.mask, nil
	case value.KindOwn:
		return c.liftOwn(l, le32(m, p))
	case value.KindBorrow:
		return c.liftBorrow(l, le32(m, p))
	}
	return nil, l.err
}

func badDisc(l *layout, d uint32) error {
	return trapf("invalid discriminant %d for %s with %d cases", d, l.kind, len(l.cases))
}

// loadFields reads the fields of a record or tuple at p.
func (c *cx) loadFields(l *layout, p uint32) ([]any, error) {
	out := make([]any, len(l.fields))
	for i, f := range l.fields {
		v, err := c.load(f, p+l.offs[i])
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// loadList reads a list of n elements at p (load_list_from_range).
func (c *cx) loadList(el *layout, p, n uint32) (any, error) {
	size := uint64(n) * uint64(el.size)
	if size > MaxListByteLength {
		return nil, trapf("list of %d %d-byte elements exceeds the maximum of %d bytes", n, el.size, MaxListByteLength)
	}
	if err := c.checkRange("list", p, size, el.align); err != nil {
		return nil, err
	}
	if el.kind == value.KindU8 {
		b := make([]byte, n)
		copy(b, c.mem[p:])
		return b, nil
	}
	out := make([]any, n)
	for i := range out {
		v, err := c.load(el, p)
		if err != nil {
			return nil, err
		}
		out[i] = v
		p += el.size
	}
	return out, nil
}

// liftOwn lifts own handle i: it leaves the guest's table.
func (c *cx) liftOwn(l *layout, i uint32) (any, error) {
	if c.o.Handles == nil {
		return nil, errNoHandles
	}
	rep, err := c.o.Handles.liftOwn(l.res, i)
	if err != nil {
		return nil, err
	}
	return value.Handle{Type: l.res, Rep: rep}, nil
}

// liftBorrow lifts borrow handle i: it stays in the guest's table, lent
// until the end of the call.
func (c *cx) liftBorrow(l *layout, i uint32) (any, error) {
	if c.o.Handles == nil {
		return nil, errNoHandles
	}
	if c.o.Scope == nil {
		return nil, errNoScope
	}
	e, err := c.o.Handles.Get(i)
	if err != nil {
		return nil, err
	}
	if e.Type != l.res {
		return nil, trapf("handle %d is a %s handle, not a borrow<%s>", i, e.Type, l.res)
	}
	c.o.Scope.lend(c.o.Handles, i, e)
	return value.Handle{Type: l.res, Rep: e.Rep}, nil
}
