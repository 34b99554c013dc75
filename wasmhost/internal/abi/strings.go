package abi

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// loadString reads the string at p of tagged length n in the option's
// encoding (load_string_from_range) and returns it as UTF-8.
func (c *cx) loadString(p, n uint32) (string, error) {
	var size uint64
	var align uint32
	utf16 := false
	switch c.o.Encoding {
	case UTF8:
		size, align = uint64(n), 1
	case UTF16:
		size, align, utf16 = 2*uint64(n), 2, true
	case Latin1UTF16:
		align = 2
		if n&UTF16Tag != 0 {
			size, utf16 = 2*uint64(n&^UTF16Tag), true
		} else {
			size = uint64(n)
		}
	default:
		return "", errEncoding(c.o.Encoding)
	}
	if size > MaxStringByteLength {
		return "", trapf("string of %d bytes exceeds the maximum of %d bytes", size, MaxStringByteLength)
	}
	if err := c.checkRange("string", p, size, align); err != nil {
		return "", err
	}
	b := c.mem[p : uint64(p)+size]
	switch {
	case utf16:
		s, bad, ok := decodeUTF16(b)
		if !ok {
			return "", trapf("invalid UTF-16 in string at %#x: unpaired surrogate %#x", p, bad)
		}
		return s, nil
	case c.o.Encoding == UTF8:
		if !utf8.Valid(b) {
			return "", trapf("invalid UTF-8 in string at %#x (%d bytes)", p, size)
		}
		return string(b), nil
	default:
		return decodeLatin1(b), nil
	}
}

// errEncoding reports an Options.Encoding that is none of the encodings.
type errEncoding StringEncoding

func (e errEncoding) Error() string {
	return "abi: invalid string encoding " + strconv.Itoa(int(e))
}

// decodeUTF16 converts little-endian UTF-16 to a UTF-8 string. It returns
// the offending code unit and false on an unpaired surrogate.
func decodeUTF16(b []byte) (string, uint16, bool) {
	n := len(b) / 2
	b = b[:2*n]
	// Pass 1: validate and size, skipping ASCII four code units at a time.
	size := 0
	for i := 0; i < len(b); i += 2 {
		for i+8 <= len(b) && binary.LittleEndian.Uint64(b[i:])&0xFF80FF80FF80FF80 == 0 {
			size += 4
			i += 8
		}
		if i >= len(b) {
			break
		}
		u := uint16(b[i]) | uint16(b[i+1])<<8
		switch {
		case u < 0x80:
			size++
		case u < 0x800:
			size += 2
		case u < 0xD800 || u >= 0xE000:
			size += 3
		case u < 0xDC00:
			if i+3 >= len(b) {
				return "", u, false
			}
			if u2 := uint16(b[i+2]) | uint16(b[i+3])<<8; u2 < 0xDC00 || u2 >= 0xE000 {
				return "", u, false
			}
			size += 4
			i += 2
		default:
			return "", u, false
		}
	}
	if size == 0 {
		return "", 0, true
	}
	out := make([]byte, size)
	if size == n {
		// All ASCII.
		for i := range out {
			out[i] = b[2*i]
		}
		return unsafe.String(&out[0], size), 0, true
	}
	j := 0
	for i := 0; i < len(b); i += 2 {
		u := rune(b[i]) | rune(b[i+1])<<8
		switch {
		case u < 0x80:
			out[j] = byte(u)
			j++
			continue
		case u >= 0xD800 && u < 0xDC00:
			u2 := rune(b[i+2]) | rune(b[i+3])<<8
			u = 0x10000 + (u-0xD800)<<10 + (u2 - 0xDC00)
			i += 2
		}
		j += utf8.EncodeRune(out[j:], u)
	}
	return unsafe.String(&out[0], size), 0, true
}

// decodeLatin1 converts Latin-1 to a UTF-8 string.
func decodeLatin1(b []byte) string {
	extra := 0
	for _, x := range b {
		extra += int(x >> 7)
	}
	if extra == 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b)+extra)
	for _, x := range b {
		if x < 0x80 {
			out = append(out, x)
		} else {
			out = append(out, 0xC0|x>>6, 0x80|x&0x3F)
		}
	}
	return unsafe.String(unsafe.SliceData(out), len(out))
}

