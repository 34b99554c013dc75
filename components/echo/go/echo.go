//go:build wasip1 && wasm

// Command echo is the Go implementation of the wbox:echo/echo-box test world,
// built with mainline Go as a wasip1 reactor (-buildmode=c-shared) and turned
// into a component with `jco embed` + `jco new --wasi-reactor`.
//
// There are no bindings: the canonical ABI is written by hand (CanonicalABI.md,
// wasm32). Go's linear memory starts at 0, so a Go pointer's value is its wasm
// address.
//
//	string        = {ptr u32 @0, len u32 @4}              size 8,  align 4
//	list<string>  = {ptr u32 @0, len u32 @4} -> [string]  size 8,  align 4
//	message       = {text string @0, tags list @8}         size 16, align 4
//	result<message,string> at retptr: disc u8 @0 (0 ok, 1 err), payload @4,
//	                size 20
//
// echo takes the message flattened to 4 i32 and returns a pointer to the
// result; roundtrip takes (ptr, len) and returns a pointer to a string.
package main

import "unsafe"

func main() {} // required by c-shared; the exports are the API

//go:wasmimport wbox:echo/log@0.1.0 log
func hostLog(ptr, len uint32)

// live holds every block handed out by cabi_realloc and retained by a result
// until the call's post-return: the host writes arguments into them and reads
// results out of them, but nothing in Go points at them, so without this the
// GC could reuse them mid-call.
var live [][]uint64

func addr(p unsafe.Pointer) uint32 { return uint32(uintptr(p)) }

//go:wasmexport cabi_realloc
func cabiRealloc(old, oldSize, align, newSize uint32) uint32 {
	if newSize == 0 {
		return align // non-null, aligned, never dereferenced
	}
	// []uint64 gives 8-byte alignment, enough for every canonical ABI type.
	buf := make([]uint64, (newSize+7)/8)
	p := unsafe.Pointer(&buf[0])
	if oldSize > 0 {
		copy(unsafe.Slice((*byte)(p), newSize),
			unsafe.Slice((*byte)(unsafe.Pointer(uintptr(old))), min(oldSize, newSize)))
	}
	live = append(live, buf)
	return addr(p)
}

// The preview1 adapter allocates its state and stack through the main
// module's realloc during _initialize, before the Go runtime and heap exist.
// wit-component prefers cabi_realloc_adapter for the adapter when exported,
// so serve it from a static arena with a bump pointer that never touches the
// Go heap (and nosplit: there may be no goroutine stack to grow yet).
var (
	adapterArena [256 << 10]byte
	adapterNext  uintptr
)

//go:wasmexport cabi_realloc_adapter
//go:nosplit
func cabiReallocAdapter(old, oldSize, align, newSize uint32) uint32 {
	if old != 0 || oldSize != 0 {
		panic("cabi_realloc_adapter: realloc unsupported") // adapter never grows
	}
	base := uintptr(unsafe.Pointer(&adapterArena[0]))
	p := (base + adapterNext + uintptr(align) - 1) &^ (uintptr(align) - 1)
	if p+uintptr(newSize) > base+uintptr(len(adapterArena)) {
		panic("cabi_realloc_adapter: arena exhausted")
	}
	adapterNext = p + uintptr(newSize) - base
	return uint32(p)
}

type str struct{ ptr, len uint32 }

// retEcho is result<message,string>: disc in the low byte of word 0.
var (
	retEcho      [5]uint32
	retRoundtrip str
)

const emptyErr = "empty text" // static data: never freed

//go:wasmexport wbox:echo/echo@0.1.0#echo
func echo(text, textLen, tags, tagsLen uint32) uint32 {
	hostLog(text, textLen)
	if textLen == 0 {
		retEcho = [5]uint32{1, addr(unsafe.Pointer(unsafe.StringData(emptyErr))), uint32(len(emptyErr))}
		return addr(unsafe.Pointer(&retEcho))
	}
	if tagsLen > 0 {
		// The argument buffers came from cabi_realloc and are still in live;
		// reverse the tag entries in place and hand them back.
		t := unsafe.Slice((*str)(unsafe.Pointer(uintptr(tags))), tagsLen)
		for i, j := 0, len(t)-1; i < j; i, j = i+1, j-1 {
			t[i], t[j] = t[j], t[i]
		}
	}
	retEcho = [5]uint32{0, text, textLen, tags, tagsLen}
	return addr(unsafe.Pointer(&retEcho))
}

//go:wasmexport cabi_post_wbox:echo/echo@0.1.0#echo
func echoPost(uint32) { release() }

//go:wasmexport wbox:echo/echo@0.1.0#roundtrip
func roundtrip(s, n uint32) uint32 {
	retRoundtrip = str{s, n}
	return addr(unsafe.Pointer(&retRoundtrip))
}

//go:wasmexport cabi_post_wbox:echo/echo@0.1.0#roundtrip
func roundtripPost(uint32) { release() }

// release drops all blocks of the finished call; the GC reclaims them.
func release() {
	clear(live)
	live = live[:0]
}
