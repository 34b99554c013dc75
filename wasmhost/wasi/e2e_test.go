package wasi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
	"github.com/wbox-dev/wbox/wasmhost/wasi"
)

func load(t *testing.T, path string) (*wasmhost.Component, context.Context) {
	t.Helper()
	ctx := t.Context()
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{CacheDir: testCacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rt.Load(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	return c, ctx
}

// testCacheDir shares compiled code between test runs, as users do.
func testCacheDir(t *testing.T) string {
	d, err := os.UserCacheDir()
	if err != nil {
		return t.TempDir()
	}
	return filepath.Join(d, "wbox", "test-compiled")
}

// runCommand runs a wasi:cli/run command component to completion and
// returns its exit status (-1 when run returned normally with err).
func runCommand(t *testing.T, c *wasmhost.Component, ctx context.Context, cfg wasi.Config) int {
	t.Helper()
	h := wasi.New(cfg)
	defer h.Close()
	inst, err := c.Instantiate(ctx, h.Imports())
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	var run *wasmhost.Func
	for _, e := range c.World().Exports {
		if strings.HasPrefix(e.Name, "wasi:cli/run@0.2.") {
			run, err = inst.Func(e.Name + "#run")
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if run == nil {
		t.Fatal("the component exports no wasi:cli/run@0.2")
	}
	res, err := run.Call(ctx)
	var exit *wasi.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.Code
	case err != nil:
		t.Fatalf("run: %v", err)
	}
	if res[0].(value.Variant).Case != 0 {
		return -1
	}
	return 0
}

// TestCommand runs the hello-cmd C command (wasi-libc and the preview1
// command adapter on WASI 0.2): arguments, environment, stdio, a preopened
// directory and the exit status.
func TestCommand(t *testing.T) {
	c, ctx := load(t, testcomponents.Path(t, "hello-cmd"))
	dir := t.TempDir()
	for _, n := range []string{"one.txt", "two.txt"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out, errOut bytes.Buffer
	code := runCommand(t, c, ctx, wasi.Config{
		Args:     []string{"hello-cmd", "a b", "--cat", "--ls", "/data"},
		Env:      [][2]string{{"WHO", "tester"}},
		Stdin:    strings.NewReader("from stdin\n"),
		Stdout:   &out,
		Stderr:   &errOut,
		Preopens: []wasi.Preopen{{HostDir: dir, GuestPath: "/data", ReadOnly: true}},
	})
	if code != 0 {
		t.Errorf("exit status %d", code)
	}
	got := out.String()
	for _, want := range []string{
		"hello from wbox run: 5 args\n", "arg[1] = a b\n", "from stdin\n",
		"entry: one.txt\n", "entry: two.txt\n", "WHO = tester\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("stdout lacks %q:\n%s", want, got)
		}
	}
	if errOut.String() != "exiting with 0\n" {
		t.Errorf("stderr %q", errOut.String())
	}

	// A failing status reaches the host as an ExitError (the preview1
	// adapter reports every non-zero status as exit(err), status 1).
	out.Reset()
	code = runCommand(t, c, ctx, wasi.Config{Args: []string{"hello-cmd", "--exit", "3"}, Stdout: &out})
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if !strings.Contains(out.String(), "hello from wbox run: 3 args") {
		t.Errorf("stdout %q", out.String())
	}

	// Without a preopen the directory does not exist for the guest.
	errOut.Reset()
	code = runCommand(t, c, ctx, wasi.Config{Args: []string{"hello-cmd", "--ls", "/data"}, Stderr: &errOut})
	if code != 1 || !strings.Contains(errOut.String(), "opendir") {
		t.Errorf("ls without a preopen: status %d, stderr %q", code, errOut.String())
	}
}

// TestGoReactor runs the Go echo component: the Go runtime's start-up uses
// WASI 0.2.12 clocks, random and environment through the reactor adapter.
func TestGoReactor(t *testing.T) {
	c, ctx := load(t, testcomponents.Path(t, "echo-go"))
	h := wasi.New(wasi.Config{})
	defer h.Close()
	var logged []string
	im := h.Imports()
	im.Instance("wbox:echo/log@0.1.0").Func("log", func(ctx context.Context, args []any) ([]any, error) {
		logged = append(logged, args[0].(string))
		return nil, nil
	})
	inst, err := c.Instantiate(ctx, im)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	f, err := inst.Func("wbox:echo/echo@0.1.0#echo")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		res, err := f.Call(ctx, []any{fmt.Sprint("hi ", i), []any{"a", "b"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(res); got != fmt.Sprintf("[{0 [hi %d [b a]]}]", i) {
			t.Errorf("echo = %s", got)
		}
	}
	if len(logged) != 3 {
		t.Errorf("logged %v", logged)
	}
}

// TestFixtures instantiates the reference components, which import WASI
// 0.2.0 through the preview1 adapter: every WASI function they import must
// type-check against the host's. Their own test interfaces get stubs.
func TestFixtures(t *testing.T) {
	for _, name := range []string{
		"flavorful", "lists", "many-arguments", "numbers", "records",
		"resource-import-and-export", "resources", "smoke", "strings", "variants",
	} {
		t.Run(name, func(t *testing.T) {
			c, ctx := load(t, testcomponents.Fixture(t, name))
			h := wasi.New(wasi.Config{})
			defer h.Close()
			im := h.Imports()
			wasiImports := 0
			for _, e := range c.World().Imports {
				if strings.HasPrefix(e.Name, "wasi:") {
					wasiImports++
					continue
				}
				stub(im, e)
			}
			if wasiImports == 0 {
				t.Fatal("the fixture imports no WASI")
			}
			inst, err := c.Instantiate(ctx, im)
			if err != nil {
				t.Fatal(err)
			}
			inst.Close(context.Background())
		})
	}
}

// stub defines an import whose functions fail when called.
func stub(im *wasmhost.Imports, e wasmhost.Extern) {
	fail := func(name string) wasmhost.HostFunc {
		return func(context.Context, []any) ([]any, error) { return nil, fmt.Errorf("stub %s called", name) }
	}
	switch e.Kind {
	case wasmhost.ExternFunc:
		im.Func(e.Name, fail(e.Name))
	case wasmhost.ExternInstance:
		hi := im.Instance(e.Name)
		for _, x := range e.Instance.Exports {
			switch {
			case x.Kind == wasmhost.ExternFunc:
				hi.Func(x.Name, fail(e.Name+"#"+x.Name))
			case x.Kind == wasmhost.ExternType && x.Resource != nil:
				hi.Resource(x.Name, nil)
			}
		}
	}
}
