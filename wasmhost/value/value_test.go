package value

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	res := &ResourceType{Name: "file"}
	other := &ResourceType{Name: "dir"}
	rec := &Type{Kind: KindRecord, Name: "point", Fields: []Field{{"x", S32}, {"tags", ListOf(String)}}}
	variant := &Type{Kind: KindVariant, Cases: []Case{{"none", nil}, {"num", U8}}}
	flags := &Type{Kind: KindFlags, Labels: []string{"read", "write"}}
	for _, tc := range []struct {
		t    *Type
		v    any
		want string // "" means valid
	}{
		{Bool, true, ""},
		{U8, uint8(1), ""},
		{U8, 1, "value: int is not a u8"},
		{Char, rune(0x1F600), ""},
		{Char, rune(0xD800), "value: 0xd800 is not a Unicode scalar value"},
		{String, "héllo", ""},
		{String, "\xff", "value: string is not valid UTF-8"},
		{ListOf(U8), []byte("x"), ""},
		{ListOf(U8), []any{uint8(1)}, "is not a list<u8>"},
		{ListOf(String), []any{"a", 3}, "value[1]: int is not a string"},
		{rec, []any{int32(1), []any{"a"}}, ""},
		{rec, []any{int32(1)}, "value: 1 values for a record of 2"},
		{rec, []any{int32(1), []any{"a", "\xfe"}}, "value.tags[1]: string is not valid UTF-8"},
		{TupleOf(U32, String), []any{uint32(1), 2}, "value.1: int is not a string"},
		{variant, Variant{Case: 1, Value: uint8(3)}, ""},
		{variant, Variant{Case: 0, Value: uint8(3)}, "value: case none has no payload, got uint8"},
		{variant, Variant{Case: 2}, "value: case 2 of a variant with 2 cases"},
		{OptionOf(String), Some("x"), ""},
		{OptionOf(String), Some(1), "value.some: int is not a string"},
		{ResultOf(nil, String), Ok(nil), ""},
		{ResultOf(nil, String), Err(1), "value.err: int is not a string"},
		{flags, uint64(3), ""},
		{flags, uint64(4), "value: flags 0x4 set bits beyond the 2 labels"},
		{Own(res), Handle{Type: res, Rep: 1}, ""},
		{Borrow(res), Handle{Type: other, Rep: 1}, "value: a dir handle where a file handle belongs"},
	} {
		err := Check(tc.t, tc.v)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Check(%s, %#v) = %v, want nil", tc.t, tc.v, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Check(%s, %#v) = %v, want an error containing %q", tc.t, tc.v, err, tc.want)
		}
	}
}

func TestEqualAndString(t *testing.T) {
	r := &ResourceType{Name: "r"}
	a := &Type{Kind: KindRecord, Name: "a", Fields: []Field{{"x", ListOf(OptionOf(U32))}}}
	b := &Type{Kind: KindRecord, Name: "b", Fields: []Field{{"x", ListOf(OptionOf(U32))}}}
	c := &Type{Kind: KindRecord, Fields: []Field{{"y", ListOf(OptionOf(U32))}}}
	if !Equal(a, b) {
		t.Error("records equal but for their names are not Equal")
	}
	if Equal(a, c) {
		t.Error("records with different field names are Equal")
	}
	if Equal(Own(r), Own(&ResourceType{Name: "r"})) {
		t.Error("distinct resources with one name are Equal")
	}
	for _, tc := range []struct {
		t    *Type
		want string
	}{
		{a, "a"},
		{ResultOf(nil, nil), "result"},
		{ResultOf(U8, nil), "result<u8>"},
		{ResultOf(nil, String), "result<_, string>"},
		{TupleOf(U8, Char), "tuple<u8, char>"},
		{Borrow(r), "borrow<r>"},
	} {
		if got := tc.t.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
	if got := a.Definition(); got != "record { x: list<option<u32>> }" {
		t.Errorf("Definition() = %q", got)
	}
	ft := &FuncType{Params: []Param{{"a", U32}}, Results: []Param{{Type: String}}}
	if got := ft.String(); got != "func(a: u32) -> string" {
		t.Errorf("FuncType.String() = %q", got)
	}
}

func BenchmarkCheckRecord(b *testing.B) {
	rec := &Type{Kind: KindRecord, Fields: []Field{{"text", String}, {"tags", ListOf(String)}}}
	v := []any{"hello", []any{"a", "b", "c"}}
	b.ReportAllocs()
	for range b.N {
		if err := Check(rec, v); err != nil {
			b.Fatal(err)
		}
	}
}
