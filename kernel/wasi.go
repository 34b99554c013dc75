package kernel

import (
	"io"
	"sort"

	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/wasi"
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

// wasiImports returns the WASI 0.2 host of one instance (package
// wasmhost/wasi) and a func that frees it. Nothing is ambient: without
// grants, output is discarded, the environment is empty and no directory
// is visible.
func wasiImports(c wasiConfig) (*wasmhost.Imports, func(), error) {
	cfg := wasi.Config{Args: c.Args, Env: c.Env, Stdout: c.Stdout, Stderr: c.Stderr}
	for _, d := range c.Dirs {
		cfg.Preopens = append(cfg.Preopens, wasi.Preopen{HostDir: d.HostDir, GuestPath: d.GuestPath, ReadOnly: d.ReadOnly})
	}
	h := wasi.New(cfg)
	return h.Imports(), func() { h.Close() }, nil
}

func (b *boxTask) wasiImports() (*wasmhost.Imports, func(), error) {
	return wasiImports(b.wasiConfig())
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
