/**
 * Zero-length connection IDs in the connection-ID sets (RFC 9000 §5.1, §5.1.1, §19.15, §19.16):
 * an endpoint that chose a zero-length ID issues no other and refuses RETIRE_CONNECTION_ID; an
 * endpoint whose peer chose one refuses NEW_CONNECTION_ID and has no other ID to move to.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LocalConnectionIds, PeerConnectionIds } from '../../src/quic/cid.js';
import { TransportError, TransportErrorCode } from '../../src/quic/errors.js';

const EMPTY = Buffer.alloc(0);
const token = (n: number) => Buffer.alloc(16, n);

function thrown(f: () => unknown): TransportError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(TransportError);
    return err as TransportError;
  }
  throw new Error('did not throw');
}

describe('a zero-length ID of ours (RFC 9000 §5.1.1, §19.16)', () => {
  function local() {
    let n = 0;
    const changes: [string, boolean][] = [];
    const ids = new LocalConnectionIds(() => Buffer.alloc(8, ++n), () => token(n), (cid, added) => changes.push([cid.toString('hex'), added]));
    return { ids, changes };
  }

  it('is the only ID issued, whatever the peer\'s active_connection_id_limit (§5.1.1, §18.2)', () => {
    const { ids } = local();
    ids.add(EMPTY);
    ids.peerLimit = 8;
    expect(ids.issueUpToLimit()).toEqual([]);
    expect(ids.all().map((i) => i.cid.length)).toEqual([0]);
  });

  it('makes any RETIRE_CONNECTION_ID a PROTOCOL_VIOLATION, even of sequence 0 from another DCID (§19.16)', () => {
    // Sequence 0 is the one ID issued; retiring it in a packet to another DCID is otherwise legal.
    const { ids } = local();
    ids.add(EMPTY);
    expect(thrown(() => ids.retire(0, Buffer.alloc(8, 1))).code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 30 }), fc.uint8Array({ maxLength: 20 }), (sequence, dcid) => {
        const { ids } = local();
        ids.add(EMPTY);
        const err = thrown(() => ids.retire(sequence, dcid));
        expect(err.code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
        expect(err.frameType).toBe(0x19);
        expect(ids.all()).toHaveLength(1);
      }),
      { numRuns: 200 },
    );
  });

  it('a non-zero first ID still issues up to the limit and takes retirements (the rule is about length 0 only)', () => {
    const { ids } = local();
    ids.add(Buffer.alloc(8, 0xaa));
    ids.peerLimit = 3;
    expect(ids.issueUpToLimit().map((i) => i.sequence)).toEqual([1, 2]);
    expect(ids.retire(1, Buffer.alloc(8, 0xaa))).toBe(true);
  });
});

describe('a zero-length ID of the peer (RFC 9000 §5.1.1, §9.5, §19.15)', () => {
  it('makes any NEW_CONNECTION_ID a PROTOCOL_VIOLATION, and nothing is added (§19.15)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 100 }), fc.nat({ max: 100 }), fc.uint8Array({ minLength: 1, maxLength: 20 }), (seq, prior, cid) => {
        const peer = new PeerConnectionIds(EMPTY, 8);
        const err = thrown(() => peer.onNewConnectionId(seq, Math.min(prior, seq), Buffer.from(cid), token(1)));
        expect(err.code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
        expect(err.frameType).toBe(0x18);
        expect(peer.dcid.length).toBe(0);
        expect(peer.toRetire).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('the client learns it from the server\'s first long header: a random first DCID, then the empty one (§7.2)', () => {
    const peer = new PeerConnectionIds(Buffer.alloc(8, 1), 8);
    expect(peer.zeroLength).toBe(false);
    peer.replaceInitial(EMPTY);
    expect(peer.zeroLength).toBe(true);
    expect(() => peer.onNewConnectionId(1, 0, Buffer.alloc(8, 2), token(2))).toThrow(TransportError);
  });

  it('leaves no other ID to move to on a new path: the empty DCID stays, nothing is retired (§5.1.1, §9.5)', () => {
    const peer = new PeerConnectionIds(EMPTY, 8);
    expect(peer.rotate()).toBe(false);
    expect(peer.dcid).toEqual(EMPTY);
    expect(peer.toRetire).toEqual([]); // §19.16: no RETIRE_CONNECTION_ID to a zero-length peer
  });

  it('still detects a stateless reset by the token a server gave for it (§10.3.1)', () => {
    const peer = new PeerConnectionIds(EMPTY, 8);
    const reset = Buffer.concat([Buffer.from([0x40, 1, 2, 3, 4, 5, 6]), token(9)]);
    expect(peer.isStatelessReset(reset)).toBe(false);
    peer.setInitialResetToken(token(9));
    expect(peer.isStatelessReset(reset)).toBe(true);
  });
});
