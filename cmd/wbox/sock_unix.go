//go:build unix

package main

import (
	"net"
	"syscall"
)

// listenPrivate creates a unix socket only its owner can connect to: the
// umask is tightened while it is created, so it is never open to others.
func listenPrivate(path string) (net.Listener, error) {
	old := syscall.Umask(0o177)
	defer syscall.Umask(old)
	return net.Listen("unix", path)
}
