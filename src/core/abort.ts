/**
 * Abort state for one request, with the AbortSignal made only when someone asks for it. Most
 * requests complete without anyone looking at `req.signal`; an AbortController and its EventTarget
 * per request were the largest single cost of a small HTTP/1.1 response, so they are made lazily.
 * A signal made after the abort is already aborted, so handlers see the same thing either way.
 */
export class AbortState {
  private controller: AbortController | null = null;
  /** A signal owned by someone else that this state follows (see fromSignal). */
  private external: AbortSignal | null = null;
  /** The first listener (usually the only one: the response's), then any others in order. */
  private listener: ((reason: unknown) => void) | null = null;
  private listeners: ((reason: unknown) => void)[] | null = null;
  aborted = false;
  reason: unknown = undefined;

  /** Follows an existing signal (protocols that already hold an AbortController). */
  static fromSignal(signal: AbortSignal): AbortState {
    const state = new AbortState();
    state.external = signal;
    if (signal.aborted) state.abort(signal.reason);
    else signal.addEventListener('abort', () => state.abort(signal.reason), { once: true });
    return state;
  }

  get signal(): AbortSignal {
    if (this.external) return this.external;
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    const first = this.listener;
    const listeners = this.listeners;
    this.listener = null;
    this.listeners = null;
    if (first) first(reason);
    if (listeners) for (const l of listeners) l(reason);
  }

  /** Runs `listener` once on abort (without creating the signal). */
  onAbort(listener: (reason: unknown) => void): void {
    if (this.aborted) return;
    if (this.listener === null) this.listener = listener;
    else (this.listeners ??= []).push(listener);
  }
}
