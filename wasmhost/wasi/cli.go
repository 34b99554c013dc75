package wasi

import (
	"context"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// wasi:cli/*.

func (b *binding) registerCLI() {
	h := b.h

	const envIface = "wasi:cli/environment"
	env := b.instance(envIface)
	b.def(env, envIface, "get-environment", fn(value.ListOf(value.TupleOf(stringT, stringT))),
		func(ctx context.Context, args []any) ([]any, error) {
			l := make([]any, len(h.cfg.Env))
			for i, kv := range h.cfg.Env {
				l[i] = []any{kv[0], kv[1]}
			}
			return one(l), nil
		})
	b.def(env, envIface, "get-arguments", fn(value.ListOf(stringT)),
		func(ctx context.Context, args []any) ([]any, error) {
			l := make([]any, len(h.cfg.Args))
			for i, a := range h.cfg.Args {
				l[i] = a
			}
			return one(l), nil
		})
	b.def(env, envIface, "initial-cwd", fn(value.OptionOf(stringT)),
		func(ctx context.Context, args []any) ([]any, error) {
			if h.cfg.Cwd == "" {
				return one(value.None()), nil
			}
			return one(some(h.cfg.Cwd)), nil
		})

	const exitIface = "wasi:cli/exit"
	ex := b.instance(exitIface)
	b.def(ex, exitIface, "exit", fn(nil, "status", value.ResultOf(nil, nil)),
		func(ctx context.Context, args []any) ([]any, error) {
			code := 1
			if v, _ := args[0].(value.Variant); v.Case == 0 {
				code = 0
			}
			return nil, &ExitError{Code: code}
		})
	b.def(ex, exitIface, "exit-with-code", fn(nil, "status-code", u8T),
		func(ctx context.Context, args []any) ([]any, error) {
			c, _ := args[0].(uint8)
			return nil, &ExitError{Code: int(c)}
		})

	const stdinIface = "wasi:cli/stdin"
	in := b.instance(stdinIface).AliasResource("input-stream", b.inputRT)
	stdin := h.stdin
	b.def(in, stdinIface, "get-stdin", fn(value.Own(b.inputRT)),
		func(ctx context.Context, args []any) ([]any, error) {
			hd, err := b.newInput(stdin)
			if err != nil {
				return nil, err
			}
			return one(hd), nil
		})
	stdout, stderr := h.stdout, h.stderr
	for _, o := range []struct {
		iface, fn string
		w         *ioWriter
	}{
		{"wasi:cli/stdout", "get-stdout", stdout},
		{"wasi:cli/stderr", "get-stderr", stderr},
	} {
		hi := b.instance(o.iface).AliasResource("output-stream", b.outputRT)
		w := o.w
		b.def(hi, o.iface, o.fn, fn(value.Own(b.outputRT)),
			func(ctx context.Context, args []any) ([]any, error) {
				hd, err := b.newOutput(w)
				if err != nil {
					return nil, err
				}
				return one(hd), nil
			})
	}

	// Terminals: the resources exist so that imports type-check, but the
	// guest never gets one.
	b.termInRT = b.resource(b.instance("wasi:cli/terminal-input"), "terminal-input", nil)
	b.termOutRT = b.resource(b.instance("wasi:cli/terminal-output"), "terminal-output", nil)
	for _, t := range []struct {
		iface, res, fn string
		rt             *value.ResourceType
	}{
		{"wasi:cli/terminal-stdin", "terminal-input", "get-terminal-stdin", b.termInRT},
		{"wasi:cli/terminal-stdout", "terminal-output", "get-terminal-stdout", b.termOutRT},
		{"wasi:cli/terminal-stderr", "terminal-output", "get-terminal-stderr", b.termOutRT},
	} {
		hi := b.instance(t.iface).AliasResource(t.res, t.rt)
		b.def(hi, t.iface, t.fn, fn(value.OptionOf(value.Own(t.rt))),
			func(ctx context.Context, args []any) ([]any, error) {
				return one(value.None()), nil
			})
	}
}
