package wasmhost_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// TestFixtureBadArguments: an export called with Go values that do not
// represent its parameter types returns an error (never panics) and leaves
// the instance usable, since the guest never ran.
func TestFixtureBadArguments(t *testing.T) {
	imports := map[string]func() *wasmhost.Imports{
		"numbers":   func() *wasmhost.Imports { return numbersImports(t, newHostCalls(t)) },
		"lists":     func() *wasmhost.Imports { return listsImports(newHostCalls(t)) },
		"strings":   stringsImportsStub,
		"variants":  variantsImportsStub,
		"records":   recordsImportsStub,
		"flavorful": flavorfulImportsStub,
	}
	fxs := map[string]*fx{}
	for name, im := range imports {
		fxs[name] = newFx(t, name, im())
	}

	for _, tc := range []struct {
		f    string
		fn   string
		args []any
	}{
		{"numbers", "test:numbers/test#roundtrip-u8", []any{1}},                                         // int, not uint8
		{"numbers", "test:numbers/test#roundtrip-u8", []any{uint16(1)}},                                 // wider type
		{"numbers", "test:numbers/test#roundtrip-s8", []any{uint8(1)}},                                  // signedness
		{"numbers", "test:numbers/test#roundtrip-u64", []any{int64(1)}},                                 // signedness
		{"numbers", "test:numbers/test#roundtrip-f32", []any{1.0}},                                      // float64 for f32
		{"numbers", "test:numbers/test#roundtrip-f64", []any{float32(1)}},                               // float32 for f64
		{"numbers", "test:numbers/test#roundtrip-char", []any{"a"}},                                     // string for char
		{"numbers", "test:numbers/test#roundtrip-char", []any{rune(0xD800)}},                            // surrogate
		{"numbers", "test:numbers/test#roundtrip-char", []any{rune(0x110000)}},                          // beyond Unicode
		{"numbers", "test:numbers/test#roundtrip-char", []any{rune(-1)}},                                // negative
		{"numbers", "test:numbers/test#roundtrip-u32", []any{nil}},                                      // nil
		{"numbers", "test:numbers/test#roundtrip-u32", []any{}},                                         // too few
		{"numbers", "test:numbers/test#roundtrip-u32", []any{uint32(1), uint32(2)}},                     // too many
		{"numbers", "test:numbers/test#set-scalar", []any{true}},                                        // bool for u32
		{"strings", "roundtrip", []any{[]byte("abc")}},                                                  // bytes for string
		{"strings", "roundtrip", []any{"bad \xff utf-8"}},                                               // invalid UTF-8 (utf16 guest)
		{"lists", "test:lists/test#string-roundtrip", []any{"bad \xc3"}},                                // invalid UTF-8 (utf8 guest)
		{"lists", "test:lists/test#list-param", []any{[]any{uint8(1)}}},                                 // list<u8> must be []byte
		{"lists", "test:lists/test#list-param", []any{"abc"}},                                           // string for list<u8>
		{"lists", "test:lists/test#list-param3", []any{[]string{"a"}}},                                  // []string, not []any
		{"lists", "test:lists/test#list-param3", []any{[]any{"a", 1}}},                                  // bad element
		{"lists", "test:lists/test#list-param4", []any{[]any{"a"}}},                                     // list<list<string>> flat
		{"lists", "test:lists/test#list-param5", []any{[]any{[]any{uint8(1), uint32(2)}}}},              // short tuple
		{"records", "test:records/test#roundtrip-flags1", []any{uint64(4)}},                             // flag beyond a, b
		{"records", "test:records/test#roundtrip-flags1", []any{uint32(1)}},                             // flags are uint64
		{"records", "test:records/test#roundtrip-record1", []any{[]any{uint8(1)}}},                      // missing field
		{"records", "test:records/test#roundtrip-record1", []any{[]any{uint8(1), uint64(0), uint8(2)}}}, // extra field
		{"records", "test:records/test#roundtrip-record1", []any{map[string]any{"a": uint8(1), "b": uint64(0)}}},
		{"records", "test:records/test#swap-tuple", []any{[]any{uint32(2), uint8(1)}}},                        // swapped
		{"variants", "test:variants/test#roundtrip-option", []any{nil}},                                       // option needs a Variant
		{"variants", "test:variants/test#roundtrip-option", []any{value.Some(1.0)}},                           // f64 payload for f32
		{"variants", "test:variants/test#roundtrip-option", []any{value.Variant{Case: 2}}},                    // no case 2
		{"variants", "test:variants/test#roundtrip-option", []any{value.Variant{Case: 0, Value: float32(1)}}}, // payload on none
		{"variants", "test:variants/test#roundtrip-result", []any{value.Ok(nil)}},                             // missing payload
		{"variants", "test:variants/test#roundtrip-enum", []any{value.Variant{Case: 2}}},                      // enum e1 has 2 cases
		{"variants", "test:variants/test#roundtrip-enum", []any{uint32(0)}},                                   // enum is a Variant
		{"variants", "test:variants/test#invert-bool", []any{1}},                                              // int for bool
		{"variants", "test:variants/test#variant-casts", []any{[]any{}}},                                      // empty tuple
		{"flavorful", "test:flavorful/test#f-list-in-record1", []any{[]any{[]byte("x")}}},                     // bytes for string field
		{"flavorful", "test:flavorful/test#f-list-in-variant1", []any{value.Some("a"), value.Err(nil)}},       // result<_, string> err needs payload
	} {
		f := fxs[tc.f]
		_, err := f.tryCall(tc.fn, tc.args...)
		if err == nil {
			t.Errorf("%s(%s) succeeded, want an error", tc.fn, fmtArgs(tc.args))
			continue
		}
		t.Logf("%s(%.60s): %v", tc.fn, fmtArgs(tc.args), err)
		var te *wasmhost.TrapError
		if errors.As(err, &te) {
			t.Errorf("%s(%s): bad host argument reported as a guest trap: %v", tc.fn, fmtArgs(tc.args), err)
		}
		if p := f.inst.Poisoned(); p != nil {
			t.Errorf("%s(%s) poisoned the instance: %v", tc.fn, fmtArgs(tc.args), p)
			fxs[tc.f] = newFx(t, tc.f, imports[tc.f]())
		}
	}
	// Every instance still works.
	fxs["numbers"].check("test:numbers/test#roundtrip-u8", []any{uint8(7)}, uint8(7))
	fxs["strings"].check("roundtrip", []any{"ok"}, "ok")
	fxs["lists"].check("test:lists/test#list-param", []any{[]byte{1, 2, 3, 4}})
	fxs["records"].check("test:records/test#roundtrip-flags1", []any{uint64(3)}, uint64(3))
	fxs["variants"].check("test:variants/test#invert-bool", []any{true}, false)
	fxs["flavorful"].check("test:flavorful/test#f-list-in-record2", nil, []any{"list_in_record2"})
}

