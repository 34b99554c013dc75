// http-hello: an HTTP box written as a plain JS `fetch` event handler, the
// way a service worker or an edge function is. `jco componentize`
// (StarlingMonkey) turns it into a component exporting
// wasi:http/incoming-handler; wbox's wasi:http host (wasmhost/wasihttp)
// serves it.
//
// Routes:
//   /stream?chunks=N&size=S   N chunks of S bytes from a ReadableStream
//                             (chunk i is the letter 'a' + i % 26)
//   /fetch?url=U              fetches U (wasi:http/outgoing-handler) and
//                             returns its status, x-upstream header and body
//   anything else             echoes the request as JSON: method, path,
//                             query, the x-hello header, the body and its
//                             length; ?status=N sets the status

addEventListener('fetch', (event) => event.respondWith(handle(event.request)));

async function handle(req) {
  const url = new URL(req.url);
  switch (url.pathname) {
    case '/stream':
      return stream(url);
    case '/fetch':
      return proxy(url);
    default:
      return echo(req, url);
  }
}

function json(value, status = 200, headers = {}) {
  return new Response(JSON.stringify(value), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

async function echo(req, url) {
  const bytes = new Uint8Array(await req.arrayBuffer());
  const body = new TextDecoder().decode(bytes);
  const hello = req.headers.get('x-hello');
  const status = Number(url.searchParams.get('status') || 200);
  return json(
    {
      method: req.method,
      path: url.pathname,
      query: url.search,
      host: url.host,
      header: hello,
      length: bytes.length,
      body,
    },
    status,
    hello === null ? {} : { 'x-hello-echo': hello },
  );
}

function stream(url) {
  const chunks = Number(url.searchParams.get('chunks') || 64);
  const size = Number(url.searchParams.get('size') || 16384);
  let i = 0;
  const body = new ReadableStream({
    pull(controller) {
      if (i >= chunks) {
        controller.close();
        return;
      }
      const chunk = new Uint8Array(size);
      chunk.fill(97 + (i % 26));
      i++;
      controller.enqueue(chunk);
    },
  });
  return new Response(body, { headers: { 'content-type': 'application/octet-stream' } });
}

async function proxy(url) {
  const target = url.searchParams.get('url');
  try {
    const res = await fetch(target, { headers: { 'x-from': 'http-hello' } });
    const body = await res.text();
    return json({ status: res.status, upstream: res.headers.get('x-upstream'), body });
  } catch (e) {
    return json({ error: String(e) }, 502);
  }
}
