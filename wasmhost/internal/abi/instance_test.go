package abi

import (
	"fmt"
	"sort"
)

const pageSize = 1 << 16

// testInstance is a guest instance for tests: a linear memory that grows by
// whole pages (into a new backing array, so stale slices are caught) and a
// first-fit free-list allocator behind a bump pointer, as a guest's
// cabi_realloc would have. It checks that the ABI reallocates only live
// blocks with their exact sizes.
type testInstance struct {
	mem      []byte
	maxPages int
	top      uint32            // bump pointer
	live     map[uint32]uint32 // pointer -> size
	free     []block           // sorted by pointer
	calls    []reallocCall
	// hook, when set, may replace realloc's result (for trap tests).
	hook func(c reallocCall, p uint32) (uint32, error)
}

type block struct{ p, n uint32 }

type reallocCall struct{ Old, OldSize, Align, NewSize uint32 }

func newTestInstance(pages int) *testInstance {
	return &testInstance{mem: make([]byte, pages*pageSize), maxPages: 1 << 16, top: 16, live: map[uint32]uint32{}}
}

func (t *testInstance) Memory() []byte { return t.mem }

func (t *testInstance) Realloc(old, oldSize, align, newSize uint32) (uint32, error) {
	c := reallocCall{old, oldSize, align, newSize}
	t.calls = append(t.calls, c)
	if align == 0 || align&(align-1) != 0 || align > 8 {
		return 0, fmt.Errorf("realloc: bad alignment %d", align)
	}
	if old != 0 || oldSize != 0 {
		n, ok := t.live[old]
		if !ok || n != oldSize {
			return 0, fmt.Errorf("realloc: %#x is not a live block of %d bytes (live: %v, %d)", old, oldSize, ok, n)
		}
	}
	p, err := t.alloc(align, newSize)
	if err != nil {
		return 0, err
	}
	if old != 0 || oldSize != 0 {
		copy(t.mem[p:p+min(oldSize, newSize)], t.mem[old:])
		t.release(old)
	}
	if t.hook != nil {
		return t.hook(c, p)
	}
	return p, nil
}

func (t *testInstance) alloc(align, n uint32) (uint32, error) {
	for i, b := range t.free {
		p := alignTo(b.p, align)
		if p+n <= b.p+b.n && n > 0 {
			// Split: keep the head (alignment gap) and the tail free.
			rest := []block{}
			if p > b.p {
				rest = append(rest, block{b.p, p - b.p})
			}
			if end := b.p + b.n; p+n < end {
				rest = append(rest, block{p + n, end - p - n})
			}
			t.free = append(t.free[:i], append(rest, t.free[i+1:]...)...)
			t.live[p] = n
			return p, nil
		}
	}
	p := alignTo(t.top, align)
	if n == 0 {
		// A distinct dangling pointer per empty allocation.
		p = alignTo(t.top, max(align, 1))
		t.top = p + 1
		t.live[p] = 0
		return p, nil
	}
	end := uint64(p) + uint64(n)
	if end > uint64(len(t.mem)) {
		pages := (end + pageSize - 1) / pageSize
		if pages > uint64(t.maxPages) {
			return 0, fmt.Errorf("realloc: out of memory for %d bytes", n)
		}
		m := make([]byte, pages*pageSize)
		copy(m, t.mem)
		t.mem = m
	}
	t.top = uint32(end)
	t.live[p] = n
	return p, nil
}

func (t *testInstance) release(p uint32) {
	n := t.live[p]
	delete(t.live, p)
	if n == 0 {
		return
	}
	t.free = append(t.free, block{p, n})
	sort.Slice(t.free, func(i, j int) bool { return t.free[i].p < t.free[j].p })
	// Coalesce neighbours.
	out := t.free[:1]
	for _, b := range t.free[1:] {
		last := &out[len(out)-1]
		if last.p+last.n == b.p {
			last.n += b.n
		} else {
			out = append(out, b)
		}
	}
	t.free = out
}

// allocRaw allocates for the test itself (a return area, a guest string).
func (t *testInstance) allocRaw(align, n uint32) uint32 {
	p, err := t.alloc(align, n)
	if err != nil {
		panic(err)
	}
	return p
}
