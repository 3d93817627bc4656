/**
 * Hostile input into a connection at any state (RFC 9000 §12, §20): random datagrams, mangled
 * copies of real ones, and authenticated packets whose frames are random bytes. Each is ignored or
 * ends the connection with a CONNECTION_CLOSE carrying a transport error code — never a throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketProtector } from '../../../src/quic/crypto/protector.js';
import { protectPacket } from '../../../src/quic/crypto/packet-protection.js';
import { TLS_AES_128_GCM_SHA256 } from '../../../src/quic/crypto/suites.js';
import { writeShortHeader } from '../../../src/quic/packet/build.js';
import { Writer } from '../../../src/quic/varint.js';
import { QUIC_V1 } from '../../../src/quic/version.js';
import { CLIENT_ADDR, Pair, SERVER_ADDR } from '../sim/harness.js';

function established(keylog?: (line: string) => void): Pair {
  const pair = new Pair({ suites: [TLS_AES_128_GCM_SHA256], client: keylog ? { keylog } : {} });
  expect(pair.handshake()).toBe(true);
  return pair;
}

/**
 * Either nothing happened, or the connection is closing with a transport error it will send, or
 * the bytes happened to be a CONNECTION_CLOSE and it is draining.
 */
function expectIgnoredOrClosed(pair: Pair, side: 'client' | 'server'): void {
  const conn = side === 'client' ? pair.client : pair.server!;
  if (conn.state === 'closing') {
    const reason = conn.closeReason!;
    expect(reason.source).toBe('local');
    expect(reason.application).toBe(false);
    expect(reason.code).toBeGreaterThan(0);
    expect(reason.code).toBeLessThan(0x200);
    expect(conn.transmit(pair.now).length).toBe(1); // the CONNECTION_CLOSE
  } else if (conn.state === 'draining') {
    expect(conn.closeReason!.source).toBe('peer'); // a well-formed CONNECTION_CLOSE (§10.2.2)
  } else {
    expect(['handshake', 'established']).toContain(conn.state);
  }
}

describe('hostile datagrams into a connection', () => {
  it('random datagrams at every state are ignored without a throw', () => {
    const fresh = new Pair();
    fresh.flush();
    fresh.step(); // the server connection exists, mid-handshake
    const done = established();
    const targets = [
      () => ({ pair: fresh, side: 'client' as const }),
      () => ({ pair: fresh, side: 'server' as const }),
      () => ({ pair: done, side: 'client' as const }),
      () => ({ pair: done, side: 'server' as const }),
    ];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.uint8Array({ minLength: 0, maxLength: 1500 }), fc.boolean(), (which, bytes, aimed) => {
        const { pair, side } = targets[which]!();
        const conn = side === 'client' ? pair.client : pair.server;
        if (conn === undefined) return;
        const datagram = Buffer.from(bytes);
        if (aimed && datagram.length > 9) {
          // A short header aimed at the connection's ID, so it reaches packet protection.
          datagram[0] = (datagram[0]! & 0x3f) | 0x40;
          conn.sourceConnectionId.copy(datagram, 1);
        }
        conn.receive(datagram, side === 'client' ? SERVER_ADDR : CLIENT_ADDR, pair.now);
        expectIgnoredOrClosed(pair, side);
        expect(conn.state).not.toBe('closing'); // nothing random authenticates
      }),
      { numRuns: 400 },
    );
    // Still usable afterwards.
    const id = done.client.openStream()!;
    done.client.write(id, Buffer.from('still here'), true);
    let got = '';
    done.onServerEvent = (e) => {
      if (e.type === 'stream-data') got += Buffer.from(e.data).toString();
    };
    expect(done.run(() => got === 'still here')).toBe(true);
  });

  it('real datagrams with one byte changed are dropped (RFC 9001 §5.5)', () => {
    const pair = established();
    const captured = pair.clientSent.slice();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: captured.length - 1 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (i, at, xor) => {
        const datagram = Buffer.from(captured[i]!);
        datagram[at % datagram.length]! ^= xor;
        pair.server!.receive(datagram, CLIENT_ADDR, pair.now);
        expect(pair.server!.state).toBe('established');
      }),
      { numRuns: 300 },
    );
  });

  it('authenticated 1-RTT packets with random frames are processed or closed with a transport error (RFC 9000 §12.4, §19)', () => {
    let pair: Pair | undefined;
    let secret: Buffer | undefined;
    let pn = 1_000_000;
    const fresh = () => {
      secret = undefined;
      pair = established((line) => {
        const [label, , hex] = line.split(' ');
        if (label === 'CLIENT_TRAFFIC_SECRET_0') secret = Buffer.from(hex!, 'hex');
      });
    };
    fresh();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (payload) => {
        if (pair!.server!.state !== 'established') fresh();
        const server = pair!.server!;
        const protector = PacketProtector.fromSecret(QUIC_V1, TLS_AES_128_GCM_SHA256, secret!);
        const plain = new Writer(300);
        const { pnOffset } = writeShortHeader(plain, { dcid: server.sourceConnectionId, packetNumber: ++pn, pnLength: 4 });
        plain.bytes(payload);
        if (payload.length < 4) plain.zeros(4 - payload.length);
        const packet = protectPacket(protector, plain.finish(), pnOffset, 4, pn);
        server.receive(packet, CLIENT_ADDR, pair!.now);
        expectIgnoredOrClosed(pair!, 'server');
      }),
      { numRuns: 80 },
    );
  }, 30_000);
});
