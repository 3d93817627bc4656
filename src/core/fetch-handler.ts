/**
 * Adapts a WHATWG fetch handler (`(Request) => Response`, as Hono, itty-router or plain functions
 * export) to the streaming Handler. The Response body is pulled only when the transport has room
 * (write() true, or after drain()), and cancelled — so the producer learns of it — when the client
 * goes away.
 */
import type { Handler, ServerRequest } from './types.js';
import type { StreamingResponse } from './response.js';

export type FetchFunction = (request: Request) => Response | Promise<Response>;

/** Request-only header fields that undici's Request refuses or that describe our framing. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'http2-settings']);

export function toRequest(req: ServerRequest): Request {
  const headers = new Headers();
  for (const [n, v] of req.headers) if (!HOP_BY_HOP.has(n) && !n.startsWith(':')) headers.append(n, v);
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const init: RequestInit & { duplex?: 'half' } = { method: req.method, headers, signal: req.signal };
  if (hasBody) {
    // The iterator is made on the first pull: starting to read is what sends `100 Continue` on
    // h1, so an app that answers without reading the body must not start it (RFC 9110 §10.1.1).
    let iterator: AsyncIterator<Uint8Array> | undefined;
    init.body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          iterator ??= req.body[Symbol.asyncIterator]();
          const { value, done } = await iterator.next();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (err) {
          controller.error(err);
        }
      },
      cancel() { void iterator?.return?.(); },
    }, { highWaterMark: 0 });
    init.duplex = 'half';
  }
  return new Request(`${req.scheme}://${req.authority || 'localhost'}${req.path}`, init);
}

export function fetchHandler(fn: FetchFunction): Handler {
  return async (req, res) => {
    const response = await fn(toRequest(req));
    const headers: [string, string][] = [];
    response.headers.forEach((value, name) => { if (name !== 'set-cookie') headers.push([name, value]); });
    for (const cookie of response.headers.getSetCookie()) headers.push(['set-cookie', cookie]);
    res.writeHead(response.status, headers);
    if (!response.body) {
      await res.end();
      return;
    }
    const reader = response.body.getReader();
    const onAbort = (): void => { void reader.cancel(req.signal.reason).catch(() => {}); };
    if (req.signal.aborted) { onAbort(); return; }
    req.signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (req.signal.aborted) return;
        if (!res.write(value)) await res.drain();
        if (req.signal.aborted) return;
      }
      await res.end();
    } catch (err) {
      if (req.signal.aborted) return;
      // The body stream failed mid-way: reset rather than end, so the client sees a failure.
      (res as StreamingResponse).destroy?.(err instanceof Error ? err : new Error(String(err)));
    } finally {
      req.signal.removeEventListener('abort', onAbort);
    }
  };
}
