package reptable

import "testing"

func TestTable(t *testing.T) {
	var tb Table[string]
	a, b := tb.Add("a"), tb.Add("b")
	if a == 0 || b == 0 || a == b {
		t.Fatalf("reps %d, %d", a, b)
	}
	if v, ok := tb.Get(a); !ok || v != "a" {
		t.Errorf("Get(%d) = %q, %v", a, v, ok)
	}
	if v, ok := tb.Remove(a); !ok || v != "a" || tb.Len() != 1 {
		t.Errorf("Remove(%d) = %q, %v; Len %d", a, v, ok, tb.Len())
	}
	if _, ok := tb.Get(a); ok {
		t.Error("removed rep still found")
	}
	n := 0
	for range tb.All() {
		n++
	}
	tb.next = ^uint32(0) // wrap around: 0 is skipped, b is in use
	if c := tb.Add("c"); c == 0 || c == b {
		t.Errorf("rep after wrap-around = %d (b is %d)", c, b)
	}
	tb.Reset()
	if n != 1 || tb.Len() != 0 {
		t.Errorf("All saw %d, Len after Reset %d", n, tb.Len())
	}
}
