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

// Decode decodes a component binary. TODO(decoder): implement.
func Decode(b []byte) (*Component, error) {
	return nil, &Error{Msg: "not implemented"}
}
