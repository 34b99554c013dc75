package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

var (
	colors = &value.Type{Kind: value.KindEnum, Name: "color", Labels: []string{"red", "green", "blue"}}
	perms  = &value.Type{Kind: value.KindFlags, Name: "perms", Labels: []string{"r", "w", "x"}}
	nine   = &value.Type{Kind: value.KindFlags, Labels: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}}
	many   = func() *value.Type {
		t := &value.Type{Kind: value.KindFlags}
		for i := range 64 {
			t.Labels = append(t.Labels, "f"+string(rune('a'+i/26))+string(rune('a'+i%26)))
		}
		return t
	}()
	noFlags = &value.Type{Kind: value.KindFlags}
	shape   = &value.Type{Kind: value.KindVariant, Name: "shape", Cases: []value.Case{
		{Name: "none"},
		{Name: "circle", Type: value.F64},
		{Name: "rect", Type: value.TupleOf(value.U32, value.U32)},
		{Name: "named", Type: value.String},
	}}
	point = value.RecordOf(value.Field{Name: "x", Type: value.S32}, value.Field{Name: "y", Type: value.S32})
	empty = value.RecordOf()
	deep  = value.ListOf(value.OptionOf(value.ResultOf(value.RecordOf(
		value.Field{Name: "name", Type: value.String},
		value.Field{Name: "tags", Type: value.ListOf(value.String)},
		value.Field{Name: "shape", Type: shape},
		value.Field{Name: "perms", Type: perms},
		value.Field{Name: "blob", Type: value.ListOf(value.U8)},
	), colors)))
)

// golden encodings, checked byte for byte: the wRPC value encoding.
var golden = []struct {
	name string
	t    *value.Type
	v    any
	hex  string
}{
	{"bool false", value.Bool, false, "00"},
	{"bool true", value.Bool, true, "01"},
	{"s8 -1", value.S8, int8(-1), "ff"},
	{"s8 min", value.S8, int8(-128), "80"},
	{"u8 max", value.U8, uint8(255), "ff"},
	{"s16 -1", value.S16, int16(-1), "7f"},
	{"s16 64", value.S16, int16(64), "c000"},
	{"s16 -65", value.S16, int16(-65), "bf7f"},
	{"s16 min", value.S16, int16(math.MinInt16), "80807e"},
	{"s16 max", value.S16, int16(math.MaxInt16), "ffff01"},
	{"u16 max", value.U16, uint16(math.MaxUint16), "ffff03"},
	{"s32 0", value.S32, int32(0), "00"},
	{"s32 -128", value.S32, int32(-128), "807f"},
	{"s32 min", value.S32, int32(math.MinInt32), "8080808078"},
	{"s32 max", value.S32, int32(math.MaxInt32), "ffffffff07"},
	{"u32 300", value.U32, uint32(300), "ac02"},
	{"u32 max", value.U32, uint32(math.MaxUint32), "ffffffff0f"},
	{"s64 min", value.S64, int64(math.MinInt64), "8080808080808080807f"},
	{"s64 max", value.S64, int64(math.MaxInt64), "ffffffffffffffffff00"},
	{"u64 max", value.U64, uint64(math.MaxUint64), "ffffffffffffffffff01"},
	{"f32 1", value.F32, float32(1), "0000803f"},
	{"f64 -2", value.F64, float64(-2), "00000000000000c0"},
	{"char a", value.Char, 'a', "61"},
	{"char é", value.Char, 'é', "c3a9"},
	{"char max", value.Char, rune(0x10FFFF), "f48fbfbf"},
	{"string empty", value.String, "", "00"},
	{"string hi", value.String, "hi", "026869"},
	{"list<u8>", value.ListOf(value.U8), []byte{1, 2, 3}, "03010203"},
	{"list<u32>", value.ListOf(value.U32), []any{uint32(1), uint32(300)}, "0201ac02"},
	{"list empty", value.ListOf(value.String), []any{}, "00"},
	{"record", point, []any{int32(-1), int32(64)}, "7fc000"},
	{"empty record", empty, []any{}, ""},
	{"tuple", value.TupleOf(value.U8, value.Bool), []any{uint8(7), true}, "0701"},
	{"variant no payload", shape, value.Variant{Case: 0}, "00"},
	{"variant payload", shape, value.Variant{Case: 2, Value: []any{uint32(1), uint32(2)}}, "020102"},
	{"enum", colors, value.Variant{Case: 2}, "02"},
	{"option none", value.OptionOf(value.U8), value.None(), "00"},
	{"option some", value.OptionOf(value.U8), value.Some(uint8(7)), "0107"},
	{"result ok", value.ResultOf(value.String, nil), value.Ok("x"), "000178"},
	{"result err", value.ResultOf(nil, value.String), value.Err("x"), "010178"},
	{"result bare err", value.ResultOf(nil, nil), value.Err(nil), "01"},
	{"flags", perms, uint64(0b101), "05"},
	{"flags 9", nine, uint64(1 | 1<<8), "0101"},
	{"flags 64", many, uint64(1<<63 | 1), "0100000000000080"},
	{"flags none", noFlags, uint64(0), ""},
}

