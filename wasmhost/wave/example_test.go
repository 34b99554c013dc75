package wave_test

import (
	"fmt"

	"github.com/wbox-dev/wbox/wasmhost/value"
	"github.com/wbox-dev/wbox/wasmhost/wave"
)

func ExampleParse() {
	point := value.RecordOf(
		value.Field{Name: "x", Type: value.S32},
		value.Field{Name: "y", Type: value.S32},
		value.Field{Name: "label", Type: value.OptionOf(value.String)},
	)
	v, err := wave.Parse(point, `{y: -2, x: 1, label: "origin"}`)
	fmt.Printf("%#v %v\n", v, err)

	// Option fields may be left out, and some(…) may be left implicit.
	v, err = wave.Parse(point, `{x: 0, y: 0}`)
	fmt.Printf("%#v %v\n", v, err)

	_, err = wave.Parse(value.ListOf(value.U8), "[1, 2, 300]")
	fmt.Println(err)
	_, err = wave.Parse(point, "{x: 1, z: 2}")
	fmt.Println(err)
	// Output:
	// []interface {}{1, -2, value.Variant{Case:0x1, Value:"origin"}} <nil>
	// []interface {}{0, 0, value.Variant{Case:0x0, Value:interface {}(nil)}} <nil>
	// 1:8: 300 is out of range for u8 (0 to 255)
	// 1:8: unknown field "z" of record { x: s32, y: s32, label: option<string> } (fields: x, y, label)
}

func ExampleFormat() {
	status := &value.Type{Kind: value.KindEnum, Name: "status", Labels: []string{"ok", "not-found"}}
	t := value.TupleOf(
		value.ListOf(value.ResultOf(value.U32, value.String)),
		value.OptionOf(value.F64),
		value.Char,
		status,
	)
	s, err := wave.Format(t, []any{
		[]any{value.Ok(uint32(1)), value.Err("bad\tinput")},
		value.Some(0.1),
		'☃',
		value.Variant{Case: 0}, // a keyword as a case name takes a %
	})
	fmt.Println(s, err)
	// Output:
	// ([ok(1), err("bad\tinput")], some(0.1), '☃', %ok) <nil>
}

func ExampleParseArgs() {
	params := []value.Param{
		{Name: "greeting", Type: value.String},
		{Name: "times", Type: value.U32},
		{Name: "loud", Type: value.OptionOf(value.Bool)},
	}
	args, err := wave.ParseArgs(params, []string{`"hello"`, "3"})
	fmt.Printf("%#v %v\n", args, err)
	_, err = wave.ParseArgs(params, []string{`"hello"`, "three"})
	fmt.Println(err)
	// Output:
	// []interface {}{"hello", 0x3, value.Variant{Case:0x0, Value:interface {}(nil)}} <nil>
	// parameter "times" (u32): 1:1: expected u32, got "three"
}

func ExampleFormatResults() {
	one := []value.Param{{Type: value.String}}
	two := []value.Param{{Name: "n", Type: value.U8}, {Name: "s", Type: value.String}}
	s1, _ := wave.FormatResults(one, []any{"done"})
	s2, _ := wave.FormatResults(two, []any{uint8(1), "x"})
	fmt.Println(s1)
	fmt.Println(s2)
	// Output:
	// "done"
	// (1, "x")
}
