package kv

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// fuzzStore is one database for every input of a fuzzing process: each
// input gets a fresh namespace.
var fuzzStore struct {
	once sync.Once
	st   *store
	err  error
	n    int
}

// FuzzStoreOps runs a script of operations with guest-chosen keys, values,
// cursors and deltas (all untrusted bytes) against the store and a map
// model: results must agree, limits must refuse without harm.
func FuzzStoreOps(f *testing.F) {
	f.Add([]byte{0, 1, 3, 4, 5}, "k", "v", int64(1))
	f.Add([]byte{3, 3, 1, 2, 1}, "7", "-3", int64(-10))
	f.Add([]byte{0, 6, 4, 1}, "", "\x00", int64(9223372036854775807))
	dir := f.TempDir()
	f.Cleanup(func() {
		if fuzzStore.st != nil {
			fuzzStore.st.close()
		}
	})
	f.Fuzz(func(t *testing.T, script []byte, a, b string, delta int64) {
		fuzzStore.once.Do(func() {
			fuzzStore.st, fuzzStore.err = openStore(context.Background(), filepath.Join(dir, "fuzz.db"))
			if fuzzStore.err == nil {
				fuzzStore.st.db.NoSync = true // durability is not what is fuzzed
			}
		})
		if fuzzStore.err != nil {
			t.Fatal(fuzzStore.err)
		}
		st := fuzzStore.st
		fuzzStore.n++
		ns := fmt.Sprintf("box/fuzz%d", fuzzStore.n)
		ctx := context.Background()
		model := map[string][]byte{}
		if len(script) > 24 {
			script = script[:24]
		}
		for i, op := range script {
			key, other := a, b
			if op&0x80 != 0 {
				key, other = b, a
			}
			keyOK := checkKey(key) == nil
			switch op % 7 {
			case 0: // set key = other
				err := st.set(ctx, ns, "bk", key, []byte(other))
				if ok := keyOK && checkValue([]byte(other)) == nil; ok != (err == nil) {
					t.Fatalf("op %d set %q: err %v", i, key, err)
				}
				if err == nil {
					model[key] = []byte(other)
				}
			case 1: // get
				v, ok, err := st.get(ns, "bk", key)
				if keyOK != (err == nil) {
					t.Fatalf("op %d get %q: err %v", i, key, err)
				}
				mv, mok := model[key]
				if err == nil && (ok != mok || string(v) != string(mv)) {
					t.Fatalf("op %d get %q = %q %v, model %q %v", i, key, v, ok, mv, mok)
				}
			case 2: // delete
				had, err := st.delete(ctx, ns, "bk", key)
				if keyOK != (err == nil) {
					t.Fatalf("op %d delete %q: err %v", i, key, err)
				}
				if _, mok := model[key]; err == nil && had != mok {
					t.Fatalf("op %d delete %q had %v, model %v", i, key, had, mok)
				}
				delete(model, key)
			case 3: // increment
				n, err := st.increment(ctx, ns, "bk", key, delta)
				want, wantErr := modelIncrement(model[key], delta)
				if !keyOK {
					wantErr = true
				}
				if wantErr != (err != nil) || (err == nil && n != want) {
					t.Fatalf("op %d increment %q (%q) by %d = %d, %v; model %d, err %v", i, key, model[key], delta, n, err, want, wantErr)
				}
				if err == nil {
					model[key] = []byte(strconv.FormatInt(n, 10))
				}
			case 4: // list after cursor other
				keys, next, err := st.listKeys(ns, "bk", other)
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for k := range model {
					if other == "" || k > other {
						want = append(want, k)
					}
				}
				slices.Sort(want)
				if !slices.Equal(keys, want) || next != "" {
					t.Fatalf("op %d list-keys after %q = %q (next %q), model %q", i, other, keys, next, want)
				}
			case 5: // compare-and-swap what the model holds now
				mv, mok := model[key]
				if !keyOK {
					continue
				}
				swapped, _, _, err := st.swap(ctx, ns, "bk", key, mok, mv, []byte(other))
				if err != nil {
					if checkValue([]byte(other)) == nil {
						t.Fatalf("op %d swap %q: %v", i, key, err)
					}
					continue
				}
				if !swapped {
					t.Fatalf("op %d swap %q with the current value failed", i, key)
				}
				model[key] = []byte(other)
			case 6: // batch get of both keys
				vals, oks, err := st.getMany(ns, "bk", []string{a, b})
				if (checkKey(a) == nil && checkKey(b) == nil) != (err == nil) {
					t.Fatalf("op %d get-many: %v", i, err)
				}
				for j, k := range []string{a, b} {
					if mv, mok := model[k]; err == nil && (oks[j] != mok || string(vals[j]) != string(mv)) {
						t.Fatalf("op %d get-many %q = %q %v, model %q", i, k, vals[j], oks[j], mv)
					}
				}
			}
		}
	})
}

// modelIncrement is increment's specification.
func modelIncrement(cur []byte, delta int64) (int64, bool) {
	var n int64
	if cur != nil {
		var err error
		if n, err = strconv.ParseInt(string(cur), 10, 64); err != nil {
			return 0, true
		}
	}
	sum := n + delta
	if (delta > 0 && sum < n) || (delta < 0 && sum > n) {
		return 0, true
	}
	return sum, false
}
