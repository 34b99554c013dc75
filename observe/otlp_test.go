package observe_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"

	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/observe"
)

// With an OTLP endpoint (as wbox node --otlp URL), the spans of arrow calls
// reach a collector over OTLP/HTTP: here a server on 127.0.0.1 recording
// what the real exporter posts to /v1/traces.
func TestOTLPExport(t *testing.T) {
	var mu sync.Mutex
	var posts []string
	var bytes int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posts = append(posts, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type"))
		bytes += len(b)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	k := newKernel(t, nil)
	if err := k.Apply(context.Background(), &kernel.Plan{Start: []kernel.BoxSpec{
		{Name: "leaf", Wasm: readWasm(t, "leaf")},
		{Name: "relay", Wasm: readWasm(t, "relay"), Arrows: []kernel.Arrow{{Import: relayIface, Target: "leaf", Export: relayIface}}},
	}}); err != nil {
		t.Fatal(err)
	}
	tr, shutdown, err := observe.StartTracing(context.Background(), observe.TracingConfig{Node: "n1", Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator())
	k.SetTracer(tr)
	for range 5 {
		if _, err := k.Call(context.Background(), "relay", relayIface+"#call", []any{int32(1), int32(2)}, uint32(1)); err != nil {
			t.Fatal(err)
		}
	}
	k.SetTracer(nil)
	if err := shutdown(context.Background()); err != nil { // flushes the batch
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) == 0 || posts[0] != "POST /v1/traces application/x-protobuf" || bytes < 100 {
		t.Errorf("the collector got %q (%d bytes)", posts, bytes)
	}
}
