/**
 * The validation of the previously active path after an apparent migration (RFC 9000 §9.3.3).
 *
 * An off-path attacker that forwards copies of genuine packets can make a NAT rebinding appear
 * and so move the connection onto a path through itself. The defence: "In response to an
 * apparent migration, endpoints MUST validate the previously active path using a PATH_CHALLENGE
 * frame." The challenge makes the peer send on that path — an endpoint challenged on its active
 * path answers with a non-probing packet (§9.3.3 SHOULD) — and a non-probing packet from the old
 * address with a higher packet number moves the connection back (§9.3).
 *
 * This check runs beside the validation of the new address and changes nothing of it: its
 * outcome is only reported. If the path is viable but no longer used, the check succeeds with
 * probing packets only; if it is dead, the check times out (§9.3.3).
 *
 * Timing: a challenge goes out at once, then again, with new data (§8.2.1), each time the PTO of
 * the old path passes without a response, doubling like a PTO (§9.4: a path challenge timer
 * "SHOULD be set as described in Section 6.2.1 of [QUIC-RECOVERY] and MUST NOT be more
 * aggressive"); the check is abandoned at its deadline, three times the larger of that PTO and
 * the initial one (§8.2.4). Any of its challenges' data is accepted in a response (§8.2.3).
 *
 * Amplification (§8.1, §9.3.1): an old path that was itself never validated may receive at most
 * the budget it had left when the connection moved off it; `credit` counts it down.
 */
import type { PeerAddress } from './types.js';

/** Challenges of one check whose responses are still accepted (one per PTO: three within the deadline). */
const REMEMBERED_CHALLENGES = 4;

export class OldPathCheck {
  /** Data of the challenges sent, newest last (§8.2.3: any of them validates the path). */
  private readonly sent: Buffer[] = [];
  /** When the next challenge is due: at once until the first is sent. */
  private nextAt: number;
  private retries = 0;

  /**
   * `to`: the previously active address. `dcid`: the connection ID used on it (RFC 9000 §9.5: not
   * the one of the new path). `retireSequence`: that ID's sequence number, whose retirement waits
   * for the end of the check. `credit`: bytes that may still be sent to `to` (Infinity when it was
   * validated). `pto`: the old path's PTO period (ms). `deadline`: when the check is abandoned.
   * `adopted`: data of a challenge already on its way to `to` (its validation was underway).
   */
  constructor(
    readonly to: PeerAddress,
    readonly dcid: Buffer,
    readonly retireSequence: number | undefined,
    private credit: number,
    private readonly pto: number,
    readonly deadline: number,
    now: number,
    adopted?: Buffer,
  ) {
    this.nextAt = now;
    if (adopted !== undefined) {
      this.sent.push(adopted);
      this.nextAt = now + pto;
    }
  }

  /** The earlier of the next challenge's time and the deadline (for nextTimeout()). */
  get nextTimeout(): number {
    return Math.min(this.nextAt, this.deadline);
  }

  /**
   * Whether a challenge of `size` bytes is due at `now` and fits the old path's credit. One that
   * no longer fits never will (nothing is received on that path now): the check then only waits
   * for a response or its deadline.
   */
  due(now: number, size: number): boolean {
    if (now < this.nextAt || now >= this.deadline) return false;
    if (this.credit >= size) return true;
    this.nextAt = Infinity;
    return false;
  }

  /** Bytes the old path may still receive (Infinity once it was validated). */
  get room(): number {
    return this.credit;
  }

  /**
   * A challenge with `data` goes out at `now` in a datagram of `bytes`: the next one waits one PTO
   * more than this one did (RFC 9002 §6.2.1 backoff).
   */
  onSent(data: Buffer, bytes: number, now: number): void {
    this.sent.push(data);
    if (this.sent.length > REMEMBERED_CHALLENGES) this.sent.shift();
    this.credit -= bytes;
    this.nextAt = now + this.pto * 2 ** this.retries++;
  }

  /** Whether a PATH_RESPONSE with `data` answers one of this check's challenges. */
  matches(data: Uint8Array): boolean {
    return this.sent.some((d) => d.equals(data));
  }

  /** RFC 9000 §8.2.4: abandoned once its deadline passed. */
  expired(now: number): boolean {
    return now >= this.deadline;
  }
}
