/**
 * Which address changes are a new path (RFC 9000 §9.4): the same IP address with another port is
 * not; an IPv4 address and its IPv4-mapped IPv6 form (RFC 4291 §2.5.5.2) are the same address.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalIp, isIpLiteral, sameIp } from '../../../src/quic/connection/path-change.js';

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

describe('canonicalIp: one text form per address (RFC 4291 §2.2, §2.5.5.2)', () => {
  it('the text forms of one IPv6 address compare equal; the mapped forms are the IPv4 address', () => {
    expect(canonicalIp('::1')).toBe(canonicalIp('0:0:0:0:0:0:0:1'));
    expect(canonicalIp('2001:DB8:0:0:0:0:0:1')).toBe(canonicalIp('2001:db8::0001'));
    expect(canonicalIp('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(canonicalIp('0:0:0:0:0:ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(canonicalIp('::FFFF:192.0.2.1')).toBe('192.0.2.1');
    expect(canonicalIp('192.0.2.1')).toBe('192.0.2.1');
    expect(canonicalIp('fe80::1%eth0')).toBe(canonicalIp('fe80:0::1%eth0'));
    expect(canonicalIp('fe80::1%eth0')).not.toBe(canonicalIp('fe80::1%eth1'));
    expect(canonicalIp('::')).toBe(canonicalIp('0:0:0:0:0:0:0:0'));
    expect(sameIp({ address: '::ffff:7f00:1', port: 1 }, { address: '127.0.0.1', port: 2 })).toBe(true);
  });

  it('text that is not an IPv6 address is left alone, never thrown on (property)', () => {
    for (const bad of ['1::2::3', ':::', '12345::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'g::1', '::1.2.3', '1.2.3.4::', '1:2:3:4:5:6:7::8']) {
      expect(canonicalIp(bad)).toBe(bad.toLowerCase());
    }
    fc.assert(fc.property(fc.string({ maxLength: 45 }), (s) => typeof canonicalIp(s) === 'string'), { numRuns: 300 });
  });

  it('two IPv6 texts compare equal exactly when the WHATWG URL parser normalises them alike (property)', () => {
    const group = fc.integer({ min: 0, max: 0xffff });
    // Addresses with runs of zeros (so that `::` is used) and IPv4-mapped ones, written in random forms.
    const groups = fc.array(fc.oneof(group, fc.constant(0), fc.constant(0)), { minLength: 8, maxLength: 8 });
    const write = (g: number[], form: { pad: boolean; upper: boolean; compress: boolean; dotted: boolean }): string => {
      let parts = g.map((x) => x.toString(16).padStart(form.pad ? 4 : 1, '0'));
      if (form.upper) parts = parts.map((p) => p.toUpperCase());
      if (form.dotted) parts = [...parts.slice(0, 6), `${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`];
      if (!form.compress) return parts.join(':');
      const zeroAt = g.findIndex((x, i) => x === 0 && i < parts.length);
      if (zeroAt < 0) return parts.join(':');
      let end = zeroAt;
      while (end < parts.length && g[end] === 0 && !(form.dotted && end >= 6)) end++;
      if (end === zeroAt) return parts.join(':');
      return `${parts.slice(0, zeroAt).join(':')}::${parts.slice(end).join(':')}`;
    };
    const formArb = fc.record({ pad: fc.boolean(), upper: fc.boolean(), compress: fc.boolean(), dotted: fc.boolean() });
    const urlForm = (text: string) => new URL(`http://[${text}]/`).hostname;
    fc.assert(
      fc.property(groups, groups, formArb, formArb, fc.boolean(), fc.boolean(), (a, b, fa, fb, mapped, sameAddress) => {
        if (mapped) a = [0, 0, 0, 0, 0, 0xffff, a[6]!, a[7]!];
        const other = sameAddress ? a : b;
        const ta = write(a, fa), tb = write(other, fb);
        expect(canonicalIp(ta) === canonicalIp(tb)).toBe(urlForm(ta) === urlForm(tb));
      }),
      { numRuns: 400 },
    );
  });
});
