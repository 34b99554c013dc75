package abi

import "github.com/wbox-dev/wbox/wasmhost/value"

// HandleEntry is an element of a HandleTable: a resource handle (the spec's
// ResourceHandle).
type HandleEntry struct {
	// Type is the handle's resource type; never nil in a table.
	Type *value.ResourceType
	// Rep is the resource's representation.
	Rep uint32
	// Own says the handle is an own handle rather than a borrow.
	Own bool
	// BorrowScope is, for a borrow handle lent to the instance by a call
	// into it, that call's Scope: dropping the handle ends the borrow.
	BorrowScope *Scope
	// LendCount counts the calls out of the instance to which the handle
	// is currently lent as a borrow. An own handle with lends cannot be
	// dropped or transferred.
	LendCount int
}

// HandleTable is one component instance's table of resource handles (the
// spec's Table of ResourceHandles). Index 0 is never used; freed indices are
// reused, most recently freed first. It is not safe for concurrent use.
type HandleTable struct {
	entries []HandleEntry // entries[0] unused; Type == nil marks a free slot
	free    []uint32
}

// Len returns the number of handles in the table.
func (t *HandleTable) Len() int {
	n := len(t.entries) - len(t.free)
	if n > 0 {
		return n - 1
	}
	return 0
}

// Add adds e and returns its index. It traps when the table is full.
func (t *HandleTable) Add(e HandleEntry) (uint32, error) {
	if e.Type == nil {
		return 0, &ValueError{Msg: "handle entry without a resource type"}
	}
	if n := len(t.free); n > 0 {
		i := t.free[n-1]
		t.free = t.free[:n-1]
		t.entries[i] = e
		return i, nil
	}
	if len(t.entries) == 0 {
		t.entries = make([]HandleEntry, 1, 8)
	}
	i := len(t.entries)
	if i > MaxTableLength {
		return 0, trapf("handle table is full (%d handles)", MaxTableLength)
	}
	t.entries = append(t.entries, e)
	return uint32(i), nil
}

// Get returns the entry at index i, or a trap if there is none. The pointer
// stays valid until the next Add.
func (t *HandleTable) Get(i uint32) (*HandleEntry, error) {
	if i == 0 || uint64(i) >= uint64(len(t.entries)) || t.entries[i].Type == nil {
		return nil, trapf("unknown handle index %d", i)
	}
	return &t.entries[i], nil
}

// Remove removes and returns the entry at index i, or traps if there is
// none. It checks nothing else: see Drop and lifting own handles for the
// checked removals.
func (t *HandleTable) Remove(i uint32) (HandleEntry, error) {
	e, err := t.Get(i)
	if err != nil {
		return HandleEntry{}, err
	}
	r := *e
	*e = HandleEntry{}
	t.free = append(t.free, i)
	return r, nil
}

// New implements canon resource.new: it adds an own handle of rt for rep.
func (t *HandleTable) New(rt *value.ResourceType, rep uint32) (uint32, error) {
	return t.Add(HandleEntry{Type: rt, Rep: rep, Own: true})
}

// Rep implements canon resource.rep: the representation of handle i, which
// must be a handle of rt.
func (t *HandleTable) Rep(rt *value.ResourceType, i uint32) (uint32, error) {
	e, err := t.Get(i)
	if err != nil {
		return 0, err
	}
	if e.Type != rt {
		return 0, trapf("handle %d is a %s handle, not a %s handle", i, e.Type, rt)
	}
	return e.Rep, nil
}

// Drop implements canon resource.drop: it removes handle i, which must be a
// handle of rt that is not lent out, and returns it. Dropping a borrow ends
// the borrow in its scope. When the returned entry is an own handle, the
// caller runs rt's destructor on its Rep (if rt has one).
func (t *HandleTable) Drop(rt *value.ResourceType, i uint32) (HandleEntry, error) {
	e, err := t.Get(i)
	if err != nil {
		return HandleEntry{}, err
	}
	if e.Type != rt {
		return HandleEntry{}, trapf("cannot drop handle %d: it is a %s handle, not a %s handle", i, e.Type, rt)
	}
	if e.LendCount != 0 {
		return HandleEntry{}, trapf("cannot drop handle %d of %s: it is lent to %d call(s)", i, rt, e.LendCount)
	}
	r, _ := t.Remove(i)
	if !r.Own && r.BorrowScope != nil {
		r.BorrowScope.borrows--
	}
	return r, nil
}

// liftOwn removes own handle i of rt, transferring ownership (lift_own).
func (t *HandleTable) liftOwn(rt *value.ResourceType, i uint32) (uint32, error) {
	e, err := t.Get(i)
	if err != nil {
		return 0, err
	}
	if e.Type != rt {
		return 0, trapf("handle %d is a %s handle, not an own<%s>", i, e.Type, rt)
	}
	if e.LendCount != 0 {
		return 0, trapf("cannot transfer own handle %d of %s: it is lent to %d call(s)", i, rt, e.LendCount)
	}
	if !e.Own {
		return 0, trapf("handle %d is a borrow<%s>, not an own", i, rt)
	}
	rep := e.Rep
	t.Remove(i)
	return rep, nil
}

// Scope is the borrow bookkeeping of one call across the ABI, the spec's
// borrow_scope: the Task of a call into a guest export (canon lift) and
// the Subtask of a guest's call to an import (canon lower).
//
// Calling into a guest: the borrow handles lowered into the guest are
// counted, each drop of one (HandleTable.Drop) uncounts it, and End traps
// if the guest returns without dropping them all.
//
// A guest calling out: each handle of the guest lifted as a borrow is lent
// (its LendCount incremented) until End, so that the guest cannot drop or
// transfer it while the callee may use it.
//
// A zero Scope is ready to use. Call End when the call returns (after
// lifting its results or lowering them), then the Scope may be reused.
type Scope struct {
	borrows int
	table   *HandleTable
	lenders []uint32
}

// Borrows returns the number of borrow handles lent into the guest in this
// scope that it has not dropped yet.
func (s *Scope) Borrows() int { return s.borrows }

// lend records that handle i of table t is lent for the call.
func (s *Scope) lend(t *HandleTable, i uint32, e *HandleEntry) {
	e.LendCount++
	s.table = t
	s.lenders = append(s.lenders, i)
}

// End ends the call: it gives back the handles lent for the call and
// returns a trap if borrow handles lent into the callee remain undropped
// (the spec traps when such a call returns). The scope is then reset.
func (s *Scope) End() error {
	for _, i := range s.lenders {
		if uint64(i) < uint64(len(s.table.entries)) {
			if e := &s.table.entries[i]; e.Type != nil && e.LendCount > 0 {
				e.LendCount--
			}
		}
	}
	s.lenders = s.lenders[:0]
	s.table = nil
	if n := s.borrows; n != 0 {
		s.borrows = 0
		return trapf("%d borrow handle(s) remain at the end of the call", n)
	}
	return nil
}
