package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbox-dev/wbox/edge"
	"github.com/wbox-dev/wbox/internal/testcomponents"
)

func imageCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), append([]string{"image"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// `wbox image` bundles the edge example and generates the image's
// sources; without tamago-go it stops (exit 3) naming what is missing and
// leaves the sources, which boot the example with the interpreter.
func TestImageCommand(t *testing.T) {
	testcomponents.Path(t, "static-site")
	out := filepath.Join(t.TempDir(), "img")
	code, stdout, stderr := imageCmd("--board", "microvm-tcg", "--out", out, "--data", t.TempDir(), "../../examples/edge/topology.yaml")
	_, noTamago := edge.FindToolchain()
	switch {
	case errors.Is(noTamago, edge.ErrNoToolchain):
		if code != 3 || !strings.Contains(stderr, "no Go toolchain for GOOS=tamago (tamago-go)") || !strings.Contains(stderr, "TAMAGO=") {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr)
		}
	case code != 0:
		t.Fatalf("exit %d with tamago-go present, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "bundled ../../examples/edge/topology.yaml: 1 boxes") {
		t.Errorf("stdout:\n%s", stdout)
	}
	for _, f := range []string{"main.go", "go.mod", "bundle/manifest.json", "bundle/topology.yaml", "bundle/dirs/driver-files/index.html"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if _, err := edge.Open(os.DirFS(filepath.Join(out, "bundle"))); err != nil {
		t.Errorf("the written bundle does not open: %v", err)
	}
}

func TestImageCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"x.yaml"}, 1, "no board given (boards: microvm, microvm-tcg)"},
		{[]string{"--board", "rpi", "x.yaml"}, 1, `unknown board "rpi"`},
		{[]string{"--board", "microvm"}, 2, "Usage: wbox image"},
		{[]string{"--board", "microvm", "--out", t.TempDir() + "/o", "../../examples/hello/topology.yaml"}, 1, `unknown kind "kv"`},
	} {
		code, _, stderr := imageCmd(tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("wbox image %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}
