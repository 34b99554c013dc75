package binary

// This file decodes canonical definitions (section 8).

// Canon opcodes that decode into their own CanonKind.
const (
	canonLift              = 0x00
	canonLower             = 0x01
	canonResourceNew       = 0x02
	canonResourceDrop      = 0x03
	canonResourceRep       = 0x04
	canonResourceDropAsync = 0x07 // removed from the spec in 2026
)

// operand is one immediate of a canon built-in, in binary order.
type operand uint8

const (
	opndType       operand = iota // typeidx, kept in Canon.Type
	opndOpts                      // vec(canonopt), kept in Canon.Options
	opndFlag                      // async? or cancel? byte, kept in Options.Async
	opndIndex                     // an index that is not kept (memory, table, core type, slot)
	opndCoreVal                   // core:valtype, not kept
	opndResultList                // resultlist, not kept
)

// canonOthers lists, for every other built-in of Binary.md (async, threads,
// error-context), the operands that follow its opcode, so that a component
// using one decodes and the instantiator can refuse it by name. An opcode
// missing here has operands of unknown length and fails decoding.
var canonOthers = map[byte]struct {
	name     string
	operands []operand
}{
	0x05: {"task.cancel", nil},
	0x06: {"subtask.cancel", []operand{opndFlag}},
	0x09: {"task.return", []operand{opndResultList, opndOpts}},
	0x0a: {"context.get", []operand{opndCoreVal, opndIndex}},
	0x0b: {"context.set", []operand{opndCoreVal, opndIndex}},
	0x0c: {"thread.yield", []operand{opndFlag}},
	0x0d: {"subtask.drop", nil},
	0x0e: {"stream.new", []operand{opndType}},
	0x0f: {"stream.read", []operand{opndType, opndOpts}},
	0x10: {"stream.write", []operand{opndType, opndOpts}},
	0x11: {"stream.cancel-read", []operand{opndType, opndFlag}},
	0x12: {"stream.cancel-write", []operand{opndType, opndFlag}},
	0x13: {"stream.drop-readable", []operand{opndType}},
	0x14: {"stream.drop-writable", []operand{opndType}},
	0x15: {"future.new", []operand{opndType}},
	0x16: {"future.read", []operand{opndType, opndOpts}},
	0x17: {"future.write", []operand{opndType, opndOpts}},
	0x18: {"future.cancel-read", []operand{opndType, opndFlag}},
	0x19: {"future.cancel-write", []operand{opndType, opndFlag}},
	0x1a: {"future.drop-readable", []operand{opndType}},
	0x1b: {"future.drop-writable", []operand{opndType}},
	0x1c: {"error-context.new", []operand{opndOpts}},
	0x1d: {"error-context.debug-message", []operand{opndOpts}},
	0x1e: {"error-context.drop", nil},
	0x1f: {"waitable-set.new", nil},
	0x20: {"waitable-set.wait", []operand{opndFlag, opndIndex}},
	0x21: {"waitable-set.poll", []operand{opndFlag, opndIndex}},
	0x22: {"waitable-set.drop", nil},
	0x23: {"waitable.join", nil},
	0x24: {"backpressure.inc", nil},
	0x25: {"backpressure.dec", nil},
	0x26: {"thread.index", nil},
	0x27: {"thread.new-indirect", []operand{opndIndex, opndIndex}},
	0x28: {"thread.resume-later", nil},
	0x29: {"thread.suspend", []operand{opndFlag}},
	0x2a: {"thread.suspend-then-resume", []operand{opndFlag}},
	0x2b: {"thread.yield-then-resume", []operand{opndFlag}},
	0x2c: {"thread.suspend-then-promote", []operand{opndFlag}},
	0x2d: {"thread.yield-then-promote", []operand{opndFlag}},
	// Binary.md gives these three a leading sh? byte for the future
	// shared-everything-threads milestone (🧵②), but wasm-tools, the encoder
	// that produces real binaries, does not write it yet.
	0x40: {"thread.spawn-ref", []operand{opndIndex}},
	0x41: {"thread.spawn-indirect", []operand{opndIndex, opndIndex}},
	0x42: {"thread.available-parallelism", nil},
}

// CanonName returns the text-format name of a canon opcode, such as
// "task.return", or "" if it is unknown. Use it to name a CanonOther.
func CanonName(opcode byte) string {
	switch opcode {
	case canonLift:
		return "lift"
	case canonLower:
		return "lower"
	case canonResourceNew:
		return "resource.new"
	case canonResourceDrop:
		return "resource.drop"
	case canonResourceRep:
		return "resource.rep"
	case canonResourceDropAsync:
		return "resource.drop async"
	}
	return canonOthers[opcode].name
}

