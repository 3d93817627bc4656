/**
 * Rate limits against HTTP/2 floods (RFC 9113 §10.5): counts events in fixed windows of time and
 * says when a count passes its cap. Used for client resets (CVE-2023-44487 "rapid reset") and for
 * control frames that cost the server work or output but carry no request: SETTINGS, PING,
 * PRIORITY, empty DATA (CVE-2019-9512, -9515, -9518).
 */
export class RateCounter {
  private windowStart = -Infinity;
  private count = 0;

  constructor(private readonly cap: number, private readonly windowMs: number) {}

  /** Counts one event at `now`; true when the window's count is now over the cap. */
  hit(now: number): boolean {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.count = 0;
    }
    this.count++;
    return this.count > this.cap;
  }
}
