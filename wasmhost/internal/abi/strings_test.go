package abi

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// TestStringLower checks the bytes written and the realloc calls made for
// host (UTF-8) strings in each encoding, which follow the spec's
// store_string_copy, store_utf8_to_utf16 and
// store_string_to_latin1_or_utf16.
func TestStringLower(t *testing.T) {
	const p = 16 // the test allocator's first pointer
	tests := []struct {
		enc    StringEncoding
		s      string
		bytes  []byte
		tagged uint32
		calls  []reallocCall
	}{
		{UTF8, "", nil, 0, []reallocCall{{0, 0, 1, 0}}},
		{UTF8, "héllo", []byte("héllo"), 6, []reallocCall{{0, 0, 1, 6}}},
		{UTF16, "", nil, 0, []reallocCall{{0, 0, 2, 0}}},
		{UTF16, "ab", []byte{'a', 0, 'b', 0}, 2, []reallocCall{{0, 0, 2, 4}}},
		// 4 UTF-8 bytes: worst case 8, shrunk to 4.
		{UTF16, "a€", []byte{'a', 0, 0xAC, 0x20}, 2, []reallocCall{{0, 0, 2, 8}, {p, 8, 2, 4}}},
		// 4 UTF-8 bytes, one surrogate pair: no shrink.
		{UTF16, "😀", []byte{0x3D, 0xD8, 0x00, 0xDE}, 2, []reallocCall{{0, 0, 2, 8}, {p, 8, 2, 4}}},
		{Latin1UTF16, "", nil, 0, []reallocCall{{0, 0, 2, 0}}},
		{Latin1UTF16, "ascii", []byte("ascii"), 5, []reallocCall{{0, 0, 2, 5}}},
		// ÿ is 2 UTF-8 bytes but one Latin-1 byte: shrink from 3 to 2.
		{Latin1UTF16, "aÿ", []byte{'a', 0xFF}, 2, []reallocCall{{0, 0, 2, 3}, {p, 3, 2, 2}}},
		// Inflate: "ab" copied as Latin-1, then € forces UTF-16: grow
		// from 5 to 10, inflate in place, shrink to 6.
		{Latin1UTF16, "ab€", []byte{'a', 0, 'b', 0, 0xAC, 0x20}, 3 | UTF16Tag,
			[]reallocCall{{0, 0, 2, 5}, {p, 5, 2, 10}, {p + 6, 10, 2, 6}}},
		// Inflate at the very first code point.
		{Latin1UTF16, "€", []byte{0xAC, 0x20}, 1 | UTF16Tag, []reallocCall{{0, 0, 2, 3}, {p, 3, 2, 6}, {p + 4, 6, 2, 2}}},
		// Latin-1 bytes ≥ 0x80 before the inflation are inflated right.
		{Latin1UTF16, "é😀", []byte{0xE9, 0, 0x3D, 0xD8, 0x00, 0xDE}, 3 | UTF16Tag,
			[]reallocCall{{0, 0, 2, 6}, {p, 6, 2, 12}, {p + 6, 12, 2, 6}}},
	}
	for _, tt := range tests {
		o, inst := newOpts(tt.enc)
		flat, err := LowerFlat(o, value.String, tt.s, nil)
		if err != nil {
			t.Errorf("%s %q: %v", tt.enc, tt.s, err)
			continue
		}
		ptr, n := uint32(flat[0]), uint32(flat[1])
		if n != tt.tagged {
			t.Errorf("%s %q: tagged length %#x, want %#x", tt.enc, tt.s, n, tt.tagged)
		}
		if got := inst.mem[ptr : ptr+uint32(len(tt.bytes))]; !bytes.Equal(got, tt.bytes) {
			t.Errorf("%s %q: bytes %x, want %x", tt.enc, tt.s, got, tt.bytes)
		}
		// The test allocator never moves a shrinking block... but may
		// move a growing one; compare the calls' shapes.
		if !slices.Equal(inst.calls, tt.calls) {
			t.Errorf("%s %q: realloc calls %v, want %v", tt.enc, tt.s, inst.calls, tt.calls)
		}
		if live := inst.live[ptr]; live != uint32(len(tt.bytes)) {
			t.Errorf("%s %q: allocation of %d bytes, want %d", tt.enc, tt.s, live, len(tt.bytes))
		}
		back, err := LiftFlat(o, value.String, flat)
		if err != nil || back != tt.s {
			t.Errorf("%s %q: lifted back %q, %v", tt.enc, tt.s, back, err)
		}
	}
}

// Every Latin-1 code point and characters around the UTF-16 boundaries
// survive every encoding.
func TestStringEncodingsExhaustive(t *testing.T) {
	var b strings.Builder
	for r := rune(0); r < 0x800; r++ {
		b.WriteRune(r)
	}
	for _, r := range []rune{0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF} {
		b.WriteRune(r)
	}
	all := b.String()
	for _, enc := range encodings {
		for _, s := range []string{all, all[:0x100], strings.Repeat("ÿ", 1000), strings.Repeat("x", 1000) + "\U0010FFFF"} {
			o, _ := newOpts(enc)
			flat, err := LowerFlat(o, value.String, s, nil)
			if err != nil {
				t.Fatal(err)
			}
			back, err := LiftFlat(o, value.String, flat)
			if err != nil || back != s {
				t.Fatalf("%s: round trip of %d bytes failed: %v", enc, len(s), err)
			}
		}
	}
}

func TestStringTooLongToLower(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 256 MiB")
	}
	big := make([]byte, MaxListByteLength+1)
	o, _ := newOpts(UTF8)
	_, err := LowerFlat(o, value.String, unsafe.String(&big[0], len(big)), nil)
	wantValueError(t, "LowerFlat", err, "exceeds the maximum")
	if len(o.Instance.(*testInstance).calls) != 0 {
		t.Errorf("realloc called for a too-long string")
	}
	_, err = LowerFlat(o, value.ListOf(value.U8), big, nil)
	wantValueError(t, "LowerFlat list", err, "exceeds the maximum")
	var wide []*value.Type
	for range 64 {
		wide = append(wide, value.U64)
	}
	_, err = LowerFlat(o, value.ListOf(value.TupleOf(wide...)), make([]any, MaxListByteLength/512+1), nil)
	wantValueError(t, "LowerFlat list<tuple<u64...>>", err, "exceeds the maximum")
}

// Spilled parameters go through one realloc'd tuple; strings inside are
// allocated after it.
func TestSpillAllocation(t *testing.T) {
	var ps []*value.Type
	var args []any
	for i := range 8 {
		ps = append(ps, value.String)
		args = append(args, strings.Repeat("s", i))
	}
	ps = append(ps, value.U8)
	args = append(args, uint8(9))
	ft := funcOfParams(ps, nil)
	o, inst := newOpts(UTF8)
	flat, err := LowerArgs(o, ft, args, make([]uint64, 0, 16))
	if err != nil {
		t.Fatal(err)
	}
	if len(flat) != 1 {
		t.Fatalf("flat = %v, want one pointer", flat)
	}
	if c := inst.calls[0]; c != (reallocCall{0, 0, 4, 68}) {
		t.Errorf("first realloc %v, want the 68-byte 4-aligned tuple", c)
	}
	if len(inst.calls) != 9 {
		t.Errorf("%d realloc calls, want 9", len(inst.calls))
	}
	got, err := LiftArgs(o, ft, flat)
	if err != nil || !equal(got, args) {
		t.Fatalf("LiftArgs = %v, %v", got, err)
	}
}
