package wasmhost_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// The component fixtures live beside the repository (see README).
const adderPath = "../../shared/fixtures/components/adder.component.wasm"

// Load a component, look at its world, instantiate it and call an export.
func Example() {
	ctx := context.Background()
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Close(ctx)

	wasm, err := os.ReadFile(adderPath)
	if err != nil {
		log.Fatal(err)
	}
	c, err := rt.Load(ctx, wasm)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(c.World().WIT())

	inst, err := c.Instantiate(ctx, wasmhost.NewImports())
	if err != nil {
		log.Fatal(err)
	}
	defer inst.Close(ctx)
	add, err := inst.Func("docs:adder/add@0.1.0#add")
	if err != nil {
		log.Fatal(err)
	}
	res, err := add.Call(ctx, uint32(2), uint32(3))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(add.Type(), "=", res[0])
	// Output:
	// world root {
	//   export docs:adder/add@0.1.0: interface {
	//     add: func(x: u32, y: u32) -> u32;
	//   }
	// }
	// func(x: u32, y: u32) -> u32 = 5
}

// Imports are Go functions, grouped by interface. Values use the Go
// representation of package value: a string is a string, a record a []any.
func ExampleImports() {
	im := wasmhost.NewImports()
	im.Instance("wbox:echo/log@0.1.0").Func("log", func(ctx context.Context, args []any) ([]any, error) {
		fmt.Println("guest says:", args[0].(string))
		return nil, nil
	})
	// Host resources: the guest sees own<file> handles; the host keeps the
	// objects and learns when the guest drops them.
	files := im.Instance("example:fs/files@0.1.0")
	file := files.Resource("file", func(ctx context.Context, rep uint32) { fmt.Println("closed file", rep) })
	files.Func("open", func(ctx context.Context, args []any) ([]any, error) {
		return []any{value.Ok(value.Handle{Type: file, Rep: 1})}, nil
	})
	fmt.Println(im.Names())
	// Output:
	// [example:fs/files@0.1.0 wbox:echo/log@0.1.0]
}
