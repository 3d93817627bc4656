/**
 * The handshake transcript hash (RFC 8446 §4.4.1): a running hash over every handshake message
 * (header included) in order. Until the cipher suite is known (a client before ServerHello) the
 * messages are kept and hashed once the hash function is chosen. After a HelloRetryRequest the
 * first ClientHello is replaced by a synthetic message_hash message (§4.4.1).
 */
import { createHash, type Hash } from 'node:crypto';
import { hashLength, type HashName } from './hkdf.js';
import { HandshakeType } from './messages.js';

export class Transcript {
  private pending: Buffer[] = [];
  private running: Hash | null = null;
  private hashName: HashName | null = null;
  /** Transcript-Hash of the messages so far, until the next add(): both ends hash the same state more than once. */
  private lastDigest: Buffer | null = null;

  get hash(): HashName | null {
    return this.hashName;
  }

  add(raw: Uint8Array): void {
    this.lastDigest = null;
    if (this.running) this.running.update(raw);
    else this.pending.push(Buffer.from(raw));
  }

  /** Fixes the hash function; messages added so far are hashed now. */
  start(hash: HashName): void {
    if (this.running) {
      if (hash !== this.hashName) throw new Error('transcript hash already chosen');
      return;
    }
    this.hashName = hash;
    this.running = createHash(hash);
    for (const m of this.pending) this.running.update(m);
    this.pending = [];
  }

  /** Transcript-Hash of the messages so far (the running hash keeps going); a shared buffer, not to be written to. */
  digest(): Buffer {
    if (!this.running) throw new Error('transcript hash not started');
    return (this.lastDigest ??= this.running.copy().digest());
  }

  /** Transcript-Hash of the messages so far followed by `extra` (e.g. a truncated ClientHello). */
  digestWith(extra: Uint8Array): Buffer {
    if (!this.running) throw new Error('transcript hash not started');
    return this.running.copy().update(extra).digest();
  }

  /**
   * §4.4.1: on HelloRetryRequest, ClientHello1 is replaced by
   *   message_hash (254) || 00 00 Hash.length || Hash(ClientHello1).
   * Called once the hash is known and ClientHello1 is the only message added.
   */
  replaceWithMessageHash(): void {
    const hash = this.hashName!;
    const ch1Hash = this.digest();
    const synthetic = Buffer.concat([Buffer.of(HandshakeType.message_hash, 0, 0, hashLength(hash)), ch1Hash]);
    this.running = createHash(hash).update(synthetic);
    this.lastDigest = null;
  }
}
