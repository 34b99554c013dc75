package wasi_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/wasi"
)

// Run a WASI command component: testdata/hello.wasm (see hello.wat) writes
// a line to stdout.
func Example() {
	ctx := context.Background()
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Close(ctx)
	wasm, err := os.ReadFile("testdata/hello.wasm")
	if err != nil {
		log.Fatal(err)
	}
	c, err := rt.Load(ctx, wasm)
	if err != nil {
		log.Fatal(err)
	}

	// What the guest may see: arguments, stdout, and one directory.
	h := wasi.New(wasi.Config{
		Args:   []string{"hello"},
		Stdout: os.Stdout,
		Preopens: []wasi.Preopen{
			{HostDir: os.TempDir(), GuestPath: "/tmp", ReadOnly: true},
		},
	})
	defer h.Close()
	// Merge the component's other imports into h.Imports() here.
	inst, err := c.Instantiate(ctx, h.Imports())
	if err != nil {
		log.Fatal(err)
	}
	defer inst.Close(ctx)

	run, err := inst.Func("wasi:cli/run@0.2.0#run")
	if err != nil {
		log.Fatal(err)
	}
	res, err := run.Call(ctx)
	var exit *wasi.ExitError
	switch {
	case errors.As(err, &exit):
		fmt.Println("exit status", exit.Code)
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println("run returned", res[0])
	}
	// Output:
	// hello from a component
	// run returned {0 <nil>}
}
