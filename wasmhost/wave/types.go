package wave

import (
	"fmt"
	"strings"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// isKeyword reports whether s is a WAVE keyword, which variant and enum case
// names must escape with %.
func isKeyword(s string) bool {
	switch s {
	case "true", "false", "some", "none", "ok", "err", "inf", "nan":
		return true
	}
	return false
}

// validLabel reports whether s is a WAVE label (without %): hyphen-separated
// words of ASCII letters and digits, each word all lower or all upper case,
// the first starting with a letter.
func validLabel(s string) bool { return labelProblem(s) == "" }

// labelProblem says what keeps s from being a label, or "" if it is one.
func labelProblem(s string) string {
	if s == "" {
		return "empty label"
	}
	if !isLetter(s[0]) {
		return "a label starts with a letter"
	}
	for word := range strings.SplitSeq(s, "-") {
		if word == "" {
			return "a label is words joined by single hyphens"
		}
		lower, upper := false, false
		for i := 0; i < len(word); i++ {
			c := word[i]
			switch {
			case c >= 'a' && c <= 'z':
				lower = true
			case c >= 'A' && c <= 'Z':
				upper = true
			case c >= '0' && c <= '9':
			case c == '_':
				return "a label joins words with '-', not '_'"
			default:
				return "a label has only ASCII letters, digits and hyphens"
			}
		}
		if lower && upper {
			return fmt.Sprintf("a word of a label is all lower or all upper case, not %q", word)
		}
	}
	return ""
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// checkType reports whether t is a well-formed type WAVE can work with, so
// that parsing and formatting never meet a nil element type or an
// ambiguous label.
func checkType(t *value.Type) error {
	if t == nil {
		return fmt.Errorf("nil")
	}
	labels := func(what string, names []string) error {
		seen := make(map[string]bool, len(names))
		for _, n := range names {
			if problem := labelProblem(n); problem != "" {
				return fmt.Errorf("%s: %s name %q is not a valid label: %s", t, what, n, problem)
			}
			if seen[n] {
				return fmt.Errorf("%s: duplicate %s name %q", t, what, n)
			}
			seen[n] = true
		}
		return nil
	}
	switch t.Kind {
	case value.KindBool, value.KindS8, value.KindU8, value.KindS16, value.KindU16,
		value.KindS32, value.KindU32, value.KindS64, value.KindU64,
		value.KindF32, value.KindF64, value.KindChar, value.KindString:
		return nil
	case value.KindList, value.KindOption:
		if t.Elem == nil {
			return fmt.Errorf("%s without an element type", t.Kind)
		}
		return checkType(t.Elem)
	case value.KindRecord:
		names := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			names[i] = f.Name
			if err := checkType(f.Type); err != nil {
				return err
			}
		}
		return labels("field", names)
	case value.KindTuple:
		for _, e := range t.Types {
			if err := checkType(e); err != nil {
				return err
			}
		}
		return nil
	case value.KindVariant:
		names := make([]string, len(t.Cases))
		for i, c := range t.Cases {
			names[i] = c.Name
			if c.Type != nil {
				if err := checkType(c.Type); err != nil {
					return err
				}
			}
		}
		return labels("case", names)
	case value.KindEnum:
		return labels("case", t.Labels)
	case value.KindFlags:
		if len(t.Labels) > 64 {
			return fmt.Errorf("flags with %d labels (at most 64)", len(t.Labels))
		}
		return labels("flag", t.Labels)
	case value.KindResult:
		for _, e := range []*value.Type{t.Ok, t.Err} {
			if e != nil {
				if err := checkType(e); err != nil {
					return err
				}
			}
		}
		return nil
	case value.KindOwn, value.KindBorrow:
		if t.Resource == nil {
			return fmt.Errorf("%s without a resource type", t.Kind)
		}
		return nil
	}
	return fmt.Errorf("invalid type kind %s", t.Kind)
}

// typeName is t in WIT syntax for messages, shortened when long.
func typeName(t *value.Type) string {
	return shorten(t.String(), 60)
}

// shorten cuts s to about n characters.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// flattenable reports whether a value of t can stand for some(v) or ok(v)
// on its own.
func flattenable(t *value.Type) bool {
	return t.Kind != value.KindOption && t.Kind != value.KindResult
}
