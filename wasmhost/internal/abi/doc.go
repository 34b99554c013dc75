// Package abi implements the component model's Canonical ABI
// (design/mvp/CanonicalABI.md of WebAssembly/component-model) for wbox's
// component host: the layout of component values in linear memory, their
// flattening into core wasm values, and the lifting and lowering of whole
// function calls between the host's Go values (see package value) and a
// guest instance's core values and memory.
//
// # Directions
//
// When the host calls a guest export (canon lift), it lowers the arguments
// with [Func.LowerArgs], calls the core function and lifts its results with
// [Func.LiftResults]. When a guest calls a host import (canon lower), the
// host lifts the arguments with [Func.LiftArgs], runs the import and lowers
// the results with [Func.LowerResults]. The package-level functions of the
// same names take a *value.FuncType and use a small cache of compiled
// functions; long-lived callers such as the instantiator should [Compile]
// once and keep the *Func.
//
// # Core values
//
// Flat core values are uint64s with the encoding wazero uses on its stack:
// an i32 is the zero-extended uint32, an i64 is the uint64, an f32 is the
// zero-extended math.Float32bits and an f64 is math.Float64bits. When
// reading an i32 only the low 32 bits are looked at.
//
// # Untrusted guests
//
// Everything read from a guest (pointers, lengths, discriminants, chars,
// string contents, handle indices) is checked. A violation is reported as a
// *[Trap] (errors.Is(err, ErrTrap)); no guest input makes this package
// panic. A Go value that does not match its type is a host bug and is
// reported as a *[ValueError] instead.
//
// # Deviations and choices
//
// Only 32-bit memories are supported (wazero has no memory64). NaNs are not
// canonicalized (the spec makes that optional). Flags with 0 or 33 to 64
// labels, which the current spec no longer allows but value's uint64 flags
// can represent, use the earlier spec's layout: zero bytes and no flat
// values for no labels, two i32s (8 bytes, 4-aligned) above 32. Lists whose
// element type has size zero (empty records, tuples and flags) cannot be
// lifted or lowered: nothing would bound their length.
package abi
