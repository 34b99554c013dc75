package wire

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// fuzzTypes are the types FuzzDecode decodes untrusted bytes as, chosen by
// the fuzzer's first argument.
var fuzzTypes = func() []*value.Type {
	var ts []*value.Type
	seen := map[*value.Type]bool{}
	for _, s := range samples() {
		if !seen[s.t] {
			seen[s.t] = true
			ts = append(ts, s.t)
		}
	}
	return append(ts,
		value.ListOf(shape),
		value.ListOf(value.TupleOf()),
		value.ListOf(value.OptionOf(value.Char)),
		value.TupleOf(value.String, value.ListOf(value.U8), value.ResultOf(nil, colors)),
	)
}()

// FuzzDecode decodes arbitrary bytes as each type. Whatever decodes must be
// a valid value of the type, encode again, and decode to the same value;
// the minimal encoding is never longer than what was read.
func FuzzDecode(f *testing.F) {
	for i, t := range fuzzTypes {
		for _, s := range samples() {
			if s.t == t {
				b, _ := Append(nil, t, s.v)
				f.Add(uint8(i), b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, sel uint8, data []byte) {
		ty := fuzzTypes[int(sel)%len(fuzzTypes)]
		v, rest, err := Decode(data, ty)
		if err != nil {
			return
		}
		if err := value.Check(ty, v); err != nil {
			t.Fatalf("%s: decoded an invalid value: %v", ty, err)
		}
		b, err := Append(nil, ty, v)
		if err != nil {
			t.Fatalf("%s: cannot encode what was decoded (%#v): %v", ty, v, err)
		}
		if read := len(data) - len(rest); len(b) > read {
			t.Fatalf("%s: re-encoded in %d bytes, read %d", ty, len(b), read)
		}
		v2, rest2, err := Decode(b, ty)
		if err != nil || len(rest2) != 0 {
			t.Fatalf("%s: re-decoding %x: %v (%d left)", ty, b, err, len(rest2))
		}
		if !sameValue(v, v2) {
			t.Fatalf("%s: %#v re-decoded as %#v", ty, v, v2)
		}
	})
}

// TestWriteSeedCorpus regenerates testdata/fuzz/FuzzDecode from the
// samples, plus malformed inputs, when WBOX_WRITE_CORPUS is set. The
// checked-in corpus runs with every `go test`.
func TestWriteSeedCorpus(t *testing.T) {
	if os.Getenv("WBOX_WRITE_CORPUS") == "" {
		t.Skip("set WBOX_WRITE_CORPUS=1 to regenerate testdata/fuzz/FuzzDecode")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(sel int, b []byte) {
		body := fmt.Sprintf("go test fuzz v1\nbyte(%q)\n[]byte(%q)\n", byte(sel), b)
		h := sha256.Sum256([]byte(body))
		if err := os.WriteFile(filepath.Join(dir, hex.EncodeToString(h[:8])), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, ty := range fuzzTypes {
		for _, s := range samples() {
			if s.t != ty {
				continue
			}
			b, err := Append(nil, ty, s.v)
			if err != nil {
				t.Fatal(err)
			}
			write(i, b)
			if len(b) > 1 {
				write(i, b[:len(b)-1]) // truncated
				c := append([]byte(nil), b...)
				c[0] ^= 0x80 // a flipped continuation or tag bit
				write(i, c)
			}
		}
		write(i, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}) // a huge length
		write(i, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	}
}
