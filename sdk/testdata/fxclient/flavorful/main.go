// The client of the flavorful fixture (test:flavorful/test): lists inside
// records, aliases, options and results, enums, through an arrow. (The
// fixture asserts the parameters it receives.)
package main

import (
	"fmt"
	"reflect"

	"fxflavorful/gen/cabi"
	"fxflavorful/gen/local/fxflavorful/check"
	"fxflavorful/gen/test/flavorful/test"
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
		test.FListInRecord1(test.ListInRecord1{A: "list_in_record1"})
		expect("f-list-in-record2", test.FListInRecord2(), test.ListInRecord2{A: "list_in_record2"})
		expect("f-list-in-record3", test.FListInRecord3(test.ListInRecord3{A: "list_in_record3 input"}), test.ListInRecord3{A: "list_in_record3 output"})
		expect("f-list-in-record4", test.FListInRecord4(test.ListInRecord4{A: "input4"}), test.ListInRecord4{A: "result4"})
		test.FListInVariant1(cabi.Some("foo"), cabi.Err[cabi.Unit]("bar"))
		expect("f-list-in-variant2", test.FListInVariant2(), cabi.Some("list_in_variant2"))
		expect("f-list-in-variant3", test.FListInVariant3(cabi.Some("input3")), cabi.Some("output3"))
		expect("errno-result", test.ErrnoResult(), cabi.Err[cabi.Unit](test.MyErrnoB))
		td := test.ListTypedefs("typedef1", []string{"typedef2"})
		expect("list-typedefs", string(td.F0), "typedef3")
		expect("list-typedefs", td.F1, []string{"typedef4"})
		return lines
	}
}

func main() {}
