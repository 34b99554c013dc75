package edge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/wbox-dev/wbox/drivers/blob"
	httpdriver "github.com/wbox-dev/wbox/drivers/http"
	"github.com/wbox-dev/wbox/drivers/kv"
	tcpdriver "github.com/wbox-dev/wbox/drivers/tcp"
	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/linker"
	"github.com/wbox-dev/wbox/wasmhost"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func allDrivers() map[string]kernel.DriverFactory {
	return map[string]kernel.DriverFactory{kv.Kind: kv.New, blob.Kind: blob.New, tcpdriver.Kind: tcpdriver.New, httpdriver.Kind: httpdriver.Factory}
}

// imageDrivers are the kinds an image has (ImageDrivers).
func imageDrivers() map[string]kernel.DriverFactory {
	d := allDrivers()
	delete(d, kv.Kind)
	if len(d) != len(ImageDrivers) {
		panic("ImageDrivers and the test's drivers disagree")
	}
	return d
}

// writeBundle bundles the topology file into a new directory.
func writeBundle(t *testing.T, topo string, drivers map[string]kernel.DriverFactory) (string, *Manifest) {
	t.Helper()
	ctx := context.Background()
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	dir := filepath.Join(t.TempDir(), "bundle")
	m, err := Write(ctx, topo, dir, WriteOptions{Runtime: rt, Drivers: drivers, Board: "microvm-tcg"})
	if err != nil {
		t.Fatalf("Write %s: %v", topo, err)
	}
	return dir, m
}

