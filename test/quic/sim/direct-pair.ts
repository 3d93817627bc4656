/**
 * A client Connection built directly (so a test can give it any ConnectionOptions) and a server
 * router's connection, over a SimulatedLink with a 5 ms delay and a fake clock. The client's qlog
 * is read to count its 1-RTT packets per write key (RFC 9001 §6.6).
 */
import { Connection, type ClientConnectionOptions, type ConnectionEvent, type PeerAddress, type QlogEvent } from '../../../src/quic/connection.js';
import { ConnectionRouter } from '../../../src/quic/connection/router.js';
import { CA, CERT, CLIENT_ADDR, KEY, seededBytes, SERVER_ADDR, START, StreamWriter } from './harness.js';
import { SimulatedLink } from './link.js';

/** A client Connection with its own options, a server router, a 5 ms link and a fake clock. */
export class DirectPair {
  now = START;
  readonly link = new SimulatedLink<PeerAddress>({ delay: 5 }, 1, (to) => to.address === SERVER_ADDR.address);
  readonly serverRouter = new ConnectionRouter({ random: seededBytes('direct-server'), server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] } });
  readonly client: Connection;
  server: Connection | undefined;
  readonly clientEvents: ConnectionEvent[] = [];
  readonly serverEvents: ConnectionEvent[] = [];
  /** The client's 1-RTT packets per write key, in order (a key change starts a new count). */
  readonly packetsPerKey: number[] = [0];
  onServerEvent: (e: ConnectionEvent) => void = () => {};

  constructor(options: Partial<ClientConnectionOptions> = {}) {
    this.client = new Connection({
      role: 'client', remote: SERVER_ADDR, now: this.now, random: seededBytes('direct-client'), ...options,
      tls: { serverName: 'localhost', alpn: ['h3'], ca: [CA] },
      qlog: (event: QlogEvent) => this.onClientQlog(event),
    });
  }

  private onClientQlog(event: QlogEvent): void {
    if (event.name === 'security:key_updated') this.packetsPerKey.push(0);
    else if (event.name === 'transport:packet_sent' && event.data['packet_type'] === '1rtt') this.packetsPerKey[this.packetsPerKey.length - 1]!++;
  }

  /** Datagrams of each client transmit() call, and nextTimeout() right after it. */
  onClientTransmit: (count: number, nextTimeout: number | undefined) => void = () => {};

  run(done: () => boolean, maxMs = 60_000): boolean {
    const deadline = this.now + maxMs;
    while (!done()) {
      this.poll();
      const sent = this.client.transmit(this.now);
      for (const d of sent) this.link.send(d.data, CLIENT_ADDR, d.to, this.now);
      this.onClientTransmit(sent.length, this.client.nextTimeout());
      for (const d of this.serverRouter.transmit(this.now)) this.link.send(d.data, SERVER_ADDR, d.to, this.now);
      const times = [this.link.nextArrival(), this.client.nextTimeout(), this.serverRouter.nextTimeout()].filter((t): t is number => t !== undefined);
      if (times.length === 0) return done();
      this.now = Math.max(this.now, Math.min(...times));
      if (this.now > deadline) return false;
      for (const d of this.link.deliver(this.now)) {
        if (d.to.address === SERVER_ADDR.address) {
          this.serverRouter.receive(d.data, d.from, this.now);
          for (let c = this.serverRouter.accept(); c !== undefined; c = this.serverRouter.accept()) this.server ??= c;
        } else {
          this.client.receive(d.data, d.from, this.now);
        }
      }
      this.client.handleTimeout(this.now);
      this.serverRouter.handleTimeout(this.now);
      this.poll();
    }
    return true;
  }

  private poll(): void {
    for (let e = this.client.poll(); e !== undefined; e = this.client.poll()) this.clientEvents.push(e);
    for (let e = this.server?.poll(); e !== undefined; e = this.server!.poll()) {
      this.serverEvents.push(e);
      this.onServerEvent(e);
    }
  }

  handshake(): boolean {
    return this.run(() => this.client.state === 'established' && this.server?.state === 'established' && this.client.keyUpdates === 0 && this.clientEvents.some((e) => e.type === 'handshake-complete'));
  }

  /** Uploads `body` on a new client stream; returns the stream ID. */
  upload(body: Buffer): number {
    const id = this.client.openStream()!;
    const writer = new StreamWriter(this.client, id, body);
    writer.pump();
    let seen = this.clientEvents.length;
    const pumpOnWritable = (): void => {
      for (; seen < this.clientEvents.length; seen++) if (this.clientEvents[seen]!.type === 'writable') writer.pump();
    };
    const original = this.poll.bind(this);
    this.poll = () => {
      original();
      pumpOnWritable();
    };
    return id;
  }
}

