/**
 * The TLS 1.3 key schedule (RFC 8446 §7.1):
 *
 *              0
 *              |
 *    PSK ->  HKDF-Extract = Early Secret ──> binder_key, client_early_traffic_secret
 *              |
 *        Derive-Secret(., "derived", "")
 *              |
 * (EC)DHE -> HKDF-Extract = Handshake Secret ──> [sender]_handshake_traffic_secret
 *              |
 *        Derive-Secret(., "derived", "")
 *              |
 *    0 ->  HKDF-Extract = Master Secret ──> [sender]_application_traffic_secret_0,
 *                                           exporter_master_secret, resumption_master_secret
 *
 * plus the Finished keys (§4.4.4), PSK binders (§4.2.11.2) and ticket PSKs (§4.6.1).
 */
import { timingSafeEqual } from 'node:crypto';
import { deriveSecret, deriveSecretWithKey, digest, hashLength, hkdfExpandLabel, hkdfExtract, hkdfKey, hmac, type HashName, type HkdfKey } from './hkdf.js';

const EMPTY = Buffer.alloc(0);

const EMPTY_HASHES: Readonly<Record<HashName, Buffer>> = { sha256: digest('sha256', EMPTY), sha384: digest('sha384', EMPTY) };

/** Hash("") for Derive-Secret(., "derived", "") and the binder_key; one shared buffer per hash, not to be written to. */
export function emptyHash(hash: HashName): Buffer {
  return EMPTY_HASHES[hash];
}

/**
 * Without a PSK the Early Secret and the salt it hands to the Handshake Secret are the same for
 * every handshake (RFC 8446 §7.1: PSK = Hash.length zeros), so each is derived once per hash, and
 * the salt is kept prepared as the HMAC key of the Handshake Secret's Extract.
 */
interface NoPskSecrets {
  readonly early: Buffer;
  readonly derived: Buffer;
  readonly derivedKey: HkdfKey;
}
const noPskSecrets: Partial<Record<HashName, NoPskSecrets>> = {};

function noPsk(hash: HashName): NoPskSecrets {
  let secrets = noPskSecrets[hash];
  if (secrets === undefined) {
    const zeros = Buffer.alloc(hashLength(hash));
    const early = hkdfExtract(hash, zeros, zeros);
    const derived = deriveSecret(hash, early, 'derived', emptyHash(hash));
    secrets = { early, derived, derivedKey: hkdfKey(hash, derived) };
    noPskSecrets[hash] = secrets;
  }
  return secrets;
}

/** Derive-Secret(secret, "derived", ""): the salt of the next Extract (§7.1). */
function derivedSalt(hash: HashName, secret: Uint8Array): Buffer {
  const cached = noPsk(hash);
  return secret === cached.early ? cached.derived : deriveSecret(hash, secret, 'derived', emptyHash(hash));
}

/** Early Secret = HKDF-Extract(0, PSK), PSK = Hash.length zeros without resumption (shared buffer then, not to be written to). */
export function earlySecret(hash: HashName, psk?: Uint8Array): Buffer {
  if (psk === undefined) return noPsk(hash).early;
  return hkdfExtract(hash, Buffer.alloc(hashLength(hash)), psk);
}

/** Handshake Secret = HKDF-Extract(Derive-Secret(Early, "derived", ""), (EC)DHE). */
export function handshakeSecret(hash: HashName, early: Uint8Array, sharedSecret: Uint8Array): Buffer {
  const cached = noPsk(hash);
  // HKDF-Extract(salt, IKM) = HMAC(salt, IKM) (RFC 5869 §2.2), with the no-PSK salt prepared once.
  if (early === cached.early) return cached.derivedKey.mac(sharedSecret);
  return hkdfExtract(hash, derivedSalt(hash, early), sharedSecret);
}

/** Master Secret = HKDF-Extract(Derive-Secret(Handshake, "derived", ""), 0). */
export function masterSecret(hash: HashName, handshake: Uint8Array): Buffer {
  return masterFromPrepared(hkdfKey(hash, handshake));
}

/** masterSecret() with the Handshake Secret already prepared for HMAC (it derived the handshake traffic secrets). */
function masterFromPrepared(handshake: HkdfKey): Buffer {
  const salt = deriveSecretWithKey(handshake, 'derived', emptyHash(handshake.hash));
  return hkdfExtract(handshake.hash, salt, zeros(handshake.hash));
}

const ZEROS: Readonly<Record<HashName, Buffer>> = { sha256: Buffer.alloc(32), sha384: Buffer.alloc(48) };

/** Hash.length zeros, the IKM of the Master Secret (§7.1); a shared buffer, not to be written to. */
function zeros(hash: HashName): Buffer {
  return ZEROS[hash];
}

/** The Derive-Secret labels of §7.1, by what they make. */
export const SecretLabel = {
  externalBinder: 'ext binder',
  resumptionBinder: 'res binder',
  clientEarlyTraffic: 'c e traffic',
  earlyExporter: 'e exp master',
  clientHandshakeTraffic: 'c hs traffic',
  serverHandshakeTraffic: 's hs traffic',
  clientApplicationTraffic: 'c ap traffic',
  serverApplicationTraffic: 's ap traffic',
  exporter: 'exp master',
  resumption: 'res master',
} as const;

/** finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length) (§4.4.4). */
export function finishedKey(hash: HashName, baseKey: Uint8Array): Buffer {
  return hkdfExpandLabel(hash, baseKey, 'finished', EMPTY, hashLength(hash));
}

/** verify_data = HMAC(finished_key, Transcript-Hash(...)) (§4.4.4); binders use the same (§4.2.11.2). */
export function finishedVerifyData(hash: HashName, baseKey: Uint8Array, transcriptHash: Uint8Array): Buffer {
  return hmac(hash, finishedKey(hash, baseKey), transcriptHash);
}

/** Constant-time check of a received Finished or binder (§4.4.4: mismatch → decrypt_error). */
export function verifyFinished(hash: HashName, baseKey: Uint8Array, transcriptHash: Uint8Array, received: Uint8Array): boolean {
  const expected = finishedVerifyData(hash, baseKey, transcriptHash);
  return received.length === expected.length && timingSafeEqual(expected, received);
}

/** binder_key for a resumption PSK: Derive-Secret(Early Secret, "res binder", "") (§7.1). */
export function resumptionBinderKey(hash: HashName, early: Uint8Array): Buffer {
  return deriveSecret(hash, early, SecretLabel.resumptionBinder, emptyHash(hash));
}

/** PSK of a ticket: HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length) (§4.6.1). */
export function ticketPsk(hash: HashName, resumptionMasterSecret: Uint8Array, nonce: Uint8Array): Buffer {
  return hkdfExpandLabel(hash, resumptionMasterSecret, 'resumption', nonce, hashLength(hash));
}

/**
 * The secrets of the Master Secret over Hash(CH..server Finished) (§7.1): both application traffic
 * secrets, and exporter_master_secret derived on first read. A class rather than an object literal
 * with a getter, which V8 builds in a slow dictionary shape on every handshake.
 */
export class ApplicationSecrets {
  readonly client: Buffer;
  readonly server: Buffer;
  private exporterSecret: Buffer | undefined;

  constructor(private readonly masterKey: HkdfKey, private readonly serverFinishedHash: Uint8Array) {
    this.client = deriveSecretWithKey(masterKey, SecretLabel.clientApplicationTraffic, serverFinishedHash);
    this.server = deriveSecretWithKey(masterKey, SecretLabel.serverApplicationTraffic, serverFinishedHash);
  }

  get exporter(): Buffer {
    return (this.exporterSecret ??= deriveSecretWithKey(this.masterKey, SecretLabel.exporter, this.serverFinishedHash));
  }
}

/**
 * The secrets one handshake derives, computed step by step as the transcript grows. Holds no
 * transcript itself: callers pass Transcript-Hash values at the points §7.1 names.
 */
export class KeySchedule {
  private early: Buffer;
  private handshake: Buffer | null = null;
  /** The Handshake Secret prepared for HMAC: it derives both handshake traffic secrets and the master's salt. */
  private handshakeKey: HkdfKey | null = null;
  private master: Buffer | null = null;
  /** The Master Secret prepared for HMAC: it derives three or four secrets. */
  private masterKey: HkdfKey | null = null;

  constructor(readonly hash: HashName, psk?: Uint8Array) {
    this.early = earlySecret(hash, psk);
  }

  get earlySecret(): Buffer {
    return this.early;
  }

  /** Over Transcript-Hash(ClientHello). */
  clientEarlyTrafficSecret(chHash: Uint8Array): Buffer {
    return deriveSecret(this.hash, this.early, SecretLabel.clientEarlyTraffic, chHash);
  }

  binderKey(): Buffer {
    return resumptionBinderKey(this.hash, this.early);
  }

  /** Mixes in the (EC)DHE secret; returns the two handshake traffic secrets over Hash(CH..SH). */
  handshakeTrafficSecrets(sharedSecret: Uint8Array, helloHash: Uint8Array): { client: Buffer; server: Buffer } {
    this.handshake = handshakeSecret(this.hash, this.early, sharedSecret);
    const handshake = hkdfKey(this.hash, this.handshake);
    this.handshakeKey = handshake;
    return {
      client: deriveSecretWithKey(handshake, SecretLabel.clientHandshakeTraffic, helloHash),
      server: deriveSecretWithKey(handshake, SecretLabel.serverHandshakeTraffic, helloHash),
    };
  }

  get handshakeSecret(): Buffer {
    if (!this.handshake) throw new Error('handshake secret not derived yet');
    return this.handshake;
  }

  /**
   * Application traffic secrets and exporter secret over Hash(CH..server Finished). QUIC uses no
   * exporter, so exporter_master_secret is derived only when read (e.g. for a key log).
   */
  applicationTrafficSecrets(serverFinishedHash: Uint8Array): ApplicationSecrets {
    if (!this.handshakeKey) throw new Error('handshake secret not derived yet');
    const master = masterFromPrepared(this.handshakeKey);
    this.master = master;
    const masterKey = hkdfKey(this.hash, master);
    this.masterKey = masterKey;
    return new ApplicationSecrets(masterKey, serverFinishedHash);
  }

  get masterSecret(): Buffer {
    if (!this.master) throw new Error('master secret not derived yet');
    return this.master;
  }

  /** Over Hash(CH..client Finished). */
  resumptionMasterSecret(clientFinishedHash: Uint8Array): Buffer {
    if (!this.masterKey) throw new Error('master secret not derived yet');
    return deriveSecretWithKey(this.masterKey, SecretLabel.resumption, clientFinishedHash);
  }
}
