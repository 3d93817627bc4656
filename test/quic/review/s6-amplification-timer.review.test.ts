/**
 * Review of the anti-amplification limit on a new path (RFC 9000 §8.1, §9.3) and its end
 * (§8.2.3 validation, §9.3.2 return to the validated path) against the loss detection timer
 * (RFC 9002 §6.2.2.1, Appendix A.8: a server at its anti-amplification limit arms no PTO). After
 * a NAT rebinding to a new IP address the server's client sends only small ACKs from it, so the
 * server reaches the 3x limit and tells loss detection so; once the address is validated the
 * limit is gone, and a PTO must be armed again whenever ack-eliciting packets are in flight —
 * otherwise a tail loss stalls the connection until its idle timeout.
 */
import { describe, expect, it } from 'vitest';
import type { Connection, QlogEvent } from '../../../src/quic/connection.js';
import type { LossDetection } from '../../../src/quic/recovery/loss-detection.js';
import { Pair, pattern, sha256, StreamSink } from '../sim/harness.js';

function lossOf(conn: Connection): LossDetection<unknown> {
  return (conn as unknown as { loss: LossDetection<unknown> }).loss;
}

function addressValidated(conn: Connection): boolean {
  return (conn as unknown as { addressValidated: boolean }).addressValidated;
}

/**
 * A 400 kB download; after 100 kB the client's NAT gives it a new IP address (the old binding
 * delivers 30 ms more). `afterValidation` runs once when the server validates the new address.
 * Returns whether the download completed within `maxMs`, and the moments when the server had
 * ack-eliciting packets in flight, a validated address and no loss detection timer.
 */
function rebindingDownload(afterValidation: (pair: Pair) => void, maxMs: number) {
  const SIZE = 400_000;
  let validated = false;
  const serverLog: QlogEvent[] = [];
  const pair = new Pair({ link: { delay: 10 }, serverRouter: { qlog: () => (e) => void serverLog.push(e) } });
  const sink = new StreamSink();
  let changedAt: number | undefined;
  pair.onServerEvent = (e) => {
    if (e.type === 'stream-data' && e.fin) pair.server!.write(e.id, pattern(SIZE), true);
  };
  pair.onClientEvent = (e) => {
    sink.onEvent(e);
    if (changedAt === undefined && e.type === 'stream-data' && sink.data(e.id).length > 100_000) {
      changedAt = pair.now;
      pair.clientAliases.push(pair.clientAddr);
      pair.clientAddr = { address: '10.0.0.80', port: 44000 };
    }
  };
  expect(pair.handshake()).toBe(true);
  const id = pair.client.openStream()!;
  pair.client.write(id, Buffer.from('GET'), true);
  const stalls: number[] = [];
  const start = pair.now;
  const ok = pair.run(() => {
    if (changedAt !== undefined && pair.now >= changedAt + 30) pair.clientAliases.length = 0;
    if (!validated && serverLog.some((e) => e.name === 'connectivity:path_validated')) {
      validated = true;
      afterValidation(pair);
    }
    const server = pair.server;
    if (validated && server !== undefined && server.state === 'established') {
      // What the next step will see: transmit first, as step() does.
      pair.flush();
      const loss = lossOf(server);
      if (addressValidated(server) && loss.ackElicitingInFlight() > 0 && loss.nextTimeout() === undefined) stalls.push(pair.now - start);
    }
    return sink.finished.has(id);
  }, maxMs);
  return { ok, stalls, data: sink.data(id), size: SIZE, validated: () => validated, serverLog };
}

/**
 * Failed before the fix: after the server validates the new address, loss detection still believes it is
 * at the anti-amplification limit (connection.ts onPathResponse sets addressValidated = true but
 * never calls loss.setAmplificationLimited(false)), so no PTO is armed: `stalls` is not empty,
 * and a tail loss after validation is never recovered: the connection idles out.
 */
