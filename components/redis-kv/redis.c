// redis-kv: a Redis-compatible (RESP2) key-value server as a box. It
// exports wbox:tcp/handler@0.1.0 (wit/wbox-tcp.wit), so the tcp driver
// hands it the bytes of each connection, and keeps its data in the
// wasi:keyvalue@0.2.0-draft2 store it imports (store, atomics, batch),
// bound by arrows to the node's kv driver. It holds no state of its own
// between calls: any number of instances serve any connection.
//
// Commands: PING, ECHO, GET, SET (EX, PX, NX, XX), DEL, EXISTS, INCR, DECR,
// INCRBY, DECRBY, MGET, MSET, EXPIRE, PEXPIRE, TTL, PTTL, PERSIST, plus
// what redis-cli and redis-benchmark send on connect (COMMAND, CONFIG GET,
// CLIENT, SELECT 0, QUIT). Requests are RESP arrays of bulk strings or
// inline lines; a pipeline is parsed in one call. Malformed input gets
// "-ERR Protocol error: ..." and the connection is closed. Consecutive
// pipelined GETs and plain SETs are batched into one store call each.
//
// Atomicity: each command's writes are one store transaction, and INCR is
// the store's atomic increment; but SET NX/XX and EXPIRE read, then write,
// so two instances racing on one key may both see it absent (Redis runs
// commands one at a time; the store has no conditional write but cas).
//
// Layout in the bucket "default": the value of key K is under "K#v", its
// expiry (absolute, in Unix milliseconds, decimal) under "K#t" — empty when
// it has none, so a SET writes both in one set-many. Expired keys are
// dropped lazily when read (wasi:clocks wall-clock decides). Keys must be
// UTF-8 (the store's keys are WIT strings).
//
// The canonical ABI is written by hand (wasm32 layouts in comments); every
// byte the host hands us is allocated in a per-call arena, reset after the
// reply was taken.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------- memory

// The arena: chunks of memory handed out by bump allocation. Everything the
// host allocates through cabi_realloc (the input, results of store calls)
// and every scratch buffer of a call lives here until arena_reset.
typedef struct chunk {
  struct chunk *next;
  size_t cap, used;
  _Alignas(8) uint8_t data[];
} chunk_t;

static chunk_t *arena;

static void *arena_alloc(size_t n, size_t align) {
  if (align < 1) align = 1;
  chunk_t *c = arena;
  if (c) {
    size_t at = (c->used + align - 1) & ~(align - 1);
    if (at + n <= c->cap) {
      c->used = at + n;
      return c->data + at;
    }
  }
  size_t cap = n + align > (256u << 10) ? n + align : (256u << 10);
  chunk_t *nc = malloc(sizeof(chunk_t) + cap);
  if (!nc) abort();
  nc->cap = cap;
  nc->next = c;
  size_t at = ((uintptr_t)nc->data + align - 1) / align * align - (uintptr_t)nc->data;
  nc->used = at + n;
  arena = nc;
  return nc->data + at;
}

// arena_reset frees every chunk but the last one of default size.
static void arena_reset(void) {
  chunk_t *keep = NULL;
  while (arena) {
    chunk_t *next = arena->next;
    if (!keep && arena->cap == (256u << 10)) {
      keep = arena;
      keep->next = NULL;
      keep->used = 0;
    } else {
      free(arena);
    }
    arena = next;
  }
  arena = keep;
}

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
  if (new_size == 0) return (void *)align;
  void *p = arena_alloc(new_size, align);
  if (old && old_size) memcpy(p, old, old_size < new_size ? old_size : new_size);
  return p;
}

// ------------------------------------------------------------- the store

typedef struct {
  const uint8_t *ptr;
  size_t len;
} bytes_t;

// store.error: disc u8 @0 (0 no-such-store, 1 access-denied, 2 other),
// other's string {ptr @4, len @8}.
typedef struct {
  uint8_t disc;
  const char *msg;
  size_t msg_len;
} kv_error_t;

// result<T, error> for a 4-byte-aligned T of at most 12 bytes: disc @0,
// payload @4; size 16.
typedef struct {
  uint8_t is_err;
  union {
    int32_t handle;
    uint8_t flag;
    kv_error_t err;
    struct {
      uint32_t ptr, len;
    } list;
  } u;
} kv_result_t;
_Static_assert(sizeof(kv_result_t) == 16, "result layout");

