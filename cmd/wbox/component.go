package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/wbox-dev/wbox/wasmhost"
)

// runtimeFlags are the flags of every command that loads a component.
type runtimeFlags struct {
	cacheDir string
	noCache  bool
}

func (f *runtimeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.cacheDir, "cache", defaultCacheDir(), "directory for compiled code")
	fs.BoolVar(&f.noCache, "no-cache", false, "do not cache compiled code on disk")
}

func defaultCacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "wbox", "compiled")
	}
	return ""
}

// load reads, decodes and compiles a component, with a progress line on a
// terminal for large ones.
func (f *runtimeFlags) load(ctx context.Context, path string, stderr io.Writer) (*wasmhost.Runtime, *wasmhost.Component, error) {
	wasm, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	cfg := wasmhost.Config{}
	if !f.noCache {
		cfg.CacheDir = f.cacheDir
	}
	if isTerminal(stderr) && len(wasm) > 1<<20 {
		start := time.Now()
		cfg.Progress = func(p wasmhost.Progress) {
			fmt.Fprintf(stderr, "\rcompiling %s: module %d/%d, %.1f/%.1f MB, %.1fs ", filepath.Base(path),
				p.Done, p.Total, float64(p.Bytes)/1e6, float64(p.TotalBytes)/1e6, time.Since(start).Seconds())
			if p.Done == p.Total {
				fmt.Fprintln(stderr)
			}
		}
	}
	rt, err := wasmhost.NewRuntime(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	c, err := rt.Load(ctx, wasm)
	if err != nil {
		rt.Close(ctx)
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return rt, c, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func runInspect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect", "inspect FILE.wasm", stderr)
	var rf runtimeFlags
	rf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitCode(2)
	}
	rt, c, err := rf.load(ctx, fs.Arg(0), stderr)
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	fmt.Fprintf(stdout, "// %s\n// %s\n", fs.Arg(0), c.Digest())
	fmt.Fprint(stdout, c.World().WIT())
	return nil
}
