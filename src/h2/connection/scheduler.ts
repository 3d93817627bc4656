/**
 * Send scheduling for HTTP/2 DATA (RFC 9218 §4, §10; RFC 9113 §5.3): which stream's next frame goes
 * out. Lower urgency first; streams of equal urgency take turns, one frame each, so that a large
 * response cannot hold back the others. RFC 7540 priority trees are not used (RFC 9113 §5.3.2).
 *
 * Also the Priority field parser (RFC 9218 §4): `u=<0..7>` and `i` in a Structured Fields
 * dictionary (RFC 8941 §3.2), carried by the `priority` request header or PRIORITY_UPDATE (§7.1).
 */

/** RFC 9218 §4.1, §4.2: default urgency 3, not incremental. */
export interface Priority {
  urgency: number;
  incremental: boolean;
}

export const DEFAULT_PRIORITY: Readonly<Priority> = Object.freeze({ urgency: 3, incremental: false });
const LEVELS = 8;

/**
 * Parses a Priority field value over `base`. RFC 9218 §4: unknown parameters are ignored, and a
 * member with an invalid value is ignored as if absent (§4.1 "out of range ... MUST be ignored").
 */
export function parsePriority(value: string, base: Readonly<Priority> = DEFAULT_PRIORITY): Priority {
  const out: Priority = { ...base };
  for (const member of value.split(',')) {
    const eq = member.indexOf('=');
    const key = (eq < 0 ? member : member.slice(0, eq)).trim();
    const raw = eq < 0 ? '?1' : member.slice(eq + 1).split(';')[0]!.trim();
    if (key === 'u') {
      // RFC 9218 §4.1: an integer 0..7; anything else is ignored.
      if (/^[0-7]$/.test(raw)) out.urgency = Number(raw);
    } else if (key === 'i') {
      // RFC 9218 §4.2: a boolean (?1 / ?0; a bare key is true, RFC 8941 §3.2).
      if (raw === '?1') out.incremental = true;
      else if (raw === '?0') out.incremental = false;
    }
  }
  return out;
}

/** Streams with DATA ready to send, in one round-robin ring per urgency level. */
export class SendScheduler {
  private readonly rings: number[][] = Array.from({ length: LEVELS }, () => []);
  /** Ring index of each queued stream. */
  private readonly queued = new Map<number, number>();

  get size(): number {
    return this.queued.size;
  }

  has(streamId: number): boolean {
    return this.queued.has(streamId);
  }

  /** Puts a stream at the back of its urgency's ring (no-op when it is already queued). */
  add(streamId: number, urgency: number): void {
    if (this.queued.has(streamId)) return;
    const level = Math.min(LEVELS - 1, Math.max(0, urgency | 0));
    this.rings[level]!.push(streamId);
    this.queued.set(streamId, level);
  }

  remove(streamId: number): void {
    const level = this.queued.get(streamId);
    if (level === undefined) return;
    const ring = this.rings[level]!;
    const at = ring.indexOf(streamId);
    if (at >= 0) ring.splice(at, 1);
    this.queued.delete(streamId);
  }

  /** A queued stream's urgency changed (PRIORITY_UPDATE, RFC 9218 §7). */
  move(streamId: number, urgency: number): void {
    if (!this.queued.has(streamId)) return;
    this.remove(streamId);
    this.add(streamId, urgency);
  }

  /** Takes the next stream to send one frame for: the front of the most urgent non-empty ring. */
  next(): number | undefined {
    for (const ring of this.rings) {
      const id = ring.shift();
      if (id !== undefined) {
        this.queued.delete(id);
        return id;
      }
    }
    return undefined;
  }
}
