package wave

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// Format writes v, a value of type t in the Go representation of package
// value, as WAVE text in the canonical form wasmtime prints:
//
//	Format(value.OptionOf(value.U32), value.Some(uint32(7)))  // "some(7)"
//	Format(value.String, "tab\there")                         // `"tab\there"`
//	Format(value.F32, float32(0.1))                           // "0.1"
//
// It returns an error, naming the offending part of v, when v is not a
// valid value of t (see [value.Check]), when a string is not valid UTF-8,
// or when v holds a resource handle, which WAVE cannot express.
func Format(t *value.Type, v any) (string, error) {
	if err := checkType(t); err != nil {
		return "", fmt.Errorf("invalid type: %w", err)
	}
	if err := value.Check(t, v); err != nil {
		return "", err
	}
	var f formatter
	if err := f.value(t, v); err != nil {
		return "", fmt.Errorf("value%s: %s", err.path, err.msg)
	}
	return f.b.String(), nil
}

// FormatResults formats a function's results the way `wasmtime run
// --invoke` prints them: nothing for no results, a single result on its
// own, and several as a tuple, "(a, b)".
func FormatResults(results []value.Param, vals []any) (string, error) {
	if len(vals) != len(results) {
		return "", fmt.Errorf("%d values for %d results", len(vals), len(results))
	}
	parts := make([]string, len(vals))
	for i, r := range results {
		s, err := Format(r.Type, vals[i])
		if err != nil {
			if r.Name != "" {
				return "", fmt.Errorf("result %q (%s): %w", r.Name, safeTypeName(r.Type), err)
			}
			return "", fmt.Errorf("result %d (%s): %w", i, safeTypeName(r.Type), err)
		}
		parts[i] = s
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	if len(parts) == 0 {
		return "", nil
	}
	return "(" + strings.Join(parts, ", ") + ")", nil
}

// formatError is a formatting error; path, built while unwinding, locates
// it in the value like value.Check does (".field", "[2]").
type formatError struct {
	path, msg string
}

func (e *formatError) at(step string) *formatError {
	e.path = step + e.path
	return e
}

type formatter struct{ b strings.Builder }

// value writes v, already checked against t with value.Check; the type
// assertions still check so that nothing can panic.
func (f *formatter) value(t *value.Type, v any) *formatError {
	b := &f.b
	bad := func() *formatError { return &formatError{msg: fmt.Sprintf("%T is not a %s", v, typeName(t))} }
	switch t.Kind {
	case value.KindBool:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		b.WriteString(strconv.FormatBool(x))
	case value.KindS8, value.KindS16, value.KindS32, value.KindS64:
		var n int64
		switch x := v.(type) {
		case int8:
			n = int64(x)
		case int16:
			n = int64(x)
		case int32:
			n = int64(x)
		case int64:
			n = x
		default:
			return bad()
		}
		b.WriteString(strconv.FormatInt(n, 10))
	case value.KindU8, value.KindU16, value.KindU32, value.KindU64:
		var n uint64
		switch x := v.(type) {
		case uint8:
			n = uint64(x)
		case uint16:
			n = uint64(x)
		case uint32:
			n = uint64(x)
		case uint64:
			n = x
		default:
			return bad()
		}
		b.WriteString(strconv.FormatUint(n, 10))
	case value.KindF32:
		x, ok := v.(float32)
		if !ok {
			return bad()
		}
		b.WriteString(formatFloat(float64(x), 32))
	case value.KindF64:
		x, ok := v.(float64)
		if !ok {
			return bad()
		}
		b.WriteString(formatFloat(x, 64))
	case value.KindChar:
		r, ok := v.(rune)
		if !ok || !utf8.ValidRune(r) {
			return bad()
		}
		b.WriteByte('\'')
		writeChar(b, r)
		b.WriteByte('\'')
	case value.KindString:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		if !utf8.ValidString(s) {
			return &formatError{msg: "string is not valid UTF-8"}
		}
		b.WriteString(quote(s, '"'))
	case value.KindList:
		b.WriteByte('[')
		if bs, ok := v.([]byte); ok && t.Elem.Kind == value.KindU8 {
			for i, x := range bs {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(strconv.FormatUint(uint64(x), 10))
			}
		} else {
			l, ok := v.([]any)
			if !ok {
				return bad()
			}
			for i, e := range l {
				if i > 0 {
					b.WriteString(", ")
				}
				if err := f.value(t.Elem, e); err != nil {
					return err.at(fmt.Sprintf("[%d]", i))
				}
			}
		}
		b.WriteByte(']')
	case value.KindTuple:
		l, ok := v.([]any)
		if !ok || len(l) != len(t.Types) {
			return bad()
		}
		b.WriteByte('(')
		for i, e := range l {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := f.value(t.Types[i], e); err != nil {
				return err.at(fmt.Sprintf(".%d", i))
			}
		}
		b.WriteByte(')')
	case value.KindRecord:
		l, ok := v.([]any)
		if !ok || len(l) != len(t.Fields) {
			return bad()
		}
		b.WriteByte('{')
		n := 0
		for i, fld := range t.Fields {
			if vv, ok := l[i].(value.Variant); ok && fld.Type.Kind == value.KindOption && vv.Case == 0 {
				continue // none fields are left out
			}
			if n > 0 {
				b.WriteString(", ")
			}
			n++
			b.WriteString(fld.Name)
			b.WriteString(": ")
			if err := f.value(fld.Type, l[i]); err != nil {
				return err.at("." + fld.Name)
			}
		}
		if n == 0 {
			b.WriteByte(':')
		}
		b.WriteByte('}')
	case value.KindFlags:
		bits, ok := v.(uint64)
		if !ok {
			return bad()
		}
		b.WriteByte('{')
		n := 0
		for i, l := range t.Labels {
			if bits&(1<<i) == 0 {
				continue
			}
			if n > 0 {
				b.WriteString(", ")
			}
			n++
			b.WriteString(l)
		}
		b.WriteByte('}')
	case value.KindVariant, value.KindEnum, value.KindOption, value.KindResult:
		vv, ok := v.(value.Variant)
		cases := t.VariantCases()
		if !ok || int(vv.Case) >= len(cases) {
			return bad()
		}
		c := cases[vv.Case]
		if (t.Kind == value.KindVariant || t.Kind == value.KindEnum) && isKeyword(c.Name) {
			b.WriteByte('%')
		}
		b.WriteString(c.Name)
		if c.Type != nil {
			b.WriteByte('(')
			if err := f.value(c.Type, vv.Value); err != nil {
				return err.at("." + c.Name)
			}
			b.WriteByte(')')
		} else if vv.Value != nil {
			return bad()
		}
	case value.KindOwn, value.KindBorrow:
		return &formatError{msg: fmt.Sprintf("%s is a resource handle, which WAVE cannot express", typeName(t))}
	default:
		return bad()
	}
	return nil
}

// formatFloat writes f as Rust's Display does, which is what wasm-wave
// prints: the shortest decimal that reads back exactly, never with an
// exponent, and nan, inf, -inf.
//
// Go and Rust agree on the shortest digits except when two candidates are
// equally near the exact value: Go then takes the even one (312985.12 for
// the f32 312985.125) and Rust the one of larger magnitude (312985.13).
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	short := strconv.FormatFloat(f, 'e', -1, bits)
	neg := strings.HasPrefix(short, "-")
	mant, exp, _ := strings.Cut(strings.TrimPrefix(short, "-"), "e")
	digits := strings.Replace(mant, ".", "", 1)
	// A tie: the exact value is digits followed by a 5, and Go rounded down.
	longer := strconv.FormatFloat(f, 'e', len(digits), bits)
	lm, _, _ := strings.Cut(strings.TrimPrefix(longer, "-"), "e")
	ld := strings.Replace(lm, ".", "", 1)
	if !strings.HasSuffix(ld, "5") || ld[:len(ld)-1] != digits {
		return strconv.FormatFloat(f, 'f', -1, bits)
	}
	exact, ok := new(big.Rat).SetString(strings.TrimPrefix(longer, "-"))
	if !ok || exact.Cmp(new(big.Rat).Abs(new(big.Rat).SetFloat64(f))) != 0 {
		return strconv.FormatFloat(f, 'f', -1, bits)
	}
	e, err := strconv.Atoi(exp)
	if err != nil {
		return strconv.FormatFloat(f, 'f', -1, bits)
	}
	// Round up in the last place. Go rounded to even, so the last digit is
	// even and no carry can ripple.
	up := []byte(digits)
	if up[len(up)-1] == '9' {
		return strconv.FormatFloat(f, 'f', -1, bits) // cannot happen
	}
	up[len(up)-1]++
	out := fixed(neg, strings.TrimRight(string(up), "0"), e+1)
	if g, err := strconv.ParseFloat(out, bits); err != nil || g != f {
		return strconv.FormatFloat(f, 'f', -1, bits) // cannot happen
	}
	return out
}

