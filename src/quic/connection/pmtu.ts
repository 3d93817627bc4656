/**
 * Datagram Packetization Layer PMTU Discovery for QUIC (RFC 9000 §14.3, RFC 8899): starting from
 * the 1200 bytes every QUIC path carries (§14), probe larger datagrams — PING plus PADDING, one at a
 * time — up to the smaller of our configured maximum and the peer's max_udp_payload_size (§18.2).
 * An acknowledged probe raises the datagram size; MAX_PROBES losses of one size make it the upper
 * bound (RFC 8899 §5.1.2). The search tries the maximum first (usually right on loopback and
 * Ethernet), then halves the interval. A lost probe is not a congestion signal (RFC 9000 §14.4):
 * the connection sends probes as packets that do not count in flight.
 */

/** RFC 9000 §14: the smallest datagram every QUIC path must carry. */
export const BASE_PLPMTU = 1200;
/** RFC 8899 §5.1.2: probes of one size lost before that size is given up. */
export const MAX_PROBES = 3;
/** Stop when the interval left is this small (bytes). */
const SEARCH_GRANULARITY = 16;

export class PmtuSearch {
  /** Largest size acknowledged: the datagram size in use. */
  current = BASE_PLPMTU;
  /** Smallest size known (or assumed) to fail; the search stays below it. */
  private failing: number;
  private inFlight: number | undefined;
  /** The size being tried; kept until acknowledged or lost MAX_PROBES times. */
  private target: number | undefined;
  private failures = 0;

  constructor(private limit: number) {
    this.failing = limit + 1;
  }

  /** The peer's max_udp_payload_size arrived (RFC 9000 §18.2): never probe above it. */
  capAt(limit: number): void {
    this.limit = Math.min(this.limit, limit);
    this.failing = Math.min(this.failing, this.limit + 1);
  }

  get done(): boolean {
    return this.failing - this.current <= SEARCH_GRANULARITY;
  }

  /** The size of the next probe to send now, or undefined (one in flight, or search over). */
  nextProbe(): number | undefined {
    if (this.inFlight !== undefined || this.done) return undefined;
    this.target ??= this.failing === this.limit + 1 ? this.limit : Math.floor((this.current + this.failing) / 2);
    this.inFlight = this.target;
    return this.target;
  }

  /** The probe of `size` was acknowledged: the path carries it. */
  onAcked(size: number): void {
    if (size > this.current) this.current = size;
    if (this.inFlight === size) this.inFlight = undefined;
    this.target = undefined;
    this.failures = 0;
  }

  /** The probe of `size` was lost. */
  onLost(size: number): void {
    if (this.inFlight === size) this.inFlight = undefined;
    if (++this.failures >= MAX_PROBES) {
      this.failing = Math.min(this.failing, size);
      this.target = undefined;
      this.failures = 0;
    }
  }
}
