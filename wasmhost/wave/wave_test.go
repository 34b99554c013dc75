package wave

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

var (
	none   = value.None()
	some   = value.Some
	ok     = value.Ok
	errv   = value.Err
	nan32v = float32(math.NaN())
)

func v(c uint32, x any) value.Variant { return value.Variant{Case: c, Value: x} }

// canonical: Format(Parse(text)) == text, Parse(text) == val and
// Parse(Format(val)) == val.
var canonical = []struct {
	t    *value.Type
	text string
	val  any
}{
	// bool
	{value.Bool, "true", true},
	{value.Bool, "false", false},
	// integers
	{value.U8, "0", uint8(0)},
	{value.U8, "42", uint8(42)},
	{value.S8, "-9", int8(-9)},
	{value.U16, "65535", uint16(65535)},
	{value.S16, "-32768", int16(-32768)},
	{value.U32, "4294967295", uint32(4294967295)},
	{value.S32, "-2147483648", int32(-2147483648)},
	{value.U64, "18446744073709551615", uint64(math.MaxUint64)},
	{value.S64, "-9223372036854775808", int64(math.MinInt64)},
	{value.S64, "9223372036854775807", int64(math.MaxInt64)},
	// floats
	{value.F32, "0", float32(0)},
	{value.F32, "-0", float32(math.Copysign(0, -1))},
	{value.F32, "3.14", float32(3.14)},
	{value.F32, "-3.1415", float32(-3.1415)},
	{value.F32, "0.1", float32(0.1)},
	{value.F32, "-100000", float32(-100000)},
	{value.F32, "340282350000000000000000000000000000000", float32(math.MaxFloat32)},
	{value.F32, "0.000000000000000000000000000000000000000000001", float32(math.SmallestNonzeroFloat32)},
	{value.F32, "nan", nan32v},
	{value.F32, "inf", float32(math.Inf(1))},
	{value.F32, "-inf", float32(math.Inf(-1))},
	// Ties between two shortest candidates go to the larger magnitude, as
	// in Rust (Go's strconv picks the even one: 312985.12).
	{value.F32, "312985.13", float32(312985.125)},
	{value.F32, "-522429.13", float32(-522429.125)},
	{value.F32, "4007532.3", float32(4007532.25)},
	{value.F64, "1658206780088562.3", 1658206780088562.25},
	{value.F64, "-1052730259603333.3", -1052730259603333.25},
	{value.F64, "0.1", 0.1},
	{value.F64, "-0", math.Copysign(0, -1)},
	{value.F64, "1.5", 1.5},
	{value.F64, "602200000000000000000000", 6.022e23},
	{value.F64, "0.000001", 1e-6},
	{value.F64, "nan", math.NaN()},
	{value.F64, "inf", math.Inf(1)},
	{value.F64, "-inf", math.Inf(-1)},
	{value.F64, strconv.FormatFloat(math.MaxFloat64, 'f', -1, 64), math.MaxFloat64},
	// chars
	{value.Char, "'x'", 'x'},
	{value.Char, "'☃'", '☃'},
	{value.Char, "'🌊'", '🌊'},
	{value.Char, `'\''`, '\''},
	{value.Char, `'\"'`, '"'},
	{value.Char, `'\\'`, '\\'},
	{value.Char, `'\t'`, '\t'},
	{value.Char, `'\n'`, '\n'},
	{value.Char, `'\r'`, '\r'},
	{value.Char, `'\u{0}'`, rune(0)},
	{value.Char, `'\u{7f}'`, rune(0x7f)},
	{value.Char, `'\u{85}'`, rune(0x85)},
	{value.Char, `'\u{a0}'`, rune(0xa0)},     // no-break space (Zs)
	{value.Char, `'\u{ad}'`, rune(0xad)},     // soft hyphen (Cf)
	{value.Char, `'\u{301}'`, rune(0x301)},   // combining acute (Mn)
	{value.Char, `'\u{200d}'`, rune(0x200d)}, // zero-width joiner (Cf)
	{value.Char, `'\u{2028}'`, rune(0x2028)}, // line separator (Zl)
	{value.Char, `'\u{e000}'`, rune(0xe000)}, // private use
	{value.Char, `'\u{fe0f}'`, rune(0xfe0f)}, // variation selector (Mn)
	{value.Char, `'\u{feff}'`, rune(0xfeff)}, // byte order mark (Cf)
	{value.Char, `'\u{10ffff}'`, rune(0x10ffff)},
	{value.Char, `'\u{1715}'`, rune(0x1715)},   // spacing mark, Grapheme_Extend since Unicode 16
	{value.Char, `'\u{378}'`, rune(0x378)},     // unassigned
	{value.Char, `'\u{e01ef}'`, rune(0xe01ef)}, // variation selector 256
	{value.Char, `'\u{e0001}'`, rune(0xe0001)},
	{value.Char, "' '", ' '},
	{value.Char, "'é'", 'é'},
	{value.Char, "'\U0001F600'", '\U0001F600'},
	// strings
	{value.String, `""`, ""},
	{value.String, `"WAVE🌊"`, "WAVE🌊"},
	{value.String, `"\\\'\"\t\n\r"`, "\\'\"\t\n\r"},
	{value.String, `"it\'s"`, "it's"},
	{value.String, `"a\u{0}b\u{1b}[0m"`, "a\x00b\x1b[0m"},
	{value.String, `"e\u{301}"`, "e\u0301"},
	{value.String, `"👋 Hello, world! 👋"`, "👋 Hello, world! 👋"},
	{value.String, `"// not a comment"`, "// not a comment"},
	// lists
	{value.ListOf(value.U8), "[]", []byte{}},
	{value.ListOf(value.U8), "[1, 2, 255]", []byte{1, 2, 255}},
	{value.ListOf(value.U32), "[]", []any{}},
	{value.ListOf(value.U32), "[1, 2, 3]", []any{uint32(1), uint32(2), uint32(3)}},
	{value.ListOf(value.Char), "['a', 'b']", []any{'a', 'b'}},
	{value.ListOf(value.ListOf(value.String)), `[[], ["a"], ["b", "c"]]`, []any{[]any{}, []any{"a"}, []any{"b", "c"}}},
	{value.ListOf(value.ListOf(value.U8)), `[[], [0]]`, []any{[]byte{}, []byte{0}}},
	// tuples
	{value.TupleOf(value.U8, value.String), `(123, "abc")`, []any{uint8(123), "abc"}},
	{value.TupleOf(value.F64), `(1.5)`, []any{1.5}},
	{value.TupleOf(), `()`, []any{}},
	{tupleMixed, `(true, 'x', [1], "")`, []any{true, 'x', []byte{1}, ""}},
	// records
	{recBasic, "{required: 1}", []any{uint8(1), none}},
	{recBasic, "{required: 1, optional: some(2)}", []any{uint8(1), some(uint8(2))}},
	{recOptional, "{:}", []any{none, none}},
	{recOptional, "{a: some(1)}", []any{some(uint8(1)), none}},
	{recOptional, "{b: some(2)}", []any{none, some(uint8(2))}},
	{recOptional, "{a: some(1), b: some(2)}", []any{some(uint8(1)), some(uint8(2))}},
	{recEmpty, "{:}", []any{}},
	{recKeywords, "{true: true, false: false, some: some(1), ok: ok, err: err, inf: inf, nan: nan}",
		[]any{true, false, some(uint8(1)), none, ok(nil), errv(nil), float32(math.Inf(1)), nan32v}},
	// variants
	{variantResp, "empty", v(0, nil)},
	{variantResp, "body([79, 75])", v(1, []byte{79, 75})},
	{variantResp, `%err("oops")`, v(2, "oops")},
	{variantResp, "HTTP3(443)", v(3, uint16(443))},
	{variantResp, "method-GET", v(4, nil)},
	{variantKw, "%true(1)", v(0, uint8(1))},
	{variantKw, "%false", v(1, nil)},
	{variantKw, "%inf(1)", v(2, uint8(1))},
	{variantKw, "%nan", v(3, nil)},
	{variantKw, "%some(1)", v(4, uint8(1))},
	{variantKw, "%none", v(5, nil)},
	{variantKw, "%ok(1)", v(6, uint8(1))},
	{variantKw, "%err", v(7, nil)},
	// enums
	{enumHand, "left", v(0, nil)},
	{enumHand, "right", v(1, nil)},
	{enumKw, "%true", v(0, nil)},
	{enumKw, "%false", v(1, nil)},
	{enumKw, "%some", v(2, nil)},
	{enumKw, "%none", v(3, nil)},
	{enumKw, "%ok", v(4, nil)},
	{enumKw, "%err", v(5, nil)},
	{enumKw, "%inf", v(6, nil)},
	{enumKw, "%nan", v(7, nil)},
	// options
	{value.OptionOf(value.U8), "none", none},
	{value.OptionOf(value.U8), "some(123)", some(uint8(123))},
	{value.OptionOf(value.String), `some("")`, some("")},
	{optOptU8, "none", none},
	{optOptU8, "some(none)", some(none)},
	{optOptU8, "some(some(0))", some(some(uint8(0)))},
	{optResU8, "some(ok(1))", some(ok(uint8(1)))},
	{value.OptionOf(enumKw), "some(%none)", some(v(3, nil))},
	// results
	{resOkU8, "ok(123)", ok(uint8(123))},
	{resOkU8, "err", errv(nil)},
	{resErrU8, "ok", ok(nil)},
	{resErrU8, "err(7)", errv(uint8(7))},
	{resBothU8, "ok(1)", ok(uint8(1))},
	{resBothU8, "err(2)", errv(uint8(2))},
	{resNone, "ok", ok(nil)},
	{resNone, "err", errv(nil)},
	{resOptU8, "ok(none)", ok(none)},
	{resOptU8, "ok(some(1))", ok(some(uint8(1)))},
	{resRecStr, `err("nope")`, errv("nope")},
	// flags
	{flagsPerm, "{}", uint64(0)},
	{flagsPerm, "{read}", uint64(1)},
	{flagsPerm, "{write}", uint64(2)},
	{flagsPerm, "{read, write, exec}", uint64(7)},
	{flagsPerm, "{read, exec}", uint64(5)},
	{flags64, "{f0, f63}", uint64(1 | 1<<63)},
	// nested
	{nested, "[]", []any{}},
	{nested, `[none, some(ok({required: 1})), some(err("x")), some(ok({required: 2, optional: some(3)}))]`,
		[]any{none, some(ok([]any{uint8(1), none})), some(errv("x")), some(ok([]any{uint8(2), some(uint8(3))}))}},
	{value.ListOf(value.TupleOf(enumHand, flagsPerm)), "[(left, {}), (right, {read})]",
		[]any{[]any{v(0, nil), uint64(0)}, []any{v(1, nil), uint64(1)}}},
	{value.RecordOf(value.Field{Name: "r", Type: recOptional}, value.Field{Name: "l", Type: value.ListOf(variantResp)}),
		"{r: {:}, l: [empty, %err(\"\")]}", []any{[]any{none, none}, []any{v(0, nil), v(2, "")}}},
}

