// The client of the lists fixture (test:lists/test): lists of every
// element kind, nested lists, strings and large values, through an arrow.
// (The fixture asserts the parameters it receives: a wrong value traps it,
// and the call fails.)
package main

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"

	"fxlists/gen/local/fxlists/check"
	"fxlists/gen/test/lists/test"
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
		test.EmptyListParam(nil)
		test.EmptyStringParam("")
		test.ListParam([]uint8{1, 2, 3, 4})
		test.ListParam2("foo")
		test.ListParam3([]string{"foo", "bar", "baz"})
		test.ListParam4([][]string{{"foo", "bar"}, {"baz"}})
		test.ListParam5([]struct {
			F0 uint8
			F1 uint32
			F2 uint8
		}{{1, 2, 3}, {4, 5, 6}})
		large := make([]string, 1000)
		for i := range large {
			large[i] = "string"
		}
		test.ListParamLarge(large)
		lines = append(lines, "ok params")
		expect("empty-list-result", len(test.EmptyListResult()), 0)
		expect("empty-string-result", test.EmptyStringResult(), "")
		expect("list-result", test.ListResult(), []uint8{1, 2, 3, 4, 5})
		expect("list-result2", test.ListResult2(), "hello!")
		expect("list-result3", test.ListResult3(), []string{"hello,", "world!"})
		for _, b := range [][]byte{{'x'}, []byte("hello"), {0, 0xff, 0x80}, bytes.Repeat([]byte{7}, 1<<20)} {
			expect("list-roundtrip", test.ListRoundtrip(b), b)
		}
		for _, s := range []string{"x", "hello ⚑ world", "🚩" + strings.Repeat("z", 100000)} {
			expect("string-roundtrip", test.StringRoundtrip(s), s)
		}
		// list-minmax* are assert(0) in the fixture: not callable.
		return lines
	}
}

func main() {}
