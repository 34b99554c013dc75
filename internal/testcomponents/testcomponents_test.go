package testcomponents

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestFixtureFindsAdder(t *testing.T) {
	p := Fixture(t, "adder")
	if !filepath.IsAbs(p) {
		t.Fatalf("Fixture returned relative path %q", p)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// Component preamble: magic, version 0x0d, layer 1.
	if want := []byte("\x00asm\x0d\x00\x01\x00"); !bytes.HasPrefix(data, want) {
		t.Fatalf("%s does not start with a component preamble: % x", p, data[:min(8, len(data))])
	}
}

func TestRepoRoot(t *testing.T) {
	if _, err := os.Stat(filepath.Join(RepoRoot(t), "components", "build.sh")); err != nil {
		t.Fatal(err)
	}
}

func TestPathEcho(t *testing.T) {
	// Skips (or fails under CI) until `make components` has run.
	p := Path(t, "echo-c")
	if filepath.Base(p) != "echo-c.wasm" || !filepath.IsAbs(p) {
		t.Fatalf("Path = %q", p)
	}
}
