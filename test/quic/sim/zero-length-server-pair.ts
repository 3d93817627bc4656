/**
 * Our client (a router with 8-byte IDs) and a server Connection that chose a zero-length
 * connection ID (RFC 9000 §5.1), over a SimulatedLink with a fake clock. Our server endpoints
 * refuse zero-length IDs (router.ts), but other servers use them, so the server here is a
 * Connection built directly from the client's first Initial, as a router would build it.
 */
import { Connection, type ConnectionEvent, type PeerAddress, type QlogEvent } from '../../../src/quic/connection.js';
import { ConnectionRouter } from '../../../src/quic/connection/router.js';
import { parsePacketHeader } from '../../../src/quic/packet/header.js';
import { CA, CERT, CLIENT_ADDR, KEY, seededBytes, SERVER_ADDR, START } from './harness.js';
import { SimulatedLink } from './link.js';

export class ZeroLengthServerPair {
  now = START;
  readonly link = new SimulatedLink<PeerAddress>({ delay: 10 }, 1, (to) => to.address === SERVER_ADDR.address);
  readonly clientRouter: ConnectionRouter;
  readonly client: Connection;
  server: Connection | undefined;
  readonly clientEvents: ConnectionEvent[] = [];
  readonly serverEvents: ConnectionEvent[] = [];
  /** The client's qlog (frames of each packet it sends). */
  readonly clientLog: QlogEvent[] = [];
  /** Every datagram the client sent, for its headers. */
  readonly clientSent: Buffer[] = [];
  onClientEvent: (e: ConnectionEvent) => void = () => {};
  onServerEvent: (e: ConnectionEvent) => void = () => {};

  constructor() {
    this.clientRouter = new ConnectionRouter({ random: seededBytes('zl-server-pair-client'), qlog: () => (e) => this.clientLog.push(e) });
    this.client = this.clientRouter.connect(SERVER_ADDR, { serverName: 'localhost', alpn: ['h3'], ca: [CA] }, this.now);
  }

  /** The server, made from the client's first Initial with a zero-length ID of its own. */
  private serverFor(datagram: Buffer, from: PeerAddress): Connection {
    const header = parsePacketHeader(datagram, 0, { shortDcidLength: 0, receiver: 'server' });
    if (header.type !== 'initial') throw new Error('the first datagram to the server is not an Initial');
    return new Connection({
      role: 'server', remote: from, now: this.now, random: seededBytes('zl-server-pair-server'),
      cidLength: 0, localCid: Buffer.alloc(0),
      tls: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] },
      handshake: { originalDcid: Buffer.from(header.dcid), initialDcid: Buffer.from(header.dcid), clientScid: Buffer.from(header.scid) },
    });
  }

  run(done: () => boolean, maxMs = 60_000): boolean {
    const deadline = this.now + maxMs;
    while (!done()) {
      this.poll();
      for (const d of this.clientRouter.transmit(this.now)) {
        this.clientSent.push(d.data);
        this.link.send(d.data, CLIENT_ADDR, d.to, this.now);
      }
      for (const d of this.server?.transmit(this.now) ?? []) this.link.send(d.data, SERVER_ADDR, d.to, this.now);
      const times = [this.link.nextArrival(), this.clientRouter.nextTimeout(), this.server?.nextTimeout()].filter((t): t is number => t !== undefined);
      if (times.length === 0) return done();
      const next = Math.min(...times);
      if (next > deadline) {
        // Nothing happens before the deadline: the clock stops there.
        this.now = Math.max(this.now, deadline);
        return done();
      }
      this.now = Math.max(this.now, next);
      for (const d of this.link.deliver(this.now)) {
        if (d.to.address === SERVER_ADDR.address) {
          this.server ??= this.serverFor(d.data, d.from);
          this.server.receive(d.data, d.from, this.now);
        } else {
          this.clientRouter.receive(d.data, d.from, this.now);
        }
      }
      this.clientRouter.handleTimeout(this.now);
      const t = this.server?.nextTimeout();
      if (t !== undefined && t <= this.now) this.server!.handleTimeout(this.now);
      this.poll();
    }
    return true;
  }

  private poll(): void {
    for (let e = this.client.poll(); e !== undefined; e = this.client.poll()) {
      this.clientEvents.push(e);
      this.onClientEvent(e);
    }
    for (let e = this.server?.poll(); e !== undefined; e = this.server!.poll()) {
      this.serverEvents.push(e);
      this.onServerEvent(e);
    }
  }

  handshake(): boolean {
    return this.run(() => this.client.state === 'established' && this.server?.state === 'established' && this.client.isHandshakeComplete);
  }
}
