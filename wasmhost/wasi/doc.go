// Package wasi implements WASI 0.2 (preview 2) for components run by
// package wasmhost.
//
// A [Host] holds the WASI state of one component instance: its arguments,
// environment, stdio, preopened directories and the tables that map the
// resource handles the guest holds (streams, pollables, descriptors, …) to
// Go objects. [Host.Imports] returns the host instances to instantiate the
// component with:
//
//	h := wasi.New(wasi.Config{Args: []string{"app"}, Stdout: os.Stdout})
//	defer h.Close()
//	inst, err := comp.Instantiate(ctx, h.Imports().Merge(myImports))
//
// # Interfaces
//
// Every interface is registered at version 0.2.0. wasmhost matches imports
// by semver, so components importing any 0.2.x (such as the 0.2.12 that the
// current preview1 adapter uses) are served by it; the function set is the
// union of 0.2.0 to 0.2.12, whose signatures did not change.
//
//   - wasi:cli/environment, exit (with exit-with-code), stdin, stdout,
//     stderr, terminal-input, terminal-output, terminal-stdin,
//     terminal-stdout, terminal-stderr (the get-terminal-* functions return
//     none: the guest never sees a terminal)
//   - wasi:io/error, poll, streams
//   - wasi:clocks/wall-clock, monotonic-clock, timezone (UTC only)
//   - wasi:random/random, insecure, insecure-seed
//   - wasi:filesystem/types, preopens
//
// Functions are registered with their WIT types ([wasmhost.HostInstance.TypedFunc]),
// so a component whose imports do not match fails at instantiation instead
// of misreading memory.
//
// # Exit
//
// wasi:cli/exit fails the guest's call with an [*ExitError]: the call into
// the component returns an error whose chain contains it, so a command
// runner recovers the status with errors.As. Code 0 is a successful exit.
//
// # Streams and polling
//
// Output streams write straight to the configured io.Writer: every write is
// blocking, check-write always grants 1 MiB, and flush calls Flush on
// writers that have one (such as *bufio.Writer). Input streams read from
// an io.Reader; read returns whatever one Read call yields, so on a reader
// that blocks (a pipe, a terminal) read blocks too, and end of input is the
// stream-error closed. Stream pollables are therefore always ready.
// Monotonic-clock pollables become ready at their instant; poll and block
// wait for them and give up with the context's error when it is cancelled.
// A Read blocked on Stdin cannot be interrupted by the context.
//
// # Filesystem
//
// Nothing is visible to the guest unless Config.Preopens grants a
// directory. Each preopen is an [os.Root], so no path can leave it:
// absolute paths, ".." above the descriptor's directory and symbolic links
// that resolve outside fail with error-code not-permitted, and a link to an
// absolute or escaping target cannot be created. A ReadOnly preopen refuses
// every change (read-only): opening for write, create or truncate, and all
// the *-at mutations. Write permission is per preopen: a directory
// descriptor's mutate-directory flag reports it but is not required to be
// requested. Errors from the host file system are mapped to error-code by
// errno (ENOENT no-entry, EACCES access, EPERM not-permitted, EEXIST exist,
// ENOTDIR not-directory, EISDIR is-directory, ENOTEMPTY not-empty, EBADF
// bad-descriptor, ELOOP loop, EXDEV cross-device, …); anything unknown is
// io. Descriptors remember their path inside the preopen for set-times
// (on Linux a file's times are set through its open descriptor instead)
// and for link-at/rename-at between two descriptors of the same preopen
// (between different preopens these fail with cross-device). Paths are
// relative to their descriptor's directory: ".." may not climb above it,
// even when that stays inside the preopen.
package wasi
