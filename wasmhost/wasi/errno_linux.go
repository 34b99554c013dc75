//go:build linux

package wasi

import "syscall"

func errnoCodeOS(e syscall.Errno) (errorCode, bool) {
	if e == syscall.ENOTRECOVERABLE {
		return codeNotRecoverable, true
	}
	return 0, false
}
