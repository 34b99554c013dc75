// Package blob (drivers/blob) is wbox's blob storage: a kernel.Native task
// exporting wbox:blob/store@0.1.0 (wit/wbox-blob.wit) over a directory of
// the node: stat (size, modification time, ETag), read by range, list,
// atomic write and delete of files.
//
//	drivers:
//	  files:
//	    kind: blob
//	    dir: site        # relative to the topology file; absent: "blobs" in
//	                     # the driver's data directory
//	    readonly: true   # write and delete fail with read-only
//	    shared: true     # every box sees dir itself (else dir/<box>/)
//
// # Namespaces
//
// Each box holding an arrow to the driver sees its own namespace, the
// subdirectory named after it, unless the driver is shared: then every box
// sees the whole directory (a site served by one box and written by
// another, or a directory of files the user keeps by hand, which is what
// readonly+shared is for).
//
// # Confinement
//
// Every path is checked twice: lexically (a clean relative path, see
// validPath: no "..", no absolute path, no empty or "." segment, no
// backslash or NUL) and then by the kernel through an os.Root opened on
// the directory, which refuses to follow a symbolic link out of it. Both
// refusals are the invalid-path error naming the path. Names starting with
// ".wbox-tmp-" are the driver's temporary files: never listed, never
// readable.
//
// # Writes
//
// write creates a temporary file beside the target, writes and fsyncs it,
// renames it over the target and fsyncs the directory: a reader (or a
// crash) sees the old content or the new, never a mix. The ETag is the
// size and the modification time in nanoseconds, so a rewrite that keeps
// both within the file system's clock granularity would keep its ETag;
// the driver's own writes always get a fresh inode and modification time.
//
// A reader of a file larger than one read (1 MiB at most, 64 KiB for the
// static-site box) passes the ETag of its stat as if-etag: a read after the
// file was replaced fails with changed instead of returning bytes of the
// new version, so the reader never stitches two versions together.
//
// list takes a directory, not a key prefix: it returns the directory's
// entries (subdirectories with a trailing "/"), which is what a website's
// listing needs and costs one readdir; a recursive walk is the caller's.
//
// # Why not wasi:blobstore
//
// The standard proposal (github.com/WebAssembly/wasi-blobstore) was
// considered first and not taken, for three reasons: its incoming and
// outgoing values are read and written through wasi:io input-stream and
// output-stream resources, which belong to the box's own WASI host, so a
// native driver reached through an arrow cannot create them (and
// resources do not cross arrows yet: kernel TODO(resources)); its object
// metadata has a creation time and a size but no modification time and
// no ETag, which an HTTP server needs for conditional requests; and it is
// still a phase-1 draft whose interfaces keep changing. wbox:blob is plain
// values (list<u8>, records), so it also works across nodes over NATS.
// When wasi:blobstore stabilizes, an adapter box can offer it on top.
//
// The package owns the directory it is given and nothing else: it must not
// touch the kernel's state or other drivers' data directories.
package blob
