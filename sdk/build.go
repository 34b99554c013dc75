package sdk

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

//go:embed node/driver.mjs
var driverJS []byte

// recipe versions the build steps: bump it when flags, templates or the
// driver change in a way that changes outputs, so cached builds are redone.
const recipe = "sdk-2"

// BuildOptions configure Build.
type BuildOptions struct {
	// Progress receives one line per slow step; nil discards them.
	Progress io.Writer
	// NoCache rebuilds even when the build cache has the result.
	NoCache bool
	// CacheDir holds finished builds by content key; empty means
	// $WBOX_BUILD_CACHE or the user cache dir's wbox/components.
	CacheDir string
}

// Build builds the box project in dir into NAME.wasm and returns its path.
func Build(ctx context.Context, dir string, opts BuildOptions) (string, error) {
	p, err := Load(dir)
	if err != nil {
		return "", err
	}
	b := &builder{p: p, opts: opts, progress: opts.Progress}
	if b.progress == nil {
		b.progress = io.Discard
	}
	return b.build(ctx)
}

type builder struct {
	p        *Project
	opts     BuildOptions
	progress io.Writer
	nm       string // node_modules
	work     string // scratch directory
}

// step runs one slow step with a progress line.
func (b *builder) step(what string, f func() error) error {
	fmt.Fprintf(b.progress, "%s: %s... ", b.p.Name, what)
	start := time.Now()
	if err := f(); err != nil {
		fmt.Fprintln(b.progress, "failed")
		return err
	}
	fmt.Fprintf(b.progress, "ok (%.1fs)\n", time.Since(start).Seconds())
	return nil
}

func (b *builder) build(ctx context.Context) (string, error) {
	var err error
	if b.nm, err = NodeModules(b.p.Dir); err != nil {
		return "", err
	}
	if _, err := lookTool("node"); err != nil {
		return "", err
	}
	if _, err := os.Stat(b.p.WITDir()); err != nil {
		return "", fmt.Errorf("the WIT directory %s: %v", b.p.WITDir(), err)
	}
	// Tool checks come first, so a missing toolchain is reported as such
	// even when the cache could have served the build.
	var tools []string
	switch b.p.Lang {
	case "go":
		g, err := lookTool("go")
		if err != nil {
			return "", err
		}
		tools = append(tools, identity(ctx, "go", g, "version"))
		// Bindings are needed by `go test` too, so they are refreshed
		// even when the component comes from the cache.
		if err := b.step("Go bindings", func() error { return GenerateGo(b.p, false) }); err != nil {
			return "", err
		}
	case "c":
		c, err := lookTool("clang")
		if err != nil {
			return "", err
		}
		if err := checkClangWasm(); err != nil {
			return "", err
		}
		tools = append(tools, identity(ctx, "clang", c, "--version"))
		if err := b.step("C bindings", func() error { return GenerateC(b.p, false) }); err != nil {
			return "", err
		}
	case "as":
		if _, err := os.Stat(filepath.Join(b.nm, "assemblyscript", "bin", "asc.js")); err != nil {
			return "", &ToolError{"asc", "AssemblyScript (asc) not found in " + b.nm + ": " + npmHint}
		}
		if err := b.step("AssemblyScript bindings", func() error { return GenerateAS(b.p, false) }); err != nil {
			return "", err
		}
	}
	lock, _ := os.ReadFile(filepath.Join(b.nm, ".package-lock.json"))
	tools = append(tools, string(lock))

	key, err := b.key(tools)
	if err != nil {
		return "", err
	}
	cacheDir := b.opts.CacheDir
	if cacheDir == "" {
		cacheDir = DefaultCacheDir()
	}
	cached := filepath.Join(cacheDir, "box-"+key+".wasm")
	out := b.p.Output()
	if !b.opts.NoCache {
		if data, err := os.ReadFile(cached); err == nil {
			if err := writeFileAtomic(out, data); err != nil {
				return "", err
			}
			fmt.Fprintf(b.progress, "%s: cached, %s (%d bytes)\n", b.p.Name, rel(out), len(data))
			return out, nil
		}
	}

	if b.work, err = os.MkdirTemp("", "wbox-build-"); err != nil {
		return "", err
	}
	defer os.RemoveAll(b.work)
	if err := os.WriteFile(filepath.Join(b.work, "driver.mjs"), driverJS, 0o644); err != nil {
		return "", err
	}
	comp := filepath.Join(b.work, "component.wasm")
	switch b.p.Lang {
	case "go":
		err = b.buildGo(ctx, comp)
	case "c":
		err = b.buildC(ctx, comp)
	case "js":
		err = b.buildJS(ctx, comp)
	case "as":
		err = b.buildAS(ctx, comp)
	}
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(comp)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(cacheDir, 0o755); err == nil {
		_ = writeFileAtomic(cached, data)
	}
	if err := writeFileAtomic(out, data); err != nil {
		return "", err
	}
	fmt.Fprintf(b.progress, "%s: built %s (%d bytes)\n", b.p.Name, rel(out), len(data))
	return out, nil
}

