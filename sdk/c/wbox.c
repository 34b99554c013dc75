// wbox.c: the runtime behind wbox.h (copied into gen/ by wbox build).
#include <stdlib.h>

#include "wbox.h"

static void **blocks;
static size_t nblocks, capblocks;

static void *track(void *p) {
  if (!p) abort();
  if (nblocks == capblocks) {
    capblocks = capblocks ? 2 * capblocks : 16;
    blocks = realloc(blocks, capblocks * sizeof *blocks);
    if (!blocks) abort();
  }
  blocks[nblocks++] = p;
  return p;
}

void *wbox_alloc(size_t size) { return track(malloc(size ? size : 1)); }

void wbox_post_return(void) {
  for (size_t i = 0; i < nblocks; i++) free(blocks[i]);
  nblocks = 0;
}

// The host allocates arguments (and results of imports) here. Zero-size
// requests get a non-null aligned pointer that is never dereferenced.
WBOX_EXPORT("cabi_realloc")
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
  if (new_size == 0) return (void *)align;
  void *p = wbox_alloc(new_size); // malloc aligns to 16
  if (old_size) memcpy(p, old, old_size < new_size ? old_size : new_size);
  return p;
}
