package bindgen

import (
	"fmt"
	"strings"

	"go.bytecodealliance.org/wit"
)

// body emits the statements of one glue function (in wasm_bindings.go).
type body struct {
	p *goPkg
	b strings.Builder
	n int
}

func (e *body) tmp() string {
	e.n++
	return fmt.Sprintf("t%d", e.n)
}

func (e *body) line(format string, args ...any) {
	fmt.Fprintf(&e.b, format, args...)
	e.b.WriteByte('\n')
}

func (e *body) typ(t wit.Type) string { return e.p.goType(t, e.p.wasmImports) }
func (e *body) cabi() string          { return e.p.cabi(e.p.wasmImports) }
func (e *body) math() string          { return e.p.importPath("math", "math", e.p.wasmImports) }

// conv rewrites "math." in a conversion to the file's alias of math.
func (e *body) conv(s string) string {
	if strings.Contains(s, "math.") {
		return strings.ReplaceAll(s, "math.", e.math()+".")
	}
	return s
}

// scalarGo maps primitive WIT types with a plain Go counterpart whose
// memory layout equals the canonical one.
func scalarGo(t wit.Type) (string, bool) {
	switch under(t).(type) {
	case wit.S8:
		return "int8", true
	case wit.U8:
		return "uint8", true
	case wit.S16:
		return "int16", true
	case wit.U16:
		return "uint16", true
	case wit.S32:
		return "int32", true
	case wit.U32:
		return "uint32", true
	case wit.S64:
		return "int64", true
	case wit.U64:
		return "uint64", true
	case wit.F32:
		return "float32", true
	case wit.F64:
		return "float64", true
	case wit.Char:
		return "rune", true
	}
	return "", false
}

// liftFlat returns a Go expression of type t from the flat values vals
// (Go expressions of t's flat core types).
func (e *body) liftFlat(t wit.Type, vals []string) string {
	k := under(t)
	switch k.(type) {
	case wit.Bool:
		return "(" + vals[0] + " != 0)"
	case wit.String:
		return e.cabi() + ".LiftString(" + vals[0] + ", " + vals[1] + ")"
	case *wit.List:
		return e.liftList(k.(*wit.List), vals[0], vals[1])
	case *wit.Own, *wit.Borrow:
		return e.liftHandle(t, vals[0])
	case *wit.Enum, *wit.Flags:
		return e.typ(t) + "(" + vals[0] + ")"
	case *wit.Record:
		r := k.(*wit.Record)
		var parts []string
		i := 0
		for _, f := range r.Fields {
			n := len(flat(f.Type))
			parts = append(parts, exported(f.Name)+": "+e.liftFlat(f.Type, vals[i:i+n]))
			i += n
		}
		return e.typ(t) + "{" + strings.Join(parts, ", ") + "}"
	case *wit.Tuple:
		var parts []string
		i := 0
		for j, et := range k.(*wit.Tuple).Types {
			n := len(flat(et))
			parts = append(parts, fmt.Sprintf("F%d: %s", j, e.liftFlat(et, vals[i:i+n])))
			i += n
		}
		return e.typ(t) + "{" + strings.Join(parts, ", ") + "}"
	}
	if g, ok := scalarGo(t); ok {
		return g + "(" + vals[0] + ")"
	}
	if cs := cases(k); cs != nil {
		joined := joinedPayload(cs)
		v := e.tmp()
		e.line("var %s %s", v, e.typ(t))
		e.line("switch %s {", vals[0])
		for i, c := range cs {
			e.line("case %d:", i)
			payload := ""
			if c.typ != nil {
				ft := flat(c.typ)
				conv := make([]string, len(ft))
				for j, x := range ft {
					conv[j] = e.conv(fromJoined(vals[1+j], joined[j], x))
				}
				payload = e.liftFlat(c.typ, conv)
			}
			e.line("%s = %s", v, e.construct(t, i, payload))
		}
		e.line("default:\npanic(\"invalid discriminant of %s\")", typeLabel(t))
		e.line("}")
		return v
	}
	fail("cannot lift %s", t.TypeName())
	return ""
}

func typeLabel(t wit.Type) string {
	if td, ok := t.(*wit.TypeDef); ok && td.Name != nil {
		return *td.Name
	}
	return strings.ReplaceAll(t.TypeName(), `"`, "")
}