// DefaultCacheDir is where finished builds are kept: $WBOX_BUILD_CACHE, or
// wbox/components in the user's cache directory (shared with
// components/build.sh; keys never collide).
func DefaultCacheDir() string {
	if d := os.Getenv("WBOX_BUILD_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "wbox", "components")
	}
	return filepath.Join(os.TempDir(), "wbox-components")
}

func rel(path string) string {
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
	}
	return path
}

// key hashes everything the build depends on: the recipe, the toolchain
// identities, the runtime files wbox writes, and the project's sources
// (names and contents), except what builds write or nothing reads.
func (b *builder) key(tools []string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", recipe, b.p.Lang, b.p.World)
	for _, t := range tools {
		fmt.Fprintf(h, "tool %d\x00%s", len(t), t)
	}
	h.Write(driverJS)
	h.Write(exeDigest()) // templates and generators are part of wbox
	files, err := sourceFiles(b.p)
	if err != nil {
		return "", err
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(b.p.Dir, f))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "file %s %d\x00", filepath.ToSlash(f), len(data))
		h.Write(data)
	}
	if b.p.Lang == "go" {
		h.Write(cabiDigest())
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

// writeFileAtomic writes data to path through a unique temporary file, so
// that concurrent builds never see a partial file.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp.*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// node runs the driver (see node/driver.mjs).
func (b *builder) node(ctx context.Context, args ...string) error {
	node, err := lookTool("node")
	if err != nil {
		return err
	}
	return run(ctx, b.work, []string{"WBOX_NODE_MODULES=" + b.nm},
		node, append([]string{filepath.Join(b.work, "driver.mjs")}, args...)...)
}

// componentize embeds the project's WIT world into core and wraps it into a
// component at out, adding the preview1 reactor adapter when core imports
// wasi_snapshot_preview1 (Go's runtime, or C code using stdio).
func (b *builder) componentize(ctx context.Context, core, out string) error {
	data, err := os.ReadFile(core)
	if err != nil {
		return err
	}
	mods, err := importModules(data)
	if err != nil {
		return fmt.Errorf("%s: %v", core, err)
	}
	adapter := "none"
	if mods["wasi_snapshot_preview1"] {
		adapter = "reactor"
	}
	return b.step("component (jco embed + new)", func() error {
		return b.node(ctx, "component", core, out, b.p.WITDir(), b.p.World, adapter)
	})
}

func (b *builder) buildGo(ctx context.Context, out string) error {
	g, _ := lookTool("go")
	core := filepath.Join(b.work, "core.wasm")
	err := b.step("go build (GOOS=wasip1)", func() error {
		return run(ctx, b.p.Dir, []string{"GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOWORK=off",
			"GOFLAGS=-trimpath", "GOTOOLCHAIN=local", "GOPROXY=off"},
			g, "build", "-buildmode=c-shared", "-ldflags=-s -w", "-o", core, ".")
	})
	if err != nil {
		return err
	}
	return b.componentize(ctx, core, out)
}

func (b *builder) buildC(ctx context.Context, out string) error {
	var srcs []string
	entries, err := os.ReadDir(b.p.Dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".c") && !strings.HasSuffix(n, "_test.c") {
			srcs = append(srcs, n)
		}
	}
	if len(srcs) == 0 {
		return fmt.Errorf("no .c files in %s", b.p.Dir)
	}
	gen, _ := filepath.Glob(filepath.Join(b.p.Dir, "gen", "*.c"))
	for _, g := range gen {
		srcs = append(srcs, filepath.Join("gen", filepath.Base(g)))
	}
	core := filepath.Join(b.work, "core.wasm")
	c, _ := lookTool("clang")
	// Reactor: no main; _initialize runs constructors. -Oz -s: ~10 KB.
	args := append([]string{"--target=wasm32-wasi", "--sysroot=/usr", "-mexec-model=reactor",
		"-Oz", "-s", "-Wall", "-Wextra", "-Igen", "-o", core}, srcs...)
	if err := b.step("clang (wasm32-wasi)", func() error { return run(ctx, b.p.Dir, nil, c, args...) }); err != nil {
		return err
	}
	return b.componentize(ctx, core, out)
}

