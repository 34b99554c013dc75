package wasmhost_test

import (
	"io"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/wasi"
)

// fixtureWASI serves the WASI 0.2.0 imports that the fixtures' preview1
// adapter pulls in (the C guests use them only for printf and assert()
// messages), capturing stdout and stderr (nil discards).
func fixtureWASI(t testing.TB, stdout, stderr io.Writer) *wasmhost.Imports {
	h := wasi.New(wasi.Config{Args: []string{"fixture"}, Stdout: stdout, Stderr: stderr})
	t.Cleanup(func() { h.Close() })
	return h.Imports()
}
