package wave

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error is a parse error at a position in the WAVE input.
type Error struct {
	Offset int    // byte offset into the input
	Line   int    // line number, from 1
	Column int    // column in characters (not bytes), from 1
	Msg    string // what is wrong, without the position
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg) }

// newError returns the error msg at byte offset off of src.
func newError(src string, off int, msg string) *Error {
	off = min(max(off, 0), len(src))
	line := 1 + strings.Count(src[:off], "\n")
	lineStart := strings.LastIndexByte(src[:off], '\n') + 1
	col := 1 + utf8.RuneCountInString(src[lineStart:off])
	return &Error{Offset: off, Line: line, Column: col, Msg: msg}
}
