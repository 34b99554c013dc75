package wasmhost

import (
	"context"
	"fmt"

	"github.com/wbox-dev/wbox/wasmhost/internal/binary"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

func (s *scope) defineType(d *binary.TypeDef) error {
	t, err := s.typeEntry(d)
	if err != nil {
		return err
	}
	s.types = append(s.types, t)
	return nil
}

func (s *scope) typeEntry(d *binary.TypeDef) (*typeEntry, error) {
	switch {
	case d.Val != nil:
		v, err := s.defValType(d.Val)
		if err != nil {
			return nil, err
		}
		return &typeEntry{val: v}, nil
	case d.Func != nil:
		ft, err := s.resolveFunc(d.Func)
		if err != nil {
			return nil, err
		}
		return &typeEntry{fn: ft}, nil
	case d.Instance != nil:
		return &typeEntry{inst: d.Instance, def: s}, nil
	case d.Component != nil:
		return &typeEntry{comp: d.Component, def: s}, nil
	case d.Resource != nil:
		if s.inst == nil {
			return nil, fmt.Errorf("resource type defined outside a component")
		}
		// Resource types are generative: every instantiation makes a new one.
		rt := &value.ResourceType{}
		s.inst.owned[rt] = true
		s.tree.guest[rt] = true
		if d.Resource.Dtor != nil && !s.dry {
			dtor, err := s.coreFunc(*d.Resource.Dtor)
			if err != nil {
				return nil, fmt.Errorf("resource destructor: %w", err)
			}
			s.tree.dtors[rt] = guestDtor(dtor)
		}
		return &typeEntry{res: rt}, nil
	}
	return nil, fmt.Errorf("empty type definition")
}

func (s *scope) valType(vt binary.ValType) (*value.Type, error) {
	if vt.Prim != value.KindInvalid {
		if p := value.Primitive(vt.Prim); p != nil {
			return p, nil
		}
		return nil, fmt.Errorf("unsupported primitive type %s", vt.Prim)
	}
	if int(vt.Index) >= len(s.types) {
		return nil, fmt.Errorf("type index %d out of range (%d defined)", vt.Index, len(s.types))
	}
	t := s.types[vt.Index]
	if t.val == nil {
		return nil, fmt.Errorf("type index %d is a %s, not a value type", vt.Index, t.describe())
	}
	return t.val, nil
}

func (s *scope) optValType(vt *binary.ValType) (*value.Type, error) {
	if vt == nil {
		return nil, nil
	}
	return s.valType(*vt)
}

func (s *scope) defValType(d *binary.DefValType) (*value.Type, error) {
	if d.Kind.IsPrimitive() {
		return value.Primitive(d.Kind), nil
	}
	t := &value.Type{Kind: d.Kind}
	var err error
	switch d.Kind {
	case value.KindRecord:
		for _, f := range d.Fields {
			ft, err := s.valType(f.Type)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Label, err)
			}
			t.Fields = append(t.Fields, value.Field{Name: f.Label, Type: ft})
		}
	case value.KindVariant:
		for _, c := range d.Cases {
			ct, err := s.optValType(c.Type)
			if err != nil {
				return nil, fmt.Errorf("case %q: %w", c.Label, err)
			}
			t.Cases = append(t.Cases, value.Case{Name: c.Label, Type: ct})
		}
	case value.KindList, value.KindOption:
		if d.FixedLen != 0 {
			return nil, fmt.Errorf("fixed-size lists are not supported")
		}
		t.Elem, err = s.valType(d.Elem)
	case value.KindTuple:
		for _, e := range d.Types {
			et, err := s.valType(e)
			if err != nil {
				return nil, err
			}
			t.Types = append(t.Types, et)
		}
	case value.KindEnum, value.KindFlags:
		t.Labels = d.Labels
	case value.KindResult:
		if t.Ok, err = s.optValType(d.Ok); err == nil {
			t.Err, err = s.optValType(d.Err)
		}
	case value.KindOwn, value.KindBorrow:
		if int(d.Resource) >= len(s.types) || s.types[d.Resource].res == nil {
			return nil, fmt.Errorf("%s of type index %d, which is not a resource", d.Kind, d.Resource)
		}
		t.Resource = s.types[d.Resource].res
	default:
		return nil, fmt.Errorf("unsupported value type %s", d.Kind)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

func (s *scope) resolveFunc(f *binary.FuncType) (*value.FuncType, error) {
	if f.Async {
		return nil, fmt.Errorf("async functions are not supported")
	}
	ft := &value.FuncType{}
	for _, p := range f.Params {
		t, err := s.valType(p.Type)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", p.Label, err)
		}
		ft.Params = append(ft.Params, value.Param{Name: p.Label, Type: t})
	}
	if f.Result != nil {
		t, err := s.valType(*f.Result)
		if err != nil {
			return nil, fmt.Errorf("result: %w", err)
		}
		ft.Results = []value.Param{{Type: t}}
	}
	for _, r := range f.NamedResults {
		t, err := s.valType(r.Type)
		if err != nil {
			return nil, fmt.Errorf("result %q: %w", r.Label, err)
		}
		ft.Results = append(ft.Results, value.Param{Name: r.Label, Type: t})
	}
	return ft, nil
}

