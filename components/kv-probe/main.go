// Command kv-probe is a test box for wbox's kv driver and the kernel's
// wasi:logging: each export drives wasi:keyvalue (store, atomics, batch) or
// wasi:logging from inside a component, so tests exercise the real
// canonical ABI, resources included. Errors come back as text.
package main

import (
	"strconv"
	"strings"

	"kv-probe/gen/cabi"
	"kv-probe/gen/wasi/keyvalue/atomics"
	"kv-probe/gen/wasi/keyvalue/batch"
	"kv-probe/gen/wasi/keyvalue/store"
	"kv-probe/gen/wasi/logging/logging"
	"kv-probe/gen/wbox/kvprobe/probe"
)

type unit = cabi.Unit

func init() {
	probe.Exports.Set = func(bucket, key, val string) cabi.Result[unit, string] {
		return with(bucket, func(b store.Bucket) cabi.Result[unit, string] {
			return conv(b.Set(key, []byte(val)), func(u unit) unit { return u })
		})
	}
	probe.Exports.Get = func(bucket, key string) cabi.Result[cabi.Option[string], string] {
		return with(bucket, func(b store.Bucket) cabi.Result[cabi.Option[string], string] {
			return conv(b.Get(key), func(o cabi.Option[[]uint8]) cabi.Option[string] {
				if !o.Some {
					return cabi.None[string]()
				}
				return cabi.Some(string(o.Value))
			})
		})
	}
	probe.Exports.Delete = func(bucket, key string) cabi.Result[unit, string] {
		return with(bucket, func(b store.Bucket) cabi.Result[unit, string] {
			return conv(b.Delete(key), func(u unit) unit { return u })
		})
	}
	probe.Exports.Exists = func(bucket, key string) cabi.Result[bool, string] {
		return with(bucket, func(b store.Bucket) cabi.Result[bool, string] {
			return conv(b.Exists(key), func(ok bool) bool { return ok })
		})
	}
	probe.Exports.ListAll = func(bucket string) cabi.Result[[]string, string] {
		return with(bucket, func(b store.Bucket) cabi.Result[[]string, string] {
			keys := []string{}
			cursor := cabi.None[string]()
			for {
				r := b.ListKeys(cursor)
				if r.IsErr {
					return cabi.Err[[]string](errText(r.Err))
				}
				keys = append(keys, r.OK.Keys...)
				if !r.OK.Cursor.Some {
					return cabi.OK[[]string, string](keys)
				}
				cursor = r.OK.Cursor
			}
		})
	}
	probe.Exports.Incr = func(bucket, key string, delta int64) cabi.Result[int64, string] {
		return with(bucket, func(b store.Bucket) cabi.Result[int64, string] {
			return conv(atomics.Increment(b, key, delta), func(n int64) int64 { return n })
		})
	}
	probe.Exports.SetMany = func(bucket string, pairs []struct{ F0, F1 string }) cabi.Result[unit, string] {
		return with(bucket, func(b store.Bucket) cabi.Result[unit, string] {
			kvs := make([]struct {
				F0 string
				F1 []uint8
			}, len(pairs))
			for i, p := range pairs {
				kvs[i].F0, kvs[i].F1 = p.F0, []byte(p.F1)
			}
			return conv(batch.SetMany(b, kvs), func(u unit) unit { return u })
		})
	}
	probe.Exports.GetMany = func(bucket string, keys []string) cabi.Result[[]cabi.Option[string], string] {
		return with(bucket, func(b store.Bucket) cabi.Result[[]cabi.Option[string], string] {
			r := batch.GetMany(b, keys)
			if r.IsErr {
				return cabi.Err[[]cabi.Option[string]](errText(r.Err))
			}
			out := make([]cabi.Option[string], len(r.OK))
			for i, o := range r.OK {
				if o.Some {
					if o.Value.F0 != keys[i] {
						return cabi.Err[[]cabi.Option[string]]("get-many answered key " + o.Value.F0 + " for " + keys[i])
					}
					out[i] = cabi.Some(string(o.Value.F1))
				}
			}
			return cabi.OK[[]cabi.Option[string], string](out)
		})
	}
	probe.Exports.DeleteMany = func(bucket string, keys []string) cabi.Result[unit, string] {
		return with(bucket, func(b store.Bucket) cabi.Result[unit, string] {
			return conv(batch.DeleteMany(b, keys), func(u unit) unit { return u })
		})
	}
	probe.Exports.CasRace = casRace
	probe.Exports.CasAdd = casAdd
	probe.Exports.LogMany = func(n uint32) {
		for i := range n {
			logging.Log(logging.LevelInfo, "", "line "+strconv.FormatUint(uint64(i), 10))
		}
	}
	probe.Exports.Log = func(level, context, msg string) {
		levels := map[string]logging.Level{"trace": logging.LevelTrace, "debug": logging.LevelDebug,
			"info": logging.LevelInfo, "warn": logging.LevelWarn, "error": logging.LevelError, "critical": logging.LevelCritical}
		logging.Log(levels[level], context, msg)
	}
}

