// Package testcomponents locates WebAssembly components for Go tests.
//
// Path finds our own test components, built by `make components`
// (components/build.sh) into <repo>/build/components/<name>.wasm, e.g.
// "echo-c", "echo-wat", "echo-go", "echo-js". Fixture finds the third-party
// reference components in shared/fixtures/components/<name>.component.wasm,
// which lives beside the repository (<repo>/../shared), both on developer
// machines and in CI.
//
// A missing file skips the test locally, so `go test ./...` works before the
// first build, but fails it under CI (env CI non-empty), where a skip would
// silently hide untested code.
package testcomponents

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Path returns the absolute path of build/components/<name>.wasm.
func Path(t testing.TB, name string) string {
	t.Helper()
	return find(t, filepath.Join(RepoRoot(t), "build", "components", name+".wasm"),
		"run `make components`")
}

// Fixture returns the absolute path of
// <repo>/../shared/fixtures/components/<name>.component.wasm.
func Fixture(t testing.TB, name string) string {
	t.Helper()
	return find(t, filepath.Join(filepath.Dir(RepoRoot(t)), "shared", "fixtures", "components", name+".component.wasm"),
		"shared/ must be checked out beside the repository")
}

// find returns path if it exists, else skips (fails under CI) saying hint.
func find(t testing.TB, path, hint string) string {
	t.Helper()
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return path
	case !errors.Is(err, fs.ErrNotExist):
		t.Fatalf("testcomponents: %v", err)
	case os.Getenv("CI") != "":
		t.Fatalf("testcomponents: %s is missing: %s", path, hint)
	default:
		t.Skipf("testcomponents: %s is missing: %s", path, hint)
	}
	return ""
}

// modulePath identifies the repository's go.mod among nested ones (such as
// components/echo/go's).
const modulePath = "github.com/wbox-dev/wbox"

var (
	rootOnce sync.Once
	root     string
	rootErr  error
)

// RepoRoot returns the repository root: the nearest directory above the
// working directory (for `go test`, the package's directory) whose go.mod
// declares module github.com/wbox-dev/wbox.
func RepoRoot(t testing.TB) string {
	t.Helper()
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			rootErr = err
			return
		}
		for {
			if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modfile(data) == modulePath {
				root = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				rootErr = fmt.Errorf("no go.mod for module %s above the working directory", modulePath)
				return
			}
			dir = parent
		}
	})
	if rootErr != nil {
		t.Fatalf("testcomponents: locating repo root: %v", rootErr)
	}
	return root
}

// modfile returns the module path declared by go.mod content.
func modfile(data []byte) string {
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}
