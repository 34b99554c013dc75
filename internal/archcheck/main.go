// Command archcheck type-checks Go packages and every package they import
// for other platforms (GOOS/GOARCH, cgo off), from source and without
// compiling: the errors `go build` would report for those platforms — an
// untyped constant overflowing a 32-bit int, a symbol only some build tags
// define, a function without a body where no assembly provides one — in a
// fraction of a cold cross build's time. CI runs it (`make cross-check`);
// `make cross` builds the real binaries.
//
// Usage: go run ./internal/archcheck [-targets linux/arm,...] PACKAGE...
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	targets := flag.String("targets", "linux/amd64,linux/arm64,linux/arm,linux/riscv64", "comma-separated GOOS/GOARCH pairs")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: archcheck [-targets GOOS/GOARCH,...] PACKAGE...")
		os.Exit(2)
	}
	failed := false
	for _, t := range strings.Split(*targets, ",") {
		goos, goarch, ok := strings.Cut(strings.TrimSpace(t), "/")
		if !ok {
			fmt.Fprintf(os.Stderr, "archcheck: target %q: want GOOS/GOARCH\n", t)
			os.Exit(2)
		}
		n, err := check(goos, goarch, flag.Args())
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s/%s: %v\n", goos, goarch, err)
			failed = true
			continue
		}
		fmt.Printf("%s/%s: %d packages type-check\n", goos, goarch, n)
	}
	if failed {
		os.Exit(1)
	}
}

// listed is what `go list -json` says of a package.
type listed struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	SFiles     []string
	ImportMap  map[string]string
	Standard   bool
	Error      *struct{ Err string }
}

// check type-checks the packages matching patterns and their dependencies
// for goos/goarch and returns how many packages it checked.
func check(goos, goarch string, patterns []string) (int, error) {
	cmd := exec.Command("go", append([]string{"list", "-e", "-deps", "-json=ImportPath,Dir,GoFiles,SFiles,ImportMap,Standard,Error"}, patterns...)...)
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("go list: %v: %s", err, stderr.String())
	}
	sizes := types.SizesFor("gc", goarch)
	if sizes == nil {
		return 0, fmt.Errorf("unknown GOARCH %q", goarch)
	}
	fset := token.NewFileSet()
	checked := map[string]*types.Package{"unsafe": types.Unsafe}
	var errs []string
	n := 0
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return n, fmt.Errorf("go list output: %w", err)
		}
		if p.ImportPath == "unsafe" {
			continue
		}
		if p.Error != nil {
			errs = append(errs, fmt.Sprintf("%s: %s", p.ImportPath, p.Error.Err))
			continue
		}
		mode := parser.SkipObjectResolution
		if !p.Standard {
			mode |= parser.ParseComments // for //go:linkname
		}
		var files []*ast.File
		for _, f := range p.GoFiles {
			af, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, mode)
			if err != nil {
				return n, err
			}
			files = append(files, af)
		}
		var perrs []string
		conf := types.Config{
			Sizes: sizes,
			Importer: importerFunc(func(path string) (*types.Package, error) {
				if m, ok := p.ImportMap[path]; ok {
					path = m
				}
				if pkg := checked[path]; pkg != nil {
					return pkg, nil
				}
				return nil, fmt.Errorf("package %s not checked (yet)", path)
			}),
			Error: func(err error) {
				if len(perrs) < 10 {
					perrs = append(perrs, err.Error())
				}
			},
		}
		pkg, _ := conf.Check(p.ImportPath, fset, files, nil)
		checked[p.ImportPath] = pkg
		n++
		if !p.Standard && len(p.SFiles) == 0 {
			perrs = append(perrs, missingBodies(fset, files)...)
		}
		errs = append(errs, perrs...)
	}
	if len(errs) > 0 {
		return n, errors.New(strings.Join(errs, "\n"))
	}
	return n, nil
}

// missingBodies finds functions declared without a body in a package
// without assembly: the compiler refuses them unless //go:linkname
// supplies one.
func missingBodies(fset *token.FileSet, files []*ast.File) []string {
	var errs []string
	for _, f := range files {
		linked := false
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if strings.HasPrefix(c.Text, "//go:linkname ") {
					linked = true
				}
			}
		}
		if linked {
			continue
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body == nil {
				errs = append(errs, fmt.Sprintf("%s: missing function body", fset.Position(fd.Pos())))
			}
		}
	}
	return errs
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }
