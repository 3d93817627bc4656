/**
 * fast-check properties of the handshake endpoints: random or corrupted bytes into either role at
 * any point give at most one alert event and never a throw (RFC 8446 §6, RFC 9001 §4.8), and
 * splitting the CRYPTO bytes anywhere changes nothing (RFC 9001 §4.1.3).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TlsEndpoint, TlsEvent } from '../../../src/quic/tls/handshake.js';
import { drive, makeClient, makeServer, seededRandom } from './harness.js';

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));

/** A recorded handshake: the handshake-data each side sent, in delivery order. */
function recordHandshake(): { from: 'client' | 'server'; level: 'initial' | 'handshake' | 'application'; data: Buffer }[] {
  const client = makeClient();
  const server = makeServer('ecdsa');
  client.start();
  const r = drive(client, server);
  const steps: ReturnType<typeof recordHandshake> = [];
  // drive() alternates client, server, client: the ClientHello, the server's two flights, the client's Finished.
  steps.push({ from: 'client', ...(r.client.sent[0] as { level: 'initial'; data: Buffer }) });
  for (const s of r.server.sent) steps.push({ from: 'server', ...(s as { level: 'initial' | 'handshake'; data: Buffer }) });
  steps.push({ from: 'client', ...(r.client.sent[1] as { level: 'handshake'; data: Buffer }) });
  return steps;
}

function drain(e: TlsEndpoint): TlsEvent[] {
  const out: TlsEvent[] = [];
  for (let x = e.poll(); x; x = e.poll()) out.push(x);
  return out;
}

describe('hostile input into a handshake in progress', () => {
  const steps = recordHandshake();

  it('random bytes at any point, at any level, into either role: an alert or nothing, never a throw', () => {
    const levels = ['initial', 'handshake', 'application'] as const;
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 0, max: steps.length }), fc.constantFrom(...levels), bytes(1, 300), (asServer, upTo, level, junk) => {
        const client = makeClient();
        const server = makeServer('ecdsa');
        client.start();
        drain(client);
        // Replay the recorded conversation into the role under test, up to a point.
        const target: TlsEndpoint = asServer ? server : client;
        for (const s of steps.slice(0, upTo)) if ((s.from === 'client') === asServer) target.receive(s.level, s.data);
        drain(target);
        expect(() => target.receive(level, junk)).not.toThrow();
        const after = drain(target);
        expect(after.every((e) => e.type === 'alert')).toBe(true);
        expect(after.length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 200 },
    );
  });

  it('a recorded message with one byte flipped: an alert or, if harmless, the same progress; never a throw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: steps.length - 1 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (index, pos, mask) => {
        const client = makeClient();
        const server = makeServer('ecdsa');
        client.start();
        drain(client);
        const step = steps[index]!;
        const target: TlsEndpoint = step.from === 'client' ? server : client;
        for (const s of steps.slice(0, index)) if (s.from === step.from) target.receive(s.level, s.data);
        drain(target);
        const data = Buffer.from(step.data);
        data[pos % data.length]! ^= mask;
        expect(() => target.receive(step.level, data)).not.toThrow();
        expect(drain(target).filter((e) => e.type === 'alert').length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 200 },
    );
  });
});

describe('split invariance (RFC 9001 §4.1.3: CRYPTO data may be split anywhere)', () => {
  it('any split of every flight gives the same events and secrets as whole flights', () => {
    const summary = (side: { events: TlsEvent[]; sent: { level: string; data: Buffer }[] }) =>
      JSON.stringify([side.events, side.sent], (_k, v) => (v && v.type === 'Buffer' ? Buffer.from(v.data).toString('hex') : v));
    const baseline = (() => {
      const client = makeClient({ random: seededRandom('split-c') });
      const server = makeServer('ed25519', { random: seededRandom('split-s') }); // Ed25519 signs deterministically
      client.start();
      const r = drive(client, server);
      return { client: summary(r.client), server: summary(r.server) };
    })();
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 20 }), (cuts) => {
        const split = (d: Buffer) => {
          const pieces: Buffer[] = [];
          let off = 0;
          for (let i = 0; off < d.length; i++) {
            const n = cuts[i % cuts.length]!;
            pieces.push(d.subarray(off, off + n));
            off += n;
          }
          return pieces;
        };
        const client = makeClient({ random: seededRandom('split-c') });
        const server = makeServer('ed25519', { random: seededRandom('split-s') }); // Ed25519 signs deterministically
        client.start();
        const r = drive(client, server, split);
        expect(summary(r.client)).toBe(baseline.client);
        expect(summary(r.server)).toBe(baseline.server);
      }),
      { numRuns: 100 },
    );
  });

  it('one byte at a time', () => {
    const client = makeClient();
    const server = makeServer('rsa');
    client.start();
    drive(client, server, (d) => Array.from({ length: d.length }, (_, i) => d.subarray(i, i + 1)));
    expect(client.handshakeComplete && server.handshakeComplete).toBe(true);
  });
});
