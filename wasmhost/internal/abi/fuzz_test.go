package abi

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// fuzzTypes are the nested types FuzzLift lifts arbitrary bytes as; an
// input may also pick a random type.
var fuzzTypes = []*value.Type{
	value.String,
	value.ListOf(value.String),
	value.ListOf(value.U8),
	recordOf(value.U8, value.U32, value.U16),
	variantOf(value.S64, value.F32, nil),
	value.OptionOf(value.ResultOf(value.String, value.ListOf(value.Char))),
	value.TupleOf(value.Char, value.Bool, value.F64, flagsOf(9), value.S8, value.S16),
	value.ListOf(variantOf(value.Own(resA), value.Borrow(resB), enumOf(300))),
	flagsOf(33),
	value.ListOf(value.ListOf(value.TupleOf(value.U16, value.String))),
	enumOf(70000),
	value.ResultOf(nil, value.U64),
	recordOf(value.String, value.ListOf(variantOf(value.String, value.F64, value.ListOf(value.U8))), value.OptionOf(value.Char)),
	value.ListOf(recordOf(value.U64, value.OptionOf(value.String))),
	variantOf(value.TupleOf(value.F32, value.U64), value.TupleOf(value.U32, value.F64, value.U8), value.String),
	value.ListOf(value.OptionOf(value.Own(resA))),
}

// A fuzz input is a header then the guest's memory. The header holds the
// string encoding, the type (an index into fuzzTypes or else a random
// type's seed), a pointer, and masks describing a handle table of 16
// entries: entry i+1 has resource resB if bit i of the type mask is set
// (else resA), is an own handle if bit i of the own mask is set, and has
// rep i+1.
const fuzzHeader = 14

func fuzzInput(data []byte) (StringEncoding, *value.Type, uint32, *HandleTable, []byte) {
	var hdr [fuzzHeader]byte
	copy(hdr[:], data)
	rest := data[min(len(data), len(hdr)):]
	enc := StringEncoding(hdr[0] % 3)
	var t *value.Type
	if int(hdr[1]) < len(fuzzTypes) {
		t = fuzzTypes[hdr[1]]
	} else {
		seed := binary.LittleEndian.Uint32(hdr[2:])
		t = gen{rand.New(rand.NewPCG(uint64(seed), uint64(hdr[1])))}.typ(3)
	}
	ptr := binary.LittleEndian.Uint32(hdr[6:])
	tab := fuzzTable(binary.LittleEndian.Uint16(hdr[10:]), binary.LittleEndian.Uint16(hdr[12:]))
	mem := make([]byte, max(64, (len(rest)+7)&^7))
	copy(mem, rest)
	return enc, t, ptr, tab, mem
}

// fuzzTable builds the handle table of a fuzz input's masks.
func fuzzTable(types, owns uint16) *HandleTable {
	tab := &HandleTable{}
	for i := range 16 {
		rt := resA
		if types>>i&1 != 0 {
			rt = resB
		}
		tab.Add(HandleEntry{Type: rt, Rep: uint32(i + 1), Own: owns>>i&1 != 0})
	}
	return tab
}

// tableMasks returns the masks describing the first 16 entries of tab.
func tableMasks(tab *HandleTable) (types, owns uint16) {
	for i := range 16 {
		e, err := tab.Get(uint32(i + 1))
		if err != nil {
			break
		}
		if e.Type == resB {
			types |= 1 << i
		}
		if e.Own {
			owns |= 1 << i
		}
	}
	return types, owns
}

// checkLifted checks a successfully lifted value: it is a valid value of
// its type and it survives a lower/lift round trip.
func checkLifted(t *testing.T, enc StringEncoding, ty *value.Type, v any) {
	if err := value.Check(ty, v); err != nil {
		t.Fatalf("lifted an invalid %s: %v (%#v)", ty, err, v)
	}
	o, inst := newOpts(enc)
	p := inst.allocRaw(Align(ty), Size(ty))
	if err := Store(o, ty, v, p); err != nil {
		t.Fatalf("Store of a lifted %s: %v", ty, err)
	}
	back, err := Load(o, ty, p)
	if err != nil {
		t.Fatalf("Load of a stored %s: %v", ty, err)
	}
	if !equal(back, v) {
		t.Fatalf("%s: round trip %#v != %#v", ty, back, v)
	}
}

