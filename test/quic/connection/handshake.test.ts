import { describe, expect, it } from 'vitest';
import { Pair, StreamSink } from '../sim/harness.js';

describe('QUIC handshake in memory (RFC 9000 §7, RFC 9001 §4)', () => {
  it('completes, negotiates ALPN and confirms the handshake', () => {
    const pair = new Pair();
    expect(pair.handshake()).toBe(true);
    expect(pair.client.alpn).toBe('h3');
    expect(pair.clientEvents).toContainEqual({ type: 'handshake-complete', alpn: 'h3' });
    expect(pair.serverEvents).toContainEqual({ type: 'handshake-complete', alpn: 'h3' });
  });

  it('pads every client datagram carrying an Initial to at least 1200 bytes (RFC 9000 §14.1)', () => {
    const pair = new Pair();
    pair.handshake();
    const withInitial = pair.clientSent.filter((d) => (d[0]! & 0xb0) === 0x80);
    expect(withInitial.length).toBeGreaterThan(0);
    for (const d of withInitial) expect(d.length).toBeGreaterThanOrEqual(1200);
  });

  it('carries a request and a response on a bidirectional stream', () => {
    const pair = new Pair();
    const sink = new StreamSink();
    const clientSink = new StreamSink();
    pair.onServerEvent = (e) => {
      sink.onEvent(e);
      if (e.type === 'stream-data' && e.fin) pair.server!.write(e.id, Buffer.from(`echo:${sink.data(e.id).toString()}`), true);
    };
    pair.onClientEvent = (e) => clientSink.onEvent(e);
    pair.handshake();
    const id = pair.client.openStream()!;
    expect(id).toBe(0);
    pair.client.write(id, Buffer.from('hello'), true);
    expect(pair.run(() => clientSink.finished.has(id))).toBe(true);
    expect(clientSink.data(id).toString()).toBe('echo:hello');
  });
});
