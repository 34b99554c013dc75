package kernel

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/wasmhost"
)

// A module with two exports: "check_init" (func 0) and "wizer.resume"
// (func 1), after a custom section; and the same cut short.
var (
	smModule = []byte("\x00asm\x01\x00\x00\x00" +
		"\x00\x04\x03abc" + // custom section "abc"
		"\x07\x1d\x02" + "\x0acheck_init\x00\x00" + "\x0cwizer.resume\x00\x01")
	emptyModule = []byte("\x00asm\x01\x00\x00\x00")
)

func TestCoreExports(t *testing.T) {
	names, err := coreExports(smModule)
	if err != nil || !slices.Equal(names, []string{"check_init", "wizer.resume"}) {
		t.Fatalf("coreExports: %q, %v", names, err)
	}
	if names, err := coreExports(emptyModule); err != nil || names != nil {
		t.Fatalf("empty module: %q, %v", names, err)
	}
	for i := 1; i < len(smModule); i++ {
		if i == 8 || i == 14 { // whole sections: a valid module
			continue
		}
		if _, err := coreExports(smModule[:i]); err == nil {
			t.Errorf("a module cut at %d bytes parsed", i)
		}
	}
	if _, err := coreExports([]byte("\x00asm\x01\x00\x00\x00\x07\xff\xff\xff\xff\x7f")); err == nil {
		t.Error("an overlong LEB128 size parsed")
	}
}

// FuzzCoreExports: any bytes give names or an error, never a panic, and
// every name lies within the input.
func FuzzCoreExports(f *testing.F) {
	f.Add(smModule)
	f.Add(emptyModule)
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x07\x05\x80\x80\x80\x80\x10"))
	f.Fuzz(func(t *testing.T, b []byte) {
		names, err := coreExports(b)
		if err != nil && names != nil {
			t.Fatalf("names %q with error %v", names, err)
		}
		total := 0
		for _, n := range names {
			total += len(n)
		}
		if total > len(b) {
			t.Fatalf("%d bytes of names from %d bytes", total, len(b))
		}
	})
}

// The JS fetch handler is detected; a StarlingMonkey component without an
// HTTP export and a Go component are not.
func TestStarlingMonkeyHTTP(t *testing.T) {
	ctx := context.Background()
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{CacheDir: testCacheDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	for name, want := range map[string]bool{"http-hello": true, "echo-js-sm": false, "echo-go": false} {
		b, err := os.ReadFile(testcomponents.Path(t, name))
		if err != nil {
			t.Fatal(err)
		}
		c, err := rt.Load(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if got := StarlingMonkeyHTTP(c); got != want {
			t.Errorf("%s: StarlingMonkeyHTTP = %v, want %v", name, got, want)
		}
		c.Close(ctx)
	}
}

func testCacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return d + "/wbox/test-compiled"
	}
	return ""
}
