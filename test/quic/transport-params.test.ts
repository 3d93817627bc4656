import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TransportError, TransportErrorCode } from '../../src/quic/errors.js';
import {
  decodeTransportParameters,
  DEFAULT_TRANSPORT_PARAMETERS,
  encodeTransportParameters,
  greaseTransportParameterId,
  type TransportParameters,
} from '../../src/quic/transport-params.js';
import { Writer } from '../../src/quic/varint.js';
import { QUIC_V1, QUIC_V2 } from '../../src/quic/version.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const rfc9001 = JSON.parse(readFileSync(new URL('../../fixtures/rfc9001/appendix-a.json', import.meta.url), 'utf8'));
const cid = hex('8394c8f03e515708');

/** One (id, length, value) tuple (RFC 9000 §18). */
function param(id: number, value: Uint8Array): Buffer {
  return new Writer(16).varint(id).varint(value.length).bytes(value).finish();
}
const varintParam = (id: number, value: number) => param(id, new Writer(8).varint(value).finish());
const iscid = param(0x0f, cid);
const odcid = param(0x00, hex('0102030405060708'));

function expectParamError(data: Uint8Array, sender: 'client' | 'server', section?: RegExp): void {
  let caught: unknown;
  try {
    decodeTransportParameters(data, sender);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(TransportError);
  expect((caught as TransportError).code).toBe(TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
  if (section) expect((caught as TransportError).section).toMatch(section);
}

describe('RFC 9001 Appendix A.2 ClientHello transport parameters', () => {
  it('decodes the client parameters carried in the RFC ClientHello', () => {
    // quic_transport_parameters extension: type 0x0039, length 0x0032, inside the CRYPTO frame.
    const frames = hex(rfc9001.clientInitial.frames);
    const at = frames.indexOf(hex('00390032'));
    expect(at).toBeGreaterThan(0);
    const body = frames.subarray(at + 4, at + 4 + 0x32);
    const p = decodeTransportParameters(body, 'client');
    expect(p).toEqual({
      ...DEFAULT_TRANSPORT_PARAMETERS,
      initialMaxData: 2 ** 62, // 2^62-1 on the wire: above 2^53, rounded up (varint.ts)
      initialMaxStreamDataBidiLocal: 65535,
      initialMaxStreamDataBidiRemote: 65535,
      initialMaxStreamDataUni: 65535,
      initialMaxStreamsBidi: 16,
      initialMaxStreamsUni: 16,
      maxIdleTimeout: 30000,
      initialSourceConnectionId: cid,
    });
  });
});

const cidArb = fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a));
const nat = fc.oneof(fc.nat(100), fc.nat(2 ** 20), fc.maxSafeNat());

function paramsArb(sender: 'client' | 'server'): fc.Arbitrary<TransportParameters> {
  const serverOnly = sender === 'server';
  return fc
    .record({
      maxIdleTimeout: nat,
      maxUdpPayloadSize: fc.integer({ min: 1200, max: 65527 }),
      initialMaxData: nat,
      initialMaxStreamDataBidiLocal: nat,
      initialMaxStreamDataBidiRemote: nat,
      initialMaxStreamDataUni: nat,
      initialMaxStreamsBidi: fc.nat(2 ** 40),
      initialMaxStreamsUni: fc.nat(2 ** 40),
      ackDelayExponent: fc.nat(20),
      maxAckDelay: fc.nat(2 ** 14 - 1),
      disableActiveMigration: fc.boolean(),
      activeConnectionIdLimit: fc.integer({ min: 2, max: 1000 }),
      initialSourceConnectionId: cidArb,
      maxDatagramFrameSize: nat,
      greaseQuicBit: fc.boolean(),
      versionInformation: fc.option(
        fc.array(fc.constantFrom(QUIC_V1, QUIC_V2, 0x1a2a3a4a), { minLength: 1, maxLength: 4 }).map((available) => ({
          chosenVersion: available[0]!, availableVersions: available,
        })),
        { nil: undefined },
      ),
      originalDestinationConnectionId: serverOnly ? cidArb : fc.constant(undefined),
      statelessResetToken: serverOnly ? fc.option(fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a)), { nil: undefined }) : fc.constant(undefined),
      retrySourceConnectionId: serverOnly ? fc.option(cidArb, { nil: undefined }) : fc.constant(undefined),
      preferredAddress: serverOnly
        ? fc.option(
          fc.record({
            ipv4Address: fc.uint8Array({ minLength: 4, maxLength: 4 }).map((a) => Buffer.from(a)),
            ipv4Port: fc.nat(65535),
            ipv6Address: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a)),
            ipv6Port: fc.nat(65535),
            connectionId: fc.uint8Array({ minLength: 1, maxLength: 20 }).map((a) => Buffer.from(a)),
            statelessResetToken: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a)),
          }),
          { nil: undefined },
        )
        : fc.constant(undefined),
    })
    .map((p) => {
      // Drop undefined optionals so that toEqual compares what decode produces.
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(p)) if (v !== undefined) out[k] = v;
      return out as unknown as TransportParameters;
    });
}