func TestCanonical(t *testing.T) {
	for _, c := range canonical {
		name := fmt.Sprintf("%s/%s", c.t, c.text)
		got, err := Parse(c.t, c.text)
		if err != nil {
			t.Errorf("%s: Parse: %v", name, err)
			continue
		}
		if !equal(got, c.val) {
			t.Errorf("%s: Parse = %s, want %s", name, show(got), show(c.val))
		}
		if err := value.Check(c.t, got); err != nil {
			t.Errorf("%s: Parse result fails value.Check: %v", name, err)
		}
		out, err := Format(c.t, got)
		if err != nil || out != c.text {
			t.Errorf("%s: Format(Parse) = %q, %v; want %q", name, out, err, c.text)
		}
		out, err = Format(c.t, c.val)
		if err != nil || out != c.text {
			t.Errorf("%s: Format = %q, %v; want %q", name, out, err, c.text)
		}
		back, err := Parse(c.t, out)
		if err != nil || !equal(back, c.val) {
			t.Errorf("%s: Parse(Format) = %s, %v; want %s", name, show(back), err, show(c.val))
		}
	}
}

// nonCanonical inputs parse to the value whose canonical text is want.
var nonCanonical = []struct {
	t          *value.Type
	text, want string
}{
	// whitespace and comments
	{value.U8, "  7\n", "7"},
	{value.U8, "// lead\n7 // trail", "7"},
	{value.U8, "7//", "7"},
	{recBasic, "{ // c\n required // c\n : // c\n 1 // c\n , // c\n } // c", "{required: 1}"},
	{value.ListOf(value.U8), "[\t1 ,\r\n2 , ]", "[1, 2]"},
	// floats
	{value.F32, "0.0", "0"},
	{value.F32, "0e0", "0"},
	{value.F32, "0.0e0", "0"},
	{value.F32, "0e-1", "0"},
	{value.F32, "0e+1", "0"},
	{value.F32, "0.000e100", "0"},
	{value.F32, "-0.0e-0", "-0"},
	{value.F32, "1E3", "1000"},
	{value.F32, "1e05", "100000"},
	{value.F32, "3.4028234664e38", "340282350000000000000000000000000000000"},
	{value.F32, "3.4028234664123e38", "340282350000000000000000000000000000000"},
	{value.F32, "3.4028234664e39", "inf"}, // too large: rounds to infinity
	{value.F32, "-1e39", "-inf"},
	{value.F32, "1.4012984643e-45", "0.000000000000000000000000000000000000000000001"},
	{value.F32, "1.4012984643e-46", "0"}, // too small: rounds to zero
	{value.F32, "16777217", "16777216"},
	{value.F64, "1e400", "inf"},
	{value.F64, "6.022e+23", "602200000000000000000000"},
	{value.F64, "5", "5"},
	// chars
	{value.Char, `'\u{000000}'`, `'\u{0}'`},
	{value.Char, `'\u{78}'`, "'x'"},
	{value.Char, `'\u{000078}'`, "'x'"},
	{value.Char, `'\u{2603}'`, "'☃'"},
	{value.Char, `'"'`, `'\"'`},
	{value.Char, `'\u{22}'`, `'\"'`},
	{value.Char, `'\u{1F600}'`, "'\U0001F600'"},
	{value.Char, "'\t'", `'\t'`},
	{value.Char, "'\r'", `'\r'`},
	{value.Char, "'\u00a0'", `'\u{a0}'`},
	// strings
	{value.String, `"'\'\u{27}"`, `"\'\'\'"`},
	{value.String, `"☃\u{2603}\u{002603}"`, `"☃☃☃"`},
	{value.String, "\"a\tb\rc\"", `"a\tb\rc"`},
	{value.String, "\"\x00\"", `"\u{0}"`},
	{value.String, "\"\"\"\n\"\"\"", `""`},
	{value.String, "\"\"\"\r\n\"\"\"", `""`},
	{value.String, "\"\"\"\nA single line\n\"\"\"", `"A single line"`},
	{value.String, "\"\"\"\r\nCRLF\r\nlines\r\n\"\"\"", `"CRLF\nlines"`},
	{value.String, "\"\"\"\n    Indentation determined\n      by ending delimiter\n  \"\"\"", `"  Indentation determined\n    by ending delimiter"`},
	{value.String, "\"\"\"\n  Must escape carriage return at end of line: \\r\n  Must break up double quote triplets: \"\"\\\"\"\n  \"\"\"",
		`"Must escape carriage return at end of line: \r\nMust break up double quote triplets: \"\"\"\""`},
	{value.String, "\"\"\"\nBreak up double quote sequences: \"\"\\\"\"\nOther escapes work: \\\\\\'\\\"\\t\\n\\r\\u{2603}\n\"\"\"",
		`"Break up double quote sequences: \"\"\"\"\nOther escapes work: \\\'\"\t\n\r☃"`},
	{value.String, "\"\"\"\n    Trailing indent\n  determines dedent\n      behavior.\n  \"\"\"", `"  Trailing indent\ndetermines dedent\n    behavior."`},
	{value.String, "\"\"\"\n\nEmpty leading and trailing lines are retained\n\n\"\"\"", `"\nEmpty leading and trailing lines are retained\n"`},
	{value.String, "\"\"\"\n  tab\there, 'quotes' \"and\" // no comment\n  \"\"\"", `"tab\there, \'quotes\' \"and\" // no comment"`},
	{value.ListOf(value.String), "[\"\"\"\n  a\n  \"\"\", \"b\"]", `["a", "b"]`},
	// lists, tuples: trailing commas
	{value.ListOf(value.U8), "[1,]", "[1]"},
	{value.ListOf(value.String), `["a","b",]`, `["a", "b"]`},
	{value.TupleOf(value.U8, value.U8), "(1,2,)", "(1, 2)"},
	// records
	{recBasic, "{ required: 1, optional: none }", "{required: 1}"},
	{recBasic, "{ required: 1, optional: none, }", "{required: 1}"},
	{recBasic, "{ optional: none, required: 1 }", "{required: 1}"},
	{recBasic, "{ optional: some(2), required: 1, }", "{required: 1, optional: some(2)}"},
	{recBasic, "{required: 1, optional: 2}", "{required: 1, optional: some(2)}"},
	{recBasic, "{ %required: 1, %optional: 2 }", "{required: 1, optional: some(2)}"},
	{recOptional, "{ : }", "{:}"},
	{recOptional, "{a:none,b:none}", "{:}"},
	{recOptional, "{b:none,}", "{:}"},
	{recOptional, "{b:some(2),a:some(1)}", "{a: some(1), b: some(2)}"},
	{recKeywords, "{true: true, false: false, some: some(1), none: none, ok: ok, err: err, inf: inf, nan: nan}",
		"{true: true, false: false, some: some(1), ok: ok, err: err, inf: inf, nan: nan}"},
	{recKeywords, "{nan: nan, inf: -inf, err: err, ok: ok, none: 3, some: none, false: true, true: false}",
		"{true: false, false: true, none: some(3), ok: ok, err: err, inf: -inf, nan: nan}"},
	// variants and enums
	{enumHand, "%left", "left"},
	{variantResp, "%empty", "empty"},
	{variantResp, "body ( [ ] )", "body([])"},
	{variantResp, "%HTTP3(80)", "HTTP3(80)"},
	// options: the flat form
	{value.OptionOf(value.U8), "123", "some(123)"},
	{value.OptionOf(value.Bool), "true", "some(true)"},
	{value.OptionOf(value.F32), "nan", "some(nan)"},
	{value.OptionOf(value.F32), "-inf", "some(-inf)"},
	{value.OptionOf(value.String), `"flat some"`, `some("flat some")`},
	{value.OptionOf(enumKw), "%none", "some(%none)"},
	{value.OptionOf(enumHand), "left", "some(left)"},
	{value.OptionOf(recOptional), "{:}", "some({:})"},
	{value.OptionOf(flagsPerm), "{}", "some({})"},
	{value.OptionOf(value.ListOf(value.OptionOf(value.U8))), "[1, none]", "some([some(1), none])"},
	{optOptU8, "some(5)", "some(some(5))"},
	{optResU8, "some(5)", "some(ok(5))"},
	// results: the flat form
	{resOkU8, "123", "ok(123)"},
	{resBothU8, "0", "ok(0)"},
	{value.ResultOf(value.String, value.String), `"flat ok"`, `ok("flat ok")`},
	{resOptU8, "ok(1)", "ok(some(1))"},
	// flags
	{flagsPerm, "{ read }", "{read}"},
	{flagsPerm, "{ read, }", "{read}"},
	{flagsPerm, "{ write, read }", "{read, write}"},
	{flagsPerm, "{exec,write,read,}", "{read, write, exec}"},
	{flagsPerm, "{%read}", "{read}"},
	// nested
	{value.ListOf(resRecStr), "[{required: 1}, err(\"x\"), ok({required: 2})]", `[ok({required: 1}), err("x"), ok({required: 2})]`},
}

