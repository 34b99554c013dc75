package binary

import (
	"fmt"
	"unicode/utf8"
)

// maxDepth bounds the nesting of components and of component/instance type
// declarators, so a forged binary cannot exhaust the goroutine stack.
const maxDepth = 100

// maxPrealloc caps the capacity reserved up front for a vector. A vector's
// count is already checked against the remaining bytes, but nested vectors
// could each reserve that much before failing; growing by append keeps memory
// proportional to what was actually decoded.
const maxPrealloc = 256

// reader reads one section (or the preamble) of a binary. It keeps the whole
// binary so that pos is always an absolute offset: errors in nested
// components point into the outermost binary without any rebasing.
type reader struct {
	b       []byte // the whole binary
	pos     int    // next byte to read
	end     int    // end of the region this reader may read
	section string // section name for errors, "" outside sections
	depth   int    // nesting depth of components and type declarators
}

func (r *reader) remaining() int { return r.end - r.pos }

func (r *reader) errorf(off int, format string, args ...any) error {
	return &Error{Offset: off, Section: r.section, Msg: fmt.Sprintf(format, args...)}
}

func (r *reader) eofError() error {
	if r.section == "" {
		return r.errorf(r.pos, "unexpected end of input")
	}
	return r.errorf(r.pos, "unexpected end of section")
}

// enter records one more level of nesting; pair it with leave.
func (r *reader) enter(what string) error {
	if r.depth >= maxDepth {
		return r.errorf(r.pos, "%s nested deeper than %d levels", what, maxDepth)
	}
	r.depth++
	return nil
}

func (r *reader) leave() { r.depth-- }

func (r *reader) byte() (byte, error) {
	if r.pos >= r.end {
		return 0, r.eofError()
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

func (r *reader) peek() (byte, error) {
	if r.pos >= r.end {
		return 0, r.eofError()
	}
	return r.b[r.pos], nil
}

// bytes returns the next n bytes as a subslice of the binary.
func (r *reader) bytes(n int) ([]byte, error) {
	if n < 0 || n > r.remaining() {
		return nil, r.errorf(r.pos, "length %d exceeds the %d remaining bytes", n, r.remaining())
	}
	s := r.b[r.pos : r.pos+n : r.pos+n]
	r.pos += n
	return s, nil
}

// u32 reads an unsigned LEB128 u32, rejecting overlong encodings and set bits
// beyond 32 as core wasm does.
func (r *reader) u32() (uint32, error) {
	v, err := r.uleb(32)
	return uint32(v), err
}

func (r *reader) u64() (uint64, error) { return r.uleb(64) }

func (r *reader) uleb(bits uint) (uint64, error) {
	start := r.pos
	var v uint64
	for shift := uint(0); ; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if shift+7 >= bits && shift < 64 {
			// Last allowed byte: no continuation, no bits beyond the width.
			if c&0x80 != 0 || c>>(bits-shift) != 0 {
				return 0, r.errorf(start, "integer too large for u%d", bits)
			}
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
}

// s33 reads a signed LEB128 33-bit integer, the encoding shared by type
// indices (non-negative) and type opcodes (negative, one byte).
func (r *reader) s33() (int64, error) {
	start := r.pos
	var v int64
	var shift uint
	for {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if shift == 28 {
			// Fifth byte: 5 value bits; the 2 unused bits must repeat the
			// sign bit, and there is no continuation.
			unused := c & 0x70 // sign bit and the two above it
			if c&0x80 != 0 || (unused != 0 && unused != 0x70) {
				return 0, r.errorf(start, "integer too large for s33")
			}
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, nil
		}
	}
}

// name reads a length-prefixed UTF-8 string (core:name).
func (r *reader) name() (string, error) {
	start := r.pos
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	s, err := r.bytes(int(n))
	if err != nil {
		return "", err
	}
	if !utf8.Valid(s) {
		return "", r.errorf(start, "name is not valid UTF-8")
	}
	return string(s), nil
}

// count reads a vector length. Every element takes at least one byte, so a
// count beyond the remaining bytes is malformed and is rejected before
// anything is allocated for it.
func (r *reader) count(what string) (int, error) {
	start := r.pos
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if int64(n) > int64(r.remaining()) {
		return 0, r.errorf(start, "%s count %d exceeds the %d remaining bytes", what, n, r.remaining())
	}
	return int(n), nil
}

// vec reads a vector of elements with elem.
func vec[T any](r *reader, what string, elem func(*reader) (T, error)) ([]T, error) {
	n, err := r.count(what)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	out := make([]T, 0, min(n, maxPrealloc))
	for range n {
		v, err := elem(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// sub returns a reader for the next n bytes, which the caller has checked
// are there, as section, and skips them.
func (r *reader) sub(n int, section string) *reader {
	s := &reader{b: r.b, pos: r.pos, end: r.pos + n, section: section, depth: r.depth}
	r.pos += n
	return s
}

// done checks that the reader's region was consumed exactly.
func (r *reader) done() error {
	if r.pos != r.end {
		return r.errorf(r.pos, "%d unexpected bytes at the end of the section", r.end-r.pos)
	}
	return nil
}

// optional reads the <T>? encoding: 0x00 for absent, 0x01 then T.
func optional[T any](r *reader, what string, elem func(*reader) (T, error)) (*T, error) {
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return nil, err
	}
	switch c {
	case 0x00:
		return nil, nil
	case 0x01:
		v, err := elem(r)
		if err != nil {
			return nil, err
		}
		return &v, nil
	}
	return nil, r.errorf(off, "invalid %s presence flag 0x%02x (want 0x00 or 0x01)", what, c)
}

func (r *reader) index() (uint32, error) { return r.u32() }
