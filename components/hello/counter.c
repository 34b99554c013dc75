// counter box of the hello example (world wbox:hello-counter/counter-box, counter.wit): hit(name)
// counts visits in the key-value store it imports (wbox:kv/store@0.1.0,
// bound by an arrow to the kv driver), as decimal strings.
#include "abi.h"

typedef struct {
  uint8_t is_some; // @0
  str_t val;       // @4
} option_str_t;

// get(key: string) -> option<string>: the result does not fit in one flat
// value, so the caller passes a return area.
__attribute__((import_module("wbox:kv/store@0.1.0"), import_name("get")))
extern void kv_get(const char *key, size_t key_len, option_str_t *ret);
__attribute__((import_module("wbox:kv/store@0.1.0"), import_name("set")))
extern void kv_set(const char *key, size_t key_len, const char *val, size_t val_len);

static uint64_t parse_u64(str_t s) {
  uint64_t n = 0;
  for (size_t i = 0; i < s.len; i++) {
    if (s.ptr[i] < '0' || s.ptr[i] > '9') return 0;
    n = n * 10 + (uint64_t)(s.ptr[i] - '0');
  }
  return n;
}

static size_t format_u64(uint64_t n, char buf[20]) {
  char tmp[20];
  size_t len = 0;
  do {
    tmp[len++] = (char)('0' + n % 10);
    n /= 10;
  } while (n);
  for (size_t i = 0; i < len; i++) buf[i] = tmp[len - 1 - i];
  return len;
}

// hit(name: string) -> u64: (ptr, len) -> i64.
__attribute__((export_name("wbox:hello/counter@0.1.0#hit")))
uint64_t hit(char *name, size_t len) {
  // Keys are "visits/<name>".
  str_t key = concat3("visits/", 7, name, len, "", 0);
  if (len) free(name);
  option_str_t cur;
  kv_get(key.ptr, key.len, &cur);
  uint64_t n = 0;
  if (cur.is_some) {
    n = parse_u64(cur.val);
    free_str(cur.val);
  }
  n++;
  char buf[20];
  size_t blen = format_u64(n, buf);
  kv_set(key.ptr, key.len, buf, blen);
  free_str(key);
  return n;
}
