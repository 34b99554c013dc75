package bench

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/wasmhost"
)

const roundtrip = "wbox:echo/echo@0.1.0#roundtrip"

// echoC loads the C echo component and the core module inside it.
func echoC(b *testing.B, rt *wasmhost.Runtime) (*wasmhost.Component, []byte) {
	wasm, err := os.ReadFile(testcomponents.Path(b, "echo-c"))
	if err != nil {
		b.Fatal(err)
	}
	c, err := rt.Load(context.Background(), wasm)
	if err != nil {
		b.Fatal(err)
	}
	return c, c.CoreModules()[0]
}

func echoImports() *wasmhost.Imports {
	im := wasmhost.NewImports()
	im.Instance("wbox:echo/log@0.1.0").Func("log", func(context.Context, []any) ([]any, error) { return nil, nil })
	return im
}

// rawEcho is the baseline: the echo core module on plain wazero, driven by
// hand the way a host without the component model would.
type rawEcho struct {
	mod                  api.Module
	realloc, rt, postRet api.Function
	close                func()
}

func newRawEcho(b *testing.B, r wazero.Runtime, core []byte) (wazero.CompiledModule, *rawEcho) {
	ctx := context.Background()
	if _, err := r.NewHostModuleBuilder("wbox:echo/log@0.1.0").NewFunctionBuilder().
		WithFunc(func(uint32, uint32) {}).Export("log").Instantiate(ctx); err != nil {
		b.Fatal(err)
	}
	cm, err := r.CompileModule(ctx, core)
	if err != nil {
		b.Fatal(err)
	}
	return cm, instantiateRaw(b, r, cm)
}

func instantiateRaw(b *testing.B, r wazero.Runtime, cm wazero.CompiledModule) *rawEcho {
	ctx := context.Background()
	mod, err := r.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize"))
	if err != nil {
		b.Fatal(err)
	}
	return &rawEcho{
		mod:     mod,
		realloc: mod.ExportedFunction("cabi_realloc"),
		rt:      mod.ExportedFunction(roundtrip),
		postRet: mod.ExportedFunction("cabi_post_" + roundtrip),
		close:   func() { mod.Close(ctx) },
	}
}

// call passes s in and copies the result out, as the canonical ABI does.
func (e *rawEcho) call(ctx context.Context, s []byte) []byte {
	stack := []uint64{0, 0, 1, uint64(len(s))}
	if err := e.realloc.CallWithStack(ctx, stack); err != nil {
		panic(err)
	}
	ptr := uint32(stack[0])
	e.mod.Memory().Write(ptr, s)
	stack[0], stack[1] = uint64(ptr), uint64(len(s))
	if err := e.rt.CallWithStack(ctx, stack[:2]); err != nil {
		panic(err)
	}
	ret := uint32(stack[0])
	p, _ := e.mod.Memory().ReadUint32Le(ret)
	n, _ := e.mod.Memory().ReadUint32Le(ret + 4)
	out, _ := e.mod.Memory().Read(p, n)
	out = bytes.Clone(out)
	stack[0] = uint64(ret)
	if err := e.postRet.CallWithStack(ctx, stack[:1]); err != nil {
		panic(err)
	}
	return out
}

// BenchmarkStringRoundtrip: a 64-byte string through the echo component's
// roundtrip export via wasmhost, vs the same bytes through the same core
// function on plain wazero. Goal: x <= 2.
func BenchmarkStringRoundtrip(b *testing.B) {
	ctx := context.Background()
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close(ctx)
	c, core := echoC(b, rt)
	inst, err := c.Instantiate(ctx, echoImports())
	if err != nil {
		b.Fatal(err)
	}
	defer inst.Close(ctx)
	f, err := inst.Func(roundtrip)
	if err != nil {
		b.Fatal(err)
	}
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	_, raw := newRawEcho(b, r, core)
	s := strings.Repeat("x", 64)
	sb := []byte(s)
	if got := string(raw.call(ctx, sb)); got != s {
		b.Fatalf("raw roundtrip = %q", got)
	}
	if got, err := f.Call(ctx, s); err != nil || got[0] != s {
		b.Fatalf("wasmhost roundtrip = %v, %v", got, err)
	}
	pair(b, 100, func(n int) {
		for range n {
			raw.call(ctx, sb)
		}
	}, func(n int) {
		for range n {
			if _, err := f.Call(ctx, s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkInstantiate: instantiating the precompiled C echo component vs
// instantiating its core module with plain wazero. Goals: x <= 2 and
// wbox-ns/op < 100 µs.
func BenchmarkInstantiate(b *testing.B) {
	ctx := context.Background()
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close(ctx)
	c, core := echoC(b, rt)
	im := echoImports()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	cm, first := newRawEcho(b, r, core)
	first.close()
	pair(b, 10, func(n int) {
		for range n {
			instantiateRaw(b, r, cm).close()
		}
	}, func(n int) {
		for range n {
			inst, err := c.Instantiate(ctx, im)
			if err != nil {
				b.Fatal(err)
			}
			inst.Close(ctx)
		}
	})
}

// BenchmarkLoadLarge: loading the 12 MB StarlingMonkey JS component with a
// warm on-disk compilation cache (wbox) vs compiling it from scratch
// (base). Here x is the fraction of the first load that the second costs.
func BenchmarkLoadLarge(b *testing.B) {
	ctx := context.Background()
	wasm, err := os.ReadFile(testcomponents.Path(b, "echo-js-sm"))
	if err != nil {
		b.Fatal(err)
	}
	warm := b.TempDir()
	load := func(dir string) {
		rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{CacheDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		c, err := rt.Load(ctx, wasm)
		if err != nil {
			b.Fatal(err)
		}
		c.Close(ctx)
		rt.Close(ctx)
	}
	load(warm)
	pair(b, 1, func(n int) {
		for range n {
			load(b.TempDir())
		}
	}, func(n int) {
		for range n {
			load(warm)
		}
	})
}
