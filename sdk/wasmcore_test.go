package sdk

import (
	"bytes"
	"strings"
	"testing"
)

// A core module importing env.f and wasi_snapshot_preview1.fd_write, with
// a memory import, exporting a function and a memory.
var coreModule = module(
	sect(1, []byte{1, 0x60, 0, 0}), // type: () -> ()
	sect(2, cat([]byte{3},
		name("env"), name("f"), []byte{0, 0},
		name("wasi_snapshot_preview1"), name("fd_write"), []byte{0, 0},
		name("env"), name("mem"), []byte{2, 1, 1, 2})),
	sect(3, []byte{1, 0}), // one function of type 0
	sect(7, cat([]byte{2}, name("greet"), []byte{0, 2}, name("memory"), []byte{2, 0})),
	sect(10, []byte{1, 2, 0, 0x0b}), // one empty body
)

func module(sections ...[]byte) []byte {
	return cat(append([][]byte{{0, 'a', 's', 'm', 1, 0, 0, 0}}, sections...)...)
}

func sect(id byte, payload []byte) []byte { return cat([]byte{id, byte(len(payload))}, payload) }

func name(s string) []byte { return cat([]byte{byte(len(s))}, []byte(s)) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestImportModules(t *testing.T) {
	mods, err := importModules(coreModule)
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) != 2 || !mods["env"] || !mods["wasi_snapshot_preview1"] {
		t.Fatalf("import modules %v", mods)
	}
	if _, err := importModules(coreModule[:40]); err == nil {
		t.Error("a truncated module was accepted")
	}
	if _, err := importModules([]byte("not wasm")); err == nil {
		t.Error("garbage was accepted")
	}
}

func TestRewriteExports(t *testing.T) {
	out, err := rewriteExports(coreModule, func(name string) string {
		if name == "greet" {
			return "local:x/greet@0.1.0#greet"
		}
		return name
	})
	if err != nil {
		t.Fatal(err)
	}
	names, err := exportNames(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "local:x/greet@0.1.0#greet,memory" {
		t.Fatalf("exports %v", names)
	}
	// Everything before and after the export section is unchanged.
	if i := bytes.Index(out, name("local:x/greet@0.1.0#greet")); i < 0 || !bytes.Equal(out[:i-3], coreModule[:i-3]) {
		t.Error("sections before the exports changed")
	}
	if !bytes.HasSuffix(out, coreModule[len(coreModule)-6:]) {
		t.Error("sections after the exports changed")
	}
	if mods, err := importModules(out); err != nil || len(mods) != 2 {
		t.Errorf("imports after rewriting: %v, %v", mods, err)
	}
}
