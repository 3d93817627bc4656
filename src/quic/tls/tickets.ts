/**
 * Session resumption (RFC 8446 §2.2, §4.6.1, §4.2.11) and 0-RTT anti-replay (§8):
 * - SessionTicket: what a client keeps from a NewSessionTicket to resume later.
 * - sealTicket/openTicket: the server's self-encrypted ticket, so the server keeps no per-session
 *   state. The format is the server's own (§4.6.1: the ticket is opaque to the client); like
 *   RFC 5077 §4's recommended one it is encrypt-then-MAC: ChaCha20 (RFC 8439 §2.4) and
 *   HMAC-SHA-256 under two keys expanded from the ticket key. Both run in JavaScript here
 *   (./sha256.ts, ../crypto/chacha20.ts): a ticket is sealed in every handshake, and a
 *   node:crypto AEAD cipher object for ~100 bytes cost more to set up than the whole seal.
 * - SingleUseTicketStore: each ticket's 0-RTT is accepted at most once (§8.1), bounded in memory.
 * - binder computation over the truncated ClientHello (§4.2.11.2).
 */
import { timingSafeEqual } from 'node:crypto';
import { DecodeError } from '../../core/errors.js';
import { chacha20KeyWords, chacha20XorInPlace } from '../crypto/chacha20.js';
import { bindersLength } from './extensions.js';
import { hkdfExpand, type HashName } from './hkdf.js';
import { finishedVerifyData, KeySchedule, verifyFinished } from './key-schedule.js';
import { HmacSha256 } from './sha256.js';
import { TlsReader } from './wire.js';

/** A client's resumption state from one NewSessionTicket. */
export interface SessionTicket {
  /** Opaque ticket, sent as the PSK identity. */
  readonly ticket: Buffer;
  readonly suite: number;
  /** HKDF-Expand-Label(resumption_master_secret, "resumption", nonce) (§4.6.1). */
  readonly psk: Buffer;
  readonly ageAdd: number;
  /** Seconds the ticket may be used (capped at 7 days). */
  readonly lifetime: number;
  /** `now` when it arrived, in ms; ages are measured from here (§4.2.11.1). */
  readonly receivedAt: number;
  /** 0 when the server allows no 0-RTT; 0xffffffff in QUIC when it does (RFC 9001 §4.6.1). */
  readonly maxEarlyData: number;
  readonly alpn: string | null;
  readonly serverName: string;
  /** The server's transport parameters, remembered for 0-RTT (RFC 9001 §7.4.1, RFC 9000 §7.4.1). */
  readonly transportParameters: Buffer | null;
}

/** §4.6.1: servers MUST NOT use a lifetime above 7 days; clients MUST NOT keep tickets longer. */
export const MAX_TICKET_LIFETIME_S = 604_800;

export function ticketExpired(t: SessionTicket, now: number): boolean {
  return now < t.receivedAt || now - t.receivedAt >= Math.min(t.lifetime, MAX_TICKET_LIFETIME_S) * 1000;
}

/** obfuscated_ticket_age = (age in ms + ticket_age_add) mod 2^32 (§4.2.11.1). */
export function obfuscatedTicketAge(t: SessionTicket, now: number): number {
  return (Math.max(0, Math.floor(now - t.receivedAt)) + t.ageAdd) >>> 0;
}

// ---- server-side ticket contents ----

/** What the server seals into a ticket: enough to resume without server-side state. */
export interface TicketState {
  readonly suite: number;
  readonly psk: Buffer;
  /** Server `now` (ms) when issued. */
  readonly issuedAt: number;
  readonly lifetime: number;
  readonly ageAdd: number;
  readonly maxEarlyData: number;
  readonly alpn: string | null;
  /** Random, unique per ticket: the key of the single-use store. */
  readonly id: Buffer;
  /** SHA-256 of the server's early data context when issued (see ServerOptions.earlyDataContext). */
  readonly contextHash: Buffer;
}

