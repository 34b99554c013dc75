package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbox-dev/wbox/internal/testcomponents"
)

// wbox runs the CLI in process and returns its exit status and output.
func wbox(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	oldStdin := os.Stdin
	if stdin != "" {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() { w.WriteString(stdin); w.Close() }()
		os.Stdin = r
		defer func() { os.Stdin = oldStdin; r.Close() }()
	}
	code := Main(context.Background(), append([]string{args[0], "--cache", t.TempDir()}, args[1:]...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCallAdder(t *testing.T) {
	code, out, errOut := wbox(t, "", "call", testcomponents.Fixture(t, "adder"), "docs:adder/add@0.1.0#add", "2", "3")
	if code != 0 || out != "5\n" {
		t.Fatalf("wbox call adder 2 3: exit %d, stdout %q, stderr %q; want 5", code, out, errOut)
	}
}

func TestCallWAVE(t *testing.T) {
	numbers := testcomponents.Fixture(t, "numbers")
	for _, tc := range []struct{ export, arg, want string }{
		{"test:numbers/test#roundtrip-s8", "-128", "-128"},
		{"test:numbers/test#roundtrip-u64", "18446744073709551615", "18446744073709551615"},
		{"test:numbers/test#roundtrip-f64", "-inf", "-inf"},
		{"test:numbers/test#roundtrip-char", "'🎉'", "'🎉'"},
	} {
		code, out, errOut := wbox(t, "", "call", "--trap-unknown-imports", numbers, tc.export, tc.arg)
		if code != 0 || strings.TrimSpace(out) != tc.want {
			t.Errorf("wbox call %s %s: exit %d, stdout %q, stderr %q; want %s", tc.export, tc.arg, code, out, errOut, tc.want)
		}
	}
}

func TestCallErrors(t *testing.T) {
	adder := testcomponents.Fixture(t, "adder")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{adder, "docs:adder/add@0.1.0#sub", "1"}, `no exported function "docs:adder/add@0.1.0#sub"`},
		{[]string{adder, "docs:adder/add@0.1.0#add", "1", "x"}, `parameter "y"`},
		{[]string{adder, "docs:adder/add@0.1.0#add", "1", "4294967296"}, `parameter "y"`},
		{[]string{testcomponents.Path(t, "echo-c"), "wbox:echo/echo@0.1.0#roundtrip", `"x"`}, `"wbox:echo/log@0.1.0", which the host does not provide`},
		{[]string{"/nonexistent.wasm", "f"}, "no such file"},
	} {
		code, _, errOut := wbox(t, "", append([]string{"call"}, tc.args...)...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("wbox call %q: exit %d, stderr %q; want an error containing %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestInspect(t *testing.T) {
	code, out, errOut := wbox(t, "", "inspect", testcomponents.Path(t, "echo-c"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"import wbox:echo/log@0.1.0: interface {",
		"log: func(msg: string);",
		"export wbox:echo/echo@0.1.0: interface {",
		"record message {",
		"echo: func(m: message) -> result<message, string>;",
		"// sha256:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
}

func TestInspectBadWasm(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.wasm")
	adder, err := os.ReadFile(testcomponents.Fixture(t, "adder"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(bad, adder[:len(adder)/2], 0o644)
	code, _, errOut := wbox(t, "", "inspect", bad)
	if code == 0 || !strings.Contains(errOut, "offset 0x") || !strings.Contains(errOut, "section") {
		t.Fatalf("inspect of a truncated component: exit %d, stderr %q; want an error naming section and offset", code, errOut)
	}
}

func TestRun(t *testing.T) {
	cmd := testcomponents.Path(t, "hello-cmd")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "granted.txt"), []byte("x"), 0o644)
	code, out, errOut := wbox(t, "from stdin\n", "run", "--env", "WHO=tester", "--dir", dir+"::/data", cmd, "--cat", "--ls", "/data", "a1")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"hello from wbox run", "from stdin\n", "entry: granted.txt", "arg[4] = a1", "WHO = tester"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "exiting with 0") {
		t.Errorf("stderr = %q", errOut)
	}
	// A failing command exits non-zero; without --dir nothing is preopened.
	code, _, _ = wbox(t, "", "run", cmd, "--exit", "7")
	if code == 0 {
		t.Errorf("--exit 7: exit status 0")
	}
	code, _, _ = wbox(t, "", "run", cmd, "--ls", "/data")
	if code == 0 {
		t.Errorf("listing an ungranted directory succeeded")
	}
	// A component that is not a command is refused with a hint.
	code, _, errOut = wbox(t, "", "run", testcomponents.Fixture(t, "adder"))
	if code == 0 || !strings.Contains(errOut, "not a command component") {
		t.Errorf("run adder: exit %d, stderr %q", code, errOut)
	}
}
