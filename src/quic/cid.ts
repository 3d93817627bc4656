/**
 * Connection IDs (RFC 9000 §5.1) and stateless reset tokens (RFC 9000 §10.3).
 *
 * - `LocalConnectionIds`: the IDs we issue to the peer — sequence numbers, NEW_CONNECTION_ID up to
 *   the peer's active_connection_id_limit (§5.1.1), RETIRE_CONNECTION_ID from the peer (§19.16).
 * - `PeerConnectionIds`: the IDs the peer issued to us — NEW_CONNECTION_ID with retire_prior_to
 *   (§19.15), our active_connection_id_limit (CONNECTION_ID_LIMIT_ERROR), which one we send to, and
 *   the stateless reset tokens that come with them (§10.3.1).
 * - `statelessResetToken`: a token derived from a static key and the connection ID, so that an
 *   endpoint that lost all state can still produce it (§10.3.2).
 *
 * Either side may choose a zero-length ID in its first long header (§5.1). It is then the only ID
 * that side ever has: no NEW_CONNECTION_ID from it, no RETIRE_CONNECTION_ID to it (§5.1.1, §19.15,
 * §19.16), and every packet toward it carries an empty Destination Connection ID on every path.
 */
import { timingSafeEqual } from 'node:crypto';
import { TransportError, TransportErrorCode } from './errors.js';
import { HmacSha256 } from './tls/sha256.js';

/** Length of a stateless reset token (RFC 9000 §10.3). */
export const RESET_TOKEN_LENGTH = 16;

/**
 * Each static key prepared once (its ipad/opad states, tls/sha256.ts): a router and all its
 * connections share one key and derive a token for every connection ID they issue. The copy
 * notices a key changed in place, which then is prepared again.
 */
const preparedKeys = new WeakMap<Uint8Array, { key: Buffer; hmac: HmacSha256 }>();

/** `staticKey` prepared for HMAC, shared by everyone who passes the same key object, as it is now. */
function preparedKey(staticKey: Uint8Array): HmacSha256 {
  let prepared = preparedKeys.get(staticKey);
  if (prepared === undefined || !prepared.key.equals(staticKey)) {
    prepared = { key: Buffer.from(staticKey), hmac: new HmacSha256(staticKey) };
    preparedKeys.set(staticKey, prepared);
  }
  return prepared.hmac;
}

/** RFC 9000 §10.3.2: token = a keyed hash of the connection ID; HMAC-SHA256 truncated to 16 bytes. */
export function statelessResetToken(staticKey: Uint8Array, cid: Uint8Array): Buffer {
  // The MAC written at the token's length: the first 16 bytes of HMAC-SHA256, without a view.
  return preparedKey(staticKey).mac(cid, RESET_TOKEN_LENGTH);
}

/**
 * statelessResetToken under one key for the life of a connection: the key is prepared at the first
 * token and kept as it was then, so a connection never gives one ID two tokens (RFC 9000 §19.15),
 * and each later token skips the look-up and the check that the key is unchanged (issue 5: a
 * connection derives one per ID it issues, up to the peer's active_connection_id_limit).
 */
export function resetTokenDeriver(staticKey: Uint8Array): (cid: Uint8Array) => Buffer {
  let hmac: HmacSha256 | undefined;
  return (cid) => (hmac ??= preparedKey(staticKey)).mac(cid, RESET_TOKEN_LENGTH);
}

export interface IssuedConnectionId {
  readonly sequence: number;
  readonly cid: Buffer;
  readonly resetToken: Buffer;
}

/**
 * An ID we issued, its reset token derived when first asked for: a client never sends the token
 * of its first ID (only a server's stateless_reset_token and NEW_CONNECTION_ID carry tokens,
 * RFC 9000 §10.3, §18.2, §19.15), so a client's handshake need not compute it (issue 5).
 */
class IssuedId implements IssuedConnectionId {
  private token: Buffer | undefined;
  constructor(
    readonly sequence: number,
    readonly cid: Buffer,
    private readonly makeToken: (cid: Buffer) => Buffer,
    /** The peer has it: from the handshake, or a NEW_CONNECTION_ID of it was acknowledged. */
    public knownToPeer: boolean,
  ) {}
  get resetToken(): Buffer {
    return (this.token ??= this.makeToken(this.cid));
  }
}