func TestNonCanonical(t *testing.T) {
	for _, c := range nonCanonical {
		got, err := Parse(c.t, c.text)
		if err != nil {
			t.Errorf("%s/%q: Parse: %v", c.t, c.text, err)
			continue
		}
		out, err := Format(c.t, got)
		if err != nil || out != c.want {
			t.Errorf("%s/%q: Format(Parse) = %q, %v; want %q", c.t, c.text, out, err, c.want)
		}
		back, err := Parse(c.t, out)
		if err != nil || !equal(back, got) {
			t.Errorf("%s/%q: Parse(Format) = %s, %v; want %s", c.t, c.text, show(back), err, show(got))
		}
	}
}

func TestIntegerLimits(t *testing.T) {
	for _, c := range []struct {
		t        *value.Type
		min, max any
		lo, hi   string // first values out of range
	}{
		{value.S8, int8(math.MinInt8), int8(math.MaxInt8), "-129", "128"},
		{value.U8, uint8(0), uint8(math.MaxUint8), "-1", "256"},
		{value.S16, int16(math.MinInt16), int16(math.MaxInt16), "-32769", "32768"},
		{value.U16, uint16(0), uint16(math.MaxUint16), "-1", "65536"},
		{value.S32, int32(math.MinInt32), int32(math.MaxInt32), "-2147483649", "2147483648"},
		{value.U32, uint32(0), uint32(math.MaxUint32), "-1", "4294967296"},
		{value.S64, int64(math.MinInt64), int64(math.MaxInt64), "-9223372036854775809", "9223372036854775808"},
		{value.U64, uint64(0), uint64(math.MaxUint64), "-1", "18446744073709551616"},
	} {
		for _, x := range []any{c.min, c.max} {
			s := fmt.Sprint(x)
			got, err := Parse(c.t, s)
			if err != nil || got != x {
				t.Errorf("%s: Parse(%s) = %#v, %v", c.t, s, got, err)
			}
			if out, err := Format(c.t, x); err != nil || out != s {
				t.Errorf("%s: Format(%v) = %q, %v", c.t, x, out, err)
			}
		}
		rng := fmt.Sprintf("(%v to %v)", c.min, c.max)
		for _, s := range []string{c.lo, c.hi, "99999999999999999999999"} {
			want := fmt.Sprintf("1:1: %s is out of range for %s %s", s, c.t, rng)
			if _, err := Parse(c.t, s); err == nil || err.Error() != want {
				t.Errorf("%s: Parse(%s) error = %v, want %s", c.t, s, err, want)
			}
		}
		if _, err := Parse(c.t, "-0"); (err == nil) != (c.min != c.max && fmt.Sprint(c.min) != "0") {
			t.Errorf("%s: Parse(-0): %v", c.t, err)
		}
	}
}