func TestGolden(t *testing.T) {
	for _, g := range golden {
		b, err := Append(nil, g.t, g.v)
		if err != nil {
			t.Errorf("%s: encode: %v", g.name, err)
			continue
		}
		if got := hex.EncodeToString(b); got != g.hex {
			t.Errorf("%s: encoded %s, want %s", g.name, got, g.hex)
		}
		v, rest, err := Decode(b, g.t)
		if err != nil || len(rest) != 0 {
			t.Errorf("%s: decode: %v (%d left)", g.name, err, len(rest))
			continue
		}
		if !reflect.DeepEqual(v, g.v) {
			t.Errorf("%s: decoded %#v, want %#v", g.name, v, g.v)
		}
	}
}

// samples are values of every kind, edge cases first.
func samples() []struct {
	t *value.Type
	v any
} {
	type tv = struct {
		t *value.Type
		v any
	}
	var s []tv
	add := func(t *value.Type, vs ...any) {
		for _, v := range vs {
			s = append(s, tv{t, v})
		}
	}
	add(value.Bool, true, false)
	add(value.S8, int8(0), int8(1), int8(-1), int8(math.MinInt8), int8(math.MaxInt8))
	add(value.U8, uint8(0), uint8(math.MaxUint8))
	add(value.S16, int16(0), int16(63), int16(64), int16(-64), int16(-65), int16(math.MinInt16), int16(math.MaxInt16))
	add(value.U16, uint16(0), uint16(127), uint16(128), uint16(math.MaxUint16))
	add(value.S32, int32(0), int32(-1), int32(math.MinInt32), int32(math.MaxInt32), int32(1<<20), int32(-(1 << 27)))
	add(value.U32, uint32(0), uint32(math.MaxUint32), uint32(1<<28))
	add(value.S64, int64(0), int64(-1), int64(math.MinInt64), int64(math.MaxInt64), int64(1<<62), int64(-(1 << 62)))
	add(value.U64, uint64(0), uint64(math.MaxUint64), uint64(1<<63))
	add(value.F32, float32(0), float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.MaxFloat32), float32(math.SmallestNonzeroFloat32), float32(math.NaN()))
	add(value.F64, 0.0, math.Copysign(0, -1), math.Inf(1), math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(),
		math.Float64frombits(0x7ff0000000000001)) // a signalling NaN keeps its bits
	add(value.Char, rune(0), 'a', 'é', '€', '😀', rune(0xFFFD), rune(0xD7FF), rune(0xE000), rune(0x10FFFF))
	add(value.String, "", "hello", "ünïcödé 😀", strings.Repeat("x", 300), "\x00")
	add(value.ListOf(value.U8), []byte{}, []byte{0, 255}, bytes.Repeat([]byte{7}, 1000))
	add(value.ListOf(value.S64), []any{}, []any{int64(math.MinInt64), int64(5)})
	add(value.ListOf(value.ListOf(value.String)), []any{[]any{"a", ""}, []any{}})
	add(value.ListOf(empty), []any{[]any{}, []any{}, []any{}})
	add(point, []any{int32(math.MinInt32), int32(math.MaxInt32)})
	add(empty, []any{})
	add(value.TupleOf(), []any{})
	add(value.TupleOf(value.Char, value.F32, value.ListOf(value.U8)), []any{'x', float32(1.5), []byte("ab")})
	add(shape, value.Variant{Case: 0}, value.Variant{Case: 1, Value: math.Pi},
		value.Variant{Case: 2, Value: []any{uint32(0), uint32(math.MaxUint32)}}, value.Variant{Case: 3, Value: "n"})
	add(colors, value.Variant{Case: 0}, value.Variant{Case: 2})
	add(value.OptionOf(value.OptionOf(value.Bool)), value.None(), value.Some(value.None()), value.Some(value.Some(true)))
	add(value.ResultOf(value.U64, value.String), value.Ok(uint64(1)), value.Err("boom"))
	add(value.ResultOf(nil, nil), value.Ok(nil), value.Err(nil))
	add(value.ResultOf(value.U8, nil), value.Ok(uint8(1)), value.Err(nil))
	add(perms, uint64(0), uint64(7))
	add(nine, uint64(0x1ff), uint64(0x100))
	add(many, uint64(math.MaxUint64), uint64(0))
	add(noFlags, uint64(0))
	add(deep, []any{
		value.None(),
		value.Some(value.Err(value.Variant{Case: 1})),
		value.Some(value.Ok([]any{"box", []any{"a", "b"}, value.Variant{Case: 1, Value: 2.5}, uint64(3), []byte{9}})),
	})
	// A variant with many cases: indexes past 127 take two LEB128 bytes.
	big := &value.Type{Kind: value.KindEnum}
	for i := range 300 {
		big.Labels = append(big.Labels, "c"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	add(big, value.Variant{Case: 0}, value.Variant{Case: 127}, value.Variant{Case: 128}, value.Variant{Case: 299})
	return s
}

// sameValue compares decoded values, NaNs by their bits.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case float32:
		y, ok := b.(float32)
		return ok && math.Float32bits(x) == math.Float32bits(y)
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case value.Variant:
		y, ok := b.(value.Variant)
		return ok && x.Case == y.Case && sameValue(x.Value, y.Value)
	}
	return reflect.DeepEqual(a, b)
}

