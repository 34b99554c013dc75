// tcp-lines: the TCP driver's test box (drivers/tcp). It exports
// wbox:tcp/handler@0.1.0 (wit/wbox-tcp.wit) with a hand-written canonical
// ABI and answers a line protocol, one reply line per request line:
//
//   quit      "bye", then the driver closes the connection
//   trap      traps (the call fails; the driver closes the connection)
//   bad       claims to consume more bytes than it was given
//   big N     N bytes of 'x' (capped at 64 MiB), then a newline
//   spin N    loops N million times (a slow call), then "spun"
//   calls     how many data calls this instance served
//   open      how many connections this instance holds open
//   #N        the next N bytes are a blob: "blob N" once they all arrived;
//             until then it asks for them with `need`
//   anything  echoed back
//
// A reply stops growing past 64 KiB: the lines after are left unconsumed,
// so the driver calls again with them (a pipeline answered piecemeal). The
// instance refuses a 4th simultaneous connection (opened -> false).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
  (void)old_size;
  if (new_size == 0) return (void *)align;
  void *p = realloc(old, new_size);
  if (!p) abort();
  return p;
}

static uint64_t open_conns, data_calls;
static volatile uint64_t spin_sink; // keeps spin's loop

// opened(conn: u64, peer: string) -> bool
__attribute__((export_name("wbox:tcp/handler@0.1.0#opened")))
int32_t opened(uint64_t conn, char *peer, size_t peer_len) {
  (void)conn;
  if (peer_len) free(peer);
  if (open_conns >= 3) return 0;
  open_conns++;
  return 1;
}

// closed(conn: u64)
__attribute__((export_name("wbox:tcp/handler@0.1.0#closed")))
void closed(uint64_t conn) {
  (void)conn;
  if (open_conns) open_conns--;
}

// reply: consumed u32 @0, output {ptr @4, len @8}, close bool @12, need u32 @16.
typedef struct {
  uint32_t consumed;
  uint8_t *out;
  uint32_t out_len;
  uint8_t close;
  uint32_t need;
} reply_t;

static reply_t ret;
static uint8_t *out;
static size_t out_len, out_cap;

static void put(const void *p, size_t n) {
  if (out_len + n > out_cap) {
    size_t c = out_cap ? out_cap : 256;
    while (c < out_len + n) c *= 2;
    out = realloc(out, c);
    if (!out) abort();
    out_cap = c;
  }
  memcpy(out + out_len, p, n);
  out_len += n;
}

static void put_u64(uint64_t n) {
  char tmp[20];
  size_t len = 0;
  do {
    tmp[len++] = (char)('0' + n % 10);
    n /= 10;
  } while (n);
  while (len) put(&tmp[--len], 1);
}

static int parse_u64(const uint8_t *p, size_t n, uint64_t *v) {
  if (n == 0 || n > 18) return 0;
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') return 0;
    x = x * 10 + (p[i] - '0');
  }
  *v = x;
  return 1;
}

static int is(const uint8_t *line, size_t n, const char *word) {
  size_t w = strlen(word);
  return n == w && memcmp(line, word, w) == 0;
}

// data(conn: u64, input: list<u8>) -> reply
__attribute__((export_name("wbox:tcp/handler@0.1.0#data")))
reply_t *data(uint64_t conn, uint8_t *in, size_t n) {
  (void)conn;
  data_calls++;
  out = NULL;
  out_len = out_cap = 0;
  memset(&ret, 0, sizeof ret);
  size_t pos = 0;
  while (pos < n && out_len < 64 * 1024 && !ret.close) {
    uint8_t *nl = memchr(in + pos, '\n', n - pos);
    if (!nl) break;
    const uint8_t *line = in + pos;
    size_t len = (size_t)(nl - line), next = pos + len + 1;
    if (len && line[len - 1] == '\r') len--;
    uint64_t v;
    if (is(line, len, "quit")) {
      put("bye\n", 4);
      ret.close = 1;
    } else if (is(line, len, "trap")) {
      __builtin_trap();
    } else if (is(line, len, "bad")) {
      ret.consumed = (uint32_t)n + 1;
      goto done;
    } else if (len > 5 && memcmp(line, "spin ", 5) == 0 && parse_u64(line + 5, len - 5, &v)) {
      for (uint64_t i = 0; i < v * 1000000; i++) spin_sink += i;
      put("spun\n", 5);
    } else if (is(line, len, "calls")) {
      put_u64(data_calls);
      put("\n", 1);
    } else if (is(line, len, "open")) {
      put_u64(open_conns);
      put("\n", 1);
    } else if (len > 4 && memcmp(line, "big ", 4) == 0 && parse_u64(line + 4, len - 4, &v) && v <= (64u << 20)) {
      static uint8_t xs[4096];
      if (!xs[0]) memset(xs, 'x', sizeof xs);
      for (uint64_t i = 0; i < v; i += sizeof xs) {
        size_t k = (size_t)(v - i < sizeof xs ? v - i : sizeof xs);
        put(xs, k);
      }
      put("\n", 1);
    } else if (len > 1 && line[0] == '#' && parse_u64(line + 1, len - 1, &v)) {
      if (n - next < v) {
        ret.need = (uint32_t)(next - pos + v);
        break;
      }
      put("blob ", 5);
      put_u64(v);
      put("\n", 1);
      next += (size_t)v;
    } else {
      put(line, len);
      put("\n", 1);
    }
    pos = next;
  }
  ret.consumed = (uint32_t)pos;
done:
  if (n) free(in);
  ret.out = out;
  ret.out_len = (uint32_t)out_len;
  return &ret;
}

__attribute__((export_name("cabi_post_wbox:tcp/handler@0.1.0#data")))
void data_post(reply_t *r) {
  free(r->out);
  out = NULL;
}
