// front box of the hello example (world wbox:hello-front/front-box, front.wit): hello(name) asks
// the greeter for a greeting and the counter for the visit count, both
// through arrows, and returns them as a visit record.
#include "abi.h"

typedef struct {
  str_t greeting;  // @0
  uint64_t visits; // @8
} visit_t;

_Static_assert(sizeof(visit_t) == 16, "visit layout");
_Static_assert(__builtin_offsetof(visit_t, visits) == 8, "visit.visits offset");

__attribute__((import_module("wbox:hello/greet@0.1.0"), import_name("greet")))
extern void greet(const char *name, size_t len, str_t *ret);
__attribute__((import_module("wbox:hello/counter@0.1.0"), import_name("hit")))
extern uint64_t hit(const char *name, size_t len);

static visit_t ret_hello;

// hello(name: string) -> visit: (ptr, len) -> pointer to a visit.
__attribute__((export_name("wbox:hello/app@0.1.0#hello")))
visit_t *hello(char *name, size_t len) {
  greet(name, len, &ret_hello.greeting);
  ret_hello.visits = hit(name, len);
  if (len) free(name);
  return &ret_hello;
}

__attribute__((export_name("cabi_post_wbox:hello/app@0.1.0#hello")))
void hello_post(visit_t *ret) {
  free_str(ret->greeting);
}
