package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/wbox-dev/wbox/sdk"
)

// The SDK commands: wbox new, build, test and bindgen (logic in package sdk).

func runNew(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("new", "new NAME --lang go|c|js|as [--world plain|kv|http] [--dir DIR]\n\nCreates a box project in DIR (default ./NAME): WIT, source, a test, box.yaml and a topology.", stderr)
	lang := fs.String("lang", "", "the box's language: "+strings.Join(sdk.Languages, ", "))
	world := fs.String("world", "plain", "the kind of world: "+strings.Join(sdk.Worlds, ", "))
	dir := fs.String("dir", "", "the project directory (default ./NAME)")
	name, err := parseWithName(fs, args)
	if err != nil {
		return err
	}
	if name == "" || *lang == "" {
		fs.Usage()
		return exitCode(2)
	}
	if *dir == "" {
		*dir = name
	}
	files, err := sdk.New(*dir, sdk.NewOptions{Name: name, Lang: *lang, World: *world})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s (%s): %s\n", *dir, *lang, strings.Join(files, " "))
	fmt.Fprintf(stdout, "next: cd %s && wbox build && wbox test\n", *dir)
	return nil
}

// parseWithName parses flags placed before or after one positional NAME.
func parseWithName(fs interface {
	Parse([]string) error
	Args() []string
}, args []string) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return "", nil
	}
	name := rest[0]
	if err := fs.Parse(rest[1:]); err != nil {
		return "", err
	}
	if len(fs.Args()) > 0 {
		return "", fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return name, nil
}

func runBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("build", "build [--no-cache] [DIR]\n\nBuilds the box project in DIR (default .) into NAME.wasm.", stderr)
	noCache := fs.Bool("no-cache", false, "rebuild even if the build cache has the result")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir := "."
	if fs.NArg() > 1 {
		fs.Usage()
		return exitCode(2)
	} else if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	_, err := sdk.Build(ctx, dir, sdk.BuildOptions{Progress: stderr, NoCache: *noCache})
	return err
}

func runTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("test", "test [DIR]\n\nBuilds the box project in DIR (default .) and runs the calls listed under tests: in its box.yaml against the component.", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir := "."
	if fs.NArg() > 1 {
		fs.Usage()
		return exitCode(2)
	} else if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	if _, err := sdk.Build(ctx, dir, sdk.BuildOptions{Progress: stderr}); err != nil {
		return err
	}
	p, err := sdk.Load(dir)
	if err != nil {
		return err
	}
	return sdk.RunTests(ctx, p, sdk.TestOptions{Out: stdout, CacheDir: defaultCacheDir()})
}

