package abi

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// wantTrap fails unless err is a *Trap whose message contains want.
func wantTrap(t *testing.T, what string, err error, want string) {
	t.Helper()
	var tr *Trap
	if !errors.As(err, &tr) || !errors.Is(err, ErrTrap) {
		t.Errorf("%s: got %v (%T), want a trap %q", what, err, err, want)
		return
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("%s: trap %q does not contain %q", what, err, want)
	}
}

// wantValueError fails unless err is a *ValueError containing want.
func wantValueError(t *testing.T, what string, err error, want string) {
	t.Helper()
	var ve *ValueError
	if !errors.As(err, &ve) {
		t.Errorf("%s: got %v (%T), want a ValueError %q", what, err, err, want)
		return
	}
	if errors.Is(err, ErrTrap) {
		t.Errorf("%s: a ValueError is a trap", what)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("%s: %q does not contain %q", what, err, want)
	}
}

// optsWithMem returns options over a memory of n bytes filled by fill.
func optsWithMem(enc StringEncoding, pages int, fill func(m []byte)) *Options {
	inst := newTestInstance(pages)
	if fill != nil {
		fill(inst.mem)
	}
	return &Options{Encoding: enc, Instance: inst, HasRealloc: true, Handles: &HandleTable{}, Scope: &Scope{}}
}

func putStr(m []byte, at, ptr, n uint32) {
	binary.LittleEndian.PutUint32(m[at:], ptr)
	binary.LittleEndian.PutUint32(m[at+4:], n)
}

func TestStringTraps(t *testing.T) {
	tests := []struct {
		name   string
		enc    StringEncoding
		ptr, n uint32
		bytes  []byte // written at ptr when in bounds
		want   string
	}{
		{"oob", UTF8, 0x10fff0, 64, nil, "string pointer 0x10fff0 + 64 bytes is out of bounds of 1114112-byte memory"},
		{"oob by one", UTF8, 1114112 - 3, 4, nil, "out of bounds"},
		{"ptr+len overflows", UTF8, 0xfffffff0, 0x100, nil, "string pointer 0xfffffff0 + 256 bytes is out of bounds"},
		{"too long utf8", UTF8, 0, 1 << 28, nil, "string of 268435456 bytes exceeds the maximum of 268435455 bytes"},
		{"too long utf16", UTF16, 0, 1 << 27, nil, "string of 268435456 bytes exceeds the maximum"},
		{"huge utf16 length", UTF16, 0, 0xffffffff, nil, "exceeds the maximum"},
		{"too long tagged utf16", Latin1UTF16, 0, UTF16Tag | 1<<27, nil, "exceeds the maximum"},
		{"too long latin1", Latin1UTF16, 0, 1 << 28, nil, "exceeds the maximum"},
		{"misaligned utf16", UTF16, 0x101, 1, nil, "string pointer 0x101 is not 2-byte aligned"},
		{"misaligned latin1", Latin1UTF16, 0x101, 1, nil, "not 2-byte aligned"},
		{"bad utf8 continuation", UTF8, 0x100, 2, []byte{0xC3, 0x28}, "invalid UTF-8 in string at 0x100"},
		{"utf8 surrogate", UTF8, 0x100, 3, []byte{0xED, 0xA0, 0x80}, "invalid UTF-8"},
		{"utf8 overlong", UTF8, 0x100, 2, []byte{0xC0, 0x80}, "invalid UTF-8"},
		{"utf8 truncated", UTF8, 0x100, 2, []byte{0xE2, 0x82}, "invalid UTF-8"},
		{"utf16 lone low", UTF16, 0x100, 1, []byte{0x00, 0xDC}, "unpaired surrogate 0xdc00"},
		{"utf16 lone high at end", UTF16, 0x100, 2, []byte{'a', 0, 0x00, 0xD8}, "unpaired surrogate 0xd800"},
		{"utf16 high then non-low", UTF16, 0x100, 2, []byte{0x00, 0xD8, 'a', 0}, "unpaired surrogate 0xd800"},
		{"utf16 high high", UTF16, 0x100, 2, []byte{0x00, 0xD8, 0x00, 0xD8}, "unpaired surrogate"},
		{"utf16 lone high after ascii run", UTF16, 0x100, 5, []byte{'a', 0, 'b', 0, 'c', 0, 'd', 0, 0x00, 0xD8}, "unpaired surrogate 0xd800"},
		{"utf16 lone low after ascii run", UTF16, 0x100, 9, []byte{'a', 0, 'b', 0, 'c', 0, 'd', 0, 'a', 0, 'b', 0, 'c', 0, 'd', 0, 0x00, 0xDC}, "unpaired surrogate 0xdc00"},
		{"utf16 non-ascii inside a run", UTF16, 0x100, 4, []byte{'a', 0, 'b', 0, 0x00, 0xDC, 'd', 0}, "unpaired surrogate 0xdc00"},
		{"tagged utf16 lone", Latin1UTF16, 0x100, UTF16Tag | 1, []byte{0xff, 0xdf}, "unpaired surrogate 0xdfff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := optsWithMem(tt.enc, 17, func(m []byte) {
				if tt.bytes != nil {
					copy(m[tt.ptr:], tt.bytes)
				}
				putStr(m, 16, tt.ptr, tt.n)
			})
			_, err := LiftFlat(o, value.String, []uint64{uint64(tt.ptr), uint64(tt.n)})
			wantTrap(t, "LiftFlat", err, tt.want)
			_, err = Load(o, value.String, 16)
			wantTrap(t, "Load", err, tt.want)
		})
	}
}