// TestFixtureBadHostResults: an import returning Go values that do not fit
// its result type (or an error) fails the guest's call with an error naming
// the import; it must not panic the Go caller.
func TestFixtureBadHostResults(t *testing.T) {
	for _, tc := range []struct {
		name   string
		result []any
		err    error
	}{
		{"wrong Go type", []any{int(1)}, nil},
		{"wider type", []any{uint16(1)}, nil},
		{"no results", nil, nil},
		{"two results", []any{uint8(1), uint8(2)}, nil},
		{"nil result", []any{nil}, nil},
		{"host error", nil, errors.New("host says no")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			im := numbersImportsWith(func(name string, args []any) ([]any, error) {
				if name == "roundtrip-u8" {
					return tc.result, tc.err
				}
				return args, nil
			})
			f := newFx(t, "numbers", im)
			_, err := f.tryCall("test-imports")
			if err == nil {
				t.Fatalf("test-imports succeeded with roundtrip-u8 returning %s, %v", fmtVal(tc.result), tc.err)
			}
			t.Logf("%.300v", err)
			if !strings.Contains(err.Error(), "roundtrip-u8") {
				t.Errorf("error does not name the import roundtrip-u8: %v", err)
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Errorf("error does not wrap the host's error: %v", err)
			}
			var te *wasmhost.TrapError
			if !errors.As(err, &te) {
				t.Errorf("error is not a *TrapError: %T %v", err, err)
			}
			if f.inst.Poisoned() == nil {
				t.Errorf("instance not poisoned after a trap")
			}
			_, err = f.tryCall("test:numbers/test#roundtrip-u8", uint8(1))
			if !errors.Is(err, wasmhost.ErrPoisoned) {
				t.Errorf("call after a trap: %v, want ErrPoisoned", err)
			}
		})
	}
	t.Run("invalid UTF-8 string", func(t *testing.T) {
		im := wasmhost.NewImports()
		im.Instance("test:strings/imports").
			Func("take-basic", func(context.Context, []any) ([]any, error) { return nil, nil }).
			Func("return-unicode", func(context.Context, []any) ([]any, error) { return []any{"\xff\xfe"}, nil })
		f := newFx(t, "strings", im)
		if _, err := f.tryCall("test-imports"); err == nil {
			t.Errorf("return-unicode returning invalid UTF-8 succeeded")
		} else if !strings.Contains(err.Error(), "return-unicode") {
			t.Errorf("error does not name return-unicode: %v", err)
		}
	})
}

