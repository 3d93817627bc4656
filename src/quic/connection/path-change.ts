/**
 * What kind of change of network path a new address is (RFC 9000 §9.4, §14): a change of port
 * alone (usually a NAT rebinding) may keep the path's congestion, RTT and datagram size state; a
 * change of IP address is a new path, whose state starts from initial values.
 */
import type { PeerAddress } from './types.js';

/** `::ffff:192.0.2.1` and `192.0.2.1` name the same IPv4 host (RFC 4291 §2.5.5.2). */
export function canonicalIp(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}

/** Whether `a` and `b` have the same IP address (whatever their ports). */
export function sameIp(a: PeerAddress, b: PeerAddress): boolean {
  return a.address === b.address || canonicalIp(a.address) === canonicalIp(b.address);
}

/**
 * Whether `address` is an IP address rather than a host name: IPv6 text has colons (RFC 4291
 * §2.2), which no host name has; IPv4 is four dotted decimals.
 */
export function isIpLiteral(address: string): boolean {
  return address.includes(':') || /^\d{1,3}(?:\.\d{1,3}){3}$/.test(address);
}
