/**
 * Our transport parameters (RFC 9000 §7.3, §18.2): whatever the settings, connection IDs, reset
 * token and version information, the encoding decodes back to them, also when parameters encoded
 * for other settings are kept from earlier calls; forbidden values are refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TRANSPORT_SETTINGS, localTransportParameters, type TransportSettings } from '../../../src/quic/connection/transport-parameters.js';
import { decodeTransportParameters } from '../../../src/quic/transport-params.js';

const settingsArb: fc.Arbitrary<TransportSettings> = fc.record({
  maxIdleTimeout: fc.nat({ max: 2 ** 40 }),
  initialMaxData: fc.nat({ max: 2 ** 50 }),
  initialMaxStreamDataBidiLocal: fc.nat({ max: 2 ** 40 }),
  initialMaxStreamDataBidiRemote: fc.nat({ max: 2 ** 40 }),
  initialMaxStreamDataUni: fc.nat({ max: 2 ** 40 }),
  initialMaxStreamsBidi: fc.nat({ max: 2 ** 40 }),
  initialMaxStreamsUni: fc.nat({ max: 2 ** 40 }),
  maxAckDelay: fc.nat({ max: 2 ** 14 - 1 }),
  ackDelayExponent: fc.nat({ max: 20 }),
  activeConnectionIdLimit: fc.integer({ min: 2, max: 2 ** 20 }),
  maxUdpPayloadSize: fc.integer({ min: 1200, max: 65527 }),
  disableActiveMigration: fc.boolean(),
});
const cidArb = fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b));
const versionsArb = fc.option(fc.record({ chosenVersion: fc.constantFrom(1, 0x6b3343cf), availableVersions: fc.constant<number[]>([1, 0x6b3343cf]) }), { nil: undefined });
const serverArb = fc.option(
  fc.record({
    originalDcid: cidArb,
    retryScid: fc.option(cidArb, { nil: undefined }),
    resetToken: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b)),
  }),
  { nil: undefined },
);

describe('localTransportParameters', () => {
  it('decodes back to the settings, connection IDs, token and versions, call after call (property)', () => {
    const one = fc.record({ settings: settingsArb, scid: cidArb, server: serverArb, versions: versionsArb });
    fc.assert(
      fc.property(fc.array(one, { minLength: 1, maxLength: 4 }), fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 12 }), (configs, order) => {
        let previous: Buffer | undefined;
        for (const i of order) {
          const { settings, scid, server, versions } = configs[i % configs.length]!;
          const bytes = localTransportParameters(settings, scid, server, versions);
          expect(bytes).not.toBe(previous); // a new Buffer each time
          previous?.fill(0xff); // changing an earlier result changes nothing later
          previous = bytes;
          const p = decodeTransportParameters(bytes, server ? 'server' : 'client');
          expect(p.maxIdleTimeout).toBe(settings.maxIdleTimeout);
          expect(p.initialMaxData).toBe(settings.initialMaxData);
          expect(p.initialMaxStreamDataBidiLocal).toBe(settings.initialMaxStreamDataBidiLocal);
          expect(p.initialMaxStreamDataBidiRemote).toBe(settings.initialMaxStreamDataBidiRemote);
          expect(p.initialMaxStreamDataUni).toBe(settings.initialMaxStreamDataUni);
          expect(p.initialMaxStreamsBidi).toBe(settings.initialMaxStreamsBidi);
          expect(p.initialMaxStreamsUni).toBe(settings.initialMaxStreamsUni);
          expect(p.maxAckDelay).toBe(settings.maxAckDelay);
          expect(p.ackDelayExponent).toBe(settings.ackDelayExponent);
          expect(p.activeConnectionIdLimit).toBe(settings.activeConnectionIdLimit);
          expect(p.maxUdpPayloadSize).toBe(settings.maxUdpPayloadSize);
          expect(p.disableActiveMigration).toBe(settings.disableActiveMigration);
          expect(Buffer.from(p.initialSourceConnectionId!).equals(scid)).toBe(true);
          expect(p.versionInformation).toEqual(versions);
          if (server) {
            expect(Buffer.from(p.originalDestinationConnectionId!).equals(server.originalDcid)).toBe(true);
            expect(Buffer.from(p.statelessResetToken!).equals(server.resetToken)).toBe(true);
            expect(p.retrySourceConnectionId === undefined ? undefined : Buffer.from(p.retrySourceConnectionId)).toEqual(server.retryScid);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a settings object changed in place is encoded with its new values', () => {
    const settings = { ...DEFAULT_TRANSPORT_SETTINGS };
    const scid = Buffer.alloc(8, 1);
    expect(decodeTransportParameters(localTransportParameters(settings, scid, undefined), 'client').maxIdleTimeout).toBe(30_000);
    settings.maxIdleTimeout = 5_000;
    expect(decodeTransportParameters(localTransportParameters(settings, scid, undefined), 'client').maxIdleTimeout).toBe(5_000);
  });

  it('settings that differ from earlier ones in any single field are encoded with their own value', () => {
    const scid = Buffer.alloc(8, 2);
    const other: TransportSettings = {
      maxIdleTimeout: 7_000,
      initialMaxData: 12_345,
      initialMaxStreamDataBidiLocal: 2_345,
      initialMaxStreamDataBidiRemote: 3_456,
      initialMaxStreamDataUni: 4_567,
      initialMaxStreamsBidi: 17,
      initialMaxStreamsUni: 19,
      maxAckDelay: 40,
      ackDelayExponent: 5,
      activeConnectionIdLimit: 3,
      maxUdpPayloadSize: 1_350,
      disableActiveMigration: true,
    };
    for (const field of Object.keys(DEFAULT_TRANSPORT_SETTINGS) as (keyof TransportSettings)[]) {
      expect(other[field], field).not.toBe(DEFAULT_TRANSPORT_SETTINGS[field]);
      localTransportParameters(DEFAULT_TRANSPORT_SETTINGS, scid, undefined);
      const changed = { ...DEFAULT_TRANSPORT_SETTINGS, [field]: other[field] };
      const decoded = decodeTransportParameters(localTransportParameters(changed, scid, undefined), 'client');
      expect(decoded[field], field).toBe(other[field]);
    }
  });

  it('refuses values RFC 9000 §18.2 forbids', () => {
    const scid = Buffer.alloc(8);
    const server = { originalDcid: Buffer.alloc(8), retryScid: undefined, resetToken: Buffer.alloc(16) };
    expect(() => localTransportParameters(DEFAULT_TRANSPORT_SETTINGS, Buffer.alloc(21), undefined)).toThrow(RangeError);
    expect(() => localTransportParameters(DEFAULT_TRANSPORT_SETTINGS, scid, { ...server, originalDcid: Buffer.alloc(21) })).toThrow(RangeError);
    expect(() => localTransportParameters(DEFAULT_TRANSPORT_SETTINGS, scid, { ...server, retryScid: Buffer.alloc(21) })).toThrow(RangeError);
    expect(() => localTransportParameters(DEFAULT_TRANSPORT_SETTINGS, scid, { ...server, resetToken: Buffer.alloc(15) })).toThrow(RangeError);
    expect(() => localTransportParameters({ ...DEFAULT_TRANSPORT_SETTINGS, ackDelayExponent: 21 }, scid, undefined)).toThrow(RangeError);
    expect(() => localTransportParameters({ ...DEFAULT_TRANSPORT_SETTINGS, maxUdpPayloadSize: 1199 }, scid, undefined)).toThrow(RangeError);
  });
});