func decodeCanon(r *reader) (*Canon, error) {
	off := r.pos
	op, err := r.byte()
	if err != nil {
		return nil, err
	}
	c := &Canon{Offset: off, Opcode: op}
	switch op {
	case canonLift:
		c.Kind = CanonLift
		if err = funcSort(r, "lift"); err != nil {
			return nil, err
		}
		if c.Func, err = r.index(); err != nil {
			return nil, err
		}
		if c.Options, err = canonOpts(r); err != nil {
			return nil, err
		}
		c.Type, err = r.index()
	case canonLower:
		c.Kind = CanonLower
		if err = funcSort(r, "lower"); err != nil {
			return nil, err
		}
		if c.Func, err = r.index(); err != nil {
			return nil, err
		}
		c.Options, err = canonOpts(r)
	case canonResourceNew:
		c.Kind = CanonResourceNew
		c.Type, err = r.index()
	case canonResourceDrop:
		c.Kind = CanonResourceDrop
		c.Type, err = r.index()
	case canonResourceDropAsync:
		c.Kind = CanonResourceDrop
		c.Options.Async = true
		c.Type, err = r.index()
	case canonResourceRep:
		c.Kind = CanonResourceRep
		c.Type, err = r.index()
	default:
		c.Kind = CanonOther
		err = canonOther(r, c)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// funcSort checks the 0x00 that follows the lift and lower opcodes. Binary.md
// reads it as the func sort, making "0x00 f" a (core) func sortidx; no other
// sort is valid there.
func funcSort(r *reader, what string) error {
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return err
	}
	if c != 0x00 {
		return r.errorf(off, "invalid canon %s: expected 0x00 (func) after the opcode, got 0x%02x", what, c)
	}
	return nil
}

// canonOther reads the operands of a built-in from canonOthers.
func canonOther(r *reader, c *Canon) error {
	info, ok := canonOthers[c.Opcode]
	if !ok {
		return r.errorf(c.Offset, "unknown canon opcode 0x%02x (cannot tell its operands' length)", c.Opcode)
	}
	for _, o := range info.operands {
		var err error
		switch o {
		case opndType:
			c.Type, err = r.index()
		case opndOpts:
			c.Options, err = canonOpts(r)
		case opndFlag:
			c.Options.Async, err = flag(r, info.name)
		case opndIndex:
			_, err = r.index()
		case opndCoreVal:
			_, err = coreValType(r)
		case opndResultList:
			err = skipResultList(r)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// flag reads a 0x00/0x01 immediate such as async? or cancel?.
func flag(r *reader, what string) (bool, error) {
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return false, err
	}
	if c > 1 {
		return false, r.errorf(off, "invalid %s flag 0x%02x", what, c)
	}
	return c == 1, nil
}

func skipResultList(r *reader) error {
	off := r.pos
	c, err := r.byte()
	if err != nil {
		return err
	}
	switch c {
	case 0x00:
		_, err = valType(r)
		return err
	case 0x01:
		_, err = vec(r, "named result", labelValType)
		return err
	}
	return r.errorf(off, "invalid result list 0x%02x", c)
}

// canonOpts reads vec(canonopt). The AST holds one value per option, so a
// repeated option, or two string encodings, is rejected here rather than
// silently keeping the last.
func canonOpts(r *reader) (CanonOptions, error) {
	var o CanonOptions
	n, err := r.count("canon option")
	if err != nil {
		return o, err
	}
	var seen [10]bool
	for range n {
		off := r.pos
		c, err := r.byte()
		if err != nil {
			return o, err
		}
		if c >= byte(len(seen)) {
			return o, r.errorf(off, "invalid canon option 0x%02x", c)
		}
		slot := c
		if c <= 0x02 {
			slot = 0 // the three string encodings conflict with each other
		}
		if seen[slot] {
			return o, r.errorf(off, "duplicate or conflicting canon option 0x%02x", c)
		}
		seen[slot] = true
		switch c {
		case 0x00:
			o.StringEncoding = UTF8
		case 0x01:
			o.StringEncoding = UTF16
		case 0x02:
			o.StringEncoding = Latin1UTF16
		case 0x03:
			o.Memory, err = indexPtr(r)
		case 0x04:
			o.Realloc, err = indexPtr(r)
		case 0x05:
			o.PostReturn, err = indexPtr(r)
		case 0x06:
			o.Async = true
		case 0x07:
			o.Callback, err = indexPtr(r)
		case 0x08:
			o.CoreType, err = indexPtr(r)
		case 0x09:
			o.GC = true
		}
		if err != nil {
			return o, err
		}
	}
	return o, nil
}

func indexPtr(r *reader) (*uint32, error) {
	i, err := r.index()
	if err != nil {
		return nil, err
	}
	return &i, nil
}