func TestStringLift(t *testing.T) {
	tests := []struct {
		enc   StringEncoding
		n     uint32
		bytes []byte
		want  string
	}{
		{UTF8, 0, nil, ""},
		{UTF8, 4, []byte("h€"[:4]), "h€"[:4]},
		{UTF16, 0, nil, ""},
		{UTF16, 3, []byte{'a', 0, 0xAC, 0x20, 0xFF, 0}, "a€ÿ"},
		{UTF16, 2, []byte{0x3D, 0xD8, 0x00, 0xDE}, "😀"},
		{UTF16, 4, []byte{'a', 0, 'b', 0, 'c', 0, 'd', 0}, "abcd"},
		{UTF16, 7, []byte{'a', 0, 'b', 0, 'c', 0, 'd', 0, 0x3D, 0xD8, 0x00, 0xDE, 'e', 0}, "abcd😀e"},
		{UTF16, 5, []byte{'a', 0, 0xE9, 0, 'c', 0, 'd', 0, 'e', 0}, "aécde"},
		{UTF16, 5, []byte{'a', 0, 'b', 0, 'c', 0, 'd', 0, 'e', 1}, "abcdť"},
		{UTF16, 3, []byte{0xFF, 0xDB, 0xFF, 0xDF, 0, 0}, "\U0010FFFF\x00"},
		{Latin1UTF16, 3, []byte{'a', 0xFF, 0xE9}, "aÿé"},
		{Latin1UTF16, 2, []byte{'o', 'k'}, "ok"},
		{Latin1UTF16, UTF16Tag | 2, []byte{0xAC, 0x20, 'x', 0}, "€x"},
		{Latin1UTF16, UTF16Tag, nil, ""},
	}
	for _, tt := range tests {
		o := optsWithMem(tt.enc, 1, func(m []byte) { copy(m[0x100:], tt.bytes) })
		got, err := LiftFlat(o, value.String, []uint64{0x100, uint64(tt.n)})
		if err != nil || got != tt.want {
			t.Errorf("%s %x: got %q, %v; want %q", tt.enc, tt.bytes, got, err, tt.want)
		}
	}
}