// TestFixtureGuestTrap: a trap in the guest (wasm.c's unimplemented exports
// are assert(0)) is a *TrapError naming the export; the instance is then
// poisoned, and a new instance of the same component works.
func TestFixtureGuestTrap(t *testing.T) {
	f := newFx(t, "lists", listsImports(newHostCalls(t)))
	_, err := f.tryCall("test:lists/test#list-minmax8", []byte{0, 255}, []any{int8(-128), int8(127)})
	var te *wasmhost.TrapError
	if !errors.As(err, &te) {
		t.Fatalf("list-minmax8 (assert(0) in the guest): %v, want a *TrapError", err)
	}
	if !strings.Contains(te.Func, "list-minmax8") {
		t.Errorf("TrapError.Func = %q", te.Func)
	}
	if !strings.Contains(err.Error(), "Assertion failed") {
		t.Logf("guest's assert message not in the error (stderr capture): %v", err)
	}
	if _, err := f.tryCall("test:lists/test#list-result"); !errors.Is(err, wasmhost.ErrPoisoned) {
		t.Errorf("after a trap: %v, want ErrPoisoned", err)
	}
	g := newFx(t, "lists", listsImports(newHostCalls(t)))
	g.check("test:lists/test#list-result", nil, []byte{1, 2, 3, 4, 5})
}

