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
// # Resources
//
// Options.Handles is the guest instance's HandleTable; HandleTable.New, Rep
// and Drop implement canon resource.new, resource.rep and resource.drop.
// The host sees handles as value.Handle{Type, Rep}.
//
// Lifting own<R> moves the handle out of the guest's table (trapping if it
// is a borrow, of another resource type, or lent out); lowering own<R> adds
// an own handle. Lowering borrow<R> passes the representation itself when
// Options.Owns(R) (the guest implements R), else adds a borrow handle
// counted in Options.Scope that the guest must drop before returning;
// lifting borrow<R> reads the handle's representation and lends the handle
// until the scope ends. A call is thus:
//
//	var sc abi.Scope
//	o.Scope = &sc
//	flat, err := f.LowerArgs(o, args, buf[:0])   // host -> guest export
//	... call the core function ...
//	res, err := f.LiftResults(o, out)
//	err = sc.End()   // traps if the guest kept a borrow
//
// and, for a guest calling a host import, LiftArgs, the host function,
// LowerResults, then End to give the lent handles back.
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
