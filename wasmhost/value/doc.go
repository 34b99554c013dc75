// Package value describes component-model value types and the dynamic Go
// representation of component values.
//
// It is the one vocabulary shared by the canonical ABI, the WAVE text format,
// the CLI, native kernel tasks and the NATS wire format. It owns no runtime
// state and must not import wazero or any other part of wasmhost.
//
// # Go representation of values
//
// Values are plain Go values typed by a [*Type]; the type, not the Go type,
// decides what a value means:
//
//	bool                  bool
//	s8 u8 s16 u16         int8 uint8 int16 uint16
//	s32 u32 s64 u64       int32 uint32 int64 uint64
//	f32 f64               float32 float64
//	char                  rune
//	string                string
//	list<u8>              []byte
//	list<T>               []any
//	record, tuple         []any, one element per field in declaration order
//	variant, enum         Variant (enum cases carry no value)
//	option<T>             Variant: case 0 none, case 1 some (see None, Some)
//	result<T, E>          Variant: case 0 ok, case 1 err (see Ok, Err)
//	flags                 uint64, bit i set when flag i is
//	own<R>, borrow<R>     Handle
//
// Option, result and enum share Variant because the canonical ABI treats them
// as variants too; one representation keeps every consumer small.
package value
