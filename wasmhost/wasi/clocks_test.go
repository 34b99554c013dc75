package wasi

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

func TestWallClock(t *testing.T) {
	at := time.Date(2026, 11, 24, 12, 0, 0, 123456789, time.UTC)
	x := newTester(t, Config{Clock: func() time.Time { return at }})
	if got := fmt.Sprint(x.call("wasi:clocks/wall-clock#now")); got != fmt.Sprintf("[%d 123456789]", at.Unix()) {
		t.Errorf("now = %s", got)
	}
	if got := fmt.Sprint(x.call("wasi:clocks/wall-clock#resolution")); got != "[0 1]" {
		t.Errorf("resolution = %s", got)
	}
	real := newTester(t, Config{})
	sec := real.call("wasi:clocks/wall-clock#now").([]any)[0].(uint64)
	if d := time.Now().Unix() - int64(sec); d < 0 || d > 5 {
		t.Errorf("real now is %d s off", d)
	}
	before := newTester(t, Config{Clock: func() time.Time { return time.Unix(-5, 0) }})
	if got := fmt.Sprint(before.call("wasi:clocks/wall-clock#now")); got != "[0 0]" {
		t.Errorf("pre-1970 now = %s", got)
	}
}

func TestMonotonicClock(t *testing.T) {
	x := newTester(t, Config{})
	a := x.call(fMonoNow).(uint64)
	time.Sleep(2 * time.Millisecond)
	b := x.call(fMonoNow).(uint64)
	if b-a < uint64(2*time.Millisecond) {
		t.Errorf("monotonic clock advanced %d ns in 2 ms", b-a)
	}
	if x.call("wasi:clocks/monotonic-clock#resolution") != uint64(1) {
		t.Error("resolution")
	}
	// A huge duration saturates instead of wrapping into the past.
	p := x.call(fSubDur, ^uint64(0))
	if x.call(fReady, p) != false {
		t.Error("subscribe-duration(max) is ready")
	}
}

func TestTimezone(t *testing.T) {
	x := newTester(t, Config{})
	dt := []any{uint64(0), uint32(0)}
	if got := fmt.Sprint(x.call("wasi:clocks/timezone#display", dt)); got != "[0 UTC false]" {
		t.Errorf("display = %s", got)
	}
	if x.call("wasi:clocks/timezone#utc-offset", dt) != int32(0) {
		t.Error("utc-offset")
	}
}

func TestRandom(t *testing.T) {
	src := bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7, 8}, 32)
	x := newTester(t, Config{Random: bytes.NewReader(src)})
	if got := x.call("wasi:random/random#get-random-bytes", uint64(4)).([]byte); !bytes.Equal(got, []byte{1, 2, 3, 4}) {
		t.Errorf("get-random-bytes = %v", got)
	}
	if got := x.call("wasi:random/random#get-random-u64"); got != uint64(0x0403020108070605) {
		t.Errorf("get-random-u64 = %#x", got)
	}
	s1 := fmt.Sprint(x.call("wasi:random/insecure-seed#insecure-seed"))
	s2 := fmt.Sprint(x.call("wasi:random/insecure-seed#insecure-seed"))
	if s1 != s2 {
		t.Errorf("insecure-seed changed: %s, %s", s1, s2)
	}
	ib := x.call("wasi:random/insecure#get-insecure-random-bytes", uint64(13)).([]byte)
	if len(ib) != 13 {
		t.Errorf("insecure bytes: %d", len(ib))
	}
	x.call("wasi:random/insecure#get-insecure-random-u64")
	// A seeded source makes the insecure generator reproducible.
	y := newTester(t, Config{Random: bytes.NewReader(src)})
	y.call("wasi:random/random#get-random-bytes", uint64(4))
	y.call("wasi:random/random#get-random-u64")
	y.call("wasi:random/insecure-seed#insecure-seed")
	if ib2 := y.call("wasi:random/insecure#get-insecure-random-bytes", uint64(13)).([]byte); !bytes.Equal(ib, ib2) {
		t.Errorf("insecure bytes differ with the same source: %x, %x", ib, ib2)
	}

	// The source running dry traps rather than returning weak bytes.
	z := newTester(t, Config{Random: bytes.NewReader(nil)})
	if _, err := z.try(t.Context(), "wasi:random/random#get-random-u64"); err == nil {
		t.Error("an exhausted random source gave bytes")
	}
	// crypto/rand by default.
	c := newTester(t, Config{})
	a := c.call("wasi:random/random#get-random-bytes", uint64(16)).([]byte)
	b := c.call("wasi:random/random#get-random-bytes", uint64(16)).([]byte)
	if bytes.Equal(a, b) {
		t.Error("two random draws are equal")
	}
	if _, err := c.try(t.Context(), "wasi:random/random#get-random-bytes", uint64(maxRandom+1)); err == nil {
		t.Error("a huge random request succeeded")
	}
}
