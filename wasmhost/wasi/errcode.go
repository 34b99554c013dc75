package wasi

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// errorCode is a case of wasi:filesystem/types error-code.
type errorCode uint32

// The cases of error-code, in WIT order.
const (
	codeAccess errorCode = iota
	codeWouldBlock
	codeAlready
	codeBadDescriptor
	codeBusy
	codeDeadlock
	codeQuota
	codeExist
	codeFileTooLarge
	codeIllegalByteSequence
	codeInProgress
	codeInterrupted
	codeInvalid
	codeIO
	codeIsDirectory
	codeLoop
	codeTooManyLinks
	codeMessageSize
	codeNameTooLong
	codeNoDevice
	codeNoEntry
	codeNoLock
	codeInsufficientMemory
	codeInsufficientSpace
	codeNotDirectory
	codeNotEmpty
	codeNotRecoverable
	codeUnsupported
	codeNoTTY
	codeNoSuchDevice
	codeOverflow
	codeNotPermitted
	codePipe
	codeReadOnly
	codeInvalidSeek
	codeTextFileBusy
	codeCrossDevice
)

var errorCodeLabels = []string{
	"access", "would-block", "already", "bad-descriptor", "busy", "deadlock", "quota", "exist",
	"file-too-large", "illegal-byte-sequence", "in-progress", "interrupted", "invalid", "io",
	"is-directory", "loop", "too-many-links", "message-size", "name-too-long", "no-device",
	"no-entry", "no-lock", "insufficient-memory", "insufficient-space", "not-directory",
	"not-empty", "not-recoverable", "unsupported", "no-tty", "no-such-device", "overflow",
	"not-permitted", "pipe", "read-only", "invalid-seek", "text-file-busy", "cross-device",
}

func (c errorCode) String() string {
	if int(c) < len(errorCodeLabels) {
		return errorCodeLabels[c]
	}
	return "error-code(?)"
}

// fsError is an error decided by this package rather than the host OS.
type fsError struct {
	code errorCode
	op   string
}

func (e *fsError) Error() string { return e.op + ": " + e.code.String() }

func fail(code errorCode, op string) error { return &fsError{code: code, op: op} }

// codeOf maps a Go error from the file system to an error-code.
func codeOf(err error) errorCode {
	var fe *fsError
	if errors.As(err, &fe) {
		return fe.code
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if c, ok := errnoCode(errno); ok {
			return c
		}
	}
	switch {
	case isEscape(err):
		return codeNotPermitted
	case errors.Is(err, os.ErrClosed):
		return codeBadDescriptor
	case errors.Is(err, fs.ErrNotExist):
		return codeNoEntry
	case errors.Is(err, fs.ErrExist):
		return codeExist
	case errors.Is(err, fs.ErrPermission):
		return codeAccess
	case errors.Is(err, fs.ErrInvalid):
		return codeInvalid
	}
	return codeIO
}

// isEscape recognizes os.Root's refusal of a path that leaves the root. Its
// error value is unexported; the message is all there is.
func isEscape(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}
