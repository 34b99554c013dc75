// Package wire encodes component values for calls between nodes, in the
// component-model value encoding that wRPC uses on the wire (wRPC
// SPEC.md, "component model value definition encoding"):
//
//	bool                 one byte, 0 or 1
//	s8, u8               one byte (two's complement for s8)
//	s16, s32, s64        signed LEB128, at most 3, 5, 10 bytes
//	u16, u32, u64        unsigned LEB128, at most 3, 5, 10 bytes
//	f32, f64             IEEE 754 bits, little-endian (4, 8 bytes)
//	char                 the scalar value in UTF-8 (1 to 4 bytes)
//	string               byte length (unsigned LEB128 u32), then UTF-8
//	list<T>              element count (unsigned LEB128 u32), then each
//	                     element; list<u8> is the length and the bytes
//	record, tuple        the fields in order, nothing else
//	variant, enum        case index (unsigned LEB128 u32), then the case's
//	                     payload if it has one
//	option<T>            one byte: 0 none, 1 some followed by the value
//	result<T, E>         one byte: 0 ok, 1 err, followed by the payload
//	flags                ceil(n/8) bytes, little-endian: flag i is bit i%8
//	                     of byte i/8
//	own, borrow          refused (ErrResource): a handle means nothing on
//	                     another node. wRPC sends resources as opaque
//	                     list<u8>; wbox has no cross-node resources yet.
//
// The parameters of a call, and its results, are encoded one after the
// other, as the fields of a tuple. Values use package value's Go
// representation.
//
// Decode reads untrusted bytes: every length is checked against the bytes
// left before anything is allocated, integers must fit their type, strings
// and chars must be valid UTF-8 scalar values, bools and option/result
// tags must be 0 or 1, case indexes must name a case, flags may not set
// bits beyond their labels, and trailing bytes are an error. Decoding
// accepts non-minimal LEB128 within the byte limits (as core wasm does);
// encoding always writes the minimal form.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// ErrResource: resource handles cannot cross nodes.
var ErrResource = errors.New("resource handles cannot cross nodes")

// MaxZeroSizeElems bounds the element count of a list whose elements encode
// to no bytes (list<tuple<>>, list<record {}>): such a list's length is not
// bounded by the bytes received, so a tiny message could make the decoder
// allocate without limit.
const MaxZeroSizeElems = 1 << 16

