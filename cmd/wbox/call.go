package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wbox-dev/wbox/wasmhost/value"
	"github.com/wbox-dev/wbox/wasmhost/wasi"
	"github.com/wbox-dev/wbox/wasmhost/wave"
)

// wasiFlags grant WASI capabilities explicitly: nothing is ambient.
type wasiFlags struct {
	dirs listFlag
	env  listFlag
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func (f *wasiFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.dirs, "dir", "grant a host directory: HOST[::GUEST][:ro] (repeatable)")
	fs.Var(&f.env, "env", "set an environment variable NAME=VALUE (repeatable)")
}

func (f *wasiFlags) config(args []string, stdin io.Reader, stdout, stderr io.Writer) (wasi.Config, error) {
	cfg := wasi.Config{Args: args, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	for _, e := range f.env {
		k, v, ok := strings.Cut(e, "=")
		if !ok {
			return cfg, fmt.Errorf("--env %q: want NAME=VALUE", e)
		}
		cfg.Env = append(cfg.Env, [2]string{k, v})
	}
	for _, d := range f.dirs {
		p := wasi.Preopen{}
		d, p.ReadOnly = strings.CutSuffix(d, ":ro")
		host, guest, ok := strings.Cut(d, "::")
		if !ok {
			guest = host
		}
		if st, err := os.Stat(host); err != nil || !st.IsDir() {
			return cfg, fmt.Errorf("--dir %q: not a directory", host)
		}
		p.HostDir, p.GuestPath = host, guest
		cfg.Preopens = append(cfg.Preopens, p)
	}
	return cfg, nil
}

func runCall(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("call", "call [flags] FILE.wasm EXPORT [ARG...]\n\nEXPORT is iface#func (e.g. 'docs:adder/add@0.1.0#add') or a world-level function name.\nArguments and results are WAVE: 42, \"text\", [1, 2], {a: 1}, some(x), ok(x), err(e).", stderr)
	var rf runtimeFlags
	var wf wasiFlags
	rf.register(fs)
	wf.register(fs)
	trapUnknown := fs.Bool("trap-unknown-imports", false, "satisfy imports wbox does not provide with functions that fail when called")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return exitCode(2)
	}
	path, export := fs.Arg(0), fs.Arg(1)
	rt, c, err := rf.load(ctx, path, stderr)
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	cfg, err := wf.config([]string{path}, os.Stdin, stderr, stderr)
	if err != nil {
		return err
	}
	host := wasi.New(cfg)
	defer host.Close()
	im := host.Imports()
	if *trapUnknown {
		im.TrapUnknown()
	}
	inst, err := c.Instantiate(ctx, im)
	if err != nil {
		return err
	}
	defer inst.Close(ctx)
	f, err := inst.Func(export)
	if err != nil {
		return err
	}
	vals, err := wave.ParseArgs(f.Type().Params, fs.Args()[2:])
	if err != nil {
		return fmt.Errorf("%s %s: %w", export, f.Type(), err)
	}
	res, err := f.Call(ctx, vals...)
	if err != nil {
		var exit *wasi.ExitError
		if errors.As(err, &exit) {
			return exitCode(exit.Code)
		}
		return err
	}
	out, err := wave.FormatResults(f.Type().Results, res)
	if err != nil {
		return err
	}
	if out != "" {
		fmt.Fprintln(stdout, out)
	}
	return nil
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", "run [flags] FILE.wasm [ARG...]", stderr)
	var rf runtimeFlags
	var wf wasiFlags
	rf.register(fs)
	wf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 1 {
		fs.Usage()
		return exitCode(2)
	}
	path := fs.Arg(0)
	rt, c, err := rf.load(ctx, path, stderr)
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	var runIface string
	for _, e := range c.World().Exports {
		if strings.HasPrefix(e.Name, "wasi:cli/run@0.2.") {
			runIface = e.Name
		}
	}
	if runIface == "" {
		return fmt.Errorf("%s exports no wasi:cli/run@0.2.x interface: it is not a command component (try `wbox inspect`)", path)
	}
	cfg, err := wf.config(fs.Args(), os.Stdin, stdout, stderr)
	if err != nil {
		return err
	}
	host := wasi.New(cfg)
	defer host.Close()
	inst, err := c.Instantiate(ctx, host.Imports())
	if err != nil {
		return err
	}
	defer inst.Close(ctx)
	f, err := inst.Func(runIface + "#run")
	if err != nil {
		return err
	}
	res, err := f.Call(ctx)
	var exit *wasi.ExitError
	switch {
	case errors.As(err, &exit):
		return exitCode(exit.Code)
	case err != nil:
		return err
	}
	if v, ok := res[0].(value.Variant); ok && v.Case == 1 {
		return exitCode(1)
	}
	return nil
}