// fixed writes the decimal with significant digits (no trailing zeros)
// and the decimal point point places after the first digit's position.
func fixed(neg bool, digits string, point int) string {
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch {
	case point <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -point))
		b.WriteString(digits)
	case point >= len(digits):
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", point-len(digits)))
	default:
		b.WriteString(digits[:point])
		b.WriteByte('.')
		b.WriteString(digits[point:])
	}
	return b.String()
}

// writeChar writes r as it appears inside a char or string literal,
// escaping as wasm-wave does: \\ \' \" \t \n \r by name, and as \u{hex}
// control characters and those Rust's char::escape_debug escapes
// (grapheme extenders, and format, separator, private-use and unassigned
// characters other than the space). Go's Unicode tables (15.0) are older
// than Rust's, so characters assigned since are escaped here but not by
// wasmtime; either way the text reads back as the same value.
func writeChar(b *strings.Builder, r rune) {
	switch r {
	case '\\':
		b.WriteString(`\\`)
	case '\'':
		b.WriteString(`\'`)
	case '"':
		b.WriteString(`\"`)
	case '\t':
		b.WriteString(`\t`)
	case '\n':
		b.WriteString(`\n`)
	case '\r':
		b.WriteString(`\r`)
	default:
		if needsEscape(r) {
			fmt.Fprintf(b, `\u{%x}`, r)
		} else {
			b.WriteRune(r)
		}
	}
}