// casRace: see the WIT.
func casRace(bucket, key, interloper, mine string) cabi.Result[string, string] {
	return with(bucket, func(b store.Bucket) cabi.Result[string, string] {
		var trace []string
		r := atomics.CasNew(b, key)
		if r.IsErr {
			return cabi.Err[string]("cas.new: " + errText(r.Err))
		}
		cas := r.OK
		if s := b.Set(key, []byte(interloper)); s.IsErr {
			return cabi.Err[string]("set: " + errText(s.Err))
		}
		sw := atomics.Swap(cas, []byte(mine))
		if !sw.IsErr {
			return cabi.Err[string]("the first swap succeeded despite the interloper")
		}
		if sw.Err.Tag != atomics.CasErrorCaseCasFailed {
			return cabi.Err[string]("swap: " + errText(sw.Err.StoreError))
		}
		cas = sw.Err.CasFailed
		cur := cas.Current()
		if cur.IsErr {
			return cabi.Err[string]("current: " + errText(cur.Err))
		}
		trace = append(trace, "conflict current="+string(cur.OK.Value))
		sw = atomics.Swap(cas, []byte(mine))
		if sw.IsErr {
			return cabi.Err[string]("second swap failed")
		}
		trace = append(trace, "swapped")
		return cabi.OK[string, string](strings.Join(trace, "; "))
	})
}

// casAdd: see the WIT.
func casAdd(bucket, key string, delta int64) cabi.Result[uint32, string] {
	return with(bucket, func(b store.Bucket) cabi.Result[uint32, string] {
		r := atomics.CasNew(b, key)
		if r.IsErr {
			return cabi.Err[uint32]("cas.new: " + errText(r.Err))
		}
		cas := r.OK
		for attempts := uint32(1); ; attempts++ {
			cur := cas.Current()
			if cur.IsErr {
				cas.Drop()
				return cabi.Err[uint32]("current: " + errText(cur.Err))
			}
			n := int64(0)
			if cur.OK.Some {
				var err error
				if n, err = strconv.ParseInt(string(cur.OK.Value), 10, 64); err != nil {
					cas.Drop()
					return cabi.Err[uint32]("not a number: " + string(cur.OK.Value))
				}
			}
			sw := atomics.Swap(cas, []byte(strconv.FormatInt(n+delta, 10)))
			if !sw.IsErr {
				return cabi.OK[uint32, string](attempts)
			}
			if sw.Err.Tag != atomics.CasErrorCaseCasFailed {
				return cabi.Err[uint32]("swap: " + errText(sw.Err.StoreError))
			}
			cas = sw.Err.CasFailed
		}
	})
}

// with opens bucket, runs f and drops the bucket handle.
func with[T any](bucket string, f func(store.Bucket) cabi.Result[T, string]) cabi.Result[T, string] {
	r := store.Open(bucket)
	if r.IsErr {
		return cabi.Err[T]("open: " + errText(r.Err))
	}
	defer r.OK.Drop()
	return f(r.OK)
}

func conv[A, B any](r cabi.Result[A, store.Error], f func(A) B) cabi.Result[B, string] {
	if r.IsErr {
		return cabi.Err[B](errText(r.Err))
	}
	return cabi.OK[B, string](f(r.OK))
}

func errText(e store.Error) string {
	switch e.Tag {
	case store.ErrorCaseNoSuchStore:
		return "no-such-store"
	case store.ErrorCaseAccessDenied:
		return "access-denied"
	}
	return "other: " + e.Other
}

// main never runs: a box is a library of exports (-buildmode=c-shared).
func main() {}