func runBindgen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bindgen", "bindgen --lang go|c|as [--world W] [--module M] [--impl MOD] [--out DIR] WIT\n\nWrites bindings of a WIT world (WIT: a directory, a .wit file or a component) into DIR/gen:\nfor Go one package per interface and the runtime gen/cabi, for C gen/bindings.h and .c and the runtime gen/wbox.h and .c,\nfor AssemblyScript gen/bindings.ts (types, imports), gen/world.ts (exports' glue) and the runtime gen/cabi.ts.", stderr)
	lang := fs.String("lang", "go", "the bindings' language: go, c or as")
	impl := fs.String("impl", "../box", "AssemblyScript: the module, relative to gen/, that implements the exports")
	stub := fs.String("stub", "", "AssemblyScript: also write a skeleton of the exports' implementation to this file (not overwritten)")
	world := fs.String("world", "", "the world (default: the only one)")
	module := fs.String("module", "", "the Go module path of DIR (default: read from DIR/go.mod)")
	out := fs.String("out", ".", "the Go module's root directory")
	witPath, err := parseWithName(fs, args)
	if err != nil {
		return err
	}
	if witPath == "" {
		fs.Usage()
		return exitCode(2)
	}
	switch *lang {
	case "c":
		if err := sdk.BindgenC(witPath, *world, *out, ""); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(*out, "gen"))
		return nil
	case "as":
		if err := sdk.BindgenAS(witPath, *world, *impl, *out, ""); err != nil {
			return err
		}
		if *stub != "" {
			data, err := sdk.BindgenASStub(witPath, *world)
			if err != nil {
				return err
			}
			f, err := os.OpenFile(*stub, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return fmt.Errorf("--stub: %w", err)
			}
			_, err = f.Write(data)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("--stub: %w", err)
			}
			fmt.Fprintf(stdout, "wrote %s\n", *stub)
		}
		fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(*out, "gen"))
		return nil
	case "go":
	default:
		return fmt.Errorf("--lang %s: bindings are generated for go, c and as (JS boxes need none)", *lang)
	}
	if *module == "" {
		data, err := os.ReadFile(filepath.Join(*out, "go.mod"))
		if err != nil {
			return fmt.Errorf("no --module and %v", err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			if f := strings.Fields(l); len(f) == 2 && f[0] == "module" {
				*module = strings.Trim(f[1], `"`)
			}
		}
		if *module == "" {
			return fmt.Errorf("%s has no module line", filepath.Join(*out, "go.mod"))
		}
	}
	if err := sdk.BindgenGo(witPath, *world, *module, *out, ""); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(*out, "gen"))
	return nil
}

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dev", "dev [--data DIR] [PROJECT]\n\nBuilds the box project (default .), runs a node with its topology.yaml in the foreground,\nand rebuilds and redeploys the box whenever a source changes. Ctrl-C stops it.", stderr)
	data := dataFlag(fs)
	poll := fs.Duration("poll", 300*time.Millisecond, "how often to look for changed sources")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir := "."
	if fs.NArg() > 1 {
		fs.Usage()
		return exitCode(2)
	} else if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	p, err := sdk.Load(dir)
	if err != nil {
		return err
	}
	topo := filepath.Join(p.Dir, "topology.yaml")
	if _, err := os.Stat(topo); err != nil {
		return fmt.Errorf("%v: wbox dev runs the project's topology.yaml", err)
	}
	last, err := sdk.Fingerprint(p)
	if err != nil {
		return err
	}
	if _, err := sdk.Build(ctx, p.Dir, sdk.BuildOptions{Progress: stderr}); err != nil {
		return err
	}
	nodeCtx, stop := context.WithCancel(ctx)
	defer stop()
	up := &upWatcher{w: stdout, up: make(chan struct{})}
	errc := make(chan error, 1)
	go func() { errc <- runNodeWith(nodeCtx, *data, topo, logger(stderr, false), up, stderr) }()
	select {
	case err := <-errc:
		return err
	case <-up.up:
	}
	fmt.Fprintf(stdout, "wbox dev: watching %s; edit a source to rebuild and redeploy %s\n", p.Dir, p.Name)
	tick := time.NewTicker(*poll)
	defer tick.Stop()
	for {
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
			stop()
			return <-errc
		case <-tick.C:
		}
		fp, err := sdk.Fingerprint(p)
		if err != nil || fp == last {
			continue
		}
		last = fp
		if _, err := sdk.Build(ctx, p.Dir, sdk.BuildOptions{Progress: stderr}); err != nil {
			fmt.Fprintf(stderr, "wbox dev: %v\nwbox dev: the old %s keeps running; fix the source to try again\n", err, p.Name)
			continue
		}
		if err := runDeploy(ctx, []string{"--data", *data, topo}, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "wbox dev: deploy: %v\n", err)
		}
	}
}

// upWatcher passes output through and closes up once the node says it is up.
type upWatcher struct {
	w    io.Writer
	mu   sync.Mutex
	buf  []byte
	up   chan struct{}
	seen bool
}

func (u *upWatcher) Write(p []byte) (int, error) {
	u.mu.Lock()
	if !u.seen {
		u.buf = append(u.buf, p...)
		if strings.Contains(string(u.buf), "wbox is up") {
			u.seen = true
			u.buf = nil
			close(u.up)
		}
	}
	u.mu.Unlock()
	return u.w.Write(p)
}