// result<s64, error>: disc @0, payload @8; size 24.
typedef struct {
  uint8_t is_err;
  union {
    int64_t n;
    kv_error_t err;
  } u;
} kv_result64_t;
_Static_assert(sizeof(kv_result64_t) == 24, "result<s64> layout");

// option<tuple<string, list<u8>>>: disc @0, key {@4, @8}, value {@12, @16}.
typedef struct {
  uint8_t is_some;
  const char *key;
  size_t key_len;
  const uint8_t *val;
  size_t val_len;
} kv_entry_t;
_Static_assert(sizeof(kv_entry_t) == 20, "option<tuple> layout");

// tuple<string, list<u8>>: size 16.
typedef struct {
  const char *key;
  size_t key_len;
  const uint8_t *val;
  size_t val_len;
} kv_pair_t;

// string: size 8.
typedef struct {
  const char *ptr;
  size_t len;
} kv_str_t;

#define KV_STORE "wasi:keyvalue/store@0.2.0-draft2"
#define KV_ATOMICS "wasi:keyvalue/atomics@0.2.0-draft2"
#define KV_BATCH "wasi:keyvalue/batch@0.2.0-draft2"

__attribute__((import_module(KV_STORE), import_name("open")))
extern void kv_open(const char *id, size_t id_len, kv_result_t *ret);
__attribute__((import_module(KV_ATOMICS), import_name("increment")))
extern void kv_increment(int32_t bucket, const char *key, size_t key_len, int64_t delta, kv_result64_t *ret);
__attribute__((import_module(KV_BATCH), import_name("get-many")))
extern void kv_get_many(int32_t bucket, const kv_str_t *keys, size_t n, kv_result_t *ret);
__attribute__((import_module(KV_BATCH), import_name("set-many")))
extern void kv_set_many(int32_t bucket, const kv_pair_t *pairs, size_t n, kv_result_t *ret);
__attribute__((import_module(KV_BATCH), import_name("delete-many")))
extern void kv_delete_many(int32_t bucket, const kv_str_t *keys, size_t n, kv_result_t *ret);

// wall-clock.datetime: seconds u64 @0, nanoseconds u32 @8; size 16.
typedef struct {
  uint64_t seconds;
  uint32_t nanoseconds;
} datetime_t;
__attribute__((import_module("wasi:clocks/wall-clock@0.2.0"), import_name("now")))
extern void wall_now(datetime_t *ret);

static int64_t now_ms(void) {
  datetime_t t;
  wall_now(&t);
  return (int64_t)t.seconds * 1000 + t.nanoseconds / 1000000;
}

static int32_t bucket = -1;

// ------------------------------------------------------------------ output

static uint8_t *out;
static size_t out_len, out_cap;

static void put(const void *p, size_t n) {
  if (out_len + n > out_cap) {
    size_t c = out_cap ? out_cap : 4096;
    while (c < out_len + n) c *= 2;
    out = realloc(out, c);
    if (!out) abort();
    out_cap = c;
  }
  memcpy(out + out_len, p, n);
  out_len += n;
}

static void puts_(const char *s) { put(s, strlen(s)); }

static size_t fmt_i64(int64_t v, char buf[21]) {
  char tmp[21];
  size_t n = 0;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  size_t len = 0;
  if (v < 0) buf[len++] = '-';
  while (n) buf[len++] = tmp[--n];
  return len;
}

static void put_int(int64_t v) {
  char b[21];
  put(":", 1);
  put(b, fmt_i64(v, b));
  put("\r\n", 2);
}

static void put_hdr(char c, int64_t n) {
  char b[21];
  put(&c, 1);
  put(b, fmt_i64(n, b));
  put("\r\n", 2);
}

static void put_bulk(const void *p, size_t n) {
  put_hdr('$', (int64_t)n);
  put(p, n);
  put("\r\n", 2);
}

static void put_nil(void) { put("$-1\r\n", 5); }
static void put_ok(void) { put("+OK\r\n", 5); }

static void put_err(const char *msg) {
  put("-", 1);
  puts_(msg);
  put("\r\n", 2);
}

// put_kv_err answers a failed store call.
static void put_kv_err(const kv_error_t *e) {
  switch (e->disc) {
  case 0: put_err("ERR store: no such store"); break;
  case 1: put_err("ERR store: access denied"); break;
  default: {
    put("-ERR store: ", 12);
    // A simple error is one line: keep CR and LF out.
    for (size_t i = 0; i < e->msg_len; i++) put(e->msg[i] == '\r' || e->msg[i] == '\n' ? " " : &e->msg[i], 1);
    put("\r\n", 2);
  }
  }
}

