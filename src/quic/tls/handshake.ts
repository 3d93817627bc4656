/**
 * What the client and server handshakes share: the sans-I/O endpoint API that the QUIC
 * connection drives (RFC 9001 §4.1: TLS hands QUIC handshake bytes per encryption level and
 * traffic secrets as they become available), per-level reassembly of CRYPTO data, the transcript,
 * outgoing flights, keylog lines and the rule that every failure becomes one 'alert' event
 * (RFC 9001 §4.8) after which the endpoint ignores further input.
 */
import { DecodeError } from '../../core/errors.js';
import { AlertDescription, alertName, QUIC_PROTOCOL_VIOLATION, TlsAlert } from './alerts.js';
import { cipherSuite, type CipherSuite } from './cipher-suites.js';
import { encodeHandshake, HandshakeReader, type HandshakeMessage } from './framing.js';
import { keylogLine, type Keylog, type KeylogLabel } from './keylog.js';
import type { SessionTicket } from './tickets.js';
import { Transcript } from './transcript.js';

export type { SessionTicket } from './tickets.js';

/** QUIC encryption levels (RFC 9001 §4); 'early' is 0-RTT. */
export type Level = 'initial' | 'early' | 'handshake' | 'application';
/** Levels that carry CRYPTO frames (there is no handshake data in 0-RTT, RFC 9001 §4.1.3). */
export type CryptoLevel = 'initial' | 'handshake' | 'application';

export type TlsEvent =
  | { type: 'keys'; level: 'early' | 'handshake' | 'application'; direction: 'read' | 'write'; secret: Buffer; suite: number }
  | { type: 'handshake-data'; level: CryptoLevel; data: Buffer }
  | { type: 'complete' }
  | { type: 'session-ticket'; ticket: SessionTicket }
  /** Fatal: close with CRYPTO_ERROR 0x100 + alert, or with `transportError` when RFC 9001 names one. */
  | { type: 'alert'; alert: number; description: string; transportError?: number };

export interface TlsEndpoint {
  /** CRYPTO stream bytes received at `level`, in order, split anywhere. Never throws. */
  receive(level: CryptoLevel, data: Uint8Array): void;
  /** The next event, in order; call until undefined after each receive()/start(). */
  poll(): TlsEvent | undefined;
  readonly alpn: string | null;
  readonly peerTransportParameters: Buffer | null;
  readonly earlyDataAccepted: boolean;
  readonly handshakeComplete: boolean;
  readonly suite: number | null;
  sendSessionTicket?(now: number): void;
}

export type RandomSource = (n: number) => Buffer;

const LEVEL_ORDER: readonly CryptoLevel[] = ['initial', 'handshake', 'application'];

export abstract class HandshakeEndpoint implements TlsEndpoint {
  alpn: string | null = null;
  peerTransportParameters: Buffer | null = null;
  earlyDataAccepted = false;
  handshakeComplete = false;
  suite: number | null = null;

  protected readonly transcript = new Transcript();
  /** Where the peer's next handshake message must arrive (RFC 9001 §4.1.3); null: nowhere. */
  protected readLevel: CryptoLevel | null = 'initial';
  protected failed = false;
  protected clientRandom: Buffer = Buffer.alloc(32);

  private readonly events: TlsEvent[] = [];
  private readonly readers: Record<CryptoLevel, HandshakeReader> = {
    initial: new HandshakeReader(),
    handshake: new HandshakeReader(),
    application: new HandshakeReader(),
  };
  private flight: { level: CryptoLevel; parts: Buffer[] } | null = null;

  protected constructor(private readonly keylog?: Keylog) {}

