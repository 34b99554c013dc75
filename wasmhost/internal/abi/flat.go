package abi

import (
	"fmt"
	"math"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// LiftFlat lifts a value of type t from flat core values (the spec's
// lift_flat). It consumes exactly len(Flatten(t)) values from the start of
// flat.
func LiftFlat(o *Options, t *value.Type, flat []uint64) (any, error) {
	l := layoutOf(t)
	if l.err != nil {
		return nil, l.err
	}
	if len(flat) < l.nflat {
		return nil, fmt.Errorf("abi: %d flat values for %s, which flattens to %d", len(flat), t, l.nflat)
	}
	c := cx{o: o}
	if l.mem {
		if err := c.fetchMem(); err != nil {
			return nil, err
		}
	}
	return c.liftFlat(l, flat)
}

// LowerFlat lowers v, a value of type t, to flat core values (the spec's
// lower_flat), appending the len(Flatten(t)) values to dst.
func LowerFlat(o *Options, t *value.Type, v any, dst []uint64) ([]uint64, error) {
	l := layoutOf(t)
	if l.err != nil {
		return dst, l.err
	}
	c := cx{o: o}
	return c.lowerFlat(l, v, dst)
}

// liftFlat lifts a value of layout l from flat[:l.nflat].
func (c *cx) liftFlat(l *layout, flat []uint64) (any, error) {
	switch l.kind {
	case value.KindBool:
		return uint32(flat[0]) != 0, nil
	case value.KindS8:
		return int8(flat[0]), nil
	case value.KindU8:
		return uint8(flat[0]), nil
	case value.KindS16:
		return int16(flat[0]), nil
	case value.KindU16:
		return uint16(flat[0]), nil
	case value.KindS32:
		return int32(flat[0]), nil
	case value.KindU32:
		return uint32(flat[0]), nil
	case value.KindS64:
		return int64(flat[0]), nil
	case value.KindU64:
		return flat[0], nil
	case value.KindF32:
		return math.Float32frombits(uint32(flat[0])), nil
	case value.KindF64:
		return math.Float64frombits(flat[0]), nil
	case value.KindChar:
		return checkChar(uint32(flat[0]))
	case value.KindString:
		return c.loadString(uint32(flat[0]), uint32(flat[1]))
	case value.KindList:
		return c.loadList(l.elem, uint32(flat[0]), uint32(flat[1]))
	case value.KindRecord, value.KindTuple:
		out := make([]any, len(l.fields))
		for i, f := range l.fields {
			v, err := c.liftFlat(f, flat)
			if err != nil {
				return nil, err
			}
			out[i] = v
			flat = flat[f.nflat:]
		}
		return out, nil
	case value.KindVariant, value.KindEnum, value.KindOption, value.KindResult:
		// The payload's flat values sit in the joined slots after the
		// discriminant. With wazero's encoding every coercion of the
		// spec (wrapping an i64 to i32, reinterpreting an i32 as f32)
		// is what lifting the payload's own type does anyway.
		d := uint32(flat[0])
		if d >= uint32(len(l.cases)) {
			return nil, badDisc(l, d)
		}
		cl := l.cases[d]
		if cl == nil {
			return value.Variant{Case: d}, nil
		}
		v, err := c.liftFlat(cl, flat[1:])
		if err != nil {
			return nil, err
		}
		return value.Variant{Case: d, Value: v}, nil
	case value.KindFlags:
		var f uint64
		switch l.nflat {
		case 0:
		case 1:
			f = uint64(uint32(flat[0]))
		default:
			f = uint64(uint32(flat[0])) | uint64(uint32(flat[1]))<<32
		}
		return f & l.mask, nil
	case value.KindOwn:
		return c.liftOwn(l, uint32(flat[0]))
	case value.KindBorrow:
		return c.liftBorrow(l, uint32(flat[0]))
	}
	return nil, l.err
}

func i32(x uint32) uint64 { return uint64(x) }

// lowerFlat appends the flat values of v, of layout l, to dst.
func (c *cx) lowerFlat(l *layout, v any, dst []uint64) ([]uint64, error) {
	switch l.kind {
	case value.KindBool:
		x, ok := v.(bool)
		if !ok {
			return dst, badValue(l, v)
		}
		var b uint64
		if x {
			b = 1
		}
		return append(dst, b), nil
	case value.KindS8:
		x, ok := v.(int8)
		if !ok {
			return dst, badValue(l, v)
		}
		return append(dst, i32(uint32(int32(x)))), nil
	case value.KindU8:
		x, ok := v.(uint8)
		if !ok {
			return dst, badValue(l, v)
		}
		return append(dst, uint64(x)), nil
	case value.KindS16:
		x, ok := v.(int16)
		if !ok {
			return dst, badValue(l, v)
		}
		return append(dst, i32(uint32(int32(x)))), nil
	case value.KindU16:
		x, ok := v.(uint16)
		if !ok {
			return dst, badValue(l, v)
		}
		return append(dst, uint64(x)), nil
	case value.KindS32:
		x, ok := v.(int32)
		if !ok {
			return dst, badValue(l, v)
		}
		return append(dst, i32(uint32(x))), nil
	case value.KindU32:
		x, ok := v.(uint32)
		if !ok {
			return dst, badValue(l, v)
		}
		return append(dst, uint64(x)), nil
	case value.KindS64:
		x, ok := v.(int64)
		if !ok {
			return dst, badValue(l, v)
		}
		return append(dst, uint64(x)), nil
	case value.KindU64:
		x, ok := v.(uint64)
		if !ok {
			return dst, badValue(l, v)
		}
		return append(dst, x), nil
	case value.KindF32:
		x, ok := v.(float32)
		if !ok {
			return dst, badValue(l, v)
		}
		return append(dst, uint64(math.Float32bits(x))), nil
	case value.KindF64:
		x, ok := v.(float64)
		if !ok {
			return dst, badValue(l, v)
		}
		return append(dst, math.Float64bits(x)), nil
	case value.KindChar:
		x, err := charBits(l, v)
		if err != nil {
			return dst, err
		}
		return append(dst, uint64(x)), nil
	case value.KindString:
		s, ok := v.(string)
		if !ok {
			return dst, badValue(l, v)
		}
		p, n, err := c.storeString(s)
		if err != nil {
			return dst, err
		}
		return append(dst, uint64(p), uint64(n)), nil
	case value.KindList:
		p, n, err := c.storeList(l, v)
		if err != nil {
			return dst, err
		}
		return append(dst, uint64(p), uint64(n)), nil
	case value.KindRecord, value.KindTuple:
		fs, ok := v.([]any)
		if !ok {
			return dst, badValue(l, v)
		}
		if len(fs) != len(l.fields) {
			return dst, badValuef(l, v, "%d values for a %s of %d", len(fs), l.kind, len(l.fields))
		}
		var err error
		for i, f := range l.fields {
			if dst, err = c.lowerFlat(f, fs[i], dst); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case value.KindVariant, value.KindEnum, value.KindOption, value.KindResult:
		vv, cl, err := variantCase(l, v)
		if err != nil {
			return dst, err
		}
		dst = append(dst, uint64(vv.Case))
		end := len(dst) + l.nflat - 1
		if cl != nil {
			// The spec's coercions into the joined slots (f32 to i32,
			// i32/f32 to i64 zero-extended) are the identity on
			// wazero's encoding.
			if dst, err = c.lowerFlat(cl, vv.Value, dst); err != nil {
				return dst, err
			}
		}
		for len(dst) < end {
			dst = append(dst, 0)
		}
		return dst, nil
	case value.KindFlags:
		f, ok := v.(uint64)
		if !ok {
			return dst, badValue(l, v)
		}
		if f&^l.mask != 0 {
			// A host value, unlike guest memory, must be exact.
			return dst, badValuef(l, v, "flags %#x set bits beyond the %d labels", f, len(l.t.Labels))
		}
		switch l.nflat {
		case 0:
			return dst, nil
		case 1:
			return append(dst, f), nil
		}
		return append(dst, f&math.MaxUint32, f>>32), nil
	case value.KindOwn:
		i, err := c.lowerOwn(l, v)
		return append(dst, uint64(i)), err
	case value.KindBorrow:
		i, err := c.lowerBorrow(l, v)
		return append(dst, uint64(i)), err
	}
	return dst, l.err
}
