package kernel

import (
	"io"
	"sort"

	"github.com/wbox-dev/wbox/wasmhost"
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

// wasiImports returns the WASI 0.2 host of one instance and a func that
// frees it.
//
// TODO(wasi): package wasmhost/wasi is being written; until it lands, no
// WASI interface is served, so a component importing one fails to
// instantiate, naming the interface. Then this becomes:
//
//	h := wasi.New(wasi.Config{Args: c.Args, Env: c.Env, Stdout: c.Stdout, Stderr: c.Stderr, Preopens: ...})
//	return h.Imports(), func() { h.Close() }, nil
var wasiImports = func(c wasiConfig) (*wasmhost.Imports, func(), error) {
	return wasmhost.NewImports(), func() {}, nil
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
