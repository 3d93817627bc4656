/**
 * One packet number space (RFC 9000 §12.3) as the connection holds it: the keys of its encryption
 * level (RFC 9001 §4), the next packet number to send, the largest received (for packet number
 * decoding, RFC 9000 Appendix A.3), the acknowledgments owed (RFC 9000 §13.2), and the CRYPTO
 * stream of the level in both directions (RFC 9000 §7.5, §19.6): an in-order reassembler in and a
 * send buffer out that retransmits lost ranges like a stream does.
 *
 * Once the space is discarded (RFC 9001 §4.9: its keys are dropped, nothing is sent or accepted in
 * it any more) its ACK tracker, reassembler and send buffer are let go too: they are `undefined`
 * from then on, and the connection's code that reaches them says what happens then.
 */
import type { PacketProtector } from '../crypto/protector.js';
import { AckTracker } from '../recovery/ack-tracker.js';
import { PacketNumberSpace } from '../recovery/space.js';
import { createCryptoReassembler, type Reassembler } from '../stream/reassembly.js';
import { SendStream } from '../stream/send-stream.js';

/** CRYPTO data has no flow control (RFC 9000 §7.5): its send buffer gets unlimited credit. */
const UNLIMITED_CREDIT = Number.MAX_SAFE_INTEGER;

export class PacketSpace {
  readKeys: PacketProtector | undefined;
  writeKeys: PacketProtector | undefined;
  /** Acknowledgments owed (RFC 9000 §13.2); undefined once discarded. */
  ack: AckTracker | undefined;
  /** The peer's CRYPTO data of this level, in order (RFC 9000 §7.5); undefined once discarded. */
  cryptoIn: Reassembler | undefined;
  /** Our CRYPTO data of this level, kept until acknowledged (RFC 9000 §13.3); undefined once discarded. */
  cryptoOut: SendStream | undefined;
  nextPacketNumber = 0;
  /** Largest packet number successfully processed (RFC 9000 Appendix A.3). */
  largestReceived: number | undefined;
  /** Keys discarded (RFC 9001 §4.9): nothing is sent or accepted in this space any more. */
  discarded = false;
  /** Ack-eliciting probe packets owed after a PTO (RFC 9002 §6.2.4). */
  probesOwed = 0;

  constructor(readonly id: PacketNumberSpace, maxAckDelay: number, maxCryptoBuffer: number) {
    // RFC 9000 §13.2.1: Initial and Handshake ACKs are not delayed; the tracker knows the space.
    this.ack = new AckTracker(id, { maxAckDelay: id === PacketNumberSpace.ApplicationData ? maxAckDelay : 0 });
    this.cryptoIn = createCryptoReassembler(maxCryptoBuffer);
    this.cryptoOut = new SendStream({ streamId: -1, initialCredit: UNLIMITED_CREDIT });
  }

  /** Whether we can send in this space now. */
  get canSend(): boolean {
    return !this.discarded && this.writeKeys !== undefined;
  }

  /**
   * RFC 9001 §4.9: the keys go, and with them everything kept to acknowledge, reassemble and
   * retransmit in this space: packets of it that still arrive are dropped unread.
   */
  discard(): void {
    this.discarded = true;
    this.readKeys = undefined;
    this.writeKeys = undefined;
    this.probesOwed = 0;
    this.ack = undefined;
    this.cryptoIn = undefined;
    this.cryptoOut = undefined;
  }
}
