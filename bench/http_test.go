package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	httpdriver "github.com/wbox-dev/wbox/drivers/http"
	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/wasmhost"
)

// BenchmarkHTTPHello: GET /hello over 127.0.0.1 with keep-alive, 4 client
// goroutines, against the http-hello box (a JS fetch event handler, jco
// componentize on StarlingMonkey) behind the HTTP driver, a fresh
// (prewarmed) instance per request. The baseline is a plain Go net/http
// handler answering the same JSON, behind the same driver and server. x
// is wbox-ns/op over base-ns/op: wbox's req/s is 1/x of the baseline's
// (issue 4's goal: >= 0.7). A fresh instance per request is what
// StarlingMonkey's fetch event handling needs, and instantiating this
// ~14 MB component (allocating and filling its snapshot memory in wazero)
// dominates the cost.
func BenchmarkHTTPHello(b *testing.B) {
	ctx := context.Background()
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = b.TempDir()
	}
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{CacheDir: filepath.Join(dir, "wbox", "test-compiled"), Interruptible: true})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close(ctx)
	c, err := rt.Load(ctx, readComponent(b, "http-hello"))
	if err != nil {
		b.Fatal(err)
	}
	be := httpdriver.NewComponentBackend(c, httpdriver.ComponentConfig{Prewarm: 4})
	defer be.Close()

	base := startDriver(b, func(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		return json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "path": r.URL.Path, "query": "", "host": r.Host,
			"header": nil, "length": len(body), "body": string(body),
		})
	})
	wbox := startDriver(b, be.Serve)

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	load := func(url string) func(n int) {
		return func(n int) {
			const workers = 4
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
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
				}()
			}
			wg.Wait()
		}
	}
	// Warm both (connections, the guest's first request).
	load(base + "/hello")(8)
	load(wbox + "/hello")(8)
	pair(b, 16, load(base+"/hello"), load(wbox+"/hello"))
}

// startDriver runs the HTTP driver on 127.0.0.1 with serve behind route /.
func startDriver(b *testing.B, serve func(context.Context, http.ResponseWriter, *http.Request) error) string {
	b.Helper()
	d, err := httpdriver.New(kernel.DriverSpec{Name: "web", Kind: httpdriver.Kind, Settings: map[string]any{
		"listen": "127.0.0.1:0",
		"routes": []any{map[string]any{"path": "/", "box": "box"}},
	}}, kernel.DriverEnv{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, func(string) (httpdriver.Backend, error) {
		return backendFunc(serve), nil
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-d.Ready():
	case err := <-done:
		b.Fatal(err)
	}
	return fmt.Sprintf("http://%s", d.Addr())
}

type backendFunc func(context.Context, http.ResponseWriter, *http.Request) error

func (f backendFunc) Serve(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	return f(ctx, w, r)
}
