/**
 * The endpoint answers a connection's handshake datagrams before it goes on with the rest of the
 * turn's batch (endpoint.ts receiveArrived): a server that took twenty clients' Initials in one turn
 * used to spend ~20 ms of CPU on them before sending the first ServerHello, while the clients sat
 * idle. Consecutive datagrams of one connection are still taken together before it answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionRouter } from '../../src/quic/connection/router.js';
import { QuicEndpoint } from '../../src/quic/endpoint.js';
import { CA, CERT, KEY, seededBytes, START } from './sim/harness.js';

const endpoints: QuicEndpoint[] = [];
afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.close(0, '', 200)));
});

/** Each client's first flight (its Initial datagrams), made by in-memory client connections. */
function clientInitials(count: number, server: { address: string; port: number }): Buffer[][] {
  return Array.from({ length: count }, (_, i) => {
    const router = new ConnectionRouter({ random: seededBytes(`early-answer-${i}`) });
    router.connect(server, { serverName: 'localhost', alpn: ['h3'], ca: [CA] }, START);
    return router.transmit(START).map((d) => Buffer.from(d.data));
  });
}

/**
 * Hands `datagrams` to the endpoint as one turn's arrivals (as its socket would, in one I/O phase)
 * and returns what happened, in order: 'in <client>' per datagram the router took, 'out <client>'
 * per datagram sent back.
 */
async function oneTurn(ep: QuicEndpoint, datagrams: { data: Buffer; client: number }[]): Promise<string[]> {
  const log: string[] = [];
  const socket = (ep as unknown as { socket: import('node:dgram').Socket }).socket;
  const router = ep.router;
  const receive = router.receive.bind(router);
  router.receive = (datagram, from, now) => {
    log.push(`in ${from.port - 40000}`);
    return receive(datagram, from, now);
  };
  const send = socket.send.bind(socket) as (...args: unknown[]) => void;
  socket.send = ((data: Buffer, port: number, address: string) => {
    log.push(`out ${port - 40000}`);
    // Nobody listens on these ports: the datagrams are only counted.
    send(data, port, address);
  }) as typeof socket.send;
  for (const { data, client } of datagrams) socket.emit('message', data, { address: '127.0.0.1', port: 40000 + client, family: 'IPv4', size: data.length });
  await new Promise((r) => setImmediate(r));
  return log;
}

describe('QUIC endpoint: handshake datagrams are answered within the turn', () => {
  it('each new client gets its answer before the client after the next is processed', async () => {
    const ep = await QuicEndpoint.listen({ host: '127.0.0.1', server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'], newTokens: false } });
    endpoints.push(ep);
    const initials = clientInitials(4, ep.address);
    const log = await oneTurn(ep, initials.map((flight, client) => ({ data: flight[0]!, client })));
    // A connection answers once the next datagram turned out to be another's: in 0, in 1, out 0,
    // in 2, out 1, in 3, out 2, then the pump's out 3. Without the early answer every out came last.
    const at = (entry: string) => log.indexOf(entry);
    for (const c of [0, 1, 2, 3]) expect(at(`in ${c}`)).toBeGreaterThanOrEqual(0);
    expect(at('out 0')).toBeGreaterThan(at('in 1'));
    expect(at('out 0')).toBeLessThan(at('in 2'));
    expect(at('out 1')).toBeLessThan(at('in 3'));
    expect(at('out 3')).toBeGreaterThan(at('in 3'));
  });

  it('a connection’s consecutive datagrams are all taken before it answers', async () => {
    const ep = await QuicEndpoint.listen({ host: '127.0.0.1', server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'], newTokens: false } });
    endpoints.push(ep);
    const [a, b, c] = clientInitials(3, ep.address);
    // Client 0's Initial twice in a row (a duplicate, RFC 9000 §12.3), then clients 1 and 2.
    const log = await oneTurn(ep, [{ data: a![0]!, client: 0 }, { data: a![0]!, client: 0 }, { data: b![0]!, client: 1 }, { data: c![0]!, client: 2 }]);
    expect(log.slice(0, 3)).toEqual(['in 0', 'in 0', 'in 1']);
    expect(log.slice(3, log.indexOf('in 2'))).toContain('out 0');
  });
});
