// The client of the numbers fixture (test:numbers/test): every integer and
// float width and char round-trip through an arrow.
package main

import (
	"fmt"
	"math"
	"reflect"

	"fxnumbers/gen/local/fxnumbers/check"
	"fxnumbers/gen/test/numbers/test"
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
		for _, v := range []uint8{0, 1, math.MaxUint8} {
			expect("u8", test.RoundtripU8(v), v)
		}
		for _, v := range []int8{math.MinInt8, -1, 0, math.MaxInt8} {
			expect("s8", test.RoundtripS8(v), v)
		}
		for _, v := range []uint16{0, math.MaxUint16} {
			expect("u16", test.RoundtripU16(v), v)
		}
		for _, v := range []int16{math.MinInt16, -1, math.MaxInt16} {
			expect("s16", test.RoundtripS16(v), v)
		}
		for _, v := range []uint32{0, math.MaxUint32} {
			expect("u32", test.RoundtripU32(v), v)
		}
		for _, v := range []int32{math.MinInt32, -1, math.MaxInt32} {
			expect("s32", test.RoundtripS32(v), v)
		}
		for _, v := range []uint64{0, math.MaxUint64} {
			expect("u64", test.RoundtripU64(v), v)
		}
		for _, v := range []int64{math.MinInt64, -1, math.MaxInt64} {
			expect("s64", test.RoundtripS64(v), v)
		}
		for _, v := range []float32{0, -1.5, math.MaxFloat32, float32(math.Inf(-1)), math.SmallestNonzeroFloat32} {
			expect("f32", test.RoundtripF32(v), v)
		}
		for _, v := range []float64{0, 2.25, -math.MaxFloat64, math.Inf(1), math.SmallestNonzeroFloat64} {
			expect("f64", test.RoundtripF64(v), v)
		}
		expect("f64 NaN", math.IsNaN(test.RoundtripF64(math.NaN())), true)
		for _, v := range []rune{'a', 0, '☃', '🎉', 0x10FFFF} {
			expect("char", test.RoundtripChar(v), v)
		}
		for _, v := range []uint32{2, math.MaxUint32} {
			test.SetScalar(v)
			expect("set/get-scalar", test.GetScalar(), v)
		}
		return lines
	}
}

func main() {}