// ------------------------------------------------------------------ helpers

static int open_bucket(void) {
  if (bucket >= 0) return 1;
  kv_result_t r;
  kv_open("default", 7, &r);
  if (r.is_err) {
    put_kv_err(&r.u.err);
    return 0;
  }
  bucket = r.u.handle;
  return 1;
}

// utf8 reports whether p is valid UTF-8 (store keys are WIT strings).
static int utf8(const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = p[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t k;
    uint32_t cp, lo;
    if ((c & 0xe0) == 0xc0) k = 1, cp = c & 0x1f, lo = 0x80;
    else if ((c & 0xf0) == 0xe0) k = 2, cp = c & 0x0f, lo = 0x800;
    else if ((c & 0xf8) == 0xf0) k = 3, cp = c & 0x07, lo = 0x10000;
    else return 0;
    if (n - i <= k) return 0;
    for (size_t j = 1; j <= k; j++) {
      if ((p[i + j] & 0xc0) != 0x80) return 0;
      cp = cp << 6 | (p[i + j] & 0x3f);
    }
    if (cp < lo || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    i += k + 1;
  }
  return 1;
}

// skey makes the store key "<key>#<kind>" in the arena. The kind is the
// last byte, so no two (key, kind) pairs share a store key, whatever bytes
// the keys hold; and a key's value and expiry sort side by side (one page
// of the B+tree to write, not two).
static kv_str_t skey(char kind, bytes_t k) {
  char *p = arena_alloc(k.len + 2, 1);
  memcpy(p, k.ptr, k.len);
  p[k.len] = '#';
  p[k.len + 1] = kind;
  return (kv_str_t){p, k.len + 2};
}

static int parse_i64(bytes_t b, int64_t *v) {
  if (b.len == 0 || b.len > 20) return 0;
  size_t i = 0;
  int neg = 0;
  if (b.ptr[0] == '-') {
    neg = 1;
    i = 1;
    if (b.len == 1) return 0;
  }
  uint64_t u = 0;
  for (; i < b.len; i++) {
    if (b.ptr[i] < '0' || b.ptr[i] > '9') return 0;
    uint64_t d = b.ptr[i] - '0';
    if (u > (UINT64_MAX - d) / 10) return 0;
    u = u * 10 + d;
  }
  if (neg) {
    if (u > (uint64_t)INT64_MAX + 1) return 0;
    *v = (int64_t)(0 - u);
  } else {
    if (u > (uint64_t)INT64_MAX) return 0;
    *v = (int64_t)u;
  }
  return 1;
}

static int eq(bytes_t b, const char *word) {
  size_t n = strlen(word);
  if (b.len != n) return 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = b.ptr[i];
    if (c >= 'a' && c <= 'z') c -= 32;
    if (c != (uint8_t)word[i]) return 0;
  }
  return 1;
}

// A key as read: its value, if live, and its expiry (0: none).
typedef struct {
  int live;
  bytes_t val;
  int64_t expires;
} entry_t;

static int64_t parse_expiry(const kv_entry_t *e) {
  int64_t v;
  if (!e->is_some || e->val_len == 0) return 0;
  if (!parse_i64((bytes_t){e->val, e->val_len}, &v)) return 0;
  return v;
}

// read_keys reads n keys (values and expiries) in one get-many; expired
// ones are deleted and reported as absent. It answers and returns 0 when
// the store fails.
static int read_keys(const bytes_t *keys, size_t n, entry_t *ents) {
  kv_str_t *sk = arena_alloc(2 * n * sizeof *sk, 4);
  for (size_t i = 0; i < n; i++) {
    sk[2 * i] = skey('v', keys[i]);
    sk[2 * i + 1] = skey('t', keys[i]);
  }
  kv_result_t r;
  kv_get_many(bucket, sk, 2 * n, &r);
  if (r.is_err) {
    put_kv_err(&r.u.err);
    return 0;
  }
  const kv_entry_t *es = (const kv_entry_t *)(uintptr_t)r.u.list.ptr;
  if (r.u.list.len != 2 * n) abort();
  int64_t now = -1;
  kv_str_t *dead = NULL;
  size_t ndead = 0;
  for (size_t i = 0; i < n; i++) {
    const kv_entry_t *v = &es[2 * i], *t = &es[2 * i + 1];
    ents[i] = (entry_t){0};
    if (!v->is_some) continue;
    ents[i].expires = parse_expiry(t);
    if (ents[i].expires) {
      if (now < 0) now = now_ms();
      if (ents[i].expires <= now) {
        if (!dead) dead = arena_alloc(2 * n * sizeof *dead, 4);
        dead[ndead++] = sk[2 * i];
        dead[ndead++] = sk[2 * i + 1];
        continue;
      }
    }
    ents[i].live = 1;
    ents[i].val = (bytes_t){v->val, v->val_len};
  }
  if (ndead) {
    kv_delete_many(bucket, dead, ndead, &r);
    if (r.is_err) {
      put_kv_err(&r.u.err);
      return 0;
    }
  }
  return 1;
}

