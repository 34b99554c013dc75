//go:build linux

package wasi

import (
	"os"
	"strconv"
	"syscall"
	"time"
)

// utimeOmit is UTIME_OMIT: utimensat leaves that time unchanged.
const utimeOmit = (1 << 30) - 2

// setFileTimes sets the times of an open file through its descriptor
// (/proc/self/fd names the open file itself, wherever it has moved), so a
// renamed file still gets them. ok is false when /proc is not there.
func setFileTimes(f *os.File, atime, mtime time.Time) (ok bool, err error) {
	ts := func(t time.Time) syscall.Timespec {
		if t.IsZero() {
			return syscall.Timespec{Nsec: utimeOmit}
		}
		return syscall.NsecToTimespec(t.UnixNano())
	}
	err = syscall.UtimesNano("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), []syscall.Timespec{ts(atime), ts(mtime)})
	if err == syscall.ENOENT {
		return false, nil
	}
	return true, err
}
