/**
 * AEAD packet protection for one direction at one encryption level (RFC 9001 §5.3): the nonce is
 * the IV XOR the packet number, the header is the associated data, and the output is
 * ciphertext||tag. A PacketProtector holds ready-made key objects so that nothing is derived per
 * packet, counts what RFC 9001 §6.6 asks to count, and makes the next generation for a key update
 * (RFC 9001 §6) keeping the same header protection key.
 *
 * Node's AEAD cipher objects are single-use (no re-keying or new nonce after final()), so each
 * packet needs a fresh one; what is prepared once is the nonce buffer and the header protection
 * cipher. The key stays a raw Buffer: a cipher made from a KeyObject costs no less per packet, and
 * importing one costs about 3 µs per protector, several of which every handshake makes.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { createHeaderProtection, type HeaderProtection } from './header-protection.js';
import { initialSecrets, nextSecret, packetKeys, type PacketKeys } from './keys.js';
import { CIPHER_SUITES, TAG_LENGTH, TLS_AES_128_GCM_SHA256, type AeadName, type CipherSuite, type SuiteParams } from './suites.js';

/** QUIC packet numbers are 0..2^62-1 (RFC 9000 §12.3); a JS number holds them exactly up to 2^53-1. */
function isPacketNumber(pn: number): boolean {
  return Number.isSafeInteger(pn) && pn >= 0;
}

/** Both AEADs here take a 16-byte tag; chacha20-poly1305 requires it to be stated. */
const AEAD_OPTIONS = Object.freeze({ authTagLength: TAG_LENGTH });

/** What sealing and opening need from Node's GCM and ChaCha20-Poly1305 cipher objects. */
interface AeadSeal {
  setAAD(aad: Uint8Array): unknown;
  update(data: Uint8Array): Buffer;
  final(): Buffer;
  getAuthTag(): Buffer;
}
interface AeadOpen {
  setAAD(aad: Uint8Array): unknown;
  setAuthTag(tag: Uint8Array): unknown;
  update(data: Uint8Array): Buffer;
  final(): Buffer;
}

// Node's typings overload createCipheriv per AEAD family and demand a plaintextLength option for
// ChaCha20-Poly1305's setAAD that only CCM needs at run time; these two helpers hide that.
function aeadCipher(aead: AeadName, key: Buffer, nonce: Buffer): AeadSeal {
  return aead === 'chacha20-poly1305'
    ? (createCipheriv(aead, key, nonce, AEAD_OPTIONS) as unknown as AeadSeal)
    : createCipheriv(aead, key, nonce, AEAD_OPTIONS);
}

function aeadDecipher(aead: AeadName, key: Buffer, nonce: Buffer): AeadOpen {
  return aead === 'chacha20-poly1305'
    ? (createDecipheriv(aead, key, nonce, AEAD_OPTIONS) as unknown as AeadOpen)
    : createDecipheriv(aead, key, nonce, AEAD_OPTIONS);
}

export class PacketProtector implements HeaderProtection {
  readonly params: SuiteParams;
  /** Packets sealed with this key: a key update is due before `params.confidentialityLimit` (RFC 9001 §6.6). */
  sealedPackets = 0;
  /** Packets that failed authentication under this key (summed per connection for RFC 9001 §6.6). */
  failedOpens = 0;

  private readonly key: Buffer;
  /** High and low 32 bits of the IV's last 8 bytes, XORed with the packet number. */
  private readonly ivHigh: number;
  private readonly ivLow: number;
  /** Reused per packet: createCipheriv copies the nonce in, so one buffer serves every call. */
  private readonly nonce: Buffer;
  /** The header protection this protector's key phase shares with every other (RFC 9001 §6). */
  readonly headerProtection: HeaderProtection;
  /** Version and our copy of the traffic secret, for nextGeneration(); absent for raw keys. */
  private readonly keyUpdate: { version: number; secret: Buffer } | undefined;

  /**
   * `secret` and `version` are only needed for `nextGeneration()`; `headerProtection` lets a key
   * update keep the connection's header protection key (RFC 9001 §6). `adoptKeys`: keep the key,
   * IV and header protection key buffers instead of copying them — only for keys derived for this
   * protector alone (fresh HKDF outputs no one else holds, as fromSecret(), adopt() and
   * nextGeneration() have): a copy is a Buffer each, and a handshake makes some six protectors per
   * end (issue 5).
   */
  constructor(
    readonly suite: CipherSuite,
    keys: PacketKeys,
    keyUpdate?: { version: number; secret: Uint8Array },
    headerProtection?: HeaderProtection,
    adoptKeys = false,
  ) {
    this.params = CIPHER_SUITES[suite];
    if (keys.key.length !== this.params.keyLength || keys.iv.length !== this.params.ivLength) {
      throw new RangeError(`${this.params.name} needs a ${this.params.keyLength}-byte key and 12-byte IV`);
    }
    // Our own copies, unless the keys were derived for this protector alone (adopt()): the
    // caller's buffers may be reused, and the nonce buffer is rewritten per packet.
    this.key = adoptKeys ? keys.key : Buffer.from(keys.key);
    // The secret too: the next key phase is derived from it long after the caller has moved on
    // (RFC 9001 §6.1), and a buffer the caller reuses or wipes would give keys the peer never has.
    if (keyUpdate) this.keyUpdate = { version: keyUpdate.version, secret: Buffer.from(keyUpdate.secret) };
    this.nonce = adoptKeys ? keys.iv : Buffer.from(keys.iv);
    this.ivHigh = this.nonce.readUInt32BE(4);
    this.ivLow = this.nonce.readUInt32BE(8);
    this.headerProtection = headerProtection ?? createHeaderProtection(suite, keys.hp, adoptKeys);
  }

