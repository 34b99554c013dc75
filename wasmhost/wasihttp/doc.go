// Package wasihttp is a host implementation of wasi:http 0.2 for wasmhost:
// wasi:http/types, the calling of a component's
// wasi:http/incoming-handler export, and wasi:http/outgoing-handler on
// net/http's client with an allow-list of hosts.
//
// It is built on package wasi: request and response bodies are that
// package's wasi:io input and output streams and the futures are its
// pollables (a guest polls them together with clock pollables), so every
// instance has a wasi.Host and a Host over it:
//
//	io := wasi.New(wasi.Config{Stderr: os.Stderr})
//	h := wasihttp.New(io, wasihttp.Config{AllowedHosts: []string{"api.example.com"}})
//	inst, _ := component.Instantiate(ctx, h.Imports()) // WASI and wasi:http
//	err := h.Serve(ctx, inst, w, r)                      // in an http.Handler
//	inst.Close(ctx); h.Close(); io.Close()
//
// Serve creates the incoming-request and response-outparam, calls
// incoming-handler.handle and streams the response the guest sets (status,
// headers, body, trailers) to the ResponseWriter as the guest writes it.
//
// One request per instance: components built by jco componentize with a JS
// fetch event handler (StarlingMonkey) cannot serve a second request in the
// same instance (StarlingMonkey issue #247), and wasmtime serve also
// instantiates per request. Use a fresh instance (and Hosts) per request
// unless the guest is known to serve many; Handler serves many requests
// with one instance, for such guests.
//
// # Semantics
//
// Fields: names compare case-insensitively and keep their casing and
// order; names must be RFC 9110 tokens and values free of control
// characters but tab, else header-error invalid-syntax. The hop-by-hop and
// framing fields connection, keep-alive, proxy-authenticate,
// proxy-authorization, proxy-connection, transfer-encoding, upgrade, host
// and http2-settings are forbidden to set (wasmtime's default set). Fields
// the host hands out as children (a request's or response's headers,
// trailers) are immutable; the constructor, from-list and clone make
// mutable ones. Incoming headers come with lower-case names, sorted by
// name, without hop-by-hop fields, and with host from the request's
// authority.
//
// Incoming bodies are read on demand (the guest's reads wait for the
// client), limited by Config.MaxRequestBody: over it, the guest's stream
// fails with an io error whose http-error-code is HTTP-request-body-size
// and the client gets 413. future-trailers reads what the guest left of
// the body to reach the trailers. Outgoing bodies are streamed: a response
// is committed (status line and headers) when the guest sets it, and each
// write goes to the client; trailers are sent as HTTP trailers (chunked
// HTTP/1.1 or HTTP/2). A body finished short of its Content-Length, or
// dropped unfinished, makes the response incomplete (Serve returns
// ErrIncomplete; Handler aborts the connection). A guest that sets no
// response, or sets an error-code, gets 500 (or the status of the code:
// 403 for HTTP-request-denied, 502/504 for upstream failures, ...).
// response-outparam.send-informational (unstable in WIT) sends a 1xx.
//
// Outgoing requests go to hosts on Config.AllowedHosts only, else
// error-code HTTP-request-denied; redirects are returned to the guest, not
// followed. request-options' timeouts are honoured (connect: the dial;
// first-byte: until the response headers; between-bytes: each read of the
// response body) and net/http errors map to the closest error-code
// (connection-refused, DNS-error, TLS-certificate-error, ...). A request
// body may be written before outgoing-handler.handle (buffered up to
// Config.MaxBufferedBody) or after (streamed, with backpressure).
package wasihttp
