// Code copied by wbox from its sdk/go/cabi. DO NOT EDIT.

//go:build wasip1

package cabi

import "unsafe"

// live holds every block handed to the host or allocated for the current
// call until post-return (see the package doc).
var live [][]uint64

// Alloc returns the address of a new zeroed block of size bytes aligned to
// align (at most 8), kept alive until the next PostReturn. A zero size gets
// a non-null aligned address that must not be dereferenced.
func Alloc(size, align uint32) uint32 {
	if size == 0 {
		return align
	}
	// []uint64 gives 8-byte alignment, enough for every canonical ABI type.
	buf := make([]uint64, (size+7)/8)
	live = append(live, buf)
	return uint32(uintptr(unsafe.Pointer(&buf[0])))
}

//go:wasmexport cabi_realloc
func cabiRealloc(old, oldSize, align, newSize uint32) uint32 {
	p := Alloc(newSize, align)
	if oldSize > 0 && newSize > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(uintptr(p))), newSize),
			unsafe.Slice((*byte)(unsafe.Pointer(uintptr(old))), min(oldSize, newSize)))
	}
	return p
}

// The preview1 adapter allocates its state and stack through the main
// module's realloc during _initialize, before the Go runtime and heap
// exist. wit-component prefers cabi_realloc_adapter for the adapter when it
// is exported, so serve it from a static arena with a bump pointer that
// never touches the Go heap (and nosplit: there may be no goroutine stack
// to grow yet).
var (
	adapterArena [256 << 10]byte
	adapterNext  uintptr
)

//go:wasmexport cabi_realloc_adapter
//go:nosplit
func cabiReallocAdapter(old, oldSize, align, newSize uint32) uint32 {
	if old != 0 || oldSize != 0 {
		panic("cabi_realloc_adapter: realloc unsupported") // the adapter never grows a block
	}
	base := uintptr(unsafe.Pointer(&adapterArena[0]))
	p := (base + adapterNext + uintptr(align) - 1) &^ (uintptr(align) - 1)
	if p+uintptr(newSize) > base+uintptr(len(adapterArena)) {
		panic("cabi_realloc_adapter: arena exhausted")
	}
	adapterNext = p + uintptr(newSize) - base
	return uint32(p)
}

// PostReturn drops every block of the finished call (the generated
// cabi_post_* exports call it); the GC reclaims what no Go value uses.
func PostReturn() {
	clear(live)
	live = live[:0]
	clear(kept)
	kept = kept[:0]
}

// Addr returns the wasm address of p.
func Addr(p unsafe.Pointer) uint32 { return uint32(uintptr(p)) }

func ptr(addr uint32) unsafe.Pointer { return unsafe.Pointer(uintptr(addr)) }

// Load reads a T (a fixed-size scalar) at addr.
func Load[T any](addr uint32) T { return *(*T)(ptr(addr)) }

// Store writes v (a fixed-size scalar) at addr.
func Store[T any](addr uint32, v T) { *(*T)(ptr(addr)) = v }

// LoadBool reads a canonical bool (a byte, nonzero is true) at addr.
func LoadBool(addr uint32) bool { return *(*uint8)(ptr(addr)) != 0 }

// StoreBool writes b as a canonical bool at addr.
func StoreBool(addr uint32, b bool) { *(*uint8)(ptr(addr)) = Bool(b) }

// Bool is 1 for true, 0 for false.
func Bool(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// LiftString returns the string of n bytes at addr, without copying.
func LiftString(addr, n uint32) string {
	if n == 0 {
		return ""
	}
	return unsafe.String((*byte)(ptr(addr)), n)
}

// LowerString returns the address and length of s's bytes. s must stay
// alive (runtime.KeepAlive) until the host has read it.
func LowerString(s string) (uint32, uint32) {
	if len(s) == 0 {
		return 1, 0
	}
	return Addr(unsafe.Pointer(unsafe.StringData(s))), uint32(len(s))
}

// LoadString reads a string's {ptr, len} at addr.
func LoadString(addr uint32) string {
	return LiftString(Load[uint32](addr), Load[uint32](addr+4))
}

// StoreString writes s's {ptr, len} at addr, keeping s alive until
// post-return.
func StoreString(addr uint32, s string) {
	p, n := LowerString(s)
	if n > 0 {
		Keep(s)
	}
	Store(addr, p)
	Store(addr+4, n)
}

// LiftSlice returns the n Ts at addr, without copying. T must have the same
// layout in Go and in the canonical ABI (fixed-size integers and floats).
func LiftSlice[T any](addr, n uint32) []T {
	if n == 0 {
		return []T{}
	}
	return unsafe.Slice((*T)(ptr(addr)), n)
}

// LowerSlice returns the address and length of s's elements (see
// LiftSlice); s must stay alive until the host has read it.
func LowerSlice[T any](s []T) (uint32, uint32) {
	if len(s) == 0 {
		var zero T
		return uint32(unsafe.Alignof(zero)), 0
	}
	return Addr(unsafe.Pointer(&s[0])), uint32(len(s))
}

// kept holds Go values whose memory a result points into, until post-return.
var kept []any

// Keep keeps v alive until the next PostReturn.
func Keep(v any) { kept = append(kept, v) }