func TestScalarLiftWrapping(t *testing.T) {
	o, _ := newOpts(UTF8)
	tests := []struct {
		t    *value.Type
		flat uint64
		want any
	}{
		{value.Bool, 2, true},
		{value.Bool, 0xffffffff00000000, false}, // only the low 32 bits count
		{value.U8, 0x1ff, uint8(0xff)},
		{value.S8, 0x180, int8(-128)},
		{value.S8, 0xffffffff, int8(-1)},
		{value.U16, 0x12345678, uint16(0x5678)},
		{value.S16, 0x8000, int16(-32768)},
		{value.U32, 0xdeadbeef_ffffffff, uint32(0xffffffff)},
		{value.S32, 0x80000000, int32(-1 << 31)},
		{value.S64, 0xffffffffffffffff, int64(-1)},
		{value.Char, 0x7fffffff_0000263a, '☺'},
		{enumOf(3), 0xffffffff_00000002, value.Variant{Case: 2}},
		{flagsOf(3), 0xff, uint64(7)}, // bits beyond the labels are ignored
		{flagsOf(33), 0x0, uint64(0)},
	}
	for _, tt := range tests {
		flat := []uint64{tt.flat, 0}
		if tt.t.Kind == value.KindFlags && len(tt.t.Labels) > 32 {
			flat = []uint64{0xffffffff_00000000, 0xffffffff_00000003}
			tt.want = uint64(1) << 32
		}
		got, err := LiftFlat(o, tt.t, flat)
		if err != nil || !equal(got, tt.want) {
			t.Errorf("LiftFlat %s %#x = %#v, %v; want %#v", tt.t, tt.flat, got, err, tt.want)
		}
	}
	// Flags in memory ignore bits beyond the labels too.
	o = optsWithMem(UTF8, 1, func(m []byte) { m[0], m[1] = 0xff, 0xff })
	if got, err := Load(o, flagsOf(9), 0); err != nil || got != uint64(0x1ff) {
		t.Errorf("Load flags 9 = %v, %v", got, err)
	}
	if got, err := Load(o, value.Bool, 1); err != nil || got != true {
		t.Errorf("Load bool 0xff = %v, %v", got, err)
	}
}

func TestScalarLowerExtension(t *testing.T) {
	o, _ := newOpts(UTF8)
	tests := []struct {
		t    *value.Type
		v    any
		want uint64
	}{
		{value.S8, int8(-1), 0xffffffff},
		{value.S16, int16(-2), 0xfffffffe},
		{value.S32, int32(-3), 0xfffffffd},
		{value.S64, int64(-4), 0xfffffffffffffffc},
		{value.U8, uint8(200), 200},
		{value.Bool, true, 1},
		{value.F32, float32(1), 0x3f800000},
		{value.Char, '€', 0x20ac},
		{flagsOf(3), uint64(0x7), 7},
	}
	for _, tt := range tests {
		got, err := LowerFlat(o, tt.t, tt.v, nil)
		if err != nil || len(got) != 1 || got[0] != tt.want {
			t.Errorf("LowerFlat %s %v = %#x, %v; want %#x", tt.t, tt.v, got, err, tt.want)
		}
	}
	// Guest memory's extra flag bits are ignored on lift, but a host value
	// setting bits beyond the labels is the host's bug.
	var ve *ValueError
	if _, err := LowerFlat(o, flagsOf(3), uint64(0xff), nil); !errors.As(err, &ve) {
		t.Errorf("LowerFlat flags 0xff over 3 labels: %v, want a ValueError", err)
	}
	// A variant joining f32 and i64 zero-extends the f32 bits.
	got, err := LowerFlat(o, variantOf(value.S64, value.F32), value.Variant{Case: 1, Value: float32(-1)}, nil)
	if err != nil || len(got) != 2 || got[0] != 1 || got[1] != 0xbf800000 {
		t.Errorf("variant f32 in i64 slot = %#x, %v", got, err)
	}
	// Unused joined slots are zero.
	got, err = LowerFlat(o, variantOf(nil, value.TupleOf(value.U64, value.U64)), value.Variant{Case: 0}, []uint64{7})
	if err != nil || len(got) != 4 || got[1] != 0 || got[2] != 0 || got[3] != 0 {
		t.Errorf("variant padding = %#x, %v", got, err)
	}
	// Lifting reads an f32 payload from the low bits of an i64 slot.
	v, err := LiftFlat(o, variantOf(value.S64, value.F32), []uint64{1, 0xffffffff_3f800000})
	if err != nil || !equal(v, value.Variant{Case: 1, Value: float32(1)}) {
		t.Errorf("f32 from i64 slot = %#v, %v", v, err)
	}
	v, err = LiftFlat(o, variantOf(value.U8, value.F64), []uint64{0, 0x1234})
	if err != nil || !equal(v, value.Variant{Case: 0, Value: uint8(0x34)}) {
		t.Errorf("u8 from i64 slot = %#v, %v", v, err)
	}
}

