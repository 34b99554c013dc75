package wave

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// fuzzTypes are the types FuzzParse parses each input against.
var fuzzTypes = []*value.Type{
	value.Bool, value.U8, value.S16, value.S64, value.U64, value.F32, value.F64,
	value.Char, value.String,
	value.ListOf(value.U8),
	value.ListOf(value.ListOf(value.String)),
	nested,
	tupleMixed,
	recBasic, recOptional, recKeywords, recEmpty,
	variantResp, variantKw,
	enumHand, enumKw,
	flagsPerm,
	optOptU8, optResU8, resOptU8, resNone, resErrU8,
	value.OptionOf(value.ListOf(value.OptionOf(value.Char))),
	value.ResultOf(value.String, value.TupleOf(value.S8, value.F64)),
	value.ListOf(value.TupleOf(enumKw, flagsPerm, value.OptionOf(recOptional))),
}

func FuzzParse(f *testing.F) {
	for _, c := range canonical {
		f.Add(c.text)
	}
	for _, c := range nonCanonical {
		f.Add(c.text)
	}
	for _, c := range parseErrors {
		f.Add(c.text)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, ty := range fuzzTypes {
			v, err := Parse(ty, s)
			if err != nil {
				var perr *Error
				if !errors.As(err, &perr) {
					t.Fatalf("Parse(%s, %q): error %v is a %T, not an *Error", ty, s, err, err)
				}
				if perr.Offset < 0 || perr.Offset > len(s) || perr.Line < 1 || perr.Column < 1 ||
					perr.Msg == "" || !utf8.ValidString(perr.Msg) {
					t.Fatalf("Parse(%s, %q): bad error %#v", ty, s, perr)
				}
				continue
			}
			if err := value.Check(ty, v); err != nil {
				t.Fatalf("Parse(%s, %q) = %s, which fails value.Check: %v", ty, s, show(v), err)
			}
			out, err := Format(ty, v)
			if err != nil {
				t.Fatalf("Format(%s, Parse(%q)): %v", ty, s, err)
			}
			back, err := Parse(ty, out)
			if err != nil {
				t.Fatalf("Parse(%s, %q) (formatted from %q): %v", ty, out, s, err)
			}
			if !equal(v, back) {
				t.Fatalf("%s: %q parses to %s, formats as %q, parses back to %s", ty, s, show(v), out, show(back))
			}
			if again, err := Format(ty, back); err != nil || again != out {
				t.Fatalf("%s: Format not stable: %q then %q, %v", ty, out, again, err)
			}
		}
	})
}