// storeString stores s, UTF-8 from the host, in a new allocation in the
// option's encoding (store_string_into_range for a utf8 source) and returns
// its pointer and tagged length.
func (c *cx) storeString(s string) (uint32, uint32, error) {
	if len(s) > MaxStringByteLength {
		return 0, 0, &ValueError{Type: value.String, Msg: "string of " + strconv.Itoa(len(s)) + " bytes exceeds the maximum of " + strconv.Itoa(MaxStringByteLength) + " bytes"}
	}
	if !utf8.ValidString(s) {
		return 0, 0, &ValueError{Type: value.String, Msg: "string is not valid UTF-8"}
	}
	n := uint32(len(s))
	switch c.o.Encoding {
	case UTF8:
		// store_string_copy
		p, err := c.realloc(0, 0, 1, n)
		if err != nil {
			return 0, 0, err
		}
		copy(c.mem[p:], s)
		return p, n, nil
	case UTF16:
		return c.storeUTF8ToUTF16(s)
	case Latin1UTF16:
		return c.storeUTF8ToLatin1OrUTF16(s)
	}
	return 0, 0, errEncoding(c.o.Encoding)
}

// storeUTF8ToUTF16 is store_utf8_to_utf16: allocate the worst case (two
// bytes per UTF-8 byte), encode, shrink.
func (c *cx) storeUTF8ToUTF16(s string) (uint32, uint32, error) {
	worst := 2 * uint32(len(s))
	p, err := c.realloc(0, 0, 2, worst)
	if err != nil {
		return 0, 0, err
	}
	size := encodeUTF16(c.mem[p:uint64(p)+uint64(worst)], s)
	if size < worst {
		if p, err = c.realloc(p, worst, 2, size); err != nil {
			return 0, 0, err
		}
	}
	return p, size / 2, nil
}

// encodeUTF16 writes valid UTF-8 s as little-endian UTF-16 into dst, which
// has room for it, and returns the number of bytes written.
func encodeUTF16(dst []byte, s string) uint32 {
	j := 0
	for i := 0; i < len(s); {
		if x := s[i]; x < 0x80 {
			dst[j], dst[j+1] = x, 0
			j += 2
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		i += w
		if r >= 0x10000 {
			r -= 0x10000
			hi, lo := 0xD800+(r>>10), 0xDC00+(r&0x3FF)
			dst[j], dst[j+1], dst[j+2], dst[j+3] = byte(hi), byte(hi>>8), byte(lo), byte(lo>>8)
			j += 4
			continue
		}
		dst[j], dst[j+1] = byte(r), byte(r>>8)
		j += 2
	}
	return uint32(j)
}

// storeUTF8ToLatin1OrUTF16 is store_string_to_latin1_or_utf16: copy as
// Latin-1 into an allocation of one byte per UTF-8 byte; at the first code
// point beyond Latin-1, grow to the UTF-16 worst case, inflate the bytes
// copied so far in place and encode the rest as UTF-16; shrink at the end.
func (c *cx) storeUTF8ToLatin1OrUTF16(s string) (uint32, uint32, error) {
	n := uint32(len(s))
	p, err := c.realloc(0, 0, 2, n)
	if err != nil {
		return 0, 0, err
	}
	var k uint32 // Latin-1 bytes written
	for i := 0; i < len(s); {
		r, w := rune(s[i]), 1
		if r >= 0x80 {
			r, w = utf8.DecodeRuneInString(s[i:])
		}
		if r < 0x100 {
			c.mem[p+k] = byte(r)
			k++
			i += w
			continue
		}
		worst := 2 * n
		if p, err = c.realloc(p, n, 2, worst); err != nil {
			return 0, 0, err
		}
		m := c.mem[p : uint64(p)+uint64(worst)]
		for j := int(k) - 1; j >= 0; j-- {
			m[2*j], m[2*j+1] = m[j], 0
		}
		size := 2*k + encodeUTF16(m[2*k:], s[i:])
		if worst > size {
			if p, err = c.realloc(p, worst, 2, size); err != nil {
				return 0, 0, err
			}
		}
		return p, size/2 | UTF16Tag, nil
	}
	if k < n {
		if p, err = c.realloc(p, n, 2, k); err != nil {
			return 0, 0, err
		}
	}
	return p, k, nil
}