// write_keys stores n values with their expiries (0: none) in one set-many.
static int write_keys(const bytes_t *keys, const bytes_t *vals, const int64_t *exp, size_t n) {
  kv_pair_t *ps = arena_alloc(2 * n * sizeof *ps, 4);
  for (size_t i = 0; i < n; i++) {
    kv_str_t v = skey('v', keys[i]), t = skey('t', keys[i]);
    ps[2 * i] = (kv_pair_t){v.ptr, v.len, vals[i].ptr, vals[i].len};
    char *eb = arena_alloc(21, 1);
    size_t elen = exp && exp[i] ? fmt_i64(exp[i], eb) : 0;
    ps[2 * i + 1] = (kv_pair_t){t.ptr, t.len, (const uint8_t *)eb, elen};
  }
  kv_result_t r;
  kv_set_many(bucket, ps, 2 * n, &r);
  if (r.is_err) {
    put_kv_err(&r.u.err);
    return 0;
  }
  return 1;
}

// delete_keys removes n keys and their expiries in one delete-many.
static int delete_keys(const bytes_t *keys, size_t n) {
  kv_str_t *sk = arena_alloc(2 * n * sizeof *sk, 4);
  for (size_t i = 0; i < n; i++) {
    sk[2 * i] = skey('v', keys[i]);
    sk[2 * i + 1] = skey('t', keys[i]);
  }
  kv_result_t r;
  kv_delete_many(bucket, sk, 2 * n, &r);
  if (r.is_err) {
    put_kv_err(&r.u.err);
    return 0;
  }
  return 1;
}

// set_expiry writes the expiry of one key (0 clears it).
static int set_expiry(bytes_t key, int64_t exp) {
  kv_str_t t = skey('t', key);
  char *eb = arena_alloc(21, 1);
  size_t elen = exp ? fmt_i64(exp, eb) : 0;
  kv_pair_t p = {t.ptr, t.len, (const uint8_t *)eb, elen};
  kv_result_t r;
  kv_set_many(bucket, &p, 1, &r);
  if (r.is_err) {
    put_kv_err(&r.u.err);
    return 0;
  }
  return 1;
}

// ---------------------------------------------------------------- commands

#define MAX_ARGS 4096
#define MAX_BULK (1u << 20)    // a bulk string, in bytes (the store's value limit)
#define MAX_INLINE (64u << 10) // an inline command line, in bytes
#define MAX_BATCH 500          // keys in one MGET, MSET, DEL or EXISTS (the store's batches are 1000 keys)

static bytes_t argv[MAX_ARGS];

static void wrong_args(bytes_t cmd) {
  put("-ERR wrong number of arguments for '", 36);
  for (size_t i = 0; i < cmd.len && i < 64; i++) {
    uint8_t c = cmd.ptr[i];
    if (c >= 'A' && c <= 'Z') c += 32;
    put(c < 32 || c > 126 ? "?" : (const char *)&c, 1);
  }
  put("' command\r\n", 11);
}

static int check_keys(const bytes_t *keys, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!utf8(keys[i].ptr, keys[i].len)) {
      put_err("ERR keys must be valid UTF-8 in this store");
      return 0;
    }
    if (keys[i].len > 4000) {
      put_err("ERR key too long (at most 4000 bytes)");
      return 0;
    }
  }
  return 1;
}

