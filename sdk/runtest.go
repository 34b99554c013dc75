package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"time"

	httpdriver "github.com/wbox-dev/wbox/drivers/http"

	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
	"github.com/wbox-dev/wbox/wasmhost/wasi"
	"github.com/wbox-dev/wbox/wasmhost/wave"
)

// TestOptions configure RunTests.
type TestOptions struct {
	Out      io.Writer // one line per test; nil discards
	CacheDir string    // wasmhost's compilation cache; empty: none
}

// TestFailure reports failed box tests.
type TestFailure struct{ Failed, Total int }

func (e *TestFailure) Error() string { return fmt.Sprintf("%d of %d tests failed", e.Failed, e.Total) }

// RunTests loads the project's built component with wasmhost (WASI granted
// nothing; other imports trap when called) and runs its box.yaml tests.
func RunTests(ctx context.Context, p *Project, opts TestOptions) error {
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	wasm, err := os.ReadFile(p.Output())
	if err != nil {
		return fmt.Errorf("%v: run `wbox build` first", err)
	}
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{CacheDir: opts.CacheDir})
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	c, err := rt.Load(ctx, wasm)
	if err != nil {
		return fmt.Errorf("%s: %v", p.Output(), err)
	}
	defer c.Close(ctx)
	failed := 0
	for _, t := range p.Tests {
		name := t.Call + argList(t.Args)
		run := runTest
		if t.Get != "" {
			name, run = "GET "+t.Get, runHTTPTest
		}
		if err := run(ctx, c, t); err != nil {
			failed++
			fmt.Fprintf(out, "FAIL %s: %v\n", name, err)
			continue
		}
		fmt.Fprintf(out, "ok   %s\n", name)
	}
	fmt.Fprintf(out, "%d passed, %d failed\n", len(p.Tests)-failed, failed)
	if failed > 0 {
		return &TestFailure{failed, len(p.Tests)}
	}
	return nil
}

func argList(args []string) string {
	s := "("
	for i, a := range args {
		if i > 0 {
			s += ", "
		}
		s += a
	}
	return s + ")"
}

// runTest calls one export in a fresh instance.
func runTest(ctx context.Context, c *wasmhost.Component, t Test) error {
	host := wasi.New(wasi.Config{Args: []string{"box"}})
	defer host.Close()
	im := host.Imports()
	memoryKV(im)
	im.TrapUnknown()
	inst, err := c.Instantiate(ctx, im)
	if err != nil {
		return err
	}
	defer inst.Close(ctx)
	f, err := inst.Func(t.Call)
	if err != nil {
		return err
	}
	args, err := wave.ParseArgs(f.Type().Params, t.Args)
	if err != nil {
		return fmt.Errorf("arguments: %v", err)
	}
	res, err := f.Call(ctx, args...)
	if err != nil {
		var exit *wasi.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("the box exited with status %d", exit.Code)
		}
		return err
	}
	got, err := wave.FormatResults(f.Type().Results, res)
	if err != nil {
		return err
	}
	want := t.Want
	if len(f.Type().Results) == 1 && want != "" {
		// Compare canonical forms, so `want` may be written loosely.
		v, err := wave.Parse(f.Type().Results[0].Type, want)
		if err != nil {
			return fmt.Errorf("want: %v", err)
		}
		if want, err = wave.Format(f.Type().Results[0].Type, v); err != nil {
			return err
		}
	}
	if got != want {
		return fmt.Errorf("got %s, want %s", got, want)
	}
	return nil
}

// memoryKV serves wbox:kv/store (wit/wbox-kv.wit, the kv driver's
// interface) from an empty map, for tests of boxes that import it.
func memoryKV(im *wasmhost.Imports) {
	m := map[string]string{}
	kv := im.Instance("wbox:kv/store@0.1.0")
	kv.Func("get", func(ctx context.Context, args []any) ([]any, error) {
		if v, ok := m[args[0].(string)]; ok {
			return []any{value.Some(v)}, nil
		}
		return []any{value.None()}, nil
	})
	kv.Func("set", func(ctx context.Context, args []any) ([]any, error) {
		m[args[0].(string)] = args[1].(string)
		return nil, nil
	})
	kv.Func("delete", func(ctx context.Context, args []any) ([]any, error) {
		_, ok := m[args[0].(string)]
		delete(m, args[0].(string))
		return []any{ok}, nil
	})
}

// runHTTPTest sends GET t.Get to the box through the HTTP driver's
// component backend (wbox's wasi:http host, a fresh instance per request).
func runHTTPTest(ctx context.Context, c *wasmhost.Component, t Test) error {
	be := httpdriver.NewComponentBackend(c, httpdriver.ComponentConfig{Prewarm: -1, CallTimeout: 30 * time.Second})
	defer be.Close()
	rec := httptest.NewRecorder()
	if err := be.Serve(ctx, rec, httptest.NewRequest("GET", t.Get, nil)); err != nil {
		return err
	}
	if rec.Code != 200 {
		return fmt.Errorf("status %d, body %q", rec.Code, rec.Body.String())
	}
	if got := rec.Body.String(); got != t.Want {
		return fmt.Errorf("got %q, want %q", got, t.Want)
	}
	return nil
}
