package linker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wbox-dev/wbox/drivers/kv"
	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// fakeDriver is a native task that only describes its exports.
type fakeDriver map[string]*wasmhost.InstanceType

func (f fakeDriver) Exports() map[string]*wasmhost.InstanceType { return f }
func (f fakeDriver) Bind(string, string, *wasmhost.HostInstance) error {
	return nil
}
func (f fakeDriver) Run(ctx context.Context) error { <-ctx.Done(); return nil }

func fakeFactory(exports map[string]*wasmhost.InstanceType) kernel.DriverFactory {
	return func(kernel.DriverSpec, kernel.DriverEnv) (kernel.Native, error) { return fakeDriver(exports), nil }
}

var strFn = func(params []value.Param, res *value.Type) *value.FuncType {
	ft := &value.FuncType{Params: params}
	if res != nil {
		ft.Results = []value.Param{{Type: res}}
	}
	return ft
}

// testDrivers are the driver kinds the tests link against: the real kv, and
// look-alikes with a wrong type or version.
func testDrivers() map[string]kernel.DriverFactory {
	key := []value.Param{{Name: "key", Type: value.String}}
	badGet := kv.StoreType()
	badGet.Exports[0].Func = strFn(key, value.String) // get returns string, not option<string>
	noSet := &wasmhost.InstanceType{Exports: kv.StoreType().Exports[:1]}
	return map[string]kernel.DriverFactory{
		"kv":      kv.New,
		"bad-kv":  fakeFactory(map[string]*wasmhost.InstanceType{"wbox:kv/store@0.1.0": badGet}),
		"kv-v2":   fakeFactory(map[string]*wasmhost.InstanceType{"wbox:kv/store@0.2.0": kv.StoreType()}),
		"kv-1":    fakeFactory(map[string]*wasmhost.InstanceType{"wbox:kv/store@0.1.7": kv.StoreType()}),
		"no-set":  fakeFactory(map[string]*wasmhost.InstanceType{"wbox:kv/store@0.1.0": noSet}),
		"nothing": fakeFactory(map[string]*wasmhost.InstanceType{}),
	}
}

var (
	rtOnce sync.Once
	rt     *wasmhost.Runtime
)

func runtime(t *testing.T) *wasmhost.Runtime {
	rtOnce.Do(func() {
		var err error
		rt, err = wasmhost.NewRuntime(context.Background(), wasmhost.Config{CacheDir: filepath.Join(os.TempDir(), "wbox-linker-test-cache")})
		if err != nil {
			t.Fatal(err)
		}
	})
	return rt
}