func TestDiscriminantTraps(t *testing.T) {
	v3 := variantOf(value.U8, nil, value.String)
	tests := []struct {
		t    *value.Type
		disc uint32
		want string
	}{
		{v3, 3, "invalid discriminant 3 for variant with 3 cases"},
		{v3, 7, "invalid discriminant 7 for variant with 3 cases"},
		{enumOf(2), 2, "invalid discriminant 2 for enum with 2 cases"},
		{value.OptionOf(value.U8), 2, "invalid discriminant 2 for option with 2 cases"},
		{value.ResultOf(nil, nil), 255, "invalid discriminant 255 for result"},
		{enumOf(300), 300, "invalid discriminant 300 for enum with 300 cases"},
		{enumOf(70000), 0xffffffff, "invalid discriminant 4294967295 for enum"},
		{variantOf(), 0, "invalid discriminant 0 for variant with 0 cases"},
	}
	for _, tt := range tests {
		o := optsWithMem(UTF8, 1, func(m []byte) { binary.LittleEndian.PutUint32(m[8:], tt.disc) })
		_, err := Load(o, tt.t, 8)
		wantTrap(t, "Load "+tt.t.String(), err, tt.want)
		flat := make([]uint64, len(Flatten(tt.t)))
		flat[0] = uint64(tt.disc)
		_, err = LiftFlat(o, tt.t, flat)
		wantTrap(t, "LiftFlat "+tt.t.String(), err, tt.want)
	}
	// The discriminant is as wide as the case count needs: a u8 one ignores
	// the following bytes.
	o := optsWithMem(UTF8, 1, func(m []byte) { m[0], m[1] = 1, 0xff })
	if v, err := Load(o, enumOf(2), 0); err != nil || !equal(v, value.Variant{Case: 1}) {
		t.Errorf("u8 discriminant = %v, %v", v, err)
	}
	if _, err := Load(o, enumOf(257), 0); err == nil {
		t.Errorf("u16 discriminant 0xff01 accepted")
	}
}

func TestCharTraps(t *testing.T) {
	for _, c := range []uint32{0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0x110000, 0xFFFFFFFF} {
		o := optsWithMem(UTF8, 1, func(m []byte) { binary.LittleEndian.PutUint32(m[4:], c) })
		want := "invalid char " + "0x" + strings.TrimLeft(strings.ToLower(hex32(c)), "0")
		_, err := Load(o, value.Char, 4)
		wantTrap(t, "Load", err, want)
		_, err = LiftFlat(o, value.Char, []uint64{uint64(c)})
		wantTrap(t, "LiftFlat", err, want)
		_, err = LiftFlat(o, value.OptionOf(value.Char), []uint64{1, uint64(c)})
		wantTrap(t, "LiftFlat option", err, want)
		_, err = LowerFlat(o, value.Char, rune(c), nil)
		wantValueError(t, "LowerFlat", err, "not a Unicode scalar value")
		err = Store(o, value.Char, rune(c), 0)
		wantValueError(t, "Store", err, "not a Unicode scalar value")
	}
}

func hex32(x uint32) string {
	const digits = "0123456789abcdef"
	var b [8]byte
	for i := range b {
		b[7-i] = digits[x>>(4*i)&0xf]
	}
	return string(b[:])
}

