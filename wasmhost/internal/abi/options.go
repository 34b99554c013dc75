package abi

import (
	"errors"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// Core value types, with the bytes of the wasm binary format (and of wazero's
// api.ValueType).
const (
	I32 byte = 0x7f
	I64 byte = 0x7e
	F32 byte = 0x7d
	F64 byte = 0x7c
)

// Limits of the Canonical ABI.
const (
	// MaxFlatParams is the most flat parameters passed as core values;
	// beyond it the parameters are passed in memory through one i32 pointer.
	MaxFlatParams = 16
	// MaxFlatResults is the most flat results returned as core values;
	// beyond it the results are passed in memory.
	MaxFlatResults = 1
	// MaxStringByteLength is the longest string, in bytes of its encoding
	// in guest memory, that may be lifted or lowered.
	MaxStringByteLength = 1<<28 - 1
	// MaxListByteLength is the longest list, in bytes in guest memory, that
	// may be lifted or lowered.
	MaxListByteLength = 1<<28 - 1
	// MaxTableLength is the largest handle index of a HandleTable.
	MaxTableLength = 1<<28 - 1
	// UTF16Tag is the bit of a latin1+utf16 string's length that says the
	// string is UTF-16 rather than Latin-1.
	UTF16Tag = 1 << 31
)

// StringEncoding is the string-encoding canonical option. Its values are
// those of binary.StringEncoding.
type StringEncoding uint8

// The string encodings.
const (
	UTF8 StringEncoding = iota
	UTF16
	Latin1UTF16
)

// String returns the encoding's name in the component text format.
func (e StringEncoding) String() string {
	switch e {
	case UTF8:
		return "utf8"
	case UTF16:
		return "utf16"
	case Latin1UTF16:
		return "latin1+utf16"
	}
	return "invalid string encoding"
}

// Instance is what the ABI needs of the guest instance on the other side of
// a call: its memory and its realloc function. The instantiator adapts a
// wazero module instance to it.
type Instance interface {
	// Memory returns the current bytes of the instance's linear memory
	// (the memory canonical option). The ABI calls it again after every
	// Realloc, since memory may have grown.
	Memory() []byte
	// Realloc calls the instance's realloc canonical option:
	// (old_ptr, old_size, align, new_size) -> ptr. An error (such as a trap
	// in the guest) aborts the lift or lower and is returned as is.
	Realloc(oldPtr, oldSize, align, newSize uint32) (uint32, error)
}

// Options are the canonical options of a lifted or lowered function and the
// per-call state the ABI needs.
//
// An Options is read by the ABI and not retained; the instantiator may keep
// one per function and set Scope before each call, or build one per call.
type Options struct {
	// Encoding is the string-encoding option.
	Encoding StringEncoding
	// Instance is the guest's memory and realloc, or nil when the function
	// has no memory option: then a type that needs memory is an error.
	Instance Instance
	// HasRealloc says the function has a realloc option. Lowering a string
	// or list, or spilling arguments, needs it.
	HasRealloc bool
	// Handles is the guest instance's resource table. Lifting or lowering
	// own and borrow handles needs it.
	Handles *HandleTable
	// Owns reports whether the guest instance implements resource type r.
	// Lowering a borrow<r> into the instance that implements r passes the
	// representation itself instead of a new borrow handle. nil means the
	// instance implements no resource passed to it as a borrow.
	Owns func(r *value.ResourceType) bool
	// Scope is the borrow bookkeeping of the current call. Lifting or
	// lowering a borrow handle needs it; see Scope.
	Scope *Scope
}

var (
	errNoMemory  = errors.New("abi: the type needs the memory canonical option")
	errNoRealloc = errors.New("abi: the type needs the realloc canonical option")
	errNoHandles = errors.New("abi: resource handles need a handle table in Options.Handles")
	errNoScope   = errors.New("abi: borrow handles need a call scope in Options.Scope")
)