/** The connection IDs we hand out (RFC 9000 §5.1.1). Sequence 0 is the one in our first long header. */
export class LocalConnectionIds {
  private readonly active = new Map<number, IssuedId>();
  private nextSequence = 0;
  /** The peer's active_connection_id_limit; 2 until its transport parameters arrive (§18.2). */
  peerLimit = 2;
  /** We chose a zero-length ID (sequence 0): RFC 9000 §5.1.1, it is the only one we ever issue. */
  private zeroLength = false;

  constructor(
    private readonly makeCid: () => Buffer,
    private readonly makeToken: (cid: Buffer) => Buffer,
    /** Told of every ID that starts or stops routing to this connection. */
    private readonly onChange: (cid: Buffer, added: boolean) => void = () => {},
  ) {}

  /** Registers an ID chosen elsewhere (sequence 0, or the CID a Retry told the client to use). */
  add(cid: Buffer, knownToPeer = true): IssuedConnectionId {
    const issued = new IssuedId(this.nextSequence++, cid, this.makeToken, knownToPeer);
    if (issued.sequence === 0 && cid.length === 0) this.zeroLength = true;
    this.active.set(issued.sequence, issued);
    this.onChange(cid, true);
    return issued;
  }

  /** New IDs to announce with NEW_CONNECTION_ID, up to the peer's limit (§5.1.1). */
  issueUpToLimit(maxActive = 8): IssuedConnectionId[] {
    // RFC 9000 §5.1.1: "An endpoint that selects a zero-length connection ID during the handshake
    // cannot issue a new connection ID" (§18.2: it ignores the peer's active_connection_id_limit).
    if (this.zeroLength) return [];
    const out: IssuedConnectionId[] = [];
    while (this.active.size < Math.min(this.peerLimit, maxActive)) out.push(this.add(this.makeCid(), false));
    return out;
  }

  /** A NEW_CONNECTION_ID for `sequence` was acknowledged: the peer holds that ID. */
  acknowledged(sequence: number): void {
    const issued = this.active.get(sequence);
    if (issued !== undefined) issued.knownToPeer = true;
  }

  /**
   * Whether the peer holds an ID of ours besides the one it uses, so that it can answer on a new
   * path with a new one (RFC 9000 §5.1.1: before migrating an endpoint "SHOULD ensure that the pool
   * of connection IDs available to its peer allows the peer to use a new connection ID", §9.5). A
   * zero-length ID has no other: the peer tells paths apart by address (§5.1).
   */
  get peerHasSpare(): boolean {
    if (this.zeroLength) return true;
    let known = 0;
    for (const issued of this.active.values()) if (issued.knownToPeer && ++known >= 2) return true;
    return false;
  }

  /**
   * RETIRE_CONNECTION_ID (RFC 9000 §19.16): a sequence number we never issued is a PROTOCOL_VIOLATION,
   * as is retiring the ID the packet carrying the frame was sent to. Returns whether one was retired.
   */
  retire(sequence: number, packetDcid: Uint8Array): boolean {
    // RFC 9000 §19.16: "An endpoint that provides a zero-length connection ID MUST treat receipt of
    // a RETIRE_CONNECTION_ID frame as a connection error of type PROTOCOL_VIOLATION."
    if (this.zeroLength) {
      throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'RETIRE_CONNECTION_ID to an endpoint with a zero-length connection ID', 'RFC 9000 §19.16', 0x19);
    }
    if (sequence >= this.nextSequence) {
      throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, `retiring connection ID ${sequence}, never issued`, 'RFC 9000 §19.16', 0x19);
    }
    const issued = this.active.get(sequence);
    if (issued === undefined) return false;
    if (issued.cid.equals(packetDcid)) {
      throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'retiring the connection ID the packet was sent to', 'RFC 9000 §19.16', 0x19);
    }
    this.active.delete(sequence);
    this.onChange(issued.cid, false);
    return true;
  }

  get(sequence: number): IssuedConnectionId | undefined {
    return this.active.get(sequence);
  }

  all(): IssuedConnectionId[] {
    return [...this.active.values()];
  }

  /** Stops routing every ID (the connection is gone). */
  clear(): void {
    for (const issued of this.active.values()) this.onChange(issued.cid, false);
    this.active.clear();
  }
}

interface PeerId {
  sequence: number;
  cid: Buffer;
  resetToken: Buffer | undefined;
}

/** The connection IDs the peer issued to us (RFC 9000 §5.1, §19.15). */
export class PeerConnectionIds {
  private readonly ids = new Map<number, PeerId>();
  private current: PeerId;
  private retirePriorTo = 0;
  /** RETIRE_CONNECTION_ID frames owed to the peer. */
  readonly toRetire: number[] = [];

