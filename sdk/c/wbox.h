// wbox.h: the small canonical-ABI runtime of C boxes (copied into gen/ by
// wbox build; do not edit).
//
// Memory: every block the host asks for (cabi_realloc: the arguments of an
// export, the results of an import) and every wbox_alloc block lives until
// the running export returns and the host has copied its results: the
// export's post-return calls wbox_post_return, which frees them all. So an
// export may return its arguments, or parts of them, and builds results with
// wbox_alloc and the helpers below; data kept across calls must be copied
// with malloc.
#ifndef WBOX_H
#define WBOX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

// WBOX_EXPORT names a function's export in the core module: "IFACE#FUNC"
// for a function of an exported interface, "cabi_post_IFACE#FUNC" for its
// post-return.
#define WBOX_EXPORT(name) __attribute__((export_name(name)))
// WBOX_IMPORT declares a function of an imported interface.
#define WBOX_IMPORT(module, name) __attribute__((import_module(module), import_name(name)))

// A WIT string: UTF-8 bytes, not NUL-terminated. Canonical layout: {ptr, len}.
typedef struct {
  char *ptr;
  size_t len;
} wbox_string_t;

// wbox_alloc returns size bytes (8-aligned) freed at the end of the call.
void *wbox_alloc(size_t size);
// wbox_post_return frees every block of the finished call.
void wbox_post_return(void);

// wbox_str views a NUL-terminated string (no copy).
static inline wbox_string_t wbox_str(const char *s) { return (wbox_string_t){(char *)s, strlen(s)}; }

// wbox_concat returns a+b+c in a block freed at the end of the call.
static inline wbox_string_t wbox_concat3(wbox_string_t a, wbox_string_t b, wbox_string_t c) {
  wbox_string_t s = {wbox_alloc(a.len + b.len + c.len), a.len + b.len + c.len};
  memcpy(s.ptr, a.ptr, a.len);
  memcpy(s.ptr + a.len, b.ptr, b.len);
  memcpy(s.ptr + a.len + b.len, c.ptr, c.len);
  return s;
}

#endif
