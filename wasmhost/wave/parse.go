package wave

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// Canonical NaNs: the component model has a single NaN, and WAVE's nan
// reads as the one wasm canonicalizes to.
var (
	nan32 = math.Float32frombits(0x7fc00000)
	nan64 = math.Float64frombits(0x7ff8000000000000)
)

// Parse parses s as a value of type t and returns it in the Go
// representation of package value; lists are never nil slices, and nan
// is the canonical NaN. Whitespace and comments may surround the value.
// Errors are [*Error]s giving the position in s, except when t itself is
// malformed.
//
//	Parse(value.U32, "42")                              // uint32(42)
//	Parse(value.OptionOf(value.String), `"hi"`)         // value.Some("hi")
//	Parse(value.ListOf(value.U8), "[1, 2]")             // []byte{1, 2}
//	Parse(value.TupleOf(value.Char, value.F64), "('x', nan)") // []any{'x', NaN}
func Parse(t *value.Type, s string) (any, error) {
	if err := checkType(t); err != nil {
		return nil, fmt.Errorf("invalid type: %w", err)
	}
	if !utf8.ValidString(s) {
		i := 0
		for i < len(s) {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return nil, newError(s, i, "invalid UTF-8")
	}
	p := &parser{lexer{src: s}}
	v, err := p.value(t)
	if err != nil {
		return nil, err
	}
	tok, err := p.next()
	if err != nil {
		return nil, err
	}
	if tok.kind != tEOF {
		return nil, p.errorf(tok.pos, "unexpected %s after the value", tok.describe())
	}
	return v, nil
}

// ParseArgs parses one WAVE argument per function parameter, as the
// command line `wbox call FILE EXPORT ARG...` passes them. Trailing
// parameters of option type may be left out and are none. Errors name the
// parameter:
//
//	parameter "b" (u32): 1:1: expected u32, got "abc"
func ParseArgs(params []value.Param, args []string) ([]any, error) {
	if len(args) > len(params) {
		return nil, fmt.Errorf("too many arguments: got %d, want %d (%s)", len(args), len(params), paramList(params))
	}
	vals := make([]any, len(params))
	for i, p := range params {
		if i >= len(args) {
			if p.Type != nil && p.Type.Kind == value.KindOption {
				vals[i] = value.None()
				continue
			}
			return nil, fmt.Errorf("missing argument for parameter %q (%s); want %d arguments (%s)",
				p.Name, safeTypeName(p.Type), len(params), paramList(params))
		}
		v, err := Parse(p.Type, args[i])
		if err != nil {
			return nil, fmt.Errorf("parameter %q (%s): %w", p.Name, safeTypeName(p.Type), err)
		}
		vals[i] = v
	}
	return vals, nil
}

// safeTypeName is typeName for a type that may be malformed.
func safeTypeName(t *value.Type) string {
	if checkType(t) != nil {
		return "invalid type"
	}
	return typeName(t)
}

func paramList(params []value.Param) string {
	s := make([]string, len(params))
	for i, p := range params {
		s[i] = p.Name + ": " + safeTypeName(p.Type)
	}
	return strings.Join(s, ", ")
}

// parser reads a value of a known type; the type decides how each token
// is read, so there is no untyped syntax tree. Recursion follows the type,
// so nesting depth is bounded by the type's.
type parser struct{ lexer }

// mismatch is the error for token tok where a value of type t belongs.
func (p *parser) mismatch(t *value.Type, tok token, hint string) error {
	msg := fmt.Sprintf("expected %s, got %s", typeName(t), tok.describe())
	if hint != "" {
		msg += " (" + hint + ")"
	}
	return p.errorf(tok.pos, "%s", msg)
}

func (p *parser) value(t *value.Type) (any, error) {
	tok, err := p.peek()
	if err != nil {
		return nil, err
	}
	switch t.Kind {
	case value.KindBool:
		p.next()
		switch {
		case tok.keyword("true"):
			return true, nil
		case tok.keyword("false"):
			return false, nil
		}
		return nil, p.mismatch(t, tok, "")
	case value.KindS8, value.KindU8, value.KindS16, value.KindU16,
		value.KindS32, value.KindU32, value.KindS64, value.KindU64:
		p.next()
		return p.integer(t, tok)
	case value.KindF32, value.KindF64:
		p.next()
		return p.float(t, tok)
	case value.KindChar:
		p.next()
		if tok.kind != tChar {
			return nil, p.mismatch(t, tok, "")
		}
		return tok.r, nil
	case value.KindString:
		p.next()
		if tok.kind != tString {
			return nil, p.mismatch(t, tok, "")
		}
		return tok.s, nil
	case value.KindList:
		return p.list(t, tok)
	case value.KindTuple:
		return p.tuple(t, tok)
	case value.KindRecord:
		return p.record(t, tok)
	case value.KindFlags:
		return p.flags(t, tok)
	case value.KindVariant, value.KindEnum:
		return p.variant(t, tok)
	case value.KindOption:
		return p.option(t, tok)
	case value.KindResult:
		return p.result(t, tok)
	case value.KindOwn, value.KindBorrow:
		return nil, p.errorf(tok.pos, "%s is a resource handle, which WAVE cannot express", typeName(t))
	}
	return nil, p.errorf(tok.pos, "cannot parse a value of kind %s", t.Kind)
}

func (p *parser) integer(t *value.Type, tok token) (any, error) {
	if tok.kind != tNumber {
		return nil, p.mismatch(t, tok, "")
	}
	if !tok.isInt {
		return nil, p.mismatch(t, tok, "integers have no fraction or exponent")
	}
	var bits int
	signed := false
	switch t.Kind {
	case value.KindS8:
		bits, signed = 8, true
	case value.KindU8:
		bits = 8
	case value.KindS16:
		bits, signed = 16, true
	case value.KindU16:
		bits = 16
	case value.KindS32:
		bits, signed = 32, true
	case value.KindU32:
		bits = 32
	case value.KindS64:
		bits, signed = 64, true
	default:
		bits = 64
	}
	outOfRange := func() error {
		lo, hi := "0", strconv.FormatUint(1<<bits-1, 10)
		if signed {
			lo, hi = strconv.FormatInt(-1<<(bits-1), 10), strconv.FormatInt(1<<(bits-1)-1, 10)
		}
		return p.errorf(tok.pos, "%s is out of range for %s (%s to %s)", shorten(tok.text, 30), typeName(t), lo, hi)
	}
	if signed {
		n, err := strconv.ParseInt(tok.text, 10, bits)
		if err != nil {
			return nil, outOfRange()
		}
		switch bits {
		case 8:
			return int8(n), nil
		case 16:
			return int16(n), nil
		case 32:
			return int32(n), nil
		}
		return n, nil
	}
	if strings.HasPrefix(tok.text, "-") {
		return nil, outOfRange()
	}
	n, err := strconv.ParseUint(tok.text, 10, bits)
	if err != nil {
		return nil, outOfRange()
	}
	switch bits {
	case 8:
		return uint8(n), nil
	case 16:
		return uint16(n), nil
	case 32:
		return uint32(n), nil
	}
	return n, nil
}

func (p *parser) float(t *value.Type, tok token) (any, error) {
	bits := 64
	if t.Kind == value.KindF32 {
		bits = 32
	}
	var f float64
	switch {
	case tok.keyword("nan"):
		if bits == 32 {
			return nan32, nil
		}
		return nan64, nil
	case tok.keyword("inf"):
		f = math.Inf(1)
	case tok.kind == tNumber && tok.text == "-inf":
		f = math.Inf(-1)
	case tok.kind == tNumber:
		var err error
		// Literals beyond the largest float round to infinity, as IEEE 754
		// rounding (and wasm-wave) has them.
		f, err = strconv.ParseFloat(tok.text, bits)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, p.mismatch(t, tok, "")
		}
	default:
		return nil, p.mismatch(t, tok, "")
	}
	if bits == 32 {
		return float32(f), nil
	}
	return f, nil
}