// Error is a decoding or encoding error at a path in the value.
type Error struct {
	Path string // e.g. "param 1 (name).field.[3]"
	Err  error
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	return e.Path + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// at prefixes the path of err with elem.
func at(err error, elem string) error {
	var e *Error
	if errors.As(err, &e) {
		if e.Path == "" {
			e.Path = elem
		} else if e.Path[0] == '[' || e.Path[0] == '.' {
			e.Path = elem + e.Path
		} else {
			e.Path = elem + "." + e.Path
		}
		return e
	}
	return &Error{Path: elem, Err: err}
}

var (
	errShort = errors.New("unexpected end of data")
	errLEB   = errors.New("integer too large for its type")
)

// Append appends the encoding of v, a value of type t, to b.
func Append(b []byte, t *value.Type, v any) ([]byte, error) {
	b, err := appendValue(b, t, v)
	if err != nil {
		if _, ok := err.(*Error); !ok {
			err = &Error{Err: err}
		}
	}
	return b, err
}

// AppendParams appends the encoding of a call's parameters (or results):
// vs[i] of type ps[i].Type, one after the other.
func AppendParams(b []byte, ps []value.Param, vs []any) ([]byte, error) {
	if len(vs) != len(ps) {
		return b, &Error{Err: fmt.Errorf("%d values for %d parameters", len(vs), len(ps))}
	}
	for i, p := range ps {
		var err error
		if b, err = appendValue(b, p.Type, vs[i]); err != nil {
			return b, at(err, paramName(i, p))
		}
	}
	return b, nil
}

func paramName(i int, p value.Param) string {
	if p.Name == "" {
		return "#" + strconv.Itoa(i)
	}
	return p.Name
}

func badGo(t *value.Type, v any) error {
	return fmt.Errorf("%T is not a %s", v, t)
}

func appendValue(b []byte, t *value.Type, v any) ([]byte, error) {
	switch t.Kind {
	case value.KindBool:
		x, ok := v.(bool)
		if !ok {
			return b, badGo(t, v)
		}
		if x {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case value.KindS8:
		x, ok := v.(int8)
		if !ok {
			return b, badGo(t, v)
		}
		return append(b, byte(x)), nil
	case value.KindU8:
		x, ok := v.(uint8)
		if !ok {
			return b, badGo(t, v)
		}
		return append(b, x), nil
	case value.KindS16:
		x, ok := v.(int16)
		if !ok {
			return b, badGo(t, v)
		}
		return appendSLEB(b, int64(x)), nil
	case value.KindU16:
		x, ok := v.(uint16)
		if !ok {
			return b, badGo(t, v)
		}
		return binary.AppendUvarint(b, uint64(x)), nil
	case value.KindS32:
		x, ok := v.(int32)
		if !ok {
			return b, badGo(t, v)
		}
		return appendSLEB(b, int64(x)), nil
	case value.KindU32:
		x, ok := v.(uint32)
		if !ok {
			return b, badGo(t, v)
		}
		return binary.AppendUvarint(b, uint64(x)), nil
	case value.KindS64:
		x, ok := v.(int64)
		if !ok {
			return b, badGo(t, v)
		}
		return appendSLEB(b, x), nil
	case value.KindU64:
		x, ok := v.(uint64)
		if !ok {
			return b, badGo(t, v)
		}
		return binary.AppendUvarint(b, x), nil
	case value.KindF32:
		x, ok := v.(float32)
		if !ok {
			return b, badGo(t, v)
		}
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(x)), nil
	case value.KindF64:
		x, ok := v.(float64)
		if !ok {
			return b, badGo(t, v)
		}
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(x)), nil
	case value.KindChar:
		x, ok := v.(rune)
		if !ok {
			return b, badGo(t, v)
		}
		if !utf8.ValidRune(x) {
			return b, fmt.Errorf("%#x is not a Unicode scalar value", x)
		}
		return utf8.AppendRune(b, x), nil
	case value.KindString:
		x, ok := v.(string)
		if !ok {
			return b, badGo(t, v)
		}
		if uint64(len(x)) > math.MaxUint32 {
			return b, errors.New("string longer than 4 GiB")
		}
		if !utf8.ValidString(x) {
			return b, errors.New("string is not valid UTF-8")
		}
		b = binary.AppendUvarint(b, uint64(len(x)))
		return append(b, x...), nil
	case value.KindList:
		if t.Elem.Kind == value.KindU8 {
			x, ok := v.([]byte)
			if !ok {
				return b, badGo(t, v)
			}
			if uint64(len(x)) > math.MaxUint32 {
				return b, errors.New("list longer than 2^32-1")
			}
			b = binary.AppendUvarint(b, uint64(len(x)))
			return append(b, x...), nil
		}
		x, ok := v.([]any)
		if !ok {
			return b, badGo(t, v)
		}
		if uint64(len(x)) > math.MaxUint32 {
			return b, errors.New("list longer than 2^32-1")
		}
		b = binary.AppendUvarint(b, uint64(len(x)))
		for i, e := range x {
			var err error
			if b, err = appendValue(b, t.Elem, e); err != nil {
				return b, at(err, "["+strconv.Itoa(i)+"]")
			}
		}
		return b, nil
	case value.KindRecord:
		x, ok := v.([]any)
		if !ok {
			return b, badGo(t, v)
		}
		if len(x) != len(t.Fields) {
			return b, fmt.Errorf("%d values for a record of %d fields", len(x), len(t.Fields))
		}
		for i, f := range t.Fields {
			var err error
			if b, err = appendValue(b, f.Type, x[i]); err != nil {
				return b, at(err, "."+f.Name)
			}
		}
		return b, nil
	case value.KindTuple:
		x, ok := v.([]any)
		if !ok {
			return b, badGo(t, v)
		}
		if len(x) != len(t.Types) {
			return b, fmt.Errorf("%d values for a tuple of %d", len(x), len(t.Types))
		}
		for i, et := range t.Types {
			var err error
			if b, err = appendValue(b, et, x[i]); err != nil {
				return b, at(err, "."+strconv.Itoa(i))
			}
		}
		return b, nil
	case value.KindVariant, value.KindEnum, value.KindOption, value.KindResult:
		x, ok := v.(value.Variant)
		if !ok {
			return b, badGo(t, v)
		}
		var payload *value.Type
		var name string
		switch t.Kind {
		case value.KindVariant:
			if int64(x.Case) >= int64(len(t.Cases)) {
				return b, fmt.Errorf("case %d of a variant of %d cases", x.Case, len(t.Cases))
			}
			payload, name = t.Cases[x.Case].Type, t.Cases[x.Case].Name
			b = binary.AppendUvarint(b, uint64(x.Case))
		case value.KindEnum:
			if int64(x.Case) >= int64(len(t.Labels)) {
				return b, fmt.Errorf("case %d of an enum of %d cases", x.Case, len(t.Labels))
			}
			b = binary.AppendUvarint(b, uint64(x.Case))
		case value.KindOption:
			switch x.Case {
			case 0:
				name = "none"
			case 1:
				payload, name = t.Elem, "some"
			default:
				return b, fmt.Errorf("case %d of an option", x.Case)
			}
			b = append(b, byte(x.Case))
		case value.KindResult:
			switch x.Case {
			case 0:
				payload, name = t.Ok, "ok"
			case 1:
				payload, name = t.Err, "err"
			default:
				return b, fmt.Errorf("case %d of a result", x.Case)
			}
			b = append(b, byte(x.Case))
		}
		if payload == nil {
			if x.Value != nil {
				return b, fmt.Errorf("case %s has no payload, got %T", caseName(t, x.Case), x.Value)
			}
			return b, nil
		}
		var err error
		if b, err = appendValue(b, payload, x.Value); err != nil {
			return b, at(err, "."+name)
		}
		return b, nil
	case value.KindFlags:
		x, ok := v.(uint64)
		if !ok {
			return b, badGo(t, v)
		}
		n := len(t.Labels)
		if n > 64 {
			return b, fmt.Errorf("flags of %d labels: at most 64 are supported", n)
		}
		if n < 64 && x>>n != 0 {
			return b, fmt.Errorf("flags %#x set bits beyond the %d labels", x, n)
		}
		for i := 0; i < (n+7)/8; i++ {
			b = append(b, byte(x>>(8*i)))
		}
		return b, nil
	case value.KindOwn, value.KindBorrow:
		return b, ErrResource
	}
	return b, fmt.Errorf("cannot encode a value of kind %s", t.Kind)
}

