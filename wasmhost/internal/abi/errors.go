package abi

import (
	"errors"
	"fmt"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// ErrTrap is matched by every *Trap with errors.Is.
var ErrTrap = errors.New("canonical ABI trap")

// Trap is a violation of the Canonical ABI by the guest (or by the guest's
// realloc): an out-of-bounds or misaligned pointer, a bad discriminant, an
// invalid char or string, a bad handle. The spec says the instance traps.
type Trap struct {
	// Msg describes the violation, such as "invalid char 0xd800".
	Msg string
}

// Error returns the message.
func (t *Trap) Error() string { return t.Msg }

// Is makes errors.Is(err, ErrTrap) true for every *Trap.
func (t *Trap) Is(target error) bool { return target == ErrTrap }

func trapf(format string, args ...any) error {
	return &Trap{Msg: fmt.Sprintf(format, args...)}
}

// ValueError reports a host Go value that does not represent a value of its
// type, such as an int passed for a u32 or a string with invalid UTF-8.
// It is a bug in the host, not a trap.
type ValueError struct {
	// Path locates the value, such as "param 1 (name)", or is "".
	Path  string
	Type  *value.Type
	Value any
	// Msg explains what is wrong beyond the Go type, or is "".
	Msg string
}

// Error returns "abi: ", the path if any, and what is wrong.
func (e *ValueError) Error() string {
	msg := e.Msg
	if msg == "" {
		msg = fmt.Sprintf("%T is not a %s value", e.Value, e.Type)
	}
	if e.Path != "" {
		return "abi: " + e.Path + ": " + msg
	}
	return "abi: " + msg
}

func badValue(l *layout, v any) error { return &ValueError{Type: l.t, Value: v} }

func badValuef(l *layout, v any, format string, args ...any) error {
	return &ValueError{Type: l.t, Value: v, Msg: fmt.Sprintf(format, args...)}
}

// errWrap adds context (such as "param 2 (name)") to an error while keeping
// its type: a Trap stays a Trap, a ValueError a ValueError.
func errWrap(err error, format string, args ...any) error {
	ctx := fmt.Sprintf(format, args...)
	switch e := err.(type) {
	case *Trap:
		return &Trap{Msg: ctx + ": " + e.Msg}
	case *ValueError:
		c := *e
		if c.Path != "" {
			c.Path = ctx + ": " + c.Path
		} else {
			c.Path = ctx
		}
		return &c
	}
	return fmt.Errorf("%s: %w", ctx, err)
}
