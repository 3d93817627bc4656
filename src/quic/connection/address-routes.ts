/**
 * Routing by the server's address, for a client that uses zero-length connection IDs (RFC 9000
 * §5.1, §5.2, §5.2.1): every packet toward such a client carries an empty Destination Connection
 * ID, so the only thing that tells its connections apart on one socket is where a packet comes
 * from. One connection per server address (IP and port) is allowed on a socket:
 *
 * - §5.1: "An endpoint MUST NOT use the same IP address and port for multiple concurrent
 *   connections with zero-length connection IDs, unless it is certain that those protocol features
 *   [peer connection migration, NAT rebinding, client port reuse] are not in use." A server cannot
 *   migrate in QUIC v1 (§9: only clients do; we take no preferred_address), a client discards
 *   packets from any address but its server's (§9), and connections to different server addresses
 *   cannot be confused — so the features that would break this routing are not in use. Two
 *   connections to the same server address would be, and the second is refused.
 * - The server's address must be an IP literal: a host name is resolved by the socket and the
 *   packets come back from an address this table could not have known.
 */
import { isIpLiteral, canonicalIp } from './path-change.js';
import type { PeerAddress } from './types.js';

/** The routing key of a UDP peer: `::ffff:192.0.2.1` and `192.0.2.1` are one peer (RFC 4291 §2.5.5.2). */
function addressKey(peer: PeerAddress): string {
  return `${canonicalIp(peer.address)}|${peer.port}`;
}

/** A zero-length-ID client's connections by their server's address; `T` is the connection. */
export class AddressRoutes<T> {
  private readonly routes = new Map<string, T>();
  /** Each connection's key, to forget it by the connection alone. */
  private readonly keys = new Map<T, string>();

  /**
   * Routes packets from `server` to `conn`. Throws when the address is a host name, or when a
   * connection `isLive` still holds that address (§5.1, see above).
   */
  add(server: PeerAddress, conn: T, isLive: (other: T) => boolean): void {
    if (!isIpLiteral(server.address)) {
      throw new Error(`zero-length connection IDs route by the server's address (RFC 9000 §5.2): ${server.address} is not an IP address`);
    }
    const key = addressKey(server);
    const other = this.routes.get(key);
    if (other !== undefined && isLive(other)) {
      throw new Error(`a connection to ${server.address} port ${server.port} with zero-length connection IDs is open on this socket (RFC 9000 §5.1: one per address and port)`);
    }
    if (other !== undefined) this.keys.delete(other);
    this.routes.set(key, conn);
    this.keys.set(conn, key);
  }

  /** The connection whose server sent from `from`, if any. */
  get(from: PeerAddress): T | undefined {
    return this.routes.get(addressKey(from));
  }

  /** Stops routing to `conn` (it closed). */
  delete(conn: T): void {
    const key = this.keys.get(conn);
    if (key === undefined) return;
    this.keys.delete(conn);
    if (this.routes.get(key) === conn) this.routes.delete(key);
  }
}
