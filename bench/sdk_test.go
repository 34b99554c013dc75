package bench

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/sdk"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/wasi"
)

// The SDK's hello box (`wbox new NAME --lang L`, greet(name) -> string) in
// each language: its size, its build time (`wbox build --no-cache`: wbox's
// component cache bypassed, the Go and npm toolchains' own caches warm, as
// for a user rebuilding after an edit), and the cost of one greet call
// through wasmhost against the C box's in the same run. Every number is
// also given as a ratio to the C box's: x (per call), size-x, build-x.

type sdkBox struct {
	path  string
	size  int64
	build time.Duration
	err   error
}

var (
	sdkOnce  sync.Once
	sdkBoxes = map[string]*sdkBox{}
)

// buildSDKBoxes builds the hello box of every language once per process,
// bypassing the build cache (the Go build cache stays warm, as for a user
// rebuilding after an edit).
func buildSDKBoxes(b *testing.B) {
	sdkOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wbox-bench-sdk")
		if err != nil {
			b.Fatal(err)
		}
		for _, lang := range sdk.Languages {
			box := &sdkBox{}
			sdkBoxes[lang] = box
			pdir := filepath.Join(dir, lang)
			if _, box.err = sdk.New(pdir, sdk.NewOptions{Name: "hello-" + lang, Lang: lang}); box.err != nil {
				continue
			}
			start := time.Now()
			box.path, box.err = sdk.Build(context.Background(), pdir, sdk.BuildOptions{NoCache: true})
			box.build = time.Since(start)
			if box.err == nil {
				fi, _ := os.Stat(box.path)
				box.size = fi.Size()
			}
		}
	})
}

func greetFunc(b *testing.B, rt *wasmhost.Runtime, lang string) *wasmhost.Func {
	box := sdkBoxes[lang]
	if box.err != nil {
		if sdk.IsMissingTool(box.err) && os.Getenv("CI") == "" {
			b.Skipf("%s: %v", lang, box.err)
		}
		b.Fatalf("%s: %v", lang, box.err)
	}
	ctx := context.Background()
	wasm, err := os.ReadFile(box.path)
	if err != nil {
		b.Fatal(err)
	}
	c, err := rt.Load(ctx, wasm)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close(ctx) })
	host := wasi.New(wasi.Config{})
	b.Cleanup(func() { host.Close() })
	inst, err := c.Instantiate(ctx, host.Imports())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { inst.Close(ctx) })
	f, err := inst.Func("local:hello-" + lang + "/greet@0.1.0#greet")
	if err != nil {
		b.Fatal(err)
	}
	return f
}

func BenchmarkSDKHello(b *testing.B) {
	buildSDKBoxes(b)
	ctx := context.Background()
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close(ctx)
	for _, lang := range sdk.Languages {
		b.Run(lang, func(b *testing.B) {
			base, subject := greetFunc(b, rt, "c"), greetFunc(b, rt, lang)
			call := func(f *wasmhost.Func) func(n int) {
				return func(n int) {
					for range n {
						if res, err := f.Call(ctx, "Ada"); err != nil || res[0] != "Hello, Ada!" {
							b.Fatalf("greet: %v %v", res, err)
						}
					}
				}
			}
			pair(b, 100, call(base), call(subject))
			box, c := sdkBoxes[lang], sdkBoxes["c"]
			b.ReportMetric(float64(box.size), "bytes")
			b.ReportMetric(float64(box.size)/float64(c.size), "size-x")
			b.ReportMetric(box.build.Seconds(), "build-s")
			b.ReportMetric(box.build.Seconds()/c.build.Seconds(), "build-x")
			b.Logf("%s: %d bytes (%.1fx C's %d), built in %.1fs (%.1fx C's %.1fs)", lang,
				box.size, float64(box.size)/float64(c.size), c.size, box.build.Seconds(),
				box.build.Seconds()/c.build.Seconds(), c.build.Seconds())
		})
	}
}
