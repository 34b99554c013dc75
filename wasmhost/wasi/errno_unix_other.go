//go:build unix && !linux

package wasi

import "syscall"

func errnoCodeOS(syscall.Errno) (errorCode, bool) { return 0, false }
