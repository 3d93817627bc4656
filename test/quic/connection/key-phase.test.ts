import { describe, expect, it } from 'vitest';
import { KeyPhase } from '../../../src/quic/connection/key-phase.js';
import { PacketProtector } from '../../../src/quic/crypto/protector.js';
import { TLS_AES_128_GCM_SHA256 } from '../../../src/quic/crypto/suites.js';
import { QUIC_V1 } from '../../../src/quic/version.js';

const clientSecret = Buffer.alloc(32, 1);
const serverSecret = Buffer.alloc(32, 2);
const keys = (secret: Buffer) => PacketProtector.fromSecret(QUIC_V1, TLS_AES_128_GCM_SHA256, secret);
const header = Buffer.from([0x40, 1, 2, 3]);

describe('1-RTT key phases (RFC 9001 §6)', () => {
  it('an update may start only after a packet of the current phase is acknowledged (§6.1)', () => {
    const client = new KeyPhase(keys(serverSecret), keys(clientSecret));
    expect(client.initiate()).toBe(false);
    client.onPacketSent(0);
    client.onPacketAcked(0);
    expect(client.initiate()).toBe(true);
    expect(client.writePhase).toBe(1);
    // Not again until the peer followed and a packet of the new phase was acknowledged.
    expect(client.initiate()).toBe(false);
  });

  it('the peer follows an update when a packet opens with the next keys (§6.2), and old keys stay for late packets (§6.5)', () => {
    const client = new KeyPhase(keys(serverSecret), keys(clientSecret));
    const server = new KeyPhase(keys(clientSecret), keys(serverSecret));
    client.onPacketSent(0);
    client.onPacketAcked(0);
    client.initiate();
    // The client seals packet 5 with generation 1; the server tries its next read keys.
    const sealed = client.write.seal(5, header, Buffer.from('hello'));
    const chosen = server.keysFor(1, 5, 0)!;
    expect(chosen.isNext).toBe(true);
    expect(chosen.keys.open(5, header, sealed)?.toString()).toBe('hello');
    server.onNextPhaseOpened(5, 0, 1000);
    expect(server.readPhase).toBe(1);
    expect(server.writePhase).toBe(1); // responded
    expect(server.updates).toBe(1);
    // A late packet 3 of phase 0 still opens with the previous keys, until they are dropped.
    const late = keys(clientSecret).seal(3, header, Buffer.from('late'));
    expect(server.keysFor(0, 3, 500)!.keys.open(3, header, late)?.toString()).toBe('late');
    expect(server.keysFor(0, 3, 2000)!.isNext).toBe(true);
    // And the client accepts the server's new phase as the completion of its own update.
    const reply = server.write.seal(9, header, Buffer.from('ok'));
    const back = client.keysFor(1, 9, 0)!;
    expect(back.keys.open(9, header, reply)?.toString()).toBe('ok');
    client.onNextPhaseOpened(9, 0, 1000);
    expect(client.writePhase).toBe(1); // already updated: not advanced twice
  });

  it('the current phase always answers with the current read keys, across updates', () => {
    const server = new KeyPhase(keys(clientSecret), keys(serverSecret));
    const first = server.keysFor(0, 1, 0)!;
    expect(first).toEqual({ keys: server.read, isNext: false });
    expect(server.keysFor(0, 2, 0)!.keys).toBe(first.keys);
    const next = server.keysFor(1, 3, 0)!.keys;
    server.onNextPhaseOpened(3, 0, 1000);
    // Phase 1 is now current: its keys are the generation that just opened, not the old ones.
    expect(server.keysFor(1, 4, 0)).toEqual({ keys: next, isNext: false });
    expect(first.keys).not.toBe(next); // an earlier answer is not changed behind the caller's back
    server.read = keys(clientSecret);
    expect(server.keysFor(1, 5, 0)!.keys).toBe(server.read);
  });
});
