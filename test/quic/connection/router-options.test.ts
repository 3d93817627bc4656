/** The router hands its per-connection buffering options to every connection it makes. */
import { describe, expect, it } from 'vitest';
import { Pair } from '../sim/harness.js';

describe('ConnectionRouter options', () => {
  it('passes streamHighWaterMark to client and server connections', () => {
    const pair = new Pair({ client: { streamHighWaterMark: 1000 }, serverRouter: { streamHighWaterMark: 1000 } });
    expect(pair.handshake()).toBe(true);
    const id = pair.client.openStream()!;
    expect(pair.client.write(id, Buffer.alloc(500))).toBe(true);
    expect(pair.client.write(id, Buffer.alloc(600))).toBe(false);
    const serverStream = pair.server!.openStream()!;
    expect(pair.server!.write(serverStream, Buffer.alloc(1100))).toBe(false);
  });

  it('keeps the default of 256 KiB without the option', () => {
    const pair = new Pair();
    expect(pair.handshake()).toBe(true);
    const id = pair.client.openStream()!;
    expect(pair.client.write(id, Buffer.alloc(1100))).toBe(true);
  });
});