const TICKET_FORMAT = 2;
const TICKET_KEY_BYTES = 32;
const NONCE_BYTES = 12;
/** HMAC-SHA-256 cut to 128 bits, as the tags of RFC 5077 §4 and of TLS's AEADs are long. */
const TAG_BYTES = 16;
/** Fixed-size fields of the state: format, suite, issuedAt, lifetime, ageAdd, maxEarlyData, four length bytes. */
const STATE_FIXED_BYTES = 1 + 2 + 8 + 4 + 4 + 4 + 4;

/** The cipher and MAC keys of one ticket key, expanded once (RFC 5869 §2.3, distinct labels). */
interface TicketKeys {
  /** The ticket key's bytes when expanded: a key Buffer changed in place gets new keys. */
  readonly source: Buffer;
  readonly cipher: Uint32Array;
  readonly mac: HmacSha256;
}

const CIPHER_INFO = Buffer.from('h123 ticket chacha20', 'latin1');
const MAC_INFO = Buffer.from('h123 ticket hmac-sha256', 'latin1');
/** By ticket key Buffer: a server passes the same one to every connection. */
const expandedKeys = new WeakMap<Buffer, TicketKeys>();

function ticketKeys(ticketKey: Buffer): TicketKeys {
  let keys = expandedKeys.get(ticketKey);
  if (keys === undefined || !keys.source.equals(ticketKey)) {
    keys = {
      source: Buffer.from(ticketKey),
      cipher: chacha20KeyWords(hkdfExpand('sha256', ticketKey, CIPHER_INFO, 32)),
      mac: new HmacSha256(hkdfExpand('sha256', ticketKey, MAC_INFO, 32)),
    };
    expandedKeys.set(ticketKey, keys);
  }
  return keys;
}

function byteLength(field: string, b: Uint8Array | string): number {
  const n = typeof b === 'string' ? Buffer.byteLength(b, 'latin1') : b.length;
  if (n > 255) throw new RangeError(`ticket ${field} of ${n} bytes does not fit a 1-byte length`);
  return n;
}

/** Writes the state at `at` (the layout decodeState reads), returns where it ends. */
function writeState(s: TicketState, out: Buffer, at: number): number {
  out[at++] = TICKET_FORMAT;
  out.writeUInt16BE(s.suite, at);
  at += 2;
  out[at++] = s.psk.length;
  at += s.psk.copy(out, at);
  out.writeDoubleBE(s.issuedAt, at);
  out.writeUInt32BE(s.lifetime >>> 0, at + 8);
  out.writeUInt32BE(s.ageAdd >>> 0, at + 12);
  out.writeUInt32BE(s.maxEarlyData >>> 0, at + 16);
  at += 20;
  const alpn = s.alpn ?? '';
  out[at++] = alpn.length;
  at += out.write(alpn, at, 'latin1');
  out[at++] = s.id.length;
  at += s.id.copy(out, at);
  out[at++] = s.contextHash.length;
  at += s.contextHash.copy(out, at);
  return at;
}

function decodeState(b: Buffer): TicketState {
  const r = new TlsReader(b, 'ticket');
  if (r.u8() !== TICKET_FORMAT) throw new DecodeError('ticket: unknown format');
  const suite = r.u16();
  const psk = r.vector(1);
  const issuedAt = r.bytes(8).readDoubleBE();
  const lifetime = r.u32();
  const ageAdd = r.u32();
  const maxEarlyData = r.u32();
  const alpnBytes = r.vector(1);
  const id = r.vector(1);
  const contextHash = r.vector(1);
  r.end();
  return { suite, psk, issuedAt, lifetime, ageAdd, maxEarlyData, alpn: alpnBytes.length ? alpnBytes.toString('latin1') : null, id, contextHash };
}

/**
 * Ticket = nonce || ChaCha20(cipher key, nonce, state) || HMAC-SHA-256(MAC key, nonce || ciphertext)[0..16],
 * under keys expanded from the 32-byte ticket key; the nonce is 12 random bytes.
 */
