// The client of the adder fixture (docs:adder/add): run calls it through
// an arrow and checks every result.
package main

import (
	"fmt"
	"reflect"

	"fxadder/gen/docs/adder/add"
	"fxadder/gen/local/fxadder/check"
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
		expect("add", add.Add(1, 2), uint32(3))
		expect("add zero", add.Add(0, 0), uint32(0))
		expect("add wraps", add.Add(4000000000, 300000000), uint32(5032704))
		return lines
	}
}

func main() {}