// seq reads the rest of a comma-separated sequence after its opening
// token, up to the closing token close, calling elem for each element.
// A trailing comma is allowed.
func (p *parser) seq(close byte, what string, elem func(i int) error) error {
	tok, err := p.peek()
	if err != nil {
		return err
	}
	if tok.is(close) {
		p.next()
		return nil
	}
	for i := 0; ; i++ {
		if err := elem(i); err != nil {
			return err
		}
		tok, err := p.next()
		if err != nil {
			return err
		}
		if tok.is(close) {
			return nil
		}
		if !tok.is(',') {
			return p.errorf(tok.pos, "expected \",\" or %q in %s, got %s", string(close), what, tok.describe())
		}
		if tok, err = p.peek(); err != nil {
			return err
		}
		if tok.is(close) {
			p.next()
			return nil
		}
	}
}

func (p *parser) list(t *value.Type, tok token) (any, error) {
	if !tok.is('[') {
		p.next()
		return nil, p.mismatch(t, tok, "")
	}
	p.next()
	if t.Elem.Kind == value.KindU8 {
		out := []byte{}
		err := p.seq(']', "list", func(int) error {
			v, err := p.value(t.Elem)
			if err == nil {
				out = append(out, v.(uint8))
			}
			return err
		})
		return out, err
	}
	out := []any{}
	err := p.seq(']', "list", func(int) error {
		v, err := p.value(t.Elem)
		out = append(out, v)
		return err
	})
	return out, err
}

