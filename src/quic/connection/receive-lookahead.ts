/**
 * The datagrams a driver received in one event-loop turn, shown to the connections while the
 * driver hands them to the router one at a time (endpoint.ts), so that a connection can compute
 * the header protection masks of the ones that follow in one cipher call (RFC 9001 §5.4;
 * PrefetchedMasks in crypto/packet-protection.ts) instead of one call per packet.
 *
 * A connection only reads it, and only to guess which later datagrams are its own: a guess that
 * does not come true costs the work, never a wrong result, because a mask is used only for the
 * very packet, key and sample it was computed for. Outside a batch it is empty.
 */
export const receiveLookahead = {
  /** This batch's datagrams in arrival order; empty outside a batch. */
  datagrams: [] as readonly Buffer[],
  /** Position in `datagrams` of the datagram being handed over now. */
  index: 0,
  /** Changes with every batch, so that a connection can tell a new batch from the same one. */
  generation: 0,
  /** What connections computed ahead in this batch; forgotten when it ends (see receiveBatch). */
  prefetched: [] as { forget(): void }[],
};

/**
 * Runs `receive(datagram, i)` for each datagram in order with the batch shown in `receiveLookahead`,
 * and empties it afterwards (even when `receive` throws), with the masks connections computed
 * ahead, so that no datagram outlives its batch there.
 */
export function receiveBatch(datagrams: readonly Buffer[], receive: (datagram: Buffer, index: number) => void): void {
  const ahead = receiveLookahead;
  ahead.datagrams = datagrams;
  ahead.generation++;
  try {
    for (let i = 0; i < datagrams.length; i++) {
      ahead.index = i;
      receive(datagrams[i]!, i);
    }
  } finally {
    ahead.datagrams = [];
    ahead.index = 0;
    // A mask computed for a datagram that never reached its connection (dropped before header
    // protection, or routed elsewhere) would keep that datagram alive until the connection's next batch.
    const prefetched = ahead.prefetched;
    for (let i = 0; i < prefetched.length; i++) prefetched[i]!.forget();
    prefetched.length = 0;
  }
}
