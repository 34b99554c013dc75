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
// naming the offending path when it is not.
func Check(t *Type, v any) error { return check(t, v, "value") }

func check(t *Type, v any, path string) error {
	bad := func() error { return fmt.Errorf("%s: %T is not a %s", path, v, t) }
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
			return fmt.Errorf("%s: %#x is not a Unicode scalar value", path, r)
		}
	case KindString:
		var s string
		s, ok = v.(string)
		if ok && !utf8.ValidString(s) {
			return fmt.Errorf("%s: string is not valid UTF-8", path)
		}
	case KindFlags:
		var f uint64
		f, ok = v.(uint64)
		if ok && len(t.Labels) < 64 && f>>len(t.Labels) != 0 {
			return fmt.Errorf("%s: flags %#x set bits beyond the %d labels", path, f, len(t.Labels))
		}
	case KindOwn, KindBorrow:
		var h Handle
		h, ok = v.(Handle)
		if ok && t.Resource != nil && h.Type != t.Resource {
			return fmt.Errorf("%s: a %s handle where a %s handle belongs", path, h.Type, t.Resource)
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
			if err := check(t.Elem, e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
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
			return fmt.Errorf("%s: %d values for a %s of %d", path, len(l), t.Kind, n)
		}
		for i, e := range l {
			var ft *Type
			name := fmt.Sprint(i)
			if t.Kind == KindTuple {
				ft = t.Types[i]
			} else {
				ft, name = t.Fields[i].Type, t.Fields[i].Name
			}
			if err := check(ft, e, path+"."+name); err != nil {
				return err
			}
		}
		return nil
	case KindVariant, KindEnum, KindOption, KindResult:
		vv, isVariant := v.(Variant)
		if !isVariant {
			return bad()
		}
		cases := t.VariantCases()
		if int(vv.Case) >= len(cases) {
			return fmt.Errorf("%s: case %d of a %s with %d cases", path, vv.Case, t.Kind, len(cases))
		}
		c := cases[vv.Case]
		if c.Type == nil {
			if vv.Value != nil {
				return fmt.Errorf("%s: case %s has no payload, got %T", path, c.Name, vv.Value)
			}
			return nil
		}
		return check(c.Type, vv.Value, path+"."+c.Name)
	}
	if !ok {
		return bad()
	}
	return nil
}
