package bench

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/wbox-dev/wbox/drivers/kv"
	"github.com/wbox-dev/wbox/edge"
	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/kernel"
)

// What an edge image gives up: calls into the hello example's bundle on
// wazero's interpreter, as TamaGo images run it, against the same bundle
// booted on wazero's compiler.
func BenchmarkEdgeInterpreterCall(b *testing.B) {
	for _, c := range []string{"hello-front", "hello-greeter", "hello-counter"} {
		testcomponents.Path(b, c)
	}
	ctx := context.Background()
	dir := filepath.Join(b.TempDir(), "bundle")
	drivers := map[string]kernel.DriverFactory{kv.Kind: kv.New}
	if _, err := edge.Write(ctx, "../examples/hello/topology.yaml", dir, edge.WriteOptions{Drivers: drivers}); err != nil {
		b.Fatal(err)
	}
	boot := func(compiler bool) *edge.Node {
		n, err := edge.Boot(ctx, os.DirFS(dir), edge.BootOptions{Logger: slog.New(slog.DiscardHandler), Drivers: drivers, DataDir: b.TempDir(), Compiler: compiler})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { n.Close(ctx) })
		return n
	}
	compiled, interpreted := boot(true), boot(false)
	call := func(n *edge.Node, box, fn string) func(int) {
		return func(k int) {
			for range k {
				if _, err := n.Kernel.Call(ctx, box, fn, "Ada"); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	// front → greeter, front → counter → kv (a bbolt write): mostly I/O.
	b.Run("front", func(b *testing.B) {
		pair(b, 20, call(compiled, "front", "wbox:hello/app@0.1.0#hello"), call(interpreted, "front", "wbox:hello/app@0.1.0#hello"))
	})
	// greeter alone (Go wasip1 code, no I/O): the interpreter's own cost.
	b.Run("greeter", func(b *testing.B) {
		pair(b, 50, call(compiled, "greeter", "wbox:hello/greet@0.1.0#greet"), call(interpreted, "greeter", "wbox:hello/greet@0.1.0#greet"))
	})
}