func FuzzLift(f *testing.F) {
	for i := range fuzzTypes {
		f.Add(append([]byte{0, byte(i)}, make([]byte, fuzzHeader-2)...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		enc, ty, ptr, tab, mem := fuzzInput(data)
		inst := &testInstance{mem: mem, live: map[uint32]uint32{}}
		o := &Options{Encoding: enc, Instance: inst, Handles: tab, Scope: &Scope{}}
		reset := func() {
			_, _, _, o.Handles, _ = fuzzInput(data)
			o.Scope = &Scope{}
		}

		// Load at the given pointer and at 0.
		for _, p := range []uint32{ptr, 0, ptr % uint32(len(mem))} {
			if v, err := Load(o, ty, p); err == nil {
				checkLifted(t, enc, ty, v)
			}
			reset()
		}
		// LiftFlat from flat values read from memory, as i64s and as
		// i32s (small values make in-bounds pointers likely).
		n := len(Flatten(ty))
		flat := make([]uint64, n)
		for _, width := range []int{8, 4} {
			for i := range flat {
				flat[i] = 0
				if j := i * width; j+width <= len(mem) {
					if width == 8 {
						flat[i] = binary.LittleEndian.Uint64(mem[j:])
					} else {
						flat[i] = uint64(binary.LittleEndian.Uint32(mem[j:]))
					}
				}
			}
			if v, err := LiftFlat(o, ty, flat); err == nil {
				checkLifted(t, enc, ty, v)
			}
			reset()
		}
		// Whole-call lifts: params spilled through ptr, results through
		// ptr.
		ps := []*value.Type{ty}
		for range 16 {
			ps = append(ps, value.U8)
		}
		ft := funcOfParams(ps, []*value.Type{ty, value.U32})
		if v, err := LiftArgs(o, ft, []uint64{uint64(ptr)}); err == nil {
			checkLifted(t, enc, ty, v[0])
		}
		reset()
		if v, err := LiftResults(o, ft, []uint64{uint64(ptr % uint32(len(mem)))}); err == nil {
			checkLifted(t, enc, ty, v[0])
		}
		o.Scope.End()
	})
}

// TestWriteFuzzCorpus regenerates testdata/fuzz/FuzzLift from valid stored
// values of every fuzz type. Run with WBOX_WRITE_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("WBOX_WRITE_CORPUS") == "" {
		t.Skip("set WBOX_WRITE_CORPUS=1 to regenerate the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzLift")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	g := gen{rand.New(rand.NewPCG(7, 7))}
	for i, ty := range fuzzTypes {
		for _, enc := range encodings {
			// Store a value in a small memory and dump it with the
			// handle table it made.
			inst := newTestInstance(1)
			o := &Options{Encoding: enc, Instance: inst, HasRealloc: true, Handles: &HandleTable{}, Scope: &Scope{}}
			p := inst.allocRaw(Align(ty), Size(ty))
			v := g.val(ty)
			if err := Store(o, ty, v, p); err != nil {
				t.Fatal(err)
			}
			if o.Handles.Len() > 16 {
				continue
			}
			hdr := make([]byte, fuzzHeader)
			hdr[0], hdr[1] = byte(enc), byte(i)
			binary.LittleEndian.PutUint32(hdr[6:], p)
			types, owns := tableMasks(o.Handles)
			binary.LittleEndian.PutUint16(hdr[10:], types)
			binary.LittleEndian.PutUint16(hdr[12:], owns)
			data := append(hdr, inst.mem[:inst.top]...)
			name := filepath.Join(dir, fmt.Sprintf("seed-%02d-%s", i, enc))
			content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
			if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
