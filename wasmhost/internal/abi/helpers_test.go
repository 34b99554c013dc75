package abi

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

var (
	resA = &value.ResourceType{Name: "a", Interface: "test:abi/res"}
	resB = &value.ResourceType{Name: "b", Interface: "test:abi/res"}
)

var encodings = []StringEncoding{UTF8, UTF16, Latin1UTF16}

// newOpts returns options over a fresh test instance.
func newOpts(enc StringEncoding) (*Options, *testInstance) {
	inst := newTestInstance(1)
	return &Options{Encoding: enc, Instance: inst, HasRealloc: true, Handles: &HandleTable{}, Scope: &Scope{}}, inst
}

func labels(n int) []string {
	ls := make([]string, n)
	for i := range ls {
		ls[i] = fmt.Sprintf("f%d", i)
	}
	return ls
}

func flagsOf(n int) *value.Type { return &value.Type{Kind: value.KindFlags, Labels: labels(n)} }
func enumOf(n int) *value.Type  { return &value.Type{Kind: value.KindEnum, Labels: labels(n)} }

func variantOf(cases ...*value.Type) *value.Type {
	cs := make([]value.Case, len(cases))
	for i, c := range cases {
		cs[i] = value.Case{Name: fmt.Sprintf("c%d", i), Type: c}
	}
	return &value.Type{Kind: value.KindVariant, Cases: cs}
}

func recordOf(ts ...*value.Type) *value.Type {
	fs := make([]value.Field, len(ts))
	for i, t := range ts {
		fs[i] = value.Field{Name: fmt.Sprintf("f%d", i), Type: t}
	}
	return value.RecordOf(fs...)
}

func funcOfParams(params []*value.Type, results []*value.Type) *value.FuncType {
	ft := &value.FuncType{}
	for i, p := range params {
		ft.Params = append(ft.Params, value.Param{Name: fmt.Sprintf("p%d", i), Type: p})
	}
	for i, r := range results {
		name := ""
		if len(results) > 1 {
			name = fmt.Sprintf("r%d", i)
		}
		ft.Results = append(ft.Results, value.Param{Name: name, Type: r})
	}
	return ft
}

// gen builds random types and values.
type gen struct{ r *rand.Rand }

var primitiveKinds = []value.Kind{value.KindBool, value.KindS8, value.KindU8, value.KindS16, value.KindU16,
	value.KindS32, value.KindU32, value.KindS64, value.KindU64, value.KindF32, value.KindF64,
	value.KindChar, value.KindString}

// typ returns a random type of at most depth levels of nesting.
func (g gen) typ(depth int) *value.Type {
	r := g.r
	if depth <= 0 || r.IntN(3) == 0 {
		switch r.IntN(16) {
		case 0:
			return value.Own(resA)
		case 1:
			return value.Borrow(resB)
		case 2:
			return flagsOf(1 + r.IntN(64))
		case 3:
			return enumOf(1 + r.IntN(300))
		}
		return value.Primitive(primitiveKinds[r.IntN(len(primitiveKinds))])
	}
	n := 1 + r.IntN(4)
	ts := func() []*value.Type {
		out := make([]*value.Type, n)
		for i := range out {
			out[i] = g.typ(depth - 1)
		}
		return out
	}
	switch r.IntN(7) {
	case 0:
		return value.ListOf(g.typ(depth - 1))
	case 1:
		return recordOf(ts()...)
	case 2:
		return value.TupleOf(ts()...)
	case 3:
		cs := ts()
		for i := range cs {
			if r.IntN(3) == 0 {
				cs[i] = nil
			}
		}
		return variantOf(cs...)
	case 4:
		return value.OptionOf(g.typ(depth - 1))
	case 5:
		var ok, err *value.Type
		if r.IntN(3) > 0 {
			ok = g.typ(depth - 1)
		}
		if r.IntN(3) > 0 {
			err = g.typ(depth - 1)
		}
		return value.ResultOf(ok, err)
	}
	return value.ListOf(value.U8)
}

var sampleStrings = []string{"", "a", "hello, world", "ÿé", "naïve café", "日本語", "emoji 😀 mix ÿ", strings.Repeat("x", 100), "\x00nul", "ÿ"}

func (g gen) char() rune {
	r := g.r
	for {
		c := rune(r.IntN(0x110000))
		switch r.IntN(4) {
		case 0:
			c = rune(r.IntN(0x80))
		case 1:
			c = rune(r.IntN(0x100))
		}
		if c < 0xD800 || c > 0xDFFF {
			return c
		}
	}
}

func (g gen) string() string {
	r := g.r
	if r.IntN(2) == 0 {
		return sampleStrings[r.IntN(len(sampleStrings))]
	}
	var b strings.Builder
	for range r.IntN(20) {
		b.WriteRune(g.char())
	}
	return b.String()
}

// val returns a random value of t.
func (g gen) val(t *value.Type) any {
	r := g.r
	switch t.Kind {
	case value.KindBool:
		return r.IntN(2) == 0
	case value.KindS8:
		return int8(r.Uint32())
	case value.KindU8:
		return uint8(r.Uint32())
	case value.KindS16:
		return int16(r.Uint32())
	case value.KindU16:
		return uint16(r.Uint32())
	case value.KindS32:
		return int32(r.Uint32())
	case value.KindU32:
		return r.Uint32()
	case value.KindS64:
		return int64(r.Uint64())
	case value.KindU64:
		return r.Uint64()
	case value.KindF32:
		return float32(r.NormFloat64() * 1e6)
	case value.KindF64:
		return r.NormFloat64() * 1e300
	case value.KindChar:
		return g.char()
	case value.KindString:
		return g.string()
	case value.KindList:
		n := r.IntN(5)
		if t.Elem.Kind == value.KindU8 {
			b := make([]byte, n*7)
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			return b
		}
		out := make([]any, n)
		for i := range out {
			out[i] = g.val(t.Elem)
		}
		return out
	case value.KindRecord:
		out := make([]any, len(t.Fields))
		for i, f := range t.Fields {
			out[i] = g.val(f.Type)
		}
		return out
	case value.KindTuple:
		out := make([]any, len(t.Types))
		for i, e := range t.Types {
			out[i] = g.val(e)
		}
		return out
	case value.KindVariant, value.KindEnum, value.KindOption, value.KindResult:
		cs := t.VariantCases()
		i := r.IntN(len(cs))
		if cs[i].Type == nil {
			return value.Variant{Case: uint32(i)}
		}
		return value.Variant{Case: uint32(i), Value: g.val(cs[i].Type)}
	case value.KindFlags:
		f := r.Uint64()
		if n := len(t.Labels); n < 64 {
			f &= 1<<n - 1
		}
		return f
	case value.KindOwn, value.KindBorrow:
		return value.Handle{Type: t.Resource, Rep: r.Uint32()}
	}
	panic("no value for " + t.String())
}

// equal compares values, floats by bits.
func equal(a, b any) bool {
	switch x := a.(type) {
	case float32:
		y, ok := b.(float32)
		return ok && math.Float32bits(x) == math.Float32bits(y)
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
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
	}
	return reflect.DeepEqual(a, b)
}