static void cmd_set(size_t argc) {
  int64_t exp = 0, v;
  int nx = 0, xx = 0;
  for (size_t i = 3; i < argc; i++) {
    bytes_t o = argv[i];
    if ((eq(o, "EX") || eq(o, "PX")) && i + 1 < argc && !exp) {
      if (!parse_i64(argv[i + 1], &v) || v <= 0 || v > INT64_MAX / 1000 / 4) {
        put_err("ERR invalid expire time in 'set' command");
        return;
      }
      exp = now_ms() + (eq(o, "EX") ? v * 1000 : v);
      i++;
    } else if (eq(o, "NX") && !xx) {
      nx = 1;
    } else if (eq(o, "XX") && !nx) {
      xx = 1;
    } else {
      put_err("ERR syntax error");
      return;
    }
  }
  if (!check_keys(&argv[1], 1)) return;
  if (argv[2].len > MAX_BULK - 64) {
    put_err("ERR value too large for this store");
    return;
  }
  if (nx || xx) {
    entry_t e;
    if (!read_keys(&argv[1], 1, &e)) return;
    if ((nx && e.live) || (xx && !e.live)) {
      put_nil();
      return;
    }
  }
  if (write_keys(&argv[1], &argv[2], &exp, 1)) put_ok();
}

static void cmd_incr(bytes_t key, int64_t delta) {
  if (!check_keys(&key, 1)) return;
  // An expired key counts from 0: drop it first (read_keys does).
  entry_t e;
  if (!read_keys(&key, 1, &e)) return;
  kv_str_t v = skey('v', key);
  kv_result64_t r;
  kv_increment(bucket, v.ptr, v.len, delta, &r);
  if (r.is_err) {
    // The kv driver's messages say which: "... overflows ..." or "... not
    // a decimal integer".
    if (r.u.err.disc == 2 && memmem(r.u.err.msg, r.u.err.msg_len, "overflow", 8)) {
      put_err("ERR increment or decrement would overflow");
    } else if (r.u.err.disc == 2 && memmem(r.u.err.msg, r.u.err.msg_len, "integer", 7)) {
      put_err("ERR value is not an integer or out of range");
    } else {
      put_kv_err(&r.u.err);
    }
    return;
  }
  put_int(r.u.n);
}

static void cmd_ttl(bytes_t key, int ms) {
  if (!check_keys(&key, 1)) return;
  entry_t e;
  if (!read_keys(&key, 1, &e)) return;
  if (!e.live) put_int(-2);
  else if (!e.expires) put_int(-1);
  else {
    int64_t left = e.expires - now_ms();
    if (left < 0) left = 0;
    put_int(ms ? left : (left + 500) / 1000);
  }
}

static void cmd_expire(bytes_t key, bytes_t amount, int ms) {
  int64_t v;
  if (!parse_i64(amount, &v) || v > INT64_MAX / 1000 / 4 || v < -(INT64_MAX / 1000 / 4)) {
    put_err("ERR value is not an integer or out of range");
    return;
  }
  if (!check_keys(&key, 1)) return;
  entry_t e;
  if (!read_keys(&key, 1, &e)) return;
  if (!e.live) {
    put_int(0);
    return;
  }
  if (v <= 0) { // an expiry in the past deletes the key
    if (delete_keys(&key, 1)) put_int(1);
    return;
  }
  if (set_expiry(key, now_ms() + (ms ? v : v * 1000))) put_int(1);
}

static void cmd_config(size_t argc) {
  // CONFIG GET <pattern>: redis-benchmark and redis-cli ask for a few
  // settings; this store has none to show.
  if (argc >= 2 && eq(argv[1], "GET")) {
    if (argc == 3 && (eq(argv[2], "SAVE") || eq(argv[2], "APPENDONLY"))) {
      int save = eq(argv[2], "SAVE");
      put_hdr('*', 2);
      put_bulk(save ? "save" : "appendonly", save ? 4 : 10);
      put_bulk(save ? "" : "no", save ? 0 : 2);
      return;
    }
    put("*0\r\n", 4);
    return;
  }
  put_err("ERR CONFIG supports only GET here");
}

