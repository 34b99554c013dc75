//go:build unix

package wasi

import "syscall"

// errnoCode maps the POSIX errno values every unix Go supports.
func errnoCode(e syscall.Errno) (errorCode, bool) {
	switch e {
	case syscall.EACCES:
		return codeAccess, true
	case syscall.EAGAIN:
		return codeWouldBlock, true
	case syscall.EALREADY:
		return codeAlready, true
	case syscall.EBADF:
		return codeBadDescriptor, true
	case syscall.EBUSY:
		return codeBusy, true
	case syscall.EDEADLK:
		return codeDeadlock, true
	case syscall.EDQUOT:
		return codeQuota, true
	case syscall.EEXIST:
		return codeExist, true
	case syscall.EFBIG:
		return codeFileTooLarge, true
	case syscall.EILSEQ:
		return codeIllegalByteSequence, true
	case syscall.EINPROGRESS:
		return codeInProgress, true
	case syscall.EINTR:
		return codeInterrupted, true
	case syscall.EINVAL:
		return codeInvalid, true
	case syscall.EIO:
		return codeIO, true
	case syscall.EISDIR:
		return codeIsDirectory, true
	case syscall.ELOOP:
		return codeLoop, true
	case syscall.EMLINK:
		return codeTooManyLinks, true
	case syscall.EMSGSIZE:
		return codeMessageSize, true
	case syscall.ENAMETOOLONG:
		return codeNameTooLong, true
	case syscall.ENODEV:
		return codeNoDevice, true
	case syscall.ENOENT:
		return codeNoEntry, true
	case syscall.ENOLCK:
		return codeNoLock, true
	case syscall.ENOMEM:
		return codeInsufficientMemory, true
	case syscall.ENOSPC:
		return codeInsufficientSpace, true
	case syscall.ENOTDIR:
		return codeNotDirectory, true
	case syscall.ENOTEMPTY:
		return codeNotEmpty, true
	case syscall.ENOTSUP:
		return codeUnsupported, true
	case syscall.ENOTTY:
		return codeNoTTY, true
	case syscall.ENXIO:
		return codeNoSuchDevice, true
	case syscall.EOVERFLOW:
		return codeOverflow, true
	case syscall.EPERM:
		return codeNotPermitted, true
	case syscall.EPIPE:
		return codePipe, true
	case syscall.EROFS:
		return codeReadOnly, true
	case syscall.ESPIPE:
		return codeInvalidSeek, true
	case syscall.ETXTBSY:
		return codeTextFileBusy, true
	case syscall.EXDEV:
		return codeCrossDevice, true
	}
	if e == syscall.EOPNOTSUPP { // ENOTSUP on some systems
		return codeUnsupported, true
	}
	return errnoCodeOS(e)
}
