// Code copied by wbox from its sdk/go/cabi. DO NOT EDIT.

// Package cabi is the canonical-ABI runtime of Go boxes built by wbox: the
// value types the generated bindings use (Option, Result, Unit) and, on
// GOOS=wasip1, guest memory management (cabi_realloc, the preview1
// adapter's arena, post-return) and the loads and stores the bindings
// compile to.
//
// `wbox new --lang go` and `wbox bindgen --lang go` copy this package into
// the box project as gen/cabi, so a box builds without the network.
// Do not edit that copy: `wbox build` refreshes it.
//
// # Memory
//
// Go's linear memory starts at address 0, so a Go pointer's value is its
// wasm address. Every block the host asks for (cabi_realloc: arguments of
// exports, results of imports) and every block the bindings allocate for a
// call (Alloc: lowered lists, return areas) is a Go heap object kept in a
// package list until the export's post-return, which drops them all: the
// host reads results after the export returns, when nothing in Go points at
// them any more. Lifted strings and lists of scalars alias guest memory
// (no copy); the Go values then keep their blocks alive by themselves.
package cabi

// Unit is the Go type of a missing result or variant payload
// (result<_, E>, a variant case without a type).
type Unit = struct{}

// Option is WIT option<T>: Value is meaningful only when Some is true.
//
//	cabi.Option[string]{Some: true, Value: "x"} // some("x")
//	cabi.Option[string]{}                      // none
type Option[T any] struct {
	Some  bool
	Value T
}

// Some returns some(v).
func Some[T any](v T) Option[T] { return Option[T]{Some: true, Value: v} }

// None returns none.
func None[T any]() Option[T] { return Option[T]{} }

// Get returns the value and whether there is one.
func (o Option[T]) Get() (T, bool) { return o.Value, o.Some }

// Result is WIT result<T, E>: OK when IsErr is false, else Err.
//
//	cabi.Result[string, string]{OK: "x"}                // ok("x")
//	cabi.Result[string, string]{IsErr: true, Err: "no"} // err("no")
type Result[T, E any] struct {
	IsErr bool
	OK    T
	Err   E
}

// OK returns ok(v).
func OK[T, E any](v T) Result[T, E] { return Result[T, E]{OK: v} }

// Err returns err(e).
func Err[T, E any](e E) Result[T, E] { return Result[T, E]{IsErr: true, Err: e} }

// Table holds the values behind the handles of a resource the box
// exports: a handle's representation (rep) is an index into it. The
// generated bindings use it; boxes do not need to.
type Table[T any] struct {
	items []T
	used  []bool
	free  []uint32
}

// Add stores v and returns its rep (never 0).
func (t *Table[T]) Add(v T) uint32 {
	if n := len(t.free); n > 0 {
		rep := t.free[n-1]
		t.free = t.free[:n-1]
		t.items[rep-1], t.used[rep-1] = v, true
		return rep
	}
	t.items = append(t.items, v)
	t.used = append(t.used, true)
	return uint32(len(t.items))
}

// Get returns the value of rep.
func (t *Table[T]) Get(rep uint32) T {
	if rep == 0 || int(rep) > len(t.items) || !t.used[rep-1] {
		panic("cabi: unknown resource rep")
	}
	return t.items[rep-1]
}

// Remove removes rep and returns its value.
func (t *Table[T]) Remove(rep uint32) T {
	v := t.Get(rep)
	var zero T
	t.items[rep-1], t.used[rep-1] = zero, false
	t.free = append(t.free, rep)
	return v
}
