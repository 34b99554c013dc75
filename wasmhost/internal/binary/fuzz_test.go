package binary

import "testing"

// FuzzDecode checks that Decode never panics and keeps its contract on any
// input: an *Error with an offset inside the input, or a component whose
// offsets and subslices are consistent. testdata/fuzz/FuzzDecode holds real
// components (with core module bodies stubbed out to keep them small) and
// regression inputs.
func FuzzDecode(f *testing.F) {
	f.Add(encComponent())
	f.Add(kitchenSink())
	for _, tc := range malformed {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := Decode(in)
		checkResult(t, in, c, err)
	})
}
