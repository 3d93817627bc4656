/**
 * Datagram Packetization Layer PMTU Discovery for QUIC (RFC 9000 §14.3, RFC 8899): starting from
 * the 1200 bytes every QUIC path carries (§14), probe larger datagrams — PING plus PADDING, one at a
 * time — up to the smaller of our configured maximum and the peer's max_udp_payload_size (§18.2).
 * An acknowledged probe raises the datagram size; MAX_PROBES losses of one size make it the upper
 * bound (RFC 8899 §5.1.2). A lost probe is not a congestion signal (RFC 9000 §14.4): the connection
 * sends probes as packets that do not count in flight.
 *
 * The search (RFC 8899 §5.3.1 lets it choose any size after a lost probe): the maximum first
 * (usually right on loopback and Ethernet), and after a loss the common datagram sizes below it
 * that were not tried yet, largest first; then the lost sizes are retried up to MAX_PROBES, smallest
 * first, and the interval left is halved. On IPv4 loopback with a 65,527-byte maximum (an IPv6
 * figure) the size in use is 65,507 after two probes instead of a dozen round trips of bisection,
 * during which every packet of a transfer is small.
 *
 * Black holes (RFC 8899 §4.3, §5.2): the connection detects that packets of the size in use no
 * longer arrive and calls onBlackHole(); the search falls back to BASE_PLPMTU and starts again.
 *
 * Raising (RFC 8899 §5.1.1 PMTU_RAISE_TIMER, §5.2 Search Complete → Searching): a search that ended
 * below the maximum because larger sizes were lost is run again PMTU_RAISE_TIMER after it ended —
 * the path may carry more by then. One that ended at the maximum has nothing above it to find.
 *
 * Paths (RFC 9000 §14, RFC 8899 §5.2): a search belongs to one pair of local and remote IP
 * addresses; forNewPath() gives the search for another pair, which starts from BASE_PLPMTU.
 *
 * Probe loss (RFC 8899 §4.4, §5.1.1, §5.3.1): a probe is lost when QUIC's loss detection declares
 * its packet lost (RFC 9002 §6.1), or when PROBE_TIMER expires first. Loss detection needs later
 * packets to be acknowledged, so a probe sent after the last data of a transfer would otherwise
 * never be found lost and the search would stall; the timer counts it lost and the next probe
 * goes out. Each probe is counted once, whichever comes first; a probe acknowledged after it was
 * counted lost still proves its size (RFC 8899 §4.1: the acknowledgment is the confirmation).
 */

/** RFC 9000 §14: the smallest datagram every QUIC path must carry. */
export const BASE_PLPMTU = 1200;
/** RFC 8899 §5.1.2: probes of one size lost before that size is given up. */
export const MAX_PROBES = 3;
/**
 * RFC 8899 §5.1.1: how long a completed search keeps its size before it probes for a larger one
 * (600 s, as RFC 4821 recommends; RFC 8899 sets no lower bound), in ms.
 */
export const PMTU_RAISE_TIMER = 600_000;
/**
 * RFC 8899 §5.1.1: PROBE_TIMER "MUST NOT be smaller than 1 second and SHOULD be larger than 15
 * seconds" (BCP 145 §3.1.1), in ms.
 */
export const PROBE_TIMER = 20_000;
/** RFC 8899 §5.1.1: the smallest PROBE_TIMER allowed, in ms. */
export const MIN_PROBE_TIMER = 1_000;
/** Stop when the interval left is this small (bytes). */
const SEARCH_GRANULARITY = 16;

/**
 * UDP payloads of common paths, tried after a lost probe (largest first, only below the sizes
 * lost): the largest IPv4 datagram (65,535 − 20 − 8, e.g. IPv4 loopback), a 9,000-byte MTU over
 * IPv4 and IPv6, a 1,500-byte MTU over IPv4 (1,452 over IPv6 is the default maximum).
 */
export const COMMON_SIZES: readonly number[] = [65_507, 8_972, 8_952, 1_472];

export class PmtuSearch {
  /** Largest size acknowledged: the datagram size in use. */
  current = BASE_PLPMTU;
  /** Smallest size known (or assumed) to fail; the search stays below it. */
  private failing: number;
  /** The probe awaiting its acknowledgment: its size, packet number and when it was sent. */
  private inFlight: { size: number; id: number | undefined; sentAt: number } | undefined;
  /** Probes lost per size, until the size is acknowledged or given up. */
  private readonly losses = new Map<number, number>();
  /** When the search ended below the maximum (Search Complete with PMTU_RAISE_TIMER running). */
  private completedAt: number | undefined = undefined;

  /** `raiseTimer`: PMTU_RAISE_TIMER, `probeTimer`: PROBE_TIMER, in ms (RFC 8899 §5.1.1). */
  constructor(private limit: number, private readonly raiseTimer = PMTU_RAISE_TIMER, private readonly probeTimer = PROBE_TIMER) {
    if (!(raiseTimer > 0)) throw new RangeError(`PMTU_RAISE_TIMER ${raiseTimer} ms is not positive`);
    // RFC 8899 §5.1.1: PROBE_TIMER MUST NOT be smaller than 1 second.
    if (!(probeTimer >= MIN_PROBE_TIMER)) throw new RangeError(`PROBE_TIMER ${probeTimer} ms is under ${MIN_PROBE_TIMER} ms`);
    this.failing = limit + 1;
  }

  /**
   * The search for a new path (RFC 9000 §14: a size per pair of local and remote IP addresses):
   * the same limits, from BASE_PLPMTU.
   */
  forNewPath(): PmtuSearch {
    return new PmtuSearch(this.limit, this.raiseTimer, this.probeTimer);
  }

