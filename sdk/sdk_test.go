package sdk_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/wbox-dev/wbox/sdk"
	"github.com/wbox-dev/wbox/sdk/bindgen"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
	"github.com/wbox-dev/wbox/wasmhost/wasi"
	"github.com/wbox-dev/wbox/wasmhost/wave"
)

// need skips the test when a toolchain is missing (fails it under CI,
// where a skip would hide untested code).
func need(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if sdk.IsMissingTool(err) && os.Getenv("CI") == "" {
		t.Skipf("toolchain missing: %v", err)
	}
	t.Fatal(err)
}

// build builds the project in dir, skipping when a toolchain is missing.
func build(t *testing.T, dir string) string {
	t.Helper()
	var progress strings.Builder
	out, err := sdk.Build(context.Background(), dir, sdk.BuildOptions{Progress: &progress})
	t.Logf("wbox build %s:\n%s", filepath.Base(dir), progress.String())
	need(t, err)
	return out
}

var (
	rtOnce sync.Once
	rt     *wasmhost.Runtime
	rtErr  error
)

// runtime is shared by the tests; compiled code is cached on disk.
func runtime(t *testing.T) *wasmhost.Runtime {
	t.Helper()
	rtOnce.Do(func() {
		cache := ""
		if d, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(d, "wbox", "test-compiled")
		}
		rt, rtErr = wasmhost.NewRuntime(context.Background(), wasmhost.Config{CacheDir: cache})
	})
	if rtErr != nil {
		t.Fatal(rtErr)
	}
	return rt
}

