/**
 * The router's admission rules (RFC 9000 §5.2.2, §7.2, §14.1) and limits (DEFAULT_LIMITS
 * maxQuicConnections, maxQuicHandshakes): a server creates connections only from acceptable
 * Initials and never more than it is allowed to hold.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionRouter, MAX_REFUSALS_PER_SECOND } from '../../../src/quic/connection/router.js';
import { initialProtectors } from '../../../src/quic/crypto/protector.js';
import { unprotectPacket } from '../../../src/quic/crypto/packet-protection.js';
import { TransportErrorCode } from '../../../src/quic/errors.js';
import { readFrame } from '../../../src/quic/frames/decode.js';
import { parsePacketHeader, type LongHeader } from '../../../src/quic/packet/header.js';
import { Reader } from '../../../src/quic/varint.js';
import { CA, CERT, CLIENT_ADDR, KEY, Pair, SERVER_ADDR, seededBytes, START } from '../sim/harness.js';

function clientInitials(n: number): Buffer[] {
  const clients = new ConnectionRouter({ random: seededBytes('many-clients') });
  for (let i = 0; i < n; i++) clients.connect(SERVER_ADDR, { serverName: 'localhost', alpn: ['h3'], ca: [CA] }, START);
  return clients.transmit(START).map((d) => d.data);
}

function serverRouter(options: { maxConnections?: number; maxHandshakes?: number; retry?: boolean } = {}): ConnectionRouter {
  const { retry, ...limits } = options;
  return new ConnectionRouter({ random: seededBytes('limits'), server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'], retry }, ...limits });
}

describe('server admission (connection/router.ts)', () => {
  it('creates one connection per client Initial, and routes a repeat of it to the same connection', () => {
    const server = serverRouter();
    const [initial] = clientInitials(1);
    server.receive(initial!, { address: '192.0.2.1', port: 1000 }, START);
    server.receive(initial!, { address: '192.0.2.1', port: 1000 }, START + 1);
    expect(server.connections.size).toBe(1);
  });

  it('holds at most maxHandshakes connections in the handshake, and maxConnections in all', () => {
    const initials = clientInitials(5);
    // Without Retry under load (router-retry-under-load.test.ts), which would answer the last three first.
    const byHandshakes = serverRouter({ maxHandshakes: 3, retry: false });
    initials.forEach((d, i) => byHandshakes.receive(d, { address: '192.0.2.1', port: 1000 + i }, START));
    expect(byHandshakes.connections.size).toBe(3);
    expect(byHandshakes.dropped).toBe(2);
    const byConnections = serverRouter({ maxConnections: 2 });
    initials.forEach((d, i) => byConnections.receive(d, { address: '192.0.2.1', port: 1000 + i }, START));
    expect(byConnections.connections.size).toBe(2);
  });

  it('refuses new connections once closeAll() has begun, and still routes to those it holds (RFC 9000 §5.2.2, §10.2)', () => {
    const server = serverRouter();
    const [first, second] = clientInitials(2);
    server.receive(first!, { address: '192.0.2.1', port: 1000 }, START);
    expect(server.accept()).toBeDefined();
    server.closeAll(0, 'shutting down');
    server.receive(second!, { address: '192.0.2.1', port: 1001 }, START);
    expect(server.connections.size).toBe(1);
    expect(server.accept()).toBeUndefined();
    expect(server.dropped).toBe(1);
    // A repeat of the first client's Initial still reaches its connection, not the refusal.
    server.receive(first!, { address: '192.0.2.1', port: 1000 }, START + 1);
    expect(server.dropped).toBe(1);
  });

  it('drops Initials under 1200 bytes and first DCIDs under 8 bytes (RFC 9000 §14.1, §7.2)', () => {
    const server = serverRouter();
    const [initial] = clientInitials(1);
    server.receive(initial!.subarray(0, 1199), { address: '192.0.2.1', port: 1000 }, START);
    const shortDcid = Buffer.from(initial!);
    shortDcid[5] = 4; // claims a 4-byte DCID
    server.receive(shortDcid, { address: '192.0.2.1', port: 1000 }, START);
    expect(server.connections.size).toBe(0);
    expect(server.transmit(START)).toHaveLength(0);
  });

  it('forgets every connection ID of a closed connection: a short header to one gets a stateless reset (RFC 9000 §10.3)', () => {
    const pair = new Pair();
    expect(pair.handshake()).toBe(true);
    pair.client.write(pair.client.openStream()!, Buffer.from('hello'), true);
    pair.flush();
    const oneRtt = pair.clientSent.filter((d) => (d[0]! & 0x80) === 0).at(-1)!;
    expect(oneRtt).toBeDefined();
    pair.server!.close(0, 'bye');
    expect(pair.run(() => pair.client.state === 'closed' && pair.server!.state === 'closed', 10_000)).toBe(true);
    pair.serverRouter.handleTimeout(pair.now);
    expect(pair.serverRouter.connections.size).toBe(0);
    pair.serverRouter.transmit(pair.now);
    pair.serverRouter.receive(oneRtt, CLIENT_ADDR, pair.now);
    const [reset] = pair.serverRouter.transmit(pair.now);
    expect(reset).toBeDefined();
    expect(reset!.data[0]! & 0xc0).toBe(0x40); // short header form, fixed bit
    expect(reset!.data.length).toBeLessThan(oneRtt.length);
  });

  it('counts only handshakes still in progress against maxHandshakes: a finished one frees its place', () => {
    const pair = new Pair({ serverRouter: { maxHandshakes: 1 } });
    pair.flush();
    pair.step(); // the server has the first client's Initial: one handshake in progress
    const [other] = clientInitials(1);
    pair.serverRouter.receive(other!, { address: '192.0.2.9', port: 9 }, pair.now);
    expect(pair.serverRouter.connections.size).toBe(1);
    expect(pair.handshake()).toBe(true);
    pair.serverRouter.receive(other!, { address: '192.0.2.9', port: 9 }, pair.now);
    expect(pair.serverRouter.connections.size).toBe(2);
  });
});

/** The CONNECTION_CLOSE inside a server Initial answering `initial` (opened with its Initial keys). */
function closeFrameOf(answer: Buffer, initial: Buffer) {
  const clientHeader = parsePacketHeader(initial, 0, { shortDcidLength: 8, receiver: 'server' }) as LongHeader;
  const header = parsePacketHeader(answer, 0, { shortDcidLength: 8, receiver: 'client' }) as LongHeader;
  expect(header.type).toBe('initial');
  expect(header.dcid.equals(clientHeader.scid)).toBe(true);
  const keys = initialProtectors(header.version, clientHeader.dcid);
  const opened = unprotectPacket(keys.server, answer.subarray(0, header.end), header.pnOffset, (pn) => pn);
  expect(opened).not.toBeNull();
  return readFrame(new Reader(opened!.payload));
}

