package binary

import "fmt"

// Error is a decoding error: what went wrong, in which section, at which byte
// offset of the outermost binary.
type Error struct {
	Offset  int
	Section string
	Msg     string
}

func (e *Error) Error() string {
	if e.Section == "" {
		return fmt.Sprintf("offset %#x: %s", e.Offset, e.Msg)
	}
	return fmt.Sprintf("%s section at offset %#x: %s", e.Section, e.Offset, e.Msg)
}

// IsComponent reports whether b starts with the component preamble (as
// opposed to a core module's).
func IsComponent(b []byte) bool {
	return len(b) >= 8 && string(b[:4]) == "\x00asm" && b[6] == 1 && b[7] == 0
}

const (
	magic = "\x00asm"
	// componentVersion is the pre-standard version of Binary.md that this
	// decoder implements; it will become 0x1 once the spec is final.
	componentVersion = 0x0d
	preambleSize     = 8
)

// Section ids, in the order of Binary.md.
const (
	secCustom       = 0
	secCoreModule   = 1
	secCoreInstance = 2
	secCoreType     = 3
	secComponent    = 4
	secInstance     = 5
	secAlias        = 6
	secType         = 7
	secCanon        = 8
	secStart        = 9
	secImport       = 10
	secExport       = 11
	secValue        = 12
)

var sectionNames = [...]string{
	secCustom: "custom", secCoreModule: "core module", secCoreInstance: "core instance",
	secCoreType: "core type", secComponent: "component", secInstance: "instance",
	secAlias: "alias", secType: "type", secCanon: "canon", secStart: "start",
	secImport: "import", secExport: "export", secValue: "value",
}

