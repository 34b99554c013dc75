package wasmhost

import (
	"errors"
)

// emptyModule stands in for the empty import module name. wit-component's
// fixup and init modules import from "", which the core spec allows but
// wazero rejects; Load renames it in the module binary and the instantiator
// passes the "" argument under this name.
const emptyModule = "\x00"

// renameEmptyImports returns the module with every empty import module name
// replaced by emptyModule, or the module itself when it has none.
func renameEmptyImports(mod []byte) ([]byte, error) {
	if len(mod) < 8 {
		return mod, nil
	}
	p := 8
	for p < len(mod) {
		id := mod[p]
		size, n, err := readU32(mod, p+1)
		if err != nil {
			return nil, err
		}
		start := p + 1 + n
		end := start + int(size)
		if end > len(mod) || end < start {
			return nil, errors.New("section overruns the module")
		}
		if id == 2 {
			body, changed, err := rewriteImports(mod[start:end])
			if err != nil {
				return nil, err
			}
			if !changed {
				return mod, nil
			}
			out := append([]byte(nil), mod[:p+1]...)
			out = appendU32(out, uint32(len(body)))
			out = append(out, body...)
			return append(out, mod[end:]...), nil
		}
		p = end
	}
	return mod, nil
}

func rewriteImports(b []byte) ([]byte, bool, error) {
	count, p, err := readU32(b, 0)
	if err != nil {
		return nil, false, err
	}
	out := appendU32(nil, count)
	changed := false
	for i := uint32(0); i < count; i++ {
		// module name
		l, n, err := readU32(b, p)
		if err != nil || p+n+int(l) > len(b) {
			return nil, false, errors.New("bad import module name")
		}
		name := b[p+n : p+n+int(l)]
		p += n + int(l)
		if len(name) == 0 {
			name, changed = []byte(emptyModule), true
		}
		out = appendName(out, string(name))
		// field name and description are copied as they are
		descStart := p
		l, n, err = readU32(b, p)
		if err != nil || p+n+int(l) >= len(b) {
			return nil, false, errors.New("bad import field name")
		}
		p += n + int(l)
		kind := b[p]
		p++
		switch kind {
		case 0x00: // func: type index
			_, n, err = readU32(b, p)
			p += n
		case 0x01: // table: reftype, limits
			p++
			p, err = skipLimits(b, p)
		case 0x02: // memory: limits
			p, err = skipLimits(b, p)
		case 0x03: // global: valtype, mutability
			p += 2
		case 0x04: // tag: attribute, type index
			p++
			_, n, err = readU32(b, p)
			p += n
		default:
			return nil, false, errors.New("unknown import kind")
		}
		if err != nil || p > len(b) {
			return nil, false, errors.New("bad import description")
		}
		out = append(out, b[descStart:p]...)
	}
	return out, changed, nil
}

func skipLimits(b []byte, p int) (int, error) {
	if p >= len(b) {
		return p, errors.New("truncated limits")
	}
	flags := b[p]
	p++
	readNum := func() error {
		for {
			if p >= len(b) {
				return errors.New("truncated limits")
			}
			c := b[p]
			p++
			if c&0x80 == 0 {
				return nil
			}
		}
	}
	if err := readNum(); err != nil {
		return p, err
	}
	if flags&1 != 0 {
		if err := readNum(); err != nil {
			return p, err
		}
	}
	return p, nil
}

func readU32(b []byte, p int) (uint32, int, error) {
	var v uint32
	for i := 0; i < 5; i++ {
		if p+i >= len(b) {
			return 0, 0, errors.New("truncated LEB128")
		}
		c := b[p+i]
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("LEB128 too long")
}
