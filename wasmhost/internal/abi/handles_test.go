package abi

import (
	"testing"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

func TestHandleTable(t *testing.T) {
	var tab HandleTable
	if _, err := tab.Get(0); err == nil {
		t.Fatal("Get(0) on an empty table succeeded")
	}
	a, _ := tab.Add(HandleEntry{Type: resA, Rep: 10, Own: true})
	b, _ := tab.Add(HandleEntry{Type: resA, Rep: 11, Own: true})
	c, _ := tab.Add(HandleEntry{Type: resB, Rep: 12})
	if a != 1 || b != 2 || c != 3 {
		t.Fatalf("indices %d %d %d, want 1 2 3 (0 is never used)", a, b, c)
	}
	if tab.Len() != 3 {
		t.Fatalf("Len = %d", tab.Len())
	}
	if _, err := tab.Get(0); err == nil {
		t.Fatal("Get(0) succeeded")
	}
	wantTrap(t, "Get(4)", func() error { _, err := tab.Get(4); return err }(), "unknown handle index 4")
	if e, err := tab.Remove(b); err != nil || e.Rep != 11 {
		t.Fatalf("Remove = %v, %v", e, err)
	}
	if _, err := tab.Remove(b); err == nil {
		t.Fatal("double Remove succeeded")
	}
	tab.Remove(a)
	// Freed indices are reused, most recent first.
	if i, _ := tab.Add(HandleEntry{Type: resA, Rep: 20}); i != a {
		t.Fatalf("reused index %d, want %d", i, a)
	}
	if i, _ := tab.Add(HandleEntry{Type: resA, Rep: 21}); i != b {
		t.Fatalf("reused index %d, want %d", i, b)
	}
	if i, _ := tab.Add(HandleEntry{Type: resA, Rep: 22}); i != 4 {
		t.Fatalf("new index %d, want 4", i)
	}
	if _, err := tab.Add(HandleEntry{Rep: 1}); err == nil {
		t.Fatal("Add without a type succeeded")
	}
}

func TestResourceBuiltins(t *testing.T) {
	var tab HandleTable
	i, _ := tab.New(resA, 77)
	if rep, err := tab.Rep(resA, i); err != nil || rep != 77 {
		t.Fatalf("Rep = %d, %v", rep, err)
	}
	_, err := tab.Rep(resB, i)
	wantTrap(t, "Rep of the wrong type", err, "is a test:abi/res#a handle, not a test:abi/res#b handle")
	_, err = tab.Drop(resB, i)
	wantTrap(t, "Drop of the wrong type", err, "not a test:abi/res#b handle")
	e, err := tab.Drop(resA, i)
	if err != nil || !e.Own || e.Rep != 77 {
		t.Fatalf("Drop = %+v, %v", e, err)
	}
	_, err = tab.Drop(resA, i)
	wantTrap(t, "double Drop", err, "unknown handle index 1")
}

// A host call into a guest export passing own and borrow handles (canon
// lift): own handles move into the guest's table; borrows become borrow
// handles the guest must drop before returning, unless the guest
// implements the resource.
func TestHandlesIntoGuest(t *testing.T) {
	ft := funcOfParams([]*value.Type{value.Own(resA), value.Borrow(resA), value.Borrow(resB)}, nil)
	o, _ := newOpts(UTF8)
	o.Owns = func(r *value.ResourceType) bool { return r == resB }
	flat, err := LowerArgs(o, ft, []any{value.Handle{Type: resA, Rep: 100}, value.Handle{Type: resA, Rep: 101}, value.Handle{Type: resB, Rep: 102}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	own, borrow, rep := uint32(flat[0]), uint32(flat[1]), uint32(flat[2])
	if rep != 102 {
		t.Errorf("borrow of a resource the guest implements = %d, want its rep 102", rep)
	}
	if e, _ := o.Handles.Get(own); e.Type != resA || e.Rep != 100 || !e.Own {
		t.Errorf("own entry %+v", e)
	}
	if e, _ := o.Handles.Get(borrow); e.Type != resA || e.Rep != 101 || e.Own || e.BorrowScope != o.Scope {
		t.Errorf("borrow entry %+v", e)
	}
	if o.Scope.Borrows() != 1 || o.Handles.Len() != 2 {
		t.Fatalf("borrows %d, handles %d", o.Scope.Borrows(), o.Handles.Len())
	}
	// The guest returns without dropping its borrow: a trap.
	wantTrap(t, "End with a borrow left", o.Scope.End(), "1 borrow handle(s) remain at the end of the call")

	// Again, dropping the borrow (resource.drop) first.
	o, _ = newOpts(UTF8)
	o.Owns = func(r *value.ResourceType) bool { return r == resB }
	flat, _ = LowerArgs(o, ft, []any{value.Handle{Type: resA, Rep: 100}, value.Handle{Type: resA, Rep: 101}, value.Handle{Type: resB, Rep: 102}}, nil)
	e, err := o.Handles.Drop(resA, uint32(flat[1]))
	if err != nil || e.Own || e.Rep != 101 {
		t.Fatalf("Drop borrow = %+v, %v", e, err)
	}
	if o.Scope.Borrows() != 0 {
		t.Fatalf("borrows after drop = %d", o.Scope.Borrows())
	}
	if err := o.Scope.End(); err != nil {
		t.Fatal(err)
	}
	// The guest returns its own handle to the host: lifting moves it out.
	rt := funcOfParams(nil, []*value.Type{value.Own(resA)})
	res, err := LiftResults(o, rt, []uint64{flat[0]})
	if err != nil || !equal(res, []any{value.Handle{Type: resA, Rep: 100}}) {
		t.Fatalf("LiftResults own = %v, %v", res, err)
	}
	if o.Handles.Len() != 0 {
		t.Fatalf("%d handles left after lifting the own", o.Handles.Len())
	}
}

// A guest calling a host import with handles (canon lower): own handles
// leave its table; borrowed handles are lent for the call and cannot be
// dropped or moved until it ends.
func TestHandlesFromGuest(t *testing.T) {
	o, _ := newOpts(UTF8)
	tab := o.Handles
	own, _ := tab.New(resA, 1)
	lent, _ := tab.New(resA, 2)
	other, _ := tab.New(resB, 3)
	borrowed, _ := tab.Add(HandleEntry{Type: resA, Rep: 4}) // a borrow the guest holds

	ft := funcOfParams([]*value.Type{value.Borrow(resA), value.Borrow(resA)}, nil)
	args, err := LiftArgs(o, ft, []uint64{uint64(lent), uint64(borrowed)})
	if err != nil || !equal(args, []any{value.Handle{Type: resA, Rep: 2}, value.Handle{Type: resA, Rep: 4}}) {
		t.Fatalf("LiftArgs = %v, %v", args, err)
	}
	if e, _ := tab.Get(lent); e.LendCount != 1 {
		t.Fatalf("lend count %d", e.LendCount)
	}
	// During the call the lent handle can't be dropped or moved.
	_, err = tab.Drop(resA, lent)
	wantTrap(t, "Drop lent", err, "cannot drop handle 2 of test:abi/res#a: it is lent to 1 call(s)")
	_, err = LiftFlat(o, value.Own(resA), []uint64{uint64(lent)})
	wantTrap(t, "lift own of a lent handle", err, "cannot transfer own handle 2")
	if err := o.Scope.End(); err != nil {
		t.Fatal(err)
	}
	if e, _ := tab.Get(lent); e.LendCount != 0 {
		t.Fatalf("lend count after End %d", e.LendCount)
	}

	// lift_own traps.
	_, err = LiftFlat(o, value.Own(resA), []uint64{uint64(borrowed)})
	wantTrap(t, "own from a borrow", err, "handle 4 is a borrow<test:abi/res#a>, not an own")
	_, err = LiftFlat(o, value.Own(resA), []uint64{uint64(other)})
	wantTrap(t, "own of the wrong type", err, "handle 3 is a test:abi/res#b handle, not an own<test:abi/res#a>")
	_, err = LiftFlat(o, value.Own(resA), []uint64{99})
	wantTrap(t, "own of a bad index", err, "unknown handle index 99")
	_, err = LiftFlat(o, value.Own(resA), []uint64{0})
	wantTrap(t, "own of index 0", err, "unknown handle index 0")
	_, err = LiftFlat(o, value.Borrow(resA), []uint64{uint64(other)})
	wantTrap(t, "borrow of the wrong type", err, "not a borrow<test:abi/res#a>")
	_, err = LiftFlat(o, value.Borrow(resA), []uint64{1 << 30})
	wantTrap(t, "borrow of a bad index", err, "unknown handle index 1073741824")

	// A successful own lift removes the handle.
	v, err := LiftFlat(o, value.Own(resA), []uint64{uint64(own)})
	if err != nil || v != (value.Handle{Type: resA, Rep: 1}) {
		t.Fatalf("lift own = %v, %v", v, err)
	}
	if _, err := tab.Get(own); err == nil {
		t.Fatal("own handle still in the table")
	}
	// The same handle lent twice in one call is given back twice.
	args, err = LiftArgs(o, ft, []uint64{uint64(lent), uint64(lent)})
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := tab.Get(lent); e.LendCount != 2 {
		t.Fatalf("lend count %d", e.LendCount)
	}
	o.Scope.End()
	if _, err := tab.Drop(resA, lent); err != nil {
		t.Fatal(err)
	}
}

// Own handles in results of an import go into the guest's table.
func TestOwnResultsToGuest(t *testing.T) {
	o, _ := newOpts(UTF8)
	ft := funcOfParams(nil, []*value.Type{value.Own(resA)})
	stack := make([]uint64, 1)
	if err := LowerResults(o, ft, []any{value.Handle{Type: resA, Rep: 55}}, stack); err != nil {
		t.Fatal(err)
	}
	if rep, err := o.Handles.Rep(resA, uint32(stack[0])); err != nil || rep != 55 {
		t.Fatalf("rep %d, %v", rep, err)
	}
}
