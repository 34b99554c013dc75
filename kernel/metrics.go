package kernel

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Metrics and trace hooks: the kernel measures every call into a box
// (latency histogram) and every call through an arrow (calls, errors,
// latency), always, with a few atomic adds; Kernel.Metrics reads them.
// A Tracer, when one is set (Kernel.SetTracer), brackets every arrow call
// and every HTTP request a box serves with a span; unset, the only cost is
// one atomic load per call. The kernel knows no metrics or tracing library:
// package observe turns these into Prometheus metrics and OpenTelemetry
// spans.

// LatencyBounds are the upper bounds of the latency histograms' buckets
// (the last bucket, past the last bound, is +Inf).
var LatencyBounds = []time.Duration{
	10 * time.Microsecond, 25 * time.Microsecond, 50 * time.Microsecond, 100 * time.Microsecond,
	250 * time.Microsecond, 500 * time.Microsecond, time.Millisecond, 2500 * time.Microsecond,
	5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second,
	2500 * time.Millisecond, 5 * time.Second, 10 * time.Second, 30 * time.Second,
}

const latencyBuckets = 21 // len(LatencyBounds) + 1

// latency is a histogram of call durations, updated lock-free.
type latency struct {
	counts [latencyBuckets]atomic.Uint64
	sum    atomic.Int64 // nanoseconds
}

func (l *latency) observe(d time.Duration) {
	i := 0
	for i < len(LatencyBounds) && d > LatencyBounds[i] {
		i++
	}
	l.counts[i].Add(1)
	l.sum.Add(int64(d))
}

// since observes the time since start (zero: metrics are off).
func (l *latency) since(start time.Time) {
	if !start.IsZero() {
		l.observe(time.Since(start))
	}
}

// Histogram is a latency histogram: Counts[i] calls took at most
// LatencyBounds[i] (and more than the bound before); the last count is
// the calls slower than every bound. Counts are not cumulative.
type Histogram struct {
	Counts []uint64
	Count  uint64
	Sum    time.Duration
}

func (l *latency) snapshot() Histogram {
	h := Histogram{Counts: make([]uint64, latencyBuckets), Sum: time.Duration(l.sum.Load())}
	for i := range l.counts {
		h.Counts[i] = l.counts[i].Load()
		h.Count += h.Counts[i]
	}
	return h
}

// Quantile estimates the q-quantile (0 < q <= 1) of the histogram: the
// upper bound of the bucket holding it (0 without calls).
func (h Histogram) Quantile(q float64) time.Duration {
	if h.Count == 0 {
		return 0
	}
	rank := uint64(q*float64(h.Count) + 0.5)
	var n uint64
	for i, c := range h.Counts {
		n += c
		if n >= rank && i < len(LatencyBounds) {
			return LatencyBounds[i]
		}
	}
	return LatencyBounds[len(LatencyBounds)-1]
}

// arrowKey names an arrow as metrics see it: the box (or driver) that
// calls, the import it calls through ("" for a driver's calls into boxes)
// and the task called.
type arrowKey struct{ from, imp, target string }

// arrowStats are the counters of one arrow.
type arrowStats struct {
	calls, errors atomic.Uint64
	lat           latency
}

// observer holds the kernel's arrow counters and its tracer.
type observer struct {
	arrows sync.Map // arrowKey -> *arrowStats
	tracer atomic.Pointer[tracerRef]
	off    atomic.Bool // SetMetrics(false)
}

// now is the start of a measured call: the time, or zero when metrics are
// off (then nothing is recorded).
func (o *observer) now() time.Time {
	if o.off.Load() {
		return time.Time{}
	}
	return time.Now()
}

// SetMetrics turns the latency histograms and arrow counters on (the
// default) or off; the Counters of Snapshot are always kept. Off, calls
// skip two clock reads and a few atomic adds (bench/observe_test.go
// measures what that saves).
func (k *Kernel) SetMetrics(on bool) { k.obs.off.Store(!on) }

type tracerRef struct{ t Tracer }

// arrow returns the counters of an arrow, created on first use; they
// outlive rewires, so an arrow that a deploy keeps keeps counting.
func (o *observer) arrow(from, imp, target string) *arrowStats {
	k := arrowKey{from, imp, target}
	if s, ok := o.arrows.Load(k); ok {
		return s.(*arrowStats)
	}
	s, _ := o.arrows.LoadOrStore(k, &arrowStats{})
	return s.(*arrowStats)
}

// end records a call through the arrow that started at start (zero:
// metrics are off).
func (s *arrowStats) end(start time.Time, err error) {
	if start.IsZero() {
		return
	}
	s.calls.Add(1)
	if err != nil {
		s.errors.Add(1)
	}
	s.lat.since(start)
}

// Tracer starts a span for each arrow call and each HTTP request a box
// serves. Implementations must be safe for concurrent use; the function
// they return ends the span with the call's error (nil on success).
type Tracer interface {
	// StartCall starts the span of a call through an arrow.
	StartCall(ctx context.Context, c CallSite) (context.Context, func(error))
	// StartHTTP starts the span of an HTTP request served by box,
	// continuing the trace the request's headers carry (W3C traceparent).
	StartHTTP(ctx context.Context, box string, r *http.Request) (context.Context, func(error))
}

