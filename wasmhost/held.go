package wasmhost

import (
	"errors"
	"fmt"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// The host is a component instance's caller too, so it needs what every
// caller has: a table of the handles it holds. A guest-defined resource
// returned to the host as own<R> is held here until the host passes it back
// (a move) or drops it; passing or dropping a handle the host does not hold
// (dropped, moved, forged) is an error instead of a use-after-free inside
// the guest.
type heldKey struct {
	rt  *value.ResourceType
	rep uint32
}

// hasHandles reports whether values of type t can contain resource handles.
func hasHandles(t *value.Type) bool {
	if t == nil {
		return false
	}
	switch t.Kind {
	case value.KindOwn, value.KindBorrow:
		return true
	case value.KindList, value.KindOption:
		return hasHandles(t.Elem)
	case value.KindResult:
		return hasHandles(t.Ok) || hasHandles(t.Err)
	case value.KindRecord:
		for _, f := range t.Fields {
			if hasHandles(f.Type) {
				return true
			}
		}
	case value.KindTuple:
		for _, e := range t.Types {
			if hasHandles(e) {
				return true
			}
		}
	case value.KindVariant:
		for _, c := range t.Cases {
			if hasHandles(c.Type) {
				return true
			}
		}
	}
	return false
}

func funcHasHandles(ft *value.FuncType) bool {
	for _, p := range ft.Params {
		if hasHandles(p.Type) {
			return true
		}
	}
	for _, p := range ft.Results {
		if hasHandles(p.Type) {
			return true
		}
	}
	return false
}

// eachHandle calls fn for every handle inside v, a checked value of type t.
func eachHandle(t *value.Type, v any, fn func(own bool, h value.Handle) error) error {
	if t == nil || v == nil {
		return nil
	}
	switch t.Kind {
	case value.KindOwn, value.KindBorrow:
		return fn(t.Kind == value.KindOwn, v.(value.Handle))
	case value.KindList:
		if l, ok := v.([]any); ok && hasHandles(t.Elem) {
			for _, e := range l {
				if err := eachHandle(t.Elem, e, fn); err != nil {
					return err
				}
			}
		}
	case value.KindRecord, value.KindTuple:
		l := v.([]any)
		for i, e := range l {
			et := (*value.Type)(nil)
			if t.Kind == value.KindRecord {
				et = t.Fields[i].Type
			} else {
				et = t.Types[i]
			}
			if err := eachHandle(et, e, fn); err != nil {
				return err
			}
		}
	case value.KindVariant, value.KindOption, value.KindResult:
		vv := v.(value.Variant)
		cs := t.VariantCases()
		if int(vv.Case) < len(cs) {
			return eachHandle(cs[vv.Case].Type, vv.Value, fn)
		}
	}
	return nil
}

var errNotHeld = errors.New("the host does not hold this handle (dropped, moved into the component, or never created)")

// checkArgs verifies, before a call, that every handle of a guest-defined
// resource in args is held by the host; own handles are moved out.
func (i *Instance) checkArgs(ft *value.FuncType, args []any) error {
	var moved []heldKey
	for n, p := range ft.Params {
		err := eachHandle(p.Type, args[n], func(own bool, h value.Handle) error {
			if !i.tree.guest[h.Type] {
				return nil
			}
			k := heldKey{h.Type, h.Rep}
			if !i.held[k] {
				return fmt.Errorf("argument %q: %s: %w", p.Name, h, errNotHeld)
			}
			if own {
				moved = append(moved, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, k := range moved {
		delete(i.held, k)
	}
	return nil
}

// holdResults records the own handles a call returned to the host.
func (i *Instance) holdResults(ft *value.FuncType, res []any) {
	for n, p := range ft.Results {
		if n >= len(res) {
			return
		}
		eachHandle(p.Type, res[n], func(own bool, h value.Handle) error {
			if own && i.tree.guest[h.Type] {
				i.held[heldKey{h.Type, h.Rep}] = true
			}
			return nil
		})
	}
}
