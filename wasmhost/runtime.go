package wasmhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/wbox-dev/wbox/wasmhost/internal/binary"
)

// Config configures a Runtime.
type Config struct {
	// CacheDir, when set, keeps compiled machine code on disk there, so the
	// second load of a component skips compilation.
	CacheDir string
	// MemoryLimitPages caps every linear memory (64 KiB pages); 0 means the
	// wazero default (4 GiB).
	MemoryLimitPages uint32
	// Interruptible makes a cancelled or expired call context stop guest
	// code that is running, so a deadline can end a runaway loop. It costs
	// a goroutine per guest call (wazero watches the context), so it is off
	// unless asked for; the kernel turns it on for boxes.
	Interruptible bool
	// Interpreter selects wazero's interpreter instead of its compiler, for
	// platforms without the compiler (TamaGo, unsupported architectures).
	Interpreter bool
	// Progress, when set, is called while Load compiles core modules, so a
	// CLI can show progress for large components.
	Progress func(p Progress)
	// Logger receives debug logs; nil means slog.Default().
	Logger *slog.Logger
}

// Progress reports compilation progress: module Done of Total has been
// compiled, Bytes of TotalBytes.
type Progress struct {
	Done, Total       int
	Bytes, TotalBytes int
	Elapsed           time.Duration
}

// Runtime compiles and runs components. It is safe for concurrent use.
type Runtime struct {
	cfg   Config
	rt    wazero.Runtime
	cache wazero.CompilationCache
	log   *slog.Logger

	mu     sync.Mutex
	shapes map[string]wazero.CompiledModule // re-export modules by binary
	trees  sync.Map                         // api.Module -> *tree, for dispatch
}

// NewRuntime returns a runtime. Close it to free compiled code.
func NewRuntime(ctx context.Context, cfg Config) (*Runtime, error) {
	rc := wazero.NewRuntimeConfig()
	if cfg.Interpreter {
		rc = wazero.NewRuntimeConfigInterpreter()
	}
	if cfg.Interruptible {
		rc = rc.WithCloseOnContextDone(true)
	}
	// Real toolchains emit these post-2.0 features: componentize-js's
	// QuickJS build uses extended constant expressions, for one.
	rc = rc.WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExtendedConst | experimental.CoreFeaturesTailCall)
	if cfg.MemoryLimitPages > 0 {
		rc = rc.WithMemoryLimitPages(cfg.MemoryLimitPages)
	}
	r := &Runtime{cfg: cfg, log: cfg.Logger, shapes: map[string]wazero.CompiledModule{}}
	if r.log == nil {
		r.log = slog.Default()
	}
	if cfg.CacheDir != "" {
		if err := os.MkdirAll(cfg.CacheDir, 0o755); err != nil {
			return nil, fmt.Errorf("compilation cache: %w", err)
		}
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("compilation cache %s: %w", cfg.CacheDir, err)
		}
		r.cache = c
		rc = rc.WithCompilationCache(c)
	}
	r.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	return r, nil
}

// Close releases everything the runtime compiled and instantiated.
func (r *Runtime) Close(ctx context.Context) error {
	err := r.rt.Close(ctx)
	if r.cache != nil {
		err = errors.Join(err, r.cache.Close(ctx))
	}
	return err
}

// Component is a decoded and compiled component, ready to instantiate any
// number of times.
type Component struct {
	mu       sync.Mutex
	hostMods map[string]wazero.CompiledModule // canonical functions, shared by instances
	rt       *Runtime
	ast      *binary.Component
	modules  map[*binary.CoreModule]wazero.CompiledModule
	world    *World
	digest   string
}

// Load decodes a component binary, compiles its core modules and works out
// its world. Errors name the section and byte offset of bad input.
func (r *Runtime) Load(ctx context.Context, wasm []byte) (*Component, error) {
	if !binary.IsComponent(wasm) && len(wasm) >= 8 && string(wasm[:4]) == "\x00asm" {
		return nil, errors.New("this is a core WebAssembly module, not a component (wrap it with `wasm-tools component new` or `jco new`)")
	}
	ast, err := binary.Decode(wasm)
	if err != nil {
		return nil, fmt.Errorf("decode component: %w", err)
	}
	sum := sha256.Sum256(wasm)
	c := &Component{rt: r, ast: ast, hostMods: map[string]wazero.CompiledModule{}, modules: map[*binary.CoreModule]wazero.CompiledModule{}, digest: "sha256:" + hex.EncodeToString(sum[:])}
	var mods []*binary.CoreModule
	collectModules(ast, &mods)
	total := 0
	for _, m := range mods {
		total += len(m.Bytes)
	}
	start := time.Now()
	done := 0
	for i, m := range mods {
		if err := ctx.Err(); err != nil {
			c.Close(ctx)
			return nil, err
		}
		bin, err := renameEmptyImports(m.Bytes)
		if err != nil {
			c.Close(ctx)
			return nil, fmt.Errorf("core module %d at offset %#x: %w", i, m.Offset, err)
		}
		cm, err := r.rt.CompileModule(ctx, bin)
		if err != nil {
			c.Close(ctx)
			return nil, fmt.Errorf("core module %d at offset %#x: %w", i, m.Offset, err)
		}
		c.modules[m] = cm
		done += len(m.Bytes)
		if r.cfg.Progress != nil {
			r.cfg.Progress(Progress{Done: i + 1, Total: len(mods), Bytes: done, TotalBytes: total, Elapsed: time.Since(start)})
		}
	}
	w, err := c.typecheck(ctx)
	if err != nil {
		c.Close(ctx)
		return nil, err
	}
	c.world = w
	return c, nil
}

func collectModules(c *binary.Component, out *[]*binary.CoreModule) {
	for _, d := range c.Defs {
		switch d := d.(type) {
		case *binary.CoreModule:
			*out = append(*out, d)
		case *binary.Component:
			collectModules(d, out)
		}
	}
}

// World returns the component's imports and exports with their types.
func (c *Component) World() *World { return c.world }

// Digest returns the component binary's content address, "sha256:<hex>".
func (c *Component) Digest() string { return c.digest }

// Close frees the component's compiled code. Instances must be closed first.
func (c *Component) Close(ctx context.Context) error {
	var err error
	for _, m := range c.modules {
		err = errors.Join(err, m.Close(ctx))
	}
	c.modules = nil
	c.mu.Lock()
	for _, m := range c.hostMods {
		err = errors.Join(err, m.Close(ctx))
	}
	c.hostMods = nil
	c.mu.Unlock()
	return err
}

// shape returns the compiled re-export module for a binary, compiling it on
// first use: every instance of a component builds the same few shapes.
func (r *Runtime) shape(ctx context.Context, bin []byte) (wazero.CompiledModule, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cm, ok := r.shapes[string(bin)]; ok {
		return cm, nil
	}
	cm, err := r.rt.CompileModule(ctx, bin)
	if err != nil {
		return nil, err
	}
	r.shapes[string(bin)] = cm
	return cm, nil
}

// CoreModules returns the binaries of the component's core modules, nested
// components' included, in definition order.
func (c *Component) CoreModules() [][]byte {
	var mods []*binary.CoreModule
	collectModules(c.ast, &mods)
	out := make([][]byte, len(mods))
	for i, m := range mods {
		out[i] = m.Bytes
	}
	return out
}