// Decode decodes a component binary. The result aliases b: core module bytes
// and custom section data are subslices of it, so b must not be modified
// while the Component is in use.
//
// Besides the current Binary.md, Decode reads the legacy forms that released
// encoders wrote: the 0x01 name prefix, named function results, variant
// refines, (resource ... (dtor async f)) and resource.drop async. It stops
// with an "unsupported" error, instead of producing a tree that later stages
// could misread, at what value.Kind or CoreValType cannot express: stream,
// future, error-context and map types, core GC types beyond plain function
// types, and value definitions (section 12). Other canon built-ins (async,
// threads, error-context) decode as CanonOther.
func Decode(b []byte) (*Component, error) {
	r := &reader{b: b, end: len(b)}
	c, err := decodeComponent(r)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// decodeComponent decodes a preamble and the sections after it, up to the end
// of r.
func decodeComponent(r *reader) (*Component, error) {
	c := &Component{Offset: r.pos}
	if err := readPreamble(r); err != nil {
		return nil, err
	}
	for r.remaining() > 0 {
		if err := decodeSection(r, c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// readPreamble checks magic, version and layer, telling a core module and
// other component versions apart from garbage so users get a useful error.
func readPreamble(r *reader) error {
	start := r.pos
	p, err := r.bytes(min(preambleSize, r.remaining()))
	if err != nil {
		return err
	}
	if len(p) < 4 || string(p[:4]) != magic {
		return r.errorf(start, "not a WebAssembly binary (bad magic)")
	}
	if len(p) < preambleSize {
		return r.errorf(start+len(p), "truncated preamble")
	}
	version := uint16(p[4]) | uint16(p[5])<<8
	layer := uint16(p[6]) | uint16(p[7])<<8
	switch {
	case layer == 0:
		return r.errorf(start+6, "this is a core module, not a component")
	case layer != 1:
		return r.errorf(start+6, "unknown layer %#x (want 0x1 for a component)", layer)
	case version != componentVersion:
		return r.errorf(start+4, "unsupported component binary version %#x (this decoder reads version %#x)", version, componentVersion)
	}
	return nil
}

// decodeSection decodes one section and appends its definitions to c.
func decodeSection(r *reader, c *Component) error {
	idOff := r.pos
	id, err := r.byte()
	if err != nil {
		return err
	}
	if int(id) >= len(sectionNames) {
		return r.errorf(idOff, "unknown section id %d", id)
	}
	name := sectionNames[id]
	sizeOff := r.pos
	size, err := r.u32()
	if err != nil {
		return err
	}
	if int64(size) > int64(r.remaining()) {
		return &Error{Offset: sizeOff, Section: name,
			Msg: fmt.Sprintf("section size %d exceeds the %d remaining bytes", size, r.remaining())}
	}
	s := r.sub(int(size), name)
	switch id {
	case secCustom:
		err = decodeCustom(s, c)
	case secCoreModule:
		err = decodeCoreModule(s, c)
	case secCoreInstance:
		err = decodeVecSection(s, c, "core instance", decodeCoreInstance)
	case secCoreType:
		err = decodeVecSection(s, c, "core type", decodeCoreTypeDef)
	case secComponent:
		err = decodeNestedComponent(s, c)
	case secInstance:
		err = decodeVecSection(s, c, "instance", decodeInstance)
	case secAlias:
		err = decodeVecSection(s, c, "alias", decodeAlias)
	case secType:
		err = decodeVecSection(s, c, "type", decodeTypeDef)
	case secCanon:
		err = decodeVecSection(s, c, "canon", decodeCanon)
	case secStart:
		err = decodeStart(s, c)
	case secImport:
		err = decodeVecSection(s, c, "import", decodeImport)
	case secExport:
		err = decodeVecSection(s, c, "export", decodeExport)
	case secValue:
		err = s.errorf(idOff, "value definitions are not supported")
	}
	if err != nil {
		return err
	}
	return s.done()
}

// decodeVecSection decodes a section holding a vector of definitions.
func decodeVecSection[T Def](s *reader, c *Component, what string, elem func(*reader) (T, error)) error {
	defs, err := vec(s, what, elem)
	if err != nil {
		return err
	}
	for _, d := range defs {
		c.Defs = append(c.Defs, d)
	}
	return nil
}

func decodeCustom(s *reader, c *Component) error {
	off := s.pos
	name, err := s.name()
	if err != nil {
		return err
	}
	data, err := s.bytes(s.remaining())
	if err != nil {
		return err
	}
	c.Customs = append(c.Customs, Custom{Offset: off, Name: name, Data: data})
	return nil
}

// decodeCoreModule keeps the embedded module as is, after checking that it
// at least starts like a core module: compiling it is the core runtime's job,
// but a component in this place would otherwise fail far from its cause.
func decodeCoreModule(s *reader, c *Component) error {
	off := s.pos
	b, err := s.bytes(s.remaining())
	if err != nil {
		return err
	}
	if len(b) < preambleSize || string(b[:4]) != magic {
		return s.errorf(off, "embedded core module does not start with the wasm magic")
	}
	if b[4] != 1 || b[5] != 0 || b[6] != 0 || b[7] != 0 {
		return s.errorf(off+4, "embedded core module has version/layer % x (want 01 00 00 00)", b[4:8])
	}
	c.Defs = append(c.Defs, &CoreModule{Offset: off, Bytes: b})
	return nil
}

func decodeNestedComponent(s *reader, c *Component) error {
	if err := s.enter("component"); err != nil {
		return err
	}
	defer s.leave()
	nested, err := decodeComponent(s)
	if err != nil {
		return err
	}
	c.Defs = append(c.Defs, nested)
	return nil
}

// decodeStart decodes a start definition, a value-level (🪙) feature that
// only decodes here; the instantiator decides whether to support it.
func decodeStart(s *reader, c *Component) error {
	off := s.pos
	f, err := s.index()
	if err != nil {
		return err
	}
	args, err := vec(s, "start argument", (*reader).index)
	if err != nil {
		return err
	}
	results, err := s.u32()
	if err != nil {
		return err
	}
	c.Defs = append(c.Defs, &Start{Offset: off, Func: f, Args: args, Results: results})
	return nil
}
