/**
 * Server tickets (RFC 8446 §4.6.1) and 0-RTT anti-replay (§8.1): sealed state round-trips,
 * anything altered or under another key opens to null, the single-use store answers true once
 * per ticket, forgets expired entries and stays bounded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { obfuscatedTicketAge, openTicket, sealTicket, SingleUseTicketStore, ticketExpired, type SessionTicket, type TicketState } from '../../../src/quic/tls/tickets.js';
import { seededRandom } from './harness.js';

const key = seededRandom('ticket-test-key')(32);
const state: TicketState = {
  suite: 0x1301,
  psk: Buffer.alloc(32, 5),
  issuedAt: 1_700_000_000_123,
  lifetime: 86_400,
  ageAdd: 0xdeadbeef,
  maxEarlyData: 0xffffffff,
  alpn: 'h3',
  id: Buffer.alloc(16, 9),
  contextHash: Buffer.alloc(32, 3),
};

describe('sealed tickets', () => {
  it('open(seal(state)) = state', () => {
    expect(openTicket(key, sealTicket(key, state, seededRandom('iv')))).toEqual(state);
    expect(openTicket(key, sealTicket(key, { ...state, alpn: null }, seededRandom('iv')))?.alpn).toBeNull();
  });

  it('any altered byte, or another key, opens to null', () => {
    const ticket = sealTicket(key, state, seededRandom('iv'));
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (pos, mask) => {
        const bad = Buffer.from(ticket);
        bad[pos % bad.length]! ^= mask;
        expect(openTicket(key, bad)).toBeNull();
      }),
      { numRuns: 300 },
    );
    expect(openTicket(seededRandom('other')(32), ticket)).toBeNull();
    expect(openTicket(key, Buffer.alloc(10))).toBeNull();
  });

  it('round-trips any state, and every truncation or extension of a ticket opens to null', () => {
    const stateArb = fc.record({
      suite: fc.constantFrom(0x1301, 0x1302, 0x1303),
      psk: fc.uint8Array({ minLength: 32, maxLength: 48 }).map((b) => Buffer.from(b)),
      issuedAt: fc.integer({ min: 0, max: 2 ** 48 }),
      lifetime: fc.nat({ max: 604_800 }),
      ageAdd: fc.nat({ max: 0xffffffff }),
      maxEarlyData: fc.constantFrom(0, 0xffffffff),
      alpn: fc.option(fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 255 })),
      id: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b)),
      contextHash: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b)),
    });
    fc.assert(
      fc.property(stateArb, fc.nat(), (s, cut) => {
        const ticket = sealTicket(key, s, seededRandom(`iv${cut}`));
        expect(openTicket(key, ticket)).toEqual(s);
        expect(openTicket(key, ticket.subarray(0, cut % ticket.length))).toBeNull();
        expect(openTicket(key, Buffer.concat([ticket, Buffer.of(cut & 0xff)]))).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it('hides the state: no field appears in the ticket in clear', () => {
    const ticket = sealTicket(key, state, seededRandom('iv'));
    expect(ticket.includes(state.psk)).toBe(false);
    expect(ticket.includes(state.id)).toBe(false);
    expect(ticket.includes(state.contextHash)).toBe(false);
    expect(sealTicket(key, state, seededRandom('other iv')).equals(ticket)).toBe(false);
  });

  it('needs a 32-byte ticket key; a key changed in place seals and opens under its new bytes', () => {
    expect(() => sealTicket(Buffer.alloc(16), state, seededRandom('iv'))).toThrow(RangeError);
    expect(openTicket(Buffer.alloc(16), sealTicket(key, state, seededRandom('iv')))).toBeNull();
    const changing = Buffer.from(key);
    const before = sealTicket(changing, state, seededRandom('iv'));
    changing[0]! ^= 1;
    expect(openTicket(changing, before)).toBeNull();
    expect(openTicket(changing, sealTicket(changing, state, seededRandom('iv')))).toEqual(state);
  });

  it('refuses a state field too long for its length byte', () => {
    expect(() => sealTicket(key, { ...state, alpn: 'x'.repeat(256) }, seededRandom('iv'))).toThrow(RangeError);
  });
});

describe('SingleUseTicketStore', () => {
  it('accepts each id once', () => {
    const store = new SingleUseTicketStore();
    const id = Buffer.alloc(16, 1);
    expect(store.useOnce(id, 2000, 1000)).toBe(true);
    expect(store.useOnce(id, 2000, 1500)).toBe(false);
    expect(store.useOnce(Buffer.alloc(16, 2), 2000, 1500)).toBe(true);
  });

  it('forgets expired entries and refuses when full', () => {
    const store = new SingleUseTicketStore(2);
    expect(store.useOnce(Buffer.of(1), 100, 0)).toBe(true);
    expect(store.useOnce(Buffer.of(2), 100, 0)).toBe(true);
    expect(store.useOnce(Buffer.of(3), 100, 50)).toBe(false); // full: refuse 0-RTT rather than grow
    expect(store.useOnce(Buffer.of(3), 300, 150)).toBe(true); // 1 and 2 expired at 100
    expect(store.size).toBe(1);
  });
});

describe('client ticket age', () => {
  const t: SessionTicket = {
    ticket: Buffer.of(1), suite: 0x1301, psk: Buffer.alloc(32), ageAdd: 0xffffff00, lifetime: 10,
    receivedAt: 1000, maxEarlyData: 0, alpn: 'h3', serverName: 'x', transportParameters: null,
  };
  it('obfuscated_ticket_age = age + ticket_age_add mod 2^32 (RFC 8446 §4.2.11.1)', () => {
    expect(obfuscatedTicketAge(t, 1000 + 0x200)).toBe(0x100);
  });
  it('expires after its lifetime', () => {
    expect(ticketExpired(t, 1000 + 9_999)).toBe(false);
    expect(ticketExpired(t, 1000 + 10_000)).toBe(true);
  });
});
