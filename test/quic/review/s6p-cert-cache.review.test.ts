/**
 * Review of e29eab1 (issue 5): the client's parsed server certificates found by comparing DER
 * bytes. The DER a chain check gets is a view into a received message, whose memory is reused
 * once the message is processed. Checked: the cache keeps bytes of its own, so a certificate whose
 * bytes arrive in the very buffer of one already accepted, now overwritten with a forgery, is
 * checked on its own (RFC 8446 §4.4.2.4: the chain is checked as sent, against the trust store);
 * a chain accepted against one trust store is refused against another.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TlsAlert } from '../../../src/quic/tls/alerts.js';
import { parseCaList, verifyServerChain } from '../../../src/quic/tls/certificate-verify.js';
import { CA, NOW } from '../tls/harness.js';

const pem = (name: string) => readFileSync(fileURLToPath(new URL(`../tls/certs/${name}`, import.meta.url)), 'utf8');
const der = (p: string) => Buffer.from(new X509Certificate(p).raw);

function refused(f: () => unknown): boolean {
  try {
    f();
    return false;
  } catch (err) {
    expect(err).toBeInstanceOf(TlsAlert);
    return true;
  }
}

describe('review e29eab1: certificates cached by their bytes (RFC 8446 §4.4.2.4)', () => {
  const check = { serverName: 'localhost', ca: parseCaList([CA]), now: NOW };

  it('a message buffer reused for a forged certificate is not taken for the one accepted from it before', () => {
    const leafBytes = der(pem('chained.pem'));
    const intermediateBytes = der(pem('intermediate.pem'));
    // One receive buffer holding the Certificate message's two entries, as a reassembled CRYPTO stream would.
    const message = Buffer.concat([leafBytes, intermediateBytes]);
    const leafView = message.subarray(0, leafBytes.length);
    const intermediateView = message.subarray(leafBytes.length);
    verifyServerChain([leafView, intermediateView], check);
    // The buffer is reused: the next message, in the same memory, is the leaf with a flipped signature bit.
    leafView[leafView.length - 3]! ^= 0x01;
    expect(refused(() => verifyServerChain([leafView, intermediateView], check))).toBe(true);
    // The genuine bytes, arriving again in a fresh buffer, are still accepted.
    leafView[leafView.length - 3]! ^= 0x01;
    expect(refused(() => verifyServerChain([Buffer.from(leafBytes), Buffer.from(intermediateBytes)], check))).toBe(false);
  });

  it('a chain accepted under one trust store is refused under another that does not hold its root', () => {
    const chain = [der(pem('chained.pem')), der(pem('intermediate.pem'))];
    verifyServerChain(chain, check);
    const otherStore = parseCaList([pem('rsa.pem')]);
    expect(refused(() => verifyServerChain(chain, { ...check, ca: otherStore }))).toBe(true);
    expect(refused(() => verifyServerChain(chain, check))).toBe(false);
  });
});