func TestPointerTraps(t *testing.T) {
	o := optsWithMem(UTF8, 1, nil)
	for _, tt := range []struct {
		t    *value.Type
		ptr  uint32
		want string
	}{
		{value.U32, 2, "u32 pointer 0x2 is not 4-byte aligned"},
		{value.U64, 4, "not 8-byte aligned"},
		{value.U16, 0xffff, "not 2-byte aligned"},
		{value.U32, 0x10000, "u32 pointer 0x10000 + 4 bytes is out of bounds of 65536-byte memory"},
		{value.U64, 0xfffffff8, "out of bounds"},
		{value.String, 0xfffc, "string pointer 0xfffc + 8 bytes is out of bounds"},
		{recordOf(value.U8, value.U32, value.U16), 0xfff8, "record pointer 0xfff8 + 12 bytes is out of bounds"},
		{recordOf(value.U8, value.U32, value.U16), 2, "record pointer 0x2 is not 4-byte aligned"},
	} {
		_, err := Load(o, tt.t, tt.ptr)
		wantTrap(t, "Load "+tt.t.String(), err, tt.want)
		err = Store(o, tt.t, nil, tt.ptr)
		wantTrap(t, "Store "+tt.t.String(), err, tt.want)
	}
}

func TestListTraps(t *testing.T) {
	tests := []struct {
		el     *value.Type
		ptr, n uint32
		want   string
	}{
		{value.U8, 0xfff0, 0x11, "list pointer 0xfff0 + 17 bytes is out of bounds of 65536-byte memory"},
		{value.U8, 0xffffffff, 2, "list pointer 0xffffffff + 2 bytes is out of bounds"},
		{value.U32, 2, 1, "list pointer 0x2 is not 4-byte aligned"},
		{value.U64, 4, 1, "not 8-byte aligned"},
		{value.U8, 0, 1 << 28, "list of 268435456 1-byte elements exceeds the maximum of 268435455 bytes"},
		{value.U64, 0, 1 << 25, "list of 33554432 8-byte elements exceeds the maximum"},
		{value.U64, 0, 0xffffffff, "exceeds the maximum"},
		{recordOf(value.U8, value.U32, value.U16), 0, 0x20000000, "exceeds the maximum"},
		{value.String, 0, 0x2001, "out of bounds"},
	}
	for _, tt := range tests {
		o := optsWithMem(UTF8, 1, func(m []byte) { putStr(m, 0, tt.ptr, tt.n) })
		lt := value.ListOf(tt.el)
		_, err := LiftFlat(o, lt, []uint64{uint64(tt.ptr), uint64(tt.n)})
		wantTrap(t, "LiftFlat "+lt.String(), err, tt.want)
		if tt.ptr != 0 {
			_, err = Load(o, lt, 0)
			wantTrap(t, "Load "+lt.String(), err, tt.want)
		}
	}
	// An error deep inside a list element surfaces.
	o := optsWithMem(UTF8, 1, func(m []byte) {
		putStr(m, 0x100, 0x200, 2)        // list of 2 strings at 0x200
		putStr(m, 0x200, 0x300, 1)        // "a"
		putStr(m, 0x208, 0xfffffff0, 100) // out of bounds
		m[0x300] = 'a'
	})
	_, err := Load(o, value.ListOf(value.String), 0x100)
	wantTrap(t, "nested", err, "string pointer 0xfffffff0 + 100 bytes is out of bounds")
}

func TestSpillPointerTraps(t *testing.T) {
	var ps []*value.Type
	for range 17 {
		ps = append(ps, value.U64)
	}
	ft := funcOfParams(ps, []*value.Type{value.String, value.U64})
	o := optsWithMem(UTF8, 1, nil)
	_, err := LiftArgs(o, ft, []uint64{4})
	wantTrap(t, "LiftArgs misaligned", err, "params pointer 0x4 is not 8-byte aligned")
	_, err = LiftArgs(o, ft, []uint64{0xff80})
	wantTrap(t, "LiftArgs oob", err, "params pointer 0xff80 + 136 bytes is out of bounds")
	_, err = LiftResults(o, ft, []uint64{0xfff8})
	wantTrap(t, "LiftResults oob", err, "results pointer 0xfff8 + 16 bytes is out of bounds")
	_, err = LiftResults(o, ft, []uint64{3})
	wantTrap(t, "LiftResults misaligned", err, "results pointer 0x3 is not 8-byte aligned")
	err = LowerResults(o, ft, []any{"x", uint64(1)}, []uint64{0, 0xfffffff8})
	wantTrap(t, "LowerResults oob", err, "return pointer 0xfffffff8 + 16 bytes is out of bounds")
	err = LowerResults(o, ft, []any{"x", uint64(1)}, []uint64{0, 12})
	wantTrap(t, "LowerResults misaligned", err, "return pointer 0xc is not 8-byte aligned")
	// Flat lifts name the parameter.
	ft2 := funcOfParams([]*value.Type{value.U8, value.Char}, nil)
	ft2.Params[1].Name = "c"
	_, err = LiftArgs(o, ft2, []uint64{1, 0xd800})
	wantTrap(t, "LiftArgs char", err, "param 1 (c): invalid char 0xd800")
}

