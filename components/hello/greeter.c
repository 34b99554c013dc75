// greeter box of the hello example (world wbox:hello-greeter/greeter-box, greeter.wit): greet(name)
// returns "<GREETING>, <name>!". GREETING is "Hello" unless the build
// defines it (build.sh also builds a "Howdy" variant to demonstrate a
// one-box upgrade).
#include "abi.h"

#ifndef GREETING
#define GREETING "Hello"
#endif

static str_t ret_greet;

// greet(name: string) -> string: (ptr, len) -> pointer to a string.
__attribute__((export_name("wbox:hello/greet@0.1.0#greet")))
str_t *greet(char *name, size_t len) {
  ret_greet = concat3(GREETING ", ", sizeof(GREETING ", ") - 1, name, len, "!", 1);
  if (len) free(name);
  return &ret_greet;
}

__attribute__((export_name("cabi_post_wbox:hello/greet@0.1.0#greet")))
void greet_post(str_t *ret) {
  free_str(*ret);
}
