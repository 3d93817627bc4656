/**
 * A server reads the client's transport parameters twice over: to choose the version (RFC 9368
 * §2.3, while TLS builds EncryptedExtensions) and to apply them (RFC 9000 §7.4). connection.ts
 * decodes them once and applies that result; parameters that do not decode still close the
 * connection with TRANSPORT_PARAMETER_ERROR when they are applied (RFC 9000 §7.4, §18.2).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TransportError, TransportErrorCode } from '../../../src/quic/errors.js';
import * as params from '../../../src/quic/transport-params.js';
import { Pair } from '../sim/harness.js';

const decodeCalls: ('client' | 'server')[] = [];
let refuseClientParameters = false;

vi.mock('../../../src/quic/transport-params.js', async (importOriginal) => {
  const original = await importOriginal<typeof params>();
  return {
    ...original,
    decodeTransportParameters: (raw: Buffer, sender: 'client' | 'server') => {
      decodeCalls.push(sender);
      if (refuseClientParameters && sender === 'client') {
        throw new TransportError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, 'test: refused', 'RFC 9000 §7.4');
      }
      return original.decodeTransportParameters(raw, sender);
    },
  };
});

afterEach(() => {
  decodeCalls.length = 0;
  refuseClientParameters = false;
});

describe('QUIC server: the client transport parameters (RFC 9000 §7.4, RFC 9368 §2.3)', () => {
  it('are decoded once per connection and applied: the smaller idle timeout wins on the server (§10.1)', () => {
    const pair = new Pair({ client: { transport: { maxIdleTimeout: 7_000 } } });
    expect(pair.handshake()).toBe(true);
    expect(decodeCalls.filter((s) => s === 'client')).toEqual(['client']);
    expect(decodeCalls.filter((s) => s === 'server')).toEqual(['server']);
    expect((pair.server as unknown as { idleTimeout: number }).idleTimeout).toBe(7_000);
  });

  it('that do not decode close the connection with TRANSPORT_PARAMETER_ERROR', () => {
    refuseClientParameters = true;
    const pair = new Pair();
    pair.run(() => pair.client.state !== 'handshake', 5_000);
    expect(pair.server?.closeReason).toMatchObject({ code: TransportErrorCode.TRANSPORT_PARAMETER_ERROR, source: 'local' });
    expect(pair.client.isHandshakeComplete).toBe(false);
  });
});