// construct returns a Go expression of variant-like type t in case i with
// payload expression v ("" for none).
func (e *body) construct(t wit.Type, i int, v string) string {
	ty := e.typ(t)
	switch k := under(t).(type) {
	case *wit.Option:
		if i == 0 {
			return ty + "{}"
		}
		return ty + "{Some: true, Value: " + v + "}"
	case *wit.Result:
		if i == 0 {
			if v == "" {
				return ty + "{}"
			}
			return ty + "{OK: " + v + "}"
		}
		if v == "" {
			return ty + "{IsErr: true}"
		}
		return ty + "{IsErr: true, Err: " + v + "}"
	case *wit.Variant:
		c := k.Cases[i]
		def := definer(t)
		tag := e.p.use(e.p.g.pkg(def.Owner), e.p.wasmImports) + exported(*def.Name) + "Case" + exported(c.Name)
		if v == "" {
			return ty + "{Tag: " + tag + "}"
		}
		return ty + "{Tag: " + tag + ", " + exported(c.Name) + ": " + v + "}"
	}
	fail("construct %T", under(t))
	return ""
}

// caseOf returns a uint32 expression of x's case number.
func (e *body) caseOf(t wit.Type, x string) string {
	switch under(t).(type) {
	case *wit.Option:
		return "uint32(" + e.cabi() + ".Bool(" + x + ".Some))"
	case *wit.Result:
		return "uint32(" + e.cabi() + ".Bool(" + x + ".IsErr))"
	}
	return "uint32(" + x + ".Tag)"
}

// payloadOf returns the expression of x's payload in case i.
func payloadOf(t wit.Type, x string, i int) string {
	switch k := under(t).(type) {
	case *wit.Option:
		return x + ".Value"
	case *wit.Result:
		if i == 0 {
			return x + ".OK"
		}
		return x + ".Err"
	case *wit.Variant:
		return x + "." + exported(k.Cases[i].Name)
	}
	fail("payload %T", under(t))
	return ""
}

// liftList returns a []T from a list's address and length.
func (e *body) liftList(l *wit.List, addr, n string) string {
	if g, ok := scalarGo(l.Type); ok {
		return e.cabi() + ".LiftSlice[" + g + "](" + addr + ", " + n + ")"
	}
	size, _ := layout(l.Type)
	v, a, i := e.tmp(), e.tmp(), e.tmp()
	e.line("%s, %s := make([]%s, %s), %s", v, a, e.typ(l.Type), n, addr)
	e.line("for %s := range %s {", i, v)
	e.line("%s[%s] = %s", v, i, e.load(l.Type, fmt.Sprintf("%s+uint32(%s)*%d", a, i, size)))
	e.line("}")
	return v
}

// lowerList returns the address and length of x's elements in canonical
// layout. Blocks it allocates live until post-return; x itself must be
// kept alive by the caller when its elements are aliased.
func (e *body) lowerList(l *wit.List, x string) (string, string) {
	a, n := e.tmp(), e.tmp()
	if _, ok := scalarGo(l.Type); ok {
		e.line("%s, %s := %s.LowerSlice(%s)", a, n, e.cabi(), x)
		return a, n
	}
	size, align := layout(l.Type)
	i := e.tmp()
	e.line("%s, %s := %s.Alloc(uint32(len(%s))*%d, %d), uint32(len(%s))", a, n, e.cabi(), x, size, align, x)
	e.line("for %s := range %s {", i, x)
	e.store(l.Type, fmt.Sprintf("%s+uint32(%s)*%d", a, i, size), x+"["+i+"]")
	e.line("}")
	return a, n
}