func TestReallocTraps(t *testing.T) {
	ft := funcOfParams([]*value.Type{value.String}, nil)
	for _, tt := range []struct {
		hook func(c reallocCall, p uint32) (uint32, error)
		want string
	}{
		{func(c reallocCall, p uint32) (uint32, error) { return 0xfffff, nil }, "realloc returned pointer 0xfffff + 5 bytes, out of bounds of 65536-byte memory"},
		{func(c reallocCall, p uint32) (uint32, error) { return 0xfffffffe, nil }, "out of bounds"},
	} {
		o, inst := newOpts(UTF8)
		inst.hook = tt.hook
		_, err := LowerArgs(o, ft, []any{"hello"}, nil)
		wantTrap(t, "LowerArgs", err, tt.want)
	}
	o, inst := newOpts(UTF16)
	inst.hook = func(c reallocCall, p uint32) (uint32, error) { return p + 1, nil }
	_, err := LowerArgs(o, ft, []any{"hello"}, nil)
	wantTrap(t, "misaligned realloc", err, "realloc returned pointer 0x11, which is not 2-byte aligned")

	o, inst = newOpts(UTF8)
	sentinel := errors.New("guest trapped in realloc")
	inst.hook = func(c reallocCall, p uint32) (uint32, error) { return 0, sentinel }
	_, err = LowerArgs(o, ft, []any{"hello"}, nil)
	if !errors.Is(err, sentinel) {
		t.Errorf("realloc error: got %v", err)
	}
	// A memory that shrinks is a trap, not a panic.
	o, inst = newOpts(UTF8)
	inst.hook = func(c reallocCall, p uint32) (uint32, error) { inst.mem = inst.mem[:8]; return 0, nil }
	err = Store(o, value.ListOf(value.String), []any{"x", "y"}, 0x100)
	wantTrap(t, "shrinking memory", err, "memory shrank")
}

func TestMissingOptions(t *testing.T) {
	noMem := &Options{}
	if _, err := LowerFlat(noMem, value.String, "x", nil); err == nil || !strings.Contains(err.Error(), "memory") {
		t.Errorf("string without memory: %v", err)
	}
	if _, err := LiftFlat(noMem, value.ListOf(value.U8), []uint64{0, 0}); err == nil {
		t.Errorf("list lift without memory: no error")
	}
	if _, err := Load(noMem, value.U8, 0); err == nil {
		t.Errorf("Load without memory: no error")
	}
	// Scalars need nothing.
	if flat, err := LowerFlat(noMem, recordOf(value.U8, value.F64), []any{uint8(1), 2.0}, nil); err != nil || len(flat) != 2 {
		t.Errorf("scalars without memory: %v", err)
	}
	noRealloc := &Options{Instance: newTestInstance(1)}
	if _, err := LowerFlat(noRealloc, value.String, "x", nil); err == nil || !strings.Contains(err.Error(), "realloc") {
		t.Errorf("string without realloc: %v", err)
	}
	if _, err := LowerFlat(noMem, value.Own(resA), value.Handle{Type: resA}, nil); err == nil {
		t.Errorf("own without a table: no error")
	}
	noScope := &Options{Handles: &HandleTable{}}
	if _, err := LowerFlat(noScope, value.Borrow(resA), value.Handle{Type: resA}, nil); err == nil {
		t.Errorf("borrow without a scope: no error")
	}
	i, _ := noScope.Handles.New(resA, 1)
	if _, err := LiftFlat(noScope, value.Borrow(resA), []uint64{uint64(i)}); err == nil {
		t.Errorf("borrow lift without a scope: no error")
	}
	if _, err := LowerFlat(&Options{Encoding: 9, Instance: newTestInstance(1), HasRealloc: true}, value.String, "x", nil); err == nil || err.Error() != "abi: invalid string encoding 9" {
		t.Errorf("bad encoding: %v", err)
	}
	if _, err := LiftFlat(&Options{Encoding: 9, Instance: newTestInstance(1)}, value.String, []uint64{0, 0}); err == nil {
		t.Errorf("bad encoding lift: no error")
	}
}

