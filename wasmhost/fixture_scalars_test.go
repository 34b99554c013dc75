package wasmhost_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// adder (Rust, wit-bindgen-rust 0.41): export docs:adder/add@0.1.0
// { add: func(x: u32, y: u32) -> u32 }, no imports at all.
func TestFixtureAdder(t *testing.T) {
	f := newFx(t, "adder", wasmhost.NewImports())
	const add = "docs:adder/add@0.1.0#add"
	for _, c := range [][3]uint32{{2, 3, 5}, {0, 0, 0}, {1, 0, 1}, {0x7fffffff, 0x7fffffff, 0xfffffffe}, {0, math.MaxUint32, math.MaxUint32}, {123456, 654321, 777777}} {
		f.check(add, []any{c[0], c[1]}, c[2])
	}
	// Semver-compatible lookup of the exported interface.
	if _, err := f.inst.Func("docs:adder/add@0.1.9#add"); err != nil {
		t.Errorf("Func with a compatible patch version: %v", err)
	}
	if _, err := f.inst.Func("docs:adder/add@0.2.0#add"); err == nil {
		t.Errorf("Func(docs:adder/add@0.2.0#add) found an incompatible version")
	}
	if ft := f.fn(add).Type(); ft.String() != "func(x: u32, y: u32) -> u32" {
		t.Errorf("type of add = %s", ft)
	}
}

// smoke (tests/runtime/smoke): the export thunk calls the import thunk, then
// printf("howdy\n").
func TestFixtureSmoke(t *testing.T) {
	hc := newHostCalls(t)
	im := wasmhost.NewImports()
	hit := 0
	im.Instance("test:smoke/imports").Func("thunk", hc.fn("thunk", func(args []any) ([]any, error) {
		hit++
		return nil, want("thunk args", args, []any{})
	}))
	f := newFx(t, "smoke", im)
	f.check("thunk", nil)
	if hit != 1 {
		t.Errorf("import thunk called %d times, want 1", hit)
	}
	if got := f.stdout.String(); got != "howdy\n" {
		t.Errorf("guest stdout = %q, want %q", got, "howdy\n")
	}
	f.check("thunk", nil)
	if hit != 2 {
		t.Errorf("import thunk called %d times after the second call, want 2", hit)
	}
}

// numbersImports implements test:numbers/test: every roundtrip-* returns its
// argument (checking its Go type), set-scalar/get-scalar store a u32.
func numbersImports(t *testing.T, hc *hostCalls) *wasmhost.Imports {
	im := wasmhost.NewImports()
	hi := im.Instance("test:numbers/test")
	roundtrip := func(name string, zero any) {
		hi.Func(name, hc.fn(name, func(args []any) ([]any, error) {
			if len(args) != 1 || fmt.Sprintf("%T", args[0]) != fmt.Sprintf("%T", zero) {
				return nil, fmt.Errorf("%s: args %s, want one %T", name, fmtArgs(args), zero)
			}
			return []any{args[0]}, nil
		}))
	}
	roundtrip("roundtrip-u8", uint8(0))
	roundtrip("roundtrip-s8", int8(0))
	roundtrip("roundtrip-u16", uint16(0))
	roundtrip("roundtrip-s16", int16(0))
	roundtrip("roundtrip-u32", uint32(0))
	roundtrip("roundtrip-s32", int32(0))
	roundtrip("roundtrip-u64", uint64(0))
	roundtrip("roundtrip-s64", int64(0))
	roundtrip("roundtrip-f32", float32(0))
	roundtrip("roundtrip-f64", float64(0))
	roundtrip("roundtrip-char", rune(0))
	var scalar uint32
	hi.Func("set-scalar", hc.fn("set-scalar", func(args []any) ([]any, error) {
		scalar = args[0].(uint32)
		return nil, nil
	}))
	hi.Func("get-scalar", hc.fn("get-scalar", func(args []any) ([]any, error) {
		return []any{scalar}, nil
	}))
	return im
}

