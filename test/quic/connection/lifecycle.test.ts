/**
 * How connections and streams end (RFC 9000 §3, §4, §10): idle timeout, CONNECTION_CLOSE of both
 * kinds with the closing and draining states, errors during the handshake, stateless reset,
 * Version Negotiation, resets and STOP_SENDING, flow control held by a slow reader, NEW_TOKEN,
 * and graceful close.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionRouter } from '../../../src/quic/connection/router.js';
import { buildVersionNegotiation } from '../../../src/quic/packet/version-negotiation.js';
import { CA, CERT, KEY, Pair, pattern, seededBytes, SERVER_ADDR, sha256, StreamSink, StreamWriter } from '../sim/harness.js';
import type { ConnectionEvent } from '../../../src/quic/connection.js';

const closedOf = (events: ConnectionEvent[]) => events.find((e) => e.type === 'closed') as Extract<ConnectionEvent, { type: 'closed' }> | undefined;

describe('connection lifecycle', () => {
  it('idle timeout closes both sides silently after max_idle_timeout (RFC 9000 §10.1)', () => {
    const pair = new Pair({ client: { transport: { maxIdleTimeout: 5000 } }, serverRouter: { transport: { maxIdleTimeout: 8000 } } });
    expect(pair.handshake()).toBe(true);
    const quietFrom = pair.now;
    const sentBefore = pair.clientSent.length + pair.serverSent.length;
    expect(pair.run(() => pair.client.state === 'closed' && pair.server!.state === 'closed', 20_000)).toBe(true);
    // The smaller of the two values applies to both (§10.1).
    expect(closedOf(pair.clientEvents)!.error.source).toBe('idle');
    expect(closedOf(pair.serverEvents)!.error.source).toBe('idle');
    expect(pair.now - quietFrom).toBeGreaterThanOrEqual(5000);
    expect(pair.now - quietFrom).toBeLessThan(6500);
    // Idle closing sends nothing; only the last ACKs of the handshake and a DPLPMTUD probe with its ACK went out.
    expect(pair.clientSent.length + pair.serverSent.length - sentBefore).toBeLessThanOrEqual(4);
  });

  it('an application close reaches the peer, which drains; both end after 3 × PTO (RFC 9000 §10.2)', () => {
    const pair = new Pair();
    expect(pair.handshake()).toBe(true);
    pair.client.close(0x10c, 'bye');
    expect(pair.client.state).toBe('closing');
    expect(pair.run(() => pair.server!.state === 'draining')).toBe(true);
    expect(closedOf(pair.serverEvents)!.error).toEqual({ code: 0x10c, application: true, reason: 'bye', source: 'peer' });
    expect(closedOf(pair.clientEvents)!.error.source).toBe('local');
    // Draining sends nothing (§10.2.2).
    const serverSent = pair.serverSent.length;
    expect(pair.run(() => pair.client.state === 'closed' && pair.server!.state === 'closed')).toBe(true);
    expect(pair.serverSent.length).toBe(serverSent);
  });

  it('a TLS alert during the handshake closes with CRYPTO_ERROR 0x100 + alert (RFC 9001 §4.8)', () => {
    const pair = new Pair({ server: { alpn: ['not-h3'] } });
    expect(pair.run(() => closedOf(pair.clientEvents) !== undefined, 10_000)).toBe(true);
    const error = closedOf(pair.clientEvents)!.error;
    expect(error.source).toBe('peer');
    expect(error.code).toBe(0x100 + 120); // no_application_protocol (RFC 8446 §6, RFC 7301 §3.2)
  });

  it('a server that lost the connection answers with a stateless reset; the client drains (RFC 9000 §10.3)', () => {
    const pair = new Pair();
    expect(pair.handshake()).toBe(true);
    // The server restarts with the same static key (same seed) and no connections.
    pair.serverRouter = new ConnectionRouter({
      random: seededBytes('server-1'),
      server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] },
    });
    const id = pair.client.openStream()!;
    pair.client.write(id, Buffer.from('anyone there?'), true);
    expect(pair.run(() => closedOf(pair.clientEvents) !== undefined, 10_000)).toBe(true);
    expect(closedOf(pair.clientEvents)!.error.source).toBe('reset');
  });

  it('a client abandons the attempt on Version Negotiation without its version (RFC 9000 §6.2)', () => {
    const pair = new Pair();
    pair.flush();
    const first = pair.clientSent[0]!;
    const dcid = first.subarray(6, 6 + first[5]!);
    const scidAt = 6 + first[5]!;
    const scid = first.subarray(scidAt + 1, scidAt + 1 + first[scidAt]!);
    // Echoes that do not match are ignored …
    pair.client.receive(buildVersionNegotiation({ dcid: Buffer.alloc(8), scid: dcid, versions: [0x1a2a3a4a] }), SERVER_ADDR, pair.now);
    expect(pair.client.state).toBe('handshake');
    // … as is a list that includes the version we sent.
    pair.client.receive(buildVersionNegotiation({ dcid: scid, scid: dcid, versions: [1] }), SERVER_ADDR, pair.now);
    expect(pair.client.state).toBe('handshake');
    pair.client.receive(buildVersionNegotiation({ dcid: scid, scid: dcid, versions: [0x1a2a3a4a] }), SERVER_ADDR, pair.now);
    expect(pair.client.state).toBe('closed');
    pair.pollEvents();
    expect(closedOf(pair.clientEvents)!.error.source).toBe('version-negotiation');
  });

  it('RESET_STREAM and STOP_SENDING carry their codes to the peer (RFC 9000 §3.5, §19.4, §19.5)', () => {
    const pair = new Pair();
    expect(pair.handshake()).toBe(true);
    const a = pair.client.openStream()!;
    const b = pair.client.openStream()!;
    pair.client.write(a, Buffer.from('partial'));
    pair.client.write(b, Buffer.from('request'));
    pair.onServerEvent = (e) => {
      if (e.type === 'stream-data' && e.id === b) pair.server!.stopSending(b, 9);
    };
    pair.run(() => pair.serverEvents.some((e) => e.type === 'stream-data' && e.id === a));
    pair.client.resetStream(a, 7);
    expect(pair.run(() => pair.serverEvents.some((e) => e.type === 'stream-reset') && pair.clientEvents.some((e) => e.type === 'stop-sending'))).toBe(true);
    expect(pair.serverEvents).toContainEqual({ type: 'stream-reset', id: a, code: 7 });
    expect(pair.clientEvents).toContainEqual({ type: 'stop-sending', id: b, code: 9 });
  });

  it('a reader that pauses holds the sender within its flow-control window (RFC 9000 §4.1)', () => {
    const window = 64 * 1024;
    const pair = new Pair({ client: { transport: { initialMaxStreamDataBidiLocal: window, initialMaxData: 4 * window } } });
    const sink = new StreamSink();
    pair.onClientEvent = (e) => sink.onEvent(e);
    let writer: StreamWriter | undefined;
    pair.onServerEvent = (e) => {
      if (e.type === 'stream-data' && e.fin) {
        writer = new StreamWriter(pair.server!, e.id, pattern(1024 * 1024));
        writer.pump();
      } else if (e.type === 'writable') writer?.pump();
    };
    expect(pair.handshake()).toBe(true);
    const id = pair.client.openStream()!;
    pair.client.pauseReading(id);
    pair.client.write(id, Buffer.from('GET'), true);
    const before = pair.client.stats.bytesReceived;
    pair.run(() => false, 3000);
    // Nothing delivered; the server sent at most the window (plus packet overhead) and holds the rest.
    expect(sink.data(id).length).toBe(0);
    expect(pair.client.stats.bytesReceived - before).toBeLessThan(window * 1.1);
    expect(pair.server!.bufferedAmount(id)).toBeGreaterThan(window);
    pair.client.resumeReading(id);
    expect(pair.run(() => sink.finished.has(id))).toBe(true);
    expect(sha256(sink.data(id))).toBe(sha256(pattern(1024 * 1024)));
  });

  it('a NEW_TOKEN token lets the next connection skip Retry (RFC 9000 §8.1.3)', () => {
    const first = new Pair({ server: { retry: true } });
    expect(first.handshake()).toBe(true);
    expect(first.run(() => first.clientEvents.some((e) => e.type === 'new-token'))).toBe(true);
    const token = (first.clientEvents.find((e) => e.type === 'new-token') as { token: Buffer }).token;
    // Same server (router), new client connection presenting the token.
    const retriesBefore = first.serverSent.filter((d) => (d.data[0]! & 0xf0) === 0xf0).length;
    const second = first.clientRouter.connect(SERVER_ADDR, { serverName: 'localhost', alpn: ['h3'], ca: [CA] }, first.now, token);
    expect(first.run(() => second.isHandshakeComplete, 5000)).toBe(true);
    const retriesAfter = first.serverSent.filter((d) => (d.data[0]! & 0xf0) === 0xf0).length;
    expect(first.serverRouter.connections.size).toBe(2);
    expect(retriesAfter).toBe(retriesBefore);
  });

  it('graceful close waits until the response is acknowledged, then closes with NO_ERROR', () => {
    const pair = new Pair();
    const sink = new StreamSink();
    let writer: StreamWriter | undefined;
    pair.onClientEvent = (e) => sink.onEvent(e);
    pair.onServerEvent = (e) => {
      if (e.type === 'stream-data' && e.fin) {
        writer = new StreamWriter(pair.server!, e.id, pattern(300_000));
        writer.pump();
        pair.server!.closeGracefully(0, 'done');
      } else if (e.type === 'writable') writer?.pump();
    };
    expect(pair.handshake()).toBe(true);
    const id = pair.client.openStream()!;
    pair.client.write(id, Buffer.from('GET'), true);
    expect(pair.run(() => closedOf(pair.clientEvents) !== undefined)).toBe(true);
    expect(sink.finished.has(id)).toBe(true);
    expect(sha256(sink.data(id))).toBe(sha256(pattern(300_000)));
    expect(closedOf(pair.clientEvents)!.error).toMatchObject({ code: 0, application: true, source: 'peer' });
  });
});

describe('backpressure (the application API)', () => {
  it('write() returns false over the per-stream mark and over the connection mark, and writable follows', () => {
    const pair = new Pair();
    expect(pair.handshake()).toBe(true);
    const client = pair.client;
    const a = client.openStream()!;
    const b = client.openStream()!;
    // Per stream: 256 KiB by default.
    expect(client.write(a, Buffer.alloc(200 * 1024))).toBe(true);
    expect(client.write(a, Buffer.alloc(100 * 1024))).toBe(false);
    // Connection: 4 MiB over all streams, whatever each stream holds.
    expect(client.write(b, Buffer.alloc(4 * 1024 * 1024))).toBe(false);
    expect(client.bufferedAmount(b)).toBe(4 * 1024 * 1024);
    expect(pair.run(() => pair.clientEvents.filter((e) => e.type === 'writable').length >= 2)).toBe(true);
    const writable = pair.clientEvents.filter((e) => e.type === 'writable').map((e) => (e as { id: number }).id);
    expect(new Set(writable)).toEqual(new Set([a, b]));
  });
});
