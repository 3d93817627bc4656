/**
 * Every connection of an endpoint reports 'closed', however it ends (issue 5: a handshake
 * benchmark waited for ever on a client connection). A connection that goes straight to the
 * closed state — idle timeout (RFC 9000 §10.1), Version Negotiation (§6.2), stateless reset
 * (§10.3.1) — is forgotten by the router in the same pump; its event must still be delivered.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { Connection, ConnectionEvent } from '../../src/quic/connection.js';
import { QuicEndpoint } from '../../src/quic/endpoint.js';
import { buildVersionNegotiation } from '../../src/quic/packet/version-negotiation.js';
import { CA, CERT, KEY } from './sim/harness.js';

const endpoints: QuicEndpoint[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.close(0, '', 200)));
  for (const s of sockets.splice(0)) s.close();
});

/** A UDP socket on loopback that answers each datagram with `answer` (or nothing). */
async function peer(answer?: (datagram: Buffer) => Buffer | undefined): Promise<Socket> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.on('message', (msg, rinfo) => {
    const reply = answer?.(msg);
    if (reply !== undefined) socket.send(reply, rinfo.port, rinfo.address);
  });
  return socket;
}

/** A client endpoint whose events are recorded per connection; `clock` replaces Date.now. */
async function client(options: { clock?: () => number; maxIdleTimeout?: number } = {}) {
  const events = new Map<Connection, ConnectionEvent[]>();
  const ep = await QuicEndpoint.listen({
    host: '127.0.0.1',
    clock: options.clock,
    transport: options.maxIdleTimeout !== undefined ? { maxIdleTimeout: options.maxIdleTimeout } : undefined,
    onEvent(conn, e) {
      const list = events.get(conn) ?? [];
      list.push(e);
      events.set(conn, list);
    },
  });
  endpoints.push(ep);
  return { ep, events };
}

const closedEvent = (list: ConnectionEvent[] | undefined) =>
  list?.find((e) => e.type === 'closed') as Extract<ConnectionEvent, { type: 'closed' }> | undefined;

async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return condition();
}

describe('QuicEndpoint reports the end of every connection', () => {
  it("a client whose server never answers times out and reports 'closed' (RFC 9000 §10.1)", async () => {
    const silent = await peer();
    // A clock 100 times faster than real time: ~3 s of idle period pass in ~30 ms.
    const t0 = Date.now();
    const { ep, events } = await client({ clock: () => t0 + (Date.now() - t0) * 100, maxIdleTimeout: 1000 });
    const conn = ep.connect({ address: '127.0.0.1', port: silent.address().port }, { serverName: 'localhost', alpn: ['h3'], ca: [CA] });
    expect(await waitFor(() => closedEvent(events.get(conn)) !== undefined, 5000)).toBe(true);
    expect(closedEvent(events.get(conn))!.error.source).toBe('idle');
    expect(conn.state).toBe('closed');
    expect(ep.router.connections.has(conn)).toBe(false);
  });

  it("a client told by Version Negotiation that no version is shared reports 'closed' (RFC 9000 §6.2)", async () => {
    const server = await peer((initial) => {
      const dcidLength = initial[5]!;
      const dcid = initial.subarray(6, 6 + dcidLength);
      const scid = initial.subarray(7 + dcidLength, 7 + dcidLength + initial[6 + dcidLength]!);
      // Echo the client's IDs swapped, offering only a version the client does not speak.
      return buildVersionNegotiation({ dcid: scid, scid: dcid, versions: [0x5a6a7a8a] });
    });
    const { ep, events } = await client();
    const conn = ep.connect({ address: '127.0.0.1', port: server.address().port }, { serverName: 'localhost', alpn: ['h3'], ca: [CA] });
    expect(await waitFor(() => closedEvent(events.get(conn)) !== undefined, 3000)).toBe(true);
    expect(closedEvent(events.get(conn))!.error.source).toBe('version-negotiation');
    expect(ep.router.connections.has(conn)).toBe(false);
  });

  it('close() called again from an event callback of its own pump closes the socket once, and both calls resolve', async () => {
    const server = await QuicEndpoint.listen({ host: '127.0.0.1', server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] } });
    endpoints.push(server);
    let client!: QuicEndpoint;
    let inner: Promise<void> | undefined;
    let established!: () => void;
    const ready = new Promise<void>((r) => (established = r));
    client = await QuicEndpoint.listen({
      host: '127.0.0.1',
      onEvent(_conn, e) {
        if (e.type === 'handshake-complete') established();
        // close() closes the connection (after its in-flight packets are acknowledged) and a pump delivers this.
        if (e.type === 'closed') inner ??= client.close(0, 'again', 200);
      },
    });
    client.connect(server.address, { serverName: 'localhost', alpn: ['h3'], ca: [CA] });
    await ready;
    const outer = client.close(0, 'bye', 200);
    await expect(outer).resolves.toBeUndefined();
    // The callback's call got the running close, not a second one that would close the socket again.
    expect(inner).toBe(outer);
    await expect(client.close()).resolves.toBeUndefined();
  });
});
