/**
 * The handshake transcript hash (RFC 8446 §4.4.1): a running hash over every handshake message
 * (header included) in order. Until the cipher suite is known (a client before ServerHello) the
 * messages are kept and hashed once the hash function is chosen. After a HelloRetryRequest the
 * first ClientHello is replaced by a synthetic message_hash message (§4.4.1).
 *
 * With SHA-256 the running hash is ./sha256.ts's, whose digest() leaves it running: a handshake
 * side takes five or six digests of a kilobyte or two of messages, and node:crypto would need a
 * Hash object per digest (copy()) besides its per-call cost. SHA-384 stays on node:crypto.
 */
import { createHash, type Hash } from 'node:crypto';
import { hashLength, type HashName } from './hkdf.js';
import { HandshakeType } from './messages.js';
import { Sha256 } from './sha256.js';

/** A hash over data given in pieces whose digests leave it running. */
interface RunningHash {
  update(data: Uint8Array): void;
  /** Hash of everything so far. */
  digest(): Buffer;
  /** Hash of everything so far followed by `extra`, which is not kept. */
  digestWith(extra: Uint8Array): Buffer;
}

class RunningSha256 implements RunningHash {
  private readonly hash = new Sha256();
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  digest(): Buffer {
    return this.hash.digest();
  }
  digestWith(extra: Uint8Array): Buffer {
    return this.hash.copy().update(extra).digest();
  }
}

class RunningNodeHash implements RunningHash {
  private readonly hash: Hash;
  constructor(name: HashName) {
    this.hash = createHash(name);
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  digest(): Buffer {
    return this.hash.copy().digest();
  }
  digestWith(extra: Uint8Array): Buffer {
    return this.hash.copy().update(extra).digest();
  }
}

function runningHash(name: HashName): RunningHash {
  return name === 'sha256' ? new RunningSha256() : new RunningNodeHash(name);
}

export class Transcript {
  private pending: Buffer[] = [];
  private running: RunningHash | null = null;
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
    this.running = runningHash(hash);
    for (const m of this.pending) this.running.update(m);
    this.pending = [];
  }

  /** Transcript-Hash of the messages so far (the running hash keeps going); a shared buffer, not to be written to. */
  digest(): Buffer {
    if (!this.running) throw new Error('transcript hash not started');
    return (this.lastDigest ??= this.running.digest());
  }

  /** Transcript-Hash of the messages so far followed by `extra` (e.g. a truncated ClientHello). */
  digestWith(extra: Uint8Array): Buffer {
    if (!this.running) throw new Error('transcript hash not started');
    return this.running.digestWith(extra);
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
    this.running = runningHash(hash);
    this.running.update(synthetic);
    this.lastDigest = null;
  }
}
