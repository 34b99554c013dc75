package observe_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	httpdriver "github.com/wbox-dev/wbox/drivers/http"
	"github.com/wbox-dev/wbox/drivers/kv"
	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/internal/testnats"
	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/nodes"
	"github.com/wbox-dev/wbox/observe"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, testnats.LeakOptions...)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func readWasm(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(testcomponents.Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newKernel(t *testing.T, drivers map[string]kernel.DriverFactory) *kernel.Kernel {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = t.TempDir()
	}
	k, err := kernel.New(kernel.Config{Logger: quiet(), DataDir: t.TempDir(), Drivers: drivers, CacheDir: filepath.Join(cache, "wbox", "test-compiled")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		k.Close(ctx)
	})
	return k
}

// TestTraceAcrossNodes follows one HTTP request's trace across two nodes
// clustered over NATS on 127.0.0.1: a client span's traceparent enters node
// a's HTTP ingress, box web calls box front through a remote arrow (its
// stand-in on a, NATS headers), node b serves it and front calls greeter
// and counter, counter calls the kv driver. Every span lands in one trace,
// each the child of the one before, tagged with the node that made it.
func TestTraceAcrossNodes(t *testing.T) {
	web, front, greeter, counter := readWasm(t, "hello-web"), readWasm(t, "hello-front"), readWasm(t, "hello-greeter"), readWasm(t, "hello-counter")
	ctx := context.Background()

	exp := tracetest.NewInMemoryExporter()
	tr, shutdown, err := observe.StartTracing(ctx, observe.TracingConfig{Node: "a", Exporter: exp, Sync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		shutdown(context.Background())
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator())
	})

	// Two nodes: a forms the cluster, b joins it with a's token.
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cfgA := nodes.Config{Name: "a", DataDir: t.TempDir(), Listen: "127.0.0.1:0", ClusterListen: "127.0.0.1:0", Logger: quiet()}
	na, err := nodes.Start(sctx, cfgA)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { na.Close(context.Background()) })
	tok, err := os.ReadFile(filepath.Join(cfgA.DataDir, nodes.TokenFileName))
	if err != nil {
		t.Fatal(err)
	}
	nb, err := nodes.Start(sctx, nodes.Config{Name: "b", DataDir: t.TempDir(), Listen: "127.0.0.1:0",
		Join: []string{na.RouteURL()}, Token: strings.TrimSpace(string(tok)), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nb.Close(context.Background()) })

	// Node b runs front, greeter, counter and kv, and serves front.
	kb := newKernel(t, map[string]kernel.DriverFactory{kv.Kind: kv.New})
	kb.SetTracer(observe.NewTracer(otel.GetTracerProvider(), "b"))
	rt, err := kb.Runtime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := rt.Load(ctx, front)
	if err != nil {
		t.Fatal(err)
	}
	exports := nodes.ExportsOf(fc.World())
	fc.Close(ctx)
	if err := kb.Apply(ctx, &kernel.Plan{
		StartDrivers: []kernel.DriverSpec{{Name: "kv", Kind: kv.Kind}},
		Start: []kernel.BoxSpec{
			{Name: "greeter", Wasm: greeter},
			{Name: "counter", Wasm: counter, Arrows: []kernel.Arrow{{Import: "wbox:kv/store@0.1.0", Target: "kv", Export: "wbox:kv/store@0.1.0"}}},
			{Name: "front", Wasm: front, Arrows: []kernel.Arrow{
				{Import: "wbox:hello/greet@0.1.0", Target: "greeter", Export: "wbox:hello/greet@0.1.0"},
				{Import: "wbox:hello/counter@0.1.0", Target: "counter", Export: "wbox:hello/counter@0.1.0"},
			}},
		},
	}); err != nil {
		t.Fatal(err)
	}
	if err := nb.Serve("front", exports, kb.Call); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nb.Unserve(context.Background(), "front") })

	// Node a runs the HTTP ingress and web, whose arrow leads to front's
	// stand-in.
	drv := make(chan *httpdriver.Driver, 1)
	ka := newKernel(t, map[string]kernel.DriverFactory{
		nodes.RemoteKind: na.RemoteDriver(nil),
		httpdriver.Kind: func(spec kernel.DriverSpec, env kernel.DriverEnv) (kernel.Native, error) {
			n, err := httpdriver.Factory(spec, env)
			if err == nil {
				drv <- n.(*httpdriver.Driver)
			}
			return n, err
		},
	})
	ka.SetTracer(tr)
	if err := ka.Apply(ctx, &kernel.Plan{
		StartDrivers: []kernel.DriverSpec{
			{Name: "front", Kind: nodes.RemoteKind, Settings: map[string]any{"box": "front", "exports": exports}},
		},
		Start: []kernel.BoxSpec{{Name: "web", Wasm: web, Arrows: []kernel.Arrow{{Import: "wbox:hello/app@0.1.0", Target: "front", Export: "wbox:hello/app@0.1.0"}}}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := ka.Apply(ctx, &kernel.Plan{
		Keep: []string{"web"}, KeepDrivers: []string{"front"},
		StartDrivers: []kernel.DriverSpec{{Name: "ingress", Kind: httpdriver.Kind, Settings: map[string]any{
			"listen": "127.0.0.1:0", "routes": []any{map[string]any{"path": "/", "box": "web"}}}}},
	}); err != nil {
		t.Fatal(err)
	}
	d := <-drv
	select {
	case <-d.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the ingress does not listen")
	}
	base := "http://" + d.Addr().String()
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	get := func(ctx context.Context, path string) (string, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(req.Header))
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return string(b), &statusError{resp.Status}
		}
		return string(b), nil
	}
	// front's interest crosses the route asynchronously.
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := get(ctx, "/warmup"); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("web never reached front on node b: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	cctx, root := otel.Tracer("test").Start(ctx, "client GET /Ada", trace.WithSpanKind(trace.SpanKindClient))
	body, err := get(cctx, "/Ada")
	root.End()
	if err != nil || body != "Hello, Ada! (visit 1)\n" {
		t.Fatalf("GET /Ada: %q, %v", body, err)
	}

	id := root.SpanContext().TraceID()
	byName := map[string]tracetest.SpanStub{}
	var names []string
	for _, s := range exp.GetSpans() {
		if s.SpanContext.TraceID() == id {
			byName[s.Name] = s
			names = append(names, s.Name)
		}
	}
	// name -> parent's name, node
	want := []struct{ name, parent, node string }{
		{"HTTP GET web", "client GET /Ada", "a"},
		{"web → front wbox:hello/app@0.1.0#hello", "HTTP GET web", "a"},
		{"serve front wbox:hello/app@0.1.0#hello", "web → front wbox:hello/app@0.1.0#hello", "b"},
		{"front → greeter wbox:hello/greet@0.1.0#greet", "serve front wbox:hello/app@0.1.0#hello", "b"},
		{"front → counter wbox:hello/counter@0.1.0#hit", "serve front wbox:hello/app@0.1.0#hello", "b"},
	}
	for _, w := range want {
		s, ok := byName[w.name]
		if !ok {
			t.Errorf("no span %q in the trace (spans: %q)", w.name, names)
			continue
		}
		if p := byName[w.parent]; s.Parent.SpanID() != p.SpanContext.SpanID() {
			t.Errorf("span %q: parent %s, want %q (%s)", w.name, s.Parent.SpanID(), w.parent, p.SpanContext.SpanID())
		}
		if node := attr(s, "wbox.node"); node != w.node {
			t.Errorf("span %q: node %q, want %q", w.name, node, w.node)
		}
	}
	// counter → kv: at least one call to the kv driver, under counter's
	// span.
	kvCalls := 0
	for _, s := range exp.GetSpans() {
		if s.SpanContext.TraceID() == id && strings.HasPrefix(s.Name, "counter → kv ") {
			kvCalls++
			if p := byName["front → counter wbox:hello/counter@0.1.0#hit"]; s.Parent.SpanID() != p.SpanContext.SpanID() {
				t.Errorf("span %q is not under front → counter", s.Name)
			}
		}
	}
	if kvCalls == 0 {
		t.Errorf("no counter → kv span in the trace (spans: %q)", names)
	}
	t.Logf("trace %s: %d spans: %q", id, len(names), names)
	if t.Failed() {
		for _, s := range exp.GetSpans() {
			t.Logf("span %s %s parent %s", s.SpanContext.TraceID(), s.Name, s.Parent.SpanID())
		}
	}
}

type statusError struct{ status string }

func (e *statusError) Error() string { return e.status }

func attr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if kv.Key == attribute.Key(key) {
			return kv.Value.AsString()
		}
	}
	return ""
}