export function sealTicket(ticketKey: Buffer, state: TicketState, random: (n: number) => Buffer): Buffer {
  if (ticketKey.length !== TICKET_KEY_BYTES) throw new RangeError(`ticket keys are ${TICKET_KEY_BYTES} bytes`);
  const keys = ticketKeys(ticketKey);
  const stateLength =
    STATE_FIXED_BYTES + byteLength('psk', state.psk) + byteLength('alpn', state.alpn ?? '') + byteLength('id', state.id) + byteLength('context hash', state.contextHash);
  const ticket = Buffer.allocUnsafe(NONCE_BYTES + stateLength + TAG_BYTES);
  const nonce = random(NONCE_BYTES);
  nonce.copy(ticket, 0);
  const end = writeState(state, ticket, NONCE_BYTES);
  chacha20XorInPlace(keys.cipher, nonce, 0, ticket, NONCE_BYTES, end);
  keys.mac.mac(ticket.subarray(0, end), TAG_BYTES).copy(ticket, end);
  return ticket;
}

/** The state in a ticket we issued, or null for anything else (forged, corrupted, other key). */
export function openTicket(ticketKey: Buffer, ticket: Buffer): TicketState | null {
  if (ticketKey.length !== TICKET_KEY_BYTES || ticket.length < NONCE_BYTES + STATE_FIXED_BYTES + TAG_BYTES) return null;
  const keys = ticketKeys(ticketKey);
  const end = ticket.length - TAG_BYTES;
  // Encrypt-then-MAC: the tag is checked (in constant time) before anything is decrypted.
  if (!timingSafeEqual(keys.mac.mac(ticket.subarray(0, end), TAG_BYTES), ticket.subarray(end))) return null;
  const state = Buffer.from(ticket.subarray(NONCE_BYTES, end)); // decrypted in our own copy
  chacha20XorInPlace(keys.cipher, ticket.subarray(0, NONCE_BYTES), 0, state);
  try {
    return decodeState(state);
  } catch {
    return null;
  }
}

// ---- single-use store for 0-RTT (§8.1) ----

export interface TicketStore {
  /** True the first time `id` is seen (accept its 0-RTT); false on a replay or when full. */
  useOnce(id: Buffer, expiresAt: number, now: number): boolean;
}

/**
 * In-memory single-use store. An entry lives until its ticket expires; past `maxEntries` live
 * entries it answers false, which only costs a client its 0-RTT, never its handshake (§8.1).
 */
export class SingleUseTicketStore implements TicketStore {
  private readonly used = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  get size(): number {
    return this.used.size;
  }

  useOnce(id: Buffer, expiresAt: number, now: number): boolean {
    this.evictExpired(now);
    const key = id.toString('base64');
    if (this.used.has(key)) return false;
    if (this.used.size >= this.maxEntries) return false;
    this.used.set(key, expiresAt);
    return true;
  }

  private evictExpired(now: number): void {
    // Map keeps insertion order and tickets have one lifetime, so expired entries sit mostly at the front.
    for (const [key, expiresAt] of this.used) {
      if (expiresAt > now) break;
      this.used.delete(key);
    }
  }
}

// ---- binders (§4.2.11.2) ----

/**
 * The binder for one PSK: HMAC(finished_key(binder_key), Transcript-Hash(prefix, Truncate(ClientHello))).
 * `partialHash` is the transcript hash up to and including the truncated ClientHello.
 */
export function computeBinder(hash: HashName, psk: Uint8Array, partialHash: Uint8Array): Buffer {
  return finishedVerifyData(hash, new KeySchedule(hash, psk).binderKey(), partialHash);
}

export function verifyBinder(hash: HashName, psk: Uint8Array, partialHash: Uint8Array, binder: Uint8Array): boolean {
  return verifyFinished(hash, new KeySchedule(hash, psk).binderKey(), partialHash, binder);
}

/** The ClientHello message up to, not including, its binders list (which is last, §4.2.11). */
export function truncateClientHello(rawClientHello: Buffer, binderLengths: readonly number[]): Buffer {
  return rawClientHello.subarray(0, rawClientHello.length - bindersLength(binderLengths));
}
