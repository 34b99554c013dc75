package abi

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// TestSpecDifferential checks layouts, Store and LowerFlat against the
// spec's Python reference (design/mvp/canonical-abi/definitions.py of
// WebAssembly/component-model): for random types and values, the
// reference's elem_size, alignment and flatten_type must agree, and its
// load and lift_flat must read back, from the memory and flat values this
// package produced, the value that was stored.
//
// Run with WBOX_SPEC_DEFINITIONS=/path/to/definitions.py (python3 needed).
func TestSpecDifferential(t *testing.T) {
	defs := os.Getenv("WBOX_SPEC_DEFINITIONS")
	if defs == "" {
		t.Skip("set WBOX_SPEC_DEFINITIONS to the spec's definitions.py")
	}
	g := gen{rand.New(rand.NewPCG(11, 12))}
	var cases []map[string]any
	for i := range 600 {
		ty := specType(g, 4)
		v := g.val(ty)
		enc := encodings[i%3]
		o, inst := newOpts(enc)
		p := inst.allocRaw(Align(ty), Size(ty))
		if err := Store(o, ty, v, p); err != nil {
			t.Fatal(err)
		}
		flat, err := LowerFlat(o, ty, v, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ft []string
		for _, b := range Flatten(ty) {
			ft = append(ft, map[byte]string{I32: "i32", I64: "i64", F32: "f32", F64: "f64"}[b])
		}
		cases = append(cases, map[string]any{
			"type": specTypeJSON(ty), "value": specValueJSON(ty, v), "encoding": enc.String(),
			"size": Size(ty), "align": Align(ty), "flat_types": ft, "flat": flat,
			"ptr": p, "memory": base64.StdEncoding.EncodeToString(inst.mem[:inst.top]),
		})
	}
	// Host strings lowered in each encoding: the realloc calls must be the
	// spec's store_string_into_range's for a UTF-8 source.
	var strs []map[string]any
	for i := range 300 {
		str := g.string()
		if i%3 == 0 {
			str += string(g.char())
		}
		for _, enc := range encodings {
			o, inst := newOpts(enc)
			flat, err := LowerFlat(o, value.String, str, nil)
			if err != nil {
				t.Fatal(err)
			}
			var calls [][3]uint32
			for _, c := range inst.calls {
				calls = append(calls, [3]uint32{c.OldSize, c.Align, c.NewSize})
			}
			p, n := uint32(flat[0]), uint32(flat[1])
			size := n &^ UTF16Tag
			if enc == UTF16 || n&UTF16Tag != 0 {
				size *= 2
			}
			strs = append(strs, map[string]any{"s": str, "encoding": enc.String(), "calls": calls,
				"tagged": n, "bytes": base64.StdEncoding.EncodeToString(inst.mem[p : p+size])})
		}
	}
	in, _ := json.Marshal(map[string]any{"values": cases, "strings": strs})
	dir := t.TempDir()
	file := filepath.Join(dir, "cases.json")
	os.WriteFile(file, in, 0o644)
	cmd := exec.Command("python3", filepath.Join("testdata", "specdiff.py"), defs, file)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatal(err)
	}
}

// specType is a random type the reference handles: no resources, which
// need its component instances, and at most 32 flags.
func specType(g gen, depth int) *value.Type {
	for {
		ty := g.typ(depth)
		if specOK(ty) {
			return ty
		}
	}
}

func specOK(t *value.Type) bool {
	switch t.Kind {
	case value.KindOwn, value.KindBorrow:
		return false
	case value.KindFlags:
		return len(t.Labels) <= 32
	case value.KindList, value.KindOption:
		return specOK(t.Elem)
	case value.KindResult:
		return (t.Ok == nil || specOK(t.Ok)) && (t.Err == nil || specOK(t.Err))
	case value.KindRecord:
		for _, f := range t.Fields {
			if !specOK(f.Type) {
				return false
			}
		}
	case value.KindTuple:
		for _, e := range t.Types {
			if !specOK(e) {
				return false
			}
		}
	case value.KindVariant:
		for _, c := range t.Cases {
			if c.Type != nil && !specOK(c.Type) {
				return false
			}
		}
	}
	return true
}

func specTypeJSON(t *value.Type) any {
	if t == nil {
		return nil
	}
	m := map[string]any{"kind": t.Kind.String()}
	switch t.Kind {
	case value.KindList, value.KindOption:
		m["elem"] = specTypeJSON(t.Elem)
	case value.KindResult:
		m["ok"], m["err"] = specTypeJSON(t.Ok), specTypeJSON(t.Err)
	case value.KindRecord:
		var fs []any
		for _, f := range t.Fields {
			fs = append(fs, []any{f.Name, specTypeJSON(f.Type)})
		}
		m["fields"] = fs
	case value.KindTuple:
		var ts []any
		for _, e := range t.Types {
			ts = append(ts, specTypeJSON(e))
		}
		m["types"] = ts
	case value.KindVariant:
		var cs []any
		for _, c := range t.Cases {
			cs = append(cs, []any{c.Name, specTypeJSON(c.Type)})
		}
		m["cases"] = cs
	case value.KindEnum, value.KindFlags:
		m["labels"] = t.Labels
	}
	return m
}

// specValueJSON encodes a value for the script: floats as bits, []byte as
// a list of ints, variants as [case, payload].
func specValueJSON(t *value.Type, v any) any {
	switch t.Kind {
	case value.KindF32:
		return math.Float32bits(v.(float32))
	case value.KindF64:
		return math.Float64bits(v.(float64))
	case value.KindChar:
		return int32(v.(rune))
	case value.KindList:
		if b, ok := v.([]byte); ok {
			out := make([]any, len(b))
			for i, x := range b {
				out[i] = x
			}
			return out
		}
		out := []any{}
		for _, e := range v.([]any) {
			out = append(out, specValueJSON(t.Elem, e))
		}
		return out
	case value.KindRecord, value.KindTuple:
		out := []any{}
		for i, e := range v.([]any) {
			if t.Kind == value.KindRecord {
				out = append(out, specValueJSON(t.Fields[i].Type, e))
			} else {
				out = append(out, specValueJSON(t.Types[i], e))
			}
		}
		return out
	case value.KindVariant, value.KindEnum, value.KindOption, value.KindResult:
		vv := v.(value.Variant)
		c := t.VariantCases()[vv.Case]
		if c.Type == nil {
			return []any{vv.Case, nil}
		}
		return []any{vv.Case, specValueJSON(c.Type, vv.Value)}
	}
	return v
}
