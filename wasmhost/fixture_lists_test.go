package wasmhost_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/wbox-dev/wbox/wasmhost"
)

// strings (tests/runtime/strings, wasm_utf16.c): the guest's main module
// lifts and lowers every string with string-encoding=utf16, so each string
// crosses as UTF-16 code units and the host transcodes.
func TestFixtureStrings(t *testing.T) {
	hc := newHostCalls(t)
	const unicode = "🚀🚀🚀 𠈄𓀀"
	im := wasmhost.NewImports()
	im.Instance("test:strings/imports").
		Func("take-basic", hc.fn("take-basic", func(args []any) ([]any, error) {
			return nil, want("take-basic", args, []any{"latin utf16"})
		})).
		Func("return-unicode", hc.fn("return-unicode", func(args []any) ([]any, error) {
			return []any{unicode}, nil
		}))
	f := newFx(t, "strings", im)
	f.check("test-imports", nil)
	hc.expect("take-basic", "return-unicode")

	f.check("return-empty", nil, "")
	// The guest asserts a non-empty argument, so "" is not tried.
	for _, s := range []string{
		"str",
		unicode,
		"x",
		"héllo wörld",                      // 2-byte UTF-8, 1 UTF-16 unit
		"日本語テキスト",                          // 3-byte UTF-8, 1 unit
		"𝄞 clef",                           // astral: 4-byte UTF-8, surrogate pair
		"\u0000nul inside\u0000",           // NUL is data
		"\uffff\ue000\ud7ff",               // edges around the surrogate range
		strings.Repeat("ab", 5000),         // long latin1
		strings.Repeat("🚀", 3000),          // long astral: 6000 UTF-16 units
		strings.Repeat("a🚀é世", 1000) + "!", // mixed
	} {
		got := f.call("roundtrip", s)
		if len(got) != 1 || got[0] != s {
			g, _ := got[0].(string)
			t.Errorf("roundtrip(%.40q, %d UTF-16 units) = %.40q (len %d)", s, len(utf16.Encode([]rune(s))), g, len(g))
		}
	}
}

// listsImports implements test:lists/test as tests/runtime/lists.rs does.
func listsImports(hc *hostCalls) *wasmhost.Imports {
	im := wasmhost.NewImports()
	hi := im.Instance("test:lists/test")
	def := func(name string, fn func(args []any) ([]any, error)) { hi.Func(name, hc.fn(name, fn)) }
	expect := func(name string, w ...any) {
		def(name, func(args []any) ([]any, error) { return nil, want(name, args, w) })
	}
	expect("empty-list-param", []byte{})
	expect("empty-string-param", "")
	def("empty-list-result", func([]any) ([]any, error) { return []any{[]byte{}}, nil })
	def("empty-string-result", func([]any) ([]any, error) { return []any{""}, nil })
	expect("list-param", []byte{1, 2, 3, 4})
	expect("list-param2", "foo")
	expect("list-param3", []any{"foo", "bar", "baz"})
	expect("list-param4", []any{[]any{"foo", "bar"}, []any{"baz"}})
	expect("list-param5", []any{[]any{uint8(1), uint32(2), uint8(3)}, []any{uint8(4), uint32(5), uint8(6)}})
	def("list-param-large", func(args []any) ([]any, error) { // not imported by the C guest
		if l, ok := args[0].([]any); !ok || len(l) != 1000 {
			return nil, fmt.Errorf("list-param-large: got %d strings, want 1000", len(l))
		}
		return nil, nil
	})
	def("list-result", func([]any) ([]any, error) { return []any{[]byte{1, 2, 3, 4, 5}}, nil })
	def("list-result2", func([]any) ([]any, error) { return []any{"hello!"}, nil })
	def("list-result3", func([]any) ([]any, error) { return []any{[]any{"hello,", "world!"}}, nil })
	def("list-roundtrip", func(args []any) ([]any, error) {
		if _, ok := args[0].([]byte); !ok {
			return nil, fmt.Errorf("list-roundtrip: got %T, want []byte", args[0])
		}
		return []any{args[0]}, nil
	})
	def("string-roundtrip", func(args []any) ([]any, error) {
		if _, ok := args[0].(string); !ok {
			return nil, fmt.Errorf("string-roundtrip: got %T, want string", args[0])
		}
		return []any{args[0]}, nil
	})
	minmax := func(name string, a, b any) {
		def(name, func(args []any) ([]any, error) {
			if err := want(name, args, []any{a, b}); err != nil {
				return nil, err
			}
			return []any{[]any{args[0], args[1]}}, nil
		})
	}
	// list<u8> is []byte, list<s8> is []any of int8.
	minmax("list-minmax8", []byte{0, math.MaxUint8}, []any{int8(math.MinInt8), int8(math.MaxInt8)})
	minmax("list-minmax16", []any{uint16(0), uint16(math.MaxUint16)}, []any{int16(math.MinInt16), int16(math.MaxInt16)})
	minmax("list-minmax32", []any{uint32(0), uint32(math.MaxUint32)}, []any{int32(math.MinInt32), int32(math.MaxInt32)})
	minmax("list-minmax64", []any{uint64(0), uint64(math.MaxUint64)}, []any{int64(math.MinInt64), int64(math.MaxInt64)})
	minmax("list-minmax-float",
		[]any{float32(-math.MaxFloat32), float32(math.MaxFloat32), float32(math.Inf(-1)), float32(math.Inf(1))},
		[]any{-math.MaxFloat64, math.MaxFloat64, math.Inf(-1), math.Inf(1)})
	return im
}