// run answers one command; it returns 1 when the connection is to be closed.
static int run(size_t argc) {
  bytes_t c = argv[0];
  if (eq(c, "PING")) {
    if (argc == 1) puts_("+PONG\r\n");
    else if (argc == 2) put_bulk(argv[1].ptr, argv[1].len);
    else wrong_args(c);
    return 0;
  }
  if (eq(c, "ECHO")) {
    if (argc == 2) put_bulk(argv[1].ptr, argv[1].len);
    else wrong_args(c);
    return 0;
  }
  if (eq(c, "QUIT")) {
    put_ok();
    return 1;
  }
  if (eq(c, "COMMAND")) {
    // Clients ask for command docs and counts; answer an empty list.
    if (argc >= 2 && eq(argv[1], "COUNT")) put_int(0);
    else put("*0\r\n", 4);
    return 0;
  }
  if (eq(c, "CONFIG")) {
    cmd_config(argc);
    return 0;
  }
  if (eq(c, "CLIENT")) {
    put_ok();
    return 0;
  }
  if (eq(c, "SELECT")) {
    if (argc == 2 && argv[1].len == 1 && argv[1].ptr[0] == '0') put_ok();
    else put_err("ERR DB index is out of range");
    return 0;
  }
  if (!open_bucket()) return 0;
  if (eq(c, "GET")) {
    if (argc != 2) return wrong_args(c), 0;
    entry_t e;
    if (!check_keys(&argv[1], 1) || !read_keys(&argv[1], 1, &e)) return 0;
    if (e.live) put_bulk(e.val.ptr, e.val.len);
    else put_nil();
  } else if (eq(c, "SET")) {
    if (argc < 3) return wrong_args(c), 0;
    cmd_set(argc);
  } else if (eq(c, "DEL") || eq(c, "UNLINK") || eq(c, "EXISTS")) {
    size_t n = argc - 1;
    if (n < 1) return wrong_args(c), 0;
    if (n > MAX_BATCH) return put_err("ERR too many keys in one command (at most 500)"), 0;
    entry_t *es = arena_alloc(n * sizeof *es, 8);
    if (!check_keys(&argv[1], n) || !read_keys(&argv[1], n, es)) return 0;
    int64_t live = 0;
    for (size_t i = 0; i < n; i++) live += es[i].live;
    if (!eq(c, "EXISTS") && live && !delete_keys(&argv[1], n)) return 0;
    put_int(live);
  } else if (eq(c, "INCR") || eq(c, "DECR")) {
    if (argc != 2) return wrong_args(c), 0;
    cmd_incr(argv[1], eq(c, "INCR") ? 1 : -1);
  } else if (eq(c, "INCRBY") || eq(c, "DECRBY")) {
    int64_t d;
    if (argc != 3) return wrong_args(c), 0;
    if (!parse_i64(argv[2], &d) || (eq(c, "DECRBY") && d == INT64_MIN)) {
      put_err("ERR value is not an integer or out of range");
      return 0;
    }
    cmd_incr(argv[1], eq(c, "INCRBY") ? d : -d);
  } else if (eq(c, "MGET")) {
    size_t n = argc - 1;
    if (n < 1) return wrong_args(c), 0;
    if (n > MAX_BATCH) return put_err("ERR too many keys in one command (at most 500)"), 0;
    entry_t *es = arena_alloc(n * sizeof *es, 8);
    if (!check_keys(&argv[1], n) || !read_keys(&argv[1], n, es)) return 0;
    put_hdr('*', (int64_t)n);
    for (size_t i = 0; i < n; i++) {
      if (es[i].live) put_bulk(es[i].val.ptr, es[i].val.len);
      else put_nil();
    }
  } else if (eq(c, "MSET")) {
    size_t n = (argc - 1) / 2;
    if (argc < 3 || (argc - 1) % 2) return wrong_args(c), 0;
    if (n > MAX_BATCH) return put_err("ERR too many keys in one command (at most 500)"), 0;
    bytes_t *ks = arena_alloc(n * sizeof *ks, 4), *vs = arena_alloc(n * sizeof *vs, 4);
    for (size_t i = 0; i < n; i++) {
      ks[i] = argv[1 + 2 * i];
      vs[i] = argv[2 + 2 * i];
      if (vs[i].len > MAX_BULK - 64) return put_err("ERR value too large for this store"), 0;
    }
    if (!check_keys(ks, n)) return 0;
    if (write_keys(ks, vs, NULL, n)) put_ok();
  } else if (eq(c, "EXPIRE") || eq(c, "PEXPIRE")) {
    if (argc != 3) return wrong_args(c), 0;
    cmd_expire(argv[1], argv[2], eq(c, "PEXPIRE"));
  } else if (eq(c, "TTL") || eq(c, "PTTL")) {
    if (argc != 2) return wrong_args(c), 0;
    cmd_ttl(argv[1], eq(c, "PTTL"));
  } else if (eq(c, "PERSIST")) {
    if (argc != 2) return wrong_args(c), 0;
    entry_t e;
    if (!check_keys(&argv[1], 1) || !read_keys(&argv[1], 1, &e)) return 0;
    if (!e.live || !e.expires) put_int(0);
    else if (set_expiry(argv[1], 0)) put_int(1);
  } else {
    put("-ERR unknown command '", 22);
    for (size_t i = 0; i < c.len && i < 64; i++) put(c.ptr[i] < 32 || c.ptr[i] > 126 ? "?" : (const char *)&c.ptr[i], 1);
    put("'\r\n", 3);
  }
  return 0;
}