// CallSite describes a call through an arrow.
type CallSite struct {
	// From is the calling box or driver, Import the interface it calls
	// through ("" for a driver's call into a box), Target the task
	// called and Func the function ("iface#func").
	From, Import, Target, Func string
}

// SetTracer sets the tracer of every call from now on; nil turns tracing
// off.
func (k *Kernel) SetTracer(t Tracer) {
	if t == nil {
		k.obs.tracer.Store(nil)
		return
	}
	k.obs.tracer.Store(&tracerRef{t})
}

// startCall starts a span for a call through an arrow when tracing is on:
// the function called is iface#fn, or fn when iface is "".
func (k *Kernel) startCall(ctx context.Context, from, imp, target, iface, fn string) (context.Context, func(error)) {
	tr := k.obs.tracer.Load()
	if tr == nil {
		return ctx, nil
	}
	if iface != "" {
		fn = iface + "#" + fn
	}
	return tr.t.StartCall(ctx, CallSite{From: from, Import: imp, Target: target, Func: fn})
}

// serveHTTPObserved is serveHTTP, measured and traced.
func (b *boxTask) serveHTTPObserved(ctx context.Context, hc *httpCall) error {
	start := b.k.obs.now()
	ctx, end := b.k.startHTTP(ctx, b.name, hc.r)
	err := b.serveHTTP(ctx, hc)
	b.lat.since(start)
	if end != nil {
		end(err)
	}
	return err
}

// callBoxObserved is a driver's call into a box (DriverEnv.Call), counted
// as the driver's arrow to the box, and traced.
func (d *driverTask) callBoxObserved(ctx context.Context, box, fn string, args []any) ([]any, error) {
	start := d.k.obs.now()
	ctx, end := d.k.startCall(ctx, d.name, "", box, "", fn)
	res, err := d.k.Call(ctx, box, fn, args...)
	d.k.obs.arrow(d.name, "", box).end(start, err)
	if end != nil {
		end(err)
	}
	return res, err
}

// serveHTTPObserved is a driver's HTTP request into a box
// (DriverEnv.ServeHTTP), counted as the driver's arrow to the box (the
// box's own span is Tracer.StartHTTP's).
func (d *driverTask) serveHTTPObserved(ctx context.Context, box string, w http.ResponseWriter, r *http.Request) error {
	start := d.k.obs.now()
	err := d.k.ServeHTTP(ctx, box, w, r)
	d.k.obs.arrow(d.name, "", box).end(start, err)
	return err
}

// startHTTP starts a span for an HTTP request into box when tracing is on.
func (k *Kernel) startHTTP(ctx context.Context, box string, r *http.Request) (context.Context, func(error)) {
	tr := k.obs.tracer.Load()
	if tr == nil {
		return ctx, nil
	}
	return tr.t.StartHTTP(ctx, box, r)
}

// Metrics are the kernel's call measurements at one moment.
type Metrics struct {
	Taken time.Time
	// Boxes holds each running box's latency of calls received (HTTP
	// requests included), since a deploy started it.
	Boxes map[string]Histogram
	// Arrows are the arrows of the running boxes, and the drivers' calls
	// into boxes, sorted by From, Import, Target.
	Arrows []ArrowMetrics
}

// ArrowMetrics are the counters of one arrow.
type ArrowMetrics struct {
	// From is the calling box or driver, Import the import it calls
	// through ("" for a driver), Target the task it leads to.
	From, Import, Target string
	// Calls and Errors count the calls through the arrow and the failed
	// ones; Latency is their duration as the caller saw it.
	Calls, Errors uint64
	Latency       Histogram
}

// Metrics returns the latency of every running box and the counters of
// every arrow in the routing table (and of drivers' calls into boxes).
func (k *Kernel) Metrics() Metrics {
	m := Metrics{Taken: time.Now(), Boxes: map[string]Histogram{}}
	k.mu.Lock()
	boxes := make([]*boxTask, 0, len(k.boxes))
	for _, b := range k.boxes {
		boxes = append(boxes, b)
	}
	drivers := map[string]bool{}
	for n := range k.drivers {
		drivers[n] = true
	}
	k.mu.Unlock()
	for _, b := range boxes {
		m.Boxes[b.name] = b.lat.snapshot()
	}
	routes := k.routes.Load()
	k.obs.arrows.Range(func(key, v any) bool {
		a := key.(arrowKey)
		switch {
		case a.imp == "" && drivers[a.from]:
		case a.imp != "" && routes.arrows[a.from][a.imp] != nil && routes.arrows[a.from][a.imp].Target == a.target:
		default:
			return true // an arrow a deploy removed
		}
		s := v.(*arrowStats)
		m.Arrows = append(m.Arrows, ArrowMetrics{From: a.from, Import: a.imp, Target: a.target,
			Calls: s.calls.Load(), Errors: s.errors.Load(), Latency: s.lat.snapshot()})
		return true
	})
	sort.Slice(m.Arrows, func(i, j int) bool {
		a, b := m.Arrows[i], m.Arrows[j]
		if a.From != b.From {
			return a.From < b.From
		}
		if a.Import != b.Import {
			return a.Import < b.Import
		}
		return a.Target < b.Target
	})
	return m
}
