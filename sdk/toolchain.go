package sdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// ToolError says which toolchain is missing and how to install it.
type ToolError struct {
	Tool string // "jco", "clang", "go", "node", "asc"
	Msg  string
}

func (e *ToolError) Error() string { return e.Msg }

// IsMissingTool reports whether err says a toolchain is not installed.
func IsMissingTool(err error) bool {
	var te *ToolError
	return errors.As(err, &te)
}

const npmHint = "run `npm ci` in your wbox checkout (it installs the pinned jco, componentize-js and assemblyscript), " +
	"or set WBOX_NODE_MODULES to a node_modules directory that has them"

// NodeModules returns the node_modules directory with the pinned npm
// toolchain: $WBOX_NODE_MODULES, else the first node_modules with jco in
// dir or above it, in the wbox executable's directory or above it, or in
// the working directory or above it.
func NodeModules(dir string) (string, error) {
	if env := os.Getenv("WBOX_NODE_MODULES"); env != "" {
		if hasJco(env) {
			return filepath.Abs(env)
		}
		return "", &ToolError{"jco", fmt.Sprintf("WBOX_NODE_MODULES=%s has no @bytecodealliance/jco: %s", env, npmHint)}
	}
	var starts []string
	if dir != "" {
		starts = append(starts, dir)
	}
	if exe, err := os.Executable(); err == nil {
		if exe, err := filepath.EvalSymlinks(exe); err == nil {
			starts = append(starts, filepath.Dir(exe))
		}
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, s := range starts {
		s, err := filepath.Abs(s)
		if err != nil {
			continue
		}
		for {
			nm := filepath.Join(s, "node_modules")
			if hasJco(nm) {
				return nm, nil
			}
			parent := filepath.Dir(s)
			if parent == s {
				break
			}
			s = parent
		}
	}
	return "", &ToolError{"jco", "jco (npm) not found: " + npmHint}
}

func hasJco(nm string) bool {
	_, err := os.Stat(filepath.Join(nm, "@bytecodealliance", "jco", "package.json"))
	return err == nil
}

// lookTool finds an executable on PATH (and, for go, in its default
// install location), or says how to install it.
func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	switch name {
	case "go":
		p := filepath.Join(runtime.GOROOT(), "bin", "go")
		for _, c := range []string{p, "/usr/local/go/bin/go"} {
			if _, err := os.Stat(c); err == nil {
				return c, nil
			}
		}
		return "", &ToolError{"go", "go not found: install Go 1.26 (https://go.dev/dl) and put it on PATH"}
	case "clang":
		return "", &ToolError{"clang", "clang not found: install Debian's `clang lld wasi-libc libclang-rt-14-dev-wasm32` (apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)"}
	case "node":
		return "", &ToolError{"node", "node not found: install Node.js 20 or later (Debian: apt-get install nodejs npm), then `npm ci` in your wbox checkout"}
	}
	return "", &ToolError{name, name + " not found on PATH"}
}

// checkClangWasm verifies that clang can target wasm32-wasi (wasi-libc,
// lld and the wasm32 compiler-rt are separate Debian packages).
func checkClangWasm() error {
	for _, f := range []string{"/usr/include/wasm32-wasi/stdlib.h", "/usr/lib/wasm32-wasi/libc.a"} {
		if _, err := os.Stat(f); err != nil {
			return &ToolError{"clang", "wasi-libc not found (" + f + "): apt-get install wasi-libc lld libclang-rt-14-dev-wasm32"}
		}
	}
	if _, err := exec.LookPath("wasm-ld"); err != nil {
		return &ToolError{"clang", "wasm-ld not found: apt-get install lld"}
	}
	return nil
}

// run runs a command in dir with extra environment, returning its
// combined output in the error when it fails.
func run(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("%s failed:\n%s", filepath.Base(name), indent(msg))
	}
	return nil
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

// toolIdentity returns a string naming the version of a toolchain, for
// cache keys.
var toolIdentity = sync.OnceValue(func() map[string]string { return map[string]string{} })
var toolIdentityMu sync.Mutex

func identity(ctx context.Context, key string, name string, args ...string) string {
	toolIdentityMu.Lock()
	defer toolIdentityMu.Unlock()
	m := toolIdentity()
	if v, ok := m[key]; ok {
		return v
	}
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, io.Discard
	_ = cmd.Run()
	m[key] = out.String()
	return m[key]
}
