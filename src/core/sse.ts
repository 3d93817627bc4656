/**
 * Server-Sent Events (HTML Living Standard §9.2, "text/event-stream"): each event is a block of
 * `field: value` lines ended by a blank line; multi-line data becomes several `data:` lines; `id`
 * sets the client's last event ID, sent back as `Last-Event-ID` when it reconnects; `retry` sets the
 * reconnection delay; lines starting with `:` are comments (heartbeats keep proxies from timing out).
 */
import type { ServerRequest, ServerResponse } from './types.js';

export interface SseEvent {
  data: string;
  event?: string;
  id?: string | number;
  retry?: number;
}

export interface SseOptions {
  /** Sends a comment line this often so idle intermediaries keep the stream open; 0 = off. */
  heartbeatMs?: number;
  /** A `retry:` field sent first, telling the client how long to wait before reconnecting. */
  retry?: number;
  status?: number;
}

export interface SseStream {
  send(event: SseEvent): boolean;
  comment(text?: string): boolean;
  close(): Promise<void>;
  /** The `Last-Event-ID` of a reconnecting client, if it sent one. */
  readonly lastEventId: string | undefined;
}

const LINE_BREAK = /\r\n|\r|\n/;

/** Formats one event (pure, so it can be tested alone). */
export function formatEvent(e: SseEvent): string {
  let out = '';
  if (e.event !== undefined) out += `event: ${singleLine(e.event, 'event')}\n`;
  if (e.id !== undefined) {
    const id = singleLine(String(e.id), 'id');
    // §9.2.6: an id containing NUL is ignored by the client, so never send one.
    if (id.includes('\0')) throw new TypeError('SSE id must not contain NUL');
    out += `id: ${id}\n`;
  }
  if (e.retry !== undefined) out += `retry: ${Math.max(0, Math.floor(e.retry))}\n`;
  for (const line of e.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return out + '\n';
}

export function formatComment(text = ''): string {
  return text.split(LINE_BREAK).map((l) => `:${l ? ' ' + l : ''}\n`).join('') + '\n';
}

function singleLine(v: string, field: string): string {
  if (LINE_BREAK.test(v)) throw new TypeError(`SSE ${field} must be a single line`);
  return v;
}

/** Starts an event stream on `res`. Pass `req` to read `Last-Event-ID`. */
export function sse(res: ServerResponse, options: SseOptions & { req?: ServerRequest } = {}): SseStream {
  res.writeHead(options.status ?? 200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    // Tells buffering proxies (nginx) to pass events through at once.
    'x-accel-buffering': 'no',
  });
  if (options.retry !== undefined) res.write(`retry: ${Math.floor(options.retry)}\n\n`);
  res.flush();
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  const stop = (): void => {
    closed = true;
    if (timer) clearInterval(timer);
  };
  if (options.heartbeatMs && options.heartbeatMs > 0) {
    timer = setInterval(() => { res.write(formatComment()); }, options.heartbeatMs);
    timer.unref?.();
  }
  res.signal.addEventListener('abort', stop, { once: true });
  return {
    lastEventId: options.req?.headers.get('last-event-id'),
    send(e) {
      if (closed) return false;
      return res.write(formatEvent(e));
    },
    comment(text) {
      if (closed) return false;
      return res.write(formatComment(text));
    },
    close() {
      stop();
      return res.end();
    },
  };
}