func TestFixtureNumbers(t *testing.T) {
	hc := newHostCalls(t)
	f := newFx(t, "numbers", numbersImports(t, hc))
	f.check("test-imports", nil)
	hc.expect("roundtrip-u8", "roundtrip-s8", "roundtrip-u16", "roundtrip-s16", "roundtrip-u32",
		"roundtrip-s32", "roundtrip-u64", "roundtrip-s64", "roundtrip-f32", "roundtrip-f64",
		"roundtrip-char", "set-scalar", "get-scalar")

	const p = "test:numbers/test#"
	rt := func(fn string, vals ...any) {
		for _, v := range vals {
			f.check(p+fn, []any{v}, v)
		}
	}
	rt("roundtrip-u8", uint8(1), uint8(0), uint8(math.MaxUint8), uint8(0x80))
	rt("roundtrip-s8", int8(1), int8(-1), int8(math.MinInt8), int8(math.MaxInt8))
	rt("roundtrip-u16", uint16(1), uint16(0), uint16(math.MaxUint16), uint16(0x8000))
	rt("roundtrip-s16", int16(1), int16(-1), int16(math.MinInt16), int16(math.MaxInt16))
	rt("roundtrip-u32", uint32(1), uint32(0), uint32(math.MaxUint32), uint32(0x80000000))
	rt("roundtrip-s32", int32(1), int32(-1), int32(math.MinInt32), int32(math.MaxInt32))
	rt("roundtrip-u64", uint64(1), uint64(0), uint64(math.MaxUint64), uint64(1)<<63, uint64(0x1_0000_0000))
	rt("roundtrip-s64", int64(1), int64(-1), int64(math.MinInt64), int64(math.MaxInt64))
	rt("roundtrip-f32", float32(1), float32(-0.5), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.MaxFloat32), float32(math.SmallestNonzeroFloat32), float32(math.Copysign(0, -1)), float32(math.NaN()))
	rt("roundtrip-f64", 1.0, -0.5, math.Inf(1), math.Inf(-1), math.MaxFloat64,
		math.SmallestNonzeroFloat64, math.Copysign(0, -1), math.NaN())
	rt("roundtrip-char", 'a', ' ', '🚩', rune(0), 'é', '世', rune(0xD7FF), rune(0xE000), rune(0x10FFFF))

	f.check(p+"set-scalar", []any{uint32(2)})
	f.check(p+"get-scalar", nil, uint32(2))
	f.check(p+"set-scalar", []any{uint32(4)})
	f.check(p+"get-scalar", nil, uint32(4))
	f.check(p+"set-scalar", []any{uint32(math.MaxUint32)})
	f.check(p+"get-scalar", nil, uint32(math.MaxUint32))
}

// TestFixtureNumbersNaNPayload checks that a NaN keeps being a NaN whatever
// its bits (the canonical ABI may canonicalize NaNs, so only NaN-ness is
// required).
func TestFixtureNumbersNaNPayload(t *testing.T) {
	f := newFx(t, "numbers", numbersImports(t, newHostCalls(t)))
	for _, bits := range []uint32{0x7fc00000, 0xffc00000, 0x7f800001, 0x7fffffff} {
		res := f.call("test:numbers/test#roundtrip-f32", math.Float32frombits(bits))
		if v, ok := res[0].(float32); !ok || v == v {
			t.Errorf("roundtrip-f32(NaN %#x) = %#v, want a NaN", bits, res[0])
		}
	}
	for _, bits := range []uint64{0x7ff8000000000000, 0xfff8000000000000, 0x7ff0000000000001} {
		res := f.call("test:numbers/test#roundtrip-f64", math.Float64frombits(bits))
		if v, ok := res[0].(float64); !ok || v == v {
			t.Errorf("roundtrip-f64(NaN %#x) = %#v, want a NaN", bits, res[0])
		}
	}
}

// many-arguments: 16 u64 parameters, exactly MAX_FLAT_PARAMS, in both
// directions. The export asserts a_i == i and passes them on to the import.
func TestFixtureManyArguments(t *testing.T) {
	hc := newHostCalls(t)
	im := wasmhost.NewImports()
	var got []any
	im.Instance("imports").Func("many-arguments", hc.fn("many-arguments", func(args []any) ([]any, error) {
		got = args
		return nil, nil
	}))
	f := newFx(t, "many-arguments", im)
	args := make([]any, 16)
	for i := range args {
		args[i] = uint64(i + 1)
	}
	f.check("many-arguments", args)
	if !valuesEqual(got, args) {
		t.Errorf("import many-arguments got %s, want %s", fmtVal(got), fmtVal(args))
	}
	if ft := f.fn("many-arguments").Type(); len(ft.Params) != 16 || ft.Params[15].Name != "a16" || ft.Params[15].Type.Kind != value.KindU64 {
		t.Errorf("type = %s", ft)
	}
}
