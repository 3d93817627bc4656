/**
 * RFC 9000 §8.1.2: a client Initial with an invalid Retry token, otherwise valid, is answered at
 * once with CONNECTION_CLOSE INVALID_TOKEN in an Initial packet — no connection state, no second
 * Retry — and an Initial that does not even open gets nothing.
 */
import { describe, expect, it } from 'vitest';
import type { ConnectionEvent } from '../../../src/quic/connection.js';
import { buildInvalidTokenClose, initialOpens } from '../../../src/quic/connection/stateless-close.js';
import { initialProtectors } from '../../../src/quic/crypto/protector.js';
import { unprotectPacket } from '../../../src/quic/crypto/packet-protection.js';
import { TransportErrorCode } from '../../../src/quic/errors.js';
import { readFrame } from '../../../src/quic/frames/decode.js';
import { parsePacketHeader, type LongHeader } from '../../../src/quic/packet/header.js';
import { Reader } from '../../../src/quic/varint.js';
import { Pair, START } from '../sim/harness.js';

const closedOf = (events: ConnectionEvent[]) => events.find((e) => e.type === 'closed') as Extract<ConnectionEvent, { type: 'closed' }> | undefined;
const isRetry = (d: Buffer): boolean => (d[0]! & 0xf0) === 0xf0;

describe('invalid Retry token (RFC 9000 §8.1.2)', () => {
  it('an expired Retry token closes the client at once with INVALID_TOKEN, and the server keeps no connection', () => {
    // Tokens older than 1 ms are expired; the simulated link takes 10 ms each way.
    const pair = new Pair({ server: { retry: true }, serverRouter: { retryTokenLifetimeMs: 1 } });
    expect(pair.run(() => closedOf(pair.clientEvents) !== undefined, 5000)).toBe(true);
    const error = closedOf(pair.clientEvents)!.error;
    expect(error).toMatchObject({ code: TransportErrorCode.INVALID_TOKEN, application: false, source: 'peer' });
    expect(pair.serverRouter.connections.size).toBe(0);
    // One Retry, then the close: never a second Retry (the client would ignore it, §17.2.5.2).
    expect(pair.serverSent.filter((d) => isRetry(d.data))).toHaveLength(1);
    // It came within about one round trip of the Retry, not after a handshake timeout.
    expect(pair.now - START).toBeLessThan(200);
  });

  it('the close is an Initial the client can open: CONNECTION_CLOSE 0x1c with INVALID_TOKEN to its SCID', () => {
    const pair = new Pair({ server: { retry: true }, serverRouter: { retryTokenLifetimeMs: 1 } });
    pair.run(() => pair.serverSent.length >= 2, 5000);
    const close = pair.serverSent[1]!.data;
    const header = parsePacketHeader(close, 0, { shortDcidLength: 8, receiver: 'client' }) as LongHeader;
    expect(header.type).toBe('initial');
    // Protected with the keys of the DCID the client chose after the Retry (RFC 9001 §5.2).
    const clientInitial = parsePacketHeader(pair.clientSent[1]!, 0, { shortDcidLength: 8, receiver: 'server' }) as LongHeader;
    expect(header.dcid.equals(clientInitial.scid)).toBe(true);
    const keys = initialProtectors(header.version, clientInitial.dcid);
    const opened = unprotectPacket(keys.server, close.subarray(0, header.end), header.pnOffset, (pn) => pn)!;
    expect(opened).not.toBeNull();
    const frame = readFrame(new Reader(opened.payload));
    expect(frame).toMatchObject({ type: 'connection_close', errorCode: TransportErrorCode.INVALID_TOKEN });
  });

  it('an Initial with a Retry token that does not open with its Initial keys gets no answer', () => {
    const pair = new Pair({ server: { retry: true }, serverRouter: { retryTokenLifetimeMs: 1 } });
    pair.run(() => pair.clientSent.length >= 2, 5000);
    const second = Buffer.from(pair.clientSent[1]!);
    const header = parsePacketHeader(second, 0, { shortDcidLength: 8, receiver: 'server' }) as LongHeader;
    expect(initialOpens(second, header)).toBe(true);
    second[header.end - 1]! ^= 1; // one flipped bit in the AEAD tag
    expect(initialOpens(second, header)).toBe(false);
    const sentBefore = pair.serverSent.length;
    const droppedBefore = pair.serverRouter.dropped;
    pair.serverRouter.receive(second, pair.clientAddr, pair.now);
    expect(pair.serverRouter.transmit(pair.now)).toHaveLength(0);
    expect(pair.serverRouter.dropped).toBe(droppedBefore + 1);
    expect(pair.serverSent.length).toBe(sentBefore);
  });

  it('the close is never larger than the Initial it answers (RFC 9000 §8: no amplification)', () => {
    const pair = new Pair({ server: { retry: true }, serverRouter: { retryTokenLifetimeMs: 1 } });
    pair.run(() => pair.clientSent.length >= 2, 5000);
    const header = parsePacketHeader(pair.clientSent[1]!, 0, { shortDcidLength: 8, receiver: 'server' }) as LongHeader;
    const close = buildInvalidTokenClose(header, Buffer.alloc(8, 7));
    expect(close.length).toBeLessThan(100);
  });
});