describe('refused connections are told so (RFC 9000 §5.2.2)', () => {
  it('past a limit or once closing, an Initial gets CONNECTION_CLOSE CONNECTION_REFUSED in an Initial, and no state', () => {
    const [first, second, third] = clientInitials(3);
    const server = serverRouter({ maxConnections: 1 });
    server.receive(first!, { address: '192.0.2.1', port: 1000 }, START);
    server.transmit(START);
    server.receive(second!, { address: '192.0.2.1', port: 1001 }, START);
    const answers = server.transmit(START).filter((d) => d.to.port === 1001);
    expect(answers).toHaveLength(1);
    expect(closeFrameOf(answers[0]!.data, second!)).toMatchObject({ type: 'connection_close', errorCode: TransportErrorCode.CONNECTION_REFUSED });
    expect(answers[0]!.data.length).toBeLessThan(second!.length); // RFC 9000 §8: never more than it answers
    expect(server.connections.size).toBe(1);
    expect(server.refused).toBe(1);

    const closing = serverRouter();
    closing.closeAll(0, 'shutting down');
    closing.receive(third!, { address: '192.0.2.3', port: 3 }, START);
    const [answer] = closing.transmit(START);
    expect(closeFrameOf(answer!.data, third!)).toMatchObject({ errorCode: TransportErrorCode.CONNECTION_REFUSED });
    expect(closing.connections.size).toBe(0);
  });

  it('an Initial that does not open with its Initial keys gets nothing', () => {
    const [initial] = clientInitials(1);
    const forged = Buffer.from(initial!);
    const header = parsePacketHeader(forged, 0, { shortDcidLength: 8, receiver: 'server' }) as LongHeader;
    forged[header.end - 1]! ^= 1; // one flipped bit in the AEAD tag
    const server = serverRouter({ maxConnections: 0 });
    server.receive(forged, { address: '192.0.2.1', port: 1000 }, START);
    expect(server.transmit(START)).toHaveLength(0);
    expect(server.dropped).toBe(1);
    expect(server.refused).toBe(0);
  });

  it(`answers at most ${MAX_REFUSALS_PER_SECOND} refusals a second, then only drops until the next second`, () => {
    const initials = clientInitials(MAX_REFUSALS_PER_SECOND + 20);
    const server = serverRouter({ maxConnections: 0 });
    initials.forEach((d, i) => server.receive(d, { address: '192.0.2.1', port: 1000 + i }, START + i));
    expect(server.transmit(START + 500)).toHaveLength(MAX_REFUSALS_PER_SECOND);
    expect(server.dropped).toBe(MAX_REFUSALS_PER_SECOND + 20);
    server.receive(initials[0]!, { address: '192.0.2.1', port: 1000 }, START + 1000);
    expect(server.transmit(START + 1000)).toHaveLength(1);
  });

  it('a client refused by a full server closes at once with CONNECTION_REFUSED from the peer', () => {
    const pair = new Pair({ serverRouter: { maxConnections: 0 } });
    expect(pair.run(() => pair.client.state === 'closed' || pair.client.state === 'draining', 5000)).toBe(true);
    expect(pair.now - START).toBeLessThan(200); // about one round trip, not an idle timeout
    expect(pair.client.closeReason).toMatchObject({ code: TransportErrorCode.CONNECTION_REFUSED, source: 'peer' });
  });
});
