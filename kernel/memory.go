package kernel

import (
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

const pageSize = 64 << 10

// memQuota is the memory quota of one component instance: a wazero
// MemoryAllocator, passed in the context of Instantiate, that backs every
// linear memory of the instance, counts their bytes and refuses to grow them
// past the limit. A refused grow makes memory.grow return -1; guests then
// trap (Rust and C abort), and the kernel reports that trap as
// ErrMemoryQuota because refused says so.
type memQuota struct {
	limit uint64 // bytes; 0 = none
	used  atomic.Uint64
	// refused is set when a grow was refused; overInit when an initial
	// memory was already larger than the quota (the instance is then
	// rejected right after instantiation).
	refused, overInit atomic.Bool
}

func newMemQuota(limit uint64) *memQuota {
	return &memQuota{limit: limit / pageSize * pageSize}
}

func (q *memQuota) pages() uint32 { return uint32(q.used.Load() / pageSize) }

// Allocate implements experimental.MemoryAllocator.
func (q *memQuota) Allocate(capacity, max uint64) experimental.LinearMemory {
	// capacity is only a hint; memories start at their minimum and double.
	return &linearMemory{q: q, max: max}
}

// linearMemory is a Go byte slice, grown by copying like wazero's own
// default allocator does.
type linearMemory struct {
	q    *memQuota
	mu   sync.Mutex // Free may race a Reallocate of a closing instance
	buf  []byte
	max  uint64
	init bool
}

func (m *linearMemory) Reallocate(size uint64) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := uint64(len(m.buf))
	if size > old && m.q.limit > 0 && m.q.used.Load()+size-old > m.q.limit {
		if m.init {
			m.q.refused.Store(true)
			return nil
		}
		// wazero cannot fail the initial allocation: give it and let the
		// kernel reject the instance.
		m.q.overInit.Store(true)
	}
	m.init = true
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
	} else {
		c := max(size, 2*uint64(cap(m.buf)))
		if m.q.limit > 0 {
			c = min(c, max(size, m.q.limit))
		}
		if m.max > 0 {
			c = min(c, max(size, m.max))
		}
		nb := make([]byte, size, c)
		copy(nb, m.buf)
		m.buf = nb
	}
	if size > old {
		m.q.used.Add(size - old)
	}
	return m.buf
}

func (m *linearMemory) Free() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.q.used.Add(-uint64(len(m.buf)))
	m.buf = nil
}
