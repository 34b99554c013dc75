// The Go guest of the bindings test (world test:kitchen/kitchen).
package main

import (
	"strconv"

	"kitchen/gen/cabi"
	"kitchen/gen/test/kitchen/api"
	"kitchen/gen/test/kitchen/host"
	"kitchen/gen/test/kitchen/kitchen"
	"kitchen/gen/test/kitchen/types"
)

func init() {
	api.Exports.RoundtripItem = func(i types.Item) types.Item { return i }
	api.Exports.RoundtripItems = func(items types.Items) types.Items { return items }
	api.Exports.ReverseShapes = func(s []types.Shape) []types.Shape {
		out := make([]types.Shape, len(s))
		for i, x := range s {
			out[len(s)-1-i] = x
		}
		return out
	}
	api.Exports.Classify = func(n int64) cabi.Result[string, types.Color] {
		switch {
		case n < 0:
			return cabi.Err[string](types.ColorRed)
		case n == 0:
			return cabi.Err[string](types.ColorBlue)
		}
		return cabi.OK[string, types.Color]("n=" + strconv.FormatInt(n, 10))
	}
	api.Exports.Opt = func(o cabi.Option[cabi.Option[uint32]]) cabi.Option[cabi.Option[uint32]] { return o }
	api.Exports.Swap = func(t struct {
		F0 uint8
		F1 string
		F2 float32
	}) struct {
		F0 float32
		F1 string
		F2 uint8
	} {
		return struct {
			F0 float32
			F1 string
			F2 uint8
		}{t.F2, t.F1 + "!", t.F0}
	}
	api.Exports.Many = func(a uint32, b uint64, c float32, d float64, e, f, g, h, i, j, k, l, m string) uint32 {
		n := a + uint32(b) + uint32(c) + uint32(d)
		for _, s := range []string{e, f, g, h, i, j, k, l, m} {
			n += uint32(len(s))
		}
		return n
	}
	api.Exports.MixedList = func(m []types.Mixed) []types.Mixed { return m }
	api.Exports.MixedOne = func(m types.Mixed) types.Mixed { return m }
	api.Exports.ViaHost = func(key string) cabi.Result[types.Item, string] {
		host.Note("fetching " + key)
		return host.Fetch(key)
	}
	api.Exports.HostList = host.EchoList
	api.Exports.HostMaybe = host.Maybe
	api.Exports.HostSum = func(base uint32) uint64 {
		return host.Sum17(base, base+1, base+2, base+3, base+4, base+5, base+6, base+7, base+8,
			base+9, base+10, base+11, base+12, base+13, base+14, base+15, base+16)
	}
	api.Exports.Add = func(a, b uint32) uint32 { return a + b }
	api.Exports.Half = func(x float32) float32 { return x / 2 }
	api.Exports.IsOdd = func(x int16) bool { return x%2 != 0 }
	api.Exports.Nothing = func() {}
	api.Exports.Origin = func() types.Point { return types.Point{X: -1, Y: 2} }
	kitchen.Exports.Ping = func(s string) string {
		kitchen.Log("ping " + s)
		return "pong " + s
	}
}

func main() {}
