/**
 * disable_active_migration (RFC 9000 §18.2, §9): a server that sends it keeps its clients on the
 * local address they used during the handshake, and a client endpoint refuses to move its socket
 * while any connection on it cannot migrate (handshake not yet confirmed, §9; the server disabled
 * migration, §18.2). NAT rebinding is not migration: the server still follows a client whose
 * address changed under it (§9, §9.3).
 */
import { describe, expect, it } from 'vitest';
import type { QlogEvent } from '../../../src/quic/connection.js';
import { QuicEndpoint } from '../../../src/quic/endpoint.js';
import { decodeTransportParameters } from '../../../src/quic/transport-params.js';
import { CA, CERT, KEY, Pair } from '../sim/harness.js';

function framesSent(log: QlogEvent[]): string[] {
  return log.filter((e) => e.name === 'transport:packet_sent').flatMap((e) => ((e.data as { frames?: { frame_type: string }[] }).frames ?? []).map((f) => f.frame_type));
}

describe('disable_active_migration (RFC 9000 §18.2)', () => {
  it('a server configured with it sends it; its client cannot migrate and migrate() sends no PATH_CHALLENGE', () => {
    const clientLog: QlogEvent[] = [];
    const pair = new Pair({ client: { qlog: () => (e) => clientLog.push(e) }, serverRouter: { transport: { disableActiveMigration: true } } });
    expect(pair.handshake()).toBe(true);
    pair.run(() => false, 1_000); // HANDSHAKE_DONE has arrived: the handshake is confirmed (RFC 9001 §4.1.2)
    const sent = decodeTransportParameters((pair.client as unknown as { tls: { peerTransportParameters: Buffer } }).tls.peerTransportParameters, 'server');
    expect(sent.disableActiveMigration).toBe(true);
    expect(pair.client.canMigrate).toBe(false);
    pair.client.migrate();
    pair.run(() => false, 1_000);
    expect(framesSent(clientLog)).not.toContain('path_challenge');
    expect(pair.client.state).toBe('established');
  });

  it('without it, the same client can migrate once the handshake is confirmed, and not before (RFC 9000 §9)', () => {
    const pair = new Pair();
    expect(pair.client.canMigrate).toBe(false); // still in the handshake
    expect(pair.handshake()).toBe(true);
    expect(pair.run(() => pair.client.canMigrate, 5_000)).toBe(true);
    // A closing connection sends nothing new (RFC 9000 §10.2): it does not migrate either.
    pair.client.close();
    expect(pair.client.state).toBe('closing');
    expect(pair.client.canMigrate).toBe(false);
  });

  it('a NAT rebinding is still followed: the server validates the new address and sends there (RFC 9000 §9.3)', () => {
    const pair = new Pair({ serverRouter: { transport: { disableActiveMigration: true } } });
    expect(pair.handshake()).toBe(true);
    pair.run(() => false, 1_000);
    const rebound = { address: pair.clientAddr.address, port: pair.clientAddr.port + 1 };
    pair.clientAliases.push(pair.clientAddr);
    pair.clientAddr = rebound; // the client did nothing: a NAT changed its port
    pair.client.write(pair.client.openStream()!, Buffer.from('ping'), true);
    expect(pair.run(() => pair.server?.remote.port === rebound.port, 5_000)).toBe(true);
  });
});

/** Polls `cond` every 10 ms until it holds or `ms` pass. */
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; !cond(); ) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

describe('QuicEndpoint.rebind() refuses connections that cannot migrate', () => {
  it('during a handshake (RFC 9000 §9), and toward a server that disabled migration (§18.2); the socket stays', async () => {
    const endpoints: QuicEndpoint[] = [];
    try {
      for (const disableActiveMigration of [false, true]) {
        let completed!: () => void;
        const handshake = new Promise<void>((resolve) => (completed = resolve));
        const server = await QuicEndpoint.listen({
          host: '127.0.0.1',
          transport: { disableActiveMigration },
          server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] },
        });
        endpoints.push(server);
        const client = await QuicEndpoint.listen({
          host: '127.0.0.1',
          onEvent(_conn, e) {
            if (e.type === 'handshake-complete') completed();
          },
        });
        endpoints.push(client);
        const port = client.address.port;
        const conn = client.connect(server.address, { serverName: 'localhost', alpn: ['h3'], ca: [CA] });
        await expect(client.rebind()).rejects.toThrow(/cannot migrate/); // not yet confirmed
        expect(client.address.port).toBe(port);
        await handshake;
        // The client's handshake is confirmed when HANDSHAKE_DONE arrives (RFC 9001 §4.1.2).
        const confirmed = await until(() => (conn as unknown as { handshakeConfirmed: boolean }).handshakeConfirmed, 3_000);
        expect(confirmed).toBe(true);
        if (disableActiveMigration) {
          expect(conn.canMigrate).toBe(false);
          await expect(client.rebind()).rejects.toThrow(/cannot migrate/);
          expect(client.address.port).toBe(port);
        } else {
          expect(conn.canMigrate).toBe(true);
          await client.rebind();
          expect(client.address.port).not.toBe(port);
        }
      }
    } finally {
      await Promise.all(endpoints.map((e) => e.close(0, '', 200)));
    }
  });
});
