/**
 * What kind of change of network path a new address is (RFC 9000 §9.4, §14): a change of port
 * alone (usually a NAT rebinding) may keep the path's congestion, RTT and datagram size state; a
 * change of IP address is a new path, whose state starts from initial values.
 */
import type { PeerAddress } from './types.js';

/**
 * One text form per IP address, for comparing addresses: an IPv4-mapped IPv6 address becomes its
 * IPv4 address (`::ffff:192.0.2.1`, `::ffff:c000:201` → `192.0.2.1`, RFC 4291 §2.5.5.2), and any
 * other IPv6 text its eight groups in lowercase hex without leading zeros (RFC 4291 §2.2 allows
 * leading zeros, `::` and a dotted tail, so `::1` and `0:0:0:0:0:0:0:1` are the same host). A zone
 * (`%eth0`, RFC 4007 §11) is kept. IPv4 text and anything that does not parse come back as given.
 */
export function canonicalIp(address: string): string {
  if (!address.includes(':')) return address;
  const zoneAt = address.indexOf('%');
  const groups = ipv6Groups(zoneAt < 0 ? address : address.slice(0, zoneAt));
  if (groups === undefined) return address.toLowerCase();
  const zone = zoneAt < 0 ? '' : address.slice(zoneAt);
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff && zone === '') {
    return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  }
  return groups.map((g) => g.toString(16)).join(':') + zone;
}

/** The eight 16-bit groups of IPv6 text (RFC 4291 §2.2: hex groups, one `::`, a dotted IPv4 tail), or undefined. */
function ipv6Groups(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const compressed = halves.length === 2;
  // The dotted tail ends the address: the head may end in one only without `::`.
  const head = parseGroups(halves[0]!, !compressed);
  const tail = compressed ? parseGroups(halves[1]!, true) : [];
  if (head === undefined || tail === undefined) return undefined;
  if (!compressed) return head.length === 8 ? head : undefined;
  const zeros = 8 - head.length - tail.length;
  if (zeros < 1) return undefined; // `::` stands for at least one group of zeros
  return [...head, ...new Array<number>(zeros).fill(0), ...tail];
}

/** Colon-separated hex groups; a last part in dotted IPv4 counts as two groups when `dottedLast`. */
function parseGroups(text: string, dottedLast: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (dottedLast && i === parts.length - 1 && part.includes('.')) {
      const octets = part.split('.');
      if (octets.length !== 4 || !octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)) return undefined;
      groups.push((Number(octets[0]) << 8) | Number(octets[1]), (Number(octets[2]) << 8) | Number(octets[3]));
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/** Whether `a` and `b` have the same IP address (whatever their ports). */
export function sameIp(a: PeerAddress, b: PeerAddress): boolean {
  return a.address === b.address || canonicalIp(a.address) === canonicalIp(b.address);
}

/** The same UDP peer: the same IP address (in any text form, canonicalIp) and port. */
export function samePeer(a: PeerAddress, b: PeerAddress): boolean {
  return a.port === b.port && sameIp(a, b);
}

/**
 * Whether `address` is an IP address rather than a host name: IPv6 text has colons (RFC 4291
 * §2.2), which no host name has; IPv4 is four dotted decimals.
 */
export function isIpLiteral(address: string): boolean {
  return address.includes(':') || /^\d{1,3}(?:\.\d{1,3}){3}$/.test(address);
}
