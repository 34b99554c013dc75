package bench

import (
	"testing"
	"time"
)

// pair runs base and subject alternately in chunks of chunk operations for
// b.N operations each, and reports both costs and their ratio.
func pair(b *testing.B, chunk int, base, subject func(n int)) {
	b.Helper()
	var tb, ts time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += chunk {
		n := min(chunk, b.N-done)
		t0 := time.Now()
		base(n)
		t1 := time.Now()
		subject(n)
		ts += time.Since(t1)
		tb += t1.Sub(t0)
	}
	b.StopTimer()
	nb := float64(tb.Nanoseconds()) / float64(b.N)
	ns := float64(ts.Nanoseconds()) / float64(b.N)
	b.ReportMetric(nb, "base-ns/op")
	b.ReportMetric(ns, "wbox-ns/op")
	b.ReportMetric(ns/nb, "x")
	b.ReportMetric(0, "ns/op") // the pair's total says nothing on its own
}
