package kernel_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"sync"
	"testing"

	"github.com/wbox-dev/wbox/kernel"
)

// spanRecorder is a kernel.Tracer that records the calls it saw and the
// error each ended with; it carries the parent's name in the context so
// the test sees the nesting.
type spanRecorder struct {
	mu    sync.Mutex
	spans []recordedSpan
}

type recordedSpan struct {
	site   kernel.CallSite
	parent string
	err    error
}

type spanKey struct{}

func (r *spanRecorder) StartCall(ctx context.Context, c kernel.CallSite) (context.Context, func(error)) {
	parent, _ := ctx.Value(spanKey{}).(string)
	return context.WithValue(ctx, spanKey{}, c.From+"->"+c.Target), func(err error) {
		r.mu.Lock()
		r.spans = append(r.spans, recordedSpan{site: c, parent: parent, err: err})
		r.mu.Unlock()
	}
}

func (r *spanRecorder) StartHTTP(ctx context.Context, box string, _ *http.Request) (context.Context, func(error)) {
	return ctx, func(error) {}
}

// Every call into a box lands in its latency histogram and every call
// through an arrow in the arrow's counters; failed calls through an arrow
// to a driver count as the arrow's errors; a tracer sees every arrow call,
// nested as the calls are, and SetTracer(nil) turns it off.
func TestMetricsAndTracer(t *testing.T) {
	g := newGate(1)
	k := newKernel(t, kernel.Config{Drivers: map[string]kernel.DriverFactory{"gate": gateDriver(g)}})
	apply(t, k, kernel.Plan{
		StartDrivers: []kernel.DriverSpec{{Name: "gate", Kind: "gate"}},
		Start: []kernel.BoxSpec{
			box(t, "leaf", "leaf"),
			box(t, "r2", "relay", arrow(relayIface, "leaf", relayIface)),
			box(t, "r", "relay", arrow(relayIface, "r2", relayIface)),
			box(t, "w", "waiter", arrow(gateIface, "gate", gateIface)),
		},
	})
	rec := &spanRecorder{}
	k.SetTracer(rec)
	for range 5 {
		if res := call(t, k, "r", relay, point(0, 0), uint32(2)); !reflect.DeepEqual(res[0], point(1002, 2)) {
			t.Fatalf("r.call = %v", res)
		}
	}
	call(t, k, "w", run)
	fail := func() error { return errors.New("disk on fire") }
	g.fail.Store(&fail)
	wantErr(t, callErr(k, "w", run), kernel.ErrArrow)
	g.fail.Store(nil)
	k.SetTracer(nil)
	call(t, k, "r", relay, point(0, 0), uint32(2))

	m := k.Metrics()
	for box, want := range map[string]uint64{"r": 6, "r2": 6, "leaf": 6, "w": 2} {
		if h := m.Boxes[box]; h.Count != want || h.Sum <= 0 || len(h.Counts) != len(kernel.LatencyBounds)+1 {
			t.Errorf("box %s latency: count %d sum %v buckets %d; want count %d", box, h.Count, h.Sum, len(h.Counts), want)
		}
	}
	type key struct{ from, target string }
	got := map[key]kernel.ArrowMetrics{}
	for _, a := range m.Arrows {
		got[key{a.From, a.Target}] = a
	}
	for k, want := range map[key][2]uint64{{"r", "r2"}: {6, 0}, {"r2", "leaf"}: {6, 0}, {"w", "gate"}: {2, 1}} {
		a, ok := got[k]
		if !ok {
			t.Errorf("no metrics for arrow %s -> %s (have %+v)", k.from, k.target, m.Arrows)
			continue
		}
		if a.Calls != want[0] || a.Errors != want[1] || a.Latency.Count != want[0] || a.Import == "" {
			t.Errorf("arrow %s -> %s: calls %d errors %d latency count %d import %q; want %d, %d", k.from, k.target, a.Calls, a.Errors, a.Latency.Count, a.Import, want[0], want[1])
		}
	}
	if q := m.Boxes["r"].Quantile(0.5); q <= 0 || q < m.Boxes["leaf"].Quantile(0.5) {
		t.Errorf("median of r %v, of leaf %v: r's calls include leaf's", q, m.Boxes["leaf"].Quantile(0.5))
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	var nested, failed, toGate int
	for _, s := range rec.spans {
		switch {
		case s.site.From == "r2" && s.site.Target == "leaf":
			if s.parent == "r->r2" && s.site.Func == relayIface+"#call" && s.site.Import == relayIface {
				nested++
			}
		case s.site.From == "w" && s.site.Target == "gate":
			toGate++
			if s.err != nil {
				failed++
			}
		}
	}
	if len(rec.spans) != 12 || nested != 5 || toGate != 2 || failed != 1 {
		t.Errorf("spans: %d (want 12: 10 relay hops and 2 gate calls), nested r2->leaf under r->r2: %d (want 5), to gate %d failed %d (want 2, 1)", len(rec.spans), nested, toGate, failed)
	}
}
