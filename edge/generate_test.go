package edge

import (
	"errors"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The generated main package is for GOOS=tamago only, imports the board's
// package, and (the board import aside, which needs tamago-go's runtime)
// type-checks against this source tree with the tamago build tag.
func TestGenerateTypeChecks(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks a generated package with go vet")
	}
	src := FindSource(".")
	if src == "" {
		t.Fatal("FindSource(.) found no wbox module above the edge package")
	}
	for _, b := range Boards {
		t.Run(b.Name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "bundle"), 0o755); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "bundle", "manifest.json"), []byte("{}"), 0o644)
			if err := Generate(dir, GenerateOptions{Board: b, Source: src}); err != nil {
				t.Fatal(err)
			}
			main, err := os.ReadFile(filepath.Join(dir, "main.go"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(main), "//go:build tamago\n") {
				t.Errorf("main.go does not start with the tamago build tag:\n%.80s", main)
			}
			f, err := parser.ParseFile(token.NewFileSet(), "main.go", main, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			var imports []string
			for _, i := range f.Imports {
				imports = append(imports, strings.Trim(i.Path.Value, `"`))
			}
			if !strings.Contains(strings.Join(imports, " "), b.Import) {
				t.Errorf("main.go imports %v, not the board package %s", imports, b.Import)
			}
			mod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
			if !strings.Contains(string(mod), "github.com/usbarmory/tamago "+TamagoVersion) || !strings.Contains(string(mod), "replace github.com/wbox-dev/wbox => "+src) {
				t.Errorf("go.mod:\n%s", mod)
			}

			// Without tamago-go the board package cannot compile; the rest
			// of the image must.
			portable := strings.Replace(string(main), "\t_ \""+b.Import+"\"\n", "", 1)
			os.WriteFile(filepath.Join(dir, "main.go"), []byte(portable), 0o644)
			os.WriteFile(filepath.Join(dir, "go.mod"), []byte(strings.Replace(string(mod), "\tgithub.com/usbarmory/tamago "+TamagoVersion+"\n", "", 1)), 0o644)
			cmd := exec.Command("go", "vet", "-tags", "tamago", ".")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go vet -tags tamago of the generated package: %v\n%s", err, out)
			}
		})
	}
}

// Building an image needs tamago-go; without it the test says what is
// missing and how to get it.
func TestBuildImage(t *testing.T) {
	tc, err := FindToolchain()
	if errors.Is(err, ErrNoToolchain) {
		t.Skipf("needs tamago-go: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	topo := filepath.Join(dir, "topology.yaml")
	os.WriteFile(topo, []byte("boxes: {}\n"), 0o644)
	b, _ := BoardNamed("microvm-tcg")
	if _, err := Write(t.Context(), topo, filepath.Join(dir, "bundle"), WriteOptions{Board: b.Name}); err != nil {
		t.Fatal(err)
	}
	if err := Generate(dir, GenerateOptions{Board: b, Source: FindSource(".")}); err != nil {
		t.Fatal(err)
	}
	img, err := Build(t.Context(), tc, dir, b)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(img); err != nil || fi.Size() == 0 {
		t.Fatalf("image %s: %v", img, err)
	}
}