func TestFixtureLists(t *testing.T) {
	hc := newHostCalls(t)
	f := newFx(t, "lists", listsImports(hc))
	start := f.call("allocated-bytes")
	f.check("test-imports", nil)
	hc.expect("empty-list-param", "empty-string-param", "empty-list-result", "empty-string-result",
		"list-param", "list-param2", "list-param3", "list-param4", "list-param5",
		"list-result", "list-result2", "list-result3", "list-roundtrip", "string-roundtrip",
		"list-minmax8", "list-minmax16", "list-minmax32", "list-minmax64", "list-minmax-float")

	const p = "test:lists/test#"
	f.check(p+"empty-list-param", []any{[]byte{}})
	f.check(p+"empty-list-param", []any{[]byte(nil)})
	f.check(p+"empty-string-param", []any{""})
	f.check(p+"empty-list-result", nil, []byte{})
	f.check(p+"empty-string-result", nil, "")
	f.check(p+"list-param", []any{[]byte{1, 2, 3, 4}})
	f.check(p+"list-param2", []any{"foo"})
	f.check(p+"list-param3", []any{[]any{"foo", "bar", "baz"}})
	f.check(p+"list-param4", []any{[]any{[]any{"foo", "bar"}, []any{"baz"}}})
	f.check(p+"list-param5", []any{[]any{[]any{uint8(1), uint32(2), uint8(3)}, []any{uint8(4), uint32(5), uint8(6)}}})
	large := make([]any, 1000)
	for i := range large {
		large[i] = "string"
	}
	f.check(p+"list-param-large", []any{large})
	f.check(p+"list-result", nil, []byte{1, 2, 3, 4, 5})
	f.check(p+"list-result2", nil, "hello!")
	f.check(p+"list-result3", nil, []any{"hello,", "world!"})
	for _, b := range [][]byte{{}, {'x'}, []byte("hello"), {0, 0xff, 0x80}, make([]byte, 1<<20)} {
		f.check(p+"list-roundtrip", []any{b}, b)
	}
	for _, s := range []string{"x", "", "hello ⚑ world", "🚩" + strings.Repeat("z", 100000)} {
		f.check(p+"string-roundtrip", []any{s}, s)
	}
	// Every export that takes or returns a list frees it in post-return or
	// in the guest; after all that, the allocator is back where it started.
	// (The C guest's allocated-bytes is a stub that returns 0, so this
	// checks the call more than the frees; see TestFixtureListsNoLeak.)
	f.check("allocated-bytes", nil, start...)
}

// TestFixtureListsNoLeak proves that the host runs post-return (which
// frees what an export returned) and that nothing else leaks guest memory
// per call: the C guest's allocated-bytes is a stub returning 0, so instead
// its memory is capped at 10 MiB and 256 KiB strings and lists go through
// it 100 times (50 MiB in all). string-roundtrip returns its argument's buffer and
// frees it only in cabi_post_string-roundtrip, so without post-return
// malloc fails after ~20 calls and the guest traps.
func TestFixtureListsNoLeak(t *testing.T) {
	f := newFxWith(t, "lists", listsImports(newHostCalls(t)), wasmhost.Config{MemoryLimitPages: 160})
	const p = "test:lists/test#"
	big := strings.Repeat("0123456789abcdef", 1<<14) // 256 KiB
	words := make([]any, 1000)
	for i := range words {
		words[i] = fmt.Sprintf("word %d %s", i, strings.Repeat("x", i%50))
	}
	blob := make([]byte, 256<<10)
	for i := 0; i < 100; i++ {
		f.check(p+"string-roundtrip", []any{big}, big)
		f.check(p+"list-roundtrip", []any{blob}, blob)
		f.check(p+"list-param-large", []any{words})
		f.check(p+"list-result3", nil, []any{"hello,", "world!"})
		if t.Failed() {
			t.Fatalf("failed at iteration %d", i)
		}
	}
	// The premise: the cap is real, so 16 MiB at once cannot fit. The
	// guest's cabi_realloc aborts (a trap), which must come back as an
	// error.
	if _, err := f.tryCall(p+"list-roundtrip", make([]byte, 16<<20)); err == nil {
		t.Errorf("list-roundtrip of 16 MiB succeeded in a guest capped at 10 MiB: the leak check above proves nothing")
	} else {
		t.Logf("16 MiB under a 10 MiB cap: %.200v", err)
	}
}
