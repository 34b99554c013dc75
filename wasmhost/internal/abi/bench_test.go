package abi

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// bumpInstance is a minimal guest for benchmarks: a bump allocator that
// the benchmark resets, so realloc costs what a guest's cheap one would.
type bumpInstance struct {
	mem []byte
	top uint32
}

func (b *bumpInstance) Memory() []byte { return b.mem }

func (b *bumpInstance) Realloc(old, oldSize, align, newSize uint32) (uint32, error) {
	p := alignTo(b.top, align)
	b.top = p + newSize
	if old != 0 {
		copy(b.mem[p:p+min(oldSize, newSize)], b.mem[old:])
	}
	return p, nil
}

func benchOpts(enc StringEncoding) (*Options, *bumpInstance) {
	inst := &bumpInstance{mem: make([]byte, 1<<20), top: 1024}
	return &Options{Encoding: enc, Instance: inst, HasRealloc: true, Handles: &HandleTable{}, Scope: &Scope{}}, inst
}

var str64 = strings.Repeat("0123456789abcdef", 4)

// BenchmarkStringRoundTrip: the host calls a guest export
// func(s: string) -> string with a 64-byte string; the "guest" echoes it
// by writing its (ptr, len) to a return area.
func BenchmarkStringRoundTrip(b *testing.B) {
	for _, enc := range encodings {
		b.Run(enc.String(), func(b *testing.B) {
			ft := funcOfParams([]*value.Type{value.String}, []*value.Type{value.String})
			f, _ := Compile(ft)
			o, inst := benchOpts(enc)
			args := []any{str64}
			var buf [MaxFlatParams]uint64
			ret := []uint64{8}
			b.ReportAllocs()
			for b.Loop() {
				inst.top = 1024
				flat, err := f.LowerArgs(o, args, buf[:0])
				if err != nil {
					b.Fatal(err)
				}
				binary.LittleEndian.PutUint32(inst.mem[8:], uint32(flat[0]))
				binary.LittleEndian.PutUint32(inst.mem[12:], uint32(flat[1]))
				res, err := f.LiftResults(o, ret)
				if err != nil || res[0].(string) != str64 {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStringRoundTripCached is the same through the package-level
// functions, which look the compiled function up in the cache.
func BenchmarkStringRoundTripCached(b *testing.B) {
	ft := funcOfParams([]*value.Type{value.String}, []*value.Type{value.String})
	o, inst := benchOpts(UTF8)
	args := []any{str64}
	var buf [MaxFlatParams]uint64
	ret := []uint64{8}
	b.ReportAllocs()
	for b.Loop() {
		inst.top = 1024
		flat, err := LowerArgs(o, ft, args, buf[:0])
		if err != nil {
			b.Fatal(err)
		}
		binary.LittleEndian.PutUint32(inst.mem[8:], uint32(flat[0]))
		binary.LittleEndian.PutUint32(inst.mem[12:], uint32(flat[1]))
		if _, err := LiftResults(o, ft, ret); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScalars: func(a: u32, b: s64, c: f64) -> u32.
func BenchmarkScalars(b *testing.B) {
	ft := funcOfParams([]*value.Type{value.U32, value.S64, value.F64}, []*value.Type{value.U32})
	f, _ := Compile(ft)
	o, _ := benchOpts(UTF8)
	args := []any{uint32(1000), int64(-1), 2.5}
	var buf [MaxFlatParams]uint64
	b.Run("LowerArgs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.LowerArgs(o, args, buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LiftResults", func(b *testing.B) {
		b.ReportAllocs()
		flat := []uint64{1000}
		for b.Loop() {
			if _, err := f.LiftResults(o, flat); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LiftArgs", func(b *testing.B) {
		b.ReportAllocs()
		flat := []uint64{1000, 1, 2}
		for b.Loop() {
			if _, err := f.LiftArgs(o, flat); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LowerResults", func(b *testing.B) {
		b.ReportAllocs()
		res := []any{uint32(7)}
		for b.Loop() {
			if err := f.LowerResults(o, res, buf[:3]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkImportStrings: a guest calls a host import
// func(key: string, val: list<u8>) -> string (the WASI-like shape).
func BenchmarkImportStrings(b *testing.B) {
	ft := funcOfParams([]*value.Type{value.String, value.ListOf(value.U8)}, []*value.Type{value.String})
	f, _ := Compile(ft)
	o, inst := benchOpts(UTF8)
	copy(inst.mem[256:], str64)
	stack := []uint64{256, 64, 256, 64, 16}
	res := []any{str64}
	b.ReportAllocs()
	for b.Loop() {
		inst.top = 1024
		if _, err := f.LiftArgs(o, stack); err != nil {
			b.Fatal(err)
		}
		if err := f.LowerResults(o, res, stack); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecordList lowers and lifts a list of 100 records
// {id: u32, name: string, tags: list<string>, score: option<f64>}.
func BenchmarkRecordList(b *testing.B) {
	rec := recordOf(value.U32, value.String, value.ListOf(value.String), value.OptionOf(value.F64))
	lt := value.ListOf(rec)
	var v []any
	for i := range 100 {
		v = append(v, []any{uint32(i), "name-of-thing", []any{"a", "bb"}, value.Some(1.5)})
	}
	o, inst := benchOpts(UTF8)
	var flat [2]uint64
	b.ReportAllocs()
	for b.Loop() {
		inst.top = 1024
		f, err := LowerFlat(o, lt, v, flat[:0])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := LiftFlat(o, lt, f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBytes lowers and lifts a 4 KiB list<u8>.
func BenchmarkBytes(b *testing.B) {
	lt := value.ListOf(value.U8)
	v := make([]byte, 4096)
	o, inst := benchOpts(UTF8)
	var flat [2]uint64
	b.SetBytes(4096)
	b.ReportAllocs()
	for b.Loop() {
		inst.top = 1024
		f, err := LowerFlat(o, lt, v, flat[:0])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := LiftFlat(o, lt, f); err != nil {
			b.Fatal(err)
		}
	}
}