// lowerFlat returns Go expressions of t's flat core types for x.
func (e *body) lowerFlat(t wit.Type, x string) []string {
	k := under(t)
	switch k.(type) {
	case wit.Bool:
		return []string{"uint32(" + e.cabi() + ".Bool(" + x + "))"}
	case wit.S8, wit.S16, wit.S32:
		return []string{"uint32(int32(" + x + "))"}
	case wit.U8, wit.U16, wit.U32, wit.Char:
		return []string{"uint32(" + x + ")"}
	case wit.S64, wit.U64:
		return []string{"uint64(" + x + ")"}
	case wit.F32, wit.F64:
		return []string{x}
	case *wit.Own, *wit.Borrow:
		return []string{e.lowerHandle(t, x)}
	case *wit.Enum, *wit.Flags:
		return []string{"uint32(" + x + ")"}
	case wit.String:
		a, n := e.tmp(), e.tmp()
		e.line("%s, %s := %s.LowerString(%s)", a, n, e.cabi(), x)
		return []string{a, n}
	case *wit.List:
		a, n := e.lowerList(k.(*wit.List), x)
		return []string{a, n}
	case *wit.Record:
		var out []string
		for _, f := range k.(*wit.Record).Fields {
			out = append(out, e.lowerFlat(f.Type, x+"."+exported(f.Name))...)
		}
		return out
	case *wit.Tuple:
		var out []string
		for j, et := range k.(*wit.Tuple).Types {
			out = append(out, e.lowerFlat(et, fmt.Sprintf("%s.F%d", x, j))...)
		}
		return out
	}
	if cs := cases(k); cs != nil {
		joined := joinedPayload(cs)
		disc := e.tmp()
		vars := []string{disc}
		e.line("var %s uint32", disc)
		for _, j := range joined {
			v := e.tmp()
			e.line("var %s %s", v, goCore[j])
			vars = append(vars, v)
		}
		e.line("switch %s {", e.caseOf(t, x))
		for i, c := range cs {
			e.line("case %d:", i)
			e.line("%s = %d", disc, i)
			if c.typ != nil {
				ft := flat(c.typ)
				for j, fv := range e.lowerFlat(c.typ, payloadOf(t, x, i)) {
					e.line("%s = %s", vars[1+j], e.conv(toJoined(fv, ft[j], joined[j])))
				}
			}
		}
		e.line("}")
		return vars
	}
	fail("cannot lower %s", t.TypeName())
	return nil
}

// load returns a Go expression of type t read at addr (a uint32 expression).
func (e *body) load(t wit.Type, addr string) string {
	k := under(t)
	c := e.cabi()
	switch k.(type) {
	case wit.Bool:
		return c + ".LoadBool(" + addr + ")"
	case wit.String:
		return c + ".LoadString(" + addr + ")"
	case *wit.List:
		a := e.tmp()
		e.line("%s := %s", a, addr)
		return e.liftList(k.(*wit.List), c+".Load[uint32]("+a+")", c+".Load[uint32]("+a+"+4)")
	case *wit.Own, *wit.Borrow:
		return e.liftHandle(t, c+".Load[uint32]("+addr+")")
	case *wit.Enum, *wit.Flags:
		s, _ := layout(t)
		return fmt.Sprintf("%s(%s.Load[uint%d](%s))", e.typ(t), c, 8*s, addr)
	case *wit.Record, *wit.Tuple:
		var ts, names []string
		var types []wit.Type
		if r, ok := k.(*wit.Record); ok {
			for _, f := range r.Fields {
				types = append(types, f.Type)
				names = append(names, exported(f.Name))
			}
		} else {
			types = k.(*wit.Tuple).Types
			for j := range types {
				names = append(names, fmt.Sprintf("F%d", j))
			}
		}
		a := e.tmp()
		e.line("%s := %s", a, addr)
		offs, _, _ := fieldOffsets(types)
		for j, ft := range types {
			ts = append(ts, names[j]+": "+e.load(ft, fmt.Sprintf("%s+%d", a, offs[j])))
		}
		return e.typ(t) + "{" + strings.Join(ts, ", ") + "}"
	}
	if g, ok := scalarGo(t); ok {
		return c + ".Load[" + g + "](" + addr + ")"
	}
	if cs := cases(k); cs != nil {
		a, v := e.tmp(), e.tmp()
		e.line("%s := %s", a, addr)
		e.line("var %s %s", v, e.typ(t))
		ds := discSize(len(cs))
		off := payloadOffset(cs)
		e.line("switch %s.Load[uint%d](%s) {", c, 8*ds, a)
		for i, cc := range cs {
			e.line("case %d:", i)
			payload := ""
			if cc.typ != nil {
				payload = e.load(cc.typ, fmt.Sprintf("%s+%d", a, off))
			}
			e.line("%s = %s", v, e.construct(t, i, payload))
		}
		e.line("default:\npanic(\"invalid discriminant of %s\")", typeLabel(t))
		e.line("}")
		return v
	}
	fail("cannot load %s", t.TypeName())
	return ""
}

