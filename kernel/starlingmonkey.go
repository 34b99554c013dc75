package kernel

import (
	"errors"
	"fmt"

	"github.com/wbox-dev/wbox/wasmhost"
)

// StarlingMonkeyHTTP reports whether c is a JavaScript fetch handler built
// by componentize-js (jco componentize): StarlingMonkey serves one HTTP
// request per instance (StarlingMonkey issue #247), so the kernel runs
// such a box with a fresh instance per call unless BoxSpec.Fresh says
// otherwise.
//
// The signal: the component exports wasi:http/incoming-handler 0.2.x, and
// one of its core modules exports both "wizer.resume" and "check_init" —
// the StarlingMonkey engine module as componentize-js emits it (a
// pre-initialized SpiderMonkey whose check_init guards the snapshot). No
// other toolchain wbox knows emits that pair (Go, C and componentize-py
// modules export neither check_init nor wizer.resume together); the
// component's producers section names ComponentizeJS too, but wasmhost
// does not expose custom sections.
func StarlingMonkeyHTTP(c *wasmhost.Component) bool {
	if httpHandlerFunc(c.World()) == "" {
		return false
	}
	for _, m := range c.CoreModules() {
		names, err := coreExports(m)
		if err != nil {
			continue
		}
		var resume, check bool
		for _, n := range names {
			resume = resume || n == "wizer.resume"
			check = check || n == "check_init"
		}
		if resume && check {
			return true
		}
	}
	return false
}

var errShortModule = errors.New("truncated")

// coreExports returns the export names of a core wasm module binary. It
// reads only the section headers and the export section, and fails on
// anything malformed (the bytes come from a component the user gave).
func coreExports(m []byte) ([]string, error) {
	if len(m) < 8 || string(m[:4]) != "\x00asm" || m[4] != 1 || m[5] != 0 || m[6] != 0 || m[7] != 0 {
		return nil, errors.New("core module: not a wasm 1 module header")
	}
	r := byteReader{b: m, off: 8}
	for r.off < len(r.b) {
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("core module: section %d size at offset %d: %w", id, r.off, err)
		}
		if uint64(size) > uint64(len(r.b)-r.off) {
			return nil, fmt.Errorf("core module: section %d at offset %d: %d bytes, %d left: %w", id, r.off, size, len(r.b)-r.off, errShortModule)
		}
		body := byteReader{b: r.b[:r.off+int(size)], off: r.off}
		r.off += int(size)
		if id != 7 {
			continue
		}
		n, err := body.u32()
		if err != nil {
			return nil, fmt.Errorf("core module: export count: %w", err)
		}
		if uint64(n) > uint64(len(body.b)-body.off) { // each export takes >= 3 bytes
			return nil, fmt.Errorf("core module: %d exports in a section of %d bytes: %w", n, size, errShortModule)
		}
		names := make([]string, 0, n)
		for i := range n {
			l, err := body.u32()
			if err != nil {
				return nil, fmt.Errorf("core module: export %d name: %w", i, err)
			}
			if uint64(l) > uint64(len(body.b)-body.off) {
				return nil, fmt.Errorf("core module: export %d name of %d bytes: %w", i, l, errShortModule)
			}
			names = append(names, string(body.b[body.off:body.off+int(l)]))
			body.off += int(l)
			if _, err := body.byte(); err != nil { // kind
				return nil, fmt.Errorf("core module: export %d kind: %w", i, err)
			}
			if _, err := body.u32(); err != nil { // index
				return nil, fmt.Errorf("core module: export %d index: %w", i, err)
			}
		}
		return names, nil
	}
	return nil, nil
}

type byteReader struct {
	b   []byte
	off int
}

func (r *byteReader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errShortModule
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

// u32 reads an unsigned LEB128 of at most 5 bytes that fits 32 bits.
func (r *byteReader) u32() (uint32, error) {
	var v uint32
	for i := 0; i < 5; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if i == 4 && c > 0x0f {
			return 0, errors.New("LEB128 overflows 32 bits")
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errors.New("LEB128 longer than 5 bytes")
}
