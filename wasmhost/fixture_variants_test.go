package wasmhost_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// records (tests/runtime/records): tuples, records and flags of 2, 3, 8, 16
// and 32 labels (flags are a uint64 bitmask, bit i for label i).
func TestFixtureRecords(t *testing.T) {
	hc := newHostCalls(t)
	im := wasmhost.NewImports()
	hi := im.Instance("test:records/test")
	def := func(name string, fn func(args []any) ([]any, error)) { hi.Func(name, hc.fn(name, fn)) }
	def("multiple-results", func([]any) ([]any, error) { return []any{[]any{uint8(4), uint16(5)}}, nil })
	def("swap-tuple", func(args []any) ([]any, error) {
		a := args[0].([]any)
		return []any{[]any{a[1].(uint32), a[0].(uint8)}}, nil
	})
	identity := func(name string, check func(v uint64) error) {
		def(name, func(args []any) ([]any, error) {
			if err := check(args[0].(uint64)); err != nil {
				return nil, err
			}
			return []any{args[0]}, nil
		})
	}
	identity("roundtrip-flags1", func(v uint64) error {
		if v > 3 {
			return fmt.Errorf("flags1 %#x has bits beyond a|b", v)
		}
		return nil
	})
	identity("roundtrip-flags2", func(v uint64) error {
		if v > 7 {
			return fmt.Errorf("flags2 %#x has bits beyond c|d|e", v)
		}
		return nil
	})
	var flags3 []any
	def("roundtrip-flags3", func(args []any) ([]any, error) {
		flags3 = args
		for i, v := range args {
			if _, ok := v.(uint64); !ok {
				return nil, fmt.Errorf("roundtrip-flags3 arg %d is %T, want uint64", i, v)
			}
		}
		return []any{[]any{args[0], args[1], args[2]}}, nil
	})
	def("roundtrip-record1", func(args []any) ([]any, error) {
		r := args[0].([]any)
		_ = r[0].(uint8)
		_ = r[1].(uint64)
		return []any{r}, nil
	})
	def("tuple1", func(args []any) ([]any, error) {
		return []any{[]any{args[0].([]any)[0].(uint8)}}, nil
	})
	f := newFx(t, "records", im)
	f.check("test-imports", nil)
	hc.expect("multiple-results", "swap-tuple", "roundtrip-flags1", "roundtrip-flags2",
		"roundtrip-flags3", "roundtrip-record1", "tuple1")
	// The C guest passes FLAG8_B0, FLAG16_B1, FLAG32_B2.
	if !valuesEqual(flags3, []any{uint64(1), uint64(2), uint64(4)}) {
		t.Errorf("roundtrip-flags3 import got %s, want b0, b1, b2 = 1, 2, 4", fmtVal(flags3))
	}

	const p = "test:records/test#"
	f.check(p+"multiple-results", nil, []any{uint8(100), uint16(200)})
	f.check(p+"swap-tuple", []any{[]any{uint8(1), uint32(2)}}, []any{uint32(2), uint8(1)})
	f.check(p+"swap-tuple", []any{[]any{uint8(255), uint32(math.MaxUint32)}}, []any{uint32(math.MaxUint32), uint8(255)})
	const a, b = 1, 2 // f1 { a, b }
	for _, v := range []uint64{a, 0, b, a | b} {
		f.check(p+"roundtrip-flags1", []any{v}, v)
	}
	const c, d, e = 1, 2, 4 // f2 { c, d, e }
	for _, v := range []uint64{c, 0, d, c | e, c | d | e} {
		f.check(p+"roundtrip-flags2", []any{v}, v)
	}
	for _, v := range [][3]uint64{
		{1, 2, 4},
		{0, 0, 0},
		{0xff, 0xffff, 0xffffffff},
		{0x80, 0x8000, 0x80000000},
		{0x55, 0xaaaa, 0x5555aaaa},
	} {
		f.check(p+"roundtrip-flags3", []any{v[0], v[1], v[2]}, []any{v[0], v[1], v[2]})
	}
	f.check(p+"roundtrip-record1", []any{[]any{uint8(8), uint64(0)}}, []any{uint8(8), uint64(0)})
	f.check(p+"roundtrip-record1", []any{[]any{uint8(0), uint64(a | b)}}, []any{uint8(0), uint64(a | b)})
	f.check(p+"roundtrip-record1", []any{[]any{uint8(255), uint64(b)}}, []any{uint8(255), uint64(b)})
	f.check(p+"tuple1", []any{[]any{uint8(1)}}, []any{uint8(1)})
	f.check(p+"tuple1", []any{[]any{uint8(0xff)}}, []any{uint8(0xff)})
}

