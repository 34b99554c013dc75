// Package wasmhost runs WebAssembly components on wazero.
//
// wazero runs core modules only, so this package implements the component
// model on top of it: it decodes component binaries, compiles their core
// modules once (optionally into an on-disk cache), wires core instances the
// way wit-component lays them out, and translates calls between Go values and
// guest memory with the canonical ABI.
//
// The life of a component:
//
//	rt, _ := wasmhost.NewRuntime(ctx, wasmhost.Config{CacheDir: dir})
//	c, _ := rt.Load(ctx, wasm)              // decode + compile
//	fmt.Println(c.World().WIT())            // inspect
//	im := wasmhost.NewImports()             // host functions in Go
//	im.Instance("test:log/log@0.1.0").Func("log", fn)
//	inst, _ := c.Instantiate(ctx, im)
//	f, _ := inst.Func("docs:adder/add@0.1.0#add")
//	res, _ := f.Call(ctx, uint32(2), uint32(3))
//	inst.Close(ctx)
//
// wasmhost owns the component runtime only. It knows nothing of topologies,
// boxes, arrows or NATS; the kernel builds those on top of it.
package wasmhost