  /**
   * A protector that takes `keys` as they are, without copies: only for keys derived for it alone
   * (packetKeys() or initialPacketKeys() results that the caller does not keep or pass on), since
   * it writes each packet's nonce into `keys.iv` (RFC 9001 §5.3).
   */
  static adopt(suite: CipherSuite, keys: PacketKeys): PacketProtector {
    return new PacketProtector(suite, keys, undefined, undefined, true);
  }

  /** Protector for a TLS traffic secret (or an Initial secret with TLS_AES_128_GCM_SHA256). */
  static fromSecret(version: number, suite: CipherSuite, secret: Uint8Array): PacketProtector {
    return new PacketProtector(suite, packetKeys(version, suite, secret), { version, secret }, undefined, true);
  }

  /**
   * The next key phase (RFC 9001 §6.1): key and IV from secret_<n+1> = Expand-Label(secret_n, "quic ku"),
   * the header protection key unchanged.
   */
  nextGeneration(): PacketProtector {
    if (!this.keyUpdate) throw new Error('this protector was made from raw keys and has no secret to update');
    const { version, secret } = this.keyUpdate;
    const next = nextSecret(version, this.suite, secret);
    return new PacketProtector(this.suite, packetKeys(version, this.suite, next), { version, secret: next }, this.headerProtection, true);
  }

  /** Encrypts `payload` with `header` as associated data; returns ciphertext||tag (RFC 9001 §5.3). */
  seal(packetNumber: number, header: Uint8Array, payload: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(payload.length + TAG_LENGTH);
    this.sealInto(packetNumber, header, payload, out, 0);
    return out;
  }

  /** Like seal(), writing ciphertext||tag into `out` at `offset`; returns the bytes written. */
  sealInto(packetNumber: number, header: Uint8Array, payload: Uint8Array, out: Buffer, offset: number): number {
    if (!isPacketNumber(packetNumber)) throw new RangeError(`packet number ${packetNumber} out of range`);
    const cipher = aeadCipher(this.params.aead, this.key, this.nonceFor(packetNumber));
    cipher.setAAD(header);
    const ciphertext = cipher.update(payload);
    cipher.final(); // GCM and Poly1305 are stream modes: final() yields no bytes.
    out.set(ciphertext, offset);
    out.set(cipher.getAuthTag(), offset + ciphertext.length);
    this.sealedPackets++;
    return ciphertext.length + TAG_LENGTH;
  }

  /**
   * Decrypts ciphertext||tag; null when authentication fails or the input cannot be a protected
   * payload. Never throws: a failure here is an ordinary event to be counted, not an error (RFC 9001 §5.5).
   */
  open(packetNumber: number, header: Uint8Array, payload: Uint8Array): Buffer | null {
    return this.openAt(packetNumber, header, payload, 0);
  }

  /**
   * Like open(), for the ciphertext||tag that runs from `payloadStart` to the end of `packet`: the
   * receive path passes the whole packet and saves a view of its payload per packet.
   */
  openAt(packetNumber: number, header: Uint8Array, packet: Uint8Array, payloadStart: number): Buffer | null {
    const tagStart = packet.length - TAG_LENGTH;
    if (!(payloadStart >= 0 && tagStart >= payloadStart) || !isPacketNumber(packetNumber)) {
      this.failedOpens++;
      return null;
    }
    try {
      const decipher = aeadDecipher(this.params.aead, this.key, this.nonceFor(packetNumber));
      decipher.setAAD(header);
      decipher.setAuthTag(packet.subarray(tagStart));
      const plaintext = decipher.update(packet.subarray(payloadStart, tagStart));
      decipher.final(); // throws when the tag does not verify
      return plaintext;
    } catch {
      this.failedOpens++;
      return null;
    }
  }

  /** Header protection mask for a 16-byte ciphertext sample (RFC 9001 §5.4.1); 5 bytes. */
  mask(sample: Uint8Array): Buffer {
    return this.headerProtection.mask(sample);
  }

  /** The mask for the sample at `packet[sampleOffset]` in bytes 0..4 of a possibly reused buffer (HeaderProtection.maskAt). */
  maskAt(packet: Uint8Array, sampleOffset: number): Uint8Array {
    return this.headerProtection.maskAt(packet, sampleOffset);
  }

  /** Masks of `count` back-to-back samples in one call (HeaderProtection.masksOf). */
  masksOf(samples: Uint8Array, count: number): Uint8Array {
    return this.headerProtection.masksOf(samples, count);
  }

  /**
   * RFC 9001 §5.3: the 62-bit packet number, left-padded to the IV's 12 bytes, XOR the IV.
   * Only the last 8 bytes can change; they are written as two 32-bit words.
   */
  private nonceFor(packetNumber: number): Buffer {
    const high = Math.floor(packetNumber / 0x1_0000_0000);
    this.nonce.writeUInt32BE((this.ivHigh ^ high) >>> 0, 4);
    this.nonce.writeUInt32BE((this.ivLow ^ packetNumber) >>> 0, 8);
    return this.nonce;
  }
}

/**
 * Initial packet protection for both directions (RFC 9001 §5.2): AEAD_AES_128_GCM keys from the
 * Destination Connection ID of the client's first Initial (or the one a Retry chose). A client
 * seals with `client` and opens with `server`; a server the other way round.
 */
export function initialProtectors(version: number, dcid: Uint8Array): { client: PacketProtector; server: PacketProtector } {
  const secrets = initialSecrets(version, dcid);
  return {
    client: PacketProtector.fromSecret(version, TLS_AES_128_GCM_SHA256, secrets.client),
    server: PacketProtector.fromSecret(version, TLS_AES_128_GCM_SHA256, secrets.server),
  };
}