function ptoArmedAfterValidation(): void {
  const run = rebindingDownload((pair) => {
    // A 300 ms outage toward the client right after validation: only a PTO recovers the tail.
    pair.link.conditions = { ...pair.link.conditions, lossyDirection: 'to-client', blackholes: [[pair.now + 20, pair.now + 320]] };
  }, 20_000);
  expect(run.validated()).toBe(true);
  expect(run.stalls).toEqual([]);
  expect(run.ok).toBe(true);
  expect(run.data.length).toBe(run.size);
  expect(sha256(run.data)).toBe(sha256(pattern(run.size)));
}

/**
 * Failed before the fix, the same for §9.3.2: a spoofed packet moves the server to an address that never
 * answers; the server spends its 3x budget there; validation fails and the server returns to the
 * validated address (addressValidated = previous.validated), but loss detection keeps
 * amplificationLimited = true and arms no PTO for the packets then in flight.
 */
function ptoArmedAfterFailedValidation(): void {
  const pair = new Pair({ link: { delay: 10 } });
  const sink = new StreamSink();
  pair.onClientEvent = (e) => sink.onEvent(e);
  expect(pair.handshake()).toBe(true);
  pair.run(() => false, 500);
  const server = pair.server!;
  const id = pair.client.openStream()!;
  pair.client.write(id, Buffer.from('hello'), true);
  const [datagram] = pair.client.transmit(pair.now);
  // A small datagram replayed from a spoofed address: a budget of 3x its size.
  server.receive(datagram!.data, { address: '203.0.113.66', port: 6666 }, pair.now + 10);
  server.write(id, pattern(50_000), true);
  // Nothing from the client arrives until validation has failed (about 3 s).
  pair.link.conditions = { delay: 10, lossyDirection: 'to-server', blackholes: [[pair.now, pair.now + 4_000]] };
  pair.run(() => false, 4_000);
  expect(addressValidated(server)).toBe(true);
  pair.flush();
  const loss = lossOf(server);
  expect(loss.ackElicitingInFlight()).toBeGreaterThan(0);
  expect(loss.nextTimeout()).toBeDefined();
}

describe('the loss detection timer once a new path is validated (RFC 9000 §8.1, §9.3; RFC 9002 §6.2.2.1)', () => {
  // Both found by review: the PTO stayed off after the limit of the validated address's
  // anti-amplification (RFC 9000 §8.1) was reached once; connection.ts now clears it at validation
  // (onPathValidated) and sets it for the address returned to (onPathValidationFailed).
  it('after a NAT rebinding to a new IP address is validated, a PTO is armed while packets are in flight and a tail loss is recovered', ptoArmedAfterValidation);
  it('after a failed validation returns the server to the validated address, a PTO is armed for the packets in flight', ptoArmedAfterFailedValidation);
  // The same end to end: s6-migration-scenarios' lossy NAT-rebinding download with seed 2 stalled
  // 30 s (idle timeout) with six packets in flight and no timer; it is in SEEDS there now.

  it('a port-only NAT rebinding keeps the transfer going (no limit reached: the control case)', () => {
    const pair = new Pair({ link: { delay: 10 } });
    const sink = new StreamSink();
    let moved = false;
    pair.onServerEvent = (e) => {
      if (e.type === 'stream-data' && e.fin) pair.server!.write(e.id, pattern(200_000), true);
    };
    pair.onClientEvent = (e) => {
      sink.onEvent(e);
      if (!moved && e.type === 'stream-data' && sink.data(e.id).length > 50_000) {
        moved = true;
        pair.clientAliases.push(pair.clientAddr);
        pair.clientAddr = { address: pair.clientAddr.address, port: pair.clientAddr.port + 1 };
      }
    };
    expect(pair.handshake()).toBe(true);
    const id = pair.client.openStream()!;
    pair.client.write(id, Buffer.from('GET'), true);
    expect(pair.run(() => sink.finished.has(id), 20_000)).toBe(true);
    expect(sha256(sink.data(id))).toBe(sha256(pattern(200_000)));
  });
});
