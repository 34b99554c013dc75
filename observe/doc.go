// Package observe makes a node's boxes and arrows visible: Prometheus
// metrics (Collector, Registry), OpenTelemetry traces of arrow calls
// (Tracer, StartTracing) and the web dashboard (Dashboard), whose assets are
// embedded in the binary.
//
// It owns the translation of the kernel's own measurements
// (kernel.Kernel.Metrics, Snapshot, the kernel.Tracer hook) into those
// formats, and the dashboard's HTML, CSS and JavaScript. It reads a kernel
// and serves HTTP; it must not change what runs (no Apply, no calls into
// boxes): the dashboard's plan view and logs go through the management API
// handler it is given, behind its token.
//
// # Metrics
//
// Per box: calls, errors, overloads, timeouts, traps, a latency histogram,
// calls queued or running (queue depth), restarts, linear memory, state.
// Per arrow (from box and import to target): calls, errors, latency. Per
// driver: calls, errors, restarts. Per node: the process's CPU and memory
// (Prometheus' process and Go collectors) and, in a cluster, the NATS
// connection state (NodeState). Every series carries the node's name as
// label node.
//
// # Traces
//
// Tracer implements kernel.Tracer with an OpenTelemetry TracerProvider: a
// span per arrow call (client kind, named "FROM → TARGET FUNC") and per HTTP
// request a box serves (server kind, continuing the W3C traceparent the
// request carries). StartTracing installs the provider and the W3C
// propagator globally, so package nodes carries the context across remote
// arrows in NATS headers; without it tracing is off and the kernel pays one
// atomic load per call.
package observe
