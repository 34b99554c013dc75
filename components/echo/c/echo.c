// Echo test component (world wbox:echo/echo-box) in C with a hand-written
// canonical ABI: no bindings generator, no WASI imports, ~tiny, so it doubles
// as the instantiation benchmark component.
//
// Canonical ABI layout used (CanonicalABI.md, wasm32):
//   string            = {ptr u32 @0, len u32 @4}               size 8,  align 4
//   list<string>      = {ptr u32 @0, len u32 @4} -> [string]   size 8,  align 4
//   message           = {text string @0, tags list @8}          size 16, align 4
//   result<message,string> at retptr: disc u8 @0 (0 ok, 1 err), payload @4,
//                       size 20, align 4
// Flattening: echo(m) takes 4 i32 (text ptr,len, tags ptr,len) and returns a
// pointer to the result (flat results > 1); roundtrip(s) takes 2 i32 and
// returns a pointer to a string. log(msg) is lowered as (i32 ptr, i32 len).
//
// Memory ownership: arguments are allocated by the host through cabi_realloc
// and owned by us. Results reuse those buffers and are freed by the
// post-return functions, after the host has copied them out.
#include <stdint.h>
#include <stdlib.h>

typedef struct { char *ptr; size_t len; } str_t;
typedef struct { str_t *ptr; size_t len; } strlist_t;
typedef struct { str_t text; strlist_t tags; } message_t;
typedef struct {
  uint8_t disc;              // @0
  union { message_t ok; str_t err; } val; // @4
} result_t;

_Static_assert(sizeof(message_t) == 16, "message layout");
_Static_assert(sizeof(result_t) == 20, "result layout");
_Static_assert(__builtin_offsetof(result_t, val) == 4, "result payload offset");

__attribute__((import_module("wbox:echo/log@0.1.0"), import_name("log")))
extern void wbox_log(const char *ptr, size_t len);

// The host allocates argument memory here. Zero-size requests (empty strings
// and lists) get a non-null, aligned dummy pointer that is never freed.
__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
  if (new_size == 0) return (void *)align;
  void *p = realloc(old_size ? old : NULL, new_size);
  if (!p) abort();
  return p;
}

static void free_str(str_t s) {
  if (s.len) free(s.ptr);
}

static void free_list(strlist_t l) {
  for (size_t i = 0; i < l.len; i++) free_str(l.ptr[i]);
  if (l.len) free(l.ptr);
}

// One static return area is enough: there is no reentrance, and the host reads
// it before calling post-return.
static result_t ret_echo;
static str_t ret_roundtrip;
static const char empty_err[] = "empty text";

__attribute__((export_name("wbox:echo/echo@0.1.0#echo")))
result_t *echo(char *text, size_t text_len, str_t *tags, size_t tags_len) {
  wbox_log(text, text_len);
  if (text_len == 0) {
    free_list((strlist_t){tags, tags_len});
    ret_echo.disc = 1;
    ret_echo.val.err = (str_t){(char *)empty_err, sizeof empty_err - 1};
    return &ret_echo;
  }
  for (size_t i = 0, j = tags_len; i + 1 < j; i++, j--) { // reverse in place
    str_t t = tags[i];
    tags[i] = tags[j - 1];
    tags[j - 1] = t;
  }
  ret_echo.disc = 0;
  ret_echo.val.ok = (message_t){{text, text_len}, {tags, tags_len}};
  return &ret_echo;
}

__attribute__((export_name("cabi_post_wbox:echo/echo@0.1.0#echo")))
void echo_post(result_t *r) {
  if (r->disc == 0) { // err points at the static string: nothing to free
    free_str(r->val.ok.text);
    free_list(r->val.ok.tags);
  }
}

__attribute__((export_name("wbox:echo/echo@0.1.0#roundtrip")))
str_t *roundtrip(char *s, size_t len) {
  ret_roundtrip = (str_t){s, len};
  return &ret_roundtrip;
}

__attribute__((export_name("cabi_post_wbox:echo/echo@0.1.0#roundtrip")))
void roundtrip_post(str_t *r) {
  free_str(*r);
}
