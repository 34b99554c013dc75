package abi

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

type typedValue struct {
	t *value.Type
	v any
}

// fixedCases covers every kind with edge values.
func fixedCases() []typedValue {
	rec := recordOf(value.U8, value.U32, value.U16)
	v3 := variantOf(value.S64, value.F32, nil)
	return []typedValue{
		{value.Bool, true}, {value.Bool, false},
		{value.S8, int8(-128)}, {value.S8, int8(127)}, {value.U8, uint8(255)},
		{value.S16, int16(-32768)}, {value.U16, uint16(65535)},
		{value.S32, int32(math.MinInt32)}, {value.S32, int32(-1)}, {value.U32, uint32(math.MaxUint32)},
		{value.S64, int64(math.MinInt64)}, {value.U64, uint64(math.MaxUint64)},
		{value.F32, float32(-1.5)}, {value.F32, float32(math.Inf(-1))}, {value.F32, math.Float32frombits(0x7fc00001)},
		{value.F64, math.Pi}, {value.F64, math.Float64frombits(0x7ff0000000000123)},
		{value.Char, 'a'}, {value.Char, rune(0)}, {value.Char, rune(0xD7FF)}, {value.Char, rune(0xE000)}, {value.Char, rune(0x10FFFF)},
		{value.String, ""}, {value.String, "hello"}, {value.String, "ÿÿÿ"}, {value.String, "a€b😀"},
		{value.ListOf(value.U8), []byte{}}, {value.ListOf(value.U8), []byte{1, 2, 3}},
		{value.ListOf(value.String), []any{"a", "", "日本"}},
		{value.ListOf(value.ListOf(value.U16)), []any{[]any{uint16(1)}, []any{}, []any{uint16(2), uint16(3)}}},
		{rec, []any{uint8(1), uint32(2), uint16(3)}},
		{value.TupleOf(value.Char, value.String, value.F64), []any{'x', "y", 2.5}},
		{v3, value.Variant{Case: 0, Value: int64(-5)}},
		{v3, value.Variant{Case: 1, Value: float32(0.25)}},
		{v3, value.Variant{Case: 2}},
		{enumOf(3), value.Variant{Case: 2}},
		{enumOf(300), value.Variant{Case: 299}},
		{enumOf(70000), value.Variant{Case: 69999}},
		{value.OptionOf(value.String), value.None()},
		{value.OptionOf(value.String), value.Some("some")},
		{value.OptionOf(value.OptionOf(value.U8)), value.Some(value.None())},
		{value.ResultOf(value.U64, value.F32), value.Ok(uint64(1) << 63)},
		{value.ResultOf(value.U64, value.F32), value.Err(float32(-0.0))},
		{value.ResultOf(nil, nil), value.Err(nil)},
		{value.ResultOf(nil, value.String), value.Ok(nil)},
		{flagsOf(0), uint64(0)},
		{flagsOf(1), uint64(1)},
		{flagsOf(8), uint64(0x81)},
		{flagsOf(9), uint64(0x101)},
		{flagsOf(17), uint64(0x10001)},
		{flagsOf(32), uint64(0xffffffff)},
		{flagsOf(33), uint64(0x1ffffffff)},
		{flagsOf(64), uint64(math.MaxUint64)},
		{value.Own(resA), value.Handle{Type: resA, Rep: 42}},
		{value.Borrow(resB), value.Handle{Type: resB, Rep: 7}},
		{value.ListOf(value.Own(resA)), []any{value.Handle{Type: resA, Rep: 1}, value.Handle{Type: resA, Rep: 2}}},
		{recordOf(value.String, value.ListOf(variantOf(value.String, value.F64, value.ListOf(value.U8)))),
			[]any{"s", []any{value.Variant{Case: 0, Value: "x"}, value.Variant{Case: 1, Value: 1.0}, value.Variant{Case: 2, Value: []byte("zz")}}}},
	}
}

// randomCases returns n random typed values.
func randomCases(seed uint64, n int) []typedValue {
	g := gen{rand.New(rand.NewPCG(seed, 1))}
	out := make([]typedValue, n)
	for i := range out {
		t := g.typ(4)
		out[i] = typedValue{t, g.val(t)}
	}
	return out
}

func allCases() []typedValue { return append(fixedCases(), randomCases(1, 400)...) }

