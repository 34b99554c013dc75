package abi

import (
	"slices"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

func TestLayout(t *testing.T) {
	tests := []struct {
		name        string
		t           *value.Type
		size, align uint32
		flat        []byte
	}{
		{"bool", value.Bool, 1, 1, []byte{I32}},
		{"s8", value.S8, 1, 1, []byte{I32}},
		{"u16", value.U16, 2, 2, []byte{I32}},
		{"s32", value.S32, 4, 4, []byte{I32}},
		{"u64", value.U64, 8, 8, []byte{I64}},
		{"f32", value.F32, 4, 4, []byte{F32}},
		{"f64", value.F64, 8, 8, []byte{F64}},
		{"char", value.Char, 4, 4, []byte{I32}},
		{"string", value.String, 8, 4, []byte{I32, I32}},
		{"list<u8>", value.ListOf(value.U8), 8, 4, []byte{I32, I32}},
		{"list<f64>", value.ListOf(value.F64), 8, 4, []byte{I32, I32}},
		{"own", value.Own(resA), 4, 4, []byte{I32}},
		{"borrow", value.Borrow(resA), 4, 4, []byte{I32}},
		{"record{a:u8,b:u32,c:u16}", recordOf(value.U8, value.U32, value.U16), 12, 4, []byte{I32, I32, I32}},
		{"record{a:u8,b:u64}", recordOf(value.U8, value.U64), 16, 8, []byte{I32, I64}},
		{"tuple<u8,u8,u16>", value.TupleOf(value.U8, value.U8, value.U16), 4, 2, []byte{I32, I32, I32}},
		{"tuple<char,string>", value.TupleOf(value.Char, value.String), 12, 4, []byte{I32, I32, I32}},
		{"variant{i64,f32}", variantOf(value.S64, value.F32), 16, 8, []byte{I32, I64}},
		{"variant{f32,u32}", variantOf(value.F32, value.U32), 8, 4, []byte{I32, I32}},
		{"variant{f32,f32}", variantOf(value.F32, value.F32), 8, 4, []byte{I32, F32}},
		{"variant{f64,u32}", variantOf(value.F64, value.U32), 16, 8, []byte{I32, I64}},
		{"variant{_,tuple<f32,u64>,tuple<u32,f64,u8>}",
			variantOf(nil, value.TupleOf(value.F32, value.U64), value.TupleOf(value.U32, value.F64, value.U8)),
			32, 8, []byte{I32, I32, I64, I32}},
		{"variant{u8,_}", variantOf(value.U8, nil), 2, 1, []byte{I32, I32}},
		{"variant{_}", variantOf(nil), 1, 1, []byte{I32}},
		{"result<u64,f32>", value.ResultOf(value.U64, value.F32), 16, 8, []byte{I32, I64}},
		{"result<_,string>", value.ResultOf(nil, value.String), 12, 4, []byte{I32, I32, I32}},
		{"result", value.ResultOf(nil, nil), 1, 1, []byte{I32}},
		{"option<u8>", value.OptionOf(value.U8), 2, 1, []byte{I32, I32}},
		{"option<string>", value.OptionOf(value.String), 12, 4, []byte{I32, I32, I32}},
		{"option<option<u16>>", value.OptionOf(value.OptionOf(value.U16)), 6, 2, []byte{I32, I32, I32}},
		{"enum 2", enumOf(2), 1, 1, []byte{I32}},
		{"enum 256", enumOf(256), 1, 1, []byte{I32}},
		{"enum 257", enumOf(257), 2, 2, []byte{I32}},
		{"enum 65536", enumOf(65536), 2, 2, []byte{I32}},
		{"enum 65537", enumOf(65537), 4, 4, []byte{I32}},
		{"flags 0", flagsOf(0), 0, 1, nil},
		{"flags 1", flagsOf(1), 1, 1, []byte{I32}},
		{"flags 8", flagsOf(8), 1, 1, []byte{I32}},
		{"flags 9", flagsOf(9), 2, 2, []byte{I32}},
		{"flags 16", flagsOf(16), 2, 2, []byte{I32}},
		{"flags 17", flagsOf(17), 4, 4, []byte{I32}},
		{"flags 32", flagsOf(32), 4, 4, []byte{I32}},
		{"flags 33", flagsOf(33), 8, 4, []byte{I32, I32}},
		{"flags 64", flagsOf(64), 8, 4, []byte{I32, I32}},
		{"record{flags 9, u8}", recordOf(flagsOf(9), value.U8), 4, 2, []byte{I32, I32}},
		{"list<record{u8,u32,u16}>", value.ListOf(recordOf(value.U8, value.U32, value.U16)), 8, 4, []byte{I32, I32}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Size(tt.t); got != tt.size {
				t.Errorf("Size = %d, want %d", got, tt.size)
			}
			if got := Align(tt.t); got != tt.align {
				t.Errorf("Align = %d, want %d", got, tt.align)
			}
			if got := Flatten(tt.t); !slices.Equal(got, tt.flat) {
				t.Errorf("Flatten = %x, want %x", got, tt.flat)
			}
		})
	}
}