  constructor(
    initial: Buffer,
    /** Our active_connection_id_limit (§18.2). */
    private readonly limit: number,
  ) {
    this.current = { sequence: 0, cid: initial, resetToken: undefined };
    this.ids.set(0, this.current);
  }

  /** The ID we send to now. */
  get dcid(): Buffer {
    return this.current.cid;
  }

  /** The server's first SCID replaces the client's random DCID (§7.2), and so does Retry's. */
  replaceInitial(cid: Buffer): void {
    this.current.cid = cid;
  }

  /** stateless_reset_token transport parameter: the token of sequence 0 (§18.2). */
  setInitialResetToken(token: Buffer): void {
    const zero = this.ids.get(0);
    if (zero) zero.resetToken = token;
  }

  /** The peer chose a zero-length ID: every packet we send carries an empty DCID (RFC 9000 §5.1.1). */
  get zeroLength(): boolean {
    return this.current.cid.length === 0;
  }

  /** NEW_CONNECTION_ID (RFC 9000 §19.15). */
  onNewConnectionId(sequence: number, retirePriorTo: number, cid: Buffer, resetToken: Buffer): void {
    // RFC 9000 §19.15: "An endpoint that is sending packets with a zero-length Destination
    // Connection ID MUST treat receipt of a NEW_CONNECTION_ID frame as a connection error of type
    // PROTOCOL_VIOLATION" (a peer that chose a zero-length ID cannot issue others, §5.1.1).
    if (this.zeroLength) {
      throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'NEW_CONNECTION_ID from a peer that uses a zero-length connection ID', 'RFC 9000 §19.15', 0x18);
    }
    const known = this.ids.get(sequence);
    if (known !== undefined) {
      // §19.15: the same sequence number with a different ID or token is a PROTOCOL_VIOLATION.
      if (!known.cid.equals(cid) || (known.resetToken !== undefined && !known.resetToken.equals(resetToken))) {
        throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, `connection ID ${sequence} changed`, 'RFC 9000 §19.15', 0x18);
      }
      return;
    }
    if (sequence < this.retirePriorTo) {
      // §19.15: an ID already retired by retire_prior_to is retired at once.
      this.toRetire.push(sequence);
      return;
    }
    for (const id of this.ids.values()) {
      if (id.cid.equals(cid)) {
        throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'the same connection ID under two sequence numbers', 'RFC 9000 §19.15', 0x18);
      }
    }
    this.ids.set(sequence, { sequence, cid, resetToken });
    if (retirePriorTo > this.retirePriorTo) {
      this.retirePriorTo = retirePriorTo;
      for (const id of [...this.ids.values()]) {
        if (id.sequence < retirePriorTo) {
          this.ids.delete(id.sequence);
          this.toRetire.push(id.sequence);
        }
      }
      if (!this.ids.has(this.current.sequence)) this.current = this.lowest()!;
    }
    // §5.1.1: more active IDs than our active_connection_id_limit is a CONNECTION_ID_LIMIT_ERROR.
    if (this.ids.size > this.limit) {
      throw new TransportError(TransportErrorCode.CONNECTION_ID_LIMIT_ERROR, `${this.ids.size} active connection IDs, limit ${this.limit}`, 'RFC 9000 §5.1.1', 0x18);
    }
  }

  /** Moves to an unused ID (§9.5: a new path uses a new ID), retiring the old one. False if none. */
  rotate(): boolean {
    for (const id of this.ids.values()) {
      if (id.sequence > this.current.sequence) {
        const old = this.current;
        this.ids.delete(old.sequence);
        this.toRetire.push(old.sequence);
        this.current = id;
        return true;
      }
    }
    return false;
  }

  /** Whether the last 16 bytes of a datagram are a reset token of the peer (§10.3.1). */
  isStatelessReset(datagram: Uint8Array): boolean {
    if (datagram.length < 21) return false;
    const tail = datagram.subarray(datagram.length - RESET_TOKEN_LENGTH);
    for (const id of this.ids.values()) {
      if (id.resetToken !== undefined && timingSafeEqual(id.resetToken, tail)) return true;
    }
    return false;
  }

  private lowest(): PeerId | undefined {
    let best: PeerId | undefined;
    for (const id of this.ids.values()) if (best === undefined || id.sequence < best.sequence) best = id;
    return best;
  }
}
