/**
 * The server's certificate chain and private key, parsed once: a QUIC endpoint makes a TLS server
 * per connection, and parsing PEM and checking that the key fits the leaf (RFC 8446 §4.4.2: the
 * end-entity certificate carries the key that signs CertificateVerify) costs milliseconds.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { splitPem } from './certificate-verify.js';
import { schemesForKey } from './signature.js';

export interface Credentials {
  /** DER certificates, leaf first, as sent in Certificate. */
  readonly chain: readonly Buffer[];
  readonly privateKey: KeyObject;
}

const MAX_CACHED = 32;
const byPemKey = new Map<string, Credentials>();
const byKeyObject = new WeakMap<KeyObject, Map<string, Credentials>>();

/**
 * The last answer for each chain array, with the strings and key it was given: a QUIC server
 * passes the same configuration to every connection, and comparing a few string references is
 * cheaper than joining the PEM text into a cache key per handshake. A changed element or key
 * misses and goes through the content cache below.
 */
const byChainArray = new WeakMap<readonly string[], { pems: readonly string[]; privateKey: KeyObject | string; credentials: Credentials }>();

function sameConfiguration(entry: { pems: readonly string[]; privateKey: KeyObject | string }, chain: readonly string[], privateKey: KeyObject | string): boolean {
  if (entry.privateKey !== privateKey || entry.pems.length !== chain.length) return false;
  for (let i = 0; i < chain.length; i++) if (entry.pems[i] !== chain[i]) return false;
  return true;
}

/** Parses and checks a chain and key; throws TypeError for a configuration that cannot work. */
export function loadCredentials(certificateChain: readonly string[], privateKey: KeyObject | string): Credentials {
  const last = byChainArray.get(certificateChain);
  if (last !== undefined && sameConfiguration(last, certificateChain, privateKey)) return last.credentials;
  const credentials = loadByContent(certificateChain, privateKey);
  byChainArray.set(certificateChain, { pems: [...certificateChain], privateKey, credentials });
  return credentials;
}

function loadByContent(certificateChain: readonly string[], privateKey: KeyObject | string): Credentials {
  const chainKey = certificateChain.join('\n');
  const cache = typeof privateKey === 'string' ? byPemKey : byKeyObject.get(privateKey) ?? new Map<string, Credentials>();
  const cacheKey = typeof privateKey === 'string' ? `${chainKey}\0${privateKey}` : chainKey;
  const hit = cache.get(cacheKey);
  if (hit) return hit;

  const certs = certificateChain.flatMap(splitPem).map((pem) => new X509Certificate(pem));
  if (certs.length === 0) throw new TypeError('certificateChain holds no PEM certificate');
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  if (schemesForKey(key).length === 0) throw new TypeError('private key type has no TLS 1.3 signature scheme here');
  // A mismatched key would only show up as every client's decrypt_error: refuse it here.
  if (!certs[0]!.checkPrivateKey(key)) throw new TypeError('privateKey does not match the leaf certificate');

  const credentials: Credentials = { chain: certs.map((c) => Buffer.from(c.raw)), privateKey: key };
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
  cache.set(cacheKey, credentials);
  if (typeof privateKey !== 'string') byKeyObject.set(privateKey, cache);
  return credentials;
}
