//go:build darwin || freebsd || netbsd

package wasi

import (
	"io/fs"
	"syscall"
	"time"
)

func sysStat(fi fs.FileInfo) (st sysInfo) {
	s, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return sysInfo{nlink: 1}
	}
	return sysInfo{
		nlink: uint64(s.Nlink), dev: uint64(s.Dev), ino: uint64(s.Ino), ok: true,
		atime: time.Unix(s.Atimespec.Unix()), ctime: time.Unix(s.Ctimespec.Unix()),
	}
}