// variants (tests/runtime/variants): options, results, enums, bools and
// variants whose cases join differently typed payloads into one flat slot
// (the "casts": i32+i64, i32+f32, f32+f64, …).
func TestFixtureVariants(t *testing.T) {
	hc := newHostCalls(t)
	im := wasmhost.NewImports()
	hi := im.Instance("test:variants/test")
	def := func(name string, fn func(args []any) ([]any, error)) { hi.Func(name, hc.fn(name, fn)) }
	var optionCases, resultCases []string
	def("roundtrip-option", func(args []any) ([]any, error) {
		o := args[0].(value.Variant)
		if o.Case == 0 {
			optionCases = append(optionCases, "none")
			return []any{value.None()}, nil
		}
		optionCases = append(optionCases, "some")
		return []any{value.Some(uint8(o.Value.(float32)))}, nil
	})
	def("roundtrip-result", func(args []any) ([]any, error) {
		r := args[0].(value.Variant)
		if r.Case == 0 {
			resultCases = append(resultCases, "ok")
			return []any{value.Ok(float64(r.Value.(uint32)))}, nil
		}
		resultCases = append(resultCases, "err")
		return []any{value.Err(uint8(r.Value.(float32)))}, nil
	})
	def("roundtrip-enum", func(args []any) ([]any, error) {
		v := args[0].(value.Variant)
		if v.Case > 1 || v.Value != nil {
			return nil, fmt.Errorf("e1 %#v", v)
		}
		return []any{v}, nil
	})
	def("invert-bool", func(args []any) ([]any, error) { return []any{!args[0].(bool)}, nil })
	var casts, zeros []any
	def("variant-casts", func(args []any) ([]any, error) { casts = append(casts, args[0]); return args, nil })
	def("variant-zeros", func(args []any) ([]any, error) { zeros = append(zeros, args[0]); return args, nil })
	def("variant-typedefs", func(args []any) ([]any, error) {
		// The C guest passes none, false, err.
		return nil, want("variant-typedefs", args, []any{value.None(), false, value.Err(nil)})
	})
	def("variant-enums", func(args []any) ([]any, error) {
		if err := want("variant-enums", args, []any{true, value.Ok(nil), value.Variant{Case: 0}}); err != nil {
			return nil, err
		}
		return []any{[]any{false, value.Err(nil), value.Variant{Case: 1}}}, nil
	})
	f := newFx(t, "variants", im)
	f.check("test-imports", nil)
	hc.expect("roundtrip-option", "roundtrip-result", "roundtrip-enum", "invert-bool",
		"variant-casts", "variant-zeros", "variant-typedefs", "variant-enums")
	if fmt.Sprint(optionCases) != "[some none some]" || fmt.Sprint(resultCases) != "[ok ok err]" {
		t.Errorf("guest's option cases %v, result cases %v; want [some none some], [ok ok err]", optionCases, resultCases)
	}
	v := func(c uint32, x any) value.Variant { return value.Variant{Case: c, Value: x} }
	castsA := []any{v(0, int32(1)), v(0, int32(2)), v(0, int32(3)), v(0, int64(4)), v(0, int64(5)), v(0, float32(6))}
	castsB := []any{v(1, int64(1)), v(1, float32(2)), v(1, float64(3)), v(1, float32(4)), v(1, float64(5)), v(1, float64(6))}
	zerosA := []any{v(0, int32(1)), v(0, int64(2)), v(0, float32(3)), v(0, float64(4))}
	zerosB := []any{v(1, nil), v(1, nil), v(1, nil), v(1, nil)}
	if !valuesEqual(casts, []any{castsA, castsB}) {
		t.Errorf("variant-casts import got\n\t%s\nwant\n\t%s", fmtVal(casts), fmtVal([]any{castsA, castsB}))
	}
	if !valuesEqual(zeros, []any{zerosA, zerosB}) {
		t.Errorf("variant-zeros import got\n\t%s\nwant\n\t%s", fmtVal(zeros), fmtVal([]any{zerosA, zerosB}))
	}

	const p = "test:variants/test#"
	f.check(p+"roundtrip-option", []any{value.Some(float32(1))}, value.Some(uint8(1)))
	f.check(p+"roundtrip-option", []any{value.None()}, value.None())
	f.check(p+"roundtrip-option", []any{value.Some(float32(2))}, value.Some(uint8(2)))
	f.check(p+"roundtrip-option", []any{value.Some(float32(255.9))}, value.Some(uint8(255)))
	f.check(p+"roundtrip-result", []any{value.Ok(uint32(2))}, value.Ok(2.0))
	f.check(p+"roundtrip-result", []any{value.Ok(uint32(4))}, value.Ok(4.0))
	f.check(p+"roundtrip-result", []any{value.Ok(uint32(math.MaxUint32))}, value.Ok(float64(math.MaxUint32)))
	f.check(p+"roundtrip-result", []any{value.Err(float32(5.3))}, value.Err(uint8(5)))
	f.check(p+"roundtrip-enum", []any{v(0, nil)}, v(0, nil))
	f.check(p+"roundtrip-enum", []any{v(1, nil)}, v(1, nil))
	f.check(p+"invert-bool", []any{true}, false)
	f.check(p+"invert-bool", []any{false}, true)
	f.check(p+"variant-casts", []any{castsA}, castsA)
	f.check(p+"variant-casts", []any{castsB}, castsB)
	// Payloads that use the whole joined slot: an i64 case beside an f32
	// one, and negative values whose high bits must survive.
	castsEdges := []any{v(1, int64(math.MinInt64)), v(0, int32(-1)), v(1, math.Inf(-1)), v(0, int64(math.MaxInt64)), v(1, math.SmallestNonzeroFloat64), v(0, float32(-0.5))}
	f.check(p+"variant-casts", []any{castsEdges}, castsEdges)
	castsMixed := []any{v(0, int32(math.MinInt32)), v(1, float32(math.MaxFloat32)), v(0, int32(7)), v(1, float32(-2.5)), v(0, int64(-9)), v(1, math.MaxFloat64)}
	f.check(p+"variant-casts", []any{castsMixed}, castsMixed)
	f.check(p+"variant-zeros", []any{zerosA}, zerosA)
	f.check(p+"variant-zeros", []any{zerosB}, zerosB)
	zerosMixed := []any{v(1, nil), v(0, int64(math.MinInt64)), v(1, nil), v(0, math.Inf(1))}
	f.check(p+"variant-zeros", []any{zerosMixed}, zerosMixed)
	f.check(p+"variant-typedefs", []any{value.None(), false, value.Err(nil)})
	f.check(p+"variant-typedefs", []any{value.Some(uint32(7)), true, value.Ok(uint32(9))})
	// variant-enums is assert(0) in the C guest: not callable.
}