  /** The peer's max_udp_payload_size arrived (RFC 9000 §18.2): never probe above it. */
  capAt(limit: number): void {
    this.limit = Math.min(this.limit, limit);
    this.failing = Math.min(this.failing, this.limit + 1);
  }

  get done(): boolean {
    return this.failing - this.current <= SEARCH_GRANULARITY;
  }

  /** Whether a probe would be sent now (none in flight, search not over). */
  get wantsProbe(): boolean {
    return this.inFlight === undefined && !this.done;
  }

  /**
   * The size of the probe to send now, or undefined (one in flight, or search over). `id` names
   * the probe (its packet number) in onAcked/onLost; `now` starts its PROBE_TIMER.
   */
  nextProbe(now = 0, id?: number): number | undefined {
    if (!this.wantsProbe) return undefined;
    const size = this.nextSize();
    this.inFlight = { size, id, sentAt: now };
    return size;
  }

  /**
   * RFC 8899 §5.1.1: when the PROBE_TIMER of the probe in flight expires, or undefined when none
   * is in flight.
   */
  get probeDeadline(): number | undefined {
    return this.inFlight === undefined ? undefined : this.inFlight.sentAt + this.probeTimer;
  }

  /**
   * RFC 8899 §5.3.1: PROBE_TIMER expired before the probe was acknowledged: it "has failed to
   * confirm the PROBED_SIZE"; PROBE_COUNT grows and the next probe may go. Nothing before the
   * deadline. Returns the size counted lost, if any.
   */
  onProbeTimer(now: number): number | undefined {
    const probe = this.inFlight;
    const deadline = this.probeDeadline;
    if (probe === undefined || deadline === undefined || now < deadline) return undefined;
    this.countLoss(probe.size, now);
    return probe.size;
  }

  /**
   * The probe of `size` (named `id` when sent with one) was acknowledged at `now`: the path carries
   * it, even if the probe was counted lost before (its timer expired, RFC 8899 §5.1.1): the size
   * is no longer assumed to fail.
   */
  onAcked(size: number, now: number, id?: number): void {
    if (size > this.current) this.current = size;
    if (this.failing <= size) this.failing = size + 1;
    if (this.inFlight !== undefined && (id === undefined ? this.inFlight.size === size : this.inFlight.id === id)) this.inFlight = undefined;
    // Losses of sizes up to the one acknowledged were not the path's limit.
    for (const lost of this.losses.keys()) if (lost <= size) this.losses.delete(lost);
    this.noteCompletion(now);
  }

  /**
   * The probe of `size` was found lost at `now` by loss detection. A probe named `id` counts only
   * while it is the one in flight: one whose PROBE_TIMER already counted it, or one of a search
   * that has started over since (onBlackHole), is not counted again.
   */
  onLost(size: number, now: number, id?: number): void {
    if (id !== undefined && this.inFlight?.id !== id) return;
    this.countLoss(size, now);
  }

  /** RFC 8899 §5.1.2: a failed probe of `size`; MAX_PROBES of them make it the upper bound. */
  private countLoss(size: number, now: number): void {
    if (this.inFlight?.size === size) this.inFlight = undefined;
    const losses = (this.losses.get(size) ?? 0) + 1;
    this.losses.set(size, losses);
    if (losses >= MAX_PROBES) {
      this.failing = Math.min(this.failing, size);
      this.losses.delete(size);
    }
    this.noteCompletion(now);
  }

  /**
   * RFC 8899 §5.1.1: when PMTU_RAISE_TIMER expires, or undefined while searching or when the search
   * ended at the maximum.
   */
  get raiseDeadline(): number | undefined {
    return this.completedAt === undefined ? undefined : this.completedAt + this.raiseTimer;
  }

  /**
   * RFC 8899 §5.2: PMTU_RAISE_TIMER expired (nothing happens before the deadline): Search Complete →
   * Searching, from the size in use up to the maximum, with no size assumed to fail any more.
   */
  onRaiseTimer(now: number): void {
    const deadline = this.raiseDeadline;
    if (deadline === undefined || now < deadline) return;
    this.completedAt = undefined;
    this.failing = this.limit + 1;
    this.losses.clear();
  }

  /** RFC 8899 §5.2: entering Search Complete below the maximum starts PMTU_RAISE_TIMER. */
  private noteCompletion(now: number): void {
    if (this.completedAt === undefined && this.done && this.failing <= this.limit) this.completedAt = now;
  }

  /**
   * RFC 8899 §4.3, §5.2 (Search Complete or Searching → Base → Searching): packets of the size in
   * use are being lost while smaller ones arrive. The size in use falls back to BASE_PLPMTU and the
   * whole search runs again, from our maximum down: the signal can also come from a path that lost
   * everything for a while (RFC 8899 §4.3 allows for such false alarms), and on a path that still
   * carries the old size its first probe restores it.
   */
  onBlackHole(): void {
    this.current = BASE_PLPMTU;
    this.failing = this.limit + 1;
    this.inFlight = undefined;
    this.losses.clear();
    this.completedAt = undefined;
  }

  /** Untried candidates first, then retries of the smallest lost size, then the halfway point. */
  private nextSize(): number {
    const within = (size: number): boolean => size > this.current && size < this.failing;
    if (within(this.limit) && !this.losses.has(this.limit)) return this.limit;
    let smallestLost = Infinity;
    for (const size of this.losses.keys()) if (within(size) && size < smallestLost) smallestLost = size;
    // Common sizes only below a size already lost: an untried one above it would fail too.
    for (const size of COMMON_SIZES) if (within(size) && size < smallestLost && !this.losses.has(size)) return size;
    if (smallestLost !== Infinity) return smallestLost;
    return Math.floor((this.current + this.failing) / 2);
  }
}