func TestRoundTripEveryKind(t *testing.T) {
	kinds := map[value.Kind]bool{}
	for _, s := range samples() {
		kinds[s.t.Kind] = true
		b, err := Append([]byte("prefix"), s.t, s.v)
		if err != nil {
			t.Errorf("%s %#v: encode: %v", s.t, s.v, err)
			continue
		}
		b = append(b, "tail"...)
		v, rest, err := Decode(b[len("prefix"):], s.t)
		if err != nil {
			t.Errorf("%s %#v: decode: %v", s.t, s.v, err)
			continue
		}
		if string(rest) != "tail" {
			t.Errorf("%s %#v: %q left after the value, want \"tail\"", s.t, s.v, rest)
		}
		if !sameValue(v, s.v) {
			t.Errorf("%s: decoded %#v, want %#v", s.t, v, s.v)
		}
		if err := value.Check(s.t, v); err != nil {
			t.Errorf("%s: decoded value fails value.Check: %v", s.t, err)
		}
		// Every proper prefix of the encoding is refused.
		enc := b[len("prefix") : len(b)-len("tail")]
		for i := range enc {
			if _, _, err := Decode(enc[:i], s.t); err == nil {
				t.Errorf("%s %#v: the %d-byte prefix of %x decodes", s.t, s.v, i, enc)
				break
			}
		}
	}
	for k := value.KindBool; k <= value.KindFlags; k++ {
		if !kinds[k] {
			t.Errorf("no sample of kind %s", k)
		}
	}
}

