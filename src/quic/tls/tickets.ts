/**
 * Session resumption (RFC 8446 §2.2, §4.6.1, §4.2.11) and 0-RTT anti-replay (§8):
 * - SessionTicket: what a client keeps from a NewSessionTicket to resume later.
 * - sealTicket/openTicket: the server's self-encrypted ticket (AES-256-GCM under a ticket key),
 *   so the server keeps no per-session state.
 * - SingleUseTicketStore: each ticket's 0-RTT is accepted at most once (§8.1), bounded in memory.
 * - binder computation over the truncated ClientHello (§4.2.11.2).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { DecodeError } from '../../core/errors.js';
import { bindersLength } from './extensions.js';
import type { HashName } from './hkdf.js';
import { finishedVerifyData, KeySchedule, verifyFinished } from './key-schedule.js';
import { TlsReader, TlsWriter } from './wire.js';

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

const TICKET_FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

function encodeState(s: TicketState): Buffer {
  const issued = Buffer.allocUnsafe(8);
  issued.writeDoubleBE(s.issuedAt);
  return new TlsWriter()
    .u8(TICKET_FORMAT)
    .u16(s.suite)
    .vector(1, s.psk)
    .bytes(issued)
    .u32(s.lifetime)
    .u32(s.ageAdd)
    .u32(s.maxEarlyData)
    .vector(1, s.alpn === null ? Buffer.alloc(0) : Buffer.from(s.alpn, 'latin1'))
    .vector(1, s.id)
    .vector(1, s.contextHash)
    .finish();
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

/** Ticket = iv || AES-256-GCM(ticketKey, state) || tag. */
export function sealTicket(ticketKey: Buffer, state: TicketState, random: (n: number) => Buffer): Buffer {
  const iv = random(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', ticketKey, iv);
  const body = Buffer.concat([cipher.update(encodeState(state)), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** The state in a ticket we issued, or null for anything else (forged, corrupted, other key). */
export function openTicket(ticketKey: Buffer, ticket: Buffer): TicketState | null {
  if (ticket.length < IV_BYTES + TAG_BYTES + 1) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', ticketKey, ticket.subarray(0, IV_BYTES));
    decipher.setAuthTag(ticket.subarray(ticket.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(ticket.subarray(IV_BYTES, ticket.length - TAG_BYTES)), decipher.final()]);
    return decodeState(plain);
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
