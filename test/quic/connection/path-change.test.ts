/**
 * Which address changes are a new path (RFC 9000 §9.4): the same IP address with another port is
 * not; an IPv4 address and its IPv4-mapped IPv6 form (RFC 4291 §2.5.5.2) are the same address.
 */
import { describe, expect, it } from 'vitest';
import { isIpLiteral, sameIp } from '../../../src/quic/connection/path-change.js';

describe('sameIp (RFC 9000 §9.4 port-only changes)', () => {
  it('a port change alone keeps the IP address', () => {
    expect(sameIp({ address: '192.0.2.1', port: 443 }, { address: '192.0.2.1', port: 4433 })).toBe(true);
    expect(sameIp({ address: '2001:db8::1', port: 1 }, { address: '2001:DB8::1', port: 2 })).toBe(true);
  });

  it('another IP address is a new path', () => {
    expect(sameIp({ address: '192.0.2.1', port: 443 }, { address: '192.0.2.2', port: 443 })).toBe(false);
    expect(sameIp({ address: '2001:db8::1', port: 443 }, { address: '2001:db8::2', port: 443 })).toBe(false);
  });

  it('an IPv4-mapped IPv6 address is its IPv4 address', () => {
    expect(sameIp({ address: '::ffff:192.0.2.1', port: 1 }, { address: '192.0.2.1', port: 2 })).toBe(true);
    expect(sameIp({ address: '::FFFF:192.0.2.1', port: 1 }, { address: '::ffff:192.0.2.9', port: 1 })).toBe(false);
  });
});

describe('isIpLiteral (a client connect()ed to a host name learns the server address, RFC 9000 §9)', () => {
  it('IPv4 and IPv6 text are addresses', () => {
    for (const a of ['127.0.0.1', '192.0.2.255', '::1', '2001:db8::1', '::ffff:192.0.2.1', 'fe80::1%eth0']) expect(isIpLiteral(a)).toBe(true);
  });

  it('host names are not, even with digits and dots', () => {
    for (const a of ['localhost', 'quic.example', '1.2.3.example', '192.0.2', '10.0.0.1.nip.io', '']) expect(isIpLiteral(a)).toBe(false);
  });
});
