//go:build !unix

package wasi

import "syscall"

// errnoCode leaves errors to the portable io/fs mapping.
func errnoCode(syscall.Errno) (errorCode, bool) { return 0, false }
