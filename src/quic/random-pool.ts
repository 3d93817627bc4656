/**
 * Cryptographically secure random bytes drawn from a pool: node:crypto's randomBytes costs several
 * microseconds per call whatever its size, and a handshake asks for many small pieces (connection
 * IDs, key shares, TLS randoms, tokens, stateless reset bytes). RFC 9000 §7.2, §10.3 and RFC 8446
 * §4.1.2 need unpredictable values; the pool is refilled from the same CSPRNG and never hands out
 * the same bytes twice.
 */
import { randomFillSync } from 'node:crypto';

/** Requests larger than this go straight to the CSPRNG. */
const MAX_POOLED_REQUEST = 256;

/** A `random(n)` function for the router and connections. Each result is a fresh Buffer the caller owns. */
export function pooledRandomBytes(poolSize = 4096): (n: number) => Buffer {
  const pool = Buffer.alloc(poolSize);
  let offset = poolSize;
  return (n: number): Buffer => {
    const out = Buffer.allocUnsafe(n);
    if (n > MAX_POOLED_REQUEST || n > poolSize) return randomFillSync(out);
    if (offset + n > poolSize) {
      randomFillSync(pool);
      offset = 0;
    }
    pool.copy(out, 0, offset, offset + n);
    // Bytes handed out are wiped, so that nothing left in memory can be handed out twice.
    pool.fill(0, offset, offset + n);
    offset += n;
    return out;
  };
}
