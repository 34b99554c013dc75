package nodes

import (
	"context"
	"strings"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Trace context across remote arrows: a remote call carries the caller's
// W3C trace context (traceparent, tracestate) in its NATS headers, through
// OpenTelemetry's global propagator, and the serving node records a server
// span under it. Until tracing is turned on (package observe installs the
// propagator and provider), the propagator is a no-op and no span is
// made: an untraced call costs a context lookup.

// injectTrace writes ctx's trace context into h.
func injectTrace(ctx context.Context, h nats.Header) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return
	}
	otel.GetTextMapPropagator().Inject(ctx, headerCarrier(h))
}

// traceServe continues the trace a remote call carries, if any, with a
// server span for serving it; end records the call's error and ends it.
func (n *Node) traceServe(ctx context.Context, h nats.Header, box, fn string) (context.Context, func(error)) {
	if headerCarrier(h).Get("traceparent") == "" {
		return ctx, func(error) {}
	}
	ctx = otel.GetTextMapPropagator().Extract(ctx, headerCarrier(h))
	ctx, span := otel.Tracer("github.com/wbox-dev/wbox").Start(ctx, "serve "+box+" "+fn, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("wbox.node", n.cfg.Name), attribute.String("wbox.box", box), attribute.String("wbox.func", fn)))
	return ctx, func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}

// headerCarrier carries trace context in NATS headers, whose keys are
// case-sensitive: it writes them in lower case (as W3C names them) and
// finds them in any case.
type headerCarrier nats.Header

func (c headerCarrier) Get(key string) string {
	if v := nats.Header(c).Get(key); v != "" {
		return v
	}
	for k, v := range c {
		if len(v) > 0 && strings.EqualFold(k, key) {
			return v[0]
		}
	}
	return ""
}

func (c headerCarrier) Set(key, value string) { c[strings.ToLower(key)] = []string{value} }

func (c headerCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}
