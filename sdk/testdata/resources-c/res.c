// The C guest of the exported-resource test (world test:res/res), the same
// behaviour as ../resources/main.go.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindings.h"

struct counters_counter_t {
  char name[32];
  uint32_t n;
};

static uint32_t live;

static counters_own_counter_t make(const char *name, size_t len, uint32_t start) {
  counters_counter_t *c = calloc(1, sizeof *c);
  memcpy(c->name, name, len < 31 ? len : 31);
  c->n = start;
  live++;
  return counters_counter_new(c);
}

counters_own_counter_t exports_counters_counter_new(wbox_string_t name, uint32_t start) {
  return make(name.ptr, name.len, start);
}

uint32_t exports_counters_counter_add(counters_counter_t *self, uint32_t n) { return self->n += n; }

wbox_string_t exports_counters_counter_label(counters_counter_t *self) {
  char *buf = wbox_alloc(64);
  return (wbox_string_t){buf, (size_t)snprintf(buf, 64, "%s=%u", self->name, self->n)};
}

counters_own_counter_t exports_counters_counter_merge(counters_own_counter_t a, counters_counter_t *b) {
  counters_counter_t *x = counters_counter_rep(a);
  char name[64];
  int len = snprintf(name, sizeof name, "%s+%s", x->name, b->name);
  counters_own_counter_t m = make(name, (size_t)len, x->n + b->n);
  counters_counter_drop_own(a);
  return m;
}

void exports_counters_counter_destructor(counters_counter_t *rep) {
  live--;
  free(rep);
}

counters_own_counter_t exports_counters_make(uint32_t start) { return make("made", 4, start); }

uint32_t exports_counters_total(wbox_list_borrow_counters_counter_t cs) {
  uint32_t t = 0;
  for (size_t i = 0; i < cs.len; i++) t += cs.ptr[i]->n;
  return t;
}

uint32_t exports_counters_live(void) { return live; }