func TestValueErrors(t *testing.T) {
	o, _ := newOpts(UTF8)
	for _, tt := range []struct {
		t    *value.Type
		v    any
		want string
	}{
		{value.U32, 1, "int is not a u32 value"},
		{value.S8, uint8(1), "uint8 is not a s8 value"},
		{value.Bool, nil, "<nil> is not a bool value"},
		{value.String, []byte("x"), "[]uint8 is not a string value"},
		{value.String, "\xff", "string is not valid UTF-8"},
		{value.ListOf(value.U8), []any{uint8(1)}, "[]interface {} is not a list<u8> value"},
		{value.ListOf(value.U16), []uint16{1}, "is not a list<u16> value"},
		{value.ListOf(value.U16), []any{uint16(1), 2}, "int is not a u16 value"},
		{recordOf(value.U8, value.U8), []any{uint8(1)}, "1 values for a record of 2"},
		{recordOf(value.U8), uint8(1), "uint8 is not a record"},
		{value.OptionOf(value.U8), value.Variant{Case: 2}, "case 2 of a option with 2 cases"},
		{value.OptionOf(value.U8), value.Variant{Case: 0, Value: uint8(1)}, "case 0 has no payload"},
		{value.OptionOf(value.U8), uint8(1), "uint8 is not a option<u8> value"},
		{flagsOf(3), uint32(1), "uint32 is not a flags"},
		{value.Own(resA), value.Handle{Type: resB, Rep: 1}, "got a handle of test:abi/res#b, want own<test:abi/res#a>"},
		{value.Borrow(resA), uint32(1), "uint32 is not a borrow<a> value"},
		{value.F32, 1.0, "float64 is not a f32"},
		{value.Char, 'x' + 0x110000, "not a Unicode scalar value"},
	} {
		_, err := LowerFlat(o, tt.t, tt.v, nil)
		wantValueError(t, "LowerFlat "+tt.t.String(), err, tt.want)
		p := o.Instance.(*testInstance).allocRaw(Align(tt.t), Size(tt.t))
		err = Store(o, tt.t, tt.v, p)
		wantValueError(t, "Store "+tt.t.String(), err, tt.want)
	}
	ft := funcOfParams([]*value.Type{value.U8, value.U32}, []*value.Type{value.U32})
	_, err := LowerArgs(o, ft, []any{uint8(1), int32(2)}, nil)
	wantValueError(t, "LowerArgs", err, "param 1 (p1): int32 is not a u32 value")
	if _, err := LowerArgs(o, ft, []any{uint8(1)}, nil); err == nil {
		t.Errorf("LowerArgs with too few args: no error")
	}
	err = LowerResults(o, ft, []any{"x"}, make([]uint64, 2))
	wantValueError(t, "LowerResults", err, "result 0: string is not a u32 value")
	if err := LowerResults(o, ft, nil, make([]uint64, 2)); err == nil {
		t.Errorf("LowerResults with too few results: no error")
	}
	if _, err := LiftResults(o, ft, nil); err == nil {
		t.Errorf("LiftResults without flat results: no error")
	}
	if _, err := LiftArgs(o, ft, []uint64{1}); err == nil {
		t.Errorf("LiftArgs with too few flat args: no error")
	}
	if _, err := LiftFlat(o, value.String, []uint64{1}); err == nil {
		t.Errorf("LiftFlat with too few flat values: no error")
	}
}
