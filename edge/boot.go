package edge

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/linker"
	"github.com/wbox-dev/wbox/wasmhost"
)

// BootOptions configure Boot.
type BootOptions struct {
	// Logger receives the kernel's event log (an image logs to its serial
	// console); nil means slog.Default().
	Logger *slog.Logger
	// Drivers are the driver kinds the image has.
	Drivers map[string]kernel.DriverFactory
	// DataDir is where the bundle is unpacked and the kernel keeps its
	// data (the in-memory file system under TamaGo).
	DataDir string
	// Compiler runs boxes on wazero's compiler instead of its interpreter:
	// for comparisons on Linux (bench/edge_test.go); TamaGo has no compiler.
	Compiler bool
}

// Node is a kernel running a bundle's topology.
type Node struct {
	Kernel  *kernel.Kernel
	Linker  *linker.Linker
	Runtime *wasmhost.Runtime
	// Bundle is the booted bundle.
	Bundle *Bundle
}

// Boot checks the bundle in fsys (Open), unpacks it into opts.DataDir,
// starts a kernel whose boxes run on wazero's interpreter and deploys the
// bundle's topology into it.
func Boot(ctx context.Context, fsys fs.FS, opts BootOptions) (*Node, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	b, err := Open(fsys)
	if err != nil {
		return nil, err
	}
	topo, err := b.Unpack(filepath.Join(opts.DataDir, "bundle"))
	if err != nil {
		return nil, err
	}
	t, err := linker.ParseFile(topo)
	if err != nil {
		return nil, fmt.Errorf("bundled topology: %w", err)
	}
	k, err := kernel.New(kernel.Config{Logger: log, DataDir: opts.DataDir, Drivers: opts.Drivers})
	if err != nil {
		return nil, fmt.Errorf("starting kernel: %w", err)
	}
	// Components load into an interpreter runtime of our own; it is
	// interruptible, so call timeouts stop a runaway box.
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{Interpreter: !opts.Compiler, Interruptible: true, Logger: log})
	if err != nil {
		k.Close(ctx)
		return nil, fmt.Errorf("starting the wazero interpreter: %w", err)
	}
	n := &Node{Kernel: k, Runtime: rt, Bundle: b,
		Linker: linker.New(linker.Options{Runtime: rt, Drivers: opts.Drivers, StoreDir: filepath.Join(filepath.Dir(topo), "store")})}
	spec, err := n.Linker.Link(ctx, t)
	if err != nil {
		n.Close(ctx)
		return nil, fmt.Errorf("bundled topology: %w", err)
	}
	if err := k.Apply(ctx, linker.Diff(spec, k.Snapshot())); err != nil {
		n.Close(ctx)
		return nil, fmt.Errorf("deploying the bundled topology: %w", err)
	}
	log.Info("edge node up", "board", b.Manifest.Board, "boxes", len(spec.Boxes), "drivers", len(spec.Drivers))
	return n, nil
}

// Close stops every task, then frees the components and the runtime.
func (n *Node) Close(ctx context.Context) error {
	err := n.Kernel.Close(ctx)
	err = errors.Join(err, n.Linker.Close(ctx), n.Runtime.Close(ctx))
	return err
}

// TempDataDir is a data directory for Boot on a system whose file system
// is memory (TamaGo) or a scratch directory elsewhere.
func TempDataDir() (string, error) {
	return os.MkdirTemp("", "wbox-edge-")
}