// store emits statements writing x of type t at addr.
func (e *body) store(t wit.Type, addr, x string) {
	k := under(t)
	c := e.cabi()
	switch k.(type) {
	case wit.Bool:
		e.line("%s.StoreBool(%s, %s)", c, addr, x)
		return
	case wit.String:
		e.line("%s.StoreString(%s, %s)", c, addr, x)
		return
	case *wit.List:
		a := e.tmp()
		e.line("%s := %s", a, addr)
		p, n := e.lowerList(k.(*wit.List), x)
		e.line("%s.Keep(%s)", c, x)
		e.line("%s.Store(%s, %s)", c, a, p)
		e.line("%s.Store(%s+4, %s)", c, a, n)
		return
	case *wit.Own, *wit.Borrow:
		e.line("%s.Store(%s, %s)", c, addr, e.lowerHandle(t, x))
		return
	case *wit.Enum, *wit.Flags:
		s, _ := layout(t)
		e.line("%s.Store(%s, uint%d(%s))", c, addr, 8*s, x)
		return
	case *wit.Record, *wit.Tuple:
		var types []wit.Type
		var names []string
		if r, ok := k.(*wit.Record); ok {
			for _, f := range r.Fields {
				types = append(types, f.Type)
				names = append(names, exported(f.Name))
			}
		} else {
			types = k.(*wit.Tuple).Types
			for j := range types {
				names = append(names, fmt.Sprintf("F%d", j))
			}
		}
		a := e.tmp()
		e.line("%s := %s", a, addr)
		offs, _, _ := fieldOffsets(types)
		for j, ft := range types {
			e.store(ft, fmt.Sprintf("%s+%d", a, offs[j]), x+"."+names[j])
		}
		return
	}
	if g, ok := scalarGo(t); ok {
		e.line("%s.Store(%s, %s(%s))", c, addr, g, x)
		return
	}
	if cs := cases(k); cs != nil {
		a := e.tmp()
		e.line("%s := %s", a, addr)
		ds := discSize(len(cs))
		off := payloadOffset(cs)
		e.line("switch %s {", e.caseOf(t, x))
		for i, cc := range cs {
			e.line("case %d:", i)
			e.line("%s.Store(%s, uint%d(%d))", c, a, 8*ds, i)
			if cc.typ != nil {
				e.store(cc.typ, fmt.Sprintf("%s+%d", a, off), payloadOf(t, x, i))
			}
		}
		e.line("}")
		return
	}
	fail("cannot store %s", t.TypeName())
}

// paramTypes returns the WIT types of f's parameters.
func paramTypes(ps []wit.Param) []wit.Type {
	ts := make([]wit.Type, len(ps))
	for i, p := range ps {
		ts[i] = p.Type
	}
	return ts
}

const maxFlatParams, maxFlatResults = 16, 1

// genExport writes the //go:wasmexport wrapper and post-return of f.
func (p *goPkg) genExport(f *wit.Function) {
	e := &body{p: p}
	name := coreIdent(f.Name)
	coreName := p.exportP + f.Name
	ptypes := paramTypes(f.Params)
	pflat := flatAll(ptypes)
	var params []string // core parameter declarations
	var args []string
	if len(pflat) > maxFlatParams {
		params = []string{"args uint32"}
		offs, _, _ := fieldOffsets(ptypes)
		for i, t := range ptypes {
			args = append(args, e.load(t, fmt.Sprintf("args+%d", offs[i])))
		}
	} else {
		i := 0
		for _, t := range ptypes {
			n := len(flat(t))
			vals := make([]string, n)
			for j := range vals {
				vals[j] = fmt.Sprintf("p%d", i+j)
				params = append(params, fmt.Sprintf("p%d %s", i+j, goCore[pflat[i+j]]))
			}
			args = append(args, e.liftFlat(t, vals))
			i += n
		}
	}
	var call string
	if _, ok := f.Kind.(*wit.Method); ok {
		call = fmt.Sprintf("%s.%s(%s)", args[0], exported(f.BaseName()), strings.Join(args[1:], ", "))
	} else {
		field := exportField(f)
		e.line("if Exports.%s == nil {\npanic(%q)\n}", field, p.name+".Exports."+field+" is not set: set it in an init function")
		call = fmt.Sprintf("Exports.%s(%s)", field, strings.Join(args, ", "))
	}
	result := ""
	switch len(f.Results) {
	case 0:
		e.line("%s", call)
	case 1:
		rt := f.Results[0].Type
		rflat := flat(rt)
		e.line("r := %s", call)
		if len(rflat) > maxFlatResults {
			size, align := layout(rt)
			e.line("ret := %s.Alloc(%d, %d)", e.cabi(), size, align)
			e.store(rt, "ret", "r")
			e.line("return ret")
			result = "uint32"
		} else {
			vals := e.lowerFlat(rt, "r")
			e.line("return %s", vals[0])
			result = goCore[rflat[0]]
		}
	}
	w := &p.wasm
	fmt.Fprintf(w, "//go:wasmexport %s\nfunc wasmexport%s(%s) %s {\n%s}\n\n", coreName, name, strings.Join(params, ", "), result, e.b.String())
	post := ""
	if result != "" {
		post = "uint32"
		if result != "uint32" {
			post = result
		}
	}
	fmt.Fprintf(w, "//go:wasmexport cabi_post_%s\nfunc wasmexportPost%s(%s) {\n%s.PostReturn()\n}\n\n", coreName, name, post, p.cabi(p.wasmImports))
}