func sumFile(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// The hello example's bundle holds its three components by digest; booted
// from the bundle (a copy, as an image unpacks it) into a kernel running
// the interpreter, front's call crosses its arrows to greeter and counter
// (and counter's to the kv driver).
func TestBundleRoundTripHello(t *testing.T) {
	for _, c := range []string{"hello-front", "hello-greeter", "hello-counter"} {
		testcomponents.Path(t, c)
	}
	dir, m := writeBundle(t, "../examples/hello/topology.yaml", allDrivers())
	for _, box := range []string{"front", "greeter", "counter"} {
		want := sumFile(t, filepath.Join("..", "build", "components", "hello-"+box+".wasm"))
		if m.Components[box] != want {
			t.Errorf("box %s: bundled %s, the component file is %s", box, m.Components[box], want)
		}
		if got := sumFile(t, filepath.Join(dir, filepath.FromSlash(storeRel(want)))); got != want {
			t.Errorf("box %s: the bundle's copy hashes to %s", box, got)
		}
	}
	topo, err := os.ReadFile(filepath.Join(dir, "topology.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(topo), "build/components") || !strings.Contains(string(topo), "component: "+m.Components["front"]) {
		t.Errorf("bundled topology still names component paths:\n%s", topo)
	}

	ctx := context.Background()
	n, err := Boot(ctx, os.DirFS(dir), BootOptions{Drivers: allDrivers(), DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("Boot: %v", err)
	}
	defer n.Close(ctx)
	if n.Bundle.Manifest.Board != "microvm-tcg" {
		t.Errorf("booted bundle's board = %q", n.Bundle.Manifest.Board)
	}
	for i, want := range []string{"1", "2"} {
		res, err := n.Kernel.Call(ctx, "front", "wbox:hello/app@0.1.0#hello", "Ada")
		if err != nil {
			t.Fatalf("call %d of front's hello: %v", i, err)
		}
		got := fmt.Sprint(res...)
		if !strings.Contains(got, "Ada") || !strings.Contains(got, want) {
			t.Errorf("call %d: front's hello(Ada) = %q, want a greeting for Ada with count %s", i, got, want)
		}
	}
}

// The static-site example's blob directory travels in the bundle: the
// booted node's HTTP ingress serves the bundled copy of site/.
func TestBundleRoundTripStaticSite(t *testing.T) {
	comp := testcomponents.Path(t, "static-site")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	src, err := os.ReadFile("../examples/static-site/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	site, _ := filepath.Abs("../examples/static-site/site")
	abs, _ := filepath.Abs(comp)
	topo := strings.NewReplacer("../../build/components/static-site.wasm", abs, "dir: site", "dir: "+site, "127.0.0.1:8080", addr).Replace(string(src))
	file := filepath.Join(t.TempDir(), "topology.yaml")
	if err := os.WriteFile(file, []byte(topo), 0o644); err != nil {
		t.Fatal(err)
	}
	dir, m := writeBundle(t, file, imageDrivers())
	index, err := os.ReadFile(filepath.Join(site, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Files["dirs/driver-files/index.html"]; !ok {
		t.Fatalf("bundle files %v lack the site's index.html", m.Files)
	}

	ctx := context.Background()
	n, err := Boot(ctx, os.DirFS(dir), BootOptions{Drivers: imageDrivers(), DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("Boot: %v", err)
	}
	defer n.Close(ctx)
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != string(index) {
		t.Errorf("GET / = %d %q, want 200 and site/index.html (%d bytes)", resp.StatusCode, body, len(index))
	}
}

// A bundle whose files were changed, added or lost is refused, saying
// which file.
func TestOpenRefusesDamagedBundles(t *testing.T) {
	testcomponents.Path(t, "hello-greeter")
	topo := filepath.Join(t.TempDir(), "topology.yaml")
	greeter, _ := filepath.Abs(testcomponents.Path(t, "hello-greeter"))
	os.WriteFile(topo, []byte("boxes:\n  greeter:\n    component: "+greeter+"\n"), 0o644)
	for _, tc := range []struct {
		name, want string
		damage     func(dir string, m *Manifest) error
	}{
		{"component flipped", "is corrupt: its content hashes to", func(dir string, m *Manifest) error {
			p := filepath.Join(dir, filepath.FromSlash(storeRel(m.Components["greeter"])))
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 1
			return os.WriteFile(p, b, 0o644)
		}},
		{"topology edited", "file topology.yaml is corrupt", func(dir string, m *Manifest) error {
			return os.WriteFile(filepath.Join(dir, "topology.yaml"), []byte("boxes: {}\n"), 0o644)
		}},
		{"file added", "file extra.wasm is not in the manifest", func(dir string, m *Manifest) error {
			return os.WriteFile(filepath.Join(dir, "extra.wasm"), []byte("x"), 0o644)
		}},
		{"component lost", `component of box "greeter"`, func(dir string, m *Manifest) error {
			return os.Remove(filepath.Join(dir, filepath.FromSlash(storeRel(m.Components["greeter"]))))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, m := writeBundle(t, topo, imageDrivers())
			if _, err := Open(os.DirFS(dir)); err != nil {
				t.Fatalf("undamaged bundle: %v", err)
			}
			if err := tc.damage(dir, m); err != nil {
				t.Fatal(err)
			}
			_, err := Open(os.DirFS(dir))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// Write type-checks first: a topology with a driver kind images lack (kv)
// is refused, and nothing is written.
func TestWriteTypeChecks(t *testing.T) {
	for _, c := range []string{"hello-front", "hello-greeter", "hello-counter"} {
		testcomponents.Path(t, c)
	}
	ctx := context.Background()
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	dir := filepath.Join(t.TempDir(), "bundle")
	_, err = Write(ctx, "../examples/hello/topology.yaml", dir, WriteOptions{Runtime: rt, Drivers: imageDrivers()})
	if err == nil || !strings.Contains(err.Error(), `unknown kind "kv"`) {
		t.Fatalf("Write = %v, want the linker's unknown kind error", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused topology left %s (%v)", dir, err)
	}
}

func TestBoardNamed(t *testing.T) {
	for _, name := range []string{"microvm", "microvm-tcg"} {
		b, err := BoardNamed(name)
		if err != nil || b.Name != name || b.GOOS != "tamago" || b.Import == "" || !strings.Contains(b.QEMU, "IMAGE") {
			t.Errorf("BoardNamed(%q) = %+v, %v", name, b, err)
		}
	}
	for _, tc := range []struct{ name, want string }{
		{"", "no board given (boards: microvm, microvm-tcg)"},
		{"microvm-kvm", `unknown board "microvm-kvm" (boards: microvm, microvm-tcg)`},
	} {
		if _, err := BoardNamed(tc.name); err == nil || err.Error() != tc.want {
			t.Errorf("BoardNamed(%q) = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// A box's preopened directories travel in the bundle too, and the
// unpacked topology grants the unpacked copy.
func TestBundleWASIDirs(t *testing.T) {
	greeter, _ := filepath.Abs(testcomponents.Path(t, "hello-greeter"))
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "data", "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "data", "sub", "a.txt"), []byte("hello"), 0o644)
	topo := filepath.Join(src, "topology.yaml")
	os.WriteFile(topo, []byte("boxes:\n  greeter:\n    component: "+greeter+"\n    wasi:\n      dirs:\n        - {host: ./data, guest: /data, readonly: true}\n"), 0o644)
	dir, m := writeBundle(t, topo, imageDrivers())
	if _, ok := m.Files["dirs/box-greeter-0/sub/a.txt"]; !ok {
		t.Fatalf("bundle files %v lack the box's directory", m.Files)
	}
	b, err := Open(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	unpacked := t.TempDir()
	file, err := b.Unpack(unpacked)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := linker.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tp.Boxes[0].WASI.Dirs[0].HostDir, filepath.Join(unpacked, "dirs", "box-greeter-0"); got != want {
		t.Errorf("unpacked grant's host dir = %s, want %s", got, want)
	}
	if data, err := os.ReadFile(filepath.Join(unpacked, "dirs", "box-greeter-0", "sub", "a.txt")); string(data) != "hello" {
		t.Errorf("unpacked a.txt = %q, %v", data, err)
	}
}