// ------------------------------------------------------------------ parser

enum { PARSED, INCOMPLETE, MALFORMED };

static const char *proto_err;

// parse_len reads "<digits>\r\n" at in[*pos]; -1 for "-1".
static int parse_len(const uint8_t *in, size_t n, size_t *pos, int64_t *v) {
  size_t i = *pos;
  const uint8_t *cr = memchr(in + i, '\r', n - i);
  if (!cr) {
    if (n - i > 32) return MALFORMED;
    return INCOMPLETE;
  }
  size_t end = (size_t)(cr - in);
  if (end + 1 >= n) return INCOMPLETE;
  if (in[end + 1] != '\n' || !parse_i64((bytes_t){in + i, end - i}, v)) return MALFORMED;
  *pos = end + 2;
  return PARSED;
}

// parse reads one request at in[*pos]: into argv/argc, advancing *pos. On
// INCOMPLETE, *need is the bytes it needs from the request's start, when it
// knows.
static int parse(const uint8_t *in, size_t n, size_t *pos, size_t *argc, size_t *need) {
  size_t start = *pos, i = start;
  *need = 0;
  if (in[i] == '*') {
    i++;
    int64_t count;
    int st = parse_len(in, n, &i, &count);
    if (st == MALFORMED || (st == PARSED && (count < 0 || count > MAX_ARGS))) {
      proto_err = "ERR Protocol error: invalid multibulk length";
      return MALFORMED;
    }
    if (st == INCOMPLETE) return INCOMPLETE;
    for (int64_t a = 0; a < count; a++) {
      if (i >= n) return INCOMPLETE;
      if (in[i] != '$') {
        proto_err = "ERR Protocol error: expected '$'";
        return MALFORMED;
      }
      i++;
      int64_t len;
      st = parse_len(in, n, &i, &len);
      if (st == MALFORMED || (st == PARSED && (len < 0 || len > MAX_BULK))) {
        proto_err = "ERR Protocol error: invalid bulk length";
        return MALFORMED;
      }
      if (st == INCOMPLETE) return INCOMPLETE;
      if (n - i < (size_t)len + 2) {
        *need = i - start + (size_t)len + 2;
        return INCOMPLETE;
      }
      if (in[i + len] != '\r' || in[i + len + 1] != '\n') {
        proto_err = "ERR Protocol error: bulk string not followed by CRLF";
        return MALFORMED;
      }
      argv[a] = (bytes_t){in + i, (size_t)len};
      i += (size_t)len + 2;
    }
    *argc = (size_t)count;
    *pos = i;
    return PARSED;
  }
  // An inline command: words separated by spaces, up to LF.
  const uint8_t *nl = memchr(in + i, '\n', n - i);
  if (!nl) {
    if (n - i > MAX_INLINE) {
      proto_err = "ERR Protocol error: too big inline request";
      return MALFORMED;
    }
    return INCOMPLETE;
  }
  size_t end = (size_t)(nl - in), stop = end;
  if (stop > i && in[stop - 1] == '\r') stop--;
  size_t c = 0;
  while (i < stop) {
    while (i < stop && (in[i] == ' ' || in[i] == '\t')) i++;
    if (i == stop) break;
    size_t w = i;
    while (i < stop && in[i] != ' ' && in[i] != '\t') i++;
    if (c == MAX_ARGS) {
      proto_err = "ERR Protocol error: too many arguments";
      return MALFORMED;
    }
    argv[c++] = (bytes_t){in + w, i - w};
  }
  *argc = c;
  *pos = end + 1;
  return PARSED;
}

// ----------------------------------------------------------------- handler

