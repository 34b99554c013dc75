package wasmhost

import (
	"context"
	"fmt"

	"github.com/wbox-dev/wbox/wasmhost/internal/binary"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// run walks the definitions of a component in order, filling s's index
// spaces, and returns the instance its exports make. args are the arguments
// of a nested instantiation; the top level takes its imports from the host.
func (s *scope) run(ctx context.Context, ast *binary.Component, args map[string]exportItem) (*compInstance, error) {
	out := newCompInstance()
	for _, d := range ast.Defs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var err error
		switch d := d.(type) {
		case *binary.CoreModule:
			s.coreModules = append(s.coreModules, d)
		case *binary.CoreInstance:
			err = s.defineCoreInstance(ctx, d)
		case *binary.CoreTypeDef:
			s.coreTypes = append(s.coreTypes, d)
		case *binary.Component:
			s.components = append(s.components, &compTemplate{ast: d, parent: s})
		case *binary.Instance:
			err = s.defineInstance(ctx, d)
		case *binary.Alias:
			err = s.defineAlias(d)
		case *binary.TypeDef:
			err = s.defineType(d)
		case *binary.Canon:
			err = s.defineCanon(ctx, d)
		case *binary.Start:
			err = fmt.Errorf("start functions (value imports) are not supported")
		case *binary.Import:
			err = s.defineImport(d, args)
		case *binary.Export:
			var it exportItem
			it, err = s.defineExport(d)
			if err == nil {
				out.add(d.Name, it)
			}
		default:
			err = fmt.Errorf("unknown definition %T", d)
		}
		if err != nil {
			return nil, defError(d, defName(d), err)
		}
	}
	return out, nil
}

func defName(d binary.Def) string {
	switch d := d.(type) {
	case *binary.CoreInstance:
		return "core instance"
	case *binary.Instance:
		return "instance"
	case *binary.Alias:
		return "alias of " + d.Sort.String()
	case *binary.TypeDef:
		return "type"
	case *binary.Canon:
		return "canon"
	case *binary.Import:
		return fmt.Sprintf("import %q", d.Name)
	case *binary.Export:
		return fmt.Sprintf("export %q", d.Name)
	case *binary.Start:
		return "start"
	}
	return "definition"
}

// item returns the entry a sort index names.
func (s *scope) item(si binary.SortIdx) (exportItem, error) {
	i := si.Index
	bad := func(n int) error {
		return fmt.Errorf("%s index %d out of range (%d defined)", si.Sort, i, n)
	}
	switch si.Sort {
	case binary.SortFunc:
		if int(i) >= len(s.funcs) {
			return exportItem{}, bad(len(s.funcs))
		}
		return exportItem{sort: si.Sort, fn: s.funcs[i]}, nil
	case binary.SortType:
		if int(i) >= len(s.types) {
			return exportItem{}, bad(len(s.types))
		}
		return exportItem{sort: si.Sort, typ: s.types[i]}, nil
	case binary.SortInstance:
		if int(i) >= len(s.instances) {
			return exportItem{}, bad(len(s.instances))
		}
		return exportItem{sort: si.Sort, inst: s.instances[i]}, nil
	case binary.SortComponent:
		if int(i) >= len(s.components) {
			return exportItem{}, bad(len(s.components))
		}
		return exportItem{sort: si.Sort, comp: s.components[i]}, nil
	case binary.SortCoreModule:
		if int(i) >= len(s.coreModules) {
			return exportItem{}, bad(len(s.coreModules))
		}
		return exportItem{sort: si.Sort, mod: s.coreModules[i]}, nil
	}
	return exportItem{}, fmt.Errorf("%s cannot be imported, exported or passed here", si.Sort)
}

// push appends an item to the index space of its sort.
func (s *scope) push(it exportItem) {
	switch it.sort {
	case binary.SortFunc:
		s.funcs = append(s.funcs, it.fn)
	case binary.SortType:
		s.types = append(s.types, it.typ)
	case binary.SortInstance:
		s.instances = append(s.instances, it.inst)
	case binary.SortComponent:
		s.components = append(s.components, it.comp)
	case binary.SortCoreModule:
		s.coreModules = append(s.coreModules, it.mod)
	}
}

func (s *scope) defineInstance(ctx context.Context, d *binary.Instance) error {
	if d.Component == nil {
		ci := newCompInstance()
		for _, e := range d.Exports {
			it, err := s.item(e.Item)
			if err != nil {
				return fmt.Errorf("inline export %q: %w", e.Name, err)
			}
			ci.add(e.Name, it)
		}
		s.instances = append(s.instances, ci)
		return nil
	}
	if int(*d.Component) >= len(s.components) {
		return fmt.Errorf("component index %d out of range (%d defined)", *d.Component, len(s.components))
	}
	tmpl := s.components[*d.Component]
	args := map[string]exportItem{}
	for _, a := range d.Args {
		it, err := s.item(a.Item)
		if err != nil {
			return fmt.Errorf("argument %q: %w", a.Name, err)
		}
		args[a.Name] = it
	}
	child := &scope{parent: tmpl.parent, tree: s.tree, dry: s.dry, inst: &instanceState{owned: map[*value.ResourceType]bool{}}}
	ci, err := child.run(ctx, tmpl.ast, args)
	if err != nil {
		return fmt.Errorf("nested component: %w", err)
	}
	s.instances = append(s.instances, ci)
	return nil
}