func TestFlattenIsACopy(t *testing.T) {
	ty := value.TupleOf(value.U32, value.F32)
	f := Flatten(ty)
	f[0] = F64
	if got := Flatten(ty); got[0] != I32 {
		t.Fatalf("Flatten returned the cached slice")
	}
}

func TestFlatSignature(t *testing.T) {
	u32s := func(n int) []*value.Type {
		ts := make([]*value.Type, n)
		for i := range ts {
			ts[i] = value.U32
		}
		return ts
	}
	rep := func(b byte, n int) []byte { return slices.Repeat([]byte{b}, n) }
	tests := []struct {
		name           string
		ft             *value.FuncType
		liftP, liftR   []byte
		lowerP, lowerR []byte
	}{
		{"nothing", funcOfParams(nil, nil), nil, nil, nil, nil},
		{"u32->u32", funcOfParams(u32s(1), u32s(1)), rep(I32, 1), rep(I32, 1), rep(I32, 1), rep(I32, 1)},
		{"16 params", funcOfParams(u32s(16), nil), rep(I32, 16), nil, rep(I32, 16), nil},
		{"17 params", funcOfParams(u32s(17), nil), rep(I32, 1), nil, rep(I32, 1), nil},
		{"8 strings", funcOfParams(slices.Repeat([]*value.Type{value.String}, 8), nil), rep(I32, 16), nil, rep(I32, 16), nil},
		{"9 strings", funcOfParams(slices.Repeat([]*value.Type{value.String}, 9), nil), rep(I32, 1), nil, rep(I32, 1), nil},
		{"-> string", funcOfParams([]*value.Type{value.F64}, []*value.Type{value.String}),
			[]byte{F64}, rep(I32, 1), []byte{F64, I32}, nil},
		{"-> (u32, u32)", funcOfParams(nil, u32s(2)), nil, rep(I32, 1), rep(I32, 1), nil},
		{"17 -> 2", funcOfParams(u32s(17), u32s(2)), rep(I32, 1), rep(I32, 1), rep(I32, 2), nil},
		{"-> result<u64,f32>", funcOfParams(nil, []*value.Type{value.ResultOf(value.U64, value.F32)}),
			nil, rep(I32, 1), rep(I32, 1), nil},
		{"-> f32", funcOfParams([]*value.Type{value.U64}, []*value.Type{value.F32}),
			[]byte{I64}, []byte{F32}, []byte{I64}, []byte{F32}},
		{"-> record{u8}", funcOfParams(nil, []*value.Type{recordOf(value.U8)}), nil, rep(I32, 1), nil, rep(I32, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, r := FlatSignature(tt.ft, false)
			if !slices.Equal(p, tt.liftP) || !slices.Equal(r, tt.liftR) {
				t.Errorf("lift: %x -> %x, want %x -> %x", p, r, tt.liftP, tt.liftR)
			}
			p, r = FlatSignature(tt.ft, true)
			if !slices.Equal(p, tt.lowerP) || !slices.Equal(r, tt.lowerR) {
				t.Errorf("lower: %x -> %x, want %x -> %x", p, r, tt.lowerP, tt.lowerR)
			}
		})
	}
}

func TestInvalidTypes(t *testing.T) {
	for _, ty := range []*value.Type{
		value.ListOf(nil),
		value.ListOf(flagsOf(0)),
		value.ListOf(value.TupleOf()),
		value.ListOf(recordOf(flagsOf(0), value.TupleOf())),
		flagsOf(65),
		{Kind: value.KindOwn},
		{Kind: value.KindInvalid},
		recordOf(value.U8, nil),
		value.OptionOf(value.ListOf(nil)),
	} {
		o, _ := newOpts(UTF8)
		if _, err := Load(o, ty, 0); err == nil {
			t.Errorf("Load %s: no error", ty)
		}
		if err := Store(o, ty, nil, 0); err == nil {
			t.Errorf("Store %s: no error", ty)
		}
		if _, err := LiftFlat(o, ty, make([]uint64, 32)); err == nil {
			t.Errorf("LiftFlat %s: no error", ty)
		}
		if _, err := LowerFlat(o, ty, nil, nil); err == nil {
			t.Errorf("LowerFlat %s: no error", ty)
		}
		if _, err := Compile(funcOfParams([]*value.Type{ty}, nil)); err == nil {
			t.Errorf("Compile with param %s: no error", ty)
		}
		_ = Size(ty) // must not panic
		_ = Flatten(ty)
	}
}