// TestFixtureMissingImports: instantiation without an import the component
// needs fails with an error naming what is missing.
func TestFixtureMissingImports(t *testing.T) {
	ctx := context.Background()
	instantiate := func(name string, im *wasmhost.Imports) error {
		t.Helper()
		c := loadFixture(t, name)
		all := wasmhost.NewImports()
		if importsWASI(c) {
			all.Merge(fixtureWASI(t, nil, nil))
		}
		inst, err := c.Instantiate(ctx, all.Merge(im))
		if err == nil {
			inst.Close(ctx)
		}
		return err
	}
	for _, tc := range []struct {
		name    string
		fixture string
		im      *wasmhost.Imports
		want    []string
	}{
		{"interface", "numbers", wasmhost.NewImports(), []string{"test:numbers/test"}},
		{"unversioned interface", "many-arguments", wasmhost.NewImports(), []string{`"imports"`}},
		{"versioned interface", "simple-nested", wasmhost.NewImports(), []string{"calvinrp:test-async-funcs/hello@0.1.0"}},
		{"incompatible version", "simple-nested", func() *wasmhost.Imports {
			im := wasmhost.NewImports()
			im.Instance("calvinrp:test-async-funcs/hello@0.2.0").Func("hello-world", func(context.Context, []any) ([]any, error) { return []any{""}, nil })
			return im
		}(), []string{"calvinrp:test-async-funcs/hello@0.1.0"}},
		{"function", "numbers", func() *wasmhost.Imports {
			im := wasmhost.NewImports()
			hi := im.Instance("test:numbers/test")
			for _, fn := range []string{"roundtrip-u8", "roundtrip-s8", "roundtrip-u16", "roundtrip-s16", "roundtrip-u32", "roundtrip-s32", "roundtrip-u64", "roundtrip-s64", "roundtrip-f32", "roundtrip-f64", "roundtrip-char", "set-scalar"} {
				hi.Func(fn, failing)
			}
			return im // no get-scalar
		}(), []string{"test:numbers/test", "get-scalar"}},
		{"resource", "resources", func() *wasmhost.Imports {
			im := wasmhost.NewImports()
			hi := im.Instance("imports")
			for _, fn := range []string{"[constructor]y", "[method]y.get-a", "[method]y.set-a", "[static]y.add"} {
				hi.Func(fn, func(context.Context, []any) ([]any, error) { return nil, nil })
			}
			return im // no resource y
		}(), []string{"imports", `"y"`}},
		{"world-level function", "resource-borrow-simple", func() *wasmhost.Imports {
			im := wasmhost.NewImports()
			im.Instance("").Resource("r", nil)
			im.Func("[constructor]r", func(context.Context, []any) ([]any, error) { return nil, nil })
			return im // no test
		}(), []string{`"test"`}},
		{"world-level resource", "resource-borrow-simple", func() *wasmhost.Imports {
			im := wasmhost.NewImports()
			im.Func("test", func(context.Context, []any) ([]any, error) { return nil, nil })
			im.Func("[constructor]r", func(context.Context, []any) ([]any, error) { return nil, nil })
			return im // no r
		}(), []string{`"r"`}},
		{"WASI", "smoke", func() *wasmhost.Imports {
			im := wasmhost.NewImports()
			im.Instance("test:smoke/imports").Func("thunk", func(context.Context, []any) ([]any, error) { return nil, nil })
			return im
		}(), nil}, // checked below: instantiated without WASI
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.name == "WASI" {
				c := loadFixture(t, tc.fixture)
				var inst *wasmhost.Instance
				inst, err = c.Instantiate(ctx, tc.im)
				if err == nil {
					inst.Close(ctx)
				}
				tc.want = []string{"wasi:"}
			} else {
				err = instantiate(tc.fixture, tc.im)
			}
			if err == nil {
				t.Fatalf("instantiating %s succeeded", tc.fixture)
			}
			t.Logf("%v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not name %s: %v", w, err)
				}
			}
		})
	}
}

// TestFixtureTypedImports: TypedFunc refuses, at instantiation, a host
// function whose declared type differs from the component's, naming both.
func TestFixtureTypedImports(t *testing.T) {
	ctx := context.Background()
	c := loadFixture(t, "numbers")
	mk := func(ft *value.FuncType) *wasmhost.Imports {
		im := numbersImports(t, newHostCalls(t))
		im.Instance("test:numbers/test").TypedFunc("roundtrip-u8", ft, func(_ context.Context, args []any) ([]any, error) { return args, nil })
		return wasmhost.NewImports().Merge(fixtureWASI(t, nil, nil)).Merge(im)
	}
	good := &value.FuncType{Params: []value.Param{{Name: "a", Type: value.U8}}, Results: []value.Param{{Type: value.U8}}}
	inst, err := c.Instantiate(ctx, mk(good))
	if err != nil {
		t.Fatalf("TypedFunc with the right type: %v", err)
	}
	inst.Close(ctx)
	bad := &value.FuncType{Params: []value.Param{{Name: "a", Type: value.U16}}, Results: []value.Param{{Type: value.U16}}}
	inst, err = c.Instantiate(ctx, mk(bad))
	if err == nil {
		inst.Close(ctx)
		t.Fatalf("TypedFunc with u16 for u8 instantiated")
	}
	for _, w := range []string{"roundtrip-u8", "u8", "u16"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not mention %s: %v", w, err)
		}
	}
}

