// Package wave reads and writes WAVE, the WebAssembly Value Encoding: the
// text format wasmtime's CLI uses for component values (the wasm-wave crate,
// https://github.com/bytecodealliance/wasm-tools/tree/main/crates/wasm-wave).
//
// Values are typed: [Parse] needs the [*value.Type] to read, and both
// directions use the Go representation documented in package value.
//
// # Syntax
//
//	bool            true, false
//	s8 … u64        123, -9 (decimal only)
//	f32, f64        3.14, 6.022e23, -0, nan, inf, -inf
//	char            'x', '☃', '\'', '\u{1F600}'
//	string          "a\tb", or a """ multiline string
//	list<T>         [1, 2, 3], []
//	tuple<…>        (1, "a")
//	record          {a: 1, b: "x"}; fields in any order; option fields
//	                that are none may be left out; {:} when all are
//	variant         case, case(payload); %case for keyword names
//	enum            case; %case for keyword names
//	option<T>       some(x), none, or x itself unless T is an option or result
//	result<T, E>    ok(x), err(e), ok, err, or x itself for ok(x) unless T is
//	                an option or result
//	flags           {read, write}, {}
//
// Escapes in chars and strings are \\ \' \" \t \n \r and \u{hex}, which must
// name a Unicode scalar value (no surrogates). The keywords true, false,
// some, none, ok, err, inf and nan must be written with a % prefix when they
// are variant or enum case names (%ok); any label may carry one. Whitespace
// is insignificant between tokens and // starts a comment that runs to the
// end of the line. Trailing commas are allowed in lists, tuples, records
// and flags.
//
// A multiline string starts with """ and a line break and ends with a line
// break, spaces and """; the spaces before the closing """ are the indent
// that every line must start with and that is removed. Line breaks between
// lines decode as \n.
//
// # Formatting
//
// [Format] writes the canonical form wasmtime prints: options and results
// always in their variant form, record fields in declaration order without
// the option fields that are none, flags in declaration order, floats in
// the shortest decimal that reads back exactly (never an exponent), and
// chars and strings with \\ \' \" \t \n \r escaped and control, format,
// separator, private-use, unassigned and combining characters written as
// \u{hex}.
//
// Resource handles (own and borrow) have no WAVE syntax; Parse and Format
// return an error for them.
//
// # Errors
//
// Parse errors are [*Error] values that give the position in the input as
// line:column, counting columns in characters from 1: "1:7: expected u32,
// got \"abc\"".
package wave
