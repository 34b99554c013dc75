package wasmhost_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves goroutines behind (wazero's, or a
// host function's), after closing the runtime the fixture tests share.
func TestMain(m *testing.M) {
	code := m.Run()
	closeFixtureRuntime()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}