func load(t *testing.T, path string) *wasmhost.Component {
	t.Helper()
	wasm, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := runtime(t).Load(context.Background(), wasm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// copyDir copies a directory tree.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, r), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, r), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// call calls export with WAVE arguments and returns the WAVE result.
func call(t *testing.T, inst *wasmhost.Instance, export string, args ...string) string {
	t.Helper()
	f, err := inst.Func(export)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := wave.ParseArgs(f.Type().Params, args)
	if err != nil {
		t.Fatalf("%s(%s): %v", export, strings.Join(args, ", "), err)
	}
	res, err := f.Call(context.Background(), vals...)
	if err != nil {
		t.Fatalf("%s(%s): %v", export, strings.Join(args, ", "), err)
	}
	out, err := wave.FormatResults(f.Type().Results, res)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// canon returns want in WAVE's canonical form for export's result type.
func canon(t *testing.T, inst *wasmhost.Instance, export, want string) string {
	t.Helper()
	f, err := inst.Func(export)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Type().Results) == 0 {
		return want
	}
	rt := f.Type().Results[0].Type
	v, err := wave.Parse(rt, want)
	if err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	s, err := wave.Format(rt, v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const kitchenItem = `{name: "ada", tags: ["x", "", "héllo 🎉"], at: some({x: -3, y: 7}), color: green,
	perms: {read, exec}, shape: rect({x: 1, y: -2}), score: 2.5, big: 18446744073709551615,
	small: -128, flag: true, ch: '☃', bytes: [0, 1, 255]}`

// TestGoBindings generates Go bindings for a world covering records, variants
// (with joined flat payloads), enums, flags, lists, options, results,
// tuples, more than 16 flat parameters both ways, world-level functions and
// imports whose results the host writes into guest memory; builds a Go
// guest implementing it and round-trips values through wasmhost.
func TestGoBindings(t *testing.T) {
	t.Parallel()
	testKitchen(t, "testdata/kitchen")
}

// TestCBindings is TestGoBindings for the C bindings (bindgen.GenerateC).
func TestCBindings(t *testing.T) {
	t.Parallel()
	testKitchen(t, "testdata/kitchen-c")
}

// TestASBindings is TestGoBindings for the AssemblyScript bindings
// (bindgen.GenerateAS).
func TestASBindings(t *testing.T) {
	t.Parallel()
	testKitchen(t, "testdata/kitchen-as")
}

func testKitchen(t *testing.T, src string) {
	dir := t.TempDir()
	copyDir(t, src, dir)
	c := load(t, build(t, dir))

	hostT := c.World().Import("test:kitchen/host@0.1.0")
	if hostT == nil {
		t.Fatalf("no host import:\n%s", c.World().WIT())
	}
	fetchT := hostT.Instance.Func("fetch")
	var notes, logs []string
	im := wasi.New(wasi.Config{}).Imports()
	im.Instance("test:kitchen/types@0.1.0") // types only
	h := im.Instance("test:kitchen/host@0.1.0")
	h.Func("fetch", func(ctx context.Context, args []any) ([]any, error) {
		if args[0] == "missing" {
			return []any{value.Err("no key missing")}, nil
		}
		v, err := wave.Parse(fetchT.Results[0].Type, "ok("+kitchenItem+")")
		return []any{v}, err
	})
	h.Func("echo-list", func(ctx context.Context, args []any) ([]any, error) {
		xs := args[0].([]any)
		return []any{append(xs, uint32(len(xs)))}, nil
	})
	h.Func("note", func(ctx context.Context, args []any) ([]any, error) {
		notes = append(notes, args[0].(string))
		return nil, nil
	})
	h.Func("maybe", func(ctx context.Context, args []any) ([]any, error) {
		o := args[0].(value.Variant)
		if o.Case == 0 {
			return []any{value.None()}, nil
		}
		return []any{value.Some(fmt.Sprint(o.Value))}, nil
	})
	h.Func("sum17", func(ctx context.Context, args []any) ([]any, error) {
		var s uint64
		for i, a := range args {
			s += uint64(a.(uint32)) * uint64(i+1)
		}
		return []any{s}, nil
	})
	im.Func("log", func(ctx context.Context, args []any) ([]any, error) {
		logs = append(logs, args[0].(string))
		return nil, nil
	})
	inst, err := c.Instantiate(context.Background(), im)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())

	api := "test:kitchen/api@0.1.0#"
	for _, tc := range []struct {
		fn   string
		args []string
		want string
	}{
		{"roundtrip-item", []string{kitchenItem}, kitchenItem},
		{"roundtrip-item", []string{`{name: "", tags: [], at: none, color: red, perms: {}, shape: empty, score: -0.0, big: 0, small: 127, flag: false, ch: 'a', bytes: []}`},
			`{name: "", tags: [], at: none, color: red, perms: {}, shape: empty, score: -0.0, big: 0, small: 127, flag: false, ch: 'a', bytes: []}`},
		{"roundtrip-items", []string{"[" + kitchenItem + ", " + strings.ReplaceAll(kitchenItem, `"ada"`, `"bob"`) + "]"},
			"[" + kitchenItem + ", " + strings.ReplaceAll(kitchenItem, `"ada"`, `"bob"`) + "]"},
		{"reverse-shapes", []string{`[circle(1.5), rect({x: 1, y: 2}), empty, named("n")]`}, `[named("n"), empty, rect({x: 1, y: 2}), circle(1.5)]`},
		{"classify", []string{"42"}, `ok("n=42")`},
		{"classify", []string{"-1"}, `err(red)`},
		{"classify", []string{"0"}, `err(blue)`},
		{"opt", []string{"some(some(7))"}, "some(some(7))"},
		{"opt", []string{"some(none)"}, "some(none)"},
		{"opt", []string{"none"}, "none"},
		{"swap", []string{`(200, "t", 0.25)`}, `(0.25, "t!", 200)`},
		{"many", []string{"1", "2", "3.5", "4.5", `"a"`, `"bb"`, `"c"`, `""`, `"d"`, `"e"`, `"f"`, `"g"`, `"hhhh"`}, "22"},
		{"mixed-list", []string{`[a(255), b(-1.5), c(-9000000000), d(3.25), e((0.5, 4000000000)), f("s")]`},
			`[a(255), b(-1.5), c(-9000000000), d(3.25), e((0.5, 4000000000)), f("s")]`},
		{"mixed-one", []string{`b(-1.5)`}, `b(-1.5)`},
		{"mixed-one", []string{`c(-9000000000)`}, `c(-9000000000)`},
		{"mixed-one", []string{`d(3.25)`}, `d(3.25)`},
		{"mixed-one", []string{`e((0.5, 4000000000))`}, `e((0.5, 4000000000))`},
		{"mixed-one", []string{`f("xyz")`}, `f("xyz")`},
		{"via-host", []string{`"k"`}, "ok(" + kitchenItem + ")"},
		{"via-host", []string{`"missing"`}, `err("no key missing")`},
		{"host-list", []string{"[5, 6]"}, "[5, 6, 2]"},
		{"host-list", []string{"[]"}, "[0]"},
		{"host-maybe", []string{"some(9)"}, `some("9")`},
		{"host-maybe", []string{"none"}, "none"},
		{"host-sum", []string{"1"}, "1785"},
		{"add", []string{"4000000000", "300000000"}, "5032704"},
		{"half", []string{"3"}, "1.5"},
		{"is-odd", []string{"-3"}, "true"},
		{"is-odd", []string{"4"}, "false"},
		{"nothing", nil, ""},
		{"origin", nil, "{x: -1, y: 2}"},
	} {
		got := call(t, inst, api+tc.fn, tc.args...)
		if want := canon(t, inst, api+tc.fn, tc.want); got != want {
			t.Errorf("%s(%s)\n got %s\nwant %s", tc.fn, strings.Join(tc.args, ", "), got, want)
		}
	}
	if got := call(t, inst, "ping", `"x"`); got != `"pong x"` {
		t.Errorf(`ping("x") = %s`, got)
	}
	if fmt.Sprint(notes) != "[fetching k fetching missing]" || fmt.Sprint(logs) != "[ping x]" {
		t.Errorf("notes %q, logs %q", notes, logs)
	}
	// Many calls: memory handed out per call is released at post-return.
	for i := range 2000 {
		s := strings.Repeat("z", i%300)
		if got := call(t, inst, api+"roundtrip-item", strings.Replace(kitchenItem, `"ada"`, `"`+s+`"`, 1)); !strings.Contains(got, `"`+s+`"`) {
			t.Fatalf("call %d: %s", i, got)
		}
	}
}

// TestGoHostBuild checks that the generated packages also build for the
// host, where imports are stubs, so a box's logic runs under `go test`.
func TestGoHostBuild(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	copyDir(t, "testdata/kitchen", dir)
	p, err := sdk.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := sdk.GenerateGo(p, true); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "vet", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go vet on the host: %v\n%s", err, out)
	}
}

// TestGoBindingsFixtures generates bindings for the world of every
// third-party fixture component (shared/fixtures/components) and compiles
// them with GOOS=wasip1. Worlds using resources are reported as
// unsupported, by name.
func TestGoBindingsFixtures(t *testing.T) {
	t.Parallel()
	fixtures, _ := filepath.Glob(filepath.Join("..", "..", "shared", "fixtures", "components", "*.component.wasm"))
	if len(fixtures) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("no fixtures in ../shared/fixtures/components")
		}
		t.Skip("no fixtures in ../shared/fixtures/components")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module fx\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var built []string
	for _, f := range fixtures {
		name := strings.ReplaceAll(strings.TrimSuffix(filepath.Base(f), ".component.wasm"), "-", "")
		out := filepath.Join(dir, name)
		err := sdk.BindgenGo(f, "", "fx/"+name, out, "")
		if err != nil {
			if strings.Contains(err.Error(), "resource") && strings.Contains(err.Error(), "not supported") {
				t.Logf("%s: %v", name, err)
				continue
			}
			t.Errorf("%s: %v", name, err)
			continue
		}
		var imports []string
		filepath.WalkDir(filepath.Join(out, "gen"), func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") {
				r, _ := filepath.Rel(dir, filepath.Dir(path))
				if !slicesContains(imports, r) {
					imports = append(imports, r)
				}
			}
			return err
		})
		src := "package main\n\nimport (\n"
		for _, imp := range imports {
			src += "\t_ \"fx/" + filepath.ToSlash(imp) + "\"\n"
		}
		src += ")\n\nfunc main() {}\n"
		if err := os.WriteFile(filepath.Join(out, "main.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		built = append(built, name)
	}
	t.Logf("bindings generated for %d of %d fixtures: %s", len(built), len(fixtures), strings.Join(built, " "))
	if len(built) < 12 {
		t.Errorf("only %d fixture worlds are supported", len(built))
	}
	for _, tags := range [][]string{{"GOOS=wasip1", "GOARCH=wasm"}, nil} {
		cmd := exec.Command("go", "build", "./...")
		cmd.Dir = dir
		cmd.Env = append(append(os.Environ(), "GOWORK=off", "GOFLAGS=", "GOPROXY=off", "CGO_ENABLED=0"), tags...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %v: %v\n%s", tags, err, out)
		}
	}
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestCBindingsFixtures generates C bindings for every fixture's world and
// compiles them with clang for wasm32-wasi.
func TestCBindingsFixtures(t *testing.T) {
	t.Parallel()
	fixtures, _ := filepath.Glob(filepath.Join("..", "..", "shared", "fixtures", "components", "*.component.wasm"))
	if len(fixtures) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("no fixtures in ../shared/fixtures/components")
		}
		t.Skip("no fixtures in ../shared/fixtures/components")
	}
	if _, err := exec.LookPath("clang"); err != nil {
		need(t, &sdk.ToolError{Tool: "clang", Msg: "clang not found"})
	}
	var built []string
	for _, f := range fixtures {
		name := strings.TrimSuffix(filepath.Base(f), ".component.wasm")
		out := filepath.Join(t.TempDir(), name)
		if err := sdk.BindgenC(f, "", out, ""); err != nil {
			if strings.Contains(err.Error(), "resources: not supported") {
				t.Logf("%s: %v", name, err)
				continue
			}
			t.Errorf("%s: %v", name, err)
			continue
		}
		cmd := exec.Command("clang", "--target=wasm32-wasi", "--sysroot=/usr", "-Wall", "-Wextra", "-Werror",
			"-Wno-unused-function", "-c", "-Igen", "-o", "bindings.o", "gen/bindings.c")
		cmd.Dir = out
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: clang: %v\n%s", name, err, msg)
			continue
		}
		built = append(built, name)
	}
	t.Logf("C bindings compile for %d of %d fixtures: %s", len(built), len(fixtures), strings.Join(built, " "))
	if len(built) < 12 {
		t.Errorf("only %d fixture worlds are supported", len(built))
	}
}

