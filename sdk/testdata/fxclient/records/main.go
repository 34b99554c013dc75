// The client of the records fixture (test:records/test): tuples, flags of
// several widths and records through an arrow.
package main

import (
	"fmt"
	"reflect"

	"fxrecords/gen/local/fxrecords/check"
	"fxrecords/gen/test/records/test"
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
		expect("multiple-results", test.MultipleResults(), struct {
			F0 uint8
			F1 uint16
		}{100, 200})
		expect("swap-tuple", test.SwapTuple(struct {
			F0 uint8
			F1 uint32
		}{1, 4000000000}), struct {
			F0 uint32
			F1 uint8
		}{4000000000, 1})
		for _, v := range []test.F1{0, test.F1A, test.F1B, test.F1A | test.F1B} {
			expect("flags1", test.RoundtripFlags1(v), v)
		}
		for _, v := range []test.F2{0, test.F2C, test.F2D | test.F2E, test.F2C | test.F2D | test.F2E} {
			expect("flags2", test.RoundtripFlags2(v), v)
		}
		for _, v := range []struct {
			F0 test.Flag8
			F1 test.Flag16
			F2 test.Flag32
		}{{0, 0, 0}, {test.Flag8B0 | test.Flag8B7, test.Flag16B15, test.Flag32B31 | test.Flag32B0}, {0xff, 0xffff, 0xffffffff}} {
			expect("flags3", test.RoundtripFlags3(v.F0, v.F1, v.F2), v)
		}
		for _, r := range []test.R1{{A: 8}, {A: 0, B: test.F1A | test.F1B}, {A: 255, B: test.F1B}} {
			expect("record1", test.RoundtripRecord1(r), r)
		}
		expect("tuple1", test.Tuple1(struct{ F0 uint8 }{0xff}), struct{ F0 uint8 }{0xff})
		return lines
	}
}

func main() {}
