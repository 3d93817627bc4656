/**
 * AEAD usage limits (RFC 9001 §6.6): a 1-RTT key protects at most the confidentiality limit of
 * packets — the connection updates keys before it, or closes with AEAD_LIMIT_REACHED when no
 * update is possible — and packets failing authentication past the integrity limit close the
 * connection with AEAD_LIMIT_REACHED (0x0f).
 *
 * The client is a Connection made with small limits (aeadLimits); the server is a router's.
 */
import { describe, expect, it } from 'vitest';
import type { ConnectionEvent } from '../../../src/quic/connection.js';
import { TransportErrorCode } from '../../../src/quic/errors.js';
import { DirectPair as Duo } from '../sim/direct-pair.js';
import { Pair, pattern, seededBytes, SERVER_ADDR, sha256, StreamSink, StreamWriter } from '../sim/harness.js';

const closeOf = (events: ConnectionEvent[]) => (events.find((e) => e.type === 'closed') as Extract<ConnectionEvent, { type: 'closed' }> | undefined)?.error;

describe('AEAD limits (RFC 9001 §6.6)', () => {
  it('a small confidentiality limit: keys are updated before it and every byte arrives', () => {
    const limit = 300;
    // A window of at most 256 KiB (~220 packets of 1,194 bytes) in flight: an update started at 150
    // packets is acknowledged before 300. (With a limit of 200, below the window, a phase can use
    // it all before any of its packets is acknowledged, and the connection rightly closes.)
    const duo = new Duo({ aeadLimits: { confidentiality: limit }, streamHighWaterMark: 256 * 1024 });
    expect(duo.handshake()).toBe(true);
    const sink = new StreamSink();
    duo.onServerEvent = (e) => sink.onEvent(e);
    const body = pattern(1_000_000);
    const id = duo.upload(body);
    expect(duo.run(() => sink.finished.has(id))).toBe(true);
    expect(sha256(sink.data(id))).toBe(sha256(body));
    expect(duo.client.state).toBe('established');
    expect(duo.client.keyUpdates).toBeGreaterThanOrEqual(3);
    expect(duo.packetsPerKey.length).toBeGreaterThanOrEqual(4);
    for (const count of duo.packetsPerKey) expect(count).toBeLessThanOrEqual(limit);
    // The initiator counts an update when the peer's first packet of the new phase opens: the
    // last one may still be on its way when the data is all in.
    expect(duo.run(() => duo.server!.keyUpdates === duo.client.keyUpdates, 1_000)).toBe(true);
  });

  it('no key update possible before the confidentiality limit: the connection closes with AEAD_LIMIT_REACHED', () => {
    const limit = 8;
    const duo = new Duo({ aeadLimits: { confidentiality: limit } });
    expect(duo.handshake()).toBe(true);
    // A burst larger than the limit: the update started halfway cannot be answered in time.
    duo.upload(pattern(200_000));
    expect(duo.run(() => duo.server!.state !== 'established')).toBe(true);
    expect(duo.client.closeReason).toMatchObject({ code: TransportErrorCode.AEAD_LIMIT_REACHED, source: 'local', application: false });
    expect(closeOf(duo.serverEvents)).toMatchObject({ code: TransportErrorCode.AEAD_LIMIT_REACHED, source: 'peer' });
    for (const count of duo.packetsPerKey) expect(count).toBeLessThanOrEqual(limit);
    // The closing state answers later packets without protecting more with the exhausted key.
    const sent = duo.packetsPerKey.reduce((a, b) => a + b, 0);
    duo.client.receive(Buffer.alloc(60, 0x40), SERVER_ADDR, duo.now);
    duo.client.transmit(duo.now);
    expect(duo.packetsPerKey.reduce((a, b) => a + b, 0)).toBe(sent);
  });

  it('forged packets past the integrity limit close with AEAD_LIMIT_REACHED; up to it they are dropped', () => {
    const limit = 5;
    const duo = new Duo({ aeadLimits: { integrity: limit } });
    expect(duo.handshake()).toBe(true);
    const forge = seededBytes('forged');
    const forged = (): Buffer => {
      // A short header (RFC 9000 §17.3.1) to the client's connection ID, then random bytes.
      const packet = forge(48);
      packet[0] = 0x40 | (packet[0]! & 0x3f);
      duo.client.sourceConnectionId.copy(packet, 1);
      return packet;
    };
    for (let i = 0; i < limit; i++) duo.client.receive(forged(), SERVER_ADDR, duo.now);
    expect(duo.client.state).toBe('established');
    // A real packet in between still works; failures count across the connection's lifetime.
    const id = duo.client.openStream()!;
    duo.client.write(id, Buffer.from('ping'), true);
    const sink = new StreamSink();
    duo.onServerEvent = (e) => sink.onEvent(e);
    expect(duo.run(() => sink.finished.has(id))).toBe(true);
    expect(duo.client.state).toBe('established');
    duo.client.receive(forged(), SERVER_ADDR, duo.now);
    expect(duo.client.state).toBe('closing');
    expect(duo.client.closeReason).toMatchObject({ code: TransportErrorCode.AEAD_LIMIT_REACHED, source: 'local' });
    expect(duo.run(() => duo.server!.state !== 'established')).toBe(true);
    expect(closeOf(duo.serverEvents)).toMatchObject({ code: TransportErrorCode.AEAD_LIMIT_REACHED, source: 'peer' });
  });

  it('limits set on a router reach the connections it makes (client and server)', () => {
    const limits = { aeadLimits: { confidentiality: 200 } };
    const pair = new Pair({ client: limits, serverRouter: limits });
    expect(pair.handshake()).toBe(true);
    const sink = new StreamSink();
    pair.onServerEvent = (e) => sink.onEvent(e);
    const body = pattern(500_000);
    const id = pair.client.openStream()!;
    const writer = new StreamWriter(pair.client, id, body);
    pair.onClientEvent = (e) => { if (e.type === 'writable') writer.pump(); };
    writer.pump();
    expect(pair.run(() => sink.finished.has(id))).toBe(true);
    expect(sha256(sink.data(id))).toBe(sha256(body));
    expect(pair.client.keyUpdates).toBeGreaterThanOrEqual(1);
  });
});
