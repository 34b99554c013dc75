package bench

import (
	"context"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/wasmhost"
)

const (
	relayIface = "wbox:test/relay@0.1.0"
	relayCall  = relayIface + "#call"
	faultyWork = "wbox:test/faulty@0.1.0#work"
)

func readComponent(b *testing.B, name string) []byte {
	wasm, err := os.ReadFile(testcomponents.Path(b, name))
	if err != nil {
		b.Fatal(err)
	}
	return wasm
}

func newKernel(b *testing.B) *kernel.Kernel {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = b.TempDir()
	}
	k, err := kernel.New(kernel.Config{
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		CacheDir: dir + "/wbox/test-compiled",
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { k.Close(context.Background()) })
	return k
}

func deploy(b *testing.B, k *kernel.Kernel, boxes ...kernel.BoxSpec) {
	if err := k.Apply(context.Background(), &kernel.Plan{Start: boxes}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkArrowCall: box relay calls box leaf through an arrow with a
// small record (point{x, y} and a u32), entered through Kernel.Call: two
// queue hops, two instances. The baseline is the same call wired by hand in
// wasmhost: relay's import bound straight to leaf's exported function, in
// one goroutine. Reports mean and p50 of both and their ratio.
func BenchmarkArrowCall(b *testing.B) {
	ctx := context.Background()
	k := newKernel(b)
	relay, leaf := readComponent(b, "relay"), readComponent(b, "leaf")
	deploy(b, k,
		kernel.BoxSpec{Name: "leaf", Wasm: leaf},
		kernel.BoxSpec{Name: "relay", Wasm: relay, Arrows: []kernel.Arrow{{Import: relayIface, Target: "leaf", Export: relayIface}}},
	)

	// The baseline, in the kernel's kind of runtime (interruptible), called
	// without a deadline as a plain host would.
	rt, err := k.Runtime(ctx)
	if err != nil {
		b.Fatal(err)
	}
	lc, err := rt.Load(ctx, leaf)
	if err != nil {
		b.Fatal(err)
	}
	rc, err := rt.Load(ctx, relay)
	if err != nil {
		b.Fatal(err)
	}
	li, err := lc.Instantiate(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	lf, _ := li.Func(relayCall)
	im := wasmhost.NewImports()
	im.Instance(relayIface).Func("call", func(ctx context.Context, args []any) ([]any, error) { return lf.Call(ctx, args...) })
	ri, err := rc.Instantiate(ctx, im)
	if err != nil {
		b.Fatal(err)
	}
	rf, _ := ri.Func(relayCall)
	b.Cleanup(func() { ri.Close(ctx); li.Close(ctx); rc.Close(ctx); lc.Close(ctx) })

	p := []any{int32(1), int32(2)}
	direct := func() {
		if _, err := rf.Call(ctx, p, uint32(1)); err != nil {
			b.Fatal(err)
		}
	}
	viaKernel := func() {
		if _, err := k.Call(ctx, "relay", relayCall, p, uint32(1)); err != nil {
			b.Fatal(err)
		}
	}
	pairP50(b, 64, direct, viaKernel)
}

// pairP50 runs base and subject alternately in chunks, timing every
// operation, and reports mean and median of both and the ratio of means.
func pairP50(b *testing.B, chunk int, base, subject func()) {
	b.Helper()
	tb := make([]time.Duration, 0, b.N)
	ts := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for done := 0; done < b.N; done += chunk {
		n := min(chunk, b.N-done)
		for range n {
			t0 := time.Now()
			base()
			tb = append(tb, time.Since(t0))
		}
		for range n {
			t0 := time.Now()
			subject()
			ts = append(ts, time.Since(t0))
		}
	}
	b.StopTimer()
	mean := func(d []time.Duration) float64 {
		var s time.Duration
		for _, x := range d {
			s += x
		}
		return float64(s.Nanoseconds()) / float64(len(d))
	}
	p50 := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Nanoseconds())
	}
	mb, ms := mean(tb), mean(ts)
	pb, ps := p50(tb), p50(ts)
	b.ReportMetric(mb, "base-ns/op")
	b.ReportMetric(ms, "wbox-ns/op")
	b.ReportMetric(ms/mb, "x")
	b.ReportMetric(pb, "base-p50-ns")
	b.ReportMetric(ps, "wbox-p50-ns")
	b.ReportMetric(ps-pb, "overhead-p50-ns")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkInstancesThroughput: calls/s of two concurrent callers into a
// box with instances: 2 against the same box with instances: 1, each call
// doing a fixed amount of guest work (faulty's work(n), ~tens of µs).
func BenchmarkInstancesThroughput(b *testing.B) {
	faulty := readComponent(b, "faulty")
	k := newKernel(b)
	deploy(b, k,
		kernel.BoxSpec{Name: "one", Wasm: faulty, Instances: 1},
		kernel.BoxSpec{Name: "two", Wasm: faulty, Instances: 2},
	)
	const work = uint32(20000)
	ctx := context.Background()
	// run makes n calls from two goroutines and returns how long they took.
	run := func(box string, n int) time.Duration {
		var wg sync.WaitGroup
		start := time.Now()
		for c := range 2 {
			m := n / 2
			if c == 0 {
				m = n - n/2
			}
			wg.Go(func() {
				for range m {
					if _, err := k.Call(ctx, box, faultyWork, work); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	var t1, t2 time.Duration
	b.ResetTimer()
	const chunk = 32
	for done := 0; done < b.N; done += chunk {
		n := min(chunk, b.N-done)
		t1 += run("one", n)
		t2 += run("two", n)
	}
	b.StopTimer()
	r1 := float64(b.N) / t1.Seconds()
	r2 := float64(b.N) / t2.Seconds()
	b.ReportMetric(r1, "calls/s-1inst")
	b.ReportMetric(r2, "calls/s-2inst")
	b.ReportMetric(r2/r1, "x")
	b.ReportMetric(0, "ns/op")
}