// flavorful (tests/runtime/flavorful): lists inside records, variants,
// options and results, typedefs of lists, lists of bools, results and enums.
func TestFixtureFlavorful(t *testing.T) {
	hc := newHostCalls(t)
	im := wasmhost.NewImports()
	hi := im.Instance("test:flavorful/test")
	def := func(name string, fn func(args []any) ([]any, error)) { hi.Func(name, hc.fn(name, fn)) }
	def("f-list-in-record1", func(args []any) ([]any, error) {
		return nil, want("f-list-in-record1", args, []any{[]any{"list_in_record1"}})
	})
	def("f-list-in-record2", func([]any) ([]any, error) { return []any{[]any{"list_in_record2"}}, nil })
	def("f-list-in-record3", func(args []any) ([]any, error) {
		return []any{[]any{"list_in_record3 output"}}, want("f-list-in-record3", args, []any{[]any{"list_in_record3 input"}})
	})
	def("f-list-in-record4", func(args []any) ([]any, error) {
		return []any{[]any{"result4"}}, want("f-list-in-record4", args, []any{[]any{"input4"}})
	})
	def("f-list-in-variant1", func(args []any) ([]any, error) {
		return nil, want("f-list-in-variant1", args, []any{value.Some("foo"), value.Err("bar")})
	})
	def("f-list-in-variant2", func([]any) ([]any, error) { return []any{value.Some("list_in_variant2")}, nil })
	def("f-list-in-variant3", func(args []any) ([]any, error) {
		return []any{value.Some("output3")}, want("f-list-in-variant3", args, []any{value.Some("input3")})
	})
	errored := false
	def("errno-result", func([]any) ([]any, error) {
		if errored {
			return []any{value.Ok(nil)}, nil
		}
		errored = true
		return []any{value.Err(value.Variant{Case: 2})}, nil // my-errno.b
	})
	def("list-typedefs", func(args []any) ([]any, error) {
		return []any{[]any{[]byte("typedef3"), []any{"typedef4"}}},
			want("list-typedefs", args, []any{"typedef1", []any{"typedef2"}})
	})
	def("list-of-variants", func(args []any) ([]any, error) {
		err := want("list-of-variants", args, []any{
			[]any{true, false},
			[]any{value.Ok(nil), value.Err(nil)},
			[]any{value.Variant{Case: 0}, value.Variant{Case: 1}},
		})
		return []any{[]any{
			[]any{false, true},
			[]any{value.Err(nil), value.Ok(nil)},
			[]any{value.Variant{Case: 1}, value.Variant{Case: 2}},
		}}, err
	})
	f := newFx(t, "flavorful", im)
	f.check("test-imports", nil)
	hc.expect("f-list-in-record1", "f-list-in-record2", "f-list-in-record3", "f-list-in-record4",
		"f-list-in-variant1", "f-list-in-variant2", "f-list-in-variant3", "errno-result",
		"list-typedefs", "list-of-variants")
	if hc.counts["errno-result"] != 2 {
		t.Errorf("errno-result called %d times, want 2", hc.counts["errno-result"])
	}

	const p = "test:flavorful/test#"
	f.check(p+"f-list-in-record1", []any{[]any{"list_in_record1"}})
	f.check(p+"f-list-in-record2", nil, []any{"list_in_record2"})
	f.check(p+"f-list-in-record3", []any{[]any{"list_in_record3 input"}}, []any{"list_in_record3 output"})
	f.check(p+"f-list-in-record4", []any{[]any{"input4"}}, []any{"result4"})
	f.check(p+"f-list-in-variant1", []any{value.Some("foo"), value.Err("bar")})
	f.check(p+"f-list-in-variant2", nil, value.Some("list_in_variant2"))
	f.check(p+"f-list-in-variant3", []any{value.Some("input3")}, value.Some("output3"))
	f.check(p+"errno-result", nil, value.Err(value.Variant{Case: 2}))
	f.check(p+"list-typedefs", []any{"typedef1", []any{"typedef2"}}, []any{[]byte("typedef3"), []any{"typedef4"}})
	// list-of-variants is assert(0) in the C guest: not callable.
}