func (s *scope) funcType(idx uint32) (*value.FuncType, error) {
	if int(idx) >= len(s.types) {
		return nil, fmt.Errorf("type index %d out of range (%d defined)", idx, len(s.types))
	}
	if s.types[idx].fn == nil {
		return nil, fmt.Errorf("type index %d is a %s, not a func type", idx, s.types[idx].describe())
	}
	return s.types[idx].fn, nil
}

// binder supplies what an imported instance provides: its resource types and
// functions by name. A nil binder makes fresh resources (dry runs).
type binder interface {
	resource(name string) (*value.ResourceType, error)
	fn(name string, want *value.FuncType) (*compFunc, error)
}

// elabInstance elaborates an instance type against a binder, yielding the
// instance an import of that type provides.
func elabInstance(def *scope, it *binary.InstanceType, iface string, b binder) (*compInstance, error) {
	d := &scope{parent: def, tree: def.tree, dry: def.dry}
	ci := newCompInstance()
	for _, decl := range it.Decls {
		switch {
		case decl.CoreType != nil:
			d.coreTypes = append(d.coreTypes, decl.CoreType)
		case decl.Type != nil:
			if err := d.defineType(decl.Type); err != nil {
				return nil, err
			}
		case decl.Alias != nil:
			if err := d.defineAlias(decl.Alias); err != nil {
				return nil, err
			}
		case decl.Export != nil:
			e := decl.Export
			var item exportItem
			switch e.Desc.Kind {
			case binary.ExternFunc:
				ft, err := d.funcType(e.Desc.Index)
				if err != nil {
					return nil, fmt.Errorf("func %q: %w", e.Name, err)
				}
				f, err := b.fn(e.Name, ft)
				if err != nil {
					return nil, err
				}
				item = exportItem{sort: binary.SortFunc, fn: f}
			case binary.ExternType:
				if e.Desc.SubResource {
					rt, err := b.resource(e.Name)
					if err != nil {
						return nil, err
					}
					item = exportItem{sort: binary.SortType, typ: &typeEntry{res: rt}}
				} else {
					if int(e.Desc.Index) >= len(d.types) {
						return nil, fmt.Errorf("type %q: index %d out of range", e.Name, e.Desc.Index)
					}
					item = exportItem{sort: binary.SortType, typ: named(d.types[e.Desc.Index], e.Name)}
				}
			case binary.ExternInstance:
				if int(e.Desc.Index) >= len(d.types) || d.types[e.Desc.Index].inst == nil {
					return nil, fmt.Errorf("instance %q: type index %d is not an instance type", e.Name, e.Desc.Index)
				}
				t := d.types[e.Desc.Index]
				inner, err := elabInstance(t.def, t.inst, iface+"/"+e.Name, freshBinder{iface: iface + "/" + e.Name})
				if err != nil {
					return nil, err
				}
				item = exportItem{sort: binary.SortInstance, inst: inner}
			default:
				return nil, fmt.Errorf("export %q: %s exports of instances are not supported", e.Name, []string{"core module", "func", "value", "type", "component", "instance"}[e.Desc.Kind])
			}
			d.push(item)
			ci.add(e.Name, item)
		case decl.Import != nil:
			return nil, fmt.Errorf("import declarator in an instance type")
		}
	}
	return ci, nil
}

// freshBinder makes new abstract resources and body-less functions: it types
// imports when no host is at hand (Load's dry run).
type freshBinder struct{ iface string }

func (f freshBinder) resource(name string) (*value.ResourceType, error) {
	return &value.ResourceType{Name: name, Interface: f.iface}, nil
}

func (f freshBinder) fn(name string, want *value.FuncType) (*compFunc, error) {
	return &compFunc{typ: want}, nil
}

