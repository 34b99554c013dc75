package wasmhost_test

import (
	"testing"

	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/wasi"
)

// wasiImports gives a test component WASI with nothing granted.
func wasiImports(t testing.TB) *wasmhost.Imports {
	h := wasi.New(wasi.Config{})
	t.Cleanup(func() { h.Close() })
	return h.Imports()
}