// TestKVWITCopy keeps the kv world's copy of wit/wbox-kv.wit in step.
func TestKVWITCopy(t *testing.T) {
	want, err := os.ReadFile("../wit/wbox-kv.wit")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("templates/kv/common/wbox-kv.wit.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatal("sdk/templates/kv/common/wbox-kv.wit.tmpl differs from wit/wbox-kv.wit: copy it")
	}
}

// TestGoExportedResource: a Go box exporting a resource (constructor,
// methods, a static taking own and borrow, lists of borrows), driven
// through wasmhost; dropping handles runs the box's Drop.
func TestGoExportedResource(t *testing.T) {
	t.Parallel()
	testResource(t, "testdata/resources")
}

// TestCExportedResource is TestGoExportedResource for a C box.
func TestCExportedResource(t *testing.T) {
	t.Parallel()
	testResource(t, "testdata/resources-c")
}

// TestASExportedResource is TestGoExportedResource for an AssemblyScript
// box: the resource is a class of the box, kept by the bindings in a table
// while handles to it exist.
func TestASExportedResource(t *testing.T) {
	t.Parallel()
	testResource(t, "testdata/resources-as")
}

func testResource(t *testing.T, src string) {
	dir := t.TempDir()
	copyDir(t, src, dir)
	c := load(t, build(t, dir))
	ctx := context.Background()
	inst, err := c.Instantiate(ctx, wasi.New(wasi.Config{}).Imports())
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx)
	const p = "test:res/counters@0.1.0#"
	callv := func(name string, args ...any) []any {
		t.Helper()
		f, err := inst.Func(p + name)
		if err != nil {
			t.Fatal(err)
		}
		res, err := f.Call(ctx, args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res
	}
	a := callv("[constructor]counter", "a", uint32(1))[0].(value.Handle)
	b := callv("make", uint32(10))[0].(value.Handle)
	if got := callv("[method]counter.add", a, uint32(4))[0]; got != uint32(5) {
		t.Errorf("add = %v", got)
	}
	if got := callv("[method]counter.label", b)[0]; got != "made=10" {
		t.Errorf("label = %v", got)
	}
	if got := callv("total", []any{a, b, a})[0]; got != uint32(20) {
		t.Errorf("total = %v", got)
	}
	m := callv("[static]counter.merge", a, b)[0].(value.Handle) // a moves in
	if got := callv("[method]counter.label", m)[0]; got != "a+made=15" {
		t.Errorf("merged label = %v", got)
	}
	if got := callv("live")[0]; got != uint32(2) {
		t.Errorf("live after merge = %v, want 2 (a dropped by the box)", got)
	}
	for _, h := range []value.Handle{b, m} {
		if err := inst.Drop(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	if got := callv("live")[0]; got != uint32(0) {
		t.Errorf("live after drops = %v", got)
	}
}

// TestNewWorlds writes every world's project for C and AssemblyScript with
// New, builds it and runs its box.yaml tests (calls, kv calls on an
// in-memory store, GET requests through wbox's wasi:http host). Go and
// JavaScript projects run end to end in cmd/wbox's TestFirstBox.
func TestNewWorlds(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"c", "as"} {
		for _, world := range sdk.Worlds {
			t.Run(lang+"-"+world, func(t *testing.T) {
				t.Parallel()
				dir := filepath.Join(t.TempDir(), "box")
				name := "t-" + lang + "-" + world
				if _, err := sdk.New(dir, sdk.NewOptions{Name: name, Lang: lang, World: world}); err != nil {
					need(t, err)
				}
				build(t, dir)
				p, err := sdk.Load(dir)
				if err != nil {
					t.Fatal(err)
				}
				var out strings.Builder
				err = sdk.RunTests(context.Background(), p, sdk.TestOptions{Out: &out})
				t.Logf("wbox test:\n%s", out.String())
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(out.String(), "1 passed, 0 failed") {
					t.Fatalf("wbox test did not pass its test:\n%s", out.String())
				}
			})
		}
	}
}

// TestASBindingsFixtures generates AssemblyScript bindings for every
// fixture's world and compiles them with asc, with the generated stub of
// the exports (bindgen.GenerateASStub) as the box's code: every export's
// glue (lifting its parameters, lowering its results) type-checks and
// compiles. All worlds go through one asc run (a module re-exporting every
// world's glue under unique names), as asc's start-up dominates. Worlds
// the AssemblyScript bindings cannot express are reported by name.
func TestASBindingsFixtures(t *testing.T) {
	t.Parallel()
	fixtures, _ := filepath.Glob(filepath.Join("..", "..", "shared", "fixtures", "components", "*.component.wasm"))
	if len(fixtures) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("no fixtures in ../shared/fixtures/components")
		}
		t.Skip("no fixtures in ../shared/fixtures/components")
	}
	nm, err := sdk.NodeModules(".")
	need(t, err)
	asc := filepath.Join(nm, "assemblyscript", "bin", "asc.js")
	if _, err := os.Stat(asc); err != nil {
		need(t, &sdk.ToolError{Tool: "asc", Msg: "asc not found"})
	}
	root := t.TempDir()
	var built []string
	var all strings.Builder
	exportRE := regexp.MustCompile(`(?m)^export function (\w+)`)
	for _, f := range fixtures {
		name := strings.TrimSuffix(filepath.Base(f), ".component.wasm")
		out := filepath.Join(root, name)
		res, err := sdk.LoadWIT(f)
		if err != nil {
			t.Fatal(err)
		}
		stub, err := bindgen.GenerateASStub(bindgen.Options{Resolve: res, Impl: "../impl"})
		if err == nil {
			err = sdk.BindgenAS(f, "", "../impl", out, "")
		}
		if err != nil {
			if strings.Contains(err.Error(), "not supported") || strings.Contains(err.Error(), "do not support") {
				t.Logf("%s: %v", name, err)
				continue
			}
			t.Errorf("%s: %v", name, err)
			continue
		}
		if err := os.WriteFile(filepath.Join(out, "impl.ts"), stub, 0o644); err != nil {
			t.Fatal(err)
		}
		world, err := os.ReadFile(filepath.Join(out, "gen", "world.ts"))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for i, m := range exportRE.FindAllSubmatch(world, -1) {
			names = append(names, fmt.Sprintf("%s as fx%d_%d", m[1], len(built), i))
		}
		if len(names) == 0 {
			t.Errorf("%s: gen/world.ts exports nothing", name)
			continue
		}
		fmt.Fprintf(&all, "export { %s } from \"./%s/gen/world\";\n", strings.Join(names, ", "), name)
		built = append(built, name)
	}
	if err := os.WriteFile(filepath.Join(root, "all.ts"), []byte(all.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", asc, "all.ts", "--outFile", "all.wasm", "--runtime", "incremental", "--noAssert", "--use", "abort=")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("asc: %v\n%s", err, b)
	}
	t.Logf("AssemblyScript bindings compiled for %d of %d fixtures: %s", len(built), len(fixtures), strings.Join(built, " "))
	if len(built) < 11 {
		t.Errorf("only %d fixture worlds are supported", len(built))
	}
}