// hostBinder binds an imported interface to a HostInstance.
type hostBinder struct {
	iface string
	hi    *HostInstance
}

func (h hostBinder) resource(name string) (*value.ResourceType, error) {
	if h.hi.trap {
		return h.hi.Resource(name, nil), nil
	}
	rt, ok := h.hi.resources[name]
	if !ok {
		return nil, fmt.Errorf("import %q: the host does not implement resource %q (host interface %s)", h.iface, name, h.hi.name)
	}
	return rt, nil
}

func (h hostBinder) fn(name string, want *value.FuncType) (*compFunc, error) {
	if h.hi.trap {
		iface := h.iface
		return &compFunc{typ: want, host: &hostFunc{name: name, fn: func(context.Context, []any) ([]any, error) {
			return nil, fmt.Errorf("%s#%s: the host does not provide this import", iface, name)
		}}}, nil
	}
	f, ok := h.hi.funcs[name]
	if !ok {
		return nil, fmt.Errorf("import %q: the host does not implement function %q (host interface %s)", h.iface, name, h.hi.name)
	}
	if f.typ != nil && !f.typ.Equal(want) {
		return nil, fmt.Errorf("import %q: function %q: the component wants %s, the host has %s", h.iface, name, want, f.typ)
	}
	return &compFunc{typ: want, host: f}, nil
}

// bindHost satisfies a top-level import from the host's Imports.
func (s *scope) bindHost(name string, desc binary.ExternDesc) (exportItem, error) {
	switch desc.Kind {
	case binary.ExternInstance:
		if int(desc.Index) >= len(s.types) || s.types[desc.Index].inst == nil {
			return exportItem{}, fmt.Errorf("type index %d is not an instance type", desc.Index)
		}
		t := s.types[desc.Index]
		var b binder = freshBinder{iface: name}
		if !s.dry {
			hi := s.tree.imports.lookup(name)
			if hi == nil && (s.tree.imports.trapUnknown || typesOnly(t.inst)) {
				// An interface of types alone needs nothing from the host.
				hi = s.tree.imports.trapInstance(name)
			}
			if hi == nil {
				return exportItem{}, fmt.Errorf("the component imports interface %q, which the host does not provide", name)
			}
			b = hostBinder{iface: name, hi: hi}
		}
		ci, err := elabInstance(t.def, t.inst, name, b)
		if err != nil {
			return exportItem{}, err
		}
		return exportItem{sort: binary.SortInstance, inst: ci}, nil
	case binary.ExternFunc:
		ft, err := s.funcType(desc.Index)
		if err != nil {
			return exportItem{}, err
		}
		if s.dry {
			return exportItem{sort: binary.SortFunc, fn: &compFunc{typ: ft}}, nil
		}
		f, ok := s.tree.imports.funcs[name]
		if !ok {
			return exportItem{}, fmt.Errorf("the component imports function %q, which the host does not provide", name)
		}
		if f.typ != nil && !f.typ.Equal(ft) {
			return exportItem{}, fmt.Errorf("the component wants %s, the host has %s", ft, f.typ)
		}
		return exportItem{sort: binary.SortFunc, fn: &compFunc{typ: ft, host: f}}, nil
	case binary.ExternType:
		if !desc.SubResource {
			if int(desc.Index) >= len(s.types) {
				return exportItem{}, fmt.Errorf("type index %d out of range", desc.Index)
			}
			return exportItem{sort: binary.SortType, typ: named(s.types[desc.Index], name)}, nil
		}
		rt := &value.ResourceType{Name: name}
		if !s.dry {
			var found bool
			for r := range s.tree.imports.resources {
				if r.Name == name && r.Interface == "" {
					rt, found = r, true
				}
			}
			if !found {
				return exportItem{}, fmt.Errorf("the component imports resource %q, which the host does not provide", name)
			}
		}
		return exportItem{sort: binary.SortType, typ: &typeEntry{res: rt}}, nil
	}
	return exportItem{}, fmt.Errorf("imports of a %s are not supported", []string{"core module", "func", "value", "type", "component", "instance"}[desc.Kind])
}

// typesOnly reports whether an instance type exports no functions, resources
// or instances: an interface a component imports only for its types.
func typesOnly(it *binary.InstanceType) bool {
	for _, d := range it.Decls {
		if e := d.Export; e != nil {
			if e.Desc.Kind != binary.ExternType || e.Desc.SubResource {
				return false
			}
		}
	}
	return true
}