func TestIntegersExhaustiveAndRandom(t *testing.T) {
	for i := math.MinInt16; i <= math.MaxInt16; i++ {
		roundTrip(t, value.S16, int16(i))
		roundTrip(t, value.U16, uint16(i-math.MinInt16))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		shift := r.IntN(64)
		x := r.Uint64() >> shift
		roundTrip(t, value.U64, x)
		roundTrip(t, value.S64, int64(x))
		roundTrip(t, value.S64, -int64(x))
		roundTrip(t, value.U32, uint32(x))
		roundTrip(t, value.S32, int32(x))
	}
}

func roundTrip(t *testing.T, ty *value.Type, v any) {
	t.Helper()
	b, err := Append(nil, ty, v)
	if err != nil {
		t.Fatalf("%s %v: %v", ty, v, err)
	}
	max := map[value.Kind]int{value.KindS16: 3, value.KindU16: 3, value.KindS32: 5, value.KindU32: 5, value.KindS64: 10, value.KindU64: 10}[ty.Kind]
	if len(b) > max {
		t.Fatalf("%s %v: %d bytes", ty, v, len(b))
	}
	got, rest, err := Decode(b, ty)
	if err != nil || len(rest) != 0 || got != v {
		t.Fatalf("%s %v: decoded %v, %v (%d left)", ty, v, got, err, len(rest))
	}
}

func TestDecodeRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		t    *value.Type
		hex  string
		want string
	}{
		{"empty", value.U8, "", "end of data"},
		{"bool 2", value.Bool, "02", "bool byte"},
		{"u16 too big", value.U16, "ffff04", "too large"},
		{"u16 too long", value.U16, "808080", "too large"},
		{"u32 too big", value.U32, "ffffffff10", "too large"},
		{"u32 6 bytes", value.U32, "808080808000", "too large"},
		{"u64 too big", value.U64, "ffffffffffffffffff02", "too large"},
		{"u64 11 bytes", value.U64, "8080808080808080808000", "too large"},
		{"s16 too big", value.S16, "ffff02", "too large"},
		{"s16 too small", value.S16, "80807d", "too large"},
		{"s32 past max", value.S32, "ffffffff0f", "too large"},
		{"s32 past min", value.S32, "8080808070", "too large"},
		{"s64 bad top", value.S64, "ffffffffffffffffff01", "too large"},
		{"s64 11 bytes", value.S64, "ffffffffffffffffff8000", "too large"},
		{"string short", value.String, "0568", "end of data"},
		{"string huge", value.String, "ffffffff0f", "end of data"},
		{"string bad utf8", value.String, "02c328", "UTF-8"},
		{"char bad", value.Char, "ff", "UTF-8"},
		{"char surrogate", value.Char, "eda080", "UTF-8"},
		{"char overlong", value.Char, "c0af", "UTF-8"},
		{"list huge", value.ListOf(value.U32), "ffffffff0f0102", "end of data"},
		{"list of f64 short", value.ListOf(value.F64), "02" + "0000000000000000", "end of data"},
		{"zero-size list huge", value.ListOf(empty), "ffffffff0f", "zero-size"},
		{"variant case", shape, "04", "case 4"},
		{"enum case", colors, "03", "case 3"},
		{"enum case overlong", colors, "8080808010", "too large"},
		{"option tag", value.OptionOf(value.U8), "02", "option tag"},
		{"result tag", value.ResultOf(nil, nil), "ff", "result tag"},
		{"flags beyond", perms, "08", "beyond"},
		{"flags 9 beyond", nine, "0102", "beyond"},
		{"own", value.Own(&value.ResourceType{Name: "r"}), "00", "resource"},
		{"nested path", deep, "01" + "01" + "00" + "016e" + "00" + "09", "[0].some.ok.shape"},
	} {
		b, _ := hex.DecodeString(c.hex)
		_, _, err := Decode(b, c.t)
		if err == nil {
			t.Errorf("%s: decoded", c.name)
			continue
		}
		var we *Error
		if !errors.As(err, &we) {
			t.Errorf("%s: %T is not an *Error", c.name, err)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not mention %q", c.name, err, c.want)
		}
	}
	if _, _, err := Decode(nil, value.Own(&value.ResourceType{Name: "r"})); !errors.Is(err, ErrResource) {
		t.Errorf("own: %v, want ErrResource", err)
	}
}

func TestEncodeRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		t    *value.Type
		v    any
		want string
	}{
		{"wrong go type", value.U32, 5, "int is not a u32"},
		{"list elem", value.ListOf(value.String), []any{"a", 1}, "[1]: int is not a string"},
		{"record field", point, []any{int32(1), "y"}, ".y: string is not a s32"},
		{"record arity", point, []any{int32(1)}, "1 values for a record of 2"},
		{"tuple arity", value.TupleOf(value.U8), []any{}, "0 values for a tuple of 1"},
		{"char surrogate", value.Char, rune(0xD800), "scalar"},
		{"char negative", value.Char, rune(-1), "scalar"},
		{"string utf8", value.String, "\xff", "UTF-8"},
		{"variant case", shape, value.Variant{Case: 9}, "case 9"},
		{"variant payload", shape, value.Variant{Case: 0, Value: 1}, "no payload"},
		{"variant payload type", shape, value.Variant{Case: 3, Value: 1}, ".named: int is not a string"},
		{"enum case", colors, value.Variant{Case: 3}, "case 3"},
		{"option case", value.OptionOf(value.U8), value.Variant{Case: 2}, "case 2"},
		{"result case", value.ResultOf(nil, nil), value.Variant{Case: 5}, "case 5"},
		{"flags", perms, uint64(8), "beyond"},
		{"resource", value.Borrow(&value.ResourceType{Name: "r"}), value.Handle{}, "resource"},
		{"deep", deep, []any{value.Some(value.Ok([]any{"n", []any{}, value.Variant{}, uint64(0), "notbytes"}))}, "[0].some.ok.blob"},
	} {
		_, err := Append(nil, c.t, c.v)
		if err == nil {
			t.Errorf("%s: encoded", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not mention %q", c.name, err, c.want)
		}
	}
}

func TestParams(t *testing.T) {
	ps := []value.Param{{Name: "name", Type: value.String}, {Name: "n", Type: value.U32}, {Name: "s", Type: shape}}
	vs := []any{"hi", uint32(300), value.Variant{Case: 1, Value: 1.0}}
	b, err := AppendParams(nil, ps, vs)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(b), "026869ac0201000000000000f03f"; got != want {
		t.Errorf("params %s, want %s", got, want)
	}
	got, err := DecodeParams(b, ps)
	if err != nil || !reflect.DeepEqual(got, vs) {
		t.Fatalf("decoded %#v, %v", got, err)
	}
	if _, err := DecodeParams(append(b, 0), ps); err == nil || !strings.Contains(err.Error(), "after the last value") {
		t.Errorf("trailing byte: %v", err)
	}
	if _, err := DecodeParams(b[:3], ps); err == nil || !strings.Contains(err.Error(), "param") && !strings.Contains(err.Error(), "n:") {
		t.Errorf("short: %v", err)
	}
	if _, err := AppendParams(nil, ps, vs[:2]); err == nil {
		t.Error("encoded 2 values for 3 parameters")
	}
	if _, err := AppendParams(nil, ps, []any{"x", "y", nil}); err == nil || !strings.HasPrefix(err.Error(), "n: ") {
		t.Errorf("bad param: %v, want it named", err)
	}
	// No parameters: no bytes.
	if b, err := AppendParams(nil, nil, nil); err != nil || len(b) != 0 {
		t.Errorf("no params: %x %v", b, err)
	}
	if vs, err := DecodeParams(nil, nil); err != nil || len(vs) != 0 {
		t.Errorf("no params: %v %v", vs, err)
	}
}

func BenchmarkEncodeDecode(b *testing.B) {
	ps := []value.Param{{Name: "name", Type: value.String}, {Name: "n", Type: value.U32}, {Name: "p", Type: point}}
	vs := []any{"hello, world", uint32(300), []any{int32(-5), int32(7)}}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = AppendParams(buf[:0], ps, vs)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := DecodeParams(buf, ps); err != nil {
			b.Fatal(err)
		}
	}
}
