/**
 * The one timer a connection driver keeps for its sans-I/O connection's nextTimeout(). A timer due
 * no later than a new deadline is kept rather than re-armed: firing early is harmless (the
 * connection's handleTimeout checks each deadline, and the driver arms again), and keep-alive
 * deadlines move later with every request, so this saves a clearTimeout/setTimeout pair per request.
 */
export class DeadlineTimer {
  private timer: NodeJS.Timeout | null = null;
  private at = 0;

  /** `onDue(now)` runs when the deadline passes (the driver then calls handleTimeout and pumps). */
  constructor(private readonly onDue: (now: number) => void) {}

  arm(at: number): void {
    if (this.timer && this.at <= at) return;
    this.clear();
    this.at = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onDue(Date.now());
    }, Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  clear(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}
