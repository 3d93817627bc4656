/**
 * Runs a handler for one request on any protocol, so that every protocol treats a failing handler the
 * same way: an exception before the head is sent becomes a 500; after it, the stream is reset (a
 * truncated body must never look like a complete one).
 */
import type { StreamingResponse } from './response.js';
import type { Handler, ServerRequest } from './types.js';

export type ErrorReporter = (err: unknown, req: ServerRequest) => void;

export const defaultErrorReporter: ErrorReporter = (err, req) => {
  console.error(`h123: handler failed for ${req.method} ${req.path}:`, err);
};

export function runHandler(handler: Handler, req: ServerRequest, res: StreamingResponse, report: ErrorReporter = defaultErrorReporter): void {
  let result: void | Promise<void>;
  try {
    result = handler(req, res);
  } catch (err) {
    fail(err);
    return;
  }
  if (result && typeof (result as Promise<void>).then === 'function') (result as Promise<void>).then(undefined, fail);

  function fail(err: unknown): void {
    if (req.signal.aborted) return; // the client is gone; the failure is a consequence
    report(err, req);
    res.destroy(err instanceof Error ? err : new Error(String(err)));
  }
}
