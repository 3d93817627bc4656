/**
 * Review of 94a6206 (issue 5): server_name (RFC 6066 §3) and ALPN (RFC 7301 §3.1, §3.2) extension
 * bodies encoded once and shared by every handshake. Checked: a ClientHello's bytes overwritten by
 * whoever received them leave the next ClientHello intact (the shared bodies are copied, never
 * lent); more names than the cache holds (64), then the first ones again, are each sent as
 * themselves; the selected protocol past the server's bound (32) is still named right.
 */
import { describe, expect, it } from 'vitest';
import * as ext from '../../../src/quic/tls/extensions.js';
import { decodeClientHello, decodeEncryptedExtensions } from '../../../src/quic/tls/messages.js';
import { drive, makeClient, makeServer } from '../tls/harness.js';

/** The ClientHello message a new client writes (with its 4-byte handshake header). */
function helloBytes(overrides: Parameters<typeof makeClient>[0]): Buffer {
  const client = makeClient(overrides);
  client.start();
  for (let e = client.poll(); e; e = client.poll()) if (e.type === 'handshake-data') return e.data;
  throw new Error('no ClientHello');
}

function serverNameOf(hello: Buffer): string | null | undefined {
  const body = ext.findExtension(decodeClientHello(hello.subarray(4)).extensions, ext.ExtensionType.server_name);
  return body === undefined ? undefined : ext.decodeServerName(body);
}

function alpnOf(hello: Buffer): string[] {
  return ext.decodeAlpn(ext.findExtension(decodeClientHello(hello.subarray(4)).extensions, ext.ExtensionType.application_layer_protocol_negotiation)!);
}

describe('review 94a6206: shared server_name and ALPN bodies (RFC 6066 §3, RFC 7301 §3.1)', () => {
  it('a ClientHello overwritten by its receiver leaves the next one intact', () => {
    const alpn = ['h3'];
    const first = helloBytes({ serverName: 'shared.example', alpn });
    expect(serverNameOf(first)).toBe('shared.example');
    first.fill(0x41); // the bytes now belong to whoever got them (a CRYPTO stream, a copy in a record)
    const second = helloBytes({ serverName: 'shared.example', alpn });
    expect(serverNameOf(second)).toBe('shared.example');
    expect(alpnOf(second)).toEqual(['h3']);
  });

  it('more names than the cache keeps, then the first again: each ClientHello names its own host', () => {
    const names = Array.from({ length: 70 }, (_, i) => `host-${i}.example.test`);
    for (const name of [...names, ...names.slice(0, 8), '10.1.2.3', names[0]!]) {
      const hello = helloBytes({ serverName: name });
      if (name === '10.1.2.3') expect(serverNameOf(hello)).toBeUndefined();
      else expect(serverNameOf(hello)).toBe(name);
    }
  });

  it('the server names each selected protocol, also past its bound of kept bodies (RFC 7301 §3.2)', () => {
    const protocols = Array.from({ length: 40 }, (_, i) => `proto-${i}`);
    for (const protocol of [...protocols, protocols[0]!, protocols[39]!]) {
      const client = makeClient({ alpn: [protocol] });
      const server = makeServer('ecdsa', { alpn: protocols });
      const serverData: Buffer[] = [];
      client.start();
      const originalPoll = server.poll.bind(server);
      server.poll = () => {
        const e = originalPoll();
        if (e?.type === 'handshake-data' && e.level === 'handshake') serverData.push(Buffer.from(e.data));
        return e;
      };
      drive(client, server);
      expect([client.handshakeComplete, client.alpn, server.alpn]).toEqual([true, protocol, protocol]);
      // EncryptedExtensions is the first handshake-level message: its ALPN names exactly the one protocol.
      const flight = Buffer.concat(serverData);
      expect(flight[0]).toBe(8);
      const ee = decodeEncryptedExtensions(flight.subarray(4, 4 + flight.readUIntBE(1, 3)));
      expect(ext.decodeAlpn(ext.findExtension(ee.extensions, ext.ExtensionType.application_layer_protocol_negotiation)!)).toEqual([protocol]);
    }
  });
});
