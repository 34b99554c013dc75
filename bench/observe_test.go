package bench

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/observe"
)

// The cost of observing arrow calls: box relay calls box leaf through an
// arrow (relay's call(point, 1) → leaf), entered through Kernel.Call, the
// baseline with metrics and tracing both off (Kernel.SetMetrics(false),
// no tracer), the subject with metrics on (the default: latency
// histograms of both boxes and the arrow's counters) and, in
// BenchmarkObserveTracing, with every call traced too (an OpenTelemetry
// span per arrow call, batched to an exporter that drops them; every call
// sampled, or 1% of them).
// Interleaved per chunk of 64 calls in the same kernel; goals: metrics
// <= 1.05x, tracing <= 1.20x.

func observeKernel(b *testing.B) (*kernel.Kernel, func()) {
	k := newKernel(b)
	deploy(b, k,
		kernel.BoxSpec{Name: "leaf", Wasm: readComponent(b, "leaf")},
		kernel.BoxSpec{Name: "relay", Wasm: readComponent(b, "relay"), Arrows: []kernel.Arrow{{Import: relayIface, Target: "leaf", Export: relayIface}}},
	)
	ctx := context.Background()
	p := []any{int32(1), int32(2)}
	return k, func() {
		if _, err := k.Call(ctx, "relay", relayCall, p, uint32(1)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkObserveMetrics(b *testing.B) {
	k, call := observeKernel(b)
	pairP50(b, 64,
		func() { k.SetMetrics(false); call() },
		func() { k.SetMetrics(true); call() })
}

// dropSpans is an exporter that drops what it is given.
type dropSpans struct{}

func (dropSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (dropSpans) Shutdown(context.Context) error                             { return nil }

func BenchmarkObserveTracing(b *testing.B) {
	for _, c := range []struct {
		name   string
		sample float64
	}{{"every-call", 1}, {"1pct", 0.01}} {
		b.Run(c.name, func(b *testing.B) {
			k, call := observeKernel(b)
			tr, shutdown, err := observe.StartTracing(context.Background(), observe.TracingConfig{Node: "bench", Exporter: dropSpans{}, Sample: c.sample})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { shutdown(context.Background()) })
			pairP50(b, 64,
				func() { k.SetMetrics(false); k.SetTracer(nil); call() },
				func() { k.SetMetrics(true); k.SetTracer(tr); call() })
		})
	}
}
