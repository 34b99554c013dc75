// The C guest of the bindings test (world test:kitchen/kitchen), the same
// behaviour as ../kitchen/main.go.
#include <stdio.h>

#include "bindings.h"

static wbox_string_t cat(const char *a, wbox_string_t b) { return wbox_concat3(wbox_str(a), b, wbox_str("")); }

api_item_t exports_api_roundtrip_item(api_item_t i) { return i; }

api_items_t exports_api_roundtrip_items(api_items_t items) { return items; }

wbox_list_types_shape_t exports_api_reverse_shapes(wbox_list_types_shape_t s) {
  wbox_list_types_shape_t out = {wbox_alloc(s.len * sizeof *s.ptr), s.len};
  for (size_t i = 0; i < s.len; i++) out.ptr[s.len - 1 - i] = s.ptr[i];
  return out;
}

wbox_result_string_types_color_t exports_api_classify(int64_t n) {
  wbox_result_string_types_color_t r = {0};
  if (n <= 0) {
    r.is_err = true;
    r.val.err = n < 0 ? TYPES_COLOR_RED : TYPES_COLOR_BLUE;
    return r;
  }
  char *buf = wbox_alloc(32);
  r.val.ok = (wbox_string_t){buf, (size_t)snprintf(buf, 32, "n=%lld", (long long)n)};
  return r;
}

wbox_option_option_uint32_t exports_api_opt(wbox_option_option_uint32_t o) { return o; }

wbox_tuple3_float_string_uint8_t exports_api_swap(wbox_tuple3_uint8_string_float_t t) {
  return (wbox_tuple3_float_string_uint8_t){t.f2, wbox_concat3(t.f1, wbox_str("!"), wbox_str("")), t.f0};
}

uint32_t exports_api_many(uint32_t a, uint64_t b, float c, double d, wbox_string_t e, wbox_string_t f,
                          wbox_string_t g, wbox_string_t h, wbox_string_t i, wbox_string_t j, wbox_string_t k,
                          wbox_string_t l, wbox_string_t m) {
  return a + (uint32_t)b + (uint32_t)c + (uint32_t)d + e.len + f.len + g.len + h.len + i.len + j.len + k.len +
         l.len + m.len;
}

wbox_list_types_mixed_t exports_api_mixed_list(wbox_list_types_mixed_t m) { return m; }

api_mixed_t exports_api_mixed_one(api_mixed_t m) { return m; }

wbox_result_types_item_string_t exports_api_via_host(wbox_string_t key) {
  host_note(cat("fetching ", key));
  return host_fetch(key);
}

wbox_list_uint32_t exports_api_host_list(wbox_list_uint32_t xs) { return host_echo_list(xs); }

wbox_option_string_t exports_api_host_maybe(wbox_option_uint32_t n) { return host_maybe(n); }

uint64_t exports_api_host_sum(uint32_t b) {
  return host_sum17(b, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10, b + 11, b + 12, b + 13,
                    b + 14, b + 15, b + 16);
}

uint32_t exports_api_add(uint32_t a, uint32_t b) { return a + b; }

float exports_api_half(float x) { return x / 2; }

bool exports_api_is_odd(int16_t x) { return x % 2 != 0; }

void exports_api_nothing(void) {}

api_point_t exports_api_origin(void) { return (api_point_t){-1, 2}; }

wbox_string_t exports_kitchen_ping(wbox_string_t s) {
  kitchen_log(cat("ping ", s));
  return cat("pong ", s);
}