  receive(level: CryptoLevel, data: Uint8Array): void {
    if (this.failed) return;
    this.guard(() => {
      const reader = this.readers[level];
      if (!reader) throw new TlsAlert(AlertDescription.unexpected_message, `CRYPTO data at unknown level ${String(level)}`, 'RFC 9001 §4.1.3');
      if (data.length === 0) return;
      if (level !== this.readLevel) {
        // RFC 9001 §4.1.3: new data at a level we have left is a PROTOCOL_VIOLATION; data for a level
        // we do not read yet is the QUIC layer's to hold until its keys exist.
        const left = LEVEL_ORDER.indexOf(level) < LEVEL_ORDER.indexOf(this.readLevel!);
        throw new TlsAlert(AlertDescription.unexpected_message, `handshake data at the ${level} level, expected ${this.readLevel ?? 'none'}`, 'RFC 9001 §4.1.3', left ? QUIC_PROTOCOL_VIOLATION : undefined);
      }
      reader.push(data);
      try {
        for (let msg = reader.next(); msg && !this.failed; msg = this.failed ? undefined : reader.next()) {
          this.handleMessage(level, msg);
          // RFC 8446 §5.1, RFC 9001 §4.1.3: a message that precedes a key change must end at the key change.
          if (this.readLevel !== level && reader.pendingBytes > 0) {
            throw new TlsAlert(AlertDescription.unexpected_message, `data at the ${level} level after a key change`, 'RFC 9001 §4.1.3', QUIC_PROTOCOL_VIOLATION);
          }
        }
      } finally {
        reader.detach();
      }
    });
  }

  poll(): TlsEvent | undefined {
    return this.events.shift();
  }

  /** Handles one complete handshake message received at `level`. */
  protected abstract handleMessage(level: CryptoLevel, msg: HandshakeMessage): void;

  /** Runs `step`, turning any failure into the single fatal alert event. */
  protected guard(step: () => void): void {
    try {
      step();
    } catch (err) {
      this.fail(err);
    }
    this.flushFlight();
  }

  protected fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.readLevel = null;
    this.flight = null; // nothing of a failed flight goes out
    let alert: number = AlertDescription.internal_error;
    let description = err instanceof Error ? err.message : String(err);
    let transportError: number | undefined;
    if (err instanceof TlsAlert) {
      alert = err.alert;
      transportError = err.transportError;
    } else if (err instanceof DecodeError) {
      alert = AlertDescription.decode_error;
      description = `${alertName(alert)}: ${description} (RFC 8446 §6.2)`;
    } else {
      description = `${alertName(alert)}: ${description}`;
    }
    this.events.push(transportError === undefined ? { type: 'alert', alert, description } : { type: 'alert', alert, description, transportError });
  }

  /** Adds a message to the transcript and to the outgoing flight at `level`. */
  protected sendMessage(level: CryptoLevel, type: number, body: Uint8Array): Buffer {
    const raw = encodeHandshake(type, body);
    this.transcript.add(raw);
    this.queueData(level, raw);
    return raw;
  }

  /** Queues bytes already in the transcript (e.g. a ClientHello patched with binders). */
  protected queueData(level: CryptoLevel, raw: Buffer): void {
    if (this.flight && this.flight.level !== level) this.flushFlight();
    this.flight ??= { level, parts: [] };
    this.flight.parts.push(raw);
  }

  protected flushFlight(): void {
    if (!this.flight) return;
    const { level, parts } = this.flight;
    this.flight = null;
    this.events.push({ type: 'handshake-data', level, data: parts.length === 1 ? parts[0]! : Buffer.concat(parts) });
  }

  protected emit(event: TlsEvent): void {
    this.flushFlight();
    this.events.push(event);
  }

  protected emitKeys(level: 'early' | 'handshake' | 'application', direction: 'read' | 'write', secret: Buffer): void {
    this.emit({ type: 'keys', level, direction, secret, suite: this.suite! });
  }

  /** Whether a key log is set: a secret derived only to be logged (the exporter's) is derived only then. */
  protected get keylogging(): boolean {
    return this.keylog !== undefined;
  }

  /** A key log line, when a key log is set. */
  protected log(label: KeylogLabel, secret: Buffer): void {
    if (this.keylog) this.keylog(keylogLine(label, this.clientRandom, secret));
  }

  protected suiteInfo(): CipherSuite {
    return cipherSuite(this.suite!)!;
  }
}

/** Shorthand for the alerts thrown throughout the handshakes. */
export function alert(name: keyof typeof AlertDescription, message: string, section: string, transportError?: number): TlsAlert {
  return new TlsAlert(AlertDescription[name], message, section, transportError);
}
