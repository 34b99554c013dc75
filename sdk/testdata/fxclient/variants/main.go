// The client of the variants fixture (test:variants/test): options,
// results, enums, bools and variants whose payloads flatten to different
// core types, through an arrow.
package main

import (
	"fmt"
	"math"
	"reflect"

	"fxvariants/gen/cabi"
	"fxvariants/gen/local/fxvariants/check"
	"fxvariants/gen/test/variants/test"
)

var lines []string

func expect(name string, got, want any) {
	if reflect.DeepEqual(got, want) {
		lines = append(lines, "ok "+name)
	} else {
		lines = append(lines, fmt.Sprintf("FAIL %s: got %#v, want %#v", name, got, want))
	}
}

func init() {
	check.Exports.Run = func() []string {
		lines = nil
		// The fixture converts: option<f32> -> option<u8>, result<u32, f32>
		// -> result<f64, u8>.
		expect("option some", test.RoundtripOption(cabi.Some[float32](1)), cabi.Some[uint8](1))
		expect("option none", test.RoundtripOption(cabi.None[float32]()), cabi.None[uint8]())
		expect("option 255.9", test.RoundtripOption(cabi.Some[float32](255.9)), cabi.Some[uint8](255))
		expect("result ok", test.RoundtripResult(cabi.OK[uint32, float32](math.MaxUint32)), cabi.OK[float64, uint8](math.MaxUint32))
		expect("result err", test.RoundtripResult(cabi.Err[uint32, float32](5.3)), cabi.Err[float64, uint8](5))
		expect("enum a", test.RoundtripEnum(test.E1A), test.E1A)
		expect("enum b", test.RoundtripEnum(test.E1B), test.E1B)
		expect("invert-bool", test.InvertBool(true), false)
		expect("invert-bool", test.InvertBool(false), true)
		for _, c := range []test.Casts{
			{F0: test.C1A(1), F1: test.C2A(2), F2: test.C3A(3), F3: test.C4A(4), F4: test.C5A(5), F5: test.C6A(6)},
			{F0: test.C1B(-1 << 40), F1: test.C2B(-2.5), F2: test.C3B(math.Pi), F3: test.C4B(float32(math.Inf(1))), F4: test.C5B(-0.5), F5: test.C6B(math.MaxFloat64)},
			{F0: test.C1A(math.MinInt32), F1: test.C2B(math.MaxFloat32), F2: test.C3A(-1), F3: test.C4A(math.MaxInt64), F4: test.C5B(1e300), F5: test.C6A(0.25)},
		} {
			expect("variant-casts", test.VariantCasts(c), c)
		}
		for _, z := range []test.Zeros{
			{F0: test.Z1A(1), F1: test.Z2A(2), F2: test.Z3A(3), F3: test.Z4A(4)},
			{F0: test.Z1B(), F1: test.Z2B(), F2: test.Z3B(), F3: test.Z4B()},
			{F0: test.Z1A(-7), F1: test.Z2B(), F2: test.Z3A(-0.5), F3: test.Z4B()},
		} {
			expect("variant-zeros", test.VariantZeros(z), z)
		}
		test.VariantTypedefs(cabi.None[uint32](), false, cabi.Err[uint32](cabi.Unit{}))
		test.VariantTypedefs(cabi.Some[uint32](7), true, cabi.OK[uint32, cabi.Unit](9))
		lines = append(lines, "ok variant-typedefs")
		return lines
	}
}

func main() {}