func (b *builder) buildJS(ctx context.Context, out string) error {
	src := filepath.Join(b.p.Dir, b.p.Name+".js")
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("the box's source %s: %v", src, err)
	}
	if b.p.Template == "http" {
		// A fetch event handler needs StarlingMonkey, whose http feature
		// exports wasi:http/incoming-handler: ~12 MB, ~40 s.
		return b.step("componentize-js (StarlingMonkey, ~40s)", func() error {
			return b.node(ctx, "jco", "componentize", src, "--wit", b.p.WITDir(), "-n", b.p.World, "-o", out)
		})
	}
	// QuickJS engine, synchronous ABI, WASI stubbed: a ~1.6 MB component
	// with no WASI imports (StarlingMonkey's is ~12 MB and imports WASI).
	return b.step("componentize-js (QuickJS)", func() error {
		return b.node(ctx, "jco", "componentize", src, "--wit", b.p.WITDir(), "-n", b.p.World,
			"--backend", "quickjs", "--backend-qjs-disable-async", "--backend-qjs-stub-wasi", "-o", out)
	})
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func (b *builder) buildAS(ctx context.Context, out string) error {
	src := filepath.Join(b.p.Dir, b.p.Name+".ts")
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("the box's source %s: %v", src, err)
	}
	// The world's exports, to rename IFACE_FUNC to IFACE#FUNC.
	var renames map[string]string
	err := b.step("WIT exports", func() error {
		res, err := LoadWIT(b.p.WITDir())
		if err != nil {
			return err
		}
		renames, err = exportRenames(res, b.p.World)
		return err
	})
	if err != nil {
		return err
	}
	node, err := lookTool("node")
	if err != nil {
		return err
	}
	asc := filepath.Join(b.nm, "assemblyscript", "bin", "asc.js")
	raw := filepath.Join(b.work, "raw.wasm")
	// The module compiled is gen/world.ts, the exports' glue, which calls
	// the box's code in NAME.ts. Incremental GC runtime (strings are
	// managed); abort traps instead of importing env.abort.
	entry := filepath.Join("gen", "world.ts")
	err = b.step("asc (AssemblyScript)", func() error {
		return run(ctx, b.p.Dir, nil, node, asc, entry, "--outFile", raw, "--runtime", "incremental",
			"--optimize", "--noAssert", "--use", "abort=", "--exportStart", "_initialize")
	})
	if err != nil {
		return err
	}
	data, err := os.ReadFile(raw)
	if err != nil {
		return err
	}
	var unknown []string
	data, err = rewriteExports(data, func(name string) string {
		if r, ok := renames[name]; ok {
			return r
		}
		switch name {
		case "memory", "cabi_realloc", "_initialize":
		default:
			unknown = append(unknown, name)
		}
		return name
	})
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		var want []string
		for k := range renames {
			want = append(want, k)
		}
		sort.Strings(want)
		return fmt.Errorf("%s exports %s, which the world %s does not export (exports must be named IFACE_FUNC or cabi_post_IFACE_FUNC: %s)",
			entry, strings.Join(unknown, ", "), b.p.World, strings.Join(want, ", "))
	}
	core := filepath.Join(b.work, "core.wasm")
	if err := os.WriteFile(core, data, 0o644); err != nil {
		return err
	}
	return b.componentize(ctx, core, out)
}

// sourceFiles lists the project's files a build reads (relative, sorted):
// all but outputs, generated code, tests and docs.
func sourceFiles(p *Project) ([]string, error) {
	var files []string
	err := filepath.WalkDir(p.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(p.Dir, path)
		if d.IsDir() {
			switch r {
			case ".git", "node_modules", "gen", ".wbox":
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case r == "README.md", r == "topology.yaml", strings.HasSuffix(r, ".wasm"),
			strings.HasSuffix(r, "_test.go"), strings.HasSuffix(r, ".test.mjs"), strings.Contains(r, ".tmp."):
			return nil
		}
		files = append(files, r)
		return nil
	})
	sort.Strings(files)
	return files, err
}

// Fingerprint summarises the project's sources by name, size and
// modification time: `wbox dev` rebuilds when it changes.
func Fingerprint(p *Project) (string, error) {
	files, err := sourceFiles(p)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, f := range files {
		fi, err := os.Stat(filepath.Join(p.Dir, f))
		if err != nil {
			continue // removed meanwhile: the next poll sees it
		}
		fmt.Fprintf(h, "%s %d %d\x00", f, fi.Size(), fi.ModTime().UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
