package sdk

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"

	"github.com/wbox-dev/wbox/sdk/bindgen"
	"go.bytecodealliance.org/wit"
)

//go:embed go/cabi/*.go
var cabiFS embed.FS

// genVersion versions the Go generator's output (part of gen/'s stamp).
const genVersion = "bindgen-1"

// cabiDigest hashes the embedded runtime package.
var cabiDigest = sync.OnceValue(func() []byte {
	h := sha256.New()
	entries, _ := fs.ReadDir(cabiFS, "go/cabi")
	for _, e := range entries {
		data, _ := cabiFS.ReadFile("go/cabi/" + e.Name())
		fmt.Fprintf(h, "%s %d\x00", e.Name(), len(data))
		h.Write(data)
	}
	return h.Sum(nil)
})

var moduleRE = regexp.MustCompile(`(?m)^module\s+("?)([^\s"]+)("?)\s*$`)

// goModule returns the module path declared in dir/go.mod.
func goModule(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("a Go box needs a go.mod: %v", err)
	}
	m := moduleRE.FindSubmatch(data)
	if m == nil {
		return "", fmt.Errorf("%s: no module line", filepath.Join(dir, "go.mod"))
	}
	return string(m[2]), nil
}

// GenerateGo (re)writes a Go box's gen/ directory: the bindings of its
// world and the runtime package gen/cabi. It does nothing when gen/ is up
// to date with the WIT and this wbox (gen/.stamp), unless force.
func GenerateGo(p *Project, force bool) error {
	mod, err := goModule(p.Dir)
	if err != nil {
		return err
	}
	stamp, err := witStamp(p, mod)
	if err != nil {
		return err
	}
	gen := filepath.Join(p.Dir, "gen")
	if old, err := os.ReadFile(filepath.Join(gen, ".stamp")); err == nil && !force && string(old) == stamp {
		return nil
	}
	return BindgenGo(p.WITDir(), p.World, mod, p.Dir, stamp)
}

// BindgenGo writes the Go bindings of a WIT world for module mod into
// outDir/gen (replacing it), with the runtime in outDir/gen/cabi.
func BindgenGo(witPath, world, mod, outDir, stamp string) error {
	res, err := LoadWIT(witPath)
	if err != nil {
		return err
	}
	files, err := bindgen.Generate(bindgen.Options{Resolve: res, World: world, Module: mod})
	if err != nil {
		return err
	}
	entries, _ := fs.ReadDir(cabiFS, "go/cabi")
	for _, e := range entries {
		data, _ := cabiFS.ReadFile("go/cabi/" + e.Name())
		files = append(files, bindgen.File{Path: "gen/cabi/" + e.Name(),
			Data: append([]byte("// Code copied by wbox from its sdk/go/cabi. DO NOT EDIT.\n\n"), data...)})
	}
	return writeGen(outDir, files, stamp)
}

// LoadWIT loads a WIT directory or file with go.bytecodealliance.org/wit
// (which runs wasm-tools on wazero: the first call on a machine compiles it,
// a few seconds; later calls take a fraction of a second).
func LoadWIT(path string) (*wit.Resolve, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	res, err := wit.LoadWIT(abs)
	if err != nil {
		return nil, fmt.Errorf("loading the WIT in %s: %v", path, err)
	}
	return res, nil
}

// exeDigest hashes the running executable, so that a new wbox (a new
// generator) regenerates gen/.
var exeDigest = sync.OnceValue(func() []byte {
	h := sha256.New()
	if exe, err := os.Executable(); err == nil {
		if f, err := os.Open(exe); err == nil {
			defer f.Close()
			_, _ = io.Copy(h, f)
		}
	}
	return h.Sum(nil)
})

// witStamp hashes what gen/ is made from.
func witStamp(p *Project, mod string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", genVersion, mod, p.World)
	h.Write(exeDigest())
	h.Write(cabiDigest())
	var files []string
	err := filepath.WalkDir(p.WITDir(), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		r, _ := filepath.Rel(p.WITDir(), f)
		fmt.Fprintf(h, "%s %d\x00", r, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

//go:embed c/wbox.h c/wbox.c
var cRuntimeFS embed.FS

// GenerateC (re)writes a C box's gen/ directory: bindings.h and
// bindings.c for its world and the runtime wbox.h and wbox.c, unless gen/
// is up to date (gen/.stamp) and not force.
func GenerateC(p *Project, force bool) error {
	stamp, err := witStamp(p, "c")
	if err != nil {
		return err
	}
	gen := filepath.Join(p.Dir, "gen")
	if old, err := os.ReadFile(filepath.Join(gen, ".stamp")); err == nil && !force && string(old) == stamp {
		return nil
	}
	return BindgenC(p.WITDir(), p.World, p.Dir, stamp)
}

// BindgenC writes the C bindings of a WIT world into outDir/gen
// (replacing it), with the runtime wbox.h and wbox.c.
func BindgenC(witPath, world, outDir, stamp string) error {
	res, err := LoadWIT(witPath)
	if err != nil {
		return err
	}
	files, err := bindgen.GenerateC(bindgen.Options{Resolve: res, World: world})
	if err != nil {
		return err
	}
	for _, n := range []string{"wbox.h", "wbox.c"} {
		data, _ := cRuntimeFS.ReadFile("c/" + n)
		files = append(files, bindgen.File{Path: "gen/" + n, Data: data})
	}
	return writeGen(outDir, files, stamp)
}

//go:embed as/cabi.ts
var asRuntime []byte

// GenerateAS (re)writes an AssemblyScript box's gen/ directory:
// bindings.ts and world.ts for its world (the box's code is NAME.ts) and
// the runtime cabi.ts, unless gen/ is up to date (gen/.stamp) and not
// force.
func GenerateAS(p *Project, force bool) error {
	stamp, err := witStamp(p, "as")
	if err != nil {
		return err
	}
	gen := filepath.Join(p.Dir, "gen")
	if old, err := os.ReadFile(filepath.Join(gen, ".stamp")); err == nil && !force && string(old) == stamp {
		return nil
	}
	return BindgenAS(p.WITDir(), p.World, "../"+p.Name, p.Dir, stamp)
}

// BindgenAS writes the AssemblyScript bindings of a WIT world into
// outDir/gen (replacing it), with the runtime cabi.ts; impl is the module
// (relative to gen/) that implements the exports.
func BindgenAS(witPath, world, impl, outDir, stamp string) error {
	res, err := LoadWIT(witPath)
	if err != nil {
		return err
	}
	files, err := bindgen.GenerateAS(bindgen.Options{Resolve: res, World: world, Impl: impl})
	if err != nil {
		return err
	}
	files = append(files, bindgen.File{Path: "gen/cabi.ts", Data: asRuntime})
	return writeGen(outDir, files, stamp)
}

// BindgenASStub returns a skeleton of the module implementing a WIT
// world's exports in AssemblyScript (each function throws "not
// implemented").
func BindgenASStub(witPath, world string) ([]byte, error) {
	res, err := LoadWIT(witPath)
	if err != nil {
		return nil, err
	}
	return bindgen.GenerateASStub(bindgen.Options{Resolve: res, World: world})
}

// writeGen replaces outDir/gen with files (paths relative to outDir).
func writeGen(outDir string, files []bindgen.File, stamp string) error {
	gen := filepath.Join(outDir, "gen")
	if err := os.RemoveAll(gen); err != nil {
		return err
	}
	for _, f := range files {
		path := filepath.Join(outDir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			return err
		}
	}
	if stamp != "" {
		if err := os.MkdirAll(gen, 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(gen, ".stamp"), []byte(stamp), 0o644)
	}
	return nil
}
