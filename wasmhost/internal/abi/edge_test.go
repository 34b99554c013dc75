package abi

import (
	"syscall"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// topInstance allocates downwards from the end of its memory, so the first
// allocation ends exactly at the end.
type topInstance struct {
	mem []byte
	top uint64
}

func (f *topInstance) Memory() []byte { return f.mem }
func (f *topInstance) Realloc(old, oldSize, align, newSize uint32) (uint32, error) {
	f.top = (f.top - uint64(newSize)) &^ uint64(align-1)
	p := uint32(f.top)
	if oldSize > 0 {
		copy(f.mem[uint64(p):uint64(p)+uint64(min(oldSize, newSize))], append([]byte(nil), f.mem[old:uint64(old)+uint64(oldSize)]...))
	}
	return p, nil
}

// A full 4 GiB memory: pointers plus sizes reach exactly 2^32, which must
// not wrap around in any slice expression.
func TestFullMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("maps 4 GiB of address space")
	}
	mem, err := syscall.Mmap(-1, 0, 1<<32, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE|syscall.MAP_NORESERVE)
	if err != nil {
		t.Skipf("cannot map 4 GiB: %v", err)
	}
	defer syscall.Munmap(mem)
	inst := &topInstance{mem: mem}
	for _, enc := range encodings {
		for _, s := range []string{"", "ab", "ÿÿ", "a€", "😀x"} {
			inst.top = 1 << 32
			o := &Options{Encoding: enc, Instance: inst, HasRealloc: true}
			flat, err := LowerFlat(o, value.String, s, nil)
			if err != nil {
				t.Fatalf("%s %q: %v", enc, s, err)
			}
			back, err := LiftFlat(o, value.String, flat)
			if err != nil || back != s {
				t.Fatalf("%s %q: lifted %q, %v", enc, s, back, err)
			}
		}
	}
	o := &Options{Instance: inst, HasRealloc: true}
	for _, tv := range []typedValue{
		{value.ListOf(value.U8), []byte{1, 2, 3}},
		{value.ListOf(value.U64), []any{uint64(1), uint64(2)}},
		{value.ListOf(value.String), []any{"a", "b"}},
	} {
		inst.top = 1 << 32
		flat, err := LowerFlat(o, tv.t, tv.v, nil)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := LiftFlat(o, tv.t, flat); err != nil || !equal(back, tv.v) {
			t.Fatalf("%s: %v, %v", tv.t, back, err)
		}
	}
	// The last bytes of memory load; one past does not.
	if _, err := Load(o, value.U64, 1<<32-8); err != nil {
		t.Fatal(err)
	}
	_, err = Load(o, value.TupleOf(value.U32, value.U32), 1<<32-4)
	wantTrap(t, "Load past the end", err, "out of bounds of 4294967296-byte memory")
	_, err = LiftFlat(o, value.String, []uint64{1<<32 - 1, 2})
	wantTrap(t, "string past the end", err, "out of bounds")
}

// Compiled functions and the caches are shared by concurrent calls on
// different instances.
func TestConcurrentUse(t *testing.T) {
	ft := funcOfParams([]*value.Type{value.String, value.ListOf(recordOf(value.U8, value.String))}, []*value.Type{value.String})
	done := make(chan error)
	for g := range 8 {
		go func() {
			var err error
			for i := range 200 {
				o, _ := newOpts(encodings[(g+i)%3])
				args := []any{"hello", []any{[]any{uint8(g), "x"}}}
				var flat []uint64
				if flat, err = LowerArgs(o, ft, args, nil); err != nil {
					break
				}
				var got []any
				if got, err = LiftArgs(o, ft, flat); err != nil {
					break
				}
				if !equal(got, args) {
					t.Errorf("got %v", got)
				}
				_ = Size(value.ListOf(value.TupleOf(value.U8, value.Primitive(value.KindU64)))) // fresh types hit the cache bound
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
