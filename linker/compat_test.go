package linker

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

func fn(name string, ft *value.FuncType) wasmhost.Extern {
	return wasmhost.Extern{Name: name, Kind: wasmhost.ExternFunc, Func: ft}
}

func res(r *value.ResourceType) wasmhost.Extern {
	return wasmhost.Extern{Name: r.Name, Kind: wasmhost.ExternType, Resource: r}
}

// counterIface is an interface with a resource, built as a component's
// world would describe it: each side has its own *value.ResourceType.
func counterIface(iface string, getResult *value.Type) (*wasmhost.InstanceType, *value.ResourceType) {
	r := &value.ResourceType{Name: "counter", Interface: iface}
	return &wasmhost.InstanceType{Exports: []wasmhost.Extern{
		res(r),
		fn("[constructor]counter", &value.FuncType{Params: []value.Param{{Name: "start", Type: value.U32}}, Results: []value.Param{{Type: value.Own(r)}}}),
		fn("[method]counter.get", &value.FuncType{Params: []value.Param{{Name: "self", Type: value.Borrow(r)}}, Results: []value.Param{{Type: getResult}}}),
		fn("merge", &value.FuncType{Params: []value.Param{{Name: "a", Type: value.Own(r)}, {Name: "b", Type: value.Borrow(r)}}, Results: []value.Param{{Type: value.Own(r)}}}),
	}}, r
}

func TestCheckInstanceResources(t *testing.T) {
	imp, _ := counterIface("demo:c/counter@0.1.0", value.U32)
	// The exporter's resources are its own pointers, and a component's
	// exported resources carry no interface name.
	exp, _ := counterIface("", value.U32)
	if probs := CheckInstance(imp, exp); len(probs) > 0 {
		t.Fatalf("equal interfaces differ: %v", probs)
	}
	exp2, _ := counterIface("demo:c/counter@0.1.3", value.U32)
	if probs := CheckInstance(imp, exp2); len(probs) > 0 {
		t.Fatalf("compatible versions differ: %v", probs)
	}

	// A different result type is named with both types.
	bad, _ := counterIface("", value.U64)
	probs := CheckInstance(imp, bad)
	if len(probs) != 1 || probs[0] != `function "[method]counter.get": importer wants func(self: borrow<counter>) -> u32, exporter has func(self: borrow<counter>) -> u64` {
		t.Errorf("probs = %q", probs)
	}

	// A function taking another resource of the same name is not equal:
	// once "counter" is paired, only that pairing matches.
	other := &value.ResourceType{Name: "counter"}
	swapped, _ := counterIface("", value.U32)
	swapped.Exports[2].Func = &value.FuncType{Params: []value.Param{{Name: "self", Type: value.Borrow(other)}}, Results: []value.Param{{Type: value.U32}}}
	if probs := CheckInstance(imp, swapped); len(probs) != 1 || !strings.Contains(probs[0], `"[method]counter.get"`) {
		t.Errorf("swapped resource: %q", probs)
	}

	// A missing resource.
	noRes, _ := counterIface("", value.U32)
	noRes.Exports = noRes.Exports[1:]
	probs = CheckInstance(imp, noRes)
	if len(probs) == 0 || probs[0] != `resource "counter": the importer needs it, the exporter does not export it` {
		t.Errorf("no resource: %q", probs)
	}
}

func TestCheckInstanceForeignResources(t *testing.T) {
	// A function using a resource defined by another interface (as
	// wasi:cli/stdout uses wasi:io/streams' output-stream): matched by name
	// and compatible interface.
	stream := func(iface string) *wasmhost.InstanceType {
		r := &value.ResourceType{Name: "output-stream", Interface: iface}
		return &wasmhost.InstanceType{Exports: []wasmhost.Extern{
			fn("get-stdout", &value.FuncType{Results: []value.Param{{Type: value.Own(r)}}}),
		}}
	}
	if probs := CheckInstance(stream("wasi:io/streams@0.2.0"), stream("wasi:io/streams@0.2.9")); len(probs) > 0 {
		t.Errorf("compatible: %v", probs)
	}
	if probs := CheckInstance(stream("wasi:io/streams@0.2.0"), stream("wasi:io/streams@0.3.0")); len(probs) != 1 {
		t.Errorf("incompatible interface versions: %v", probs)
	}
	if probs := CheckInstance(stream("wasi:io/streams@0.2.0"), stream("my:io/streams@0.2.0")); len(probs) != 1 {
		t.Errorf("other interface: %v", probs)
	}
}