// genImport writes the //go:wasmimport declaration of f and its Go wrapper
// (and the wrapper's host stub).
func (p *goPkg) genImport(f *wit.Function) {
	e := &body{p: p}
	name := exported(f.Name)
	recv, hrecv := "", "" // method receivers
	params := f.Params
	if rt := f.Type(); rt != nil {
		rname := exported(*rt.(*wit.TypeDef).Name)
		base := exported(f.BaseName())
		switch f.Kind.(type) {
		case *wit.Constructor:
			name = "New" + rname
		case *wit.Static:
			name = rname + base
		case *wit.Method:
			name = base
			recv = "(" + local(f.Params[0].Name) + " " + p.goType(f.Params[0].Type, p.wasmImports) + ") "
			hrecv = "(" + local(f.Params[0].Name) + " " + p.goType(f.Params[0].Type, p.hostImports) + ") "
			params = f.Params[1:]
		}
	}
	coreName := "wasmimport" + coreIdent(f.Name)
	ptypes := paramTypes(f.Params)
	pflat := flatAll(ptypes)
	var coreParams, coreArgs []string
	if len(pflat) > maxFlatParams {
		_, size, align := fieldOffsets(ptypes)
		offs, _, _ := fieldOffsets(ptypes)
		e.line("args := %s.Alloc(%d, %d)", e.cabi(), size, align)
		for i, par := range f.Params {
			e.store(par.Type, fmt.Sprintf("args+%d", offs[i]), local(par.Name))
		}
		coreParams = []string{"args uint32"}
		coreArgs = []string{"args"}
	} else {
		for _, par := range f.Params {
			for _, v := range e.lowerFlat(par.Type, local(par.Name)) {
				coreParams = append(coreParams, fmt.Sprintf("p%d %s", len(coreParams), goCore[pflat[len(coreArgs)]]))
				coreArgs = append(coreArgs, v)
			}
		}
	}
	result, ret := "", ""
	var rt wit.Type
	if len(f.Results) == 1 {
		rt = f.Results[0].Type
		rflat := flat(rt)
		if len(rflat) > maxFlatResults {
			size, align := layout(rt)
			e.line("ret := %s.Alloc(%d, %d)", e.cabi(), size, align)
			coreParams = append(coreParams, "ret uint32")
			coreArgs = append(coreArgs, "ret")
		} else {
			result = goCore[rflat[0]]
			ret = "r := "
		}
	} else if len(f.Results) > 1 {
		fail("function %s: multiple results are not supported", f.Name)
	}
	e.line("%s%s(%s)", ret, coreName, strings.Join(coreArgs, ", "))
	for _, par := range f.Params {
		if pointerFree(par.Type) {
			continue
		}
		e.line("%s.KeepAlive(%s)", p.importPath("runtime", "runtime", p.wasmImports), local(par.Name))
	}
	if rt != nil {
		if result != "" {
			e.line("return %s", e.liftFlat(rt, []string{"r"}))
		} else {
			e.line("return %s", e.load(rt, "ret"))
		}
	}
	sig := p.signatureOf(params, f, p.wasmImports)
	w := &p.wasm
	fmt.Fprintf(w, "//go:wasmimport %s %s\n//go:noescape\nfunc %s(%s) %s\n\n", p.wasmID, f.Name, coreName, strings.Join(coreParams, ", "), result)
	writeDocs(w, f.Docs.Contents)
	fmt.Fprintf(w, "func %s%s%s {\n%s}\n\n", recv, name, sig, e.b.String())

	// The host stub: the same function, panicking.
	hsig := p.signatureOf(params, f, p.hostImports)
	writeDocs(&p.host, f.Docs.Contents)
	fmt.Fprintf(&p.host, "func %s%s%s {\npanic(%q)\n}\n\n", hrecv, name, hsig, p.wasmID+"#"+f.Name+": imports work only in a component (GOOS=wasip1)")
}

