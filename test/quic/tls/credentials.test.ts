/**
 * loadCredentials (RFC 8446 §4.4.2: the leaf certificate carries the key that signs
 * CertificateVerify): one parse per configuration, whether the caller passes the same array and
 * key again (the QUIC router does, per connection) or equal ones; a changed chain or key is seen.
 */
import { createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadCredentials } from '../../../src/quic/tls/credentials.js';
import { CERTS } from './harness.js';

describe('loadCredentials', () => {
  it('answers the same array and key with the same parsed credentials', () => {
    const chain = [CERTS.ecdsa.cert];
    const first = loadCredentials(chain, CERTS.ecdsa.key);
    expect(loadCredentials(chain, CERTS.ecdsa.key)).toBe(first);
    expect(loadCredentials([CERTS.ecdsa.cert], CERTS.ecdsa.key)).toBe(first); // equal contents, another array
    expect(first.chain).toHaveLength(1);
  });

  it('sees an element of the same array replaced, and a different key for the same array', () => {
    const chain = [CERTS.ecdsa.cert];
    const ecdsa = loadCredentials(chain, CERTS.ecdsa.key);
    chain[0] = CERTS.rsa.cert;
    const rsa = loadCredentials(chain, CERTS.rsa.key);
    expect(rsa).not.toBe(ecdsa);
    expect(rsa.privateKey.asymmetricKeyType).toBe('rsa');
    expect(rsa.chain[0]!.equals(ecdsa.chain[0]!)).toBe(false);
    // the same array with a key that does not fit its leaf is refused, every time
    expect(() => loadCredentials(chain, CERTS.ecdsa.key)).toThrow(TypeError);
    expect(() => loadCredentials(chain, CERTS.ecdsa.key)).toThrow(TypeError);
    expect(loadCredentials(chain, CERTS.rsa.key)).toBe(rsa);
  });

  it('keys given as KeyObjects are told apart by object', () => {
    const chain = [CERTS.ecdsa.cert];
    const key = createPrivateKey(CERTS.ecdsa.key);
    const first = loadCredentials(chain, key);
    expect(loadCredentials(chain, key)).toBe(first);
    expect(loadCredentials(chain, createPrivateKey(CERTS.ecdsa.key)).privateKey).not.toBe(key);
  });
});