func TestCheckInstanceTypes(t *testing.T) {
	rec := func(fields ...value.Field) *wasmhost.InstanceType {
		r := value.RecordOf(fields...)
		r.Name = "visit"
		return &wasmhost.InstanceType{Exports: []wasmhost.Extern{
			{Name: "visit", Kind: wasmhost.ExternType, Type: r},
			fn("hello", &value.FuncType{Params: []value.Param{{Name: "name", Type: value.String}}, Results: []value.Param{{Type: r}}}),
		}}
	}
	a := rec(value.Field{Name: "greeting", Type: value.String}, value.Field{Name: "visits", Type: value.U64})
	b := rec(value.Field{Name: "greeting", Type: value.String}, value.Field{Name: "visits", Type: value.U64})
	if probs := CheckInstance(a, b); len(probs) > 0 {
		t.Errorf("equal: %v", probs)
	}
	c := rec(value.Field{Name: "greeting", Type: value.String}, value.Field{Name: "count", Type: value.U64})
	probs := CheckInstance(a, c)
	want := []string{
		`type "visit": importer wants record { greeting: string, visits: u64 }, exporter has record { greeting: string, count: u64 }`,
		`function "hello": importer wants func(name: string) -> record { greeting: string, visits: u64 }, exporter has func(name: string) -> record { greeting: string, count: u64 }`,
	}
	if strings.Join(probs, "\n") != strings.Join(want, "\n") {
		t.Errorf("probs =\n%s\nwant\n%s", strings.Join(probs, "\n"), strings.Join(want, "\n"))
	}
	// The exporter may export more than the importer needs.
	more := rec(value.Field{Name: "greeting", Type: value.String}, value.Field{Name: "visits", Type: value.U64})
	more.Exports = append(more.Exports, fn("extra", &value.FuncType{}))
	if probs := CheckInstance(a, more); len(probs) > 0 {
		t.Errorf("superset: %v", probs)
	}
	if probs := CheckInstance(more, a); len(probs) != 1 || probs[0] != `function "extra": importer wants func(), exporter lacks it (it exports hello)` {
		t.Errorf("subset: %q", probs)
	}
}

func TestCheckInstanceRealResources(t *testing.T) {
	// The same component loaded twice has distinct resource types (they are
	// generative), so pointer equality (value.FuncType.Equal) tells its
	// interfaces apart; CheckInstance must find them compatible.
	path := testcomponents.Fixture(t, "resources")
	wasm, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := runtime(t).Load(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	b, err := runtime(t).Load(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	pointerDiffers := false
	check := func(x, y []wasmhost.Extern) {
		for i, e := range x {
			if e.Kind != wasmhost.ExternInstance {
				continue
			}
			if probs := CheckInstance(e.Instance, y[i].Instance); len(probs) > 0 {
				t.Errorf("%s: %v", e.Name, probs)
			}
			for j, f := range e.Instance.Exports {
				if f.Kind == wasmhost.ExternFunc && !f.Func.Equal(y[i].Instance.Exports[j].Func) {
					pointerDiffers = true
				}
			}
		}
	}
	check(a.World().Imports, b.World().Imports)
	check(a.World().Exports, b.World().Exports)
	if !pointerDiffers {
		t.Error("no function type differed by resource identity: the test proves nothing")
	}
	// And a mismatch is still one: stdout's interface does not serve stdin.
	stdin, stdout := a.World().Import("wasi:cli/stdin@0.2.0"), b.World().Import("wasi:cli/stdout@0.2.0")
	if probs := CheckInstance(stdin.Instance, stdout.Instance); strings.Join(probs, "\n") != `resource "input-stream": the importer needs it, the exporter does not export it`+"\n"+
		`function "get-stdin": importer wants func() -> input-stream, exporter lacks it (it exports get-stdout)` {
		t.Errorf("stdin vs stdout: %q", probs)
	}
}