// reply: consumed u32 @0, output {ptr @4, len @8}, close bool @12, need u32 @16.
typedef struct {
  uint32_t consumed;
  uint8_t *out;
  uint32_t out_len;
  uint8_t close;
  uint32_t need;
} reply_t;
_Static_assert(sizeof(reply_t) == 20, "reply layout");

static reply_t ret;

// opened(conn: u64, peer: string) -> bool
__attribute__((export_name("wbox:tcp/handler@0.1.0#opened")))
int32_t opened(uint64_t conn, char *peer, size_t peer_len) {
  (void)conn, (void)peer, (void)peer_len;
  arena_reset();
  return 1;
}

// closed(conn: u64)
__attribute__((export_name("wbox:tcp/handler@0.1.0#closed")))
void closed(uint64_t conn) { (void)conn; }

#define MAX_REPLY (256u << 10) // stop parsing once a reply is this big

// Pipelined GETs, and pipelined plain SETs, are answered together:
// consecutive GETs of one data call are read in one get-many, consecutive
// SETs written in one set-many (one transaction, one fsync, instead of one
// each). A GET batch is small, as each value may be up to 1 MiB.
#define GET_BATCH 16
#define SET_BATCH 64
static bytes_t batch_keys[SET_BATCH], batch_vals[SET_BATCH];
static size_t batch_n;
static int batch_set; // the batch holds SETs (else GETs)

static void flush_batch(void) {
  size_t n = batch_n;
  if (!n) return;
  batch_n = 0;
  entry_t *es = arena_alloc(n * sizeof *es, 8);
  size_t before = out_len;
  int ok = open_bucket() && (batch_set ? write_keys(batch_keys, batch_vals, NULL, n) : read_keys(batch_keys, n, es));
  if (!ok) {
    // One error was written: every command of the batch gets it.
    size_t elen = out_len - before;
    uint8_t *e = arena_alloc(elen, 1);
    memcpy(e, out + before, elen);
    for (size_t i = 1; i < n; i++) put(e, elen);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    if (batch_set) put_ok();
    else if (es[i].live) put_bulk(es[i].val.ptr, es[i].val.len);
    else put_nil();
  }
}

// batch queues a GET or a plain SET (key, value; no options) the store
// takes; it returns 0 for other commands.
static int batch(size_t argc) {
  int set;
  if (argc == 2 && eq(argv[0], "GET")) set = 0;
  else if (argc == 3 && eq(argv[0], "SET") && argv[2].len <= MAX_BULK - 64) set = 1;
  else return 0;
  if (argv[1].len > 4000 || !utf8(argv[1].ptr, argv[1].len)) return 0;
  if (batch_n && batch_set != set) flush_batch();
  batch_set = set;
  batch_keys[batch_n] = argv[1];
  batch_vals[batch_n] = set ? argv[2] : (bytes_t){0};
  batch_n++;
  if (batch_n == (set ? SET_BATCH : GET_BATCH)) flush_batch();
  return 1;
}

// data(conn: u64, input: list<u8>) -> reply
__attribute__((export_name("wbox:tcp/handler@0.1.0#data")))
reply_t *data(uint64_t conn, uint8_t *in, size_t n) {
  (void)conn;
  out_len = 0;
  memset(&ret, 0, sizeof ret);
  size_t pos = 0;
  while (pos < n && out_len < MAX_REPLY) {
    size_t argc = 0, need = 0, at = pos;
    int st = parse(in, n, &pos, &argc, &need);
    if (st == INCOMPLETE) {
      ret.need = (uint32_t)need;
      break;
    }
    if (st == MALFORMED) {
      flush_batch();
      put_err(proto_err);
      ret.close = 1;
      pos = n;
      break;
    }
    (void)at;
    if (argc == 0) continue; // an empty inline line
    if (batch(argc)) continue;
    flush_batch();
    if (run(argc)) {
      ret.close = 1;
      pos = n;
      break;
    }
  }
  flush_batch();
  ret.consumed = (uint32_t)pos;
  ret.out = out;
  ret.out_len = (uint32_t)out_len;
  return &ret;
}

__attribute__((export_name("cabi_post_wbox:tcp/handler@0.1.0#data")))
void data_post(reply_t *r) {
  (void)r;
  // Keep the output buffer for the next call unless it grew large.
  if (out_cap > (1u << 20)) {
    free(out);
    out = NULL;
    out_cap = 0;
  }
  out_len = 0;
  arena_reset();
}
