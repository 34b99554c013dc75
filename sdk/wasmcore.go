package sdk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Reading and rewriting a core module's import and export sections: cheap
// enough in Go that no node tool is needed (AssemblyScript cannot name its
// exports "iface#func"; the builds must know whether WASI is imported).

var errTruncated = errors.New("truncated core module")

type wreader struct {
	b   []byte
	off int
}

func (r *wreader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errTruncated
	}
	r.off++
	return r.b[r.off-1], nil
}

func (r *wreader) u32() (uint32, error) {
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 || v > 1<<32-1 {
		return 0, errTruncated
	}
	r.off += n
	return uint32(v), nil
}

func (r *wreader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	if r.off+int(n) > len(r.b) {
		return "", errTruncated
	}
	r.off += int(n)
	return string(r.b[r.off-int(n) : r.off]), nil
}

type section struct {
	id         byte
	start, end int // payload bounds in the module
}

// sections splits a core module into its sections.
func sections(m []byte) ([]section, error) {
	if len(m) < 8 || !bytes.Equal(m[:8], []byte{0, 'a', 's', 'm', 1, 0, 0, 0}) {
		return nil, errors.New("not a core WebAssembly module")
	}
	r := &wreader{b: m, off: 8}
	var out []section
	for r.off < len(m) {
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		n, err := r.u32()
		if err != nil {
			return nil, err
		}
		if r.off+int(n) > len(m) {
			return nil, errTruncated
		}
		out = append(out, section{id, r.off, r.off + int(n)})
		r.off += int(n)
	}
	return out, nil
}

// importModules returns the module names a core module imports from.
func importModules(m []byte) (map[string]bool, error) {
	secs, err := sections(m)
	if err != nil {
		return nil, err
	}
	mods := map[string]bool{}
	for _, s := range secs {
		if s.id != 2 {
			continue
		}
		r := &wreader{b: m[:s.end], off: s.start}
		n, err := r.u32()
		if err != nil {
			return nil, err
		}
		for range n {
			mod, err := r.name()
			if err != nil {
				return nil, err
			}
			if _, err := r.name(); err != nil {
				return nil, err
			}
			mods[mod] = true
			if err := skipImportDesc(r); err != nil {
				return nil, err
			}
		}
	}
	return mods, nil
}

func skipImportDesc(r *wreader) error {
	kind, err := r.byte()
	if err != nil {
		return err
	}
	limits := func() error {
		flags, err := r.byte()
		if err != nil {
			return err
		}
		if _, err := r.u32(); err != nil {
			return err
		}
		if flags&1 != 0 {
			_, err = r.u32()
		}
		return err
	}
	switch kind {
	case 0: // func
		_, err = r.u32()
	case 1: // table
		if _, err = r.byte(); err == nil {
			err = limits()
		}
	case 2: // memory
		err = limits()
	case 3: // global
		if _, err = r.byte(); err == nil {
			_, err = r.byte()
		}
	case 4: // tag
		if _, err = r.byte(); err == nil {
			_, err = r.u32()
		}
	default:
		err = fmt.Errorf("unknown import kind %d", kind)
	}
	return err
}

// exportNames returns a core module's export names.
func exportNames(m []byte) ([]string, error) {
	var names []string
	_, err := rewriteExports(m, func(name string) string { names = append(names, name); return name })
	return names, err
}

// rewriteExports returns m with every export renamed by f.
func rewriteExports(m []byte, f func(string) string) ([]byte, error) {
	secs, err := sections(m)
	if err != nil {
		return nil, err
	}
	out := append([]byte(nil), m[:8]...)
	for _, s := range secs {
		payload := m[s.start:s.end]
		if s.id == 7 {
			r := &wreader{b: m[:s.end], off: s.start}
			n, err := r.u32()
			if err != nil {
				return nil, err
			}
			p := binary.AppendUvarint(nil, uint64(n))
			for range n {
				name, err := r.name()
				if err != nil {
					return nil, err
				}
				kind, err := r.byte()
				if err != nil {
					return nil, err
				}
				idx, err := r.u32()
				if err != nil {
					return nil, err
				}
				name = f(name)
				p = binary.AppendUvarint(p, uint64(len(name)))
				p = append(p, name...)
				p = append(p, kind)
				p = binary.AppendUvarint(p, uint64(idx))
			}
			payload = p
		}
		out = append(out, s.id)
		out = binary.AppendUvarint(out, uint64(len(payload)))
		out = append(out, payload...)
	}
	return out, nil
}
