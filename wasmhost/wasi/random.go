package wasi

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// wasi:random/*.

// maxRandom caps one get-*-random-bytes call: the interface cannot return
// fewer bytes than asked, so a larger request traps.
const maxRandom = 64 << 20

func cryptoRead(p []byte) error {
	_, err := crand.Read(p)
	return err
}

func (b *binding) registerRandom() {
	h := b.h
	randomBytes := func(read func([]byte) error) func(context.Context, []any) ([]any, error) {
		return func(ctx context.Context, args []any) ([]any, error) {
			n, _ := args[0].(uint64)
			if n > maxRandom {
				return nil, fmt.Errorf("wasi:random: %d random bytes asked, at most %d per call", n, maxRandom)
			}
			p := make([]byte, n)
			if err := read(p); err != nil {
				return nil, err
			}
			return one(p), nil
		}
	}
	randomU64 := func(read func([]byte) error) func(context.Context, []any) ([]any, error) {
		return func(ctx context.Context, args []any) ([]any, error) {
			var p [8]byte
			if err := read(p[:]); err != nil {
				return nil, err
			}
			return one(binary.LittleEndian.Uint64(p[:])), nil
		}
	}

	const randomIface = "wasi:random/random"
	r := b.instance(randomIface)
	b.def(r, randomIface, "get-random-bytes", fn(bytesT, "len", u64T), randomBytes(h.randomRead))
	b.def(r, randomIface, "get-random-u64", fn(u64T), randomU64(h.randomRead))

	const insecureIface = "wasi:random/insecure"
	ins := b.instance(insecureIface)
	b.def(ins, insecureIface, "get-insecure-random-bytes", fn(bytesT, "len", u64T), randomBytes(h.insecureRead))
	b.def(ins, insecureIface, "get-insecure-random-u64", fn(u64T), randomU64(h.insecureRead))

	const seedIface = "wasi:random/insecure-seed"
	seed := b.instance(seedIface)
	b.def(seed, seedIface, "insecure-seed", fn(value.TupleOf(u64T, u64T)),
		func(ctx context.Context, args []any) ([]any, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.seed == nil {
				var p [16]byte
				if err := h.randomRead(p[:]); err != nil {
					return nil, err
				}
				h.seed = &[2]uint64{binary.LittleEndian.Uint64(p[:8]), binary.LittleEndian.Uint64(p[8:])}
			}
			return one([]any{h.seed[0], h.seed[1]}), nil
		})
}

// insecureRead fills p from a ChaCha8 generator seeded once from the random
// source: fast, and deterministic when Config.Random is.
func (h *Host) insecureRead(p []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.insecure == nil {
		var s [32]byte
		if err := h.randomRead(s[:]); err != nil {
			return err
		}
		h.insecure = rand.NewChaCha8(s)
	}
	_, err := h.insecure.Read(p)
	return err
}
