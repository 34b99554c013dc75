package wave

import (
	"fmt"
	"math"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// equal reports whether two values in the value package's representation
// are the same: like reflect.DeepEqual, but floats compare by bits except
// that all NaNs are equal, and nil and empty slices are equal.
func equal(a, b any) bool {
	switch x := a.(type) {
	case float32:
		y, ok := b.(float32)
		return ok && (x != x && y != y || math.Float32bits(x) == math.Float32bits(y))
	case float64:
		y, ok := b.(float64)
		return ok && (x != x && y != y || math.Float64bits(x) == math.Float64bits(y))
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case value.Variant:
		y, ok := b.(value.Variant)
		return ok && x.Case == y.Case && equal(x.Value, y.Value)
	case nil:
		return b == nil
	}
	return a == b
}

// show prints a value for test failures.
func show(v any) string {
	switch x := v.(type) {
	case []any:
		s := "[]any{"
		for i, e := range x {
			if i > 0 {
				s += ", "
			}
			s += show(e)
		}
		return s + "}"
	case value.Variant:
		return fmt.Sprintf("Variant{%d, %s}", x.Case, show(x.Value))
	}
	return fmt.Sprintf("%T(%#v)", v, v)
}

// Test types.
var (
	recBasic = &value.Type{Kind: value.KindRecord, Name: "basic", Fields: []value.Field{
		{Name: "required", Type: value.U8},
		{Name: "optional", Type: value.OptionOf(value.U8)},
	}}
	recOptional = &value.Type{Kind: value.KindRecord, Name: "optional-fields", Fields: []value.Field{
		{Name: "a", Type: value.OptionOf(value.U8)},
		{Name: "b", Type: value.OptionOf(value.U8)},
	}}
	recKeywords = &value.Type{Kind: value.KindRecord, Name: "keyword-fields", Fields: []value.Field{
		{Name: "true", Type: value.Bool},
		{Name: "false", Type: value.Bool},
		{Name: "some", Type: value.OptionOf(value.U8)},
		{Name: "none", Type: value.OptionOf(value.U8)},
		{Name: "ok", Type: value.ResultOf(nil, nil)},
		{Name: "err", Type: value.ResultOf(nil, nil)},
		{Name: "inf", Type: value.F32},
		{Name: "nan", Type: value.F32},
	}}
	recEmpty  = &value.Type{Kind: value.KindRecord, Name: "empty"}
	enumHand  = &value.Type{Kind: value.KindEnum, Name: "hand", Labels: []string{"left", "right"}}
	enumKw    = &value.Type{Kind: value.KindEnum, Name: "keyword-cases", Labels: []string{"true", "false", "some", "none", "ok", "err", "inf", "nan"}}
	flagsPerm = &value.Type{Kind: value.KindFlags, Name: "permissions", Labels: []string{"read", "write", "exec"}}
	flags64   = func() *value.Type {
		t := &value.Type{Kind: value.KindFlags, Name: "many"}
		for i := range 64 {
			t.Labels = append(t.Labels, fmt.Sprintf("f%d", i))
		}
		return t
	}()
	variantResp = &value.Type{Kind: value.KindVariant, Name: "response", Cases: []value.Case{
		{Name: "empty"},
		{Name: "body", Type: value.ListOf(value.U8)},
		{Name: "err", Type: value.String},
		{Name: "HTTP3", Type: value.U16},
		{Name: "method-GET"},
	}}
	variantKw = &value.Type{Kind: value.KindVariant, Name: "kw", Cases: []value.Case{
		{Name: "true", Type: value.U8},
		{Name: "false"},
		{Name: "inf", Type: value.U8},
		{Name: "nan"},
		{Name: "some", Type: value.U8},
		{Name: "none"},
		{Name: "ok", Type: value.U8},
		{Name: "err"},
	}}
	resOkU8    = value.ResultOf(value.U8, nil)
	resErrU8   = value.ResultOf(nil, value.U8)
	resBothU8  = value.ResultOf(value.U8, value.U8)
	resNone    = value.ResultOf(nil, nil)
	resRecStr  = value.ResultOf(recBasic, value.String)
	optOptU8   = value.OptionOf(value.OptionOf(value.U8))
	optResU8   = value.OptionOf(resBothU8)
	resOptU8   = value.ResultOf(value.OptionOf(value.U8), value.String)
	nested     = value.ListOf(value.OptionOf(value.ResultOf(recBasic, value.String)))
	tupleMixed = value.TupleOf(value.Bool, value.Char, value.ListOf(value.U8), value.String)
	outStream  = &value.ResourceType{Name: "output-stream", Interface: "wasi:io/streams@0.2.0"}
)
