// Shared canonical-ABI helpers for the hello example components (C, no
// bindings generator, no WASI imports).
//
// Layouts (CanonicalABI.md, wasm32): string = {ptr u32 @0, len u32 @4},
// size 8, align 4. Strings handed to us by the host (arguments, and results
// of imported functions) are allocated through our cabi_realloc and owned by
// us; we free them.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char *ptr;
  size_t len;
} str_t;

// The host allocates argument memory here. Zero-size requests (empty strings)
// get a non-null, aligned dummy pointer that is never freed.
__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
  if (new_size == 0) return (void *)align;
  void *p = realloc(old_size ? old : NULL, new_size);
  if (!p) abort();
  return p;
}

static inline void free_str(str_t s) {
  if (s.len) free(s.ptr);
}

// concat returns a newly allocated a+b+c.
static inline str_t concat3(const char *a, size_t alen, const char *b, size_t blen, const char *c, size_t clen) {
  str_t s = {malloc(alen + blen + clen + 1), alen + blen + clen};
  if (!s.ptr) abort();
  memcpy(s.ptr, a, alen);
  memcpy(s.ptr + alen, b, blen);
  memcpy(s.ptr + alen + blen, c, clen);
  return s;
}