// TestFixtureMissingExport: looking up an export that does not exist is an
// error listing what does.
func TestFixtureMissingExport(t *testing.T) {
	f := newFx(t, "numbers", numbersImports(t, newHostCalls(t)))
	for _, name := range []string{"nope", "test:numbers/test#nope", "test:nope/test#roundtrip-u8", "roundtrip-u8"} {
		if _, err := f.inst.Func(name); err == nil {
			t.Errorf("Func(%q) succeeded", name)
		} else if !strings.Contains(err.Error(), "test-imports") && !strings.Contains(err.Error(), "roundtrip") {
			t.Logf("Func(%q): %v (does not list the exports)", name, err)
		}
	}
}

// TestFixtureClosedInstance: calls after Close fail cleanly.
func TestFixtureClosedInstance(t *testing.T) {
	f := newFx(t, "adder", wasmhost.NewImports())
	add := f.fn("docs:adder/add@0.1.0#add")
	if err := f.inst.Close(f.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := callNoPanic(f.ctx, add, []any{uint32(1), uint32(2)}); err == nil {
		t.Errorf("call after Close succeeded")
	}
	if err := f.inst.Close(f.ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// Imports whose behaviour the error tests do not care about.

// numbersImportsWith implements test:numbers/test with one function.
func numbersImportsWith(fn func(name string, args []any) ([]any, error)) *wasmhost.Imports {
	im := wasmhost.NewImports()
	hi := im.Instance("test:numbers/test")
	for _, n := range []string{"roundtrip-u8", "roundtrip-s8", "roundtrip-u16", "roundtrip-s16", "roundtrip-u32", "roundtrip-s32", "roundtrip-u64", "roundtrip-s64", "roundtrip-f32", "roundtrip-f64", "roundtrip-char", "set-scalar", "get-scalar"} {
		n := n
		hi.Func(n, func(_ context.Context, args []any) ([]any, error) {
			if n == "set-scalar" {
				return nil, nil
			}
			if n == "get-scalar" {
				return []any{uint32(2)}, nil
			}
			return fn(n, args)
		})
	}
	return im
}

func failing(context.Context, []any) ([]any, error) { return nil, errors.New("not used by this test") }

func stringsImportsStub() *wasmhost.Imports {
	im := wasmhost.NewImports()
	im.Instance("test:strings/imports").Func("take-basic", failing).Func("return-unicode", failing)
	return im
}

func variantsImportsStub() *wasmhost.Imports {
	im := wasmhost.NewImports()
	hi := im.Instance("test:variants/test")
	for _, n := range []string{"roundtrip-option", "roundtrip-result", "roundtrip-enum", "invert-bool", "variant-casts", "variant-zeros", "variant-typedefs", "variant-enums"} {
		hi.Func(n, failing)
	}
	return im
}

func recordsImportsStub() *wasmhost.Imports {
	im := wasmhost.NewImports()
	hi := im.Instance("test:records/test")
	for _, n := range []string{"multiple-results", "swap-tuple", "roundtrip-flags1", "roundtrip-flags2", "roundtrip-flags3", "roundtrip-record1", "tuple1"} {
		hi.Func(n, failing)
	}
	return im
}

func flavorfulImportsStub() *wasmhost.Imports {
	im := wasmhost.NewImports()
	hi := im.Instance("test:flavorful/test")
	for _, n := range []string{"f-list-in-record1", "f-list-in-record2", "f-list-in-record3", "f-list-in-record4", "f-list-in-variant1", "f-list-in-variant2", "f-list-in-variant3", "errno-result", "list-typedefs", "list-of-variants"} {
		hi.Func(n, failing)
	}
	return im
}
