/**
 * Transport parameters of an endpoint with a zero-length connection ID (RFC 9000 §7.3, §10.3.2,
 * §18.2): initial_source_connection_id is present with a zero-length value and is authenticated
 * like any other; a zero-length server sends no stateless_reset_token and no preferred_address.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { authenticateConnectionIds, DEFAULT_TRANSPORT_SETTINGS, localTransportParameters } from '../../../src/quic/connection/transport-parameters.js';
import { TransportError, TransportErrorCode } from '../../../src/quic/errors.js';
import { decodeTransportParameters, encodeTransportParameters } from '../../../src/quic/transport-params.js';

const EMPTY = Buffer.alloc(0);
const ODCID = Buffer.alloc(8, 0x0d);

function errorOf(f: () => void): TransportError | undefined {
  try {
    f();
  } catch (err) {
    if (err instanceof TransportError) return err;
    throw err;
  }
  return undefined;
}

describe('zero-length connection IDs in transport parameters', () => {
  it('initial_source_connection_id is sent with a zero-length value, and decodes as present (RFC 9000 §7.3)', () => {
    const client = decodeTransportParameters(localTransportParameters(DEFAULT_TRANSPORT_SETTINGS, EMPTY, undefined), 'client');
    expect(client.initialSourceConnectionId).toBeDefined();
    expect(client.initialSourceConnectionId!.length).toBe(0);
    expect(errorOf(() => authenticateConnectionIds(client, { initialScid: EMPTY, checkServerIds: false }))).toBeUndefined();
  });

  it('an empty SCID in the header and any other value in the parameters do not match, nor do absent and empty (RFC 9000 §7.3)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 20 }), (other) => {
        const params = decodeTransportParameters(localTransportParameters(DEFAULT_TRANSPORT_SETTINGS, Buffer.from(other), undefined), 'client');
        expect(errorOf(() => authenticateConnectionIds(params, { initialScid: EMPTY, checkServerIds: false }))?.code).toBe(TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
        const empty = decodeTransportParameters(localTransportParameters(DEFAULT_TRANSPORT_SETTINGS, EMPTY, undefined), 'client');
        expect(errorOf(() => authenticateConnectionIds(empty, { initialScid: Buffer.from(other), checkServerIds: false }))?.code).toBe(TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
      }),
      { numRuns: 200 },
    );
    // Absent altogether: the decoder refuses it (RFC 9000 §7.3), so it never reaches the comparison.
    expect(() => decodeTransportParameters(encodeTransportParameters({ maxIdleTimeout: 1 }), 'client')).toThrow(TransportError);
  });

  it('a server with a zero-length ID sends no stateless_reset_token (RFC 9000 §10.3.2), and its parameters authenticate', () => {
    const raw = localTransportParameters(DEFAULT_TRANSPORT_SETTINGS, EMPTY, { originalDcid: ODCID, retryScid: undefined, resetToken: undefined });
    const params = decodeTransportParameters(raw, 'server');
    expect(params.statelessResetToken).toBeUndefined();
    expect(params.initialSourceConnectionId!.length).toBe(0);
    expect(errorOf(() => authenticateConnectionIds(params, { initialScid: EMPTY, originalDcid: ODCID, retryScid: undefined, checkServerIds: true }))).toBeUndefined();
  });

  it('a preferred_address from a server with a zero-length ID is a TRANSPORT_PARAMETER_ERROR (RFC 9000 §18.2)', () => {
    const preferredAddress = {
      ipv4Address: Buffer.from([192, 0, 2, 1]), ipv4Port: 443, ipv6Address: Buffer.alloc(16), ipv6Port: 0,
      connectionId: Buffer.alloc(8, 7), statelessResetToken: Buffer.alloc(16, 9),
    };
    const withPreferred = (scid: Buffer) => decodeTransportParameters(encodeTransportParameters({
      originalDestinationConnectionId: ODCID, initialSourceConnectionId: scid, preferredAddress,
    }), 'server');
    const err = errorOf(() => authenticateConnectionIds(withPreferred(EMPTY), { initialScid: EMPTY, originalDcid: ODCID, retryScid: undefined, checkServerIds: true }));
    expect(err?.code).toBe(TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
    // The same from a server with an ID of its own is allowed.
    const scid = Buffer.alloc(8, 5);
    expect(errorOf(() => authenticateConnectionIds(withPreferred(scid), { initialScid: scid, originalDcid: ODCID, retryScid: undefined, checkServerIds: true }))).toBeUndefined();
  });
});
