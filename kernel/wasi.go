package kernel

import (
	"io"
	"sort"

	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/wasi"
	"github.com/wbox-dev/wbox/wasmhost/wasihttp"
)

// wasiConfig is what a box's WASI grants give one of its instances.
type wasiConfig struct {
	Args           []string
	Env            [][2]string
	Stdout, Stderr io.Writer // nil: discarded
	Dirs           []DirGrant
}

func (b *boxTask) wasiConfig() wasiConfig {
	g := b.spec.WASI
	c := wasiConfig{Args: g.Args, Dirs: g.Dirs}
	for _, k := range sortedKeys(g.Env) {
		c.Env = append(c.Env, [2]string{k, g.Env[k]})
	}
	if g.Stdout {
		c.Stdout = b.stdout
	}
	if g.Stderr {
		c.Stderr = b.stderr
	}
	return c
}

// instHosts are the host states of one instance: its WASI host and, when
// its component imports wasi:http, its wasi:http host over the WASI one
// (whose streams and pollables the bodies are). Both are closed with the
// instance.
type instHosts struct {
	io   *wasi.Host
	http *wasihttp.Host // nil unless the component imports wasi:http
}

func (h *instHosts) close() {
	if h.http != nil {
		h.http.Close()
	}
	h.io.Close()
}

// wasiImports returns the WASI 0.2 host of one instance (package
// wasmhost/wasi) and its imports. Nothing is ambient: without grants,
// output is discarded, the environment is empty and no directory is
// visible.
func wasiImports(c wasiConfig) (*wasmhost.Imports, *instHosts, error) {
	cfg := wasi.Config{Args: c.Args, Env: c.Env, Stdout: c.Stdout, Stderr: c.Stderr}
	for _, d := range c.Dirs {
		cfg.Preopens = append(cfg.Preopens, wasi.Preopen{HostDir: d.HostDir, GuestPath: d.GuestPath, ReadOnly: d.ReadOnly})
	}
	h := wasi.New(cfg)
	return h.Imports(), &instHosts{io: h}, nil
}

func (b *boxTask) wasiImports() (*wasmhost.Imports, *instHosts, error) {
	return wasiImports(b.wasiConfig())
}

// serveHTTPImports adds wasi:http/types and wasi:http/outgoing-handler to
// im, on the instance's WASI host, with the box's allow-list for outgoing
// requests. The kernel adds no limits to incoming requests: the driver
// that calls ServeHTTP enforces its own (the http ingress caps headers
// and bodies before the box sees them).
func (b *boxTask) serveHTTPImports(im *wasmhost.Imports, hosts *instHosts) {
	hosts.http = wasihttp.New(hosts.io, wasihttp.Config{
		AllowedHosts:   b.spec.HTTP.Allow,
		MaxRequestBody: -1,
		MaxHeaderBytes: -1,
	})
	hosts.http.Register(im)
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
