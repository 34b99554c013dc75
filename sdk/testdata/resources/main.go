// The Go guest of the exported-resource test (world test:res/res).
package main

import (
	"strconv"

	"res/gen/test/res/counters"
)

type counter struct {
	name string
	n    uint32
}

var live uint32

func (c *counter) Add(n uint32) uint32 { c.n += n; return c.n }
func (c *counter) Label() string       { return c.name + "=" + strconv.FormatUint(uint64(c.n), 10) }
func (c *counter) Drop()               { live-- }

func newCounter(name string, start uint32) counters.Counter {
	live++
	return &counter{name: name, n: start}
}

func init() {
	counters.Exports.NewCounter = newCounter
	counters.Exports.CounterMerge = func(a, b counters.Counter) counters.Counter {
		x, y := a.(*counter), b.(*counter)
		return newCounter(x.name+"+"+y.name, x.n+y.n)
	}
	counters.Exports.Make = func(start uint32) counters.Counter { return newCounter("made", start) }
	counters.Exports.Total = func(cs []counters.Counter) uint32 {
		var t uint32
		for _, c := range cs {
			t += c.(*counter).n
		}
		return t
	}
	counters.Exports.Live = func() uint32 { return live }
}

func main() {}
