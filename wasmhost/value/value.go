package value

import (
	"fmt"
	"unicode/utf8"
)

// Variant is the value of a variant, enum, option or result type: the index
// of its case and the case's payload (nil for a case without one).
type Variant struct {
	Case  uint32
	Value any
}

// None returns the none value of an option.
func None() Variant { return Variant{Case: 0} }

// Some returns some(v) of an option.
func Some(v any) Variant { return Variant{Case: 1, Value: v} }

// Ok returns ok(v) of a result; v is nil for a result without an ok payload.
func Ok(v any) Variant { return Variant{Case: 0, Value: v} }

// Err returns err(v) of a result; v is nil for a result without an err payload.
func Err(v any) Variant { return Variant{Case: 1, Value: v} }

// Handle is an own or borrow resource handle as the host sees it: the
// resource's type and its representation, the i32 the implementation of the
// resource chose for it.
type Handle struct {
	Type *ResourceType
	Rep  uint32
}

func (h Handle) String() string { return fmt.Sprintf("%s#%d", h.Type, h.Rep) }

// Check reports whether v is a valid Go representation of a value of type t,
// naming the offending path when it is not. It allocates only on error: it
// runs on every host call.
func Check(t *Type, v any) error {
	err := check(t, v)
	if err == nil {
		return nil
	}
	ce := err.(*checkError)
	path := "value"
	for i := len(ce.segs) - 1; i >= 0; i-- {
		path += ce.segs[i]
	}
	return fmt.Errorf("%s: %s", path, ce.msg)
}

// checkError collects the path to a bad value while check unwinds.
type checkError struct {
	segs []string // innermost first
	msg  string
}

func (e *checkError) Error() string { return e.msg }

func at(err error, seg func() string) error {
	if err != nil {
		ce := err.(*checkError)
		ce.segs = append(ce.segs, seg())
	}
	return err
}

func checkf(format string, args ...any) error {
	return &checkError{msg: fmt.Sprintf(format, args...)}
}

func check(t *Type, v any) error {
	bad := func() error { return checkf("%T is not a %s", v, t) }
	ok := false
	switch t.Kind {
	case KindBool:
		_, ok = v.(bool)
	case KindS8:
		_, ok = v.(int8)
	case KindU8:
		_, ok = v.(uint8)
	case KindS16:
		_, ok = v.(int16)
	case KindU16:
		_, ok = v.(uint16)
	case KindS32:
		_, ok = v.(int32)
	case KindU32:
		_, ok = v.(uint32)
	case KindS64:
		_, ok = v.(int64)
	case KindU64:
		_, ok = v.(uint64)
	case KindF32:
		_, ok = v.(float32)
	case KindF64:
		_, ok = v.(float64)
	case KindChar:
		var r rune
		r, ok = v.(rune)
		if ok && (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) {
			return checkf("%#x is not a Unicode scalar value", r)
		}
	case KindString:
		var s string
		s, ok = v.(string)
		if ok && !utf8.ValidString(s) {
			return checkf("string is not valid UTF-8")
		}
	case KindFlags:
		var f uint64
		f, ok = v.(uint64)
		if ok && len(t.Labels) < 64 && f>>len(t.Labels) != 0 {
			return checkf("flags %#x set bits beyond the %d labels", f, len(t.Labels))
		}
	case KindOwn, KindBorrow:
		var h Handle
		h, ok = v.(Handle)
		if ok && t.Resource != nil && h.Type != t.Resource {
			return checkf("a %s handle where a %s handle belongs", h.Type, t.Resource)
		}
	case KindList:
		if t.Elem.Kind == KindU8 {
			_, ok = v.([]byte)
			break
		}
		l, isList := v.([]any)
		if !isList {
			return bad()
		}
		for i, e := range l {
			if err := check(t.Elem, e); err != nil {
				return at(err, func() string { return fmt.Sprintf("[%d]", i) })
			}
		}
		return nil
	case KindRecord, KindTuple:
		l, isList := v.([]any)
		if !isList {
			return bad()
		}
		n := len(t.Fields)
		if t.Kind == KindTuple {
			n = len(t.Types)
		}
		if len(l) != n {
			return checkf("%d values for a %s of %d", len(l), t.Kind, n)
		}
		for i, e := range l {
			if t.Kind == KindTuple {
				if err := check(t.Types[i], e); err != nil {
					return at(err, func() string { return fmt.Sprintf(".%d", i) })
				}
			} else if err := check(t.Fields[i].Type, e); err != nil {
				return at(err, func() string { return "." + t.Fields[i].Name })
			}
		}
		return nil
	case KindVariant, KindEnum, KindOption, KindResult:
		vv, isVariant := v.(Variant)
		if !isVariant {
			return bad()
		}
		// VariantCases allocates for enum, option and result: count first.
		n := len(t.Cases)
		switch t.Kind {
		case KindEnum:
			n = len(t.Labels)
		case KindOption, KindResult:
			n = 2
		}
		if int(vv.Case) >= n {
			return checkf("case %d of a %s with %d cases", vv.Case, t.Kind, n)
		}
		var ct *Type
		switch t.Kind {
		case KindVariant:
			ct = t.Cases[vv.Case].Type
		case KindOption:
			if vv.Case == 1 {
				ct = t.Elem
			}
		case KindResult:
			ct = t.Ok
			if vv.Case == 1 {
				ct = t.Err
			}
		}
		if ct == nil {
			if vv.Value != nil {
				return checkf("case %s has no payload, got %T", t.VariantCases()[vv.Case].Name, vv.Value)
			}
			return nil
		}
		return at(check(ct, vv.Value), func() string { return "." + t.VariantCases()[vv.Case].Name })
	}
	if !ok {
		return bad()
	}
	return nil
}
