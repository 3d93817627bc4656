import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LocalConnectionIds, PeerConnectionIds, resetTokenDeriver, statelessResetToken } from '../../src/quic/cid.js';
import { TransportErrorCode } from '../../src/quic/errors.js';

const cid = (n: number) => Buffer.alloc(8, n);
const token = (n: number) => Buffer.alloc(16, n);

describe('stateless reset tokens (RFC 9000 §10.3.2)', () => {
  it('are 16 bytes, a function of key and connection ID only', () => {
    const key = Buffer.alloc(32, 1);
    expect(statelessResetToken(key, cid(1))).toHaveLength(16);
    expect(statelessResetToken(key, cid(1))).toEqual(statelessResetToken(key, cid(1)));
    expect(statelessResetToken(key, cid(1))).not.toEqual(statelessResetToken(key, cid(2)));
    expect(statelessResetToken(Buffer.alloc(32, 2), cid(1))).not.toEqual(statelessResetToken(key, cid(1)));
  });

  it('are HMAC-SHA256(key, connection ID) truncated to 16 bytes, with node:crypto as the oracle', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 80 }), fc.uint8Array({ maxLength: 20 }), (key, id) => {
        const expected = createHmac('sha256', key).update(id).digest().subarray(0, 16);
        expect(statelessResetToken(key, id).equals(expected)).toBe(true);
        expect(statelessResetToken(key, id).equals(expected)).toBe(true); // again, with the key prepared
      }),
      { numRuns: 300 },
    );
  });

  it('follow a key changed in place (the prepared key is not kept past a change)', () => {
    const key = Buffer.alloc(32, 1);
    const before = statelessResetToken(key, cid(1));
    key.fill(2);
    expect(statelessResetToken(key, cid(1))).toEqual(statelessResetToken(Buffer.alloc(32, 2), cid(1)));
    expect(statelessResetToken(key, cid(1))).not.toEqual(before);
  });
});

describe('a connection\'s reset token deriver (RFC 9000 §10.3.2, §19.15)', () => {
  it('gives statelessResetToken\'s tokens for any key and connection ID', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 80 }), fc.array(fc.uint8Array({ maxLength: 20 }), { minLength: 1, maxLength: 4 }), (key, ids) => {
        const derive = resetTokenDeriver(key);
        for (const id of ids) expect(derive(id).equals(statelessResetToken(key, id))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the key as it was at its first token: an ID never gets a second token (§19.15)', () => {
    const key = Buffer.alloc(32, 1);
    const derive = resetTokenDeriver(key);
    const first = derive(cid(1));
    key.fill(2); // changed in place afterwards
    expect(derive(cid(1))).toEqual(first);
    expect(derive(cid(2))).toEqual(statelessResetToken(Buffer.alloc(32, 1), cid(2)));
    // A deriver made before any token takes the key as it is at its first one.
    const later = resetTokenDeriver(key);
    expect(later(cid(1))).toEqual(statelessResetToken(Buffer.alloc(32, 2), cid(1)));
  });
});

describe('connection IDs we issue (RFC 9000 §5.1.1, §19.16)', () => {
  function local() {
    let n = 0;
    const changes: string[] = [];
    const ids = new LocalConnectionIds(() => cid(++n), (c) => token(c[0]!), (c, added) => changes.push(`${added ? '+' : '-'}${c[0]}`));
    ids.add(cid(0));
    return { ids, changes };
  }

  it('issues up to the peer active_connection_id_limit', () => {
    const { ids, changes } = local();
    expect(ids.issueUpToLimit()).toHaveLength(1); // default limit 2
    ids.peerLimit = 4;
    expect(ids.issueUpToLimit().map((i) => i.sequence)).toEqual([2, 3]);
    expect(ids.issueUpToLimit()).toHaveLength(0);
    expect(changes).toEqual(['+0', '+1', '+2', '+3']);
  });

  it('derives a reset token only when it is asked for, once, and the token it would have derived', () => {
    let calls = 0;
    const ids = new LocalConnectionIds(() => cid(9), (c) => (calls++, token(c[0]!)));
    const first = ids.add(cid(3));
    // A client never sends the token of its first ID (RFC 9000 §18.2: stateless_reset_token is the server's).
    expect(calls).toBe(0);
    expect(first.resetToken).toEqual(token(3));
    expect(first.resetToken).toBe(first.resetToken);
    expect(calls).toBe(1);
    // IDs sent in NEW_CONNECTION_ID carry theirs (§19.15), the same whichever way they are read.
    const [second] = ids.issueUpToLimit();
    expect(ids.get(second!.sequence)!.resetToken).toEqual(token(9));
    expect(ids.all().map((i) => i.resetToken)).toEqual([token(3), token(9)]);
    expect(calls).toBe(2);
  });

  it('retiring a sequence never issued, or the ID in use by this packet, is a PROTOCOL_VIOLATION', () => {
    const { ids } = local();
    ids.issueUpToLimit();
    expect(() => ids.retire(5, cid(0))).toThrow(expect.objectContaining({ code: TransportErrorCode.PROTOCOL_VIOLATION }));
    expect(() => ids.retire(1, cid(1))).toThrow(expect.objectContaining({ code: TransportErrorCode.PROTOCOL_VIOLATION }));
    expect(ids.retire(1, cid(0))).toBe(true);
    expect(ids.retire(1, cid(0))).toBe(false); // already retired: ignored
  });
});

describe('connection IDs the peer issued (RFC 9000 §5.1, §19.15)', () => {
  it('enforces our active_connection_id_limit', () => {
    const peer = new PeerConnectionIds(cid(0), 2);
    peer.onNewConnectionId(1, 0, cid(1), token(1));
    expect(() => peer.onNewConnectionId(2, 0, cid(2), token(2))).toThrow(expect.objectContaining({ code: TransportErrorCode.CONNECTION_ID_LIMIT_ERROR }));
  });

  it('retire_prior_to retires older IDs and moves to a newer one', () => {
    const peer = new PeerConnectionIds(cid(0), 4);
    peer.onNewConnectionId(1, 0, cid(1), token(1));
    peer.onNewConnectionId(2, 2, cid(2), token(2));
    expect(peer.toRetire.sort()).toEqual([0, 1]);
    expect(peer.dcid).toEqual(cid(2));
    // A late frame below retire_prior_to is retired at once.
    peer.onNewConnectionId(1, 0, cid(9), token(9));
    expect(peer.toRetire).toContain(1);
  });

  it('the same sequence number with different content is a PROTOCOL_VIOLATION; a repeat is fine', () => {
    const peer = new PeerConnectionIds(cid(0), 4);
    peer.onNewConnectionId(1, 0, cid(1), token(1));
    peer.onNewConnectionId(1, 0, cid(1), token(1));
    expect(() => peer.onNewConnectionId(1, 0, cid(7), token(1))).toThrow(expect.objectContaining({ code: TransportErrorCode.PROTOCOL_VIOLATION }));
  });

  it('recognises a stateless reset by its last 16 bytes, and nothing else', () => {
    const peer = new PeerConnectionIds(cid(0), 4);
    peer.setInitialResetToken(token(5));
    const reset = Buffer.concat([Buffer.from([0x45, 1, 2, 3, 4, 5, 6]), token(5)]);
    expect(peer.isStatelessReset(reset)).toBe(true);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      const b = Buffer.from(bytes);
      expect(peer.isStatelessReset(b)).toBe(b.length >= 21 && b.subarray(b.length - 16).equals(token(5)));
    }), { numRuns: 300 });
  });
});