func (p *parser) tuple(t *value.Type, open token) (any, error) {
	if !open.is('(') {
		p.next()
		return nil, p.mismatch(t, open, "")
	}
	p.next()
	out := make([]any, 0, len(t.Types))
	err := p.seq(')', "tuple", func(i int) error {
		if i >= len(t.Types) {
			tok, err := p.peek()
			if err != nil {
				return err
			}
			return p.errorf(tok.pos, "too many values for %s: want %d", typeName(t), len(t.Types))
		}
		v, err := p.value(t.Types[i])
		out = append(out, v)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(out) < len(t.Types) {
		return nil, p.errorf(open.pos, "too few values for %s: got %d, want %d", typeName(t), len(out), len(t.Types))
	}
	return out, nil
}

func (p *parser) record(t *value.Type, open token) (any, error) {
	if !open.is('{') {
		p.next()
		return nil, p.mismatch(t, open, "")
	}
	p.next()
	vals := make([]any, len(t.Fields))
	seen := make([]bool, len(t.Fields))
	tok, err := p.peek()
	if err != nil {
		return nil, err
	}
	switch {
	case tok.is(':'):
		p.next()
		if tok, err = p.next(); err != nil {
			return nil, err
		}
		if !tok.is('}') {
			return nil, p.errorf(tok.pos, `expected "}" after "{:", got %s`, tok.describe())
		}
	case tok.is('}'):
		return nil, p.errorf(open.pos, "expected %s, got {}, which is empty flags (write an empty record as {:})", typeName(t))
	default:
		err = p.seq('}', "record", func(int) error {
			tok, err := p.next()
			if err != nil {
				return err
			}
			if tok.kind != tLabel {
				return p.errorf(tok.pos, "expected a field name of %s, got %s", typeName(t), tok.describe())
			}
			i := fieldIndex(t.Fields, tok.label)
			if i < 0 {
				names := make([]string, len(t.Fields))
				for i, f := range t.Fields {
					names[i] = f.Name
				}
				return p.errorf(tok.pos, "unknown field %q of %s (fields: %s)", tok.label, typeName(t), strings.Join(names, ", "))
			}
			if seen[i] {
				return p.errorf(tok.pos, "duplicate field %q", tok.label)
			}
			seen[i] = true
			colon, err := p.next()
			if err != nil {
				return err
			}
			if !colon.is(':') {
				return p.errorf(colon.pos, "expected \":\" after field name %q, got %s", tok.label, colon.describe())
			}
			vals[i], err = p.value(t.Fields[i].Type)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	for i, f := range t.Fields {
		if seen[i] {
			continue
		}
		if f.Type.Kind != value.KindOption {
			return nil, p.errorf(open.pos, "missing field %q (%s) of %s", f.Name, typeName(f.Type), typeName(t))
		}
		vals[i] = value.None()
	}
	return vals, nil
}

func fieldIndex(fields []value.Field, name string) int {
	for i, f := range fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

func labelIndex(labels []string, name string) int {
	for i, l := range labels {
		if l == name {
			return i
		}
	}
	return -1
}

func (p *parser) flags(t *value.Type, open token) (any, error) {
	if !open.is('{') {
		p.next()
		return nil, p.mismatch(t, open, "")
	}
	p.next()
	var bits uint64
	tok, err := p.peek()
	if err != nil {
		return nil, err
	}
	if tok.is(':') {
		return nil, p.errorf(open.pos, "expected %s, got {:}, which is an empty record (write empty flags as {})", typeName(t))
	}
	err = p.seq('}', "flags", func(int) error {
		tok, err := p.next()
		if err != nil {
			return err
		}
		if tok.kind != tLabel {
			return p.errorf(tok.pos, "expected a flag of %s, got %s", typeName(t), tok.describe())
		}
		i := labelIndex(t.Labels, tok.label)
		if i < 0 {
			return p.errorf(tok.pos, "unknown flag %q of %s (flags: %s)", tok.label, typeName(t), strings.Join(t.Labels, ", "))
		}
		if bits&(1<<i) != 0 {
			return p.errorf(tok.pos, "duplicate flag %q", tok.label)
		}
		bits |= 1 << i
		return nil
	})
	if err != nil {
		return nil, err
	}
	return bits, nil
}

func (p *parser) variant(t *value.Type, tok token) (any, error) {
	p.next()
	if tok.kind != tLabel {
		return nil, p.mismatch(t, tok, "")
	}
	cases := t.VariantCases()
	i := -1
	for j, c := range cases {
		if c.Name == tok.label {
			i = j
			break
		}
	}
	if i < 0 {
		names := make([]string, len(cases))
		for j, c := range cases {
			names[j] = c.Name
		}
		return nil, p.errorf(tok.pos, "unknown case %q of %s (cases: %s)", tok.label, typeName(t), strings.Join(names, ", "))
	}
	if tok.isKeyword() {
		return nil, p.errorf(tok.pos, "case %q of %s is a keyword and must be written %%%s", tok.label, typeName(t), tok.label)
	}
	c := cases[i]
	v, err := p.payload(t, tok, c.Name, c.Type)
	if err != nil {
		return nil, err
	}
	return value.Variant{Case: uint32(i), Value: v}, nil
}

// payload reads the optional parenthesized payload after the case label
// tok, of type pt (nil when the case has none).
func (p *parser) payload(t *value.Type, tok token, name string, pt *value.Type) (any, error) {
	open, err := p.peek()
	if err != nil {
		return nil, err
	}
	if !open.is('(') {
		if pt != nil {
			return nil, p.errorf(tok.pos, "case %s of %s needs a payload (%s): write %s(…)", name, typeName(t), typeName(pt), name)
		}
		return nil, nil
	}
	if pt == nil {
		return nil, p.errorf(open.pos, "case %s of %s has no payload", name, typeName(t))
	}
	p.next()
	v, err := p.value(pt)
	if err != nil {
		return nil, err
	}
	close, err := p.next()
	if err != nil {
		return nil, err
	}
	if !close.is(')') {
		return nil, p.errorf(close.pos, "expected \")\" after the payload of %s, got %s", name, close.describe())
	}
	return v, nil
}

func (p *parser) option(t *value.Type, tok token) (any, error) {
	switch {
	case tok.keyword("none"):
		p.next()
		if _, err := p.payload(t, tok, "none", nil); err != nil {
			return nil, err
		}
		return value.None(), nil
	case tok.keyword("some"):
		p.next()
		v, err := p.payload(t, tok, "some", t.Elem)
		if err != nil {
			return nil, err
		}
		return value.Some(v), nil
	case flattenable(t.Elem):
		v, err := p.value(t.Elem)
		if err != nil {
			return nil, err
		}
		return value.Some(v), nil
	}
	p.next()
	return nil, p.mismatch(t, tok, "write some(…) or none")
}

func (p *parser) result(t *value.Type, tok token) (any, error) {
	switch {
	case tok.keyword("ok"):
		p.next()
		v, err := p.payload(t, tok, "ok", t.Ok)
		if err != nil {
			return nil, err
		}
		return value.Ok(v), nil
	case tok.keyword("err"):
		p.next()
		v, err := p.payload(t, tok, "err", t.Err)
		if err != nil {
			return nil, err
		}
		return value.Err(v), nil
	case t.Ok != nil && flattenable(t.Ok):
		v, err := p.value(t.Ok)
		if err != nil {
			return nil, err
		}
		return value.Ok(v), nil
	}
	p.next()
	hint := "write ok(…) or err(…)"
	switch {
	case t.Ok == nil && t.Err == nil:
		hint = "write ok or err"
	case t.Ok == nil:
		hint = "write ok or err(…)"
	case t.Err == nil:
		hint = "write ok(…) or err"
	}
	return nil, p.mismatch(t, tok, hint)
}