describe('round trips (RFC 9000 §18)', () => {
  for (const sender of ['client', 'server'] as const) {
    it(`decode(encode(p)) = p for ${sender} parameters, with reserved ids ignored (property)`, () => {
      fc.assert(
        fc.property(paramsArb(sender), fc.nat(), fc.uint8Array({ maxLength: 8 }), (p, random, greaseValue) => {
          const encoded = encodeTransportParameters(p, [{ id: greaseTransportParameterId(random), value: greaseValue }]);
          expect(decodeTransportParameters(encoded, sender)).toEqual(p);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('leaves out parameters equal to their defaults', () => {
    expect(encodeTransportParameters({ initialSourceConnectionId: hex('ab') }).toString('hex')).toBe('0f01ab');
    expect(encodeTransportParameters({ ...DEFAULT_TRANSPORT_PARAMETERS, initialSourceConnectionId: Buffer.alloc(0) }).toString('hex')).toBe('0f00');
    expect(encodeTransportParameters({ initialSourceConnectionId: Buffer.alloc(0), greaseQuicBit: true }).toString('hex')).toBe('0f006ab200');
  });

  it('fills the §18.2 defaults for absent parameters', () => {
    const p = decodeTransportParameters(iscid, 'client');
    expect(p.maxUdpPayloadSize).toBe(65527);
    expect(p.ackDelayExponent).toBe(3);
    expect(p.maxAckDelay).toBe(25);
    expect(p.activeConnectionIdLimit).toBe(2);
    expect(p.maxDatagramFrameSize).toBe(0);
    expect(p.disableActiveMigration).toBe(false);
  });

  it('grease ids are 31·N + 27 (§18.1)', () => {
    fc.assert(fc.property(fc.nat(), (n) => {
      const id = greaseTransportParameterId(n);
      expect((id - 27) % 31).toBe(0);
      expect(Number.isSafeInteger(id)).toBe(true);
    }), { numRuns: 200 });
  });
});

describe('§18.2 validation: TRANSPORT_PARAMETER_ERROR', () => {
  it.each<[string, Buffer]>([
    ['max_udp_payload_size below 1200', varintParam(0x03, 1199)],
    ['ack_delay_exponent above 20', varintParam(0x0a, 21)],
    ['max_ack_delay of 2^14', varintParam(0x0b, 2 ** 14)],
    ['active_connection_id_limit below 2', varintParam(0x0e, 1)],
    ['initial_max_streams_bidi above 2^60 (§4.6)', param(0x08, hex('d000000000000001'))],
    ['initial_max_streams_uni above 2^60 (§4.6)', param(0x09, hex('d000000000000001'))],
    ['an integer with trailing bytes', param(0x04, hex('0101'))],
    ['an empty integer', param(0x04, hex(''))],
    ['an integer whose varint runs past the value', param(0x04, hex('8000'))],
    ['disable_active_migration with a value', param(0x0c, hex('00'))],
    ['grease_quic_bit with a value (RFC 9287 §3)', param(0x2ab2, hex('01'))],
    ['initial_source_connection_id longer than 20 bytes', param(0x0f, Buffer.alloc(21))],
    ['version_information of 3 bytes (RFC 9368 §4)', param(0x11, hex('000001'))],
    ['version_information of 6 bytes (RFC 9368 §4)', param(0x11, hex('000000010000'))],
    ['version_information with Chosen Version 0 (RFC 9368 §4)', param(0x11, hex('00000000'))],
    ['version_information with an Available Version 0 (RFC 9368 §4)', param(0x11, hex('0000000100000001 00000000'))],
    ['client Chosen Version not in Available Versions (RFC 9368 §4)', param(0x11, hex('00000001 6b3343cf'))],
    ['a value longer than the data', hex('0405')],
  ])('%s', (_name, bad) => {
    expectParamError(Buffer.concat([iscid, bad]), 'client');
  });

  it('reads an integer value in any varint length that fills it (RFC 9000 §16, §18)', () => {
    const encodings: [string, number][] = [
      ['25', 0x25],
      ['4025', 0x25],
      ['80000025', 0x25],
      ['c000000000000025', 0x25],
      ['7bbd', 15293],
      ['9d7f3e7d', 494878333],
      ['c000000100000000', 2 ** 32],
    ];
    for (const [bytes, value] of encodings) {
      expect(decodeTransportParameters(Buffer.concat([iscid, param(0x04, hex(bytes))]), 'client').initialMaxData, bytes).toBe(value);
    }
  });

  it('rejects a duplicated parameter (§7.4), known or not', () => {
    expectParamError(Buffer.concat([iscid, varintParam(0x01, 5), varintParam(0x01, 5)]), 'client', /§7.4/);
    expectParamError(Buffer.concat([iscid, iscid]), 'client', /§7.4/);
    expectParamError(Buffer.concat([iscid, param(27, hex('')), param(27, hex(''))]), 'client', /§7.4/);
  });

  it.each([0x00, 0x02, 0x0d, 0x10])('rejects server-only parameter %i from a client', (id) => {
    expectParamError(Buffer.concat([iscid, param(id, Buffer.alloc(16))]), 'client', /§18.2/);
  });

  it('requires initial_source_connection_id, and original_destination_connection_id from a server (§7.3)', () => {
    expectParamError(varintParam(0x01, 5), 'client', /§7.3/);
    expectParamError(iscid, 'server', /§7.3/);
    expect(decodeTransportParameters(Buffer.concat([odcid, iscid]), 'server').originalDestinationConnectionId).toEqual(hex('0102030405060708'));
  });

  it('checks stateless_reset_token and preferred_address layouts', () => {
    const base = Buffer.concat([odcid, iscid]);
    expectParamError(Buffer.concat([base, param(0x02, Buffer.alloc(15))]), 'server');
    const address = (cidLength: number, extra = 0) =>
      Buffer.concat([Buffer.alloc(4 + 2 + 16 + 2), Buffer.of(cidLength), Buffer.alloc(cidLength + 16 + extra)]);
    expect(decodeTransportParameters(Buffer.concat([base, param(0x0d, address(4))]), 'server').preferredAddress?.connectionId).toEqual(Buffer.alloc(4));
    expectParamError(Buffer.concat([base, param(0x0d, address(0))]), 'server'); // zero-length CID (§18.2)
    expectParamError(Buffer.concat([base, param(0x0d, address(21))]), 'server');
    expectParamError(Buffer.concat([base, param(0x0d, address(4, 1))]), 'server'); // trailing byte
    expectParamError(Buffer.concat([base, param(0x0d, address(4).subarray(0, 40))]), 'server'); // short
  });

  it('lets a server leave its Chosen Version out of its Available Versions (RFC 9368 §4)', () => {
    const p = decodeTransportParameters(Buffer.concat([odcid, iscid, param(0x11, hex('00000001'))]), 'server');
    expect(p.versionInformation).toEqual({ chosenVersion: QUIC_V1, availableVersions: [] });
  });

  it('refuses to encode values §18.2 forbids', () => {
    expect(() => encodeTransportParameters({ maxUdpPayloadSize: 1000 })).toThrow(RangeError);
    expect(() => encodeTransportParameters({ activeConnectionIdLimit: 1 })).toThrow(RangeError);
    expect(() => encodeTransportParameters({ statelessResetToken: Buffer.alloc(3) })).toThrow(RangeError);
    expect(() => encodeTransportParameters({ initialSourceConnectionId: Buffer.alloc(21) })).toThrow(RangeError);
  });

  it('gives parameters or a TransportError for random bytes, never another throw (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom('client' as const, 'server' as const), (bytes, sender) => {
        try {
          decodeTransportParameters(bytes, sender);
        } catch (err) {
          expect(err).toBeInstanceOf(TransportError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