// coreIdent turns a core function name into a Go identifier part.
func coreIdent(name string) string {
	var b strings.Builder
	up := true
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			if up && r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return b.String()
}

// genDrop writes the Drop method of an imported resource's handle.
func (p *goPkg) genDrop(td *wit.TypeDef) {
	name := exported(*td.Name)
	core := "wasmimportResourceDrop" + name
	fmt.Fprintf(&p.wasm, "//go:wasmimport %s [resource-drop]%s\nfunc %s(self uint32)\n\n", p.wasmID, *td.Name, core)
	fmt.Fprintf(&p.wasm, "// Drop drops an owned handle.\nfunc (self %s) Drop() {\n%s(uint32(self))\n}\n\n", name, core)
	fmt.Fprintf(&p.host, "// Drop drops an owned handle.\nfunc (self %s) Drop() {\npanic(%q)\n}\n\n", name, p.wasmID+"#[resource-drop]"+*td.Name+": imports work only in a component (GOOS=wasip1)")
}

// pointerFree reports whether t's flat form holds no address into Go memory.
func pointerFree(t wit.Type) bool {
	switch k := under(t).(type) {
	case wit.String, *wit.List:
		return false
	case *wit.Record:
		for _, f := range k.Fields {
			if !pointerFree(f.Type) {
				return false
			}
		}
	case *wit.Tuple:
		for _, et := range k.Types {
			if !pointerFree(et) {
				return false
			}
		}
	}
	for _, c := range cases(under(t)) {
		if c.typ != nil && !pointerFree(c.typ) {
			return false
		}
	}
	return true
}

// definer returns the named type definition that defines t's structure,
// following aliases (a type brought in with `use` is an alias in the
// using interface).
func definer(t wit.Type) *wit.TypeDef {
	var last *wit.TypeDef
	for {
		td, ok := t.(*wit.TypeDef)
		if !ok {
			break
		}
		if td.Name != nil {
			last = td
		}
		alias, ok := td.Kind.(wit.Type)
		if !ok {
			break
		}
		t = alias
	}
	if last == nil {
		fail("variant without a name")
	}
	return last
}

// liftHandle returns the Go value of a handle: the handle itself for an
// imported resource; for one the box exports, its value (a borrow is
// passed as the rep, an own as a handle to take over).
func (e *body) liftHandle(t wit.Type, v string) string {
	def := e.p.g.exportedRes(t)
	if def == nil {
		return e.typ(t) + "(" + v + ")"
	}
	if def.Owner != e.p.owner {
		fail("resource %s is used outside the interface that exports it: not supported", *def.Name)
	}
	if _, ok := under(t).(*wit.Borrow); ok {
		return "table" + exported(*def.Name) + ".Get(" + v + ")"
	}
	return "liftOwn" + exported(*def.Name) + "(" + v + ")"
}

// lowerHandle returns the uint32 of a handle value.
func (e *body) lowerHandle(t wit.Type, x string) string {
	def := e.p.g.exportedRes(t)
	if def == nil {
		return "uint32(" + x + ")"
	}
	if def.Owner != e.p.owner {
		fail("resource %s is used outside the interface that exports it: not supported", *def.Name)
	}
	if _, ok := under(t).(*wit.Borrow); ok {
		fail("borrow<%s> of an exported resource cannot be passed out", *def.Name)
	}
	return "lowerOwn" + exported(*def.Name) + "(" + x + ")"
}
