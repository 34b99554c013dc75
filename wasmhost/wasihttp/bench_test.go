package wasihttp

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost/wasi"
)

// BenchmarkInstantiate is the price of a fresh instance of http-hello.
func BenchmarkInstantiate(b *testing.B) {
	c := helloComponent(b)
	ctx := context.Background()
	for b.Loop() {
		io := wasi.New(wasi.Config{})
		h := New(io, Config{})
		inst, err := c.Instantiate(ctx, h.Imports())
		if err != nil {
			b.Fatal(err)
		}
		inst.Close(ctx)
		h.Close()
		io.Close()
	}
}

// BenchmarkServe serves a GET with a fresh instance per request, in
// process (no network).
func BenchmarkServe(b *testing.B) {
	hd := freshHandler(b, Config{}, io.Discard)
	for b.Loop() {
		w := httptest.NewRecorder()
		hd.ServeHTTP(w, httptest.NewRequest("GET", "/bench", strings.NewReader("")))
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