// testDir makes a directory holding the hello example's components under
// short names (front.wasm, greeter.wasm, counter.wasm, howdy.wasm), so
// topologies refer to them by relative paths and positions are stable.
func testDir(t *testing.T) string {
	dir := t.TempDir()
	for name, comp := range map[string]string{"front": "hello-front", "greeter": "hello-greeter", "counter": "hello-counter", "howdy": "hello-greeter-howdy"} {
		b, err := os.ReadFile(testcomponents.Path(t, comp))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".wasm"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Not a component: a component preamble, then garbage.
	if err := os.WriteFile(filepath.Join(dir, "junk.wasm"), []byte("\x00asm\x0d\x00\x01\x00\x07\x05junk!"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func newLinker(t *testing.T, dir string) *Linker {
	l := New(Options{Runtime: runtime(t), Drivers: testDrivers(), StoreDir: filepath.Join(dir, "store")})
	t.Cleanup(func() { l.Close(context.Background()) })
	return l
}

// linkYAML parses and links src as dir/topology.yaml.
func linkYAML(t *testing.T, l *Linker, dir, src string) (*kernel.Spec, error) {
	t.Helper()
	topo, err := Parse("topology.yaml", dir, []byte(src))
	if err != nil {
		return nil, err
	}
	return l.Link(context.Background(), topo)
}

const helloYAML = `boxes:
  front:
    component: front.wasm
  greeter:
    component: greeter.wasm
  counter:
    component: counter.wasm
drivers:
  kv:
    kind: kv
arrows:
  - from: front.wbox:hello/greet@0.1.0
    to: greeter.wbox:hello/greet@0.1.0
  - from: front.wbox:hello/counter@0.1.0
    to: counter
  - from: counter.wbox:kv/store@0.1.0
    to: kv
`

func TestLinkHello(t *testing.T) {
	dir := testDir(t)
	l := newLinker(t, dir)
	spec, err := linkYAML(t, l, dir, helloYAML)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Boxes) != 3 || len(spec.Drivers) != 1 {
		t.Fatalf("spec: %d boxes, %d drivers", len(spec.Boxes), len(spec.Drivers))
	}
	byName := map[string]kernel.BoxSpec{}
	for _, b := range spec.Boxes {
		byName[b.Name] = b
		if b.Instances != 1 || !strings.HasPrefix(b.Digest, "sha256:") || b.Component == nil {
			t.Errorf("box %s: %+v", b.Name, b)
		}
	}
	want := map[string][]kernel.Arrow{
		"front": {
			{Import: "wbox:hello/greet@0.1.0", Target: "greeter", Export: "wbox:hello/greet@0.1.0"},
			{Import: "wbox:hello/counter@0.1.0", Target: "counter", Export: "wbox:hello/counter@0.1.0"},
		},
		"counter": {{Import: "wbox:kv/store@0.1.0", Target: "kv", Export: "wbox:kv/store@0.1.0"}},
		"greeter": nil,
	}
	for box, arrows := range want {
		got := byName[box].Arrows
		if len(got) != len(arrows) {
			t.Errorf("%s arrows = %+v, want %+v", box, got, arrows)
			continue
		}
		for i := range got {
			if got[i] != arrows[i] {
				t.Errorf("%s arrow %d = %+v, want %+v", box, i, got[i], arrows[i])
			}
		}
	}
	// Components deployed by path land in the store, by digest.
	if _, err := os.Stat(StorePath(filepath.Join(dir, "store"), byName["front"].Digest)); err != nil {
		t.Errorf("front not stored: %v", err)
	}
	// Linking again reuses the loaded components.
	spec2, err := linkYAML(t, l, dir, helloYAML)
	if err != nil {
		t.Fatal(err)
	}
	if spec2.Boxes[0].Component != spec.Boxes[0].Component {
		t.Error("relinking loaded the component again")
	}
}

func TestLinkByDigest(t *testing.T) {
	dir := testDir(t)
	l := newLinker(t, dir)
	spec, err := linkYAML(t, l, dir, helloYAML)
	if err != nil {
		t.Fatal(err)
	}
	greeter := spec.Boxes[1].Digest
	src := strings.Replace(helloYAML, "component: greeter.wasm", "component: "+greeter, 1)
	// A fresh linker, so the component comes from the store, not the cache.
	l2 := newLinker(t, dir)
	spec2, err := linkYAML(t, l2, dir, src)
	if err != nil {
		t.Fatal(err)
	}
	if spec2.Boxes[1].Digest != greeter {
		t.Errorf("digest = %s, want %s", spec2.Boxes[1].Digest, greeter)
	}
	// Pinning the right digest on a path is fine.
	src = strings.Replace(helloYAML, "component: greeter.wasm", "component: greeter.wasm\n    digest: "+greeter, 1)
	if _, err := linkYAML(t, l2, dir, src); err != nil {
		t.Fatal(err)
	}
}

func TestLinkErrors(t *testing.T) {
	dir := testDir(t)
	l := newLinker(t, dir)
	zero := "sha256:" + strings.Repeat("0", 64)
	for _, tc := range []struct {
		name string
		edit func(string) string
		want []string // the exact error lines
	}{
		{
			name: "unknown box in from",
			edit: func(s string) string { return strings.Replace(s, "from: counter.", "from: countr.", 1) },
			want: []string{
				`topology.yaml:16:11: arrow countr.wbox:kv/store@0.1.0 -> kv: unknown box "countr" (did you mean "counter"?) (boxes: front, greeter, counter)`,
			},
		},
		{
			name: "unknown target",
			edit: func(s string) string { return strings.Replace(s, "to: kv", "to: kvv", 1) },
			want: []string{
				`topology.yaml:17:9: arrow counter.wbox:kv/store@0.1.0 -> kvv: unknown box or driver "kvv" (did you mean "kv"?) (tasks: kv, front, greeter, counter)`,
			},
		},
		{
			name: "unbound import",
			edit: func(s string) string {
				return strings.Replace(s, "  - from: counter.wbox:kv/store@0.1.0\n    to: kv\n", "", 1)
			},
			want: []string{
				`topology.yaml:6:3: box "counter" imports wbox:kv/store@0.1.0, but no arrow binds it: add an arrow such as {from: counter.wbox:kv/store@0.1.0, to: kv} (kv exports it)`,
			},
		},
		{
			name: "unbound import without candidates",
			edit: func(s string) string {
				s = strings.Replace(s, "  - from: counter.wbox:kv/store@0.1.0\n    to: kv\n", "", 1)
				return strings.Replace(s, "kind: kv", "kind: nothing", 1)
			},
			want: []string{
				`topology.yaml:6:3: box "counter" imports wbox:kv/store@0.1.0, but no arrow binds it: add an arrow to a box or driver that exports it (none in this topology does)`,
			},
		},
		{
			name: "type mismatch",
			edit: func(s string) string { return strings.Replace(s, "kind: kv", "kind: bad-kv", 1) },
			want: []string{
				`topology.yaml:16:5: arrow counter.wbox:kv/store@0.1.0 -> kv.wbox:kv/store@0.1.0: function "get": importer wants func(key: string) -> option<string>, exporter has func(key: string) -> string`,
			},
		},
		{
			name: "missing function",
			edit: func(s string) string { return strings.Replace(s, "kind: kv", "kind: no-set", 1) },
			want: []string{
				`topology.yaml:16:5: arrow counter.wbox:kv/store@0.1.0 -> kv.wbox:kv/store@0.1.0: function "set": importer wants func(key: string, value: string), exporter lacks it (it exports get)`,
			},
		},
		{
			name: "version mismatch",
			edit: func(s string) string { return strings.Replace(s, "kind: kv", "kind: kv-v2", 1) },
			want: []string{
				`topology.yaml:17:9: arrow counter.wbox:kv/store@0.1.0 -> kv: driver "kv" exports wbox:kv/store@0.2.0, which is not compatible with the imported wbox:kv/store@0.1.0 (0.x versions must agree on the minor version)`,
			},
		},
		{
			name: "explicit version mismatch",
			edit: func(s string) string {
				s = strings.Replace(s, "kind: kv", "kind: kv-v2", 1)
				return strings.Replace(s, "to: kv\n", "to: kv.wbox:kv/store@0.2.0\n", 1)
			},
			want: []string{
				`topology.yaml:17:9: arrow counter.wbox:kv/store@0.1.0 -> kv.wbox:kv/store@0.2.0: driver "kv" exports wbox:kv/store@0.2.0, which is not compatible with the imported wbox:kv/store@0.1.0 (0.x versions must agree on the minor version)`,
			},
		},
		{
			name: "wrong interface",
			edit: func(s string) string {
				return strings.Replace(s, "to: greeter.wbox:hello/greet@0.1.0", "to: greeter.wbox:hello/app@0.1.0", 1)
			},
			want: []string{
				`topology.yaml:13:9: arrow front.wbox:hello/greet@0.1.0 -> greeter.wbox:hello/app@0.1.0: the import is wbox:hello/greet@0.1.0 but the arrow points at wbox:hello/app@0.1.0, a different interface`,
			},
		},
		{
			name: "target lacks the interface",
			edit: func(s string) string { return strings.Replace(s, "to: counter", "to: greeter", 1) },
			want: []string{
				`topology.yaml:15:9: arrow front.wbox:hello/counter@0.1.0 -> greeter: box "greeter" does not export wbox:hello/counter (it exports wbox:hello/greet@0.1.0)`,
			},
		},
		{
			name: "box does not import",
			edit: func(s string) string {
				return strings.Replace(s, "from: counter.wbox:kv/store@0.1.0", "from: greeter.wbox:kv/store@0.1.0", 1)
			},
			want: []string{
				`topology.yaml:6:3: box "counter" imports wbox:kv/store@0.1.0, but no arrow binds it: add an arrow such as {from: counter.wbox:kv/store@0.1.0, to: kv} (kv exports it)`,
				`topology.yaml:16:11: arrow greeter.wbox:kv/store@0.1.0 -> kv: box "greeter" does not import wbox:kv/store@0.1.0 (its imports: )`,
			},
		},
		{
			name: "bound twice",
			edit: func(s string) string { return s + "  - from: counter.wbox:kv/store@0.1.0\n    to: kv\n" },
			want: []string{
				`topology.yaml:18:11: arrow counter.wbox:kv/store@0.1.0 -> kv: import wbox:kv/store@0.1.0 of box "counter" is already bound by the arrow at line 16`,
			},
		},
		{
			name: "missing file",
			edit: func(s string) string {
				return strings.Replace(s, "component: greeter.wasm", "component: greeter-v2.wasm", 1)
			},
			want: []string{
				`topology.yaml:5:16: box "greeter": component file greeter-v2.wasm not found (looked for ` + filepath.Join(dir, "greeter-v2.wasm") + `)`,
			},
		},
		{
			name: "digest mismatch",
			edit: func(s string) string {
				return strings.Replace(s, "component: greeter.wasm", "component: greeter.wasm\n    digest: "+zero, 1)
			},
			want: []string{
				`topology.yaml:6:13: box "greeter": digest mismatch: greeter.wasm hashes to ` + digestOf(t, filepath.Join(dir, "greeter.wasm")) + `, but the topology pins ` + zero,
			},
		},
		{
			name: "digest not in store",
			edit: func(s string) string { return strings.Replace(s, "component: greeter.wasm", "component: "+zero, 1) },
			want: []string{
				`topology.yaml:5:16: box "greeter": component ` + zero + ` is not in the store (` + filepath.Join(dir, "store") + `): deploy it once by path`,
			},
		},
		{
			name: "not a component",
			edit: func(s string) string { return strings.Replace(s, "component: greeter.wasm", "component: junk.wasm", 1) },
			want: []string{
				`topology.yaml:5:16: box "greeter": component junk.wasm: decode component: `,
			},
		},
		{
			name: "unknown driver kind",
			edit: func(s string) string { return strings.Replace(s, "kind: kv", "kind: kvs", 1) },
			want: []string{
				`topology.yaml:10:11: driver "kv": unknown kind "kvs" (did you mean "kv"?) (known kinds: bad-kv, kv, kv-1, kv-v2, no-set, nothing)`,
			},
		},
		{
			name: "bad driver setting",
			edit: func(s string) string { return strings.Replace(s, "kind: kv", "kind: kv\n    flie: x.json", 1) },
			want: []string{
				`topology.yaml:9:3: driver "kv" (kind kv): unknown setting "flie" (kv knows: backend, file, namespaces)`,
			},
		},
		{
			name: "self arrow",
			edit: func(s string) string { return strings.Replace(s, "to: counter", "to: front", 1) },
			want: []string{
				`topology.yaml:15:9: arrow front.wbox:hello/counter@0.1.0 -> front: a box cannot import from itself`,
			},
		},
		{
			name: "arrow from a driver",
			edit: func(s string) string { return s + "  - from: kv.wbox:kv/store@0.1.0\n    to: front\n" },
			want: []string{
				`topology.yaml:18:11: arrow kv.wbox:kv/store@0.1.0 -> front: "kv" is a driver; arrows start at the box that imports the interface`,
			},
		},
		{
			name: "wasi dir missing",
			edit: func(s string) string {
				return strings.Replace(s, "component: greeter.wasm", "component: greeter.wasm\n    wasi:\n      dirs: [{host: ./nope, guest: /data}]", 1)
			},
			want: []string{
				`topology.yaml:7:14: box "greeter": wasi dir ` + filepath.Join(dir, "nope") + ` is not a directory`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := linkYAML(t, l, dir, tc.edit(helloYAML))
			checkErrors(t, err, tc.want)
		})
	}
}

// checkErrors wants err to be Errors whose lines are want (a want line
// ending in ": " is a prefix).
func checkErrors(t *testing.T, err error, want []string) {
	t.Helper()
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("err = %v (%T), want Errors", err, err)
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d errors:\n%s\nwant %d:\n%s", len(got), err, len(want), strings.Join(want, "\n"))
	}
	for i := range want {
		if got[i] != want[i] && !(strings.HasSuffix(want[i], ": ") && strings.HasPrefix(got[i], want[i])) {
			t.Errorf("error %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}

func digestOf(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Store(t.TempDir(), b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestLinkCompatibleVersion(t *testing.T) {
	// counter imports wbox:kv/store@0.1.0; a driver exporting 0.1.7 serves it.
	dir := testDir(t)
	l := newLinker(t, dir)
	spec, err := linkYAML(t, l, dir, strings.Replace(helloYAML, "kind: kv", "kind: kv-1", 1))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range spec.Boxes {
		if b.Name == "counter" {
			if a := b.Arrows[0]; a.Export != "wbox:kv/store@0.1.7" || a.Import != "wbox:kv/store@0.1.0" {
				t.Errorf("arrow = %+v", a)
			}
		}
	}
}

func TestLinkVersionlessEndpoints(t *testing.T) {
	// An arrow may leave versions out when they are unambiguous.
	dir := testDir(t)
	l := newLinker(t, dir)
	src := strings.Replace(helloYAML, "  - from: counter.wbox:kv/store@0.1.0\n    to: kv\n", "  - from: counter.wbox:kv/store\n    to: kv.wbox:kv/store\n", 1)
	spec, err := linkYAML(t, l, dir, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range spec.Boxes {
		if b.Name == "counter" {
			if a := b.Arrows[0]; a.Export != "wbox:kv/store@0.1.0" || a.Import != "wbox:kv/store@0.1.0" || a.Target != "kv" {
				t.Errorf("arrow = %+v", a)
			}
		}
	}
}

func TestVersionMismatchWhy(t *testing.T) {
	to := &task{name: "kv"}
	for _, tc := range []struct{ imp, exp, why string }{
		{"a:b/c@1.0.0", "a:b/c@2.0.0", "major versions differ"},
		{"a:b/c@0.1.0", "a:b/c@0.2.0", "0.x versions must agree on the minor version"},
		{"a:b/c@0.0.1", "a:b/c@0.0.2", "0.0.x versions are compatible only with themselves"},
		{"a:b/c@0.2.0-draft", "a:b/c@0.2.0", "pre-release versions must be equal"},
	} {
		want := `driver "kv" exports ` + tc.exp + `, which is not compatible with the imported ` + tc.imp + ` (` + tc.why + `)`
		if got := versionMismatch(to, tc.imp, tc.exp); got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}