func (s *scope) defineAlias(d *binary.Alias) error {
	switch d.Kind {
	case binary.AliasInstanceExport:
		if int(d.Instance) >= len(s.instances) {
			return fmt.Errorf("instance index %d out of range (%d defined)", d.Instance, len(s.instances))
		}
		it, ok := s.instances[d.Instance].exports[d.Name]
		if !ok {
			return fmt.Errorf("instance %d has no export %q", d.Instance, d.Name)
		}
		if it.sort != d.Sort {
			return fmt.Errorf("export %q of instance %d is a %s, not a %s", d.Name, d.Instance, it.sort, d.Sort)
		}
		s.push(it)
		return nil
	case binary.AliasCoreInstanceExport:
		return s.aliasCoreExport(d)
	case binary.AliasOuter:
		up := s
		for n := d.Count; n > 0; n-- {
			if up.parent == nil {
				return fmt.Errorf("outer alias %d levels up from a scope %d deep", d.Count, d.Count-n)
			}
			up = up.parent
		}
		switch d.Sort {
		case binary.SortType, binary.SortComponent, binary.SortCoreModule:
			it, err := up.item(binary.SortIdx{Sort: d.Sort, Index: d.Index})
			if err != nil {
				return err
			}
			s.push(it)
		case binary.SortCoreType:
			if int(d.Index) >= len(up.coreTypes) {
				return fmt.Errorf("core type index %d out of range", d.Index)
			}
			s.coreTypes = append(s.coreTypes, up.coreTypes[d.Index])
		default:
			return fmt.Errorf("outer alias of a %s is not allowed", d.Sort)
		}
		return nil
	}
	return fmt.Errorf("unknown alias kind %d", d.Kind)
}

func (s *scope) defineImport(d *binary.Import, args map[string]exportItem) error {
	var it exportItem
	var err error
	if args != nil {
		a, ok := args[d.Name]
		if !ok {
			return fmt.Errorf("nested component import %q has no argument", d.Name)
		}
		it, err = s.bindArg(d.Desc, a)
	} else {
		it, err = s.bindHost(d.Name, d.Desc)
	}
	if err != nil {
		return err
	}
	s.push(it)
	if args == nil {
		s.imported = append(s.imported, namedItem{d.Name, it})
	}
	return nil
}

// bindArg checks an argument of a nested instantiation against the import it
// satisfies.
func (s *scope) bindArg(desc binary.ExternDesc, a exportItem) (exportItem, error) {
	want := map[binary.ExternKind]binary.Sort{
		binary.ExternFunc: binary.SortFunc, binary.ExternInstance: binary.SortInstance,
		binary.ExternType: binary.SortType, binary.ExternComponent: binary.SortComponent,
		binary.ExternCoreModule: binary.SortCoreModule,
	}[desc.Kind]
	if a.sort != want {
		return exportItem{}, fmt.Errorf("argument is a %s, import wants a %s", a.sort, want)
	}
	if desc.Kind == binary.ExternFunc {
		ft, err := s.funcType(desc.Index)
		if err != nil {
			return exportItem{}, err
		}
		if !ft.Equal(a.fn.typ) {
			return exportItem{}, fmt.Errorf("argument has type %s, import wants %s", a.fn.typ, ft)
		}
		// The nested component sees the function at its own (named) type.
		return exportItem{sort: binary.SortFunc, fn: &compFunc{typ: ft, host: a.fn.host, lift: a.fn.lift}}, nil
	}
	return a, nil
}

func (s *scope) defineExport(d *binary.Export) (exportItem, error) {
	it, err := s.item(d.Item)
	if err != nil {
		return it, err
	}
	if d.Desc != nil {
		switch {
		case it.sort == binary.SortFunc && d.Desc.Kind == binary.ExternFunc:
			ft, err := s.funcType(d.Desc.Index)
			if err != nil {
				return it, err
			}
			if !ft.Equal(it.fn.typ) {
				return it, fmt.Errorf("function of type %s exported as %s", it.fn.typ, ft)
			}
			it.fn = &compFunc{typ: ft, host: it.fn.host, lift: it.fn.lift}
		case it.sort == binary.SortType && d.Desc.Kind == binary.ExternType && !d.Desc.SubResource:
			if int(d.Desc.Index) < len(s.types) && s.types[d.Desc.Index].val != nil && it.typ.val != nil {
				it.typ = s.types[d.Desc.Index]
			}
		}
	}
	if it.sort == binary.SortType {
		it.typ = named(it.typ, d.Name)
	}
	s.push(it)
	return it, nil
}

// named gives a type entry its export name: WIT names come from exports.
func named(t *typeEntry, name string) *typeEntry {
	switch {
	case t.res != nil:
		if t.res.Name == "" {
			t.res.Name = name
		}
		return t
	case t.val != nil:
		if t.val.Kind.IsPrimitive() || t.val.Kind == value.KindOwn || t.val.Kind == value.KindBorrow {
			return t
		}
		c := *t.val
		c.Name = name
		return &typeEntry{val: &c}
	}
	return t
}
