package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/wbox-dev/wbox/edge"
	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/wasmhost"
)

// runImage is `wbox image`: a topology into an edge node image (package
// edge).
func runImage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var boards []string
	for _, b := range edge.Boards {
		boards = append(boards, fmt.Sprintf("  %-12s %s", b.Name, b.Needs))
	}
	fs := newFlags("image", "image --board BOARD [--out DIR] [--src DIR] FILE\n\n"+
		"Type-checks the topology FILE and bundles it with every component and directory it names\n"+
		"into DIR/bundle, writes DIR/main.go, a Go main package for GOOS=tamago that boots the bundle\n"+
		"(wazero's interpreter, logs on the serial console), and builds DIR/image with tamago-go\n"+
		"($TAMAGO, tamago-go or go on PATH) if there is one. Drivers in images: blob, http, tcp.\nBoards:\n"+
		strings.Join(boards, "\n"), stderr)
	board := fs.String("board", "", "the board: "+strings.Join(boardNames(), ", "))
	out := fs.String("out", "", "the directory to write (empty or new; default wbox-image-BOARD)")
	src := fs.String("src", "", "the wbox source tree for the image's go.mod (default: found above the current directory)")
	data := dataFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitCode(2)
	}
	b, err := edge.BoardNamed(*board)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = "wbox-image-" + b.Name
	}
	if *src == "" {
		*src = edge.FindSource(".")
	}
	rt, cleanup, err := imageRuntime(ctx)
	if err != nil {
		return err
	}
	defer cleanup()
	m, err := edge.Write(ctx, fs.Arg(0), filepath.Join(*out, "bundle"), edge.WriteOptions{
		Runtime: rt, Drivers: imageDrivers(), StoreDir: filepath.Join(*data, "store"), Board: b.Name})
	if err != nil {
		return err
	}
	if err := edge.Generate(*out, edge.GenerateOptions{Board: b, Source: *src}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "bundled %s: %d boxes, %d files into %s\n", fs.Arg(0), len(m.Components), len(m.Files), filepath.Join(*out, "bundle"))
	fmt.Fprintf(stdout, "generated %s (GOOS=%s GOARCH=%s, board %s)\n", filepath.Join(*out, "main.go"), b.GOOS, b.GOARCH, b.Import)
	if *src == "" {
		fmt.Fprintln(stderr, "wbox image: no wbox source tree found: add a replace for github.com/wbox-dev/wbox to", filepath.Join(*out, "go.mod"), "(or pass --src)")
	}
	tc, err := edge.FindToolchain()
	if errors.Is(err, edge.ErrNoToolchain) {
		fmt.Fprintf(stderr, "wbox image: cannot build the image: %v\n", err)
		fmt.Fprintf(stderr, "the sources stay in %s: with tamago-go, run there\n  GOOS=%s GOARCH=%s GOOSPKG=github.com/usbarmory/tamago $TAMAGO build -ldflags %q -o image .\n", *out, b.GOOS, b.GOARCH, edge.LinkFlags)
		return exitCode(3)
	}
	if err != nil {
		return err
	}
	img, err := edge.Build(ctx, tc, *out, b)
	if err != nil {
		return err
	}
	fi, err := os.Stat(img)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "built %s (%.1f MiB) with %s\nboot it with:\n  %s\n", img, float64(fi.Size())/(1<<20), tc.Version, strings.Replace(b.QEMU, "IMAGE", img, 1))
	return nil
}

func boardNames() []string {
	var ns []string
	for _, b := range edge.Boards {
		ns = append(ns, b.Name)
	}
	return ns
}

// imageDrivers are the node's driver kinds an image has (edge.ImageDrivers).
func imageDrivers() map[string]kernel.DriverFactory {
	all, in := drivers(), map[string]kernel.DriverFactory{}
	for _, d := range edge.ImageDrivers {
		if f, ok := all[d.Kind]; ok {
			in[d.Kind] = f
		}
	}
	return in
}

// imageRuntime loads components to type-check a topology, with the
// compiled-code cache `wbox call` uses.
func imageRuntime(ctx context.Context) (*wasmhost.Runtime, func(), error) {
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{CacheDir: defaultCacheDir()})
	if err != nil {
		return nil, nil, err
	}
	return rt, func() { rt.Close(ctx) }, nil
}
