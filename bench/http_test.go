package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	httpdriver "github.com/wbox-dev/wbox/drivers/http"
	"github.com/wbox-dev/wbox/kernel"
)

// BenchmarkHTTPHello: GET over 127.0.0.1 with keep-alive, 4 client
// goroutines, against a box behind the http driver on the kernel path (the
// ingress calls Kernel.ServeHTTP: the box's queue, one of its 4 instances,
// its wasi:http host), as `wbox up` runs it. The baseline is a plain Go
// net/http server with a handler answering the same bytes. x is
// wbox-ns/op over base-ns/op: wbox's req/s is 1/x of the baseline's
// (issue 4's goal: x <= 1.43, i.e. >= 0.7 of the baseline's req/s).
//
//   - go: components/http-go (Go, wasip1), instances reused;
//   - js: components/http-hello (a JS fetch event handler on
//     StarlingMonkey), a fresh instance per request (StarlingMonkey serves
//     one request per instance), made by the worker right after the
//     previous request: instantiating this ~14 MB component (allocating
//     and filling its snapshot memory) dominates its cost.
func BenchmarkHTTPHello(b *testing.B) {
	k := newHTTPKernel(b)
	base := startBaseline(b)
	wbox := "http://" + startIngress(b, k)

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	for _, c := range []struct{ name, path string }{{"go", "/go/hello"}, {"js", "/js/hello"}} {
		b.Run(c.name, func(b *testing.B) {
			load := httpLoad(b, client, 4)
			// Warm both (connections, instances, the guest's first request).
			load(base+c.path, 16)
			load(wbox+c.path, 16)
			pair(b, 16, func(n int) { load(base+c.path, n) }, func(n int) { load(wbox+c.path, n) })
		})
	}
}

// httpLoad returns a func sending n GETs of a URL from workers goroutines.
func httpLoad(b *testing.B, client *http.Client, workers int) func(url string, n int) {
	return func(url string, n int) {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w; i < n; i += workers {
					res, err := client.Get(url)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						b.Errorf("%s: %d", url, res.StatusCode)
						return
					}
				}
			})
		}
		wg.Wait()
	}
}

// newHTTPKernel runs the boxes go (http-go) and js (http-hello), 4
// instances each.
func newHTTPKernel(b *testing.B) *kernel.Kernel {
	k := newKernelWith(b, map[string]kernel.DriverFactory{httpdriver.Kind: httpdriver.Factory})
	deploy(b, k,
		kernel.BoxSpec{Name: "go", Wasm: readComponent(b, "http-go"), Instances: 4},
		kernel.BoxSpec{Name: "js", Wasm: readComponent(b, "http-hello"), Instances: 4})
	return k
}

func newKernelWith(b *testing.B, drivers map[string]kernel.DriverFactory) *kernel.Kernel {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = b.TempDir()
	}
	k, err := kernel.New(kernel.Config{
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		CacheDir: dir + "/wbox/test-compiled",
		Drivers:  drivers,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { k.Close(context.Background()) })
	return k
}

// startIngress starts the http driver in k (routes /go and /js, stripped)
// on a free 127.0.0.1 port and returns its address.
func startIngress(b *testing.B, k *kernel.Kernel) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	err = k.Apply(context.Background(), &kernel.Plan{StartDrivers: []kernel.DriverSpec{{
		Name: "web", Kind: httpdriver.Kind, Settings: map[string]any{
			"listen": addr,
			"routes": []any{
				map[string]any{"path": "/go", "box": "go", "strip": true},
				map[string]any{"path": "/js", "box": "js"},
			},
		},
	}}})
	if err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			b.Fatalf("the ingress does not listen on %s: %v", addr, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startBaseline runs a plain net/http server answering /go/... as http-go
// and /js/... as http-hello do, and returns its base URL.
func startBaseline(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(helloBaseline), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// helloBaseline answers as the boxes do: text from /go, JSON from /js.
func helloBaseline(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if rest, ok := strings.CutPrefix(r.URL.Path, "/go"); ok {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		shown := body[:min(len(body), 64)]
		fmt.Fprintf(w, "%s %s x-hello=%s body=%d:%s", r.Method, rest, r.Header.Get("x-hello"), len(body), shown)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"method": r.Method, "path": r.URL.Path, "query": "", "host": r.Host,
		"header": nil, "length": len(body), "body": string(body),
	})
}