func caseName(t *value.Type, c uint32) string {
	cs := t.VariantCases()
	if int64(c) < int64(len(cs)) {
		return cs[c].Name
	}
	return strconv.FormatUint(uint64(c), 10)
}

// appendSLEB appends x in signed LEB128.
func appendSLEB(b []byte, x int64) []byte {
	for {
		c := byte(x & 0x7f)
		x >>= 7
		if (x == 0 && c&0x40 == 0) || (x == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// Decode decodes one value of type t from the start of b and returns it
// with the bytes that follow it.
func Decode(b []byte, t *value.Type) (any, []byte, error) {
	d := decoder{b: b}
	v, err := d.value(t)
	if err != nil {
		return nil, b, d.wrap(err)
	}
	return v, d.b, nil
}

// DecodeParams decodes a call's parameters (or results): one value per
// parameter, one after the other, and nothing after them.
func DecodeParams(b []byte, ps []value.Param) ([]any, error) {
	d := decoder{b: b}
	vs := make([]any, len(ps))
	for i, p := range ps {
		v, err := d.value(p.Type)
		if err != nil {
			return nil, d.wrap(at(err, paramName(i, p)))
		}
		vs[i] = v
	}
	if len(d.b) != 0 {
		return nil, &Error{Err: fmt.Errorf("%d bytes after the last value", len(d.b))}
	}
	return vs, nil
}

type decoder struct {
	b   []byte
	off int // bytes consumed, for errors
}

func (d *decoder) wrap(err error) error {
	e, ok := err.(*Error)
	if !ok {
		e = &Error{Err: err}
	}
	e.Err = fmt.Errorf("at byte %d: %w", d.off, e.Err)
	return e
}

func (d *decoder) byte() (byte, error) {
	if len(d.b) == 0 {
		return 0, errShort
	}
	c := d.b[0]
	d.b = d.b[1:]
	d.off++
	return c, nil
}

func (d *decoder) take(n int) ([]byte, error) {
	if n > len(d.b) {
		return nil, errShort
	}
	p := d.b[:n]
	d.b = d.b[n:]
	d.off += n
	return p, nil
}

// uleb reads an unsigned LEB128 integer of at most bits bits.
func (d *decoder) uleb(bits uint) (uint64, error) {
	var x uint64
	var s uint
	for i := 0; ; i++ {
		c, err := d.byte()
		if err != nil {
			return 0, err
		}
		if s+7 > bits && c>>(bits-s) != 0 {
			// The last possible byte: no continuation, no bits
			// beyond the type.
			return 0, errLEB
		}
		x |= uint64(c&0x7f) << s
		if c < 0x80 {
			return x, nil
		}
		s += 7
		if s >= bits {
			return 0, errLEB
		}
	}
}

// sleb reads a signed LEB128 integer of at most bits bits.
func (d *decoder) sleb(bits uint) (int64, error) {
	var x int64
	var s uint
	for {
		c, err := d.byte()
		if err != nil {
			return 0, err
		}
		p := c & 0x7f
		if s+7 >= bits {
			// The last possible byte: no continuation, and the bits
			// above the type's sign bit must all copy it.
			used := bits - s // 1..7 bits of p belong to the value
			if c&0x80 != 0 || int8(p<<1)>>1 != int8(p<<(8-used))>>(8-used) {
				return 0, errLEB
			}
		}
		x |= int64(p) << s
		s += 7
		if c < 0x80 {
			if s < 64 && p&0x40 != 0 {
				x |= -1 << s
			}
			return x, nil
		}
	}
}

// length reads a list or string length and checks that at least
// n*minSize bytes follow.
func (d *decoder) length(minSize int) (int, error) {
	n, err := d.uleb(32)
	if err != nil {
		return 0, err
	}
	if minSize == 0 {
		if n > MaxZeroSizeElems {
			return 0, fmt.Errorf("list of %d zero-size elements (at most %d)", n, MaxZeroSizeElems)
		}
		return int(n), nil
	}
	if n > uint64(len(d.b)/minSize) {
		return 0, fmt.Errorf("length %d: %w", n, errShort)
	}
	return int(n), nil
}

func (d *decoder) value(t *value.Type) (any, error) {
	switch t.Kind {
	case value.KindBool:
		c, err := d.byte()
		if err != nil {
			return nil, err
		}
		switch c {
		case 0:
			return false, nil
		case 1:
			return true, nil
		}
		return nil, fmt.Errorf("bool byte %#x", c)
	case value.KindS8:
		c, err := d.byte()
		return int8(c), err
	case value.KindU8:
		c, err := d.byte()
		return c, err
	case value.KindS16:
		x, err := d.sleb(16)
		return int16(x), err
	case value.KindU16:
		x, err := d.uleb(16)
		return uint16(x), err
	case value.KindS32:
		x, err := d.sleb(32)
		return int32(x), err
	case value.KindU32:
		x, err := d.uleb(32)
		return uint32(x), err
	case value.KindS64:
		return d.sleb(64)
	case value.KindU64:
		return d.uleb(64)
	case value.KindF32:
		p, err := d.take(4)
		if err != nil {
			return nil, err
		}
		return math.Float32frombits(binary.LittleEndian.Uint32(p)), nil
	case value.KindF64:
		p, err := d.take(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(p)), nil
	case value.KindChar:
		if len(d.b) == 0 {
			return nil, errShort
		}
		r, n := utf8.DecodeRune(d.b)
		if r == utf8.RuneError && n <= 1 {
			return nil, errors.New("char is not valid UTF-8")
		}
		d.take(n)
		return r, nil
	case value.KindString:
		n, err := d.length(1)
		if err != nil {
			return nil, err
		}
		p, _ := d.take(n)
		if !utf8.Valid(p) {
			return nil, errors.New("string is not valid UTF-8")
		}
		return string(p), nil
	case value.KindList:
		if t.Elem.Kind == value.KindU8 {
			n, err := d.length(1)
			if err != nil {
				return nil, err
			}
			p, _ := d.take(n)
			l := make([]byte, n)
			copy(l, p)
			return l, nil
		}
		n, err := d.length(minSize(t.Elem))
		if err != nil {
			return nil, err
		}
		l := make([]any, n)
		for i := range l {
			if l[i], err = d.value(t.Elem); err != nil {
				return nil, at(err, "["+strconv.Itoa(i)+"]")
			}
		}
		return l, nil
	case value.KindRecord:
		l := make([]any, len(t.Fields))
		for i, f := range t.Fields {
			var err error
			if l[i], err = d.value(f.Type); err != nil {
				return nil, at(err, "."+f.Name)
			}
		}
		return l, nil
	case value.KindTuple:
		l := make([]any, len(t.Types))
		for i, et := range t.Types {
			var err error
			if l[i], err = d.value(et); err != nil {
				return nil, at(err, "."+strconv.Itoa(i))
			}
		}
		return l, nil
	case value.KindVariant, value.KindEnum:
		c, err := d.uleb(32)
		if err != nil {
			return nil, err
		}
		cs := t.VariantCases()
		if c >= uint64(len(cs)) {
			return nil, fmt.Errorf("case %d of a %s of %d cases", c, t.Kind, len(cs))
		}
		if cs[c].Type == nil {
			return value.Variant{Case: uint32(c)}, nil
		}
		v, err := d.value(cs[c].Type)
		if err != nil {
			return nil, at(err, "."+cs[c].Name)
		}
		return value.Variant{Case: uint32(c), Value: v}, nil
	case value.KindOption, value.KindResult:
		c, err := d.byte()
		if err != nil {
			return nil, err
		}
		if c > 1 {
			return nil, fmt.Errorf("%s tag %#x", t.Kind, c)
		}
		cs := t.VariantCases()
		if cs[c].Type == nil {
			return value.Variant{Case: uint32(c)}, nil
		}
		v, err := d.value(cs[c].Type)
		if err != nil {
			return nil, at(err, "."+cs[c].Name)
		}
		return value.Variant{Case: uint32(c), Value: v}, nil
	case value.KindFlags:
		n := len(t.Labels)
		if n > 64 {
			return nil, fmt.Errorf("flags of %d labels: at most 64 are supported", n)
		}
		p, err := d.take((n + 7) / 8)
		if err != nil {
			return nil, err
		}
		var x uint64
		for i, c := range p {
			x |= uint64(c) << (8 * i)
		}
		if n < 64 && x>>n != 0 {
			return nil, fmt.Errorf("flags %#x set bits beyond the %d labels", x, n)
		}
		return x, nil
	case value.KindOwn, value.KindBorrow:
		return nil, ErrResource
	}
	return nil, fmt.Errorf("cannot decode a value of kind %s", t.Kind)
}

// minSize is the fewest bytes a value of type t encodes to.
func minSize(t *value.Type) int {
	switch t.Kind {
	case value.KindRecord:
		n := 0
		for _, f := range t.Fields {
			n += minSize(f.Type)
		}
		return n
	case value.KindTuple:
		n := 0
		for _, e := range t.Types {
			n += minSize(e)
		}
		return n
	case value.KindFlags:
		return (len(t.Labels) + 7) / 8
	case value.KindF32:
		return 4
	case value.KindF64:
		return 8
	}
	// Every other kind takes at least a byte (own and borrow fail).
	return 1
}
