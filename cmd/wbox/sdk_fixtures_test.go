package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/sdk"
	"go.bytecodealliance.org/wit"
)

// TestFixtureRoundTrip runs the Go SDK against components nobody on this
// project wrote: for every third-party fixture that exports an interface,
// a Go box importing that interface (bindings generated from the WIT the
// fixture embeds) is built with `wbox build` and run with `wbox up` beside
// the fixture, an arrow from the box to the fixture; `wbox invoke` calls
// the box's run, which calls every function of the interface with real
// values (numbers of every width, chars, strings, lists, records, tuples,
// flags, enums, variants, options, results) and checks what comes back.
//
// A fixture that imports the interface it exports (the test:* ones, and
// simple-nested) gets it from a second box of the client component, the
// peer: the client world exports the interface too. Only simple-nested
// calls it (its hello-world calls the imported one), so its string crosses
// client -> fixture -> peer and back.
func TestFixtureRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("builds boxes")
	}
	root := testcomponents.RepoRoot(t)
	bin := wboxBinary(t)
	for _, tc := range []struct {
		fixture string
		checks  int // at least this many "ok" lines
	}{
		{"adder", 3},
		{"numbers", 30},
		{"records", 14},
		{"variants", 16},
		{"lists", 12},
		{"flavorful", 8},
		{"simple-nested", 1},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			t.Parallel()
			fx := testcomponents.Fixture(t, tc.fixture)
			name := "fx-" + tc.fixture
			dir := filepath.Join(t.TempDir(), name)
			peer := writeFixtureClient(t, root, fx, tc.fixture, name, dir)
			fb := &firstBox{t: t, bin: bin, root: root, dir: dir, data: t.TempDir()}
			fb.do(step{"wbox build", ""})
			if err := os.WriteFile(filepath.Join(dir, "fixture.wasm"), mustRead(t, fx), 0o644); err != nil {
				t.Fatal(err)
			}
			topo := "boxes:\n  " + name + ":\n    component: " + name + ".wasm\n  fixture:\n    component: fixture.wasm\n"
			arrows := "arrows:\n  - {from: " + name + "." + peer.iface + ", to: fixture}\n"
			if peer.needed {
				topo += "  peer:\n    component: " + name + ".wasm\n"
				arrows += "  - {from: fixture." + peer.iface + ", to: peer}\n  - {from: peer." + peer.iface + ", to: fixture}\n"
			}
			if err := os.WriteFile(filepath.Join(dir, "topology.yaml"), []byte(topo+arrows), 0o644); err != nil {
				t.Fatal(err)
			}
			fb.do(step{"wbox up topology.yaml", "wbox is up"})
			out := fb.output(step{"wbox invoke " + name + " run", "ok "})
			if strings.Contains(out, "FAIL") {
				t.Fatalf("round trips through %s failed:\n%s", tc.fixture, out)
			}
			if n := strings.Count(out, `"ok `); n < tc.checks {
				t.Fatalf("%d checks passed, want at least %d:\n%s", n, tc.checks, out)
			}
			t.Logf("%s: %d round trips checked", tc.fixture, strings.Count(out, `"ok `))
		})
	}
	// Fixtures the test cannot use, and why.
	for fixture, why := range map[string]string{
		"strings":                    "exports only world-level functions, which arrows cannot bind",
		"many-arguments":             "exports only a world-level function, which arrows cannot bind",
		"smoke":                      "exports only a world-level function, which arrows cannot bind",
		"resources":                  "exports an unnamed (inline) interface; not attempted",
		"resource-borrow-simple":     "imports a world-level function, which wbox cannot bind, so it cannot be deployed",
		"resource-import-and-export": "imports a world-level function, which wbox cannot bind, so it cannot be deployed",
	} {
		t.Logf("skipped %s: %s", fixture, why)
	}
}

type fixturePeer struct {
	iface  string // the interface the client imports from the fixture
	needed bool   // the fixture imports it too: a peer box serves it
}

// writeFixtureClient writes the Go box project of a fixture's client into
// dir: the fixture's WIT package in wit/deps, a world importing its
// exported interface (and exporting it when the fixture imports it) and
// check.run, and the client's code from sdk/testdata/fxclient.
func writeFixtureClient(t *testing.T, root, fx, fixture, name, dir string) fixturePeer {
	t.Helper()
	res, err := sdk.LoadWIT(fx)
	if err != nil {
		t.Fatal(err)
	}
	var w *wit.World
	for _, x := range res.Worlds {
		if x.Package.Name.Namespace == "root" {
			w = x
		}
	}
	if w == nil {
		t.Fatalf("%s embeds no root world", fx)
	}
	var p fixturePeer
	var pkg *wit.Package
	for _, item := range w.Exports.All() {
		ref, ok := item.(*wit.InterfaceRef)
		if !ok {
			continue
		}
		i := ref.Interface
		if p.iface != "" {
			t.Fatalf("%s exports more than one interface", fixture)
		}
		pkg = i.Package
		p.iface = pkg.Name.Namespace + ":" + pkg.Name.Package + "/" + *i.Name
		if pkg.Name.Version != nil {
			p.iface += "@" + pkg.Name.Version.String()
		}
		for _, imp := range w.Imports.All() {
			if r, ok := imp.(*wit.InterfaceRef); ok && r.Interface == i {
				p.needed = true
			}
		}
	}
	if pkg == nil {
		t.Fatalf("%s exports no interface", fixture)
	}
	world := "package local:" + name + "@0.1.0;\n\n" +
		"/// run calls the fixture's functions and returns one line per check:\n" +
		"/// \"ok NAME\" or \"FAIL NAME: got X, want Y\".\n" +
		"interface check {\n  run: func() -> list<string>;\n}\n\n" +
		"world " + name + " {\n  import " + p.iface + ";\n"
	if p.needed {
		world += "  export " + p.iface + ";\n"
	}
	world += "  export check;\n}\n"
	mod := strings.ReplaceAll(name, "-", "")
	files := map[string]string{
		"wit/" + name + ".wit":    world,
		"wit/deps/fx/package.wit": pkg.WIT(nil, ""),
		"box.yaml":                "name: " + name + "\nlang: go\nwit: wit\nworld: " + name + "\n",
		"go.mod":                  "module " + mod + "\n\ngo 1.26\n",
		"main.go":                 string(mustRead(t, filepath.Join(root, "sdk", "testdata", "fxclient", fixture, "main.go"))),
	}
	for f, data := range files {
		path := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
