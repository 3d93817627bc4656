/**
 * 1-RTT keys and key updates (RFC 9001 §6). The Key Phase bit of a short header names which
 * generation of keys protects the packet; both endpoints move to generation n+1 by
 * HKDF-Expand-Label(secret_n, "quic ku") (§6.1), keeping header protection keys.
 *
 * - Initiating (§6.1): allowed only after the handshake is confirmed (the connection checks that)
 *   and once a packet sent with the current keys was acknowledged ("MUST NOT initiate a subsequent
 *   key update unless it has received an acknowledgment for a packet that was sent protected with
 *   keys from the current key phase"). The write keys move on; reads accept both generations.
 * - Responding (§6.2): a packet with the other phase bit that opens with the next read keys means
 *   the peer updated; we update our write keys too.
 * - Old read keys are kept for packets still in flight and dropped after a while (§6.5: 3 × PTO).
 */
import type { PacketProtector } from '../crypto/protector.js';

/** The read keys chosen for a packet, and whether they are the next generation's (§6.2). */
export interface KeyChoice {
  readonly keys: PacketProtector;
  readonly isNext: boolean;
}

export class KeyPhase {
  read: PacketProtector;
  write: PacketProtector;
  readPhase: 0 | 1 = 0;
  writePhase: 0 | 1 = 0;
  private nextRead: PacketProtector | undefined;
  private previousRead: PacketProtector | undefined;
  private previousReadUntil = 0;
  /** Smallest packet number received in the current read phase. */
  private firstPnOfReadPhase = 0;
  /** First packet number we sent with the current write keys. */
  private firstPnOfWritePhase = 0;
  /** A packet sent with the current write keys was acknowledged (§6.1 precondition). */
  private currentPhaseAcked = false;
  /** Key updates completed, both directions. */
  updates = 0;
  /** keysFor's answer for the current phase (nearly every packet), made anew only when `read` changes. */
  private currentRead: KeyChoice;

  constructor(read: PacketProtector, write: PacketProtector) {
    this.read = read;
    this.write = write;
    this.currentRead = { keys: read, isNext: false };
  }

  /** Keys to open a packet with phase bit `phase` and packet number `pn`, or undefined. */
  keysFor(phase: 0 | 1, pn: number, now: number): KeyChoice | undefined {
    if (phase === this.readPhase) {
      if (this.currentRead.keys !== this.read) this.currentRead = { keys: this.read, isNext: false };
      return this.currentRead;
    }
    // §6.5: an older packet of the previous phase, while its keys are kept.
    if (this.previousRead !== undefined && pn < this.firstPnOfReadPhase && now <= this.previousReadUntil) {
      return { keys: this.previousRead, isNext: false };
    }
    this.nextRead ??= this.read.nextGeneration();
    return { keys: this.nextRead, isNext: true };
  }

  /**
   * A packet opened with the next generation: the peer updated (§6.2), or followed our update.
   * `keepOldFor` is how long the old read keys stay (§6.5: three times the PTO).
   */
  onNextPhaseOpened(pn: number, now: number, keepOldFor: number): void {
    this.previousRead = this.read;
    this.previousReadUntil = now + keepOldFor;
    this.read = this.nextRead!;
    this.nextRead = undefined;
    this.readPhase = this.readPhase === 0 ? 1 : 0;
    this.firstPnOfReadPhase = pn;
    if (this.writePhase !== this.readPhase) this.advanceWrite(pn);
    this.updates++;
  }

  /** We sent packet `pn` with the current write keys. */
  onPacketSent(pn: number): void {
    if (this.firstPnOfWritePhase < 0) this.firstPnOfWritePhase = pn;
  }

  /** Packet `pn` we sent was acknowledged. */
  onPacketAcked(pn: number): void {
    if (pn >= this.firstPnOfWritePhase && this.firstPnOfWritePhase >= 0) this.currentPhaseAcked = true;
  }

  /** Whether §6.1 allows us to start an update now. */
  get canInitiate(): boolean {
    return this.currentPhaseAcked && this.writePhase === this.readPhase;
  }

  /** Starts a key update (§6.1). Returns false when not allowed yet. */
  initiate(): boolean {
    if (!this.canInitiate) return false;
    this.advanceWrite(-1);
    return true;
  }

  private advanceWrite(_pn: number): void {
    this.write = this.write.nextGeneration();
    this.writePhase = this.writePhase === 0 ? 1 : 0;
    this.firstPnOfWritePhase = -1;
    this.currentPhaseAcked = false;
  }
}
