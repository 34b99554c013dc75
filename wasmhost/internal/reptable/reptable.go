// Package reptable maps the representations ("reps") a host chooses for
// the resources it implements to the Go objects behind them. The WASI and
// wasi:http hosts keep one Table per resource type.
package reptable

import "iter"

// Table maps reps of one resource type to Go objects. Reps start at 1 and
// are not reused while in use. It is not safe for concurrent use: its
// owner guards it.
type Table[T any] struct {
	m    map[uint32]T
	next uint32
}

// Add stores v under a fresh rep and returns the rep.
func (t *Table[T]) Add(v T) uint32 {
	if t.m == nil {
		t.m = map[uint32]T{}
	}
	for {
		t.next++
		if t.next == 0 {
			continue // 0 is never a rep
		}
		if _, used := t.m[t.next]; !used {
			t.m[t.next] = v
			return t.next
		}
	}
}

// Get returns the object of rep.
func (t *Table[T]) Get(rep uint32) (T, bool) {
	v, ok := t.m[rep]
	return v, ok
}

// Remove removes and returns the object of rep.
func (t *Table[T]) Remove(rep uint32) (T, bool) {
	v, ok := t.m[rep]
	delete(t.m, rep)
	return v, ok
}

// Len returns the number of objects.
func (t *Table[T]) Len() int { return len(t.m) }

// All iterates over the reps and objects, in no particular order.
func (t *Table[T]) All() iter.Seq2[uint32, T] {
	return func(yield func(uint32, T) bool) {
		for k, v := range t.m {
			if !yield(k, v) {
				return
			}
		}
	}
}

// Reset empties the table.
func (t *Table[T]) Reset() { t.m = nil }
