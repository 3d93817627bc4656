/**
 * Persistent congestion (RFC 9002 §7.6): the loss of every packet sent over a long enough period.
 * The duration, and the test over a batch of lost packets given which send times were
 * acknowledged across all packet number spaces.
 */
import type { RttSnapshot } from './rtt.js';
import { GRANULARITY } from './rtt.js';
import type { SentPacket } from './sent-packets.js';

/** RFC 9002 §7.6.1: kPersistentCongestionThreshold. */
export const PERSISTENT_CONGESTION_THRESHOLD = 3;

/** RFC 9002 §7.6.1: (smoothed_rtt + max(4×rttvar, kGranularity) + max_ack_delay) × 3. */
export function persistentCongestionDuration(rtt: RttSnapshot, maxAckDelay: number): number {
  return (rtt.smoothedRtt + Math.max(4 * rtt.rttvar, GRANULARITY) + maxAckDelay) * PERSISTENT_CONGESTION_THRESHOLD;
}

/**
 * Send times of acknowledged packets that were sent after some packet still outstanding, across
 * all spaces, sorted ascending. Only those can break a run of lost packets (RFC 9002 §7.6.2), so
 * older times are pruned and the list stays as small as the reordering it records.
 */
export class AckedSendTimes {
  private times: number[] = [];

  add(timeSent: number): void {
    const times = this.times;
    if (times.length === 0 || timeSent >= times[times.length - 1]!) {
      times.push(timeSent);
      return;
    }
    times.splice(firstAbove(times, timeSent), 0, timeSent);
  }

  /** Forgets times before `oldestOutstanding` (or all when nothing is outstanding). */
  prune(oldestOutstanding: number | undefined): void {
    if (oldestOutstanding === undefined) {
      this.times.length = 0;
      return;
    }
    let drop = 0;
    while (drop < this.times.length && this.times[drop]! < oldestOutstanding) drop++;
    if (drop > 0) this.times.splice(0, drop);
  }

  /** Whether an acknowledged packet was sent strictly between `from` and `to`. */
  anyBetween(from: number, to: number): boolean {
    const i = firstAbove(this.times, from);
    return i < this.times.length && this.times[i]! < to;
  }

  get size(): number {
    return this.times.length;
  }
}

/** Index of the first element greater than `value` in an ascending array. */
function firstAbove(values: readonly number[], value: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * RFC 9002 §7.6.2: persistent congestion is established when two ack-eliciting packets in flight
 * declared lost were both sent after the first RTT sample, more than `duration` apart, and no packet sent
 * between them (in any space) was acknowledged. `lost` is the batch just declared lost, in send
 * order; losses declared in earlier batches are not combined (as in RFC 9002 Appendix B.8).
 */
export function inPersistentCongestion(
  lost: readonly SentPacket<unknown>[],
  firstRttSampleTime: number | undefined,
  duration: number,
  acked: AckedSendTimes,
): boolean {
  // RFC 9002 §7.6.2: needs a prior RTT sample when the packets were sent.
  if (firstRttSampleTime === undefined) return false;
  let runStart: SentPacket<unknown> | undefined;
  let previous: SentPacket<unknown> | undefined;
  for (const packet of lost) {
    // RFC 9002 §7.6.2: only ack-eliciting packets; the receiver need not promptly ACK others. And
    // only packets counted in flight: the sender keeps out of flight what must cause no congestion
    // reaction when lost, such as DPLPMTUD probes (RFC 9000 §14.4).
    if (!packet.ackEliciting || !packet.inFlight || packet.timeSent <= firstRttSampleTime) continue;
    if (runStart === undefined || previous === undefined || acked.anyBetween(previous.timeSent, packet.timeSent)) {
      runStart = packet;
    } else if (packet.timeSent - runStart.timeSent > duration) {
      return true;
    }
    previous = packet;
  }
  return false;
}
