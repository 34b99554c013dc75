package observe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/wbox-dev/wbox/kernel"
)

// instrumentation is the OpenTelemetry instrumentation scope of wbox's
// spans.
const instrumentation = "github.com/wbox-dev/wbox"

// Tracer implements kernel.Tracer with OpenTelemetry.
type Tracer struct {
	sites sync.Map // kernel.CallSite -> *callSpan
	t     trace.Tracer
	prop  propagation.TextMapPropagator
	node  string
}

// NewTracer returns a kernel.Tracer making spans with tp, tagged with the
// node's name, and continuing W3C trace context from HTTP requests.
func NewTracer(tp trace.TracerProvider, node string) *Tracer {
	return &Tracer{t: tp.Tracer(instrumentation), prop: propagation.TraceContext{}, node: node}
}

var _ kernel.Tracer = (*Tracer)(nil)

// callSpan is what every span of one call site shares, made once.
type callSpan struct {
	name string
	opts []trace.SpanStartOption
}

// StartCall implements kernel.Tracer: a client span per arrow call.
func (t *Tracer) StartCall(ctx context.Context, c kernel.CallSite) (context.Context, func(error)) {
	cs, ok := t.sites.Load(c)
	if !ok {
		cs, _ = t.sites.LoadOrStore(c, &callSpan{name: c.From + " → " + c.Target + " " + c.Func, opts: []trace.SpanStartOption{
			trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(
				attribute.String("wbox.node", t.node),
				attribute.String("wbox.from", c.From),
				attribute.String("wbox.import", c.Import),
				attribute.String("wbox.target", c.Target),
				attribute.String("wbox.func", c.Func),
			)}})
	}
	s := cs.(*callSpan)
	ctx, span := t.t.Start(ctx, s.name, s.opts...)
	if !span.IsRecording() {
		return ctx, nil
	}
	return ctx, func(err error) { end(span, err) }
}

// StartHTTP implements kernel.Tracer: a server span per HTTP request a
// box serves, child of the request's traceparent if it has one.
func (t *Tracer) StartHTTP(ctx context.Context, box string, r *http.Request) (context.Context, func(error)) {
	ctx = t.prop.Extract(ctx, propagation.HeaderCarrier(r.Header))
	ctx, span := t.t.Start(ctx, "HTTP "+r.Method+" "+box, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			attribute.String("wbox.node", t.node),
			attribute.String("wbox.box", box),
			attribute.String("http.request.method", r.Method),
			attribute.String("url.path", r.URL.Path),
		))
	return ctx, func(err error) { end(span, err) }
}

func end(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// TracingConfig configures StartTracing.
type TracingConfig struct {
	// Node names this node (resource attribute service.instance.id and
	// attribute wbox.node of every span).
	Node string
	// Endpoint is the OTLP/HTTP collector's URL (e.g.
	// http://127.0.0.1:4318); "" means Exporter.
	Endpoint string
	// Exporter receives the spans when Endpoint is "" (tests use an
	// in-memory one).
	Exporter sdktrace.SpanExporter
	// Sample is the fraction of new traces recorded (0 means 1); a call
	// inside a sampled trace is always recorded.
	Sample float64
	// Sync exports each span as it ends instead of in batches (tests).
	Sync bool
}

// StartTracing installs an OpenTelemetry TracerProvider exporting spans
// by OTLP/HTTP (or to cfg.Exporter) and the W3C trace-context propagator,
// both globally (package nodes carries trace context across remote arrows
// through the global propagator), and returns the kernel.Tracer to give
// kernel.Kernel.SetTracer and a function that flushes and stops it.
func StartTracing(ctx context.Context, cfg TracingConfig) (*Tracer, func(context.Context) error, error) {
	exp := cfg.Exporter
	if cfg.Endpoint != "" {
		var err error
		if exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(cfg.Endpoint)); err != nil {
			return nil, nil, fmt.Errorf("tracing: the OTLP exporter for %s: %w", cfg.Endpoint, err)
		}
	}
	if exp == nil {
		return nil, nil, errors.New("tracing: neither an OTLP endpoint nor an exporter")
	}
	sample := cfg.Sample
	if sample <= 0 || sample > 1 {
		sample = 1
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", "wbox"), attribute.String("service.instance.id", cfg.Node)))
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: resource: %w", err)
	}
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(sample))),
	}
	if cfg.Sync {
		opts = append(opts, sdktrace.WithSyncer(exp))
	} else {
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	return NewTracer(tp, cfg.Node), tp.Shutdown, nil
}
