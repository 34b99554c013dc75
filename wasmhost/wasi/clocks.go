package wasi

import (
	"context"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// wasi:clocks/*.

func (b *binding) registerClocks() {
	h := b.h

	const wallIface = "wasi:clocks/wall-clock"
	wall := b.instance(wallIface)
	b.def(wall, wallIface, "now", fn(datetimeT),
		func(ctx context.Context, args []any) ([]any, error) {
			t := h.now()
			sec := t.Unix()
			if sec < 0 {
				return one(datetime(0, 0)), nil
			}
			return one(datetime(uint64(sec), uint32(t.Nanosecond()))), nil
		})
	b.def(wall, wallIface, "resolution", fn(datetimeT),
		func(ctx context.Context, args []any) ([]any, error) {
			return one(datetime(0, 1)), nil
		})

	const monoIface = "wasi:clocks/monotonic-clock"
	mono := b.instance(monoIface).AliasResource("pollable", b.pollableRT)
	b.def(mono, monoIface, "now", fn(u64T),
		func(ctx context.Context, args []any) ([]any, error) {
			return one(h.mono()), nil
		})
	b.def(mono, monoIface, "resolution", fn(u64T),
		func(ctx context.Context, args []any) ([]any, error) {
			return one(uint64(1)), nil
		})
	b.def(mono, monoIface, "subscribe-instant", fn(value.Own(b.pollableRT), "when", u64T),
		func(ctx context.Context, args []any) ([]any, error) {
			when, _ := args[0].(uint64)
			return b.newPollable(when)
		})
	b.def(mono, monoIface, "subscribe-duration", fn(value.Own(b.pollableRT), "when", u64T),
		func(ctx context.Context, args []any) ([]any, error) {
			d, _ := args[0].(uint64)
			now := h.mono()
			at := now + d
			if at < now {
				at = ^uint64(0)
			}
			return b.newPollable(at)
		})

	// wasi:clocks/timezone (unstable in 0.2.x): the guest lives in UTC.
	const tzIface = "wasi:clocks/timezone"
	tz := b.instance(tzIface)
	display := record("timezone-display", "utc-offset", s32T, "name", stringT, "in-daylight-saving-time", boolT)
	b.def(tz, tzIface, "display", fn(display, "when", datetimeT),
		func(ctx context.Context, args []any) ([]any, error) {
			return one([]any{int32(0), "UTC", false}), nil
		})
	b.def(tz, tzIface, "utc-offset", fn(s32T, "when", datetimeT),
		func(ctx context.Context, args []any) ([]any, error) {
			return one(int32(0)), nil
		})
}