// checkRoundTrip runs every round trip of one value in one encoding.
func checkRoundTrip(t *testing.T, enc StringEncoding, tv typedValue) {
	t.Helper()
	name := fmt.Sprintf("%s %s", enc, tv.t)

	// Store -> Load.
	o, inst := newOpts(enc)
	p := inst.allocRaw(Align(tv.t), Size(tv.t))
	if err := Store(o, tv.t, tv.v, p); err != nil {
		t.Fatalf("%s: Store: %v", name, err)
	}
	got, err := Load(o, tv.t, p)
	if err != nil {
		t.Fatalf("%s: Load: %v", name, err)
	}
	if !equal(got, tv.v) {
		t.Fatalf("%s: Store/Load = %#v, want %#v", name, got, tv.v)
	}
	if o.Handles.Len() != o.Scope.Borrows() {
		t.Fatalf("%s: %d handles left, %d borrows", name, o.Handles.Len(), o.Scope.Borrows())
	}

	// LowerFlat -> LiftFlat.
	o, _ = newOpts(enc)
	flat, err := LowerFlat(o, tv.t, tv.v, []uint64{99})
	if err != nil {
		t.Fatalf("%s: LowerFlat: %v", name, err)
	}
	want := Flatten(tv.t)
	if len(flat) != 1+len(want) || flat[0] != 99 {
		t.Fatalf("%s: LowerFlat appended %d values, want %d", name, len(flat)-1, len(want))
	}
	for i, ct := range want {
		if (ct == I32 || ct == F32) && flat[1+i]>>32 != 0 {
			t.Fatalf("%s: flat %d = %#x is not a zero-extended i32", name, i, flat[1+i])
		}
	}
	got, err = LiftFlat(o, tv.t, flat[1:])
	if err != nil {
		t.Fatalf("%s: LiftFlat: %v", name, err)
	}
	if !equal(got, tv.v) {
		t.Fatalf("%s: LowerFlat/LiftFlat = %#v, want %#v", name, got, tv.v)
	}

	// LowerArgs -> LiftArgs, flat and spilled (17 u32s first), and
	// LowerResults -> LiftResults, single and with a second result.
	var pad []*value.Type
	var padVals []any
	for i := range 17 {
		pad = append(pad, value.U32)
		padVals = append(padVals, uint32(i))
	}
	for _, ps := range [][]*value.Type{{tv.t}, append(slices.Clone(pad), tv.t)} {
		args := append(slices.Clone(padVals[:len(ps)-1]), tv.v)
		ft := funcOfParams(ps, nil)
		o, _ = newOpts(enc)
		flat, err := LowerArgs(o, ft, args, make([]uint64, 0, 4))
		if err != nil {
			t.Fatalf("%s: LowerArgs(%d params): %v", name, len(ps), err)
		}
		if sig, _ := FlatSignature(ft, false); len(sig) != len(flat) {
			t.Fatalf("%s: LowerArgs gave %d flat values for signature %x", name, len(flat), sig)
		}
		gotArgs, err := LiftArgs(o, ft, flat)
		if err != nil {
			t.Fatalf("%s: LiftArgs(%d params): %v", name, len(ps), err)
		}
		if !equal(gotArgs, args) {
			t.Fatalf("%s: LowerArgs/LiftArgs = %#v, want %#v", name, gotArgs, args)
		}
		o.Scope.End() // borrows are left undropped here
	}
	for _, rs := range [][]*value.Type{{tv.t}, {tv.t, value.U32}} {
		res := []any{tv.v, uint32(5)}[:len(rs)]
		// The guest calls an import taking one u64.
		ft := funcOfParams([]*value.Type{value.U64}, rs)
		o, inst = newOpts(enc)
		sigP, sigR := FlatSignature(ft, true)
		stack := make([]uint64, max(len(sigP), len(sigR)))
		stack[0] = 12345
		var retArea uint32
		if len(sigP) == 2 {
			retArea = inst.allocRaw(8, 64+Size(value.TupleOf(rs...)))
			stack[1] = uint64(retArea)
		}
		if err := LowerResults(o, ft, res, stack); err != nil {
			t.Fatalf("%s: LowerResults: %v", name, err)
		}
		var flatRes []uint64
		if len(sigP) == 2 {
			flatRes = []uint64{uint64(retArea)}
		} else {
			flatRes = stack[:len(sigR)]
		}
		got, err := LiftResults(o, ft, flatRes)
		if err != nil {
			t.Fatalf("%s: LiftResults: %v", name, err)
		}
		if !equal(got, res) {
			t.Fatalf("%s: LowerResults/LiftResults = %#v, want %#v", name, got, res)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, enc := range encodings {
		for _, tv := range allCases() {
			checkRoundTrip(t, enc, tv)
		}
	}
}