// quote returns s quoted with q as a WAVE string or char.
func quote(s string, q byte) string {
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		writeChar(&b, r)
	}
	b.WriteByte(q)
	return b.String()
}

func needsEscape(r rune) bool {
	if r == ' ' {
		return false
	}
	if r < 0x7f {
		return r < ' '
	}
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S) ||
		unicode.In(r, unicode.Mn, unicode.Me, unicode.Other_Grapheme_Extend, graphemeExtendMc)
}

// graphemeExtendMc holds the spacing marks that Unicode 16 made
// Grapheme_Extend (so Rust escapes them) but Go's Unicode 15 tables do not.
var graphemeExtendMc = &unicode.RangeTable{
	R16: []unicode.Range16{
		{0x0cc0, 0x0cc0, 1}, {0x0cc7, 0x0cc8, 1}, {0x0cca, 0x0ccb, 1},
		{0x1715, 0x1734, 0x1f}, {0x1b3b, 0x1b3d, 2}, {0x1b43, 0x1b44, 1},
		{0x1baa, 0x1baa, 1}, {0x1bf2, 0x1bf3, 1}, {0xa953, 0xa953, 1}, {0xa9c0, 0xa9c0, 1},
	},
	R32: []unicode.Range32{
		{0x111c0, 0x111c0, 1}, {0x11235, 0x11235, 1}, {0x1134d, 0x1134d, 1},
		{0x116b6, 0x116b6, 1}, {0x1193d, 0x1193d, 1}, {0x11f41, 0x11f41, 1},
		{0x16ff0, 0x16ff1, 1}, {0x1d166, 0x1d166, 1}, {0x1d16d, 0x1d16d, 1},
	},
}
