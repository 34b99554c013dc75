package wasmhost_test

import (
	"testing"

	"github.com/wbox-dev/wbox/wasmhost"
)

func wasiImports(t testing.TB) *wasmhost.Imports {
	t.Skip("wasi not ready")
	return nil
}
