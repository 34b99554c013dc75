// Package tcpdriver (drivers/tcp) is wbox's raw TCP ingress: a kernel.Native
// task that owns a listening socket and its connections in Go and hands
// their bytes, chunk by chunk, to a box exporting wbox:tcp/handler@0.1.0
// (wit/wbox-tcp.wit).
//
//	drivers:
//	  redis-port:
//	    kind: tcp
//	    listen: 127.0.0.1:6379
//	    box: redis                 # the box that handles the connections
//	    max_conns: 1024            # more are closed at once (default 1024)
//	    max_buffer: 1MiB           # unconsumed bytes per connection (default 1 MiB)
//	    read_size: 64KiB           # bytes read at once (default 64 KiB)
//	    max_calls: 64              # calls into the box at once (default 64)
//	    idle_timeout: 5m           # no byte from the peer: close (default 5m, 0 none)
//	    write_timeout: 30s         # a reply not taken by the peer: close (default 30s)
//
// # The protocol with the box
//
// Async streams are not supported by wasmhost, and a stream pair per
// connection would pin one instance for a connection's whole life. Instead
// the box is called per chunk: opened(conn, peer) when a peer connects
// (false refuses it), data(conn, input) with the bytes not consumed yet,
// closed(conn) when it ends. data returns how many bytes it consumed, the
// bytes to write, whether to close, and how many bytes it needs before it
// can make progress. The driver keeps the unconsumed tail and prepends it
// to what it reads next, so a box needs no per-connection state and any
// instance may serve any call; pipelined requests are parsed in one call.
//
// Backpressure: a connection reads again only after the reply to what it
// read is written, so a peer that does not read its replies stops being
// read (and is closed after write_timeout). A connection whose unconsumed
// bytes exceed max_buffer, or whose box asks for more than that, is closed
// and the error logged; so is one whose call into the box fails (a trap, a
// timeout, a missing box). Calls go through the kernel (DriverEnv.Call) as
// the driver, at most max_calls at once (more connections wait for a slot
// rather than overload the box; a call the box refuses as overloaded is
// retried).
//
// Stopping (the driver's context ends): the listener closes, reads are cut
// off, a call in progress finishes and its reply is written (for at most
// stopGrace), then every connection is closed and its box told.
//
// The package owns the sockets and their limits. It must not parse what
// flows through them (that is the box's business), and it touches no other
// task than its box, only through the kernel.
package tcpdriver