func TestNaNIsCanonical(t *testing.T) {
	f32, _ := Parse(value.F32, "nan")
	if b := math.Float32bits(f32.(float32)); b != 0x7fc00000 {
		t.Errorf("f32 nan bits = %#x", b)
	}
	f64, _ := Parse(value.F64, "nan")
	if b := math.Float64bits(f64.(float64)); b != 0x7ff8000000000000 {
		t.Errorf("f64 nan bits = %#x", b)
	}
	for _, bits := range []uint32{0x7fc00001, 0xffffffff, 0x7f800001} {
		if s, err := Format(value.F32, math.Float32frombits(bits)); s != "nan" || err != nil {
			t.Errorf("Format(f32 %#x) = %q, %v", bits, s, err)
		}
	}
}

// parseErrors: Parse(t, text) fails with exactly msg.
var parseErrors = []struct {
	t    *value.Type
	text string
	msg  string
}{
	// type mismatches
	{value.U32, "abc", `1:1: expected u32, got "abc"`},
	{value.U32, `"abc"`, `1:1: expected u32, got string "abc"`},
	{value.U32, "  [1]", `1:3: expected u32, got list`},
	{value.U32, "", `1:1: expected u32, got end of input`},
	{value.U32, "// only a comment", `1:18: expected u32, got end of input`},
	{value.U32, "1.5", `1:1: expected u32, got "1.5" (integers have no fraction or exponent)`},
	{value.U32, "1e3", `1:1: expected u32, got "1e3" (integers have no fraction or exponent)`},
	{value.Bool, "True", `1:1: invalid label "True": a word of a label is all lower or all upper case, not "True"`},
	{value.Bool, "%true", `1:1: expected bool, got "%true"`},
	{value.Bool, "1", `1:1: expected bool, got "1"`},
	{value.Char, `"x"`, `1:1: expected char, got string "x"`},
	{value.String, "'x'", `1:1: expected string, got char 'x'`},
	{value.String, "abc", `1:1: expected string, got "abc"`},
	{value.F32, "%inf", `1:1: expected f32, got "%inf"`},
	{value.F32, "infinity", `1:1: expected f32, got "infinity"`},
	{value.F32, "INFINITY", `1:1: expected f32, got "INFINITY"`},
	{value.F32, "Inf", `1:1: invalid label "Inf": a word of a label is all lower or all upper case, not "Inf"`},
	{value.F64, "NaN", `1:1: invalid label "NaN": a word of a label is all lower or all upper case, not "NaN"`},
	{value.F64, "-infinity", `1:1: invalid number "-infinity"`},
	{value.F64, "-nan", `1:1: invalid number "-nan": nan has no sign`},
	{value.F64, "-Inf", `1:1: invalid number "-Inf"`},
	{value.F64, "+1", `1:1: unexpected character '+'`},
	{value.F64, ".5", `1:1: unexpected character '.'`},
	{value.F64, "1.", `1:1: invalid number "1."`},
	{value.F64, "1.e5", `1:1: invalid number "1.e5"`},
	{value.F64, "1e", `1:1: invalid number "1e"`},
	{value.U8, "01", `1:1: invalid number "01"`},
	{value.U8, "0x1f", `1:1: invalid number "0x1f": numbers are written in decimal`},
	{value.U8, "1_000", `1:1: invalid number "1_000"`},
	{value.U8, "-", `1:1: invalid number "-"`},
	{value.U8, "1 2", `1:3: unexpected "2" after the value`},
	{value.U8, "1,", `1:2: unexpected "," after the value`},
	{value.U8, "1 /", `1:3: unexpected character '/'`},
	{value.U8, "1 \xff", `1:3: invalid UTF-8`},
	{value.U8, "\n\n  ab_c", `3:3: invalid label "ab_c": a label joins words with '-', not '_'`},
	{value.U8, "%", `1:1: % must be followed by a label`},
	{value.U8, "a-", `1:1: invalid label "a-": a label is words joined by single hyphens`},
	{value.U8, "%1a", `1:1: invalid label "%1a": a label starts with a letter`},
	{value.U8, "é", `1:1: unexpected character 'é'`},
	// chars
	{value.Char, "''", `1:1: empty char literal`},
	{value.Char, "'ab'", `1:1: char literal must hold exactly one character`},
	{value.Char, "'☃☃'", `1:1: char literal must hold exactly one character`},
	{value.Char, `'\n\n'`, `1:1: char literal must hold exactly one character`},
	{value.Char, `'e` + "\u0301'", `1:1: char literal must hold exactly one character`},
	{value.Char, `'\z'`, `1:2: invalid escape \z: valid escapes are \\ \' \" \t \n \r \u{hex}`},
	{value.Char, `'\x1f'`, `1:2: invalid escape \x: valid escapes are \\ \' \" \t \n \r \u{hex}`},
	{value.Char, `'\u1f'`, `1:2: invalid escape \u: write \u{hex}, as in \u{1F600}`},
	{value.Char, `'\u{1f'`, `1:2: invalid escape \u{: missing }`},
	{value.Char, `'\u{}'`, `1:2: invalid escape \u{}: no hex digits`},
	{value.Char, `'\u{x}'`, `1:2: invalid escape \u{x}: "x" is not hexadecimal`},
	{value.Char, `'\u{12345678}'`, `1:2: invalid escape \u{12345678}: more than 6 hex digits`},
	{value.Char, `'\u{110000}'`, `1:2: invalid escape \u{110000}: beyond U+10FFFF, the largest Unicode scalar value`},
	{value.Char, `'\u{D800}'`, `1:2: invalid escape \u{D800}: a surrogate is not a Unicode scalar value`},
	{value.Char, `'\u{dfff}'`, `1:2: invalid escape \u{dfff}: a surrogate is not a Unicode scalar value`},
	{value.Char, `'`, `1:1: unterminated char literal`},
	{value.Char, `'x`, `1:1: unterminated char literal`},
	{value.Char, `x'`, `1:1: expected char, got "x"`},
	{value.Char, `'\'`, `1:1: unterminated char literal`},
	{value.Char, `'''`, `1:1: a ' char must be escaped: '\''`},
	{value.Char, "'\n'", `1:2: line break in char literal (write '\n')`},
	// strings
	{value.String, `"\u{d800}"`, `1:2: invalid escape \u{d800}: a surrogate is not a Unicode scalar value`},
	{value.String, `"ab\u{dc00}"`, `1:4: invalid escape \u{dc00}: a surrogate is not a Unicode scalar value`},
	{value.String, `"\u{ffffffff}"`, `1:2: invalid escape \u{ffffffff}: more than 6 hex digits`},
	{value.String, `"\u{-1}"`, `1:2: invalid escape \u{-1}: "-1" is not hexadecimal`},
	{value.String, `"\u{+1}"`, `1:2: invalid escape \u{+1}: "+1" is not hexadecimal`},
	{value.String, `"""`, `1:1: unterminated multiline string (no closing """)`},
	{value.String, `"\"`, `1:1: unterminated string`},
	{value.String, `"abc`, `1:1: unterminated string`},
	{value.String, "\"\n\"", `1:2: line break in string (write \n, or use a """ multiline string)`},
	{value.String, "\"a\\\nb\"", `1:3: invalid escape: \ at end of line`},
	{value.String, `"\`, `1:2: invalid escape: \ at end of input`},
	{value.String, `"\q"`, `1:2: invalid escape \q: valid escapes are \\ \' \" \t \n \r \u{hex}`},
	{value.String, `""""""`, `1:4: opening """ must be followed immediately by a line break`},
	{value.String, `""" """`, `1:4: opening """ must be followed immediately by a line break`},
	{value.String, "\"\"\"\"\n\"\"\"", `1:4: opening """ must be followed immediately by a line break`},
	{value.String, "\"\"\"\n\"\"", `1:1: unterminated multiline string (no closing """)`},
	{value.String, "\"\"\"\n\"\"\"\"", `2:4: unterminated string`},
	{value.String, "\"\"\"extra\n\"\"\"", `1:4: opening """ must be followed immediately by a line break`},
	{value.String, "\"\"\"\nextra\"\"\"", `2:6: closing """ must be on its own line, after nothing but spaces`},
	{value.String, "\"\"\"\n  \"\"\"\n  \"\"\"", `3:3: unterminated multiline string (no closing """)`},
	{value.String, "\"\"\"\n  Between \"\"\" words\n  \"\"\"", `2:11: closing """ must be on its own line, after nothing but spaces`},
	{value.String, "\"\"\"\nInvalid surrogate: \\u{d800}\n\"\"\"", `2:20: invalid escape \u{d800}: a surrogate is not a Unicode scalar value`},
	{value.String, "\"\"\"\nInvalid escape: \\j\n\"\"\"", `2:17: invalid escape \j: valid escapes are \\ \' \" \t \n \r \u{hex}`},
	{value.String, "\"\"\"\n  ok\n under-indented\n  \"\"\"", `3:1: line is indented less than the closing """ (2 spaces)`},
	{value.String, "\"\"\"\n  ok\n\n  \"\"\"", `3:1: line is indented less than the closing """ (2 spaces)`},
	// lists
	{value.ListOf(value.String), `["\u{0}",,]`, `1:10: expected string, got ","`},
	{value.ListOf(value.String), `[,"\u{0}"]`, `1:2: expected string, got ","`},
	{value.ListOf(value.String), `[,]`, `1:2: expected string, got ","`},
	{value.ListOf(value.String), `[)`, `1:2: expected string, got ")"`},
	{value.ListOf(value.String), `(]`, `1:1: expected list<string>, got tuple`},
	{value.ListOf(value.String), `[}`, `1:2: expected string, got "}"`},
	{value.ListOf(value.String), `{]`, `1:1: expected list<string>, got record or flags`},
	{value.ListOf(value.String), `["a" "b"]`, `1:6: expected "," or "]" in list, got string "b"`},
	{value.ListOf(value.String), `["a"`, `1:5: expected "," or "]" in list, got end of input`},
	{value.ListOf(value.U8), `[1, 256]`, `1:5: 256 is out of range for u8 (0 to 255)`},
	{value.ListOf(value.U8), `[1, -1]`, `1:5: -1 is out of range for u8 (0 to 255)`},
	// tuples
	{value.TupleOf(value.U8, value.String), `(1)`, `1:1: too few values for tuple<u8, string>: got 1, want 2`},
	{value.TupleOf(value.U8, value.String), `()`, `1:1: too few values for tuple<u8, string>: got 0, want 2`},
	{value.TupleOf(value.U8, value.String), `(1, "a", 2)`, `1:10: too many values for tuple<u8, string>: want 2`},
	{value.TupleOf(value.U8, value.String), `(1 "a")`, `1:4: expected "," or ")" in tuple, got string "a"`},
	{value.TupleOf(value.U8), `[1]`, `1:1: expected tuple<u8>, got list`},
	// records
	{recBasic, "{ optional: none }", `1:1: missing field "required" (u8) of basic`},
	{recBasic, "{ optional: some(0) }", `1:1: missing field "required" (u8) of basic`},
	{recBasic, "{ required: 0, required: 0 }", `1:16: duplicate field "required"`},
	{recBasic, "{ required: 0, optional: none, optional: some(0) }", `1:32: duplicate field "optional"`},
	{recBasic, "{ required: 0, %required: 0 }", `1:16: duplicate field "required"`},
	{recBasic, "{ required: 0,, }", `1:15: expected a field name of basic, got ","`},
	{recBasic, "{ , required: 0, }", `1:3: expected a field name of basic, got ","`},
	{recBasic, "{ required: 0, extra: 1 }", `1:16: unknown field "extra" of basic (fields: required, optional)`},
	{recBasic, "{ required 0 }", `1:12: expected ":" after field name "required", got "0"`},
	{recBasic, "{ required: 0 optional: none }", `1:15: expected "," or "}" in record, got "optional"`},
	{recBasic, "{ required: 300 }", `1:13: 300 is out of range for u8 (0 to 255)`},
	{recBasic, `{ "required": 0 }`, `1:3: expected a field name of basic, got string "required"`},
	{recBasic, "{required}", `1:10: expected ":" after field name "required", got "}"`},
	{recOptional, "{}", `1:1: expected optional-fields, got {}, which is empty flags (write an empty record as {:})`},
	{recOptional, "{:,}", `1:3: expected "}" after "{:", got ","`},
	{recEmpty, "{}", `1:1: expected empty, got {}, which is empty flags (write an empty record as {:})`},
	{recEmpty, "{a: 1}", `1:2: unknown field "a" of empty (fields: )`},
	{value.RecordOf(value.Field{Name: "a", Type: value.U8}), "{a: 1", `1:6: expected "," or "}" in record, got end of input`},
	// variants
	{variantResp, "nope", `1:1: unknown case "nope" of response (cases: empty, body, err, HTTP3, method-GET)`},
	{variantResp, "err(\"x\")", `1:1: case "err" of response is a keyword and must be written %err`},
	{variantResp, "body", `1:1: case body of response needs a payload (list<u8>): write body(…)`},
	{variantResp, "empty(1)", `1:6: case empty of response has no payload`},
	{variantResp, "body([1]", `1:9: expected ")" after the payload of body, got end of input`},
	{variantResp, "body([1],)", `1:9: expected ")" after the payload of body, got ","`},
	{variantResp, "body()", `1:6: expected list<u8>, got ")"`},
	{variantResp, "1", `1:1: expected response, got "1"`},
	{variantResp, "Body([])", `1:1: invalid label "Body": a word of a label is all lower or all upper case, not "Body"`},
	{variantResp, "http3(1)", `1:1: unknown case "http3" of response (cases: empty, body, err, HTTP3, method-GET)`},
	{variantKw, "some(1)", `1:1: case "some" of kw is a keyword and must be written %some`},
	{variantKw, "true(1)", `1:1: case "true" of kw is a keyword and must be written %true`},
	// enums
	{enumHand, "up", `1:1: unknown case "up" of hand (cases: left, right)`},
	{enumHand, "left()", `1:5: case left of hand has no payload`},
	{enumHand, `"left"`, `1:1: expected hand, got string "left"`},
	{enumKw, "true", `1:1: case "true" of keyword-cases is a keyword and must be written %true`},
	{enumKw, "false", `1:1: case "false" of keyword-cases is a keyword and must be written %false`},
	{enumKw, "some", `1:1: case "some" of keyword-cases is a keyword and must be written %some`},
	{enumKw, "none", `1:1: case "none" of keyword-cases is a keyword and must be written %none`},
	{enumKw, "ok", `1:1: case "ok" of keyword-cases is a keyword and must be written %ok`},
	{enumKw, "err", `1:1: case "err" of keyword-cases is a keyword and must be written %err`},
	{enumKw, "inf", `1:1: case "inf" of keyword-cases is a keyword and must be written %inf`},
	{enumKw, "nan", `1:1: case "nan" of keyword-cases is a keyword and must be written %nan`},
	{enumHand, "true", `1:1: unknown case "true" of hand (cases: left, right)`},
	// options
	{value.OptionOf(value.U8), "some", `1:1: case some of option<u8> needs a payload (u8): write some(…)`},
	{value.OptionOf(value.U8), "some()", `1:6: expected u8, got ")"`},
	{value.OptionOf(value.U8), "some(some)", `1:6: expected u8, got "some"`},
	{value.OptionOf(value.U8), "some(some(0))", `1:6: expected u8, got "some"`},
	{value.OptionOf(value.U8), "none()", `1:5: case none of option<u8> has no payload`},
	{value.OptionOf(value.U8), "none(0)", `1:5: case none of option<u8> has no payload`},
	{value.OptionOf(value.U8), "some(none(0))", `1:6: expected u8, got "none"`},
	{value.OptionOf(value.U8), "%some(1)", `1:1: expected u8, got "%some"`},
	{value.OptionOf(value.U8), "300", `1:1: 300 is out of range for u8 (0 to 255)`},
	{value.OptionOf(value.U8), "ok(1)", `1:1: expected u8, got "ok"`},
	{optOptU8, "5", `1:1: expected option<option<u8>>, got "5" (write some(…) or none)`},
	{optResU8, "5", `1:1: expected option<result<u8, u8>>, got "5" (write some(…) or none)`},
	// results
	{resOkU8, "ok", `1:1: case ok of result<u8> needs a payload (u8): write ok(…)`},
	{resOkU8, "ok()", `1:4: expected u8, got ")"`},
	{resOkU8, "o(0)", `1:1: expected u8, got "o"`},
	{resOkU8, "err(0)", `1:4: case err of result<u8> has no payload`},
	{resErrU8, "err", `1:1: case err of result<_, u8> needs a payload (u8): write err(…)`},
	{resErrU8, "err()", `1:5: expected u8, got ")"`},
	{resErrU8, "e(0)", `1:1: expected result<_, u8>, got "e" (write ok or err(…))`},
	{resErrU8, "ok(0)", `1:3: case ok of result<_, u8> has no payload`},
	{resErrU8, "0", `1:1: expected result<_, u8>, got "0" (write ok or err(…))`},
	{resNone, "ok()", `1:3: case ok of result has no payload`},
	{resNone, "o(0)", `1:1: expected result, got "o" (write ok or err)`},
	{resNone, "err(0)", `1:4: case err of result has no payload`},
	{resBothU8, "err", `1:1: case err of result<u8, u8> needs a payload (u8): write err(…)`},
	{resBothU8, "e(0)", `1:1: expected u8, got "e"`},
	{resOptU8, "1", `1:1: expected result<option<u8>, string>, got "1" (write ok(…) or err(…))`},
	{value.ResultOf(value.U8, nil), "%ok(1)", `1:1: expected u8, got "%ok"`},
	// flags
	{flagsPerm, "{ read, read }", `1:9: duplicate flag "read"`},
	{flagsPerm, "{ write, %write }", `1:10: duplicate flag "write"`},
	{flagsPerm, "{ read, write, read }", `1:16: duplicate flag "read"`},
	{flagsPerm, "{ read, write, execute }", `1:16: unknown flag "execute" of permissions (flags: read, write, exec)`},
	{flagsPerm, "{:}", `1:1: expected permissions, got {:}, which is an empty record (write empty flags as {})`},
	{flagsPerm, "{read: true}", `1:6: expected "," or "}" in flags, got ":"`},
	{flagsPerm, "{read write}", `1:7: expected "," or "}" in flags, got "write"`},
	{flagsPerm, "{,}", `1:2: expected a flag of permissions, got ","`},
	{flagsPerm, "[read]", `1:1: expected permissions, got list`},
	{flagsPerm, "read", `1:1: expected permissions, got "read"`},
	// comments
	{recBasic, "// { required: 1 }", `1:19: expected basic, got end of input`},
	{recBasic, "{ required: 1 } // )", ``},
	{recBasic, "{\n  // required: 1,\n  optional: none,\n}", `1:1: missing field "required" (u8) of basic`},
	// nested positions
	{nested, "[none,\n  some(ok({required: 1, optional: x}))]", `2:35: expected u8, got "x"`},
	{nested, "[some(ok({required: 1})), some(err(\"\\u{d800}\"))]", `1:37: invalid escape \u{d800}: a surrogate is not a Unicode scalar value`},
	{value.ListOf(value.String), "[\"☃☃☃\", 7]", `1:9: expected string, got "7"`},
	// resources
	{value.Own(outStream), "1", `1:1: output-stream is a resource handle, which WAVE cannot express`},
	{value.ListOf(value.Borrow(outStream)), "[1]", `1:2: borrow<output-stream> is a resource handle, which WAVE cannot express`},
}

func TestParseErrors(t *testing.T) {
	for _, c := range parseErrors {
		got, err := Parse(c.t, c.text)
		if c.msg == "" {
			if err != nil {
				t.Errorf("%s/%q: unexpected error %v", c.t, c.text, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s/%q: Parse = %s, want error %s", c.t, c.text, show(got), c.msg)
			continue
		}
		if err.Error() != c.msg {
			t.Errorf("%s/%q:\n got error %s\nwant error %s", c.t, c.text, err, c.msg)
		}
		var perr *Error
		if !errors.As(err, &perr) {
			t.Errorf("%s/%q: error %T is not an *Error", c.t, c.text, err)
		} else if perr.Offset < 0 || perr.Offset > len(c.text) {
			t.Errorf("%s/%q: offset %d out of bounds", c.t, c.text, perr.Offset)
		}
	}
}

func TestFormatErrors(t *testing.T) {
	for _, c := range []struct {
		t   *value.Type
		v   any
		msg string
	}{
		{value.U8, 1, "value: int is not a u8"},
		{value.U8, nil, "value: <nil> is not a u8"},
		{value.S32, uint32(1), "value: uint32 is not a s32"},
		{value.F32, 1.0, "value: float64 is not a f32"},
		{value.Char, rune(0xd800), "value: 0xd800 is not a Unicode scalar value"},
		{value.Char, rune(-1), "value: -0x1 is not a Unicode scalar value"},
		{value.Char, rune(0x110000), "value: 0x110000 is not a Unicode scalar value"},
		{value.String, "a\xffb", "value: string is not valid UTF-8"},
		{value.ListOf(value.String), []any{"ok", "\xed\xa0\x80"}, "value[1]: string is not valid UTF-8"},
		{recBasic, []any{uint8(1), some(uint8(2)), "extra"}, "value: 3 values for a record of 2"},
		{recBasic, []any{uint8(1), "x"}, "value.optional: string is not a option<u8>"},
		{value.RecordOf(value.Field{Name: "s", Type: value.String}), []any{"\xff"}, "value.s: string is not valid UTF-8"},
		{value.TupleOf(value.U8, value.String), []any{uint8(1), "\xff"}, "value.1: string is not valid UTF-8"},
		{variantResp, v(9, nil), "value: case 9 of a variant with 5 cases"},
		{variantResp, v(0, "x"), "value: case empty has no payload, got string"},
		{variantResp, v(2, "\xff"), "value.err: string is not valid UTF-8"},
		{value.OptionOf(value.String), some("\xff"), "value.some: string is not valid UTF-8"},
		{flagsPerm, uint64(8), "value: flags 0x8 set bits beyond the 3 labels"},
		{value.ListOf(value.U8), []any{uint8(1)}, "value: []interface {} is not a list<u8>"},
		{value.ListOf(value.U32), []byte{1}, "value: []uint8 is not a list<u32>"},
		{value.Own(outStream), value.Handle{Type: outStream, Rep: 3}, "value: output-stream is a resource handle, which WAVE cannot express"},
		{value.OptionOf(value.Borrow(outStream)), some(value.Handle{Type: outStream, Rep: 3}), "value.some: borrow<output-stream> is a resource handle, which WAVE cannot express"},
		{nil, 1, "invalid type: nil"},
		{value.ListOf(nil), []any{}, "invalid type: list without an element type"},
		{&value.Type{Kind: value.KindOwn}, nil, "invalid type: own without a resource type"},
		{&value.Type{Kind: value.KindEnum, Labels: []string{"a", "a"}}, v(0, nil), "invalid type: enum { a, a }: duplicate case name \"a\""},
		{&value.Type{Kind: value.KindEnum, Labels: []string{"a_b"}}, v(0, nil), "invalid type: enum { a_b }: case name \"a_b\" is not a valid label: a label joins words with '-', not '_'"},
		{&value.Type{Kind: value.KindFlags, Labels: append(flags64.Labels[:64:64], "x")}, uint64(0), "invalid type: flags with 65 labels (at most 64)"},
		{value.RecordOf(value.Field{Name: "", Type: value.U8}), []any{uint8(0)}, "invalid type: record { : u8 }: field name \"\" is not a valid label: empty label"},
		{&value.Type{Kind: value.KindInvalid}, nil, "invalid type: invalid type kind invalid"},
		{&value.Type{Kind: 200}, nil, "invalid type: invalid type kind kind(200)"},
	} {
		out, err := Format(c.t, c.v)
		if err == nil || err.Error() != c.msg {
			t.Errorf("Format(%s, %#v) = %q, %v; want error %s", safeTypeName(c.t), c.v, out, err, c.msg)
		}
		if c.t == nil || checkType(c.t) != nil {
			if _, err := Parse(c.t, "1"); err == nil || err.Error() != c.msg {
				t.Errorf("Parse(%s) error %v, want %s", safeTypeName(c.t), err, c.msg)
			}
		}
	}
}

func TestParseArgs(t *testing.T) {
	params := []value.Param{
		{Name: "a", Type: value.String},
		{Name: "b", Type: value.U32},
		{Name: "c", Type: value.OptionOf(value.U8)},
		{Name: "d", Type: value.OptionOf(value.Bool)},
	}
	for _, c := range []struct {
		args []string
		want []any
		msg  string
	}{
		{args: []string{`"x"`, "7", "some(1)", "false"}, want: []any{"x", uint32(7), some(uint8(1)), some(false)}},
		{args: []string{`"x"`, "7", "1"}, want: []any{"x", uint32(7), some(uint8(1)), none}},
		{args: []string{`"x"`, "7"}, want: []any{"x", uint32(7), none, none}},
		{args: []string{`"x"`, "abc"}, msg: `parameter "b" (u32): 1:1: expected u32, got "abc"`},
		{args: []string{`"x"`, "  -1"}, msg: `parameter "b" (u32): 1:3: -1 is out of range for u32 (0 to 4294967295)`},
		{args: []string{`x`}, msg: `parameter "a" (string): 1:1: expected string, got "x"`},
		{args: []string{`"x"`}, msg: `missing argument for parameter "b" (u32); want 4 arguments (a: string, b: u32, c: option<u8>, d: option<bool>)`},
		{args: nil, msg: `missing argument for parameter "a" (string); want 4 arguments (a: string, b: u32, c: option<u8>, d: option<bool>)`},
		{args: []string{`"x"`, "1", "2", "true", "3"}, msg: `too many arguments: got 5, want 4 (a: string, b: u32, c: option<u8>, d: option<bool>)`},
	} {
		got, err := ParseArgs(params, c.args)
		if c.msg != "" {
			if err == nil || err.Error() != c.msg {
				t.Errorf("ParseArgs(%q) error = %v, want %s", c.args, err, c.msg)
			}
			continue
		}
		if err != nil || !equal(got, c.want) {
			t.Errorf("ParseArgs(%q) = %s, %v; want %s", c.args, show(got), err, show(c.want))
		}
	}
	// The position survives wrapping.
	_, err := ParseArgs(params[:2], []string{`"x"`, "\n 12x"})
	var perr *Error
	if !errors.As(err, &perr) || perr.Line != 2 || perr.Column != 2 {
		t.Errorf("ParseArgs error %v: want an *Error at 2:2", err)
	}
	if got, err := ParseArgs(nil, nil); err != nil || len(got) != 0 {
		t.Errorf("ParseArgs(nil, nil) = %v, %v", got, err)
	}
	if _, err := ParseArgs([]value.Param{{Name: "p"}}, []string{"1"}); err == nil || err.Error() != `parameter "p" (invalid type): invalid type: nil` {
		t.Errorf("ParseArgs with nil type: %v", err)
	}
}

func TestFormatResults(t *testing.T) {
	for _, c := range []struct {
		results []value.Param
		vals    []any
		want    string
		msg     string
	}{
		{nil, nil, "", ""},
		{[]value.Param{{Type: value.String}}, []any{"hi"}, `"hi"`, ""},
		{[]value.Param{{Type: resRecStr}}, []any{ok([]any{uint8(1), none})}, `ok({required: 1})`, ""},
		{[]value.Param{{Name: "a", Type: value.U8}, {Name: "b", Type: value.String}}, []any{uint8(1), "x"}, `(1, "x")`, ""},
		{[]value.Param{{Type: value.U8}}, nil, "", "0 values for 1 results"},
		{[]value.Param{{Type: value.U8}}, []any{"x"}, "", "result 0 (u8): value: string is not a u8"},
		{[]value.Param{{Name: "a", Type: value.U8}, {Name: "b", Type: value.String}}, []any{uint8(1), 2}, "", `result "b" (string): value: int is not a string`},
	} {
		got, err := FormatResults(c.results, c.vals)
		if c.msg != "" {
			if err == nil || err.Error() != c.msg {
				t.Errorf("FormatResults(%v) error = %v, want %s", c.vals, err, c.msg)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("FormatResults(%v) = %q, %v; want %q", c.vals, got, err, c.want)
		}
	}
}

// TestEscapeAllRunes formats every Unicode scalar value as a char and
// inside a string, and reads them back.
func TestEscapeAllRunes(t *testing.T) {
	var chars []any
	var b strings.Builder
	for r := rune(0); r <= 0x10FFFF; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		chars = append(chars, r)
		b.WriteRune(r)
	}
	lt := value.ListOf(value.Char)
	s, err := Format(lt, chars)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(lt, s)
	if err != nil || !equal(back, chars) {
		t.Fatalf("list of all chars does not round-trip: %v", err)
	}
	s, err = Format(value.String, b.String())
	if err != nil {
		t.Fatal(err)
	}
	if back, err := Parse(value.String, s); err != nil || back != b.String() {
		t.Fatalf("string of all chars does not round-trip: %v", err)
	}
}

func TestMalformedTypesDoNotPanic(t *testing.T) {
	bad := []*value.Type{
		nil,
		{Kind: value.KindList},
		{Kind: value.KindOption},
		{Kind: value.KindRecord, Fields: []value.Field{{Name: "a"}}},
		{Kind: value.KindTuple, Types: []*value.Type{nil}},
		{Kind: value.KindVariant, Cases: []value.Case{{Name: "a", Type: &value.Type{Kind: value.KindList}}}},
		{Kind: value.KindBorrow},
		value.ListOf(&value.Type{Kind: value.KindOwn}),
	}
	for _, ty := range bad {
		for _, s := range []string{"1", "[1]", "{a: 1}", "a(1)", "(1)", "some(1)"} {
			if _, err := Parse(ty, s); err == nil {
				t.Errorf("Parse(%#v, %q) succeeded", ty, s)
			}
		}
		for _, x := range []any{1, []any{1}, v(0, nil), nil} {
			if _, err := Format(ty, x); err == nil {
				t.Errorf("Format(%#v, %v) succeeded", ty, x)
			}
		}
		if _, err := ParseArgs([]value.Param{{Name: "x", Type: ty}}, []string{"1"}); err == nil {
			t.Errorf("ParseArgs with %#v succeeded", ty)
		}
		if _, err := FormatResults([]value.Param{{Name: "x", Type: ty}}, []any{1}); err == nil {
			t.Errorf("FormatResults with %#v succeeded", ty)
		}
	}
}
